import { getStockCard } from '@reservkort/store';
import {
  AuditCheckpointPublisher,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
} from './audit/audit-checkpoint.service.js';
import { ExtensionService } from './card-life/extension.service.js';
import { RevocationService } from './card-life/revocation.service.js';
import { InsightService } from './insight/insight.service.js';
import { DeadlineSweeper } from './issuance/deadline-sweeper.js';
import { DirectoryCache } from './issuance/directory.js';
import { IssuanceService } from './issuance/issuance.service.js';
import { DEFAULT_RECONCILER_SETTINGS, IssuanceReconciler } from './issuance/issuance-reconciler.js';
import { SweepFailures } from './issuance/sweep-failures.js';
import type { ServerContext } from './server-context.js';

export interface Services {
  readonly directory: DirectoryCache;
  readonly issuance: IssuanceService;
  readonly extensions: ExtensionService;
  readonly sweeper: DeadlineSweeper;
  readonly reconciler: IssuanceReconciler;
  /** Failed background sweeps, logged and counted for /metrics. */
  readonly sweepFailures: SweepFailures;
  readonly checkpoints: AuditCheckpointPublisher;
  /** Spärr of reserve-card e-IDs, for the holder, administrators and the service desk. */
  readonly revocation: RevocationService;
  /** The figures of "Insikter" over flows and support cases. */
  readonly insights: InsightService;
}

/** The services over one context: built once, shared by the routes and the background sweeps. */
export const createServices = (ctx: ServerContext): Services => {
  const now = () => ctx.clock.now();
  const directory = new DirectoryCache(ctx.store.db);
  const issuance = new IssuanceService(ctx.store.db, ctx.ca, directory, ctx.flow, now);
  const sweepFailures = new SweepFailures();
  const reconcilerSettings = { ...DEFAULT_RECONCILER_SETTINGS, ...ctx.reconciler };
  const extensions = new ExtensionService(
    ctx.store.db,
    ctx.ca,
    directory,
    now,
    // The card's last physical day from its card station's stock; null for a card ordered before
    // the stock was kept.
    ctx.physicalExpiryOf ??
      (async (cardNumber) => (await getStockCard(ctx.store.db, cardNumber))?.physicalExpiry ?? null),
    { claimGraceMs: reconcilerSettings.graceMs, ...ctx.extension },
  );
  return {
    directory,
    issuance,
    extensions,
    sweeper: new DeadlineSweeper(ctx.store.db, issuance, sweepFailures, now, undefined, extensions),
    reconciler: new IssuanceReconciler(ctx.store.db, issuance, sweepFailures, now, {
      ...DEFAULT_RECONCILER_SETTINGS,
      ...ctx.reconciler,
    }),
    sweepFailures,
    checkpoints: new AuditCheckpointPublisher(
      ctx.store.db,
      ctx.ca,
      ctx.clock,
      ctx.auditCheckpoints ?? { file: null, intervalMs: DEFAULT_CHECKPOINT_INTERVAL_MS },
    ),
    revocation: new RevocationService(ctx.store.db, ctx.ca, directory, now),
    insights: new InsightService(ctx.store.db, directory, now),
  };
};
