import { randomBytes } from 'node:crypto';
import { type Database, insertChallenge } from '@reservkort/store';
import type { Kysely } from 'kysely';

/**
 * Stores something for a card to sign (base64), usable once and for a limited time; the id comes
 * back with the signature. Login challenges, SIGNERA, KVITTERA KORT and order drafts all use it.
 */
export const issueChallenge = async (
  db: Kysely<Database>,
  toBeSigned: string,
  now: number,
  ttlMs: number,
): Promise<{ challengeId: string; toBeSigned: string }> => {
  const challengeId = randomBytes(16).toString('base64url');
  await insertChallenge(db, {
    id: challengeId,
    challenge: toBeSigned,
    createdAt: now,
    expiresAt: now + ttlMs,
  });
  return { challengeId, toBeSigned };
};

/** A JSON statement as the bytes a card signs. */
export const statement = (value: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify(value)).toString('base64');
