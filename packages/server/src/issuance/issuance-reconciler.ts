import { type Database, listUnsettledIntents, type StoredIssuanceIntent } from '@reservkort/store';
import type { Kysely } from 'kysely';
import { ApiError } from '../http/api-error.js';
import { type IssuanceService, RECONCILER_ACTOR, waitsOnClaim } from './issuance.service.js';
import type { SweepFailures } from './sweep-failures.js';

export interface ReconcilerSettings {
  /** How old an intent must be before it is judged: a request still issuing must not be undercut. */
  readonly graceMs: number;
  /** How often it runs after the start-up pass. */
  readonly intervalMs: number;
}

export const DEFAULT_RECONCILER_SETTINGS: ReconcilerSettings = { graceMs: 30_000, intervalMs: 1000 };

export interface Reconciled {
  /** Flows that waited on a claim nobody will bind, ended with DOWNLOAD_FAILED. */
  readonly ended: number;
  /** Certificates revoked because no live flow holds them. */
  readonly revoked: number;
}

const PAGE = 200;

/**
 * Every certificate issued under an intent ends bound to a live flow (active with those serials, or
 * completed) or revoked. Intents older than the grace period are judged flow by flow: a flow still
 * waiting on a claim that a crash left unbound ends with DOWNLOAD_FAILED (restart offered), and the
 * certificates of intents no live flow holds are revoked (cessationOfOperation, audited). Runs at
 * start-up and then periodically; several servers may run it at once (revocation is idempotent, and
 * the flow's version lets one of them end a flow).
 */
export class IssuanceReconciler {
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly issuance: IssuanceService,
    private readonly failures: SweepFailures,
    private readonly now: () => number,
    readonly settings: ReconcilerSettings = DEFAULT_RECONCILER_SETTINGS,
  ) {}

  /** One pass; a flow that cannot be judged is reported and the pass goes on with the others. */
  async reconcile(): Promise<Reconciled> {
    const totals = { ended: 0, revoked: 0 };
    if (this.running) return totals;
    this.running = true;
    try {
      for (const [flowId, intents] of await this.dueIntents()) {
        try {
          const done = await this.reconcileFlow(flowId, intents);
          totals.ended += done.ended;
          totals.revoked += done.revoked;
        } catch (error) {
          this.failures.report('reconciler', error, { flowId });
        }
      }
    } finally {
      this.running = false;
    }
    return totals;
  }

  /** The unsettled intents past the grace period, by flow. */
  private async dueIntents(): Promise<Map<string, StoredIssuanceIntent[]>> {
    const cutoff = this.now() - this.settings.graceMs;
    const byFlow = new Map<string, StoredIssuanceIntent[]>();
    let after: StoredIssuanceIntent | null = null;
    for (;;) {
      const page = await listUnsettledIntents(this.db, cutoff, PAGE, after);
      for (const intent of page) byFlow.set(intent.flowId, [...(byFlow.get(intent.flowId) ?? []), intent]);
      after = page.at(-1) ?? null;
      if (page.length < PAGE) return byFlow;
    }
  }

  private async reconcileFlow(flowId: string, intents: readonly StoredIssuanceIntent[]): Promise<Reconciled> {
    let ended = 0;
    let flow = await this.issuance.load(flowId);
    if (waitsOnClaim(flow)) {
      try {
        if (await this.issuance.failWaitingClaim(flowId, 'issuance-interrupted', RECONCILER_ACTOR)) ended = 1;
      } catch (error) {
        // The request bound its certificates (or the page moved the flow) just now: judge it next pass.
        if (error instanceof ApiError && error.code === 'ORDER_STATE_CONFLICT') return { ended, revoked: 0 };
        throw error;
      }
      flow = await this.issuance.load(flowId);
    }
    const holds = (intent: StoredIssuanceIntent) =>
      intent.serial !== null && flow.state.issuedSerials.includes(intent.serial);
    const live = flow.status === 'active' && flow.state.fault === null;
    const kept = flow.status === 'completed' ? intents.filter(holds) : [];
    const orphaned = intents.filter((i) => !(holds(i) && (live || flow.status === 'completed')));
    if (kept.length > 0) await this.issuance.keepIntents(kept);
    if (orphaned.length === 0) return { ended, revoked: 0 };
    const revoked = await this.issuance.retireIntents(
      flowId,
      orphaned.map((i) => i.id),
      RECONCILER_ACTOR,
    );
    return { ended, revoked: revoked.length };
  }

  /** One scheduled pass: a failure is logged and counted, never thrown. */
  async tick(): Promise<void> {
    try {
      await this.reconcile();
    } catch (error) {
      this.failures.report('reconciler', error);
    }
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
