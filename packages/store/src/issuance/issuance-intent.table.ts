import type { Instant } from '@reservkort/domain';

/** Which certificate of a flow an intent is for; the profiles of the card's two certificates. */
export const ISSUANCE_PURPOSES = ['card-auth', 'card-sign'] as const;
export type IssuancePurpose = (typeof ISSUANCE_PURPOSES)[number];

/** How the reconciler settled an intent: its certificate kept by a completed flow, or revoked. */
export type IntentOutcome = 'kept' | 'revoked';

/**
 * The intent to issue one certificate of a flow, recorded in the transaction that claims the flow's
 * issuance and before anything is signed; unique on (flow, attempt, purpose).
 */
export interface IssuanceIntentsTable {
  id: string;
  flow_id: string;
  attempt: number;
  purpose: IssuancePurpose;
  created_at: Instant;
  /** When a certificate was recorded under it (at most one ever is). */
  issued_at: Instant | null;
  /** The certificate bound to the flow under this intent. */
  serial: string | null;
  bound_at: Instant | null;
  /** From then on no certificate may be recorded under it. */
  closed_at: Instant | null;
  settled_at: Instant | null;
  outcome: IntentOutcome | null;
}
