// Acceptance: two servers on PostgreSQL — two admins signing the same order at the same moment,
// exactly one succeeds; one expired flow is revoked exactly once; and two servers on two ports
// against one database pass the same API suite.
//
// Two real `reservkort serve` processes (A, B) share one fresh PostgreSQL database and one data
// folder's CA. The sweeper race runs on two further servers in this process (own connections, own
// CA instance, own services), whose clock can be moved past the 10-minute deadline.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FLOW_CONFIG } from '@reservkort/domain';
import { type CertificateAuthority, OcspResponder } from '@reservkort/pki';
import { getFlow, getOrder, listFlowsForOrder, openStore, type Store } from '@reservkort/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslOcsp } from '../../pki/src/test-support/test-ca.js';
import { createTestStore, type TestStore } from '../../store/src/test-support/test-stores.js';
import { buildApp } from './app.js';
import { DEFAULT_SESSION_SETTINGS } from './auth/session.js';
import { systemClock } from './cli/ca-context.js';
import type { DataFolder } from './config/data-folder.js';
import type { ServerContext } from './server-context.js';
import { createServices, type Services } from './services.js';
import {
  ADMIN3,
  ADMIN3_CARD,
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
  type Endpoint,
  httpEndpoint,
  injectEndpoint,
  openWorkstation,
  type Workstation,
} from './test-support/durable-page.js';
import {
  acknowledge,
  certificatePem,
  prepareOrderSignature,
  sendOrderSignature,
  walkToStep3,
  walkToStep7,
} from './test-support/durable-walk.js';
import { ADMIN2, ADMIN2_CARD } from './test-support/issuance-harness.js';

const normalised = (serial: string) => serial.toLowerCase().replace(/^0+(?=.)/, '');

/** A server in this process on its own connection to the shared database. */
interface InProcessServer {
  readonly endpoint: Endpoint;
  readonly services: Services;
  close(): Promise<void>;
}

const startInProcessServer = async (
  name: string,
  url: string,
  folder: DataFolder,
  clock: { now(): number },
): Promise<InProcessServer> => {
  const store: Store = await openStore({ url });
  const ca = await openFolderCa(folder, store.db, clock);
  const responder = new OcspResponder(ca, store.db, clock);
  const ctx: ServerContext = {
    store,
    ca,
    responder,
    clock,
    sessions: DEFAULT_SESSION_SETTINGS,
    flow: DEFAULT_FLOW_CONFIG,
    agentUrl: null,
    training: false,
  };
  const services = createServices(ctx);
  const app: FastifyInstance = await buildApp(ctx, { services });
  return {
    endpoint: injectEndpoint(name, app),
    services,
    close: async () => {
      await app.close();
      responder.close();
      await ca.close();
      await store.close();
    },
  };
};

describe('two servers on one PostgreSQL database', () => {
  let database: TestStore;
  let dir = '';
  let folder: DataFolder;
  let ca: CertificateAuthority;
  let files: { root: string; loa3: string };
  let A: Endpoint;
  let B: Endpoint;
  const processes: ServerProcess[] = [];
  const workstations: Workstation[] = [];

  /** A workstation with an administrator's login card (and a recipient's blank reserve card). */
  const workstation = async (
    admin: typeof ADMIN2,
    reserve?: (typeof RECIPIENTS)[keyof typeof RECIPIENTS],
  ) => {
    const ws = await openWorkstation({ db: database.db, ca });
    workstations.push(ws);
    await provisionAdminCard(ws, ca, admin);
    if (reserve) await addReserveCard(ws, reserve);
    return ws;
  };

  beforeAll(async () => {
    database = await createTestStore('postgres');
    dir = await mkdtemp(join(tmpdir(), 'reservkort-multi-'));
    folder = await initDataFolder(join(dir, 'data'), database.url);
    ca = await openFolderCa(folder, database.db, systemClock);
    files = { root: join(dir, 'root.pem'), loa3: join(dir, 'loa3.pem') };
    await writeFile(files.root, ca.ca('root').certificate.toString('pem'));
    await writeFile(files.loa3, ca.ca('loa3').certificate.toString('pem'));
    await seedDirectory(database.db, ca, [RECIPIENTS.anna, RECIPIENTS.bertil, RECIPIENTS.cecilia]);
    const [a, b] = await Promise.all([
      startServerProcess(folder.root, database.url),
      startServerProcess(folder.root, database.url),
    ]);
    processes.push(a, b);
    expect(a.url).not.toBe(b.url);
    A = httpEndpoint('A', a.url);
    B = httpEndpoint('B', b.url);
  });

  afterAll(async () => {
    for (const p of processes) {
      const code = await p.stop();
      if (code !== 0) process.stderr.write(`server exited ${code}:\n${p.output()}\n`);
    }
    for (const ws of workstations) await ws.close();
    await ca?.close();
    await database?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('two admins sign the same order at the same moment on two servers: exactly one succeeds', async () => {
    const anna = RECIPIENTS.anna;
    const two = new DurablePage(await workstation(ADMIN2), [A]);
    const three = new DurablePage(await workstation(ADMIN3), [B]);
    await Promise.all([walkToStep3(two, ADMIN2_CARD, anna), walkToStep3(three, ADMIN3_CARD, anna)]);
    expect((await getOrder(database.db, anna.orderId))?.state).toBe('registered');

    const [sig2, sig3] = await Promise.all([prepareOrderSignature(two), prepareOrderSignature(three)]);
    const answers = await Promise.all([sendOrderSignature(two, sig2), sendOrderSignature(three, sig3)]);

    const won = answers.filter((a) => a.status === 200);
    const lost = answers.filter((a) => a.status !== 200);
    expect(won, JSON.stringify(answers.map((a) => a.body))).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(won[0]?.body.view.step).toBe(4);
    expect(lost[0]?.status).toBe(409);
    expect(lost[0]?.body.code).toBe('ORDER_STATE_CONFLICT');

    const order = await getOrder(database.db, anna.orderId);
    expect(order?.state).toBe('in_progress');
    const flows = await listFlowsForOrder(database.db, anna.orderId);
    expect(flows).toHaveLength(2);
    expect(flows.filter((f) => f.step === 4).map((f) => f.id)).toEqual([
      won[0] === answers[0] ? two.flowId : three.flowId,
    ]);
    // The loser's flow was left as it was: at step 3, with nothing of the other's signature on it.
    const loser = won[0] === answers[0] ? three : two;
    const loserView = await loser.view();
    expect(loserView.body.view).toMatchObject({ step: 3, status: 'active' });
    const signedAudit = await database.db
      .selectFrom('audit_log')
      .select('subject')
      .where('action', '=', 'flow.signed')
      .where('subject', 'in', [two.flowId, three.flowId])
      .execute();
    expect(signedAudit).toHaveLength(1);
  });

  it('two servers sweep one expired flow at the same moment: revoked exactly once', async () => {
    const cecilia = RECIPIENTS.cecilia;
    // Both in-process servers share a clock that can jump past the 10-minute window.
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const one = await startInProcessServer('one', database.url, folder, clock);
    const other = await startInProcessServer('other', database.url, folder, clock);
    try {
      const page = new DurablePage(await workstation(ADMIN3, cecilia), [one.endpoint, other.endpoint]);
      const { serials, deadline } = await walkToStep7(page, ADMIN3_CARD, cecilia);
      expect(serials).toHaveLength(2);
      offset = deadline - Date.now() + 1000;

      const swept = await Promise.all([one.services.sweeper.sweep(), other.services.sweeper.sweep()]);
      // One of them ended the flow; the other found it ended (or found nothing due).
      expect(
        swept.reduce((sum, n) => sum + n, 0),
        `ended per server: ${swept}`,
      ).toBe(1);
      // A further pass anywhere finds nothing left to do.
      expect(await Promise.all([one.services.sweeper.sweep(), other.services.sweeper.sweep()])).toEqual([
        0, 0,
      ]);

      const flow = await getFlow(database.db, page.flowId);
      expect(flow?.status).toBe('ack-timeout-revoked');
      expect(flow?.pendingEffects).toEqual([]);
      const timeline = (flow?.state as { timeline: { codes: string[] }[] } | undefined)?.timeline ?? [];
      expect(timeline.at(-1)?.codes).toContain('ACK_TIMEOUT');
      const ids = serials.map(normalised);
      const revocations = await database.db
        .selectFrom('revocations')
        .select(['serial', 'reason', 'revoked_by'])
        .where('serial', 'in', ids)
        .execute();
      expect(revocations.map((r) => r.serial).sort()).toEqual([...ids].sort());
      expect(revocations.every((r) => r.reason === 'cessationOfOperation')).toBe(true);
      const revokedAudit = await database.db
        .selectFrom('audit_log')
        .select('subject')
        .where('action', '=', 'certificate.revoked')
        .where('subject', 'in', ids)
        .execute();
      expect(revokedAudit.map((a) => a.subject).sort()).toEqual([...ids].sort());
      const timedOut = await database.db
        .selectFrom('audit_log')
        .select('subject')
        .where('action', '=', 'flow.deadline-passed')
        .where('subject', '=', page.flowId)
        .execute();
      expect(timedOut).toHaveLength(1);
      expect((await getOrder(database.db, cecilia.orderId))?.state).toBe('registered');
      // The real servers' OCSP agree.
      for (const endpoint of [A, B]) {
        const status = await page.use(endpoint).view();
        expect(status.body.view.status, endpoint.name).toBe('ack-timeout-revoked');
      }
    } finally {
      await one.close();
      await other.close();
    }
  });

  it('one issuance with its requests alternating between the two servers, from login to KVITTERA KORT', async () => {
    const bertil = RECIPIENTS.bertil;
    const page = new DurablePage(await workstation(ADMIN2, bertil), [A, B]);
    const { certificates } = await walkToStep7(page, ADMIN2_CARD, bertil);
    const done = await acknowledge(page);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.view.status).toBe('completed');
    expect((await getOrder(database.db, bertil.orderId))?.state).toBe('completed');

    // Every other request went to the other server.
    expect(page.served.length).toBeGreaterThan(15);
    for (const [i, name] of page.served.entries()) expect(name).toBe(i % 2 === 0 ? 'A' : 'B');

    // Both servers' OCSP responders say good for the new certificates.
    for (const [name, der] of Object.entries(certificates)) {
      const certFile = join(dir, `bertil-${name}.pem`);
      await writeFile(certFile, certificatePem(der));
      for (const p of processes) {
        const ocsp = await opensslOcsp(`${p.url}/ocsp`, { issuer: files.loa3, root: files.root }, certFile);
        expect(ocsp.out, ocsp.out).toContain('Response verify OK');
        expect(ocsp.out).toContain(`${certFile}: good`);
      }
    }
  });

  it('neither server process logged an unexpected error meanwhile', () => {
    for (const p of processes) {
      const errors = p
        .output()
        .split('\n')
        .filter((line) => /"level":(50|60)/.test(line));
      expect(errors, p.url).toEqual([]);
    }
  });
});
