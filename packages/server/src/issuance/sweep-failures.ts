import { Counter } from 'prom-client';

/** The background sweeps: flows past their deadline, and certificates no live flow holds. */
export const SWEEPERS = ['deadline', 'reconciler'] as const;
export type SweeperName = (typeof SWEEPERS)[number];

/** Where a failed sweep is written: the server's logger once the app is built (pino's signature). */
export interface FailureLog {
  error(details: Record<string, unknown>, message: string): void;
}

const plainError = (error: unknown) =>
  error instanceof Error ? { type: error.name, message: error.message, stack: error.stack } : error;

/** Before the app's logger is attached: one JSON line on stderr, like the logger's own. */
const stderrLog: FailureLog = {
  error: (details, message) => {
    const line = { level: 50, time: Date.now(), ...details, err: plainError(details.err), msg: message };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  },
};

/**
 * A sweep that fails is logged and counted (`reservkort_sweep_failures_total{sweeper}` in /metrics),
 * never swallowed: a sweep that fails every few hundred milliseconds must be seen.
 */
export class SweepFailures {
  readonly counter = new Counter({
    name: 'reservkort_sweep_failures_total',
    help: 'Background sweeps (deadline sweeper, issuance reconciler) that failed',
    labelNames: ['sweeper'] as const,
    registers: [],
  });
  private log: FailureLog = stderrLog;

  constructor() {
    // Every sweeper shows in /metrics from the start, at 0, so an alert can watch the increase.
    for (const sweeper of SWEEPERS) this.counter.inc({ sweeper }, 0);
  }

  logTo(log: FailureLog): void {
    this.log = log;
  }

  report(sweeper: SweeperName, error: unknown, details: Record<string, string> = {}): void {
    this.counter.inc({ sweeper });
    this.log.error({ sweeper, ...details, err: error }, `${sweeper} sweep failed`);
  }

  async count(sweeper: SweeperName): Promise<number> {
    const metric = await this.counter.get();
    return metric.values.find((v) => v.labels.sweeper === sweeper)?.value ?? 0;
  }
}
