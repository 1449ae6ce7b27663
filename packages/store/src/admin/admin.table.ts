import type { BranchId, Grant, HsaId } from '@reservkort/domain';

export interface AdminsTable {
  hsa_id: HsaId;
  given_name: string;
  surname: string;
  created_at: number;
}

export interface RoleGrantsTable {
  admin_hsa_id: HsaId;
  role: Grant;
  branch_id: BranchId;
}
