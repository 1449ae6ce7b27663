import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../database.js';
import type { Dialect } from '../dialect.js';
import { pendingAll, pendingRows, pendingValue } from '../pending.js';
import { T0 } from '../test-support/store-fixtures.js';
import { countingWrites, createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  type AuditEntry,
  appendAudit,
  appendAuditWith,
  auditHash,
  auditHead,
  compareWithCheckpoint,
  GENESIS_HASH,
  listAudit,
  verifyAudit,
} from './audit.repository.js';

const entry = (i: number) => ({
  at: T0 + i,
  actor: 'SE2321000016-adm1',
  action: 'order.registered',
  subject: `order-${i}`,
  details: { i, card: '9752278900000000011', nested: { b: 2, a: [1, 'x'] } },
});

const dropAppendOnlyTriggers = async (store: Store): Promise<void> => {
  if (store.dialect === 'postgres') {
    await sql`drop trigger audit_log_append_only on audit_log`.execute(store.db);
  } else {
    await sql`drop trigger audit_log_no_update`.execute(store.db);
    await sql`drop trigger audit_log_no_delete`.execute(store.db);
  }
};

/** Appends `count` entries at once; on PostgreSQL alternately through two pools on the database. */
const appendConcurrently = async (store: TestStore, dialect: Dialect, count: number): Promise<void> => {
  const other: Store = dialect === 'postgres' ? await openStore({ url: store.url }) : store;
  try {
    await Promise.all(
      Array.from({ length: count }, (_, i) => appendAudit((i % 2 === 0 ? store : other).db, entry(1000 + i))),
    );
  } finally {
    if (other !== store) await other.close();
  }
};

describe.each(DIALECTS)('audit log on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  it('verifies an empty log', async () => {
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: 0 });
  });

  it('chains appended entries from the genesis hash', async () => {
    const first = await appendAudit(store.db, entry(1));
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, ...entry(1) });
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.hash).toBe(auditHash(GENESIS_HASH, first));
    const second = await appendAudit(store.db, entry(2));
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash });
    expect(await listAudit(store.db, { limit: 10 })).toEqual([first, second]);
  });

  it('verifies 50 entries, across pages', async () => {
    for (let i = 3; i <= 50; i += 1) await appendAudit(store.db, entry(i));
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: 50 });
    expect(await verifyAudit(store.db, { pageSize: 7 })).toEqual({ ok: true, entries: 50 });
    expect(await verifyAudit(store.db, { pageSize: 50 })).toEqual({ ok: true, entries: 50 });
  });

  it('hashes text beyond ASCII, quotes and escapes as verification does', async () => {
    const odd = {
      at: T0 + 77,
      actor: 'Åsa Öberg',
      action: 'flow.note',
      subject: 'ärende "ett" \\ 🎫',
      details: { text: 'Överlämning – klar\n"citat"', emoji: '🎫', 'nyckel ä': [null, true, 1.5] },
    };
    // A log of its own: the other tests here count the entries of theirs.
    const own = await createTestStore(dialect);
    try {
      await appendAudit(own.db, entry(1));
      const stored = await appendAudit(own.db, odd);
      expect(stored.hash).toBe(auditHash(stored.prevHash, stored));
      expect((await listAudit(own.db, { afterSeq: 1, limit: 1 }))[0]).toEqual(stored);
      expect(await verifyAudit(own.db)).toEqual({ ok: true, entries: 2 });
    } finally {
      await own.dispose();
    }
  });

  it('keeps one chain under 20 concurrent appends', async () => {
    await appendConcurrently(store, dialect, 20);
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: 70 });
    const seqs = (await listAudit(store.db, { limit: 1000 })).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: 70 }, (_, i) => i + 1));
  });

  it('pages through the log after a seq', async () => {
    const page = await listAudit(store.db, { afterSeq: 68, limit: 10 });
    expect(page.map((e) => e.seq)).toEqual([69, 70]);
  });

  it('appends within the caller transaction, and not at all if it rolls back', async () => {
    await store.db
      .transaction()
      .execute(async (trx) => {
        await appendAudit(trx, entry(71));
        throw new Error('abort');
      })
      .catch(() => undefined);
    const committed = await store.db.transaction().execute((trx) => appendAudit(trx, entry(72)));
    expect(committed.seq).toBe(71);
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: 71 });
  });

  it('refuses UPDATE and DELETE', async () => {
    await expect(
      store.db.updateTable('audit_log').set({ actor: 'someone else' }).where('seq', '=', 1).execute(),
    ).rejects.toThrow(/append-only/);
    await expect(store.db.deleteFrom('audit_log').where('seq', '=', 1).execute()).rejects.toThrow(
      /append-only/,
    );
    if (dialect === 'postgres') {
      await expect(sql`truncate audit_log`.execute(store.db)).rejects.toThrow(/append-only/);
    }
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: 71 });
  });

  it('appends several entries in one transaction, one after another, while others append too', async () => {
    const before = await verifyAudit(store.db);
    if (!before.ok) throw new Error('chain broken before the test');
    const mine = store.db.transaction().execute(async (trx) => {
      const appended = [];
      for (let i = 0; i < 5; i++) appended.push(await appendAudit(trx, entry(3000 + i)));
      return appended;
    });
    const [own] = await Promise.all([mine, appendConcurrently(store, dialect, 6)]);
    expect(own.map((e) => e.seq - (own[0]?.seq ?? 0))).toEqual([0, 1, 2, 3, 4]);
    expect(own.slice(1).map((e) => e.prevHash)).toEqual(own.slice(0, -1).map((e) => e.hash));
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: before.entries + 11 });
  });
});

describe('audit log on postgres, two servers', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore('postgres');
  });
  afterAll(() => store?.dispose());

  it('holds the appenders’ lock from the head read to the commit, and reads the head committed before it', async () => {
    const other = await openStore({ url: store.url });
    const tryLock = () =>
      other.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{
          got: boolean;
        }>`select pg_try_advisory_xact_lock(${sql.lit(0x7265736b61756474n)}) as got`.execute(trx);
        return rows[0]?.got;
      });
    try {
      let release = (): void => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let appended: AuditEntry | undefined;
      const mine = store.db.transaction().execute(async (trx) => {
        appended = await appendAudit(trx, entry(4000));
        await released;
      });
      while (appended === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await tryLock()).toBe(false);
      // Waits for the lock (its head is read only once it has it), then chains onto the entry
      // committed meanwhile.
      const next = appendAudit(other.db, entry(4001));
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      await mine;
      expect((await next).prevHash).toBe(appended.hash);
      expect(await tryLock()).toBe(true);
    } finally {
      await other.close();
    }
    expect((await verifyAudit(store.db)).ok).toBe(true);
  });
});

describe.each(DIALECTS)('audit log tampering on %s', (dialect) => {
  let store: TestStore;
  let entries: AuditEntry[];
  beforeAll(async () => {
    store = await createTestStore(dialect);
    entries = [];
    for (let i = 1; i <= 12; i += 1) entries.push(await appendAudit(store.db, entry(i)));
    await dropAppendOnlyTriggers(store);
  });
  afterAll(() => store?.dispose());

  const setDetails = (seq: number, details: string) =>
    store.db.updateTable('audit_log').set({ details }).where('seq', '=', seq).execute();

  it('reports changed details as a hash mismatch at that entry', async () => {
    const original = entries[6];
    expect(original?.seq).toBe(7);
    await setDetails(7, JSON.stringify({ ...original?.details, i: 700 }));
    expect(await verifyAudit(store.db, { pageSize: 5 })).toEqual({
      ok: false,
      firstBadSeq: 7,
      problem: 'hash-mismatch',
    });
    await setDetails(7, 'not json');
    expect(await verifyAudit(store.db)).toEqual({ ok: false, firstBadSeq: 7, problem: 'hash-mismatch' });
    // Same content with keys in another order is not tampering.
    await setDetails(7, JSON.stringify({ nested: { a: [1, 'x'], b: 2 }, i: 7, card: '9752278900000000011' }));
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: 12 });
  });

  it('reports a rehashed entry as a broken link at the next one', async () => {
    const forged = { ...entry(4), seq: 4, details: { forged: true } };
    const hash = auditHash(entries[2]?.hash ?? '', forged);
    await store.db
      .updateTable('audit_log')
      .set({ details: JSON.stringify(forged.details), hash })
      .where('seq', '=', 4)
      .execute();
    expect(await verifyAudit(store.db)).toEqual({ ok: false, firstBadSeq: 5, problem: 'broken-link' });
  });

  it('reports a deleted entry as missing, before any later problem', async () => {
    await store.db.deleteFrom('audit_log').where('seq', '=', 3).execute();
    expect(await verifyAudit(store.db, { pageSize: 3 })).toEqual({
      ok: false,
      firstBadSeq: 3,
      problem: 'missing-entry',
    });
    await store.db.deleteFrom('audit_log').where('seq', '=', 1).execute();
    expect(await verifyAudit(store.db)).toEqual({ ok: false, firstBadSeq: 1, problem: 'missing-entry' });
  });
});

describe.each(DIALECTS)('audit log against a checkpoint on %s', (dialect) => {
  let store: TestStore;
  let entries: AuditEntry[];
  beforeAll(async () => {
    store = await createTestStore(dialect);
    entries = [];
    for (let i = 1; i <= 10; i += 1) entries.push(await appendAudit(store.db, entry(i)));
    await dropAppendOnlyTriggers(store);
  });
  afterAll(() => store?.dispose());

  const at = (seq: number) => ({ size: seq, hash: entries[seq - 1]?.hash ?? '' });

  it('reads the head, and the genesis for an empty log', async () => {
    expect(await auditHead(store.db)).toEqual(at(10));
    const empty = await createTestStore(dialect);
    try {
      expect(await auditHead(empty.db)).toEqual({ size: 0, hash: GENESIS_HASH });
      expect(await compareWithCheckpoint(empty.db, { size: 0, hash: GENESIS_HASH })).toEqual({ ok: true });
      expect(await compareWithCheckpoint(empty.db, at(2))).toMatchObject({ problem: 'truncated', seq: 1 });
    } finally {
      await empty.dispose();
    }
  });

  it('agrees with every earlier head, and walks on from one', async () => {
    for (const seq of [1, 5, 10])
      expect(await compareWithCheckpoint(store.db, at(seq))).toEqual({ ok: true });
    expect(await verifyAudit(store.db, { after: at(6), pageSize: 2 })).toEqual({ ok: true, entries: 10 });
    expect(await verifyAudit(store.db, { after: at(10) })).toEqual({ ok: true, entries: 10 });
  });

  it('finds a rewrite with every later hash recomputed, which the chain alone cannot', async () => {
    // Entry 4 rewritten and the chain rebuilt from there: internally consistent again.
    let prevHash = entries[2]?.hash ?? '';
    for (const original of entries.slice(3)) {
      const forged = { ...original, details: original.seq === 4 ? { forged: true } : original.details };
      const hash = auditHash(prevHash, forged);
      await store.db
        .updateTable('audit_log')
        .set({ details: JSON.stringify(forged.details), prev_hash: prevHash, hash })
        .where('seq', '=', original.seq)
        .execute();
      prevHash = hash;
    }
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: 10 });
    expect(await compareWithCheckpoint(store.db, at(3))).toEqual({ ok: true });
    expect(await compareWithCheckpoint(store.db, at(8))).toEqual({
      ok: false,
      problem: 'rewritten',
      seq: 8,
      expectedHash: entries[7]?.hash,
      foundHash: (await listAudit(store.db, { afterSeq: 7, limit: 1 }))[0]?.hash,
    });
  });

  it('finds the newest entries deleted, and a hole at the checkpoint', async () => {
    await store.db.deleteFrom('audit_log').where('seq', '>', 7).execute();
    expect(await verifyAudit(store.db)).toEqual({ ok: true, entries: 7 });
    expect(await compareWithCheckpoint(store.db, at(10))).toEqual({
      ok: false,
      problem: 'truncated',
      seq: 8,
      entries: 7,
      expectedHash: entries[9]?.hash,
    });
    await store.db.deleteFrom('audit_log').where('seq', '=', 2).execute();
    expect(await compareWithCheckpoint(store.db, at(2))).toEqual({
      ok: false,
      problem: 'missing-entry',
      seq: 2,
      expectedHash: entries[1]?.hash,
    });
  });
});

describe.each(DIALECTS)('audit entries with statements ahead of them on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  it('appends with statements sent ahead of the entry; an answer that refuses leaves the caller to roll back', async () => {
    const head = (trx: Parameters<typeof appendAudit>[0]) =>
      pendingRows(
        sql<{ seq: number }>`select coalesce(max(seq), 0) as seq from audit_log`.compile(trx),
        (rows) => Number(rows[0]?.seq ?? 0),
      );
    const before = await auditHead(store.db);
    const appended = await store.db
      .transaction()
      .execute((trx) => appendAuditWith(trx, entry(81), pendingAll(head(trx), pendingValue('known'))));
    // The statements ran first: they saw the log without the entry.
    expect(appended.before).toEqual([before.size, 'known']);
    expect(appended.entry.seq).toBe(before.size + 1);
    const refusing = store.db.transaction().execute(async (trx) =>
      appendAuditWith(trx, entry(82), {
        ...head(trx),
        answer: () => {
          throw new Error('refused');
        },
      }),
    );
    await expect(refusing).rejects.toThrow('refused');
    expect(await auditHead(store.db)).toMatchObject({ size: before.size + 1 });
    expect(await verifyAudit(store.db)).toMatchObject({ ok: true });
  });

  it.runIf(dialect === 'postgres')('appends with the statements ahead of it in one write', async () => {
    await countingWrites(store.url, async (db, writes) => {
      const append = (i: number) =>
        db.transaction().execute((trx) =>
          appendAuditWith(
            trx,
            entry(90 + i),
            pendingRows(sql`select 1 as one`.compile(trx), (rows) => rows.length),
          ),
        );
      await append(1);
      await append(2);
      const start = writes();
      await append(3);
      // BEGIN, the statement and the entry; then the COMMIT.
      expect(writes() - start).toBe(2);
    });
  });
});
