import type { Instant } from '@reservkort/domain';
import type { CaKeyKind } from '../ca/ca.table.js';

/** A key that signs audit checkpoints, with its certificate from the root CA. */
export interface AuditSignersTable {
  id: string;
  /** The certificate's row in `certificates` (the root's issuance register). */
  certificate_serial: string;
  certificate_pem: string;
  key_kind: CaKeyKind;
  /** `SPEC:REF`, as for the CAs: the key type and the key store's reference. */
  key_ref: string;
  created_at: Instant;
}
