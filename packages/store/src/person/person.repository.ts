import {
  type BranchId,
  type HsaId,
  type Instant,
  type Person,
  type PersonalNumber,
  parsePersonalNumber,
} from '@reservkort/domain';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { fromIntegerBoolean, toIntegerBoolean } from '../integer-boolean.js';
import { translateWriteErrors } from '../store-error.js';
import type { PersonsTable } from './person.table.js';

type Db = Kysely<Database> | Transaction<Database>;

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

export async function getPersonByHsaId(db: Db, hsaId: HsaId): Promise<StoredPerson | null> {
  const row = await db.selectFrom('persons').selectAll().where('hsa_id', '=', hsaId).executeTakeFirst();
  return row === undefined ? null : toPerson(row);
}

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
