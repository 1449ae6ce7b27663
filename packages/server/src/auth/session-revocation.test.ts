// Revoking an administrator's login certificate with `reservkort cert revoke`, run as its own process
// on the data folder, ends every session bound to that certificate on every server: the next request
// is refused, and each server's revocation watcher marks the sessions ended within its poll interval
// even if they are never used again. SQLite: one server on the folder's database file; PostgreSQL:
// two servers (each with its own connections, CA and watcher) on one database.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CertificateAuthority, DEFAULT_CA_SETTINGS } from '@reservkort/pki';
import type { Database, Store } from '@reservkort/store';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, DIALECTS, type TestStore } from '../../../store/src/test-support/test-stores.js';
import {
  type CaSettingsFile,
  openDataStore,
  openKeyStore,
  systemClock,
  writeCaSettings,
} from '../cli/ca-context.js';
import { dataFolder } from '../config/data-folder.js';
import { type RunningServer, startServer } from '../server.js';
import {
  BIN,
  childEnv,
  provisionAdminCard,
  RECIPIENTS,
  seedDirectory,
} from '../test-support/durable-fixture.js';
import {
  DurablePage,
  type Endpoint,
  httpEndpoint,
  openWorkstation,
  type Workstation,
} from '../test-support/durable-page.js';
import { ADMIN2, ADMIN2_CARD } from '../test-support/issuance-harness.js';

const run = promisify(execFile);
/** The revocation watcher polls every 200 ms; this leaves room for a busy machine. */
const NOTICE_MS = 2000;

describe.each(DIALECTS)('revoking a login certificate with the CLI, on %s', (dialect) => {
  let dir = '';
  let root = '';
  let database: TestStore | null = null;
  let store: Store | null = null;
  let databaseUrl: string | undefined;
  const servers: RunningServer[] = [];
  let endpoints: Endpoint[] = [];
  let ws: Workstation | null = null;
  const db = (): Kysely<Database> => {
    if (store === null) throw new Error('no store');
    return store.db;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-revoke-'));
    const folder = dataFolder(join(dir, 'data'));
    root = folder.root;
    if (dialect === 'postgres') {
      database = await createTestStore('postgres');
      databaseUrl = database.url;
      store = database;
    } else {
      store = await openDataStore(folder);
    }
    // The data folder as `reservkort ca init` leaves it: keys, passphrase, ca.json, the CA's rows.
    const file: CaSettingsFile = {
      keyStore: { kind: 'file' },
      keySpec: 'ecdsa-p256',
      settings: { ...DEFAULT_CA_SETTINGS, baseUrl: 'http://127.0.0.1:9' },
    };
    const { keyStore } = await openKeyStore(folder, file.keyStore, true);
    const ca = await CertificateAuthority.initialise(
      { db: db(), keyStore, clock: systemClock, settings: file.settings },
      { keySpec: file.keySpec },
    );
    await writeCaSettings(folder, file);
    try {
      await seedDirectory(db(), ca, [RECIPIENTS.anna]);
      ws = await openWorkstation({ db: db(), ca });
      await provisionAdminCard(ws, ca, ADMIN2);
    } finally {
      await ca.close();
    }
    // Everything this process writes is written: from here on it only reads, so a SQLite server in
    // the same process never waits for this connection's write lock.
    const count = dialect === 'postgres' ? 2 : 1;
    for (let i = 0; i < count; i++) {
      servers.push(
        await startServer({
          data: root,
          port: 0,
          host: '127.0.0.1',
          training: false,
          agentPort: 0,
          webRoot: null,
          ...(databaseUrl ? { databaseUrl } : {}),
        }),
      );
    }
    endpoints = servers.map((server, i) => httpEndpoint(`server-${i + 1}`, server.url));
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
    await ws?.close();
    if (database !== null) await database.dispose();
    else await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const sessionsOfAdmin = () =>
    db()
      .selectFrom('sessions')
      .select(['id', 'certificate_serial', 'ended_at'])
      .where('admin_hsa_id', '=', ADMIN2)
      .orderBy('created_at')
      .execute();

  it('refuses the old session at once on every server, and every server ends all its sessions', async () => {
    if (ws === null) throw new Error('no workstation');
    // Two sessions with the same card: the one in use, and one left open in another browser.
    const used = new DurablePage(ws, endpoints);
    expect((await used.login(ADMIN2_CARD)).status).toBe(200);
    await ws.cards.removeCard('reader-1');
    const idle = new DurablePage(ws, [endpoints.at(-1) as Endpoint]);
    expect((await idle.login(ADMIN2_CARD)).status).toBe(200);
    for (const _ of endpoints) {
      expect((await used.api('GET', '/api/auth/me')).status).toBe(200);
      expect((await used.start()).status).toBe(200);
    }
    const flowId = used.flowId;
    const sessions = await sessionsOfAdmin();
    expect(sessions).toHaveLength(2);
    const serial = sessions[0]?.certificate_serial ?? '';
    expect(sessions.map((s) => s.certificate_serial)).toEqual([serial, serial]);

    const revoked = await run(
      process.execPath,
      [BIN, '--data', root, 'cert', 'revoke', serial, '--reason', 'keyCompromise'],
      { env: childEnv(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), timeout: 60_000 },
    );
    const revokedAt = Date.now();
    expect(revoked.stdout).toContain(`revoked ${serial}`);

    // Reads and new flows, on each server, right after the command returned.
    const refused = { status: 401, body: { code: 'LOGIN_CERTIFICATE_REVOKED' } };
    for (const endpoint of endpoints) {
      used.use(endpoint);
      expect(await used.api('GET', '/api/auth/me'), endpoint.name).toMatchObject(refused);
      expect(await used.api('GET', `/api/flows/${flowId}`), endpoint.name).toMatchObject(refused);
      expect(await used.start(), endpoint.name).toMatchObject(refused);
    }

    // The other session was never used again: the servers' watchers ended it all the same.
    let endedAt: number | null = null;
    while (endedAt === null && Date.now() - revokedAt < NOTICE_MS) {
      endedAt = (await sessionsOfAdmin())[1]?.ended_at ?? null;
      if (endedAt === null) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(endedAt, 'the idle session was not ended by a watcher').not.toBeNull();
    for (const endpoint of endpoints) {
      expect(await idle.use(endpoint).api('GET', '/api/auth/me'), endpoint.name).toMatchObject(refused);
    }
    // And the card logs in no more.
    await ws.cards.removeCard('reader-1');
    expect((await new DurablePage(ws, endpoints).login(ADMIN2_CARD)).body).toMatchObject({
      code: 'LOGIN_FAILED',
      details: { reason: 'revoked' },
    });
  });
});
