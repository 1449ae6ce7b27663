// The insight page's own words, Swedish and English. Codes and steps take their titles from the
// domain's catalogue; everything else the page says is here. A missing text is a compile error.
import type { Language } from '@reservkort/domain';

/** The page's figures, in the order they are shown. */
export const FIGURES = [
  'perDay',
  'byCode',
  'byStep',
  'byStation',
  'byAgent',
  'ackTimeout',
  'caseResolution',
  'busiestHours',
] as const;
export type Figure = (typeof FIGURES)[number];

export interface FigureTexts {
  /** The chart's heading, the table's caption. */
  readonly title: string;
  /** One sentence on what the numbers say: {…} placeholders per figure. */
  readonly summary: string;
  /** The figure has no numbers in the period. */
  readonly empty: string;
}

export interface InsightTexts {
  readonly title: string;
  readonly intro: string;
  readonly filters: string;
  readonly from: string;
  readonly to: string;
  readonly branch: string;
  readonly station: string;
  readonly code: string;
  readonly all: string;
  readonly apply: string;
  readonly exportCsv: string;
  readonly loading: string;
  /** No flow started in the period: the whole page says so instead of empty axes. */
  readonly noFlows: string;
  readonly showTable: string;
  readonly showChart: string;
  readonly allTables: string;
  readonly allCharts: string;
  /** The chart's accessible name: {title}. */
  readonly chartOf: string;
  /** Under a chart: its points open the flows behind them. */
  readonly chartHint: string;
  readonly figures: { readonly [F in Figure]: FigureTexts };
  readonly columns: {
    readonly day: string;
    readonly started: string;
    readonly completed: string;
    readonly failed: string;
    readonly code: string;
    readonly title: string;
    readonly flows: string;
    readonly step: string;
    readonly station: string;
    readonly version: string;
    readonly packaging: string;
    readonly rate: string;
    readonly ackRate: string;
    readonly reachedStep7: string;
    readonly ackTimeouts: string;
    readonly resolved: string;
    readonly median: string;
    readonly p90: string;
    readonly hour: string;
  };
  /** A table cell's link: {what}. */
  readonly showFlowsOf: string;
  readonly list: {
    /** The flow list's heading: {figure}, {what}. */
    readonly flowsTitle: string;
    readonly casesTitle: string;
    readonly close: string;
    readonly time: string;
    readonly status: string;
    readonly step: string;
    readonly codes: string;
    readonly station: string;
    readonly case: string;
    readonly replay: string;
    readonly filed: string;
    readonly resolvedAt: string;
    readonly none: string;
    readonly noneCases: string;
    readonly truncated: string;
    readonly openCase: string;
    readonly flowStatus: {
      readonly active: string;
      readonly completed: string;
      readonly failed: string;
      readonly aborted: string;
      readonly 'ack-timeout-revoked': string;
    };
  };
  readonly outcome: { readonly started: string; readonly completed: string; readonly failed: string };
  /** A card agent version or packaging the flow did not record. */
  readonly unknownAgent: string;
  /** A number of flows: {n}. */
  readonly flowCount: { readonly one: string; readonly other: string };
  readonly underMinute: string;
  /** Durations: {n}. */
  readonly minutes: string;
  readonly hours: string;
  readonly days: string;
  readonly hourRange: string;
}

const sv: InsightTexts = {
  title: 'Insikter',
  intro:
    'Hur utgivningarna har gått: flöden per dag, fel per kod, steg, kortstation och kortagent, kvitteringar och ärenden.',
  filters: 'Urval',
  from: 'Från och med',
  to: 'Till och med',
  branch: 'Organisation',
  station: 'Kortstation',
  code: 'Felkod',
  all: 'Alla',
  apply: 'Visa',
  exportCsv: 'Exportera CSV',
  loading: 'Hämtar siffrorna …',
  noFlows: 'Inga utgivningsflöden startade under perioden {from}–{to}.',
  showTable: 'Visa som tabell',
  showChart: 'Visa som diagram',
  allTables: 'Visa alla som tabeller',
  allCharts: 'Visa alla som diagram',
  chartOf: 'Diagram: {title}',
  chartHint: 'Klicka på en stapel eller punkt för att se flödena bakom den.',
  figures: {
    perDay: {
      title: 'Startade, slutförda och misslyckade flöden per dag',
      summary: 'Under perioden: startade {started}, slutförda {completed}, misslyckade {failed}.',
      empty: 'Inga flöden under perioden.',
    },
    byCode: {
      title: 'Misslyckade flöden per felkod',
      summary: 'Vanligast: {top}, {flows}.',
      empty: 'Inga felkoder under perioden.',
    },
    byStep: {
      title: 'Misslyckade flöden per steg',
      summary: 'Flest flöden misslyckades i steg {top}: {flows}.',
      empty: 'Inga misslyckade flöden under perioden.',
    },
    byStation: {
      title: 'Andel misslyckade flöden per kortstation',
      summary: 'Högst andel misslyckade hade {top}: {rate}.',
      empty: 'Inga flöden på någon kortstation under perioden.',
    },
    byAgent: {
      title: 'Andel misslyckade flöden per kortagentversion och paketering',
      summary: 'Högst andel misslyckade hade {top}: {rate}.',
      empty: 'Inga flöden med känd kortagent under perioden.',
    },
    ackTimeout: {
      title: 'Kvitteringstiden gick ut (ACK_TIMEOUT)',
      summary: 'Nådde steg 7: {reached}; kvitteringstiden gick ut i {timeouts} ({rate}).',
      empty: 'Inget flöde nådde steg 7 under perioden.',
    },
    caseResolution: {
      title: 'Tid till lösta ärenden',
      summary: 'Lösta ärenden: {resolved}; medianen var {median} och 90:e percentilen {p90}.',
      empty: 'Inga ärenden löstes under perioden.',
    },
    busiestHours: {
      title: 'Startade flöden per timme på dygnet',
      summary: 'Flest flöden startade {top}: {started}.',
      empty: 'Inga flöden under perioden.',
    },
  },
  columns: {
    day: 'Dag',
    started: 'Startade',
    completed: 'Slutförda',
    failed: 'Misslyckade',
    code: 'Felkod',
    title: 'Fel',
    flows: 'Flöden',
    step: 'Steg',
    station: 'Kortstation',
    version: 'Version',
    packaging: 'Paketering',
    rate: 'Andel misslyckade',
    ackRate: 'Andel där tiden gick ut',
    reachedStep7: 'Nådde steg 7',
    ackTimeouts: 'Kvitteringstiden gick ut',
    resolved: 'Lösta ärenden',
    median: 'Median',
    p90: '90:e percentilen',
    hour: 'Timme',
  },
  showFlowsOf: 'Visa flödena: {what}',
  list: {
    flowsTitle: 'Flöden: {figure}, {what}',
    casesTitle: 'Lösta ärenden under perioden',
    close: 'Stäng listan',
    time: 'Startat',
    status: 'Status',
    step: 'Steg',
    codes: 'Felkoder',
    station: 'Kortstation',
    case: 'Ärende',
    replay: 'Spela upp',
    filed: 'Anmält',
    resolvedAt: 'Löst',
    none: 'Inga flöden.',
    noneCases: 'Inga ärenden.',
    truncated: 'Listan visar de första flödena; smalna av urvalet för att se resten.',
    openCase: 'Ärende {id}',
    flowStatus: {
      active: 'Pågår',
      completed: 'Slutfört',
      failed: 'Misslyckat',
      aborted: 'Avbrutet',
      'ack-timeout-revoked': 'Kvitteringstiden gick ut',
    },
  },
  outcome: { started: 'startade', completed: 'slutförda', failed: 'misslyckade' },
  unknownAgent: 'okänd',
  flowCount: { one: '{n} flöde', other: '{n} flöden' },
  underMinute: 'under 1 min',
  minutes: '{n} min',
  hours: '{n} tim',
  days: '{n} dygn',
  hourRange: 'kl. {from}–{to}',
};

const en: InsightTexts = {
  title: 'Insights',
  intro:
    'How issuance has gone: flows per day, failures by code, step, card station and card agent, acknowledgements and cases.',
  filters: 'Selection',
  from: 'From',
  to: 'To (inclusive)',
  branch: 'Organisation',
  station: 'Card station',
  code: 'Error code',
  all: 'All',
  apply: 'Show',
  exportCsv: 'Export CSV',
  loading: 'Fetching the numbers …',
  noFlows: 'No issuance flows started in the period {from}–{to}.',
  showTable: 'Show as table',
  showChart: 'Show as chart',
  allTables: 'Show all as tables',
  allCharts: 'Show all as charts',
  chartOf: 'Chart: {title}',
  chartHint: 'Click a bar or point to see the flows behind it.',
  figures: {
    perDay: {
      title: 'Flows started, completed and failed per day',
      summary: 'In the period: started {started}, completed {completed}, failed {failed}.',
      empty: 'No flows in the period.',
    },
    byCode: {
      title: 'Failed flows by error code',
      summary: 'Most frequent: {top}, {flows}.',
      empty: 'No error codes in the period.',
    },
    byStep: {
      title: 'Failed flows by step',
      summary: 'Most flows failed at step {top}: {flows}.',
      empty: 'No failed flows in the period.',
    },
    byStation: {
      title: 'Failure rate per card station',
      summary: 'The highest failure rate was at {top}: {rate}.',
      empty: 'No flows at any card station in the period.',
    },
    byAgent: {
      title: 'Failure rate per card agent version and packaging',
      summary: 'The highest failure rate was with {top}: {rate}.',
      empty: 'No flows with a known card agent in the period.',
    },
    ackTimeout: {
      title: 'Acknowledgement time ran out (ACK_TIMEOUT)',
      summary: 'Reached step 7: {reached}; the acknowledgement time ran out in {timeouts} ({rate}).',
      empty: 'No flow reached step 7 in the period.',
    },
    caseResolution: {
      title: 'Time to resolve cases',
      summary: 'Cases resolved: {resolved}; the median was {median} and the 90th percentile {p90}.',
      empty: 'No cases were resolved in the period.',
    },
    busiestHours: {
      title: 'Flows started per hour of the day',
      summary: 'Most flows started {top}: {started}.',
      empty: 'No flows in the period.',
    },
  },
  columns: {
    day: 'Day',
    started: 'Started',
    completed: 'Completed',
    failed: 'Failed',
    code: 'Error code',
    title: 'Error',
    flows: 'Flows',
    step: 'Step',
    station: 'Card station',
    version: 'Version',
    packaging: 'Packaging',
    rate: 'Failure rate',
    ackRate: 'Share that ran out',
    reachedStep7: 'Reached step 7',
    ackTimeouts: 'Acknowledgement time ran out',
    resolved: 'Cases resolved',
    median: 'Median',
    p90: '90th percentile',
    hour: 'Hour',
  },
  showFlowsOf: 'Show the flows: {what}',
  list: {
    flowsTitle: 'Flows: {figure}, {what}',
    casesTitle: 'Cases resolved in the period',
    close: 'Close the list',
    time: 'Started',
    status: 'Status',
    step: 'Step',
    codes: 'Error codes',
    station: 'Card station',
    case: 'Case',
    replay: 'Replay',
    filed: 'Filed',
    resolvedAt: 'Resolved',
    none: 'No flows.',
    noneCases: 'No cases.',
    truncated: 'The list shows the first flows; narrow the selection to see the rest.',
    openCase: 'Case {id}',
    flowStatus: {
      active: 'In progress',
      completed: 'Completed',
      failed: 'Failed',
      aborted: 'Aborted',
      'ack-timeout-revoked': 'Acknowledgement time ran out',
    },
  },
  outcome: { started: 'started', completed: 'completed', failed: 'failed' },
  unknownAgent: 'unknown',
  flowCount: { one: '{n} flow', other: '{n} flows' },
  underMinute: 'under 1 min',
  minutes: '{n} min',
  hours: '{n} h',
  days: '{n} days',
  hourRange: '{from}–{to}',
};

export const INSIGHT_TEXTS: { readonly [L in Language]: InsightTexts } = { sv, en };
