import type { Clock, FlowConfig } from '@reservkort/domain';
import type { CertificateAuthority, OcspResponder } from '@reservkort/pki';
import type { Store } from '@reservkort/store';
import type { CheckpointSettings } from './audit/audit-checkpoint.service.js';
import type { SessionSettings } from './auth/session.js';
import type { ExtensionSettings, PhysicalExpiryLookup } from './card-life/extension.service.js';
import type { TrainingClock } from './training/training-clock.js';
import type { TrainingSummary } from './training/training-summary.js';

/** Everything the routes and services use, passed in (fastify/demo's dependency plugins, in one value). */
export interface ServerContext {
  readonly store: Store;
  readonly ca: CertificateAuthority;
  readonly responder: OcspResponder;
  readonly clock: Clock;
  readonly sessions: SessionSettings;
  readonly flow: FlowConfig;
  /** Where the page finds the card agent, shown to the page (training: the agent this process runs). */
  readonly agentUrl: string | null;
  /** The address the portal is configured for (the card agent answers pages there); shown to the page. */
  readonly publicUrl?: string;
  readonly training: boolean;
  /** Training mode only: the demo data for the training panel, and the clock it may move forward. */
  readonly trainingKit?: { readonly summary: TrainingSummary; readonly clock: TrainingClock };
  /** The built web UI to serve at /, if any. */
  readonly webRoot?: string | null;
  /** The issuance reconciler's grace period and interval (defaults: 30 s and 1 s). */
  readonly reconciler?: { readonly graceMs?: number; readonly intervalMs?: number };
  /** Where and how often audit checkpoints are published (default: in memory only, every 15 minutes). */
  readonly auditCheckpoints?: CheckpointSettings;
  /**
   * A card's last physical day from card stock (null: not known there), for förlängning's rule.
   * Without it every card is looked up as unknown and bounded by its card bureau certificate.
   */
  readonly physicalExpiryOf?: PhysicalExpiryLookup;
  /** Förlängning's deadline and claim grace (defaults: 30 minutes; the reconciler's grace). */
  readonly extension?: Partial<ExtensionSettings>;
}
