import type { HsaId } from '@reservkort/domain';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { type Pending, pendingRows } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { translateWriteErrors } from '../store-error.js';
import type { StaffRole } from './staff.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Grants a staff role; granting one already held changes nothing and returns false. */
export async function grantStaffRole(
  db: Db,
  grant: { readonly hsaId: HsaId; readonly role: StaffRole },
): Promise<boolean> {
  const result = await translateWriteErrors(`Staff role ${grant.role} for ${grant.hsaId}`, () =>
    db
      .insertInto('staff_roles')
      .values({ hsa_id: grant.hsaId, role: grant.role })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst(),
  );
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

const staffRole = preparedQuery((db: Kysely<Database>, hsaId: HsaId, role: StaffRole) =>
  db.selectFrom('staff_roles').select('role').where('hsa_id', '=', hsaId).where('role', '=', role),
);

export async function hasStaffRole(db: Db, hsaId: HsaId, role: StaffRole): Promise<boolean> {
  return (await staffRole(db, hsaId, role)).rows.length > 0;
}

/** hasStaffRole, to be sent with other statements (see runPending). */
export const hasStaffRolePending = (db: Db, hsaId: HsaId, role: StaffRole): Pending<boolean> =>
  pendingRows(staffRole.compile(db, hsaId, role), (rows) => rows.length > 0);
