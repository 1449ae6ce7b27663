import type { BranchId } from '@reservkort/domain';

export interface BranchesTable {
  id: BranchId;
  parent_id: BranchId | null;
  name: string;
}

/** One row (id 1): how many times the branches were written, for readers that cache the tree. */
export interface BranchesGenerationTable {
  id: number;
  generation: number;
}
