import type { Grant, HsaId, Instant, RoleGrant } from '@reservkort/domain';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { type Pending, pendingRows } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { translateWriteErrors } from '../store-error.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewAdmin {
  readonly hsaId: HsaId;
  readonly givenName: string;
  readonly surname: string;
  readonly createdAt: Instant;
}

/** An ID-administrator with their grants: usable directly as the domain's IdAdmin. */
export interface StoredAdmin extends NewAdmin {
  readonly grants: readonly RoleGrant[];
}

export async function insertAdmin(db: Db, admin: NewAdmin): Promise<void> {
  await translateWriteErrors(`Administrator ${admin.hsaId}`, () =>
    db
      .insertInto('admins')
      .values({
        hsa_id: admin.hsaId,
        given_name: admin.givenName,
        surname: admin.surname,
        created_at: admin.createdAt,
      })
      .execute(),
  );
}

/** Grants a role in a branch; granting one already held changes nothing and returns false. */
export async function grantRole(
  db: Db,
  grant: { readonly adminHsaId: HsaId; readonly role: Grant; readonly branchId: string },
): Promise<boolean> {
  const result = await translateWriteErrors(
    `Role ${grant.role} in ${grant.branchId} for ${grant.adminHsaId}`,
    () =>
      db
        .insertInto('role_grants')
        .values({ admin_hsa_id: grant.adminHsaId, role: grant.role, branch_id: grant.branchId })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst(),
  );
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** The administrator and their grants, in one query (a row per grant, one with no grant for none). */
const adminWithGrants = preparedQuery((db: Kysely<Database>, hsaId: HsaId) =>
  db
    .selectFrom('admins as a')
    .leftJoin('role_grants as g', 'g.admin_hsa_id', 'a.hsa_id')
    .select(['a.hsa_id', 'a.given_name', 'a.surname', 'a.created_at', 'g.role', 'g.branch_id'])
    .where('a.hsa_id', '=', hsaId)
    .orderBy('g.branch_id')
    .orderBy('g.role'),
);

type AdminWithGrantRow = Awaited<ReturnType<typeof adminWithGrants>>['rows'][number];

const adminOf = (rows: readonly AdminWithGrantRow[]): StoredAdmin | null => {
  const admin = rows[0];
  if (admin === undefined) return null;
  const grants: RoleGrant[] = [];
  for (const row of rows) {
    if (row.role !== null && row.branch_id !== null) grants.push({ role: row.role, branchId: row.branch_id });
  }
  return {
    hsaId: admin.hsa_id,
    givenName: admin.given_name,
    surname: admin.surname,
    createdAt: admin.created_at,
    grants,
  };
};

export async function getAdmin(db: Db, hsaId: HsaId): Promise<StoredAdmin | null> {
  return adminOf((await adminWithGrants(db, hsaId)).rows);
}

/** getAdmin, to be sent with other statements (see runPending). */
export const getAdminPending = (db: Db, hsaId: HsaId): Pending<StoredAdmin | null> =>
  pendingRows(adminWithGrants.compile(db, hsaId), adminOf);
