import { createHash } from 'node:crypto';
import type { Instant } from '@reservkort/domain';
import { type CompiledQuery, type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { dialectOf } from '../dialect.js';
import { type Pending, runPending } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { runTogether } from '../run-together.js';
import type { AuditLogTable } from './audit.table.js';
import { canonicalJson } from './canonical-json.js';

type Db = Kysely<Database> | Transaction<Database>;

/** The prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

// "reskaudt" in ASCII (0x7265736b61756474) is the key of the advisory lock that serialises
// appenders on PostgreSQL: taken by the function audit_head_locked, which reads the head under it.
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

/** The chain as a checkpoint records it: its length and the hash of its last entry. */
export interface AuditHead {
  readonly size: number;
  readonly hash: string;
}

/**
 * The database's chain against a checkpoint. `truncated`: the log ends before the checkpoint's last
 * entry (`seq` is the first missing one, `entries` the log's length now). `missing-entry`: that
 * entry alone is gone. `rewritten`: the entry at the checkpoint's position has another hash, so it
 * or an entry before it was changed, whatever the later links say.
 */
export type CheckpointComparison =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly problem: 'truncated';
      readonly seq: number;
      readonly entries: number;
      readonly expectedHash: string;
    }
  | {
      readonly ok: false;
      readonly problem: 'missing-entry';
      readonly seq: number;
      readonly expectedHash: string;
    }
  | {
      readonly ok: false;
      readonly problem: 'rewritten';
      readonly seq: number;
      readonly expectedHash: string;
      readonly foundHash: string;
    };

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
 * The head each open transaction last appended: it holds the appenders' lock to its commit, so
 * nobody else can have moved the head, and a second entry needs neither the lock nor the read.
 */
const headsOfTransactions = new WeakMap<object, { readonly seq: number; readonly hash: string }>();

// An append is part of nearly every request: its statements are built and compiled once.
const chainHead = preparedQuery((db: Kysely<Database>) =>
  db.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1),
);

const insertEntry = preparedQuery(
  (
    db: Kysely<Database>,
    seq: number,
    at: Instant,
    actor: string,
    action: string,
    subject: string,
    details: string,
    prevHash: string,
    hash: string,
  ) =>
    db
      .insertInto('audit_log')
      .values({ seq, at, actor, action, subject, details, prev_hash: prevHash, hash }),
);

/**
 * Appends an entry to the hash chain and returns it as stored. Appenders are serialised (an
 * advisory lock on PostgreSQL, the write lock taken at BEGIN on SQLite) so that each reads the true
 * head. Runs in the caller's transaction if given one, so the entry commits with what it records.
 */
export async function appendAudit(db: Db, entry: NewAuditEntry): Promise<AuditEntry> {
  // Stored as canonical JSON and hashed as read back, so what verifyAudit re-reads hashes the same.
  const details = canonicalJson(entry.details);
  const append = async (trx: Kysely<Database>): Promise<AuditEntry> => {
    let head = headsOfTransactions.get(trx);
    if (head === undefined && dialectOf(trx) === 'postgres') {
      return appendUnderLock(trx, entry, details);
    }
    if (head === undefined) {
      head = (await chainHead(trx)).rows[0];
    }
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
    await insertEntry(
      trx,
      unhashed.seq,
      entry.at,
      entry.actor,
      entry.action,
      entry.subject,
      details,
      prevHash,
      stored.hash,
    );
    headsOfTransactions.set(trx, { seq: stored.seq, hash: stored.hash });
    return stored;
  };
  return db.isTransaction ? append(db) : db.transaction().execute(append);
}

const appendLocked = preparedQuery(
  (
    _db: Kysely<Database>,
    at: Instant,
    actor: string,
    action: string,
    subject: string,
    details: string,
    before: string,
    rest: string,
  ) => sql<{ seq: number; prev_hash: string; hash: string }>`
    insert into audit_log (seq, at, actor, action, subject, details, prev_hash, hash)
    select n.seq, ${at}::bigint, ${actor}::text, ${action}::text, ${subject}::text,
      ${details}::text, n.prev_hash,
      encode(sha256(convert_to(n.prev_hash || ${before}::text || '"seq":' || n.seq::text || ${rest}::text, 'UTF8')), 'hex')
    from (
      select coalesce(h.head_seq, 0) + 1 as seq, coalesce(h.head_hash, ${GENESIS_HASH}::text) as prev_hash
      from (select 1) as one left join audit_head_locked() as h on true
    ) as n
    returning seq, prev_hash, hash`,
);

/**
 * The first append of a transaction on PostgreSQL, in one round trip: the appenders' lock and the
 * head (audit_head_locked, see its migration), the insert, and the hash, which needs the head.
 * The hashed text is the canonical JSON of the entry; its keys are sorted, so the seq comes just
 * before the subject, and the text is sent as the two parts around the seq's digits. The hash the
 * database computed is checked against this module's own before the entry counts as appended.
 */
async function appendUnderLock(
  trx: Kysely<Database>,
  entry: NewAuditEntry,
  details: string,
): Promise<AuditEntry> {
  const append = lockedAppend(trx, entry, details);
  return append.accept((await trx.executeQuery(append.query)).rows);
}

/** A first append of a transaction on PostgreSQL: its statement, and what makes its answer the entry. */
interface LockedAppend {
  readonly query: CompiledQuery<{ seq: number; prev_hash: string; hash: string }>;
  /** The entry as stored, once its hash is checked; throws (rolling the transaction back) if wrong. */
  accept(rows: readonly { seq: number; prev_hash: string; hash: string }[]): AuditEntry;
}

const lockedAppend = (trx: Kysely<Database>, entry: NewAuditEntry, details: string): LockedAppend => {
  const parsed = parseDetails(details);
  const fields = { at: entry.at, actor: entry.actor, action: entry.action, subject: entry.subject };
  const text = canonicalJson({ ...fields, seq: 0, details: parsed });
  const after = `"seq":0,"subject":${JSON.stringify(entry.subject)}}`;
  if (!text.endsWith(after)) throw new Error('The canonical form of an audit entry is not as expected');
  const before = text.slice(0, -after.length);
  const rest = after.slice('"seq":0'.length);
  const query = appendLocked.compile(
    trx,
    entry.at,
    entry.actor,
    entry.action,
    entry.subject,
    details,
    before,
    rest,
  );
  const accept = (rows: readonly { seq: number; prev_hash: string; hash: string }[]): AuditEntry => {
    const row = rows[0];
    if (row === undefined) throw new Error('The audit entry was not stored');
    const stored: AuditEntry = {
      ...fields,
      seq: Number(row.seq),
      details: parsed,
      prevHash: row.prev_hash,
      hash: row.hash,
    };
    // Throwing rolls the transaction back: an entry whose hash this module would not give is never kept.
    if (auditHash(stored.prevHash, stored) !== stored.hash)
      throw new Error('The audit entry was hashed differently');
    headsOfTransactions.set(trx, { seq: stored.seq, hash: stored.hash });
    return stored;
  };
  return { query, accept };
};

/** Text in every UTF-8 length, and a lone surrogate, which both sides send as U+FFFD. */
const HASHING_SAMPLE = canonicalJson({ name: 'Åsa Öberg-Ünal', note: 'ß € 𝄞 \ud800 "x"\n', seq: 1 });

/**
 * Whether PostgreSQL hashes an entry's text as this module does: an append run together with other
 * statements hashes in the database (see appendLocked), and the flow's last writes commit before
 * the server sees that hash. The same text gives the same bytes and hash on both sides, whatever the text,
 * unless the database converts text on the way (its encoding): checked once, when the store opens.
 */
export const databaseHashesAsWeDo = async (db: Kysely<Database>): Promise<boolean> => {
  try {
    const { rows } = await sql<{ hash: string }>`
      select encode(sha256(convert_to(${HASHING_SAMPLE}::text, 'UTF8')), 'hex') as hash`.execute(db);
    return rows[0]?.hash === createHash('sha256').update(HASHING_SAMPLE).digest('hex');
  } catch (error) {
    // Class 22, data exception: the database cannot hold the text (its encoding lacks a character).
    if (String((error as { code?: unknown }).code).startsWith('22')) return false;
    throw error;
  }
};

/**
 * The statement that appends `entry` in transaction `trx` on PostgreSQL, to be run together with
 * others (see runTogether): it reads the head in the database, under the appenders' lock, which a
 * transaction that appended before holds already (advisory locks are re-entrant), and its own
 * entries are the head it reads. Several run together append in the order they are sent; each is
 * accepted in that order. Null on SQLite, where the caller appends with appendAudit after the rest.
 */
export const auditAppendToRunTogether = (
  trx: Transaction<Database>,
  entry: NewAuditEntry,
): LockedAppend | null =>
  dialectOf<Database>(trx) !== 'postgres' ? null : lockedAppend(trx, entry, canonicalJson(entry.details));

/**
 * appendAudit in transaction `trx`, with `before` (what the entry's change still writes or reads,
 * none of it built from another's answer) sent ahead of it: one round trip on PostgreSQL. The
 * answer of `before` is made first; when it throws, the entry was written as well, and the caller
 * rolls the transaction back (as it does for any refusal).
 */
export async function appendAuditWith<T>(
  trx: Transaction<Database>,
  entry: NewAuditEntry,
  before: Pending<T>,
): Promise<{ readonly before: T; readonly entry: AuditEntry }> {
  const append = auditAppendToRunTogether(trx, entry);
  if (append === null || before.queries.length === 0) {
    const value = await runPending(trx, before);
    return { before: value, entry: await appendAudit(trx, entry) };
  }
  const results = await runTogether(trx, [...before.queries, append.query]);
  const value = before.answer(results.slice(0, before.queries.length));
  return {
    before: value,
    entry: append.accept((results.at(-1)?.rows ?? []) as Parameters<typeof append.accept>[0]),
  };
}

/**
 * Walks the chain in seq order and reports the first entry that is missing (a gap in seq), does not
 * link to its predecessor, or does not match its own hash. Truncation of the newest entries, or a
 * rewrite with every later hash recomputed, cannot be seen from inside the chain: that needs the
 * head kept elsewhere (a signed checkpoint, see compareWithCheckpoint). With `after`, a head already
 * checked against such a checkpoint, the walk starts after it instead of at the genesis.
 */
export async function verifyAudit(
  db: Db,
  options: { readonly pageSize?: number; readonly after?: AuditHead } = {},
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? VERIFY_PAGE_SIZE;
  let expectedSeq = (options.after?.size ?? 0) + 1;
  let prevHash = options.after?.hash ?? GENESIS_HASH;
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

/** The chain's length and last hash as committed now ({0, GENESIS_HASH} for an empty log). */
export async function auditHead(db: Db): Promise<AuditHead> {
  const head = await db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return head === undefined ? { size: 0, hash: GENESIS_HASH } : { size: head.seq, hash: head.hash };
}

/**
 * Whether the chain still holds the entry a checkpoint ends at, with the hash it had. Later entries
 * are not looked at: appends after a checkpoint are expected.
 */
export async function compareWithCheckpoint(db: Db, checkpoint: AuditHead): Promise<CheckpointComparison> {
  if (checkpoint.size === 0) return { ok: true };
  const row = await db
    .selectFrom('audit_log')
    .select('hash')
    .where('seq', '=', checkpoint.size)
    .executeTakeFirst();
  if (row === undefined) {
    const { size } = await auditHead(db);
    return size < checkpoint.size
      ? { ok: false, problem: 'truncated', seq: size + 1, entries: size, expectedHash: checkpoint.hash }
      : { ok: false, problem: 'missing-entry', seq: checkpoint.size, expectedHash: checkpoint.hash };
  }
  if (row.hash !== checkpoint.hash) {
    return {
      ok: false,
      problem: 'rewritten',
      seq: checkpoint.size,
      expectedHash: checkpoint.hash,
      foundHash: row.hash,
    };
  }
  return { ok: true };
}
