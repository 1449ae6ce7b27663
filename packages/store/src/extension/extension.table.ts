import type { CardNumber, HsaId, Instant } from '@reservkort/domain';

/**
 * Where a förlängning stands. `open`: started, terms and keys being recorded; `issuing`: the new
 * certificates claimed under their intents (nothing may be claimed again); `issued`: the new
 * certificates recorded and bound, to be written and acknowledged; `completed`: acknowledged with
 * the new signature key (the card's one extension is used); `abandoned`: given up (deadline, or an
 * issuance a crash interrupted), the card may be extended again.
 */
export const EXTENSION_STATES = ['open', 'issuing', 'issued', 'completed', 'abandoned'] as const;
export type ExtensionState = (typeof EXTENSION_STATES)[number];

/** One förlängning of a reserve card; at most one not abandoned per card (a partial unique index). */
export interface ExtensionsTable {
  id: string;
  card_number: CardNumber;
  holder_hsa_id: HsaId;
  order_id: string;
  old_auth_serial: string;
  old_sign_serial: string;
  state: ExtensionState;
  version: number;
  /** What the card's next proof must sign; rotates with each one accepted. */
  nonce: string;
  terms_accepted_at: Instant | null;
  /** The new keys the card proved it holds, SubjectPublicKeyInfo DER base64. */
  auth_spki: string | null;
  sign_spki: string | null;
  /** The intents the new certificates are issued under (set by the claim). */
  auth_intent: string | null;
  sign_intent: string | null;
  not_before: Instant | null;
  not_after: Instant | null;
  new_auth_serial: string | null;
  new_sign_serial: string | null;
  created_at: Instant;
  updated_at: Instant;
  /** Until then it may be acknowledged; afterwards it is abandoned and its new certificates revoked. */
  deadline: Instant;
  claimed_at: Instant | null;
  issued_at: Instant | null;
  completed_at: Instant | null;
  abandoned_at: Instant | null;
  abandon_reason: string | null;
  /** When the old pair was revoked as superseded (after the acknowledgement's commit). */
  old_revoked_at: Instant | null;
  /** When the new pair of an abandoned extension was revoked. */
  new_revoked_at: Instant | null;
}
