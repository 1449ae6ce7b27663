import { randomBytes } from 'node:crypto';
import { type Database, insertChallenge, type NewLoginChallenge } from '@reservkort/store';
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
  const challenge = newChallenge(toBeSigned, now, ttlMs);
  await insertChallenge(db, challenge);
  return { challengeId: challenge.id, toBeSigned };
};

/** A challenge to store for `toBeSigned`, under a fresh random id, usable for `ttlMs`. */
export const newChallenge = (toBeSigned: string, now: number, ttlMs: number): NewLoginChallenge => ({
  id: randomBytes(16).toString('base64url'),
  challenge: toBeSigned,
  createdAt: now,
  expiresAt: now + ttlMs,
});

/** A JSON statement as the bytes a card signs. */
export const statement = (value: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify(value)).toString('base64');

/** The purposes a statement is made for; a login statement holds random bytes and the station nonce. */
export type StatementPurpose = 'login' | 'order' | 'acknowledge' | 'register-order' | 'acknowledge-extension';

/**
 * What a stored challenge says, if it is a statement of `purpose`: the bytes the card signed and
 * their fields. Null for a statement made for another purpose, so a challenge
 * sent where it does not belong is refused like an unknown one.
 */
export const readStatement = (
  challenge: string,
  purpose: StatementPurpose,
): { readonly data: Buffer; readonly fields: Readonly<Record<string, unknown>> } | null => {
  const data = Buffer.from(challenge, 'base64');
  let fields: unknown;
  try {
    fields = JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return null;
  const record = fields as Record<string, unknown>;
  return record.purpose === purpose ? { data, fields: record } : null;
};
