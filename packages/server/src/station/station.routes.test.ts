// Registering, listing and revoking card stations over HTTP: who may, the certificate the CA
// issues (judged by OpenSSL), renewal with the same key, and the audit trail.
import { generateKeyPairSync, sign, X509Certificate } from 'node:crypto';
import { getCertificate, listAudit } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCsr, openssl, writeText } from '../../../pki/src/test-support/test-ca.js';
import { statusOf } from '../http/api-error.js';
import { type Answer, Client } from '../test-support/acceptance-client.js';
import { ACTORS, addAcceptanceDirectory } from '../test-support/acceptance-directory.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { stationCsr } from './station-key.js';

const newKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
const csrOf = async (pem: string) => Buffer.from(await stationCsr(pem)).toString('base64');
const refused = (answer: Answer) => `${answer.status} ${answer.body?.code}`;
const expectRefused = (answer: Answer, code: Parameters<typeof statusOf>[0]) =>
  expect(refused(answer)).toBe(`${statusOf(code)} ${code}`);

describe('card stations over HTTP', () => {
  let h: Harness;
  const c = {} as Record<'admin1' | 'admin2' | 'outsider' | 'desk' | 'loa2' | 'anonymous', Client>;

  beforeAll(async () => {
    h = await createIssuanceHarness();
    await addAcceptanceDirectory(h, { actors: ['outsider', 'desk', 'loa2'] });
    c.anonymous = new Client(h);
    const cards = {
      admin1: ADMIN1_CARD,
      admin2: ADMIN2_CARD,
      outsider: ACTORS.outsider.cardNumber,
      desk: ACTORS.desk.cardNumber,
      loa2: ACTORS.loa2.cardNumber,
    } as const;
    for (const [name, card] of Object.entries(cards)) {
      const client = new Client(h);
      expect((await client.login(card)).status).toBe(200);
      c[name as keyof typeof cards] = client;
    }
  });
  afterAll(() => h?.dispose());

  it('lets an admin with KRA above the branch register a station; OpenSSL verifies its certificate', async () => {
    // Admin 1 holds KRA at 'hospital'; 'clinic' lies below it.
    const answer = await c.admin1.post('/api/stations', {
      csr: await csrOf(newKeyPem()),
      name: 'Kortdisken',
      branchId: 'clinic',
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    const { stationId, certificate, chain, renewed } = answer.body;
    expect(stationId).toMatch(/^st-[A-Za-z0-9_-]{16}$/);
    expect(renewed).toBe(false);
    const leaf = await writeText(h.t.dir, `${stationId}.pem`, certificate);
    const chainFile = await writeText(h.t.dir, `${stationId}-chain.pem`, chain);
    const verified = await openssl([
      'verify',
      '-CAfile',
      h.t.files.root,
      '-untrusted',
      chainFile,
      '-purpose',
      'sslclient',
      leaf,
    ]);
    expect(verified, verified.out).toMatchObject({ code: 0 });
    const text = (await openssl(['x509', '-in', leaf, '-noout', '-text'])).out;
    expect(text).toMatch(new RegExp(`Subject: .*CN ?= ?${stationId}`));
    expect(text).toMatch(/Subject: .*OU ?= ?clinic/);
    expect(text).toContain('TLS Web Client Authentication');
    expect(text).toContain('Digital Signature');
    expect(text).not.toContain('Policy');
    // 30 days, and in the issuance register like every certificate.
    const serial = (await openssl(['x509', '-in', leaf, '-noout', '-serial'])).out.trim().split('=')[1] ?? '';
    const row = await getCertificate(h.t.store.db, serial.toLowerCase().replace(/^0+/, ''));
    expect(row).toMatchObject({ profile: 'station', caId: 'bureau', hsaId: null, cardNumber: null });
    expect(Math.round(((row?.notAfter ?? 0) - (row?.notBefore ?? 0)) / 86_400_000)).toBe(30);
    const audit = await listAudit(h.t.store.db, { limit: 100_000 });
    expect(audit.some((e) => e.action === 'station.registered' && e.subject === stationId)).toBe(true);
  });

  it('issues a station certificate that never passes for an administrator’s card at login', async () => {
    const key = newKeyPem();
    const registered = await c.admin2.post('/api/stations', {
      csr: await csrOf(key),
      name: 'L',
      branchId: 'clinic',
    });
    const challenge = (await c.anonymous.post('/api/auth/challenge', {})).body;
    const signature = sign('sha256', Buffer.from(challenge.challenge, 'base64'), {
      key,
      dsaEncoding: 'ieee-p1363',
    });
    const login = await c.anonymous.post('/api/auth/login', {
      challengeId: challenge.challengeId,
      certificate: new X509Certificate(registered.body.certificate).raw.toString('base64'),
      signature: signature.toString('base64'),
    });
    expect(login.status).toBe(401);
    // Not a person CA's certificate: refused before any policy is read.
    expect(login.body).toMatchObject({ code: 'LOGIN_FAILED' });
  });

  it('refuses those without a role in the branch, the service desk, LoA2, no CSRF and no login', async () => {
    const body = async (branchId = 'clinic') => ({ csr: await csrOf(newKeyPem()), name: 'X', branchId });
    // KRA at 'hospital' is not a role at 'region' above it.
    expectRefused(await c.admin1.post('/api/stations', await body('region')), 'NO_ROLE_IN_BRANCH');
    expectRefused(await c.outsider.post('/api/stations', await body()), 'NO_ROLE_IN_BRANCH');
    expectRefused(await c.desk.post('/api/stations', await body()), 'ACCESS_DENIED');
    expectRefused(await c.loa2.post('/api/stations', await body()), 'LOA2_LOGIN');
    expectRefused(await c.admin1.post('/api/stations', await body(), { csrf: false }), 'CSRF_INVALID');
    expectRefused(await c.anonymous.post('/api/stations', await body()), 'NOT_LOGGED_IN');
    expectRefused(await c.admin2.post('/api/stations', await body('nowhere')), 'BRANCH_UNKNOWN');
  });

  it('refuses a CSR that is not a P-256 key’s, or not a CSR', async () => {
    const p384 = Buffer.from((await makeCsr('ecdsa-p384')).der).toString('base64');
    expectRefused(
      await c.admin2.post('/api/stations', { csr: p384, name: 'X', branchId: 'clinic' }),
      'KEY_NOT_ALLOWED',
    );
    expectRefused(
      await c.admin2.post('/api/stations', { csr: 'AAAAAAAA', name: 'X', branchId: 'clinic' }),
      'CSR_INVALID',
    );
  });

  it('renews a station registered again with its key: same id, the old certificate superseded', async () => {
    const key = newKeyPem();
    const first = await c.admin2.post('/api/stations', {
      csr: await csrOf(key),
      name: 'A',
      branchId: 'clinic',
    });
    const again = await c.admin2.post('/api/stations', {
      csr: await csrOf(key),
      name: 'B',
      branchId: 'clinic',
    });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ stationId: first.body.stationId, renewed: true });
    const listed = (await c.admin2.get('/api/stations')).body.stations.find(
      (s: { id: string }) => s.id === first.body.stationId,
    );
    expect(listed).toMatchObject({ name: 'B', status: 'active', lastSeq: 0 });
    const firstSerial = new X509Certificate(first.body.certificate).serialNumber.toLowerCase();
    expect(listed.certificateSerial).not.toBe(firstSerial);
    expect((await getCertificate(h.t.store.db, firstSerial))?.revocation).toMatchObject({
      reason: 'superseded',
    });
    // The same key in another branch is not silently moved.
    const moved = await c.admin2.post('/api/stations', {
      csr: await csrOf(key),
      name: 'C',
      branchId: 'other',
    });
    expect(moved.body).toMatchObject({ code: 'REQUEST_INVALID' });
  });

  it('lists the stations of the admin’s branches, and revokes one with its certificate', async () => {
    const registered = await c.admin1.post('/api/stations', {
      csr: await csrOf(newKeyPem()),
      name: 'Att spärra',
      branchId: 'clinic',
    });
    const id = registered.body.stationId as string;
    expect((await c.admin1.get('/api/stations')).body.stations.map((s: { id: string }) => s.id)).toContain(
      id,
    );
    expect((await c.outsider.get('/api/stations')).body.stations).toEqual([]);
    // The branches where the admin may register one, with their names, for the portal's choice.
    const branches = (await c.admin1.get('/api/stations')).body.branches as { id: string; name: string }[];
    expect(branches.map((b) => b.id)).toEqual(expect.arrayContaining(['hospital', 'clinic']));
    for (const branch of branches) expect(branch.name).toEqual(expect.any(String));
    expectRefused(await c.desk.get('/api/stations'), 'ACCESS_DENIED');
    expectRefused(await c.outsider.post(`/api/stations/${id}/revoke`), 'NO_ROLE_IN_BRANCH');
    expectRefused(
      await c.admin1.post(`/api/stations/${id}/revoke`, undefined, { csrf: false }),
      'CSRF_INVALID',
    );
    expectRefused(await c.admin1.post('/api/stations/st-nosuchstation/revoke'), 'NOT_FOUND');
    const revoked = await c.admin2.post(`/api/stations/${id}/revoke`);
    expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
    expect(revoked.body).toMatchObject({ id, status: 'revoked' });
    const row = await getCertificate(h.t.store.db, revoked.body.certificateSerial);
    expect(row?.revocation).toMatchObject({ reason: 'cessationOfOperation' });
    // Again: nothing more happens.
    expect((await c.admin2.post(`/api/stations/${id}/revoke`)).body).toMatchObject({ status: 'revoked' });
    const audit = (await listAudit(h.t.store.db, { limit: 100_000 })).filter((e) => e.subject === id);
    expect(audit.map((e) => e.action)).toEqual(['station.registered', 'station.revoked']);
  });
});
