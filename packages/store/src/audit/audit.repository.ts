import { createHash } from 'node:crypto';
import type { Instant } from '@reservkort/domain';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { dialectOf } from '../dialect.js';
import type { AuditLogTable } from './audit.table.js';
import { canonicalJson } from './canonical-json.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

// "reskaudt" in ASCII: the key of the advisory lock that serialises appenders on PostgreSQL.
const AUDIT_LOCK_KEY = 0x7265736b61756474n;
const VERIFY_PAGE_SIZE = 1000;

export interface NewAuditEntry {
  readonly at: Instant;
  /** Who acted: a HSA-id, or a name such as 'system'. */
  readonly actor: string;
  readonly action: string;
  /** What was acted on: an order id, a serial, a HSA-id… */
  readonly subject: string;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface AuditEntry extends NewAuditEntry {
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

export type AuditProblem = 'hash-mismatch' | 'broken-link' | 'missing-entry';

export type AuditVerification =
  | { readonly ok: true; readonly entries: number }
  | { readonly ok: false; readonly firstBadSeq: number; readonly problem: AuditProblem };

/** SHA-256 (hex) over the previous hash followed by the canonical JSON of the entry. */
export const auditHash = (prevHash: string, entry: Omit<AuditEntry, 'prevHash' | 'hash'>): string => {
  const { seq, at, actor, action, subject, details } = entry;
  return createHash('sha256')
    .update(prevHash + canonicalJson({ seq, at, actor, action, subject, details }))
    .digest('hex');
};

const parseDetails = (text: string): Record<string, unknown> => {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError('Audit details are not a JSON object');
  }
  return value as Record<string, unknown>;
};

const toEntry = (row: Selectable<AuditLogTable>): AuditEntry => ({
  seq: row.seq,
  at: row.at,
  actor: row.actor,
  action: row.action,
  subject: row.subject,
  details: parseDetails(row.details),
  prevHash: row.prev_hash,
  hash: row.hash,
});

/**
 * Appends an entry to the hash chain and returns it as stored. Appenders are serialised (an
 * advisory lock on PostgreSQL, the write lock taken at BEGIN on SQLite) so that each reads the true
 * head. Runs in the caller's transaction if given one, so the entry commits with what it records.
 */
export async function appendAudit(db: Db, entry: NewAuditEntry): Promise<AuditEntry> {
  // Stored as canonical JSON and hashed as read back, so what verifyAudit re-reads hashes the same.
  const details = canonicalJson(entry.details);
  const append = async (trx: Kysely<Database>): Promise<AuditEntry> => {
    if (dialectOf(trx) === 'postgres') {
      await sql`select pg_advisory_xact_lock(${sql.lit(AUDIT_LOCK_KEY)})`.execute(trx);
    }
    const head = await trx
      .selectFrom('audit_log')
      .select(['seq', 'hash'])
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const unhashed = {
      seq: (head?.seq ?? 0) + 1,
      at: entry.at,
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject,
      details: parseDetails(details),
    };
    const prevHash = head?.hash ?? GENESIS_HASH;
    const stored: AuditEntry = { ...unhashed, prevHash, hash: auditHash(prevHash, unhashed) };
    await trx
      .insertInto('audit_log')
      .values({ ...unhashed, details, prev_hash: prevHash, hash: stored.hash })
      .execute();
    return stored;
  };
  return db.isTransaction ? append(db) : db.transaction().execute(append);
}

/**
 * Walks the chain in seq order and reports the first entry that is missing (a gap in seq), does not
 * link to its predecessor, or does not match its own hash. Truncation of the newest entries cannot
 * be seen from inside the chain; that needs the head hash kept elsewhere.
 */
export async function verifyAudit(
  db: Db,
  options: { readonly pageSize?: number } = {},
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? VERIFY_PAGE_SIZE;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (;;) {
    const rows = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '>=', expectedSeq)
      .orderBy('seq')
      .limit(pageSize)
      .execute();
    for (const row of rows) {
      if (row.seq !== expectedSeq) return { ok: false, firstBadSeq: expectedSeq, problem: 'missing-entry' };
      if (row.prev_hash !== prevHash) return { ok: false, firstBadSeq: row.seq, problem: 'broken-link' };
      if (!hashMatches(row)) return { ok: false, firstBadSeq: row.seq, problem: 'hash-mismatch' };
      prevHash = row.hash;
      expectedSeq += 1;
    }
    if (rows.length < pageSize) return { ok: true, entries: expectedSeq - 1 };
  }
}

const hashMatches = (row: Selectable<AuditLogTable>): boolean => {
  try {
    return auditHash(row.prev_hash, toEntry(row)) === row.hash;
  } catch {
    // Details that no longer parse as an object have been altered.
    return false;
  }
};

/** Entries in seq order after `afterSeq` (default: from the start). */
export async function listAudit(
  db: Db,
  query: { readonly afterSeq?: number; readonly limit: number },
): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '>', query.afterSeq ?? 0)
    .orderBy('seq')
    .limit(query.limit)
    .execute();
  return rows.map(toEntry);
}
