import type { Instant } from '@reservkort/domain';

/** The current CRL of an issuing CA: replaced on every publication. */
export interface CrlsTable {
  ca_id: string;
  crl_number: number;
  this_update: Instant;
  next_update: Instant;
  /** The DER bytes, base64: the same text column on both dialects. */
  der_base64: string;
}
