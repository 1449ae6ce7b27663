// Production mode behind a load balancer: nginx balances round robin over two `reservkort serve`
// processes (not training mode) on one fresh PostgreSQL database and one data folder's CA. One
// issuance alternates between the servers from login to KVITTERA KORT; then one server is killed in
// the middle of a flow, which carries on through nginx on the other server, and a deadline that
// passes while its peer is down is still enforced by the survivor.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '@reservkort/pki';
import { certificateStatus, getFlow, getOrder } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslOcsp } from '../packages/pki/src/test-support/test-ca.js';
import { systemClock } from '../packages/server/src/cli/ca-context.js';
import {
  ADMIN3,
  ADMIN3_CARD,
  addReserveCard,
  initDataFolder,
  openFolderCa,
  provisionAdminCard,
  RECIPIENTS,
  type Recipient,
  type ServerProcess,
  seedDirectory,
  startServerProcess,
} from '../packages/server/src/test-support/durable-fixture.js';
import {
  DurablePage,
  type Endpoint,
  httpEndpoint,
  openWorkstation,
  type Workstation,
} from '../packages/server/src/test-support/durable-page.js';
import {
  acknowledge,
  certificatePem,
  prepareOrderSignature,
  sendOrderSignature,
  walkStep4ToStep7,
  walkToStep3,
  walkToStep7,
} from '../packages/server/src/test-support/durable-walk.js';
import { ADMIN2, ADMIN2_CARD } from '../packages/server/src/test-support/issuance-harness.js';
import { createTestStore, type TestStore } from '../packages/store/src/test-support/test-stores.js';
import { type Nginx, requireNginx, startNginx } from './support/nginx.js';

/** 15 s to acknowledge: long enough for the walks, short enough to wait out in the test. */
const ACK_WINDOW_MINUTES = 0.25;
const normalised = (serial: string) => serial.toLowerCase().replace(/^0+(?=.)/, '');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const timelineOf = (state: unknown) => (state as { timeline?: { codes: string[] }[] }).timeline ?? [];
const control = (view: any, id: string) => view.controls.find((c: { id: string }) => c.id === id);

/** Outside training mode /metrics needs the operations token: this one, in the data folder's secrets/. */
const OPERATIONS_TOKEN = 'nginx-test-operations-token';

/** Requests to the /api routes a server counted in its own metrics. */
const apiRequestsCounted = async (serverUrl: string): Promise<number> => {
  const answer = await fetch(`${serverUrl}/metrics`, {
    headers: { authorization: `Bearer ${OPERATIONS_TOKEN}` },
  });
  expect(answer.status).toBe(200);
  const text = await answer.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('reservkort_http_requests_total{') && line.includes('route="/api/'))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
};

describe('nginx in front of two servers on one PostgreSQL database', { timeout: 180_000 }, () => {
  let database: TestStore;
  let dir = '';
  let ca: CertificateAuthority;
  let files: { root: string; loa3: string };
  let nginx: Nginx;
  const servers = new Map<string, ServerProcess>();
  const killed = new Set<string>();
  const workstations: Workstation[] = [];
  /** For every request through nginx, the servers it went to (more than one: the first failed). */
  const answered: string[][] = [];
  let nameOf: (address: string) => string = (address) => address;
  let viaNginx: Endpoint;

  const workstation = async (admin: typeof ADMIN2, reserve: Recipient) => {
    const ws = await openWorkstation({ db: database.db, ca });
    workstations.push(ws);
    await provisionAdminCard(ws, ca, admin);
    await addReserveCard(ws, reserve);
    return ws;
  };

  const ocspViaNginx = async (name: string, der: string) => {
    const certFile = join(dir, `${name}.pem`);
    await writeFile(certFile, certificatePem(der));
    const ocsp = await opensslOcsp(`${nginx.url}/ocsp`, { issuer: files.loa3, root: files.root }, certFile);
    expect(ocsp.out, ocsp.out).toContain('Response verify OK');
    return ocsp.out.replace(certFile, name);
  };

  beforeAll(async () => {
    requireNginx(); // before anything is created: a clear message, nothing to clean up
    database = await createTestStore('postgres');
    dir = await mkdtemp(join(tmpdir(), 'reservkort-nginx-'));
    const folder = await initDataFolder(join(dir, 'data'), database.url);
    await writeFile(join(folder.secrets, 'operations-token'), `${OPERATIONS_TOKEN}\n`, { mode: 0o600 });
    ca = await openFolderCa(folder, database.db, systemClock);
    files = { root: join(dir, 'root.pem'), loa3: join(dir, 'loa3.pem') };
    await writeFile(files.root, ca.ca('root').certificate.toString('pem'));
    await writeFile(files.loa3, ca.ca('loa3').certificate.toString('pem'));
    await seedDirectory(database.db, ca, [RECIPIENTS.anna, RECIPIENTS.bertil, RECIPIENTS.cecilia]);
    const shortWindow = ['--ack-window', String(ACK_WINDOW_MINUTES)];
    const started = await Promise.allSettled(
      ['A', 'B'].map(async (name) => {
        const p = await startServerProcess(folder.root, database.url, 30_000, shortWindow);
        servers.set(name, p); // so that afterAll stops it even if the other one failed
        return p;
      }),
    );
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
    const [a, b] = [...servers.values()];
    if (a === undefined || b === undefined) throw new Error('two servers');
    const names = new Map([...servers].map(([name, p]) => [new URL(p.url).host, name]));
    nameOf = (address) => names.get(address) ?? address;
    nginx = await startNginx(join(dir, 'nginx'), [a.url, b.url]);
    viaNginx = httpEndpoint('nginx', nginx.url, (response) => {
      const upstreams = (response.headers.get('x-upstream') ?? '').split(',');
      answered.push(upstreams.map((u) => nameOf(u.trim())).filter((u) => u !== ''));
    });
  });

  afterAll(async () => {
    await nginx?.stop();
    for (const [name, p] of servers) {
      if (killed.has(name)) continue;
      const code = await p.stop();
      if (code !== 0) process.stderr.write(`server ${name} exited ${code}:\n${p.output()}\n`);
    }
    for (const ws of workstations) await ws.close();
    await ca?.close();
    await database?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('one issuance through nginx alternates between the servers, from login to KVITTERA KORT; OCSP via nginx says good', async () => {
    const anna = RECIPIENTS.anna;
    const page = new DurablePage(await workstation(ADMIN2, anna), [viaNginx]);
    const { certificates } = await walkToStep7(page, ADMIN2_CARD, anna);
    const done = await acknowledge(page);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.view.status).toBe('completed');
    expect((await getOrder(database.db, anna.orderId))?.state).toBe('completed');

    // Each request reached one server at the first try, and never the one the previous request did.
    const served = answered.map((upstreams) => upstreams.join(','));
    expect(served.length).toBeGreaterThan(15);
    const [first = ''] = served;
    expect(['A', 'B']).toContain(first);
    const second = first === 'A' ? 'B' : 'A';
    expect(served).toEqual(served.map((_, i) => (i % 2 === 0 ? first : second)));
    // The servers' own counts agree with what nginx said.
    for (const [name, p] of servers)
      expect(await apiRequestsCounted(p.url), name).toBe(served.filter((s) => s === name).length);

    for (const [name, der] of Object.entries(certificates))
      expect(await ocspViaNginx(`anna-${name}`, der)).toContain(`anna-${name}: good`);
  });

  it('one server killed mid-flow: the flow finishes through nginx on the other, and a deadline that passes meanwhile is enforced', async () => {
    const { bertil, cecilia } = RECIPIENTS;
    // Cecilia's card waits in its countdown, with both servers up.
    const cPage = new DurablePage(await workstation(ADMIN3, cecilia), [viaNginx]);
    const timingOut = await walkToStep7(cPage, ADMIN3_CARD, cecilia);
    expect(timingOut.serials).toHaveLength(2);

    // Bertil's flow: at SIGNERA the card signs a challenge from one server; that server dies.
    const bPage = new DurablePage(await workstation(ADMIN2, bertil), [viaNginx]);
    await walkToStep3(bPage, ADMIN2_CARD, bertil);
    const before = (await bPage.view()).body.view;
    const signature = await prepareOrderSignature(bPage);
    const [issuer = ''] = answered.at(-1) ?? [];
    const victim = servers.get(issuer);
    if (victim === undefined) throw new Error(`the challenge came from ${issuer}`);
    const survivor = issuer === 'A' ? 'B' : 'A';
    expect(timingOut.deadline - Date.now(), 'time left of the countdown at the kill').toBeGreaterThan(1000);
    const killedAt = Date.now();
    expect(await victim.kill()).toBe('SIGKILL');
    killed.add(issuer);
    const fromKill = answered.length;

    // The survivor takes the dead server's challenge, session and flow from the database.
    const signed = await sendOrderSignature(bPage, signature);
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body.view.step).toBe(4);
    const { certificates } = await walkStep4ToStep7(bPage, bertil);
    const done = await acknowledge(bPage);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.view.status).toBe('completed');
    expect((await getOrder(database.db, bertil.orderId))?.state).toBe('completed');
    // Nothing lost: the timeline from before the kill goes on, step by step, to the acknowledgement.
    const timeline: { step: number; event: string }[] = done.body.view.timeline;
    expect(timeline.slice(0, before.timeline.length)).toEqual(before.timeline);
    expect(timeline.length).toBeGreaterThan(before.timeline.length);
    const steps = timeline.map((e) => e.step);
    expect(steps).toEqual([...steps].sort((x, y) => x - y));
    expect(timeline.at(-1)?.event).toBe('acknowledged');
    // After the kill, every answer came from the survivor (nginx may have tried the dead one first).
    const afterKill = answered.slice(fromKill);
    expect(afterKill.length).toBeGreaterThan(10);
    for (const upstreams of afterKill) expect(upstreams.at(-1)).toBe(survivor);
    expect(afterKill, 'nginx tried the dead server and went on').toContainEqual([issuer, survivor]);

    // Cecilia's deadline passes with one server down: the survivor revokes.
    await sleep(timingOut.deadline - Date.now() + 500);
    let flow = await getFlow(database.db, cPage.flowId);
    // The flow ends first and its revocation is carried out after (a pending effect): wait for both.
    const until = Date.now() + 15_000;
    while ((flow?.status === 'active' || (flow?.pendingEffects.length ?? 0) > 0) && Date.now() < until) {
      await sleep(100);
      flow = await getFlow(database.db, cPage.flowId);
    }
    expect(flow?.status).toBe('ack-timeout-revoked');
    expect(flow?.pendingEffects).toEqual([]);
    expect(timelineOf(flow?.state).at(-1)?.codes).toContain('ACK_TIMEOUT');
    for (const serial of timingOut.serials) {
      const status = await certificateStatus(database.db, normalised(serial));
      expect(status?.revocation?.reason, serial).toBe('cessationOfOperation');
      // After the kill: the surviving server did it.
      expect(status?.revocation?.revokedAt).toBeGreaterThan(killedAt);
    }
    const timedOut = await database.db
      .selectFrom('audit_log')
      .select('actor')
      .where('action', '=', 'flow.deadline-passed')
      .where('subject', '=', cPage.flowId)
      .execute();
    expect(timedOut).toEqual([{ actor: 'system' }]);
    expect((await getOrder(database.db, cecilia.orderId))?.state).toBe('registered');

    // Through nginx the page sees ACK_TIMEOUT and no way to acknowledge; OCSP says revoked.
    const shown = await cPage.view();
    expect(shown.body.view.status).toBe('ack-timeout-revoked');
    expect(shown.body.view.timeline.at(-1).codes).toContain('ACK_TIMEOUT');
    expect(control(shown.body.view, 'acknowledge')?.enabled ?? false).toBe(false);
    for (const [name, der] of Object.entries(timingOut.certificates)) {
      const said = await ocspViaNginx(`cecilia-${name}`, der);
      expect(said).toContain(`cecilia-${name}: revoked`);
      expect(said).toContain('Reason: cessationOfOperation');
    }
    // Bertil's certificates, issued by the survivor alone, are good.
    for (const [name, der] of Object.entries(certificates))
      expect(await ocspViaNginx(`bertil-${name}`, der)).toContain(`bertil-${name}: good`);
  });

  it('no server logged an error; nginx logged only the refused connections to the dead one', async () => {
    for (const [name, p] of servers) {
      const errors = p
        .output()
        .split('\n')
        .filter((line) => /"level":(50|60)/.test(line));
      expect(errors, name).toEqual([]);
    }
    const dead = [...killed].map(
      (name) => `upstream: "http://${new URL(servers.get(name)?.url ?? '').host}/`,
    );
    const errors = (await nginx.errorLog())
      .split('\n')
      .filter((line) => /\[(error|crit|alert|emerg)\]/.test(line));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((line) => !dead.some((upstream) => line.includes(upstream)))).toEqual([]);
  });
});
