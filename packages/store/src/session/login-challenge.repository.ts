import type { Instant } from '@reservkort/domain';
import type { CompiledQuery, Kysely, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { type Pending, pendingRows } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { translateWriteErrors } from '../store-error.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewLoginChallenge {
  readonly id: string;
  /** Base64. */
  readonly challenge: string;
  readonly createdAt: Instant;
  readonly expiresAt: Instant;
}

const insertRow = preparedQuery(
  (db: Kysely<Database>, id: string, challenge: string, createdAt: Instant, expiresAt: Instant) =>
    db.insertInto('login_challenges').values({ id, challenge, created_at: createdAt, expires_at: expiresAt }),
);

/** insertChallenge as a statement to send with others (see runTogether); a taken id fails in SQL. */
export const insertChallengeQuery = (db: Db, challenge: NewLoginChallenge): CompiledQuery =>
  insertRow.compile(db, challenge.id, challenge.challenge, challenge.createdAt, challenge.expiresAt);

export async function insertChallenge(db: Db, challenge: NewLoginChallenge): Promise<void> {
  await translateWriteErrors(`Login challenge ${challenge.id}`, () =>
    insertRow(db, challenge.id, challenge.challenge, challenge.createdAt, challenge.expiresAt),
  );
}

/**
 * The challenge, if it exists, is unused and has not expired; marks it used in the same statement,
 * so that of two concurrent logins with it only one gets it. Null otherwise.
 */
const consumeRow = preparedQuery((db: Kysely<Database>, id: string, now: Instant) =>
  db
    .updateTable('login_challenges')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('challenge'),
);

const challengeOf = (rows: readonly { readonly challenge: string }[]): string | null =>
  rows[0]?.challenge ?? null;

export async function consumeChallenge(db: Db, id: string, now: Instant): Promise<string | null> {
  return challengeOf((await consumeRow(db, id, now)).rows);
}

/** consumeChallenge, to be sent with other statements (see runPending). */
export const consumeChallengePending = (db: Db, id: string, now: Instant): Pending<string | null> =>
  pendingRows(consumeRow.compile(db, id, now), challengeOf);

/**
 * Deletes at most `limit` challenges that expired by now and returns how many: one short statement
 * through the index on expires_at, so a purge never holds SQLite's single writer for long; call it
 * again while it returns `limit`. A used challenge goes when it expires (it cannot be used twice).
 */
export async function purgeChallenges(db: Db, now: Instant, limit = 1000): Promise<number> {
  const result = await db
    .deleteFrom('login_challenges')
    .where('id', 'in', (eb) =>
      eb.selectFrom('login_challenges').select('id').where('expires_at', '<=', now).limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** How many challenges are stored, used or not: what unauthenticated callers can make grow. */
export async function countChallenges(db: Db): Promise<number> {
  const row = await db
    .selectFrom('login_challenges')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
