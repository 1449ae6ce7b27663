import { ERROR_CODES } from '@reservkort/domain';
import { type FormEvent, lazy, Suspense, useEffect, useId, useMemo, useRef, useState } from 'react';
import type { InsightAnswer, InsightCases, InsightFlows } from '../api/views.js';
import { ErrorPanel } from '../components/error-panel.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { formatDate, formatTime } from '../format.js';
import { type Figure, INSIGHT_TEXTS } from '../i18n/insight-texts.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { codeTitle, type FigureShown, figuresOf, formatDay, pickWhat } from '../insight/insight-figures.js';
import {
  type InsightFilters,
  type InsightPick,
  type InsightView,
  insightHash,
  parseInsightQuery,
} from '../insight/insight-query.js';
import { csvHref, fetchCases, fetchFlows, fetchInsights } from '../insight/insight-source.js';

// The chart library comes with the first chart, not with the portal.
const InsightChart = lazy(() => import('../insight/insight-chart.js'));

const go = (view: InsightView) => {
  window.location.hash = insightHash(view);
};

const sameFilters = (a: InsightFilters, b: InsightFilters) =>
  a.from === b.from && a.to === b.to && a.branch === b.branch && a.station === b.station && a.code === b.code;

/** The insight page: figures of the flows and cases in a period, each one a link to what it counts. */
export const InsightScreen = ({ query }: { readonly query: string }) => {
  const { language } = useLanguage();
  const t = INSIGHT_TEXTS[language];
  const heading = useRef<HTMLHeadingElement>(null);
  const view = useMemo(() => parseInsightQuery(query), [query]);
  const filterKey = JSON.stringify(view.filters);
  const [answer, setAnswer] = useState<InsightAnswer | null>(null);
  const [error, setError] = useState<PageError | null>(null);
  const [draft, setDraft] = useState<InsightFilters>(view.filters);
  /** Figures switched away from the page's default view (chart or table). */
  const [switched, setSwitched] = useState<ReadonlySet<Figure>>(new Set());

  // biome-ignore lint/correctness/useExhaustiveDependencies: the filters' text stands for them
  useEffect(() => {
    let current = true;
    setAnswer(null);
    void fetchInsights(view.filters).then(
      (next) => {
        if (!current) return;
        setAnswer(next);
        setError(null);
        // The form shows the period the server chose when the address named none.
        setDraft(next.filters);
      },
      (failure: unknown) => {
        if (current) setError(pageErrorOf(failure));
      },
    );
    return () => {
      current = false;
    };
  }, [filterKey]);
  useEffect(() => heading.current?.focus(), []);

  const figures = useMemo(() => (answer ? figuresOf(answer, language) : []), [answer, language]);
  const started = answer?.perDay.reduce((sum, d) => sum + d.started, 0) ?? 0;

  const apply = (event: FormEvent) => {
    event.preventDefault();
    if (!sameFilters(draft, view.filters) || view.pick) go({ ...view, filters: draft, pick: null });
  };
  const setFilter = (name: keyof InsightFilters, value: string) =>
    setDraft((current) => ({ ...current, [name]: value === '' ? null : value }));

  return (
    <section className="insight" data-testid="insight">
      <h2 ref={heading} tabIndex={-1}>
        {t.title}
      </h2>
      <p>{t.intro}</p>
      <form className="insight-filters" onSubmit={apply} aria-label={t.filters}>
        <div>
          <label htmlFor="insight-from">{t.from}</label>
          <input
            id="insight-from"
            type="date"
            value={draft.from ?? ''}
            onChange={(e) => setFilter('from', e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="insight-to">{t.to}</label>
          <input
            id="insight-to"
            type="date"
            value={draft.to ?? ''}
            onChange={(e) => setFilter('to', e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="insight-branch">{t.branch}</label>
          <select
            id="insight-branch"
            value={draft.branch ?? ''}
            onChange={(e) => setFilter('branch', e.target.value)}
          >
            <option value="">{t.all}</option>
            {answer?.branches.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="insight-station">{t.station}</label>
          <select
            id="insight-station"
            value={draft.station ?? ''}
            onChange={(e) => setFilter('station', e.target.value)}
          >
            <option value="">{t.all}</option>
            {answer?.stations.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="insight-code">{t.code}</label>
          <select
            id="insight-code"
            value={draft.code ?? ''}
            onChange={(e) => setFilter('code', e.target.value)}
          >
            <option value="">{t.all}</option>
            {ERROR_CODES.map((code) => (
              <option key={code} value={code}>
                {code} – {codeTitle(code, language)}
              </option>
            ))}
          </select>
        </div>
        <div className="insight-actions">
          <button type="submit" data-action="apply-insight">
            {t.apply}
          </button>
          <a className="button" href={csvHref(view.filters)} download data-action="export-csv">
            {t.exportCsv}
          </a>
          {started > 0 ? (
            <button
              type="button"
              data-action="all-tables"
              onClick={() => {
                setSwitched(new Set());
                go({ ...view, table: !view.table });
              }}
            >
              {view.table ? t.allCharts : t.allTables}
            </button>
          ) : null}
        </div>
      </form>
      {error ? <ErrorPanel error={error} /> : null}
      {answer === null && error === null ? <p aria-busy="true">{t.loading}</p> : null}
      {answer && view.pick ? <PickedList answer={answer} view={view} /> : null}
      {answer && started === 0 ? (
        <p className="insight-empty" data-testid="insight-empty">
          {fill(t.noFlows, {
            from: formatDay(answer.filters.from, language),
            to: formatDay(answer.filters.to, language),
          })}
        </p>
      ) : null}
      {answer && started > 0 ? (
        <div className="insight-figures">
          {figures.map((figure) => (
            <FigureView
              key={figure.figure}
              figure={figure}
              view={view}
              table={view.table !== switched.has(figure.figure)}
              onToggle={() =>
                setSwitched((current) => {
                  const next = new Set(current);
                  if (!next.delete(figure.figure)) next.add(figure.figure);
                  return next;
                })
              }
            />
          ))}
        </div>
      ) : null}
    </section>
  );
};

interface FigureViewProps {
  readonly figure: FigureShown;
  readonly view: InsightView;
  readonly table: boolean;
  readonly onToggle: () => void;
}

/** One figure: heading, summary sentence, and its chart or its table. */
const FigureView = ({ figure, view, table: asTable, onToggle }: FigureViewProps) => {
  const { language } = useLanguage();
  const t = INSIGHT_TEXTS[language];
  const id = useId();
  // All zeros (cases resolved within the minute) would draw empty axes: the table says it better.
  const drawable = figure.chart.series.some((s) => s.values.some((v) => v > 0));
  const table = asTable || !drawable;
  return (
    <section
      className="insight-figure"
      data-figure={figure.figure}
      data-view={table ? 'table' : 'chart'}
      aria-labelledby={`${id}-title`}
    >
      <div className="insight-figure-head">
        <h3 id={`${id}-title`}>{figure.title}</h3>
        {figure.empty || !drawable ? null : (
          <button type="button" onClick={onToggle} data-action="toggle-view">
            {table ? t.showChart : t.showTable}
          </button>
        )}
      </div>
      <p id={`${id}-summary`} className="insight-summary">
        {figure.summary}
      </p>
      {figure.empty ? null : table ? (
        <FigureTableView figure={figure} view={view} />
      ) : (
        <div
          className="insight-chart"
          role="img"
          aria-label={fill(t.chartOf, { title: figure.title })}
          aria-describedby={`${id}-summary`}
        >
          <Suspense fallback={<p>{t.loading}</p>}>
            <InsightChart chart={figure.chart} language={language} onPick={(pick) => go({ ...view, pick })} />
          </Suspense>
        </div>
      )}
      {figure.empty || table ? null : <p className="insight-hint">{t.chartHint}</p>}
    </section>
  );
};

const FigureTableView = ({ figure, view }: { readonly figure: FigureShown; readonly view: InsightView }) => {
  const { language } = useLanguage();
  const t = INSIGHT_TEXTS[language];
  const { table } = figure;
  return (
    <table className="insight-table">
      {/* The figure's heading says it on screen; the caption names the table for screen readers. */}
      <caption className="visually-hidden">{figure.title}</caption>
      <thead>
        <tr>
          {table.headColumns.map((column) => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
          {table.columns.map((column, at) => (
            <th key={column} scope="col" className={table.rows[0]?.cells[at]?.numeric ? 'number' : undefined}>
              {column}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {table.rows.map((row, index) => (
          // Rows are the answer's, in its order; a row's head may be empty (one-row figures).
          // biome-ignore lint/suspicious/noArrayIndexKey: the answer's order is the row's identity
          <tr key={index}>
            {row.heads.map((head, at) => (
              // Two heads of a row may read the same (an agent's unknown version and packaging).
              // biome-ignore lint/suspicious/noArrayIndexKey: a row's heads are its head columns
              <th key={at} scope="row">
                {head}
              </th>
            ))}
            {row.cells.map((cell, at) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a row's cells are its columns
              <td key={at} className={cell.numeric ? 'number' : undefined}>
                {cell.pick ? (
                  <a
                    href={insightHash({ ...view, pick: cell.pick })}
                    aria-label={`${cell.text}: ${fill(t.showFlowsOf, { what: cell.what })}`}
                  >
                    {cell.text}
                  </a>
                ) : (
                  cell.text
                )}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
};

/** The flows (or cases) behind a clicked number, each with its case and its replay. */
const PickedList = ({ answer, view }: { readonly answer: InsightAnswer; readonly view: InsightView }) => {
  const { language, t: ui } = useLanguage();
  const t = INSIGHT_TEXTS[language];
  const pick = view.pick as InsightPick;
  const heading = useRef<HTMLHeadingElement>(null);
  const [flows, setFlows] = useState<InsightFlows | null>(null);
  const [cases, setCases] = useState<InsightCases | null>(null);
  const [error, setError] = useState<PageError | null>(null);
  const pickKey = JSON.stringify([view.filters, pick]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the pick's text stands for it
  useEffect(() => {
    let current = true;
    setFlows(null);
    setCases(null);
    const loaded =
      pick.kind === 'cases'
        ? fetchCases(view.filters).then((next) => current && setCases(next))
        : fetchFlows(view.filters, pick).then((next) => current && setFlows(next));
    loaded.then(
      () => {
        if (current) setError(null);
        heading.current?.focus();
      },
      (failure: unknown) => {
        if (current) setError(pageErrorOf(failure));
      },
    );
    return () => {
      current = false;
    };
  }, [pickKey]);

  const figureTitle =
    pick.kind === 'cases' ? t.figures.caseResolution.title : (t.figures[pick.figure]?.title ?? pick.figure);
  const stationName = (id: string | null) =>
    id === null ? '–' : (answer.stations.find((s) => s.id === id)?.name ?? id);
  const codes = (list: readonly string[]) =>
    list.length === 0 ? (
      '–'
    ) : (
      <ul className="insight-codes">
        {list.map((code) => (
          <li key={code}>
            <a href={`#/catalogue/${code}`} className="code-chip">
              {code}
            </a>{' '}
            {codeTitle(code, language)}
          </li>
        ))}
      </ul>
    );
  const at = (ms: number) => `${formatDate(ms, language)} ${formatTime(ms, language)}`;

  return (
    <section className="insight-list" data-testid="insight-list" aria-labelledby="insight-list-title">
      <div className="insight-figure-head">
        <h3 id="insight-list-title" ref={heading} tabIndex={-1}>
          {pick.kind === 'cases'
            ? t.list.casesTitle
            : fill(t.list.flowsTitle, { figure: figureTitle, what: pickWhat(answer, pick, language) })}
        </h3>
        <a href={insightHash({ ...view, pick: null })} data-action="close-list">
          {t.list.close}
        </a>
      </div>
      {error ? <ErrorPanel error={error} /> : null}
      {flows === null && cases === null && error === null ? <p aria-busy="true">{t.loading}</p> : null}
      {flows && flows.flows.length === 0 ? <p>{t.list.none}</p> : null}
      {flows && flows.flows.length > 0 ? (
        <table className="insight-table" data-testid="insight-flows">
          <caption className="visually-hidden">
            {fill(t.list.flowsTitle, { figure: figureTitle, what: pickWhat(answer, pick, language) })}
          </caption>
          <thead>
            <tr>
              <th scope="col">{t.list.time}</th>
              <th scope="col">{t.list.status}</th>
              <th scope="col">{t.list.step}</th>
              <th scope="col">{t.list.codes}</th>
              <th scope="col">{t.list.station}</th>
              <th scope="col">{t.list.case}</th>
              <th scope="col">{t.list.replay}</th>
            </tr>
          </thead>
          <tbody>
            {flows.flows.map((flow) => (
              <tr key={flow.flowId} data-flow={flow.flowId}>
                <th scope="row">{at(flow.startedAt)}</th>
                <td>{t.list.flowStatus[flow.status as keyof typeof t.list.flowStatus] ?? flow.status}</td>
                <td>{flow.step}</td>
                <td>{codes(flow.codes)}</td>
                <td>{stationName(flow.stationId)}</td>
                <td>
                  {flow.caseId ? (
                    <a href={`#/desk/${flow.caseId}`} data-case={flow.caseId}>
                      {fill(t.list.openCase, { id: flow.caseId })}
                    </a>
                  ) : (
                    '–'
                  )}
                </td>
                <td>
                  {/* The same word in every row: the flow's id tells the links apart for screen readers. */}
                  <a href={`#/replay/flow/${flow.flowId}`}>
                    {t.list.replay}
                    <span className="visually-hidden"> {flow.flowId}</span>
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {flows?.truncated ? <p>{t.list.truncated}</p> : null}
      {cases && cases.cases.length === 0 ? <p>{t.list.noneCases}</p> : null}
      {cases && cases.cases.length > 0 ? (
        <table className="insight-table" data-testid="insight-cases">
          <caption className="visually-hidden">{t.list.casesTitle}</caption>
          <thead>
            <tr>
              <th scope="col">{t.list.case}</th>
              <th scope="col">{t.list.filed}</th>
              <th scope="col">{t.list.resolvedAt}</th>
              <th scope="col">{t.list.codes}</th>
            </tr>
          </thead>
          <tbody>
            {cases.cases.map((c) => (
              <tr key={c.caseId} data-case={c.caseId}>
                <th scope="row">
                  <a href={`#/desk/${c.caseId}`}>{fill(ui.desk.case, { id: c.caseId })}</a>
                </th>
                <td>{at(c.filedAt)}</td>
                <td>{c.resolvedAt === null ? '–' : at(c.resolvedAt)}</td>
                <td>{codes(c.codes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
