// The agent end to end on PKCS#11: SoftHSM2 tokens stand in for cards, the pki test CA issues the
// certificates, OpenSSL and OpenSC's pkcs11-tool check the results independently.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Pkcs10CertificateRequest, X509Certificate } from '@peculiar/x509';
import {
  type CardNumber,
  cardKeysBytes,
  cardProofBytes,
  type ReaderFact,
  type SignedStatement,
} from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsm, pkcs11Tool, type SoftHsm } from '../../pki/src/test-support/softhsm.js';
import { createTestCa, issueRequest, type TestCa } from '../../pki/src/test-support/test-ca.js';
import { Pkcs11Backend } from './backend/pkcs11-backend.js';
import { writePkcs11BureauKey } from './backend/pkcs11-card-initialiser.js';
import { CardAgent, type OperationView } from './card-agent.js';
import { buildAgentApp } from './http/agent-app.js';
import { StationIdentity } from './station/station-identity.js';
import { testBureauCertificate } from './test-support/bureau-certificate.js';
import { cardSignatureVerifies } from './test-support/signature-check.js';
import { createCardToken, removeCardToken, restoreCardToken } from './test-support/softhsm-cards.js';
import { createStationCa, verifyStatement } from './test-support/station-ca.js';

const run = promisify(execFile);
const CARD = '9752278900000000777' as CardNumber;
const PIN = '246810';
const PUK = '13579246';

describe('card agent on PKCS#11 (SoftHSM2)', () => {
  let hsm: SoftHsm;
  let backend: Pkcs11Backend;
  let agent: CardAgent;
  let ca: TestCa;
  let token: string;
  let readerId: string;
  let stationDir: string;
  let stationCertificate: string;
  const NONCE = 'fedcba9876543210fedcba9876543210';
  /** A statement of the agent, checked with node:crypto against the station certificate. */
  const stated = async (request: {
    kind: 'readers' | 'card-certificates' | 'event';
    reader?: 1 | 2;
    eventSeq?: number;
  }) => {
    const signed: SignedStatement = await agent.statement(token, {
      flowId: 'flow-hsm',
      nonce: NONCE,
      ...request,
    });
    const checked = verifyStatement(signed, stationCertificate);
    expect(checked.valid).toBe(true);
    return checked.payload;
  };
  const cardSlot = async (): Promise<{ slot: 1 | 2; fact: ReaderFact }> => {
    const body = (await stated({ kind: 'readers' })).body as { readers: { 1: ReaderFact; 2: ReaderFact } };
    const slot = ([1, 2] as const).find((s) => body.readers[s].card?.cardNumber === CARD);
    if (slot === undefined) throw new Error(`the card is in no numbered reader: ${JSON.stringify(body)}`);
    return { slot, fact: body.readers[slot] };
  };

  const answer = async (view: OperationView, pin: string): Promise<void> => {
    const dialog = view.dialog;
    if (!dialog) throw new Error('no dialog');
    agent.dialogShown(dialog.id);
    await agent.submitPin(dialog.id, pin);
  };
  const until = async (id: string, predicate: (v: OperationView) => boolean): Promise<OperationView> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const view = agent.operation(id);
      if (predicate(view)) return view;
      if (Date.now() > deadline) throw new Error(`stuck: ${JSON.stringify(view)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const listObjects = (type?: string) =>
    pkcs11Tool(hsm, [
      '--token-label',
      CARD,
      '--login',
      '--pin',
      PIN,
      '--list-objects',
      ...(type ? ['--type', type] : []),
    ]);

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await createCardToken(hsm, { cardNumber: CARD, pin1: PIN, puk: PUK });
    backend = await Pkcs11Backend.open({ module: hsm.module, pollIntervalMs: 100 });
    stationDir = await mkdtemp(join(tmpdir(), 'reservkort-station-'));
    const station = StationIdentity.open(join(stationDir, 'station'));
    agent = new CardAgent({ backend, info: { version: '0.1.0', packaging: 'test' }, station });
    ca = await createTestCa('sqlite');
    token = agent.createSession().token;
    const stationCa = await createStationCa();
    stationCertificate = await stationCa.issue((await agent.stationCsr(token, 'Kortstation HSM')).csr);
    agent.installStationCertificate(token, stationCertificate);
    const reader = (await backend.readers()).find((r) => r.card?.cardNumber === CARD);
    if (!reader) throw new Error('the card token is not listed as a card');
    readerId = reader.id;
  });
  afterAll(async () => {
    await agent?.close();
    await ca?.dispose();
    await hsm?.dispose();
    if (stationDir) await rm(stationDir, { recursive: true, force: true });
  });

  it('enrols both keys on the card, writes the issued certificates, and authenticates with them', async () => {
    const enrol = await agent.enrol(token, readerId, 'flow-hsm');
    await answer(enrol, PIN);
    const second = await until(enrol.id, (v) => v.dialog?.pin === 'pin2' || v.state !== 'pending');
    // A one-PIN token: PIN 2 is the same PIN, given again for the signature key.
    await answer(second, PIN);
    const done = await until(enrol.id, (v) => v.state !== 'pending');
    expect(done.state).toBe('done');
    const { authCsr, signCsr } = done.result as { authCsr: string; signCsr: string };

    for (const [name, csr] of [
      ['auth', authCsr],
      ['sign', signCsr],
    ] as const) {
      const file = join(ca.dir, `${name}.csr`);
      await writeFile(file, csr);
      const verified = await run('openssl', ['req', '-in', file, '-noout', '-verify']);
      expect(`${verified.stdout}${verified.stderr}`).toMatch(/verify OK/i);
    }

    const keys = await listObjects('privkey');
    const blocks = keys.split(/\n(?=\S)/).filter((b) => b.startsWith('Private Key Object'));
    expect(blocks).toHaveLength(2);
    for (const block of blocks) expect(block).toMatch(/Access:.*sensitive.*never extractable/s);

    const auth = await ca.ca.issue(issueRequest(authCsr, { cardNumber: CARD }));
    const sign = await ca.ca.issue(issueRequest(signCsr, { cardNumber: CARD, profile: 'card-sign' }));
    const write = await agent.writeCertificates(
      token,
      readerId,
      { auth: new Uint8Array(auth.certificate.rawData), sign: new Uint8Array(sign.certificate.rawData) },
      'flow-hsm',
    );
    expect((await until(write.id, (v) => v.state !== 'pending')).state).toBe('done');
    const certs = await listObjects('cert');
    expect(certs.match(/Certificate Object/g)).toHaveLength(2);
    const info = await backend.cardInfo(readerId);
    expect(info.certificates.map((c) => c.key).sort()).toEqual(['auth', 'sign']);

    const challenge = new TextEncoder().encode('login challenge');
    const login = await agent.authenticate(token, readerId, challenge, null);
    await answer(login, PIN);
    const signed = await until(login.id, (v) => v.state !== 'pending');
    const result = signed.result as { signature: string; certificate: string };
    const certificate = new X509Certificate(Buffer.from(result.certificate, 'base64'));
    expect(certificate.serialNumber.toLowerCase()).toBe(auth.serial);
    const publicKey = await certificate.publicKey.export(webcrypto as unknown as Crypto);
    const ok = await webcrypto.subtle.verify(
      { name: 'ECDSA', hash: 'SHA-256' },
      publicKey,
      Buffer.from(result.signature, 'base64'),
      challenge,
    );
    expect(ok).toBe(true);

    // The station states the card in its reader and the certificates read from it, signed.
    const { slot, fact } = await cardSlot();
    expect(fact).toEqual({ connected: true, card: { cardNumber: CARD, insertions: 1 } });
    const read = await stated({ kind: 'card-certificates', reader: slot });
    expect(read.body).toMatchObject({ reader: slot, cardNumber: CARD });
    const certificates = [...(read.body as { certificates: readonly string[] }).certificates].sort();
    expect(certificates).toEqual(
      [auth, sign].map((c) => Buffer.from(c.certificate.rawData).toString('base64')).sort(),
    );

    expect(agent.flowEvents('flow-hsm').map((e) => `${e.type}${e.dialog ? `:${e.dialog}` : ''}`)).toEqual([
      'key-generation-started',
      'dialog-shown:auth',
      'dialog-completed:auth',
      'keys-generated',
      'dialog-shown:sign',
      'dialog-completed:sign',
      'certificates-written',
    ]);
  });

  it('enrols RSA-2048 keys on the card when the flow asks for them: CSRs signed sha256WithRSAEncryption on the token, RSA logins', async () => {
    const enrol = await agent.enrol(token, readerId, 'flow-rsa', 'rsa-2048');
    await answer(enrol, PIN);
    await answer(await until(enrol.id, (v) => v.dialog?.pin === 'pin2' || v.state !== 'pending'), PIN);
    const done = await until(enrol.id, (v) => v.state !== 'pending');
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    const { authCsr, signCsr } = done.result as { authCsr: string; signCsr: string };
    for (const [name, csr] of [
      ['rsa-auth', authCsr],
      ['rsa-sign', signCsr],
    ] as const) {
      const file = join(ca.dir, `${name}.csr`);
      await writeFile(file, csr);
      const shown = await run('openssl', ['req', '-in', file, '-noout', '-verify', '-text']);
      expect(`${shown.stdout}${shown.stderr}`).toMatch(/verify OK/i);
      expect(shown.stdout).toContain('Public-Key: (2048 bit)');
      expect(shown.stdout).toContain('Exponent: 65537');
      expect(shown.stdout).toContain('Signature Algorithm: sha256WithRSAEncryption');
    }
    const publicKeys = await listObjects('pubkey');
    expect(publicKeys.match(/Public Key Object; RSA 2048 bits/g)).toHaveLength(2);
    const privateKeys = (await listObjects('privkey'))
      .split(/\n(?=\S)/)
      .filter((b) => b.startsWith('Private Key Object'));
    expect(privateKeys).toHaveLength(2);
    for (const block of privateKeys) {
      expect(block).toMatch(/Private Key Object; RSA/);
      expect(block).toMatch(/Access:.*sensitive.*never extractable.*local/s);
    }

    // A CA set to RSA-2048 card keys certifies them; the card then logs in with PKCS#1 v1.5.
    const rsaCa = await createTestCa('sqlite', { cardKeyTypes: { LoA3: 'rsa-2048', LoA2: 'rsa-2048' } });
    try {
      const auth = await rsaCa.ca.issue(issueRequest(authCsr, { cardNumber: CARD }));
      const sign = await rsaCa.ca.issue(issueRequest(signCsr, { cardNumber: CARD, profile: 'card-sign' }));
      const write = await agent.writeCertificates(
        token,
        readerId,
        { auth: new Uint8Array(auth.certificate.rawData), sign: new Uint8Array(sign.certificate.rawData) },
        'flow-rsa',
      );
      expect((await until(write.id, (v) => v.state !== 'pending')).state).toBe('done');
      const challenge = new TextEncoder().encode('rsa login challenge');
      const login = await agent.authenticate(token, readerId, challenge, null);
      await answer(login, PIN);
      const result = (await until(login.id, (v) => v.state !== 'pending')).result as { signature: string };
      const publicKey = await auth.certificate.publicKey.export(webcrypto as unknown as Crypto);
      expect(
        await webcrypto.subtle.verify(
          'RSASSA-PKCS1-v1_5',
          publicKey,
          Buffer.from(result.signature, 'base64'),
          challenge,
        ),
      ).toBe(true);
    } finally {
      await rsaCa.dispose();
    }
  });

  it('gives CARD_REMOVED when the token disappears mid-enrolment, and a clean leaves no orphaned key', async () => {
    const enrol = await agent.enrol(token, readerId, 'flow-gone');
    await answer(enrol, PIN);
    await until(enrol.id, (v) => v.dialog?.pin === 'pin2' || v.state !== 'pending');
    const removedAt = Date.now();
    await removeCardToken(hsm, CARD);
    const failed = await until(enrol.id, (v) => v.state !== 'pending');
    expect(failed.error?.code).toMatch(/CARD_REMOVED|CARD_MISSING/);
    expect(Date.now() - removedAt).toBeLessThan(3000);

    await restoreCardToken(hsm, CARD);
    const deadline = Date.now() + 5000;
    while (!(await backend.readers()).some((r) => r.card?.cardNumber === CARD) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The token came back: the station counts it as a new insertion and states the event itself.
    const { fact } = await cardSlot();
    expect(fact.card?.insertions).toBe(2);
    const seen: { seq: number; type: string }[] = [];
    agent.subscribe((event) => seen.push(event), 0)();
    const inserted = seen.filter((e) => e.type === 'card-inserted').at(-1);
    if (!inserted) throw new Error('no card-inserted event');
    expect((await stated({ kind: 'event', eventSeq: inserted.seq })).body).toMatchObject({
      event: { type: 'card-inserted', cardNumber: CARD },
    });
    const clean = await agent.clean(token, readerId, 'flow-gone');
    await answer(clean, PIN);
    expect((await until(clean.id, (v) => v.state !== 'pending')).state).toBe('done');
    expect(await listObjects('privkey')).not.toContain('Private Key Object');
    expect(await backend.cardInfo(readerId)).toMatchObject({
      keys: { auth: false, sign: false },
      certificates: [],
    });
  });
});

describe('card statements on PKCS#11 (SoftHSM2): the card proves itself', () => {
  const SECOND = '9752278900000000785' as CardNumber;
  const NONCE = '00112233445566778899aabbccddeeff';
  let hsm: SoftHsm;
  let backend: Pkcs11Backend;
  let agent: CardAgent;
  let token: string;
  let stationDir: string;
  let stationCertificate: string;
  const bureau = new Map<string, Uint8Array>();

  const answer = async (view: OperationView, pin: string): Promise<void> => {
    if (!view.dialog) throw new Error('no dialog');
    agent.dialogShown(view.dialog.id);
    await agent.submitPin(view.dialog.id, pin);
  };
  const until = async (id: string, predicate: (v: OperationView) => boolean): Promise<OperationView> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const view = agent.operation(id);
      if (predicate(view)) return view;
      if (Date.now() > deadline) throw new Error(`stuck: ${JSON.stringify(view)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const stated = async (request: { kind: 'readers' | 'card-proof' | 'keys-generated'; reader?: 1 | 2 }) => {
    const signed = await agent.statement(token, { flowId: 'flow-card', nonce: NONCE, ...request });
    const checked = verifyStatement(signed, stationCertificate);
    expect(checked.valid).toBe(true);
    return checked.payload;
  };
  const bureauSpki = (cardNumber: string): Uint8Array => {
    const der = bureau.get(cardNumber);
    if (der === undefined) throw new Error(`no bureau certificate for ${cardNumber}`);
    return new Uint8Array(new X509Certificate(new Uint8Array(der)).publicKey.rawData);
  };
  const spkiOf = (pem: string): string =>
    Buffer.from(new Pkcs10CertificateRequest(pem).publicKey.rawData).toString('base64');

  beforeAll(async () => {
    hsm = await createSoftHsm();
    // Two cards, as at a station: the login card and the recipient's. Each carries what the card
    // bureau writes on a blank card, the key it proves itself with.
    for (const cardNumber of [CARD, SECOND]) {
      await createCardToken(hsm, { cardNumber, pin1: PIN, puk: PUK });
      const written = await writePkcs11BureauKey({
        module: hsm.module,
        target: { tokenLabel: cardNumber },
        pin: PIN,
        certify: (spki) => testBureauCertificate(spki, cardNumber),
      });
      bureau.set(cardNumber, written.certificate);
    }
    backend = await Pkcs11Backend.open({ module: hsm.module, pollIntervalMs: 100 });
    stationDir = await mkdtemp(join(tmpdir(), 'reservkort-station-'));
    agent = new CardAgent({
      backend,
      info: { version: '0.1.0', packaging: 'test' },
      station: StationIdentity.open(join(stationDir, 'station')),
    });
    token = agent.createSession().token;
    stationCertificate = await (await createStationCa()).issue((await agent.stationCsr(token, 'HSM')).csr);
    agent.installStationCertificate(token, stationCertificate);
  });
  afterAll(async () => {
    await agent?.close();
    await hsm?.dispose();
    if (stationDir) await rm(stationDir, { recursive: true, force: true });
  });

  it('signs the flow and nonce with the bureau key of the card in each reader (card-proof)', async () => {
    for (const slot of [1, 2] as const) {
      const body = (await stated({ kind: 'card-proof', reader: slot })).body as {
        cardNumber: CardNumber;
        bureauCertificate: string;
        cardSignature: string;
      };
      expect([CARD, SECOND]).toContain(body.cardNumber);
      expect(Buffer.from(body.bureauCertificate, 'base64')).toEqual(
        Buffer.from(bureau.get(body.cardNumber) ?? []),
      );
      const proven = cardProofBytes({ flowId: 'flow-card', nonce: NONCE, cardNumber: body.cardNumber });
      const signature = Buffer.from(body.cardSignature, 'base64');
      expect(cardSignatureVerifies(bureauSpki(body.cardNumber), signature, proven)).toBe(true);
    }
    // The bureau key is a private key object on the token: pkcs11-tool shows it, never extractable.
    const keys = await pkcs11Tool(hsm, [
      '--token-label',
      CARD,
      '--login',
      '--pin',
      PIN,
      '--list-objects',
      '--type',
      'privkey',
    ]);
    expect(keys).toMatch(/label:\s+card-auth[\s\S]*never extractable/);
  });

  it('states the keys it generated on the card in reader 2, with attributes read back, vouched for by the card', async () => {
    const readers = (await stated({ kind: 'readers' })).body as { readers: { 2: ReaderFact } };
    const recipient = readers.readers[2].card?.cardNumber;
    if (recipient == null) throw new Error('no card in reader 2');
    await expect(
      agent.statement(token, { flowId: 'flow-card', nonce: NONCE, kind: 'keys-generated', reader: 2 }),
    ).rejects.toMatchObject({ code: 'KEY_MISSING' });
    const readerId = (await backend.readers()).find((r) => r.card?.cardNumber === recipient)?.id;
    if (readerId === undefined) throw new Error('the recipient card is not listed');
    const enrol = await agent.enrol(token, readerId, 'flow-card');
    await answer(enrol, PIN);
    await answer(await until(enrol.id, (v) => v.dialog?.pin === 'pin2' || v.state !== 'pending'), PIN);
    const done = await until(enrol.id, (v) => v.state !== 'pending');
    expect(done.state).toBe('done');
    const { authCsr, signCsr } = done.result as { authCsr: string; signCsr: string };

    const body = (await stated({ kind: 'keys-generated', reader: 2 })).body as {
      cardNumber: CardNumber;
      keys: { auth: { spki: string }; sign: { spki: string } };
      cardSignature: string;
    };
    expect(body.cardNumber).toBe(recipient);
    expect(body.keys).toEqual({
      auth: { spki: spkiOf(authCsr), local: true, sensitive: true, neverExtractable: true },
      sign: { spki: spkiOf(signCsr), local: true, sensitive: true, neverExtractable: true },
    });
    const vouched = cardKeysBytes({
      flowId: 'flow-card',
      nonce: NONCE,
      cardNumber: recipient,
      authSpki: body.keys.auth.spki,
      signSpki: body.keys.sign.spki,
    });
    expect(
      cardSignatureVerifies(bureauSpki(recipient), Buffer.from(body.cardSignature, 'base64'), vouched),
    ).toBe(true);
    // Reader 1's card was not enrolled: no keys statement about it can be made.
    await expect(
      agent.statement(token, { flowId: 'flow-card', nonce: NONCE, kind: 'keys-generated', reader: 1 }),
    ).rejects.toMatchObject({ code: 'REQUEST_INVALID' });
  });
});

describe('PIN change and PUK unblock through the agent HTTP API on PKCS#11 (SoftHSM2)', () => {
  const PORTAL = 'http://localhost:3000';
  const OWN = 'http://localhost:80';
  let hsm: SoftHsm;
  let backend: Pkcs11Backend;
  let agent: CardAgent;
  let app: Awaited<ReturnType<typeof buildAgentApp>>;
  let token: string;
  let readerId: string;

  const call = async (url: string, body: unknown) => {
    const response = await app.inject({
      method: 'POST',
      url,
      headers: { origin: PORTAL, 'x-agent-session': token },
      payload: body as object,
    });
    return { status: response.statusCode, body: JSON.parse(response.body) };
  };
  const type = async (dialogId: string, attempt: { pin: string; newPin: string; repeat: string }) => {
    const response = await app.inject({
      method: 'POST',
      url: `/dialog/${dialogId}/attempt`,
      headers: { origin: OWN },
      payload: attempt,
    });
    return JSON.parse(response.body);
  };
  const settled = async (id: string): Promise<OperationView> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const view = agent.operation(id);
      if (view.state !== 'pending') return view;
      if (Date.now() > deadline) throw new Error(`stuck: ${JSON.stringify(view)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const logsIn = (pin: string) =>
    pkcs11Tool(hsm, ['--token-label', CARD, '--login', '--pin', pin, '--list-objects']).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    hsm = await createSoftHsm();
    await createCardToken(hsm, { cardNumber: CARD, pin1: PIN, puk: PUK });
    backend = await Pkcs11Backend.open({ module: hsm.module, pollIntervalMs: 100 });
    agent = new CardAgent({ backend, info: { version: '0.1.0', packaging: 'test' } });
    app = await buildAgentApp({ agent, portalOrigin: PORTAL });
    token = agent.createSession().token;
    const reader = (await backend.readers()).find((r) => r.card?.cardNumber === CARD);
    if (!reader) throw new Error('the card token is not listed as a card');
    readerId = reader.id;
  });
  afterAll(async () => {
    await app?.close();
    await agent?.close();
    await hsm?.dispose();
  });

  it('changes PIN 1 with C_SetPIN, blocks it with three wrong entries and unblocks it with the PUK (C_InitPIN as SO)', async () => {
    const change = await call(`/v1/readers/${readerId}/change-pin`, { pin: 'pin1' });
    expect(change).toMatchObject({ status: 202, body: { dialog: { entry: 'change' } } });
    expect(
      await type(change.body.dialog.id, { pin: PIN, newPin: '11223344', repeat: '11223344' }),
    ).toMatchObject({
      state: 'completed',
    });
    expect((await settled(change.body.id)).state).toBe('done');
    expect(await logsIn('11223344')).toBe(true);
    expect(await logsIn(PIN)).toBe(false);

    // Three wrong current PINs in the dialog block PIN 1.
    const wrong = await call(`/v1/readers/${readerId}/change-pin`, { pin: 'pin1' });
    const attempt = { pin: '999999', newPin: '55667788', repeat: '55667788' };
    expect(await type(wrong.body.dialog.id, attempt)).toMatchObject({
      lastError: { code: 'PIN_INCORRECT', details: { triesLeft: 2 } },
    });
    await type(wrong.body.dialog.id, attempt);
    expect(await type(wrong.body.dialog.id, attempt)).toMatchObject({ lastError: { code: 'PIN_BLOCKED' } });
    expect((await settled(wrong.body.id)).error?.code).toBe('PIN_BLOCKED');
    expect((await backend.cardInfo(readerId)).pins.pin1).toEqual({ triesLeft: 0, blocked: true });

    const unblock = await call(`/v1/readers/${readerId}/unblock-pin`, { pin: 'pin1' });
    expect(unblock.body.dialog).toMatchObject({ entry: 'unblock' });
    expect(
      await type(unblock.body.dialog.id, { pin: '87654321', newPin: '55667788', repeat: '55667788' }),
    ).toMatchObject({
      lastError: { code: 'PUK_INCORRECT', details: { triesLeft: 10 } },
    });
    expect(
      await type(unblock.body.dialog.id, { pin: PUK, newPin: '55667788', repeat: '55667788' }),
    ).toMatchObject({
      state: 'completed',
    });
    const done = await settled(unblock.body.id);
    expect(done.result).toMatchObject({
      pins: { pin1: { triesLeft: 3, blocked: false }, puk: { triesLeft: 11 } },
    });
    expect(await logsIn('55667788')).toBe(true);
    // Logging in through the agent: a login challenge signed after PIN 1, once there is a key.
    await backend.generateKey(readerId, CARD, 'auth', '55667788', 'ecdsa-p256');
    const login = await agent.authenticate(token, readerId, new Uint8Array([1, 2, 3]), null);
    if (!login.dialog) throw new Error('no dialog');
    await agent.submitPin(login.dialog.id, '55667788');
    expect((await settled(login.id)).state).toBe('done');
  });
});

/**
 * Production mode as a card holder meets it, on a SoftHSM2 token made up as a card with both keys:
 * PIN 1 blocked by three wrong PINs at login, unblocked with the PUK through the agent's HTTP route
 * and its dialog, PIN 2 changed, then the PUK typed wrong until the card is locked. pkcs11-tool
 * judges the token from outside: which PIN logs in, the token's flags, and the private keys still
 * on it, sensitive and not extractable.
 */
describe('production mode on SoftHSM2: a blocked PIN unblocked with the PUK, PIN 2 changed, the card locked by wrong PUKs', () => {
  const PORTAL = 'http://localhost:3000';
  const OWN = 'http://localhost:80';
  const UNBLOCKED = '55667788';
  const CHANGED = '99887766';
  let hsm: SoftHsm;
  let backend: Pkcs11Backend;
  let agent: CardAgent;
  let app: Awaited<ReturnType<typeof buildAgentApp>>;
  let token: string;
  let readerId: string;
  let stateDir: string;

  const call = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers: { origin: PORTAL, 'x-agent-session': token },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: response.statusCode, body: JSON.parse(response.body) };
  };
  const type = async (dialogId: string, attempt: { pin: string; newPin?: string; repeat?: string }) => {
    const response = await app.inject({
      method: 'POST',
      url: `/dialog/${dialogId}/attempt`,
      headers: { origin: OWN },
      payload: attempt,
    });
    return JSON.parse(response.body);
  };
  const settled = async (id: string): Promise<OperationView> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const view = agent.operation(id);
      if (view.state !== 'pending') return view;
      if (Date.now() > deadline) throw new Error(`stuck: ${JSON.stringify(view)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const pins = async () => (await call('GET', `/v1/readers/${readerId}/card`)).body.pins;
  /** The token's flags as pkcs11-tool prints them for the card's slot. */
  const tokenFlags = async (): Promise<string> => {
    const slots = await pkcs11Tool(hsm, ['--list-token-slots']);
    const slot = slots.split(/\n(?=Slot )/).find((block) => block.includes(CARD));
    return slot?.match(/token flags\s*:\s*(.*)/)?.[1] ?? '';
  };
  const logsIn = (pin: string) =>
    pkcs11Tool(hsm, ['--token-label', CARD, '--login', '--pin', pin, '--list-objects']).then(
      () => true,
      () => false,
    );
  /** An SO login with the PUK, proven by C_InitPIN setting the user PIN to the value it has. */
  const soLogsIn = (puk: string, userPin: string) =>
    pkcs11Tool(hsm, [
      '--token-label',
      CARD,
      '--login',
      '--login-type',
      'so',
      '--so-pin',
      puk,
      '--init-pin',
      '--new-pin',
      userPin,
    ]).then(
      () => true,
      () => false,
    );
  /** The private keys as pkcs11-tool lists them after a user login: each one's Access line. */
  const privateKeys = async (pin: string): Promise<string[][]> => {
    const listed = await pkcs11Tool(hsm, [
      '--token-label',
      CARD,
      '--login',
      '--pin',
      pin,
      '--list-objects',
      '--type',
      'privkey',
    ]);
    return listed
      .split(/\n(?=\S)/)
      .filter((block) => block.startsWith('Private Key Object'))
      .map((block) => (block.match(/Access:\s*(.*)/)?.[1] ?? '').split(',').map((a) => a.trim()));
  };

  beforeAll(async () => {
    hsm = await createSoftHsm();
    stateDir = await mkdtemp(join(tmpdir(), 'reservkort-pin-state-'));
    await createCardToken(hsm, { cardNumber: CARD, pin1: PIN, puk: PUK });
    backend = await Pkcs11Backend.open({
      module: hsm.module,
      pollIntervalMs: 100,
      stateFile: join(stateDir, 'pin-counters.json'),
    });
    agent = new CardAgent({ backend, info: { version: '0.1.0', packaging: 'test' } });
    app = await buildAgentApp({ agent, portalOrigin: PORTAL });
    token = agent.createSession().token;
    const reader = (await backend.readers()).find((r) => r.card?.cardNumber === CARD);
    if (!reader) throw new Error('the card token is not listed as a card');
    readerId = reader.id;
    // An issued card: both keys on it.
    await backend.generateKey(readerId, CARD, 'auth', PIN, 'ecdsa-p256');
    await backend.generateKey(readerId, CARD, 'sign', PIN, 'ecdsa-p256');
  });
  afterAll(async () => {
    await app?.close();
    await agent?.close();
    await hsm?.dispose();
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('blocks PIN 1 after three wrong PINs at login, unblocks it with the PUK in the dialog, changes PIN 2; the keys stay on the card', async () => {
    expect(await privateKeys(PIN)).toHaveLength(2);
    // Login: three wrong PINs in the dialog of one login.
    const login = await call('POST', `/v1/readers/${readerId}/authenticate`, {
      challenge: Buffer.from('login challenge').toString('base64'),
    });
    expect(login.status).toBe(202);
    expect(await type(login.body.dialog.id, { pin: '000000' })).toMatchObject({
      lastError: { code: 'PIN_INCORRECT', details: { triesLeft: 2 } },
    });
    expect(await type(login.body.dialog.id, { pin: '000000' })).toMatchObject({
      lastError: { code: 'PIN_INCORRECT', details: { triesLeft: 1 } },
    });
    expect(await type(login.body.dialog.id, { pin: '000000' })).toMatchObject({
      lastError: { code: 'PIN_BLOCKED' },
    });
    expect((await settled(login.body.id)).error?.code).toBe('PIN_BLOCKED');
    expect(await pins()).toEqual({
      pin1: { triesLeft: 0, blocked: true },
      pin2: { triesLeft: 3, blocked: false },
      puk: { triesLeft: 11, locked: false },
    });
    // SoftHSM2 only says "count low" (it sets it after any wrong PIN); it never reports a final
    // try or a locked PIN. The block is the agent's: the right PIN gets no dialog at all.
    const blockedFlags = await tokenFlags();
    expect(blockedFlags).toContain('user PIN count low');
    expect(blockedFlags).not.toMatch(/user PIN locked|user PIN final try/);
    const refused = await call('POST', `/v1/readers/${readerId}/authenticate`, {
      challenge: Buffer.from('again').toString('base64'),
    });
    expect((await settled(refused.body.id)).error?.code).toBe('PIN_BLOCKED');

    // Unblock through the agent's route and dialog: a wrong PUK first, then the right one.
    const unblock = await call('POST', `/v1/readers/${readerId}/unblock-pin`, { pin: 'pin1' });
    expect(unblock).toMatchObject({ status: 202, body: { dialog: { entry: 'unblock', pin: 'pin1' } } });
    expect(
      await type(unblock.body.dialog.id, { pin: '87654321', newPin: UNBLOCKED, repeat: UNBLOCKED }),
    ).toMatchObject({ lastError: { code: 'PUK_INCORRECT', details: { triesLeft: 10 } } });
    expect(
      await type(unblock.body.dialog.id, { pin: PUK, newPin: UNBLOCKED, repeat: UNBLOCKED }),
    ).toMatchObject({ state: 'completed' });
    expect((await settled(unblock.body.id)).result).toMatchObject({
      pins: { pin1: { triesLeft: 3, blocked: false }, puk: { triesLeft: 11, locked: false } },
    });
    // C_InitPIN in the SO session cleared the token's own count.
    expect(await tokenFlags()).not.toContain('user PIN count low');
    expect(await logsIn(UNBLOCKED)).toBe(true);
    expect(await logsIn(PIN)).toBe(false);

    // PIN 2: on a one-PIN token it is the same user PIN, changed with C_SetPIN.
    const change = await call('POST', `/v1/readers/${readerId}/change-pin`, { pin: 'pin2' });
    expect(change).toMatchObject({ status: 202, body: { dialog: { entry: 'change', pin: 'pin2' } } });
    expect(
      await type(change.body.dialog.id, { pin: UNBLOCKED, newPin: CHANGED, repeat: CHANGED }),
    ).toMatchObject({ state: 'completed' });
    expect((await settled(change.body.id)).state).toBe('done');
    expect(await logsIn(CHANGED)).toBe(true);
    expect(await logsIn(UNBLOCKED)).toBe(false);
    expect(await logsIn(PIN)).toBe(false);

    // Both private keys are still there, sensitive and never extractable (CKA_EXTRACTABLE false).
    const keys = await privateKeys(CHANGED);
    expect(keys).toHaveLength(2);
    for (const access of keys) {
      expect(access).toContain('sensitive');
      expect(access).toContain('never extractable');
      expect(access).not.toContain('extractable');
    }
    // And they still sign after the new PIN, through the agent.
    const signed = await call('POST', `/v1/readers/${readerId}/authenticate`, {
      challenge: Buffer.from('after the change').toString('base64'),
    });
    await type(signed.body.dialog.id, { pin: CHANGED });
    expect((await settled(signed.body.id)).state).toBe('done');
  });

  it('counts wrong PUKs down and locks the card on the eleventh; SoftHSM2 itself has no SO PIN counter', async () => {
    const unblock = await call('POST', `/v1/readers/${readerId}/unblock-pin`, { pin: 'pin1' });
    const attempt = { pin: '87654321', newPin: '24682468', repeat: '24682468' };
    for (let left = 10; left >= 1; left--) {
      expect(await type(unblock.body.dialog.id, attempt)).toMatchObject({
        lastError: { code: 'PUK_INCORRECT', details: { triesLeft: left } },
      });
    }
    expect(await type(unblock.body.dialog.id, attempt)).toMatchObject({ lastError: { code: 'CARD_LOCKED' } });
    expect((await settled(unblock.body.id)).error?.code).toBe('CARD_LOCKED');
    expect((await pins()).puk).toEqual({ triesLeft: 0, locked: true });

    // The agent refuses everything on the card from now on, the right PUK and PIN included.
    for (const [route, body] of [
      ['unblock-pin', { pin: 'pin1' }],
      ['change-pin', { pin: 'pin2' }],
      ['authenticate', { challenge: Buffer.from('locked').toString('base64') }],
    ] as const) {
      const started = await call('POST', `/v1/readers/${readerId}/${route}`, body);
      expect((await settled(started.body.id)).error?.code, route).toBe('CARD_LOCKED');
    }
    // SoftHSM2 says only "SO PIN count low" after eleven wrong SO PINs, never a final try or a
    // lock, and would still let the right one in: the lock is the agent's own count, kept in its
    // state file across restarts.
    const flags = await tokenFlags();
    expect(flags).toContain('SO PIN count low');
    expect(flags).not.toMatch(/SO PIN locked|SO PIN final try/);
    expect(await soLogsIn('87654321', CHANGED)).toBe(false);
    expect(await soLogsIn(PUK, CHANGED)).toBe(true);
    expect(await logsIn(CHANGED)).toBe(true);
    expect(await privateKeys(CHANGED)).toHaveLength(2);
    expect((await pins()).puk).toEqual({ triesLeft: 0, locked: true });
  });
});
