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
  created_at: number;
}
