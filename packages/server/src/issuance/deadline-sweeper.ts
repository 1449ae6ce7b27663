import { type Database, listDueFlows, listFlowsWithPendingEffects } from '@reservkort/store';
import type { Kysely } from 'kysely';
import type { IssuanceService } from './issuance.service.js';

/**
 * Ends flows whose acknowledgement deadline has passed, revoking their certificates. It runs at
 * start-up (so a deadline that passed while the server was down is honoured at once) and then
 * every few hundred milliseconds. Several servers may sweep the same database: the flow's version
 * lets one of them win, and revocation is idempotent, so each flow is revoked once.
 */
export class DeadlineSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly issuance: IssuanceService,
    private readonly now: () => number,
    private readonly intervalMs = 250,
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
        } catch {
          // Another server got there first, or the flow moved on: nothing left to do here.
        }
      }
      for (const flow of await listFlowsWithPendingEffects(this.db, 100)) {
        await this.issuance.settle(flow.id).catch(() => undefined);
      }
    } finally {
      this.running = false;
    }
    return ended;
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
