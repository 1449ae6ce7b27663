import type { BranchId, HsaId } from '@reservkort/domain';
import type { Generated } from 'kysely';

export interface PersonsTable {
  hsa_id: HsaId;
  /** Twelve digits, YYYYMMDDNNNC; null for a person known only by a foreign passport. */
  personal_number: string | null;
  given_name: string;
  surname: string;
  branch_id: BranchId;
  /** 0/1. */
  protected_identity: Generated<number>;
  /** The Windows user principal name, for the certificates' SAN; null when the directory has none. */
  upn: string | null;
  /** The e-mail address, for the certificates' SAN; null when the directory has none. */
  email: string | null;
  created_at: number;
}
