import {
  type BranchId,
  type HsaId,
  type Instant,
  type Person,
  type PersonalNumber,
  parsePersonalNumber,
} from '@reservkort/domain';
import type { CompiledQuery, Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { fromIntegerBoolean, toIntegerBoolean } from '../integer-boolean.js';
import { type StoredOrder, toOrder } from '../order/order.repository.js';
import type { OrdersTable } from '../order/order.table.js';
import { type Pending, pendingRows } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { translateWriteErrors } from '../store-error.js';
import type { PersonsTable } from './person.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The row type of a compiled query. */
type QueryRow<Q> = Q extends CompiledQuery<infer R> ? R : never;

/** A person as stored: the domain's person and when it was added. */
export interface StoredPerson extends Person {
  readonly createdAt: Instant;
}

// The 12-digit form carries its century, so "today" only bounds the birth date; any far date will do.
const FAR_FUTURE = { year: 9999, month: 12, day: 31 } as const;

const toPersonalNumber = (value: string): PersonalNumber => {
  const parsed = parsePersonalNumber(value, FAR_FUTURE);
  if (!parsed.ok) throw new Error(`Stored personal number is invalid (${parsed.error.code})`);
  return parsed.value.personalNumber;
};

const toPerson = (row: Selectable<PersonsTable>): StoredPerson => ({
  hsaId: row.hsa_id,
  personalNumber: row.personal_number === null ? null : toPersonalNumber(row.personal_number),
  givenName: row.given_name,
  surname: row.surname,
  branchId: row.branch_id,
  protectedIdentity: fromIntegerBoolean(row.protected_identity),
  // Left out when the directory has none, as for a person made in code: equal persons compare equal.
  ...(row.upn === null ? {} : { upn: row.upn }),
  ...(row.email === null ? {} : { email: row.email }),
  createdAt: row.created_at,
});

export async function insertPerson(db: Db, person: StoredPerson): Promise<void> {
  await translateWriteErrors(`Person ${person.hsaId}`, () =>
    db
      .insertInto('persons')
      .values({
        hsa_id: person.hsaId,
        personal_number: person.personalNumber?.value ?? null,
        given_name: person.givenName,
        surname: person.surname,
        branch_id: person.branchId,
        protected_identity: toIntegerBoolean(person.protectedIdentity),
        // Named only when the directory gives them, so a person without them writes what it always wrote.
        ...(person.upn === undefined ? {} : { upn: person.upn }),
        ...(person.email === undefined ? {} : { email: person.email }),
        created_at: person.createdAt,
      })
      .execute(),
  );
}

const personByHsaId = preparedQuery((db: Kysely<Database>, hsaId: HsaId) =>
  db.selectFrom('persons').selectAll().where('hsa_id', '=', hsaId),
);

const personOf = (rows: readonly Selectable<PersonsTable>[]): StoredPerson | null => {
  const row = rows[0];
  return row === undefined ? null : toPerson(row);
};

export async function getPersonByHsaId(db: Db, hsaId: HsaId): Promise<StoredPerson | null> {
  return personOf((await personByHsaId(db, hsaId)).rows);
}

/** getPersonByHsaId, to be sent with other statements (see runPending). */
export const getPersonByHsaIdPending = (db: Db, hsaId: HsaId): Pending<StoredPerson | null> =>
  pendingRows(personByHsaId.compile(db, hsaId), personOf);

/** The person with a 12-digit personal number; the first by HSA-id if several HSA-ids share it. */
export async function getPersonByPersonalNumber(db: Db, pnr12: string): Promise<StoredPerson | null> {
  const row = await db
    .selectFrom('persons')
    .selectAll()
    .where('personal_number', '=', pnr12)
    .orderBy('hsa_id')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? null : toPerson(row);
}

/** The persons registered directly in a branch (not below it), by name. */
export async function listPersonsInBranch(db: Db, branchId: BranchId): Promise<StoredPerson[]> {
  const rows = await db
    .selectFrom('persons')
    .selectAll()
    .where('branch_id', '=', branchId)
    .orderBy('surname')
    .orderBy('given_name')
    .orderBy('hsa_id')
    .execute();
  return rows.map(toPerson);
}

/** A person with their branch's name and their orders (newest first), as step 2 reads them. */
export interface PersonWithOrders {
  readonly person: StoredPerson;
  /** Null only if the branch is not stored. */
  readonly branchName: string | null;
  readonly orders: StoredOrder[];
}

/**
 * The person a search names, by HSA-id or by personal number (the first by HSA-id if several share
 * it), with their branch's name and orders, in one statement: each lookup is one round trip to the
 * database, by the primary key and the persons' and orders' indexes.
 */
const personWithOrdersQuery = (
  db: Db,
  key: { readonly hsaId: HsaId } | { readonly personalNumber: string },
) =>
  db
    .selectFrom('persons as p')
    .leftJoin('branches as b', 'b.id', 'p.branch_id')
    .leftJoin('orders as o', 'o.recipient_hsa_id', 'p.hsa_id')
    .selectAll('p')
    .select([
      'b.name as branch_name',
      'o.id as o_id',
      'o.recipient_hsa_id as o_recipient_hsa_id',
      'o.branch_id as o_branch_id',
      'o.protected_identity as o_protected_identity',
      'o.card_number as o_card_number',
      'o.not_before as o_not_before',
      'o.not_after as o_not_after',
      'o.id_document as o_id_document',
      'o.created_by as o_created_by',
      'o.created_at as o_created_at',
      'o.signed_by as o_signed_by',
      'o.signed_at as o_signed_at',
      'o.signature_level as o_signature_level',
      'o.signature_serial as o_signature_serial',
      'o.state as o_state',
      'o.state_changed_at as o_state_changed_at',
      'o.version as o_version',
    ])
    .where((eb) =>
      'hsaId' in key
        ? eb('p.hsa_id', '=', key.hsaId)
        : eb(
            'p.hsa_id',
            '=',
            eb
              .selectFrom('persons')
              .select('hsa_id')
              .where('personal_number', '=', key.personalNumber)
              .orderBy('hsa_id')
              .limit(1),
          ),
    )
    .orderBy('o.created_at', 'desc')
    .orderBy('o.id')
    .compile();

const personWithOrdersOf = (
  rows: readonly QueryRow<ReturnType<typeof personWithOrdersQuery>>[],
): PersonWithOrders | null => {
  const first = rows[0];
  if (first === undefined) return null;
  const orders: StoredOrder[] = [];
  for (const row of rows) {
    // A person without orders comes back as one row whose order columns are all null; in any other
    // row every order column is set (they are not null in the table).
    if (row.o_id === null) continue;
    orders.push(
      toOrder({
        id: row.o_id,
        recipient_hsa_id: row.o_recipient_hsa_id,
        branch_id: row.o_branch_id,
        protected_identity: row.o_protected_identity,
        card_number: row.o_card_number,
        not_before: row.o_not_before,
        not_after: row.o_not_after,
        id_document: row.o_id_document,
        created_by: row.o_created_by,
        created_at: row.o_created_at,
        signed_by: row.o_signed_by,
        signed_at: row.o_signed_at,
        signature_level: row.o_signature_level,
        signature_serial: row.o_signature_serial,
        state: row.o_state,
        state_changed_at: row.o_state_changed_at,
        version: row.o_version,
      } as Selectable<OrdersTable>),
    );
  }
  return { person: toPerson(first), branchName: first.branch_name, orders };
};

export async function findPersonWithOrders(
  db: Db,
  key: { readonly hsaId: HsaId } | { readonly personalNumber: string },
): Promise<PersonWithOrders | null> {
  return personWithOrdersOf((await db.executeQuery(personWithOrdersQuery(db, key))).rows);
}

/** findPersonWithOrders, to be sent with other statements (see runPending). */
export const findPersonWithOrdersPending = (
  db: Db,
  key: { readonly hsaId: HsaId } | { readonly personalNumber: string },
): Pending<PersonWithOrders | null> => pendingRows(personWithOrdersQuery(db, key), personWithOrdersOf);
