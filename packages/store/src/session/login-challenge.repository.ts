import type { Instant } from '@reservkort/domain';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { translateWriteErrors } from '../store-error.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewLoginChallenge {
  readonly id: string;
  /** Base64. */
  readonly challenge: string;
  readonly createdAt: Instant;
  readonly expiresAt: Instant;
}

export async function insertChallenge(db: Db, challenge: NewLoginChallenge): Promise<void> {
  await translateWriteErrors(`Login challenge ${challenge.id}`, () =>
    db
      .insertInto('login_challenges')
      .values({
        id: challenge.id,
        challenge: challenge.challenge,
        created_at: challenge.createdAt,
        expires_at: challenge.expiresAt,
      })
      .execute(),
  );
}

/**
 * The challenge, if it exists, is unused and has not expired; marks it used in the same statement,
 * so that of two concurrent logins with it only one gets it. Null otherwise.
 */
export async function consumeChallenge(db: Db, id: string, now: Instant): Promise<string | null> {
  const row = await db
    .updateTable('login_challenges')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('challenge')
    .executeTakeFirst();
  return row?.challenge ?? null;
}

/** Deletes the challenges used or expired by now; returns how many. */
export async function purgeChallenges(db: Db, now: Instant): Promise<number> {
  const result = await db
    .deleteFrom('login_challenges')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('used_at', 'is not', null)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
