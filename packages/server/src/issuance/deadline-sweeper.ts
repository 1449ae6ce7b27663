import {
  type Database,
  getFlow,
  listDueFlows,
  listFlowsWithPendingEffects,
  type StoredFlow,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import type { ExtensionService } from '../card-life/extension.service.js';
import type { IssuanceService } from './issuance.service.js';
import type { SweepFailures } from './sweep-failures.js';

/**
 * Ends flows whose acknowledgement deadline has passed, revoking their certificates. It runs at
 * start-up (so a deadline that passed while the server was down is honoured at once) and then
 * every few hundred milliseconds. Several servers may sweep the same database: the flow's version
 * lets one of them win, and revocation is idempotent, so each flow is revoked once. A flow it
 * cannot end, or a revocation it cannot carry out, is logged and counted as a failure.
 */
export class DeadlineSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly issuance: IssuanceService,
    private readonly failures: SweepFailures,
    private readonly now: () => number,
    private readonly intervalMs = 250,
    /** Förlängningar past their deadline are given up in the same pass (see `ExtensionService.sweep`). */
    private readonly extensions: ExtensionService | null = null,
  ) {}

  /** One pass; returns how many flows it ended. */
  async sweep(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let ended = 0;
    try {
      for (const flow of await listDueFlows(this.db, this.now(), 100)) {
        try {
          await this.issuance.apply(flow.id, null, { type: 'deadline-passed', at: this.now() });
          ended++;
        } catch (error) {
          // Another server got there first, or the flow moved on: nothing left to do. A flow still
          // due and unchanged, though, is one this sweep cannot end.
          if (!(await this.movedOn(flow))) this.failures.report('deadline', error, { flowId: flow.id });
        }
      }
      for (const flow of await listFlowsWithPendingEffects(this.db, 100)) {
        await this.issuance
          .settle(flow.id)
          .catch((error: unknown) => this.failures.report('deadline', error, { flowId: flow.id }));
      }
      if (this.extensions !== null) ended += await this.extensions.sweep(this.failures);
    } finally {
      this.running = false;
    }
    return ended;
  }

  private async movedOn(flow: StoredFlow): Promise<boolean> {
    const now = await getFlow(this.db, flow.id);
    return now === null || now.version !== flow.version || now.status !== 'active';
  }

  /** One scheduled pass: a failure is logged and counted, never thrown. */
  async tick(): Promise<void> {
    try {
      await this.sweep();
    } catch (error) {
      this.failures.report('deadline', error);
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
