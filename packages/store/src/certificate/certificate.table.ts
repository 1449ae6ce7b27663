import type { CardNumber, HsaId, Instant } from '@reservkort/domain';

/** RFC 5280 CRLReason names. */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export interface CertificatesTable {
  /** As the caller gives it (the CA writes lower-case hex). */
  serial: string;
  ca_id: string;
  /** The profile the certificate was issued under; the pki package owns the list. */
  profile: string;
  subject: string;
  hsa_id: HsaId | null;
  card_number: CardNumber | null;
  order_id: string | null;
  not_before: Instant;
  not_after: Instant;
  certificate_pem: string;
  created_at: Instant;
  /** The issuance intent it was issued under; null for certificates outside a flow (CAs, staff cards). */
  intent_id: string | null;
}

/** One row (id 1): how many revocations were committed, for OCSP responders that cache answers. */
export interface RevocationsGenerationTable {
  id: number;
  /** A bigint column: PostgreSQL returns it as a string. */
  generation: number | string;
}

export interface RevocationsTable {
  serial: string;
  revoked_at: Instant;
  reason: RevocationReason;
  revoked_by: string;
}
