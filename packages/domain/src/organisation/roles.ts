import type { HsaId } from '../identifiers/hsa-id.js';
import { type BranchId, lineageOf, type OrganisationTree } from './organisation-tree.js';

/** Administrator roles per branch. KRA or RA is the minimum to issue LoA3 reserve cards; LRA is LoA2 only. */
export const ROLES = ['KRA', 'RA', 'ORA', 'LRA'] as const;
export type Role = (typeof ROLES)[number];

/** The add-on that lets an administrator handle persons with a protected identity. */
export type AddOnRole = 'KUR';

export type Grant = Role | AddOnRole;

export interface RoleGrant {
  readonly role: Grant;
  readonly branchId: BranchId;
}

/** An ID-administrator as the rules see them: who, and what they hold where. */
export interface IdAdmin {
  readonly hsaId: HsaId;
  readonly grants: readonly RoleGrant[];
}

export const LOA3_ISSUING_ROLES: readonly Role[] = ['KRA', 'RA'];

/** The roles an admin holds in a branch, including those granted on its ancestors. */
export const grantsIn = (tree: OrganisationTree, admin: IdAdmin, branchId: BranchId): ReadonlySet<Grant> => {
  const lineage = lineageOf(tree, branchId);
  const held = new Set<Grant>();
  if (!lineage.ok) return held;
  for (const grant of admin.grants) {
    if (lineage.value.includes(grant.branchId)) held.add(grant.role);
  }
  return held;
};

export const mayIssueLoa3In = (tree: OrganisationTree, admin: IdAdmin, branchId: BranchId): boolean => {
  const held = grantsIn(tree, admin, branchId);
  return LOA3_ISSUING_ROLES.some((role) => held.has(role));
};

export const holdsKurIn = (tree: OrganisationTree, admin: IdAdmin, branchId: BranchId): boolean =>
  grantsIn(tree, admin, branchId).has('KUR');
