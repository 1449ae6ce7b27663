import type { BranchId } from '@reservkort/domain';

export interface BranchesTable {
  id: BranchId;
  parent_id: BranchId | null;
  name: string;
}
