import type { AssuranceLevel, Instant } from '@reservkort/domain';
import type { Generated } from 'kysely';

export type CaRole = 'root' | 'issuing' | 'ocsp';

/** Where the CA's private key lives: an encrypted key file or a PKCS#11 token. */
export type CaKeyKind = 'file' | 'pkcs11';

export interface CasTable {
  /** 'root', 'loa3', 'loa2', 'ocsp-loa3', … */
  id: string;
  role: CaRole;
  name: string;
  issuer_id: string | null;
  certificate_pem: string;
  key_kind: CaKeyKind;
  /** A file path or a PKCS#11 URI/label, as the key store understands it. */
  key_ref: string;
  policy_oid: string | null;
  assurance_level: AssuranceLevel | null;
  /** The number of the last CRL issued; 0 before the first. */
  crl_number: Generated<number>;
  created_at: Instant;
}
