// A real `reservkort serve` on PostgreSQL whose database connection is terminated while a request
// holds it: the request fails with 503, the process stays up, and the next request is served on a
// new connection.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backendsWaitingOnLock,
  createTestStore,
  type TestStore,
} from '../../store/src/test-support/test-stores.js';
import { systemClock } from './cli/ca-context.js';
import {
  initDataFolder,
  openFolderCa,
  type ServerProcess,
  startServerProcess,
} from './test-support/durable-fixture.js';

describe('a database connection lost in the middle of a request (PostgreSQL, real server process)', () => {
  let database: TestStore;
  let dir = '';
  let server: ServerProcess | undefined;
  let holder: pg.Client;
  let watcher: pg.Client;
  beforeAll(async () => {
    database = await createTestStore('postgres');
    dir = await mkdtemp(join(tmpdir(), 'reservkort-connection-loss-'));
    const folder = await initDataFolder(join(dir, 'data'), database.url);
    const ca = await openFolderCa(folder, database.db, systemClock);
    await ca.close();
    server = await startServerProcess(folder.root, database.url);
    holder = new pg.Client({ connectionString: database.url });
    watcher = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await watcher.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await watcher?.end();
    const code = await server?.stop();
    if (code !== 0) process.stderr.write(`server exited ${code}:\n${server?.output()}\n`);
    await database?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('answers that request with 503 and goes on serving on a new connection', async () => {
    const url = server?.url ?? '';
    // Another session locks the table GET /health reads, so the server's query waits, holding its
    // connection, until that connection's backend is terminated.
    await holder.query('begin');
    await holder.query('lock table cas in access exclusive mode');
    const answer = fetch(`${url}/health`);
    // Read outside the holder's transaction, where the activity view would be a snapshot.
    const pids = await backendsWaitingOnLock(watcher, 'select "id" from "cas"');
    expect(pids).toHaveLength(1);
    await watcher.query('select pg_terminate_backend($1)', [pids[0]]);
    const lost = await answer;
    expect(lost.status).toBe(503);
    await holder.query('rollback');
    const next = await fetch(`${url}/health`);
    expect(next.status).toBe(200);
    expect(await next.json()).toMatchObject({ status: 'ok' });
  });
});
