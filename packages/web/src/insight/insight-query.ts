// The insight page's state in the address: `#/insight?from=…&to=…&branch=…&station=…&code=…`, plus
// the figure whose flows are open and whether figures show as tables. A link reproduces the view.

/** The figures whose numbers stand for flows (case resolution stands for cases). */
export const FLOW_FIGURES = [
  'perDay',
  'byCode',
  'byStep',
  'byStation',
  'byAgent',
  'ackTimeout',
  'busiestHours',
] as const;
export type FlowFigure = (typeof FLOW_FIGURES)[number];
export const OUTCOMES = ['started', 'completed', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface InsightFilters {
  /** Empty: the server's default period. */
  readonly from: string | null;
  readonly to: string | null;
  readonly branch: string | null;
  readonly station: string | null;
  readonly code: string | null;
}

/** What a clicked number opens: the flows behind it, or the resolved cases. */
export type InsightPick =
  | { readonly kind: 'flows'; readonly figure: FlowFigure; readonly key: string; readonly outcome: Outcome }
  | { readonly kind: 'cases' };

export interface InsightView {
  readonly filters: InsightFilters;
  readonly pick: InsightPick | null;
  readonly table: boolean;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const FILTER_KEYS = ['from', 'to', 'branch', 'station', 'code'] as const;

const isOneOf = <T extends string>(values: readonly T[], value: string | null): value is T =>
  value !== null && (values as readonly string[]).includes(value);

/** The view a hash's query stands for; anything malformed is left out, not guessed. */
export const parseInsightQuery = (query: string): InsightView => {
  const params = new URLSearchParams(query);
  const text = (name: string): string | null => {
    const value = params.get(name)?.trim();
    return value ? value : null;
  };
  const date = (name: string): string | null => {
    const value = text(name);
    return value !== null && DATE.test(value) ? value : null;
  };
  const figure = text('figure');
  const outcome = text('outcome');
  let pick: InsightPick | null = null;
  if (figure === 'caseResolution') pick = { kind: 'cases' };
  else if (isOneOf(FLOW_FIGURES, figure))
    pick = {
      kind: 'flows',
      figure,
      key: text('key') ?? '',
      outcome: isOneOf(OUTCOMES, outcome) ? outcome : 'failed',
    };
  return {
    filters: {
      from: date('from'),
      to: date('to'),
      branch: text('branch'),
      station: text('station'),
      code: text('code'),
    },
    pick,
    table: params.get('view') === 'table',
  };
};

/** The filters as query parameters, the set ones only (the API's query and the CSV link's). */
export const filterParams = (filters: InsightFilters): Record<string, string> => {
  const params: Record<string, string> = {};
  for (const key of FILTER_KEYS) {
    const value = filters[key];
    if (value !== null) params[key] = value;
  }
  return params;
};

/** The flow list's query parameters for a pick. */
export const pickParams = (pick: InsightPick): Record<string, string> =>
  pick.kind === 'cases'
    ? { figure: 'caseResolution' }
    : { figure: pick.figure, ...(pick.key === '' ? {} : { key: pick.key }), outcome: pick.outcome };

/** The address of a view. */
export const insightHash = (view: InsightView): string => {
  const params = new URLSearchParams({
    ...filterParams(view.filters),
    ...(view.pick ? pickParams(view.pick) : {}),
    ...(view.table ? { view: 'table' } : {}),
  });
  const query = params.toString();
  return query === '' ? '#/insight' : `#/insight?${query}`;
};

/** The query string (without `?`) of a `#/…?…` hash. */
export const hashQuery = (hash: string): string => {
  const at = hash.indexOf('?');
  return at < 0 ? '' : hash.slice(at + 1);
};
