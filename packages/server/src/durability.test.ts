// Acceptance: kill the server (SIGKILL) during the step-7 countdown, start it after the deadline:
// the certificates are revoked at start-up and the flow shows ACK_TIMEOUT.
//
// The flow is driven in this process on the same data folder with a short window (the deadline is
// stored in the flow row), so the test controls exactly when it passes; meanwhile a real server
// process runs on that folder, serves the flow in its countdown, and is killed. A second process, started after the
// deadline, must end the flow before it answers its first request.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FLOW_CONFIG, type FlowConfig } from '@reservkort/domain';
import { type CertificateAuthority, OcspResponder } from '@reservkort/pki';
import { certificateStatus, getFlow, getOrder, openStore, type Store } from '@reservkort/store';
import { afterEach, describe, expect, it } from 'vitest';
import { openssl } from '../../pki/src/test-support/test-ca.js';
import { buildApp } from './app.js';
import { DEFAULT_SESSION_SETTINGS } from './auth/session.js';
import { systemClock } from './cli/ca-context.js';
import type { DataFolder } from './config/data-folder.js';
import type { ServerContext } from './server-context.js';
import { createServices } from './services.js';
import {
  addReserveCard,
  initDataFolder,
  openFolderCa,
  provisionAdminCard,
  RECIPIENTS,
  type ServerProcess,
  seedDirectory,
  startServerProcess,
} from './test-support/durable-fixture.js';
import {
  DurablePage,
  httpEndpoint,
  injectEndpoint,
  openWorkstation,
  type Workstation,
} from './test-support/durable-page.js';
import { certificatePem, walkToStep7 } from './test-support/durable-walk.js';
import { ADMIN2, ADMIN2_CARD } from './test-support/issuance-harness.js';

const ACK_WINDOW_MS = 5000;
const anna = RECIPIENTS.anna;
const control = (view: any, id: string) => view.controls.find((c: { id: string }) => c.id === id);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const normalised = (serial: string) => serial.toLowerCase().replace(/^0+(?=.)/, '');
const timelineOf = (state: unknown) => (state as { timeline?: { codes: string[] }[] }).timeline ?? [];

interface Prepared {
  readonly dir: string;
  readonly folder: DataFolder;
  readonly sqliteUrl: string;
  readonly store: Store;
  readonly ca: CertificateAuthority;
  readonly ws: Workstation;
  readonly files: { readonly root: string; readonly loa3: string };
}

describe('durability of the step-7 countdown across a crash (SQLite data folder)', () => {
  const processes: ServerProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const p of processes.splice(0)) await p.kill();
    for (const clean of cleanups.splice(0).reverse()) await clean().catch(() => undefined);
  });

  /** A data folder made by `reservkort ca init`, with the directory, Anna's order and the cards. */
  const prepare = async (): Promise<Prepared> => {
    const dir = await mkdtemp(join(tmpdir(), 'reservkort-durable-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const folder = await initDataFolder(join(dir, 'data'));
    const sqliteUrl = `sqlite:${folder.sqliteFile}`;
    const store = await openStore({ url: sqliteUrl });
    cleanups.push(() => store.close());
    const ca = await openFolderCa(folder, store.db, systemClock);
    cleanups.push(() => ca.close());
    const files = { root: join(dir, 'root.pem'), loa3: join(dir, 'loa3.pem') };
    await writeFile(files.root, ca.ca('root').certificate.toString('pem'));
    await writeFile(files.loa3, ca.ca('loa3').certificate.toString('pem'));
    await seedDirectory(store.db, ca, [anna]);
    const ws = await openWorkstation({ db: store.db, ca });
    cleanups.push(() => ws.close());
    await provisionAdminCard(ws, ca, ADMIN2);
    await addReserveCard(ws, anna);
    return { dir, folder, sqliteUrl, store, ca, ws, files };
  };

  /** The server as this process runs it on the data folder: the given CA, flow config and clock. */
  const inProcessContext = (
    p: Prepared,
    ca: CertificateAuthority,
    flow: Partial<FlowConfig>,
    clock = systemClock,
  ): ServerContext => {
    const responder = new OcspResponder(ca, p.store.db, clock);
    cleanups.push(async () => responder.close());
    return {
      store: p.store,
      ca,
      responder,
      clock,
      sessions: DEFAULT_SESSION_SETTINGS,
      flow: { ...DEFAULT_FLOW_CONFIG, ...flow },
      agentUrl: null,
      training: false,
    };
  };

  const ocspSays = async (p: Prepared, serverUrl: string, name: string, der: string) => {
    const certFile = join(p.dir, `${name}.pem`);
    await writeFile(certFile, certificatePem(der));
    const ocsp = await openssl([
      'ocsp',
      '-url',
      `${serverUrl}/ocsp`,
      '-issuer',
      p.files.loa3,
      '-cert',
      certFile,
      '-CAfile',
      p.files.root,
      '-no_nonce',
    ]);
    expect(ocsp.out, ocsp.out).toContain('Response verify OK');
    return ocsp.out.replace(certFile, name);
  };

  it('SIGKILL in the countdown, restart after the deadline: revoked at start-up, ACK_TIMEOUT', async () => {
    const p = await prepare();
    const first = await startServerProcess(p.folder.root);
    processes.push(first);

    // --- Steps 1–7 on the same database, with a short acknowledgement window. -------------------
    const app = await buildApp(inProcessContext(p, p.ca, { ackWindowMs: ACK_WINDOW_MS }));
    const page = new DurablePage(p.ws, [injectEndpoint('in-process', app)]);
    const { certificates, serials, deadline } = await walkToStep7(page, ADMIN2_CARD, anna);
    expect(serials).toHaveLength(2);
    await app.close(); // it never swept: only the server processes do
    await p.store.close(); // the test reopens the file below, as a reader beside the servers

    // The running server has the flow in its countdown (session and flow are in the database).
    page.use(httpEndpoint('first', first.url));
    const during = await page.view();
    expect(during.status, JSON.stringify(during.body)).toBe(200);
    expect(during.body.view).toMatchObject({ step: 7, status: 'active', deadline });
    expect(control(during.body.view, 'acknowledge')).toMatchObject({ enabled: true });

    // --- SIGKILL while the deadline is still ahead. ------------------------------------------------
    expect(deadline - Date.now(), 'time left of the countdown at the kill').toBeGreaterThan(1000);
    expect(await first.kill()).toBe('SIGKILL');
    expect(Date.now()).toBeLessThan(deadline);

    // Nothing runs while the deadline passes: the flow is still active, the certificates still good.
    await sleep(deadline - Date.now() + 500);
    const idle = await openStore({ url: p.sqliteUrl });
    try {
      expect((await getFlow(idle.db, page.flowId))?.status).toBe('active');
      for (const serial of serials) expect((await certificateStatus(idle.db, serial))?.revocation).toBeNull();
    } finally {
      await idle.close();
    }

    // --- Start again after the deadline. ----------------------------------------------------------
    const second = await startServerProcess(p.folder.root);
    processes.push(second);
    // Checked as soon as it answers GET /health: the start-up sweep has already run.
    expect(Date.now() - second.readyAt).toBeLessThan(2000);
    const after = await openStore({ url: p.sqliteUrl });
    try {
      const flow = await getFlow(after.db, page.flowId);
      expect(flow?.status).toBe('ack-timeout-revoked');
      expect(flow?.deadline).toBeNull();
      expect(flow?.pendingEffects).toEqual([]);
      expect(timelineOf(flow?.state).at(-1)?.codes).toContain('ACK_TIMEOUT');

      for (const serial of serials) {
        const status = await certificateStatus(after.db, normalised(serial));
        expect(status?.revocation?.reason, serial).toBe('cessationOfOperation');
        // Revoked by the restarted server during its start-up, not before the kill.
        expect(status?.revocation?.revokedAt).toBeGreaterThanOrEqual(second.spawnedAt);
        expect(status?.revocation?.revokedAt).toBeLessThanOrEqual(second.readyAt);
      }
      const revokedAudit = await after.db
        .selectFrom('audit_log')
        .select(['subject', 'actor'])
        .where('action', '=', 'certificate.revoked')
        .execute();
      expect(revokedAudit.map((a) => a.subject).sort()).toEqual(serials.map(normalised).sort());
      expect(revokedAudit.every((a) => a.actor === 'issuance')).toBe(true);
      const timedOut = await after.db
        .selectFrom('audit_log')
        .select('actor')
        .where('action', '=', 'flow.deadline-passed')
        .where('subject', '=', page.flowId)
        .execute();
      expect(timedOut).toEqual([{ actor: 'system' }]);
      expect((await getOrder(after.db, anna.orderId))?.state).toBe('registered');
    } finally {
      await after.close();
    }

    // The page, talking to the restarted server, sees ACK_TIMEOUT and no way to acknowledge.
    page.use(httpEndpoint('second', second.url));
    const shown = await page.view();
    expect(shown.status).toBe(200);
    expect(shown.body.view.status).toBe('ack-timeout-revoked');
    expect(shown.body.view.timeline.at(-1).codes).toContain('ACK_TIMEOUT');
    expect(control(shown.body.view, 'acknowledge')?.enabled ?? false).toBe(false);

    // OpenSSL asks the restarted server's OCSP responder: both revoked.
    for (const [name, der] of Object.entries(certificates)) {
      const said = await ocspSays(p, second.url, name, der);
      expect(said).toContain(`${name}: revoked`);
      expect(said).toContain('Reason: cessationOfOperation');
    }
    // And its CRL lists both.
    const crl = await fetch(`${second.url}/pki/crl/loa3.crl`);
    expect(crl.status).toBe(200);
    const crlFile = join(p.dir, 'loa3.crl');
    await writeFile(crlFile, new Uint8Array(await crl.arrayBuffer()));
    const listed = await openssl(['crl', '-inform', 'DER', '-in', crlFile, '-noout', '-text']);
    const crlSerials = [...listed.out.matchAll(/Serial Number: ([0-9A-F]+)/gi)].map((m) =>
      normalised(m[1] ?? ''),
    );
    expect(crlSerials).toEqual(expect.arrayContaining(serials.map(normalised)));
  });

  it('a crash between the commit and the revocations: the next start-up carries out the rest once', async () => {
    const p = await prepare();
    // The process "dies" right after the first revocation: every later CA call fails.
    let dead = false;
    const dying = new Proxy(p.ca, {
      get(target, property) {
        if (property === 'revoke')
          return async (...args: Parameters<CertificateAuthority['revoke']>) => {
            if (dead) throw new Error('the process is gone');
            const done = await target.revoke(...args);
            dead = true;
            return done;
          };
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const ctx = inProcessContext(p, dying, {}, clock);
    const services = createServices(ctx);
    const app = await buildApp(ctx, { services });
    const page = new DurablePage(p.ws, [injectEndpoint('in-process', app)]);
    const { certificates, serials, deadline } = await walkToStep7(page, ADMIN2_CARD, anna);
    offset = deadline - Date.now() + 1000;
    await services.sweeper.sweep();
    await app.close();

    // Committed: the flow ended with its revocations pending; only the first was carried out.
    const [firstSerial = '', secondSerial = ''] = serials.map(normalised);
    const crashed = await getFlow(p.store.db, page.flowId);
    expect(crashed?.status).toBe('ack-timeout-revoked');
    expect(crashed?.pendingEffects).toHaveLength(1);
    expect((await certificateStatus(p.store.db, firstSerial))?.revocation).not.toBeNull();
    expect((await certificateStatus(p.store.db, secondSerial))?.revocation).toBeNull();
    await p.store.close();

    const server = await startServerProcess(p.folder.root);
    processes.push(server);
    const after = await openStore({ url: p.sqliteUrl });
    try {
      const flow = await getFlow(after.db, page.flowId);
      expect(flow?.status).toBe('ack-timeout-revoked');
      expect(flow?.pendingEffects).toEqual([]);
      const second = await certificateStatus(after.db, secondSerial);
      expect(second?.revocation?.reason).toBe('cessationOfOperation');
      expect(second?.revocation?.revokedAt).toBeGreaterThanOrEqual(server.spawnedAt);
      expect(second?.revocation?.revokedAt).toBeLessThanOrEqual(server.readyAt);
      // Each certificate revoked once, whatever was redone.
      const rows = await after.db.selectFrom('revocations').select('serial').execute();
      expect(rows.map((r) => r.serial).sort()).toEqual([firstSerial, secondSerial].sort());
      const revokedAudit = await after.db
        .selectFrom('audit_log')
        .select('subject')
        .where('action', '=', 'certificate.revoked')
        .execute();
      expect(revokedAudit.map((a) => a.subject).sort()).toEqual([firstSerial, secondSerial].sort());
    } finally {
      await after.close();
    }
    for (const [name, der] of Object.entries(certificates))
      expect(await ocspSays(p, server.url, name, der)).toContain(`${name}: revoked`);
  });
});
