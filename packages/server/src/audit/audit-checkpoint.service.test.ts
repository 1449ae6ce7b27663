// The server publishes a signed checkpoint at start-up and then at its interval, writes it to its
// file and serves it at GET /audit/checkpoint; a log that loses entries the last checkpoint covers
// gets no new one (the failure shows in the metrics, and at the next start as a warning).
// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from '@peculiar/x509';
import { type CheckpointReading, readCheckpoint } from '@reservkort/pki';
import { appendAudit, auditHead, getCa, openStore, type Store } from '@reservkort/store';
import { type KyselyPlugin, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, DIALECTS, type TestStore } from '../../../store/src/test-support/test-stores.js';
import { openCa, systemClock } from '../cli/ca-context.js';
import type { DataFolder } from '../config/data-folder.js';
import { type RunningServer, startServer } from '../server.js';
import { initDataFolder } from '../test-support/durable-fixture.js';
import { AuditCheckpointError, AuditCheckpointPublisher } from './audit-checkpoint.service.js';

const INTERVAL_MS = 150;

/** One more entry in the audit chain, as any audited action would add. */
const appendTestEntry = (store: Store, subject: string) =>
  appendAudit(store.db, { at: Date.now(), actor: 'test', action: 'test.appended', subject, details: {} });

/** Polls until `check` gives a value, for at most a few seconds. */
const eventually = async <T>(check: () => Promise<T | null>, what: string): Promise<T> => {
  const until = Date.now() + 5000;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe.each(DIALECTS)(
  'periodic audit checkpoints of a running server on %s',
  { timeout: 60_000 },
  (dialect) => {
    let dir: string;
    let folder: DataFolder;
    let database: TestStore | undefined;
    let store: Store;
    let root: X509Certificate;
    let running: RunningServer | undefined;

    const start = () =>
      startServer({
        data: folder.root,
        port: 0,
        host: '127.0.0.1',
        training: false,
        agentPort: 0,
        webRoot: null,
        ...(database ? { databaseUrl: database.url } : {}),
        auditCheckpoints: { intervalMs: INTERVAL_MS },
        // The test reads the failure counter from /metrics.
        operations: { access: 'open' },
      });
    const inFile = async (): Promise<CheckpointReading & { pem: string }> => {
      const pem = await readFile(folder.auditCheckpoint, 'utf8');
      return { ...readCheckpoint(pem, root), pem };
    };
    const served = async () => {
      const response = await running?.app.inject({ method: 'GET', url: '/audit/checkpoint' });
      if (response === undefined) throw new Error('no server');
      return response;
    };
    const metric = async (name: string): Promise<number | null> => {
      const text = (await running?.app.inject({ method: 'GET', url: '/metrics' }))?.body ?? '';
      const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
      return value === undefined ? null : Number(value);
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'reservkort-checkpoints-'));
      if (dialect === 'postgres') database = await createTestStore('postgres', { migrate: false });
      folder = await initDataFolder(join(dir, 'data'), database?.url);
      store = await openStore({ url: database?.url ?? `sqlite:${folder.sqliteFile}` });
      root = new X509Certificate((await getCa(store.db, 'root'))?.certificatePem ?? '');
    });
    afterAll(async () => {
      await running?.close();
      await store?.close();
      await database?.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('publishes one at start-up: written to the data folder and served as written', async () => {
      running = await start();
      const file = await inFile();
      expect(file).toMatchObject({ ok: true, checkpoint: { size: (await auditHead(store.db)).size } });
      const response = await served();
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/x-pem-file');
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(readCheckpoint(response.body, root)).toMatchObject({ ok: true });
    });

    it('publishes again at its interval: new entries, and a fresh time when nothing changed', async () => {
      for (let i = 0; i < 3; i += 1) {
        await appendTestEntry(store, `${i}`);
      }
      const head = await auditHead(store.db);
      const caughtUp = await eventually(async () => {
        const file = await inFile();
        return file.ok && file.checkpoint.size === head.size ? file : null;
      }, 'a checkpoint of the new head');
      expect(caughtUp).toMatchObject({ checkpoint: { headHash: head.hash } });
      const later = await eventually(async () => {
        const file = await inFile();
        return file.ok && file.checkpoint.time > (caughtUp.ok ? caughtUp.checkpoint.time : 0) ? file : null;
      }, 'a newer checkpoint');
      expect(later).toMatchObject({ ok: true, checkpoint: { size: head.size } });
      const response = await served();
      expect(readCheckpoint(response.body, root)).toMatchObject({
        ok: true,
        checkpoint: { size: head.size },
      });
      expect(await metric('reservkort_audit_checkpoint_entries')).toBe(head.size);
      expect(await metric('reservkort_audit_checkpoint_failures')).toBe(0);
      expect(await metric('reservkort_audit_checkpoint_timestamp_seconds')).toBeGreaterThan(
        Date.now() / 1000 - 60,
      );
    });

    it('signs nothing over a log cut short, keeps serving the last good checkpoint, and says so at the next start', async () => {
      const before = await inFile();
      if (!before.ok) throw new Error(before.reason);
      if (dialect === 'postgres')
        await sql`drop trigger audit_log_append_only on audit_log`.execute(store.db);
      else await sql`drop trigger audit_log_no_delete`.execute(store.db);
      await store.db
        .deleteFrom('audit_log')
        .where('seq', '>', before.checkpoint.size - 2)
        .execute();
      await eventually(
        async () => ((await metric('reservkort_audit_checkpoint_failures')) ?? 0) >= 2 || null,
        'failed publications',
      );
      // (One publication may have been under way as the entries went: it signed the same head.)
      const response = await served();
      expect(readCheckpoint(response.body, root)).toMatchObject({
        ok: true,
        checkpoint: { size: before.checkpoint.size, headHash: before.checkpoint.headHash },
      });
      // The file the operator ships holds that last good checkpoint, not one over the shorter log.
      expect((await inFile()).pem).toBe(response.body);

      await running?.close();
      running = await start();
      expect(running.warnings).toEqual([
        `no audit checkpoint published: the audit log no longer holds entry ${before.checkpoint.size - 1} as the last checkpoint (${before.checkpoint.size} entries) recorded it: truncated`,
      ]);
      const refused = await served();
      expect(refused.statusCode).toBe(404);
      expect(JSON.parse(refused.body)).toMatchObject({
        code: 'AUDIT_CHECKPOINT_UNAVAILABLE',
        details: { reason: 'publishing failed' },
      });
    });
  },
);

/** Runs `act` once, after the `n`th query made through the database it is plugged into. */
const afterQuery = (n: number, act: () => Promise<void>): KyselyPlugin & { readonly ran: () => boolean } => {
  let seen = 0;
  return {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      seen += 1;
      if (seen === n) await act();
      return args.result;
    },
    ran: () => seen >= n,
  };
};

describe.each(DIALECTS)('a checkpoint made while the log is cut, on %s', { timeout: 60_000 }, (dialect) => {
  let dir: string;
  let database: TestStore | undefined;
  let store: Store;
  // The cut comes through a connection of its own, as another process's would.
  let other: Store;
  let root: X509Certificate;
  let publisher: (file: string, db?: Store['db']) => AuditCheckpointPublisher;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-checkpoint-race-'));
    if (dialect === 'postgres') database = await createTestStore('postgres', { migrate: false });
    const folder = await initDataFolder(join(dir, 'data'), database?.url);
    const url = database?.url ?? `sqlite:${folder.sqliteFile}`;
    store = await openStore({ url });
    other = await openStore({ url });
    const ca = await openCa(folder, store);
    root = ca.ca('root').certificate;
    publisher = (file, db = store.db) =>
      new AuditCheckpointPublisher(db, ca, systemClock, { file, intervalMs: 60_000 });
    if (dialect === 'postgres') await sql`drop trigger audit_log_append_only on audit_log`.execute(other.db);
    else await sql`drop trigger audit_log_no_delete`.execute(other.db);
  });
  afterAll(async () => {
    await other?.close();
    await store?.close();
    await database?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  // Whichever of the pass's reads the cut follows, no checkpoint is signed over the shorter log,
  // and the next pass refuses. (The comparison used to come first and the head was read after it:
  // a cut between the two was signed, and a running server then kept publishing over it.)
  it.each([1, 2, 3, 4])('after read %i: nothing is signed over the shorter log', async (n) => {
    await appendTestEntry(store, `${n}`);
    const file = join(dir, `checkpoint-${n}.pem`);
    const first = await publisher(file).publish();
    const size = first.checkpoint.size;
    const cut = afterQuery(n, async () => {
      await other.db.deleteFrom('audit_log').where('seq', '=', size).execute();
    });
    const racing = publisher(file, store.db.withPlugin(cut));
    const outcome = await racing.publish().then(
      (published) => published,
      (error: unknown) => error,
    );
    if (outcome instanceof AuditCheckpointError) {
      expect(outcome.code).toBe('AUDIT_LOG_TAMPERED');
    } else {
      // Cut after the walk: what was signed is the head the walk checked, still the whole log.
      expect(outcome).toMatchObject({ checkpoint: { size, headHash: first.checkpoint.headHash } });
    }
    if (!cut.ran()) await other.db.deleteFrom('audit_log').where('seq', '=', size).execute();
    // The file holds a checkpoint of the whole log, and the next pass names the truncation.
    const kept = readCheckpoint(await readFile(file, 'utf8'), root);
    expect(kept).toMatchObject({ ok: true, checkpoint: { size } });
    await expect(publisher(file).publish()).rejects.toMatchObject({
      code: 'AUDIT_LOG_TAMPERED',
      details: { problem: 'truncated', seq: size },
    });
  });
});
