import { err, ok, type Result } from '../result.js';

export type BranchId = string;

/** A node of the organisation tree (gren). */
export interface Branch {
  readonly id: BranchId;
  readonly parentId: BranchId | null;
  readonly name: string;
}

/** A validated tree: unique ids, known parents, no cycles. */
export interface OrganisationTree {
  readonly branches: ReadonlyMap<BranchId, Branch>;
}

/** Validates a list of branches into a tree; reports the first problem found. */
export const buildOrganisationTree = (branches: readonly Branch[]): Result<OrganisationTree> => {
  const map = new Map<BranchId, Branch>();
  for (const branch of branches) {
    if (typeof branch.id !== 'string' || branch.id.length === 0) {
      return err('ORGANISATION_INVALID', { reason: 'empty-id' });
    }
    if (map.has(branch.id)) return err('ORGANISATION_INVALID', { reason: 'duplicate-id', branch: branch.id });
    map.set(branch.id, branch);
  }
  for (const branch of map.values()) {
    if (branch.parentId !== null && !map.has(branch.parentId)) {
      return err('ORGANISATION_INVALID', { reason: 'unknown-parent', branch: branch.id });
    }
  }
  // Walk up from every branch, remembering branches already known to reach a root.
  const rooted = new Set<BranchId>();
  for (const start of map.values()) {
    const path = new Set<BranchId>();
    let current: Branch | undefined = start;
    while (current && !rooted.has(current.id)) {
      if (path.has(current.id)) return err('ORGANISATION_INVALID', { reason: 'cycle', branch: current.id });
      path.add(current.id);
      current = current.parentId === null ? undefined : map.get(current.parentId);
    }
    for (const id of path) rooted.add(id);
  }
  return ok({ branches: map });
};

/** The branch itself followed by its ancestors up to the root. */
export const lineageOf = (tree: OrganisationTree, id: BranchId): Result<readonly BranchId[]> => {
  const lineage: BranchId[] = [];
  let current = tree.branches.get(id);
  if (!current) return err('BRANCH_UNKNOWN');
  while (current) {
    lineage.push(current.id);
    current = current.parentId === null ? undefined : tree.branches.get(current.parentId);
  }
  return ok(lineage);
};

/** Whether `id` is `ancestorId` or lies below it. Unknown branches are within nothing. */
export const isWithin = (tree: OrganisationTree, id: BranchId, ancestorId: BranchId): boolean => {
  const lineage = lineageOf(tree, id);
  return lineage.ok && lineage.value.includes(ancestorId);
};
