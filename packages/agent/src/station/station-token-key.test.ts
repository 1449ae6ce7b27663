// The station key on a SoftHSM2 token of its own (not a card): registration through the agent's
// HTTP app, statements checked with node:crypto against the certificate, the same identity and
// numbers after a restart, the key's attributes as the token and pkcs11-tool report them, and the
// refusals (wrong PIN, no token, a key made elsewhere) as STATION_KEY_UNAVAILABLE.
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Pkcs10CertificateRequest, X509Certificate } from '@peculiar/x509';
import type { SignedStatement } from '@reservkort/domain';
import { acquireModule, releaseModule } from '@reservkort/pkcs11';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSoftHsm, pkcs11Tool, type SoftHsm } from '../../../pki/src/test-support/softhsm.js';
import type { AgentError } from '../agent-error.js';
import { type AgentFixture, createAgentFixture } from '../test-support/agent-fixture.js';
import { createStationCa, type StationCa, verifyStatement } from '../test-support/station-ca.js';
import { StationIdentity } from './station-identity.js';
import { STATION_KEY_FILE } from './station-key-store.js';
import { STATION_KEY_LABEL, type StationTokenConfig, TokenStationKey } from './station-token-key.js';

const NONCE = '0123456789abcdef0123456789abcdef';
const TOKEN = 'Kortstation TPM';
const PIN = '246810';

const refusal = (open: () => unknown): { code: string; reason: unknown; message: string } => {
  try {
    open();
  } catch (error) {
    const failed = error as AgentError;
    return { code: failed.code, reason: failed.details?.reason, message: failed.message };
  }
  throw new Error('expected a refusal, the station opened');
};

describe('the station key on a PKCS#11 token', () => {
  let ca: StationCa;
  let hsm: SoftHsm;
  let token: StationTokenConfig;
  let f: AgentFixture | null;
  let session: string;

  /** The agent with its station folder in the test's own directory, so that it outlives the agent. */
  const open = async () => {
    f = await createAgentFixture({ stationToken: token, stationDir: join(hsm.dir, 'agent', 'station') });
    session = await f.session();
    return f;
  };
  const call = (method: 'GET' | 'POST', url: string, body?: unknown) => {
    if (f === null) throw new Error('no agent');
    return f.call(method, url, body, { 'x-agent-session': session });
  };
  const register = async () => {
    const { csr } = (await call('POST', '/v1/station/csr', { name: 'Kortstation 1' })).body;
    const certificate = await ca.issue(csr);
    expect((await call('POST', '/v1/station/certificate', { certificate })).status).toBe(200);
    return { csr: csr as string, certificate };
  };
  const statement = async () =>
    (await call('POST', '/v1/statements', { flowId: 'flow-1', nonce: NONCE, kind: 'agent-info' }))
      .body as SignedStatement;

  beforeAll(async () => {
    ca = await createStationCa();
  });
  beforeEach(async () => {
    // A fresh token directory per test; the module re-reads it when the last user lets go.
    hsm = await createSoftHsm();
    await hsm.initToken(TOKEN, PIN);
    token = { module: hsm.module, tokenLabel: TOKEN, pin: PIN };
    f = null;
  });
  afterEach(async () => {
    await f?.dispose();
    await hsm.dispose();
  });

  it('registers a station whose key is made on the token: no key file, statements verify with the certificate', async () => {
    const agent = await open();
    expect((await call('GET', '/v1/station')).body).toMatchObject({ registered: false, keyStore: 'pkcs11' });
    const { csr, certificate } = await register();
    const request = new Pkcs10CertificateRequest(Buffer.from(csr, 'base64'));
    // The CSR is signed on the token too: its signature checks against the key it carries.
    expect(await request.verify()).toBe(true);
    expect(request.publicKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    const view = (await call('GET', '/v1/station')).body;
    expect(view).toMatchObject({ registered: true, keyStore: 'pkcs11', certificate });
    const checked = verifyStatement(await statement(), certificate);
    expect(checked.valid).toBe(true);
    expect(checked.payload).toMatchObject({ station: view.stationId, seq: 1, kind: 'agent-info' });
    const files = await readdir(agent.stationDir);
    expect(files).not.toContain(STATION_KEY_FILE);
    expect(files.join('\n')).not.toMatch(/PRIVATE KEY/);
    for (const name of files) {
      expect(await readFile(join(agent.stationDir, name), 'utf8')).not.toContain('PRIVATE KEY');
    }
    expect(JSON.parse(await readFile(join(agent.stationDir, 'key-store.json'), 'utf8'))).toEqual({
      keyStore: 'pkcs11',
      token: TOKEN,
    });
  });

  it('keeps the same identity and statement numbers after a restart', async () => {
    const first = await open();
    const { certificate } = await register();
    const stationId = (await call('GET', '/v1/station')).body.stationId;
    expect(verifyStatement(await statement(), certificate).payload.seq).toBe(1);
    expect(verifyStatement(await statement(), certificate).payload.seq).toBe(2);
    // The agent stops (the token's session closes, the module is finalised) and starts again.
    await first.dispose();
    f = null;
    await open();
    expect((await call('GET', '/v1/station')).body).toMatchObject({
      stationId,
      registered: true,
      keyStore: 'pkcs11',
    });
    const next = verifyStatement(await statement(), certificate);
    expect(next.valid).toBe(true);
    expect(next.payload).toMatchObject({ station: stationId, seq: 3 });
    // Asking for a CSR again renews the same key: nothing new is generated on the token.
    const again = (await call('POST', '/v1/station/csr', { name: 'Kortstation 1' })).body.csr;
    const request = new Pkcs10CertificateRequest(Buffer.from(again, 'base64'));
    expect(request.subjectName.getField('CN')[0]).toBe(stationId);
    expect(Buffer.from(request.publicKey.rawData)).toEqual(
      Buffer.from(new X509Certificate(certificate).publicKey.rawData),
    );
  });

  it('logs in again when the module is re-initialised under it (as the card backend does)', async () => {
    await open();
    const { certificate } = await register();
    const shared = acquireModule(hsm.module);
    try {
      await shared.exclusive(() => shared.reinitialise());
    } finally {
      releaseModule(shared);
    }
    const signed = verifyStatement(await statement(), certificate);
    expect(signed.valid).toBe(true);
  });

  it('makes the key sensitive, never extractable and private, as the token and pkcs11-tool report it', async () => {
    const agent = await open();
    await register();
    const store = agent.station.store;
    expect(store).toBeInstanceOf(TokenStationKey);
    expect((store as TokenStationKey).attributes()).toEqual({
      token: true,
      private: true,
      sensitive: true,
      extractable: false,
      neverExtractable: true,
      local: true,
      sign: true,
    });
    // Without a login the private key is not even listed; with one it is, and marked as never extractable.
    const anonymous = await pkcs11Tool(hsm, ['--token-label', TOKEN, '--list-objects']);
    expect(anonymous).not.toMatch(/Private Key Object/);
    const listed = await pkcs11Tool(hsm, ['--token-label', TOKEN, '--login', '--pin', PIN, '--list-objects']);
    const privateKey = listed.split(/\n(?=\S)/).find((block) => block.startsWith('Private Key Object'));
    expect(privateKey).toBeDefined();
    expect(privateKey).toContain('EC');
    expect(privateKey).toContain(`label:      ${STATION_KEY_LABEL}`);
    const access = /Access:\s+(.*)/.exec(privateKey ?? '')?.[1]?.split(', ') ?? [];
    expect(access).toEqual(expect.arrayContaining(['sensitive', 'never extractable']));
    expect(access).not.toContain('extractable');
  });

  it('refuses a wrong PIN or a missing token with STATION_KEY_UNAVAILABLE, and writes no key file', async () => {
    const dir = join(hsm.dir, 'direct-station');
    expect(refusal(() => StationIdentity.open(dir, { token: { ...token, pin: '999999' } }))).toMatchObject({
      code: 'STATION_KEY_UNAVAILABLE',
      reason: 'pin incorrect',
    });
    const missing = refusal(() =>
      StationIdentity.open(dir, { token: { ...token, tokenLabel: 'Annan token' } }),
    );
    expect(missing).toMatchObject({ code: 'STATION_KEY_UNAVAILABLE', reason: 'token missing' });
    expect(
      refusal(() => StationIdentity.open(dir, { token: { ...token, module: '/nonexistent/module.so' } })),
    ).toMatchObject({ code: 'STATION_KEY_UNAVAILABLE', reason: 'module not loaded' });
    // The PIN never shows in what the agent says.
    expect(missing.message).not.toContain(PIN);
    expect(existsSync(join(dir, STATION_KEY_FILE))).toBe(false);
    // With the right PIN it opens.
    const station = StationIdentity.open(dir, { token });
    expect(station.describe().keyStore).toBe('pkcs11');
    station.close();
  });

  it('refuses to change where an existing station key lives', async () => {
    // A station registered with a key file, then started with a token: refused, the file kept.
    const fileDir = join(hsm.dir, 'file-station');
    const fileStation = StationIdentity.open(fileDir);
    await fileStation.csr('Disk 1');
    fileStation.close();
    expect(refusal(() => StationIdentity.open(fileDir, { token }))).toMatchObject({
      code: 'STATION_KEY_UNAVAILABLE',
      reason: 'key in a file',
    });
    expect(existsSync(join(fileDir, STATION_KEY_FILE))).toBe(true);

    // A station whose key is on the token, then started without it: refused, no key file made.
    const agent = await open();
    await register();
    const tokenDir = agent.stationDir;
    await agent.dispose();
    f = null;
    expect(refusal(() => StationIdentity.open(tokenDir))).toMatchObject({
      code: 'STATION_KEY_UNAVAILABLE',
      reason: 'key on a token',
    });
    expect(existsSync(join(tokenDir, STATION_KEY_FILE))).toBe(false);

    // The same folder with another token that has no station key: refused, nothing generated there.
    await hsm.initToken('Reservtoken', PIN);
    expect(
      refusal(() => StationIdentity.open(tokenDir, { token: { ...token, tokenLabel: 'Reservtoken' } })),
    ).toMatchObject({ code: 'STATION_KEY_UNAVAILABLE', reason: 'key missing from token' });
  });

  it('refuses a token key that is not the one the certificate was issued for', async () => {
    const agent = await open();
    await register();
    const dir = agent.stationDir;
    await agent.dispose();
    f = null;
    // Another token, another station key; the folder's certificate names the first one.
    await hsm.initToken('Andra token', PIN);
    const other = StationIdentity.open(join(hsm.dir, 'other'), {
      token: { ...token, tokenLabel: 'Andra token' },
    });
    await other.csr('Disk 2');
    other.close();
    await writeFile(
      join(dir, 'key-store.json'),
      JSON.stringify({ keyStore: 'pkcs11', token: 'Andra token' }),
    );
    expect(
      refusal(() => StationIdentity.open(dir, { token: { ...token, tokenLabel: 'Andra token' } })),
    ).toMatchObject({ code: 'STATION_KEY_UNAVAILABLE', reason: 'key does not match certificate' });
  });
});
