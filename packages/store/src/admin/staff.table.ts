import type { HsaId } from '@reservkort/domain';

/** Roles outside the ID-administration hierarchy, held organisation-wide. */
export const STAFF_ROLES = ['service-desk'] as const;

export type StaffRole = (typeof STAFF_ROLES)[number];

export interface StaffRolesTable {
  hsa_id: HsaId;
  role: StaffRole;
}
