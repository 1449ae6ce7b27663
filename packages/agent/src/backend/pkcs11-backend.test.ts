// The PKCS#11 backend on SoftHSM2 tokens made up as cards, judged by the shared contract, by
// pkcs11-tool (OpenSC) looking at the token independently, and by OpenSSL verifying signatures.
//
// Every test gets a fresh SoftHSM2 directory: createSoftHsm points SOFTHSM2_CONF at it, and the
// module re-reads that at C_Initialize. The backend finalises the module when its last user closes,
// so each test opens on its own directory as long as the previous test closed its backend.
import { execFile } from 'node:child_process';
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CardNumber } from '@reservkort/domain';
import { acquireModule, releaseModule } from '@reservkort/pkcs11';
import pkcs11js from 'pkcs11js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSoftHsm, pkcs11Tool, type SoftHsm } from '../../../pki/src/test-support/softhsm.js';
import type { AgentError } from '../agent-error.js';
import { CardAgent } from '../card-agent.js';
import { testBureauCertificate } from '../test-support/bureau-certificate.js';
import { cardSignatureVerifies } from '../test-support/signature-check.js';
import { createCardToken, removeCardToken, restoreCardToken } from '../test-support/softhsm-cards.js';
import { type BackendHarness, cardBackendContract } from './card-backend.contract.js';
import { type BackendEvent, PIN_TRIES, PUK_TRIES, type ReaderId } from './card-backend.js';
import { certificateCardNumber } from './card-identity.js';
import { CARD_NUMBER_OBJECT_LABEL, Pkcs11Backend } from './pkcs11-backend.js';
import { initialisePkcs11Card, writePkcs11BureauKey } from './pkcs11-card-initialiser.js';
import { ckrCode } from './pkcs11-errors.js';

const run = promisify(execFile);

const CARD = '9752278900000000017' as CardNumber;
// One user PIN on a SoftHSM2 token: PIN 2 has the value of PIN 1 (see Pkcs11Backend).
const PINS = { pin1: '123456', pin2: '123456', puk: '12345678' } as const;

interface Fixture {
  readonly hsm: SoftHsm;
  readonly backend: Pkcs11Backend;
  readonly readerId: ReaderId;
  readonly scratch: string;
  readonly stateFile: string;
}

const openFixture = async (stateFile: 'file' | null = null): Promise<Fixture> => {
  const hsm = await createSoftHsm();
  await createCardToken(hsm, { cardNumber: CARD, pin1: PINS.pin1, puk: PINS.puk });
  const scratch = join(hsm.dir, 'agent');
  const statePath = join(scratch, 'pin-state.json');
  const backend = await Pkcs11Backend.open({
    module: hsm.module,
    pollIntervalMs: 40,
    stateFile: stateFile === null ? null : statePath,
  });
  const readerId = (await backend.readers()).find((r) => r.card?.cardNumber === CARD)?.id;
  if (readerId === undefined) throw new Error('the card token is not listed as a card');
  return { hsm, backend, readerId, scratch, stateFile: statePath };
};

const codeOf = async (promise: Promise<unknown>) => {
  const error = (await promise.then(
    () => null,
    (e: unknown) => e,
  )) as AgentError | null;
  if (error === null) throw new Error('expected an AgentError, the call succeeded');
  return { code: error.code, details: error.details as Record<string, unknown> };
};

/** pkcs11-tool's object listing, one block per object. */
const listObjects = async (hsm: SoftHsm, pin: string, type?: string): Promise<string[]> => {
  const listing = await pkcs11Tool(hsm, [
    '--token-label',
    CARD,
    '--login',
    '--pin',
    pin,
    '--list-objects',
    ...(type === undefined ? [] : ['--type', type]),
  ]);
  return listing.split(/\n(?=\S)/).filter((block) => block.trim().length > 0);
};

cardBackendContract('pkcs11 (SoftHSM2)', async (): Promise<BackendHarness> => {
  const f = await openFixture();
  return {
    backend: f.backend,
    readerId: f.readerId,
    cardNumber: CARD,
    pins: PINS,
    removeCard: () => removeCardToken(f.hsm, CARD),
    insertCard: () => restoreCardToken(f.hsm, CARD),
    installBureauKey: async (named = CARD) =>
      (
        await writePkcs11BureauKey({
          module: f.hsm.module,
          target: { tokenLabel: CARD },
          pin: PINS.pin1,
          certify: (spki) => testBureauCertificate(spki, named),
        })
      ).certificate,
    dispose: async () => {
      await f.backend.close();
      await f.hsm.dispose();
    },
  };
});

describe('PKCS#11 backend on SoftHSM2', () => {
  let f: Fixture;
  let backends: Pkcs11Backend[];
  beforeEach(async () => {
    f = await openFixture('file');
    backends = [f.backend];
  });
  afterEach(async () => {
    for (const backend of backends) await backend.close();
    await f?.hsm.dispose();
  });

  const restart = async (): Promise<Pkcs11Backend> => {
    await f.backend.close();
    const backend = await Pkcs11Backend.open({ module: f.hsm.module, stateFile: f.stateFile });
    backends.push(backend);
    f = { ...f, backend };
    return backend;
  };

  it('describes the module and reads the card number from the label or the data object', async () => {
    expect(f.backend.describe()).toEqual({
      kind: 'pkcs11',
      library: f.hsm.module,
      manufacturer: 'SoftHSM',
      version: expect.stringMatching(/^\d+\.\d+$/),
    });
    // A second card whose label is not its number: the data object carries it.
    const other = '9752278900000000025' as CardNumber;
    await createCardToken(f.hsm, {
      cardNumber: other,
      label: 'Reservkort 25',
      pin1: '2468',
      puk: '87654321',
    });
    // A blank card: no number anywhere.
    await createCardToken(f.hsm, {
      cardNumber: '',
      label: 'blank',
      pin1: '2468',
      puk: '87654321',
      numberObject: false,
    });
    const backend = await restart();
    const readers = await backend.readers();
    expect(readers.map((r) => r.card?.cardNumber).sort()).toEqual([CARD, other, null].sort());
    for (const reader of readers) {
      expect(reader.id).toMatch(/^slot-\d+$/);
      expect(reader.name).toMatch(/^SoftHSM slot ID 0x[0-9a-f]+$/);
    }
  });

  it('keeps readers in the order first seen; where tokens are slots, a token arriving takes the place one left', async () => {
    const events: BackendEvent[] = [];
    const unsubscribe = f.backend.subscribe((event) => events.push(event));
    const cards = async () => (await f.backend.readers()).map((r) => [r.id, r.card?.cardNumber ?? null]);
    const second = '9752278900000000033' as CardNumber;
    const third = '9752278900000000041' as CardNumber;
    // A new token is found while someone watches (SoftHSM2 lists only what it saw at C_Initialize).
    await createCardToken(f.hsm, { cardNumber: second, pin1: PINS.pin1, puk: PINS.puk });
    await expect.poll(cards, { timeout: 3000 }).toHaveLength(2);
    const [first, place2] = (await f.backend.readers()).map((r) => r.id);
    expect(first).toBe(f.readerId);
    expect(await cards()).toEqual([
      [f.readerId, CARD],
      [place2, second],
    ]);

    // The first card out, another in: it goes into the empty place, as into a reader.
    await removeCardToken(f.hsm, CARD);
    await expect.poll(cards, { timeout: 3000 }).toEqual([
      [f.readerId, null],
      [place2, second],
    ]);
    await createCardToken(f.hsm, { cardNumber: third, pin1: PINS.pin1, puk: PINS.puk });
    await expect.poll(cards, { timeout: 3000 }).toEqual([
      [f.readerId, third],
      [place2, second],
    ]);
    expect((await f.backend.cardInfo(f.readerId)).cardNumber).toBe(third);

    // The first card back finds its place taken: it gets a new one, after the others.
    await restoreCardToken(f.hsm, CARD);
    await expect.poll(cards, { timeout: 3000 }).toHaveLength(3);
    const [, , place3] = (await f.backend.readers()).map((r) => r.id);
    expect(place3).toMatch(new RegExp(`^${f.readerId}-2$`));
    expect((await f.backend.cardInfo(place3 ?? '')).cardNumber).toBe(CARD);
    unsubscribe();
    expect(
      events.map(
        (e) =>
          `${e.type} ${e.readerId === f.readerId ? 1 : e.readerId === place2 ? 2 : 3} ${e.cardNumber ?? '-'}`,
      ),
    ).toEqual([
      'reader-plugged 2 -',
      `card-inserted 2 ${second}`,
      `card-removed 1 ${CARD}`,
      `card-inserted 1 ${third}`,
      'reader-plugged 3 -',
      `card-inserted 3 ${CARD}`,
    ]);
  });

  it('refuses a module that cannot be loaded with a typed error', async () => {
    await expect(Pkcs11Backend.open({ module: join(f.hsm.dir, 'no-such-module.so') })).rejects.toMatchObject({
      code: 'CARD_ERROR',
      details: { reason: 'MODULE_LOAD' },
    });
  });

  it('shares the module between backends and stamps events with the time it is given', async () => {
    const second = await Pkcs11Backend.open({ module: f.hsm.module, pollIntervalMs: 20, now: () => 1234 });
    backends.push(second);
    const events: BackendEvent[] = [];
    const unsubscribe = second.subscribe((event) => events.push(event));
    await removeCardToken(f.hsm, CARD);
    await expect.poll(() => events.map((e) => e.type), { timeout: 2000 }).toContain('card-removed');
    // The first backend, on the same initialised module, sees the same.
    expect((await codeOf(f.backend.cardInfo(f.readerId))).code).toBe('CARD_MISSING');
    await restoreCardToken(f.hsm, CARD);
    await expect.poll(() => events.map((e) => e.type), { timeout: 2000 }).toContain('card-inserted');
    unsubscribe();
    expect(events).toEqual([
      { type: 'card-removed', readerId: f.readerId, cardNumber: CARD, at: 1234 },
      { type: 'card-inserted', readerId: f.readerId, cardNumber: CARD, at: 1234 },
    ]);
    expect((await f.backend.cardInfo(f.readerId)).cardNumber).toBe(CARD);
  });

  it('believes a card gone from its token slot only when it stays gone: a moment away is no event', async () => {
    // SoftHSM2 loses a token for a look while its files are rewritten; a token directory moved out
    // and back stands in for that moment, so the carrying is tested without racing a writer.
    const watcher = await Pkcs11Backend.open({
      module: f.hsm.module,
      pollIntervalMs: 20,
      vanishConfirmMs: 1500,
    });
    backends.push(watcher);
    const events: BackendEvent[] = [];
    const unsubscribe = watcher.subscribe((event) => events.push(event));
    await removeCardToken(f.hsm, CARD);
    // Asked while the card is away, the backend waits for a settled look instead of saying "gone".
    const asked = watcher.readers();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await restoreCardToken(f.hsm, CARD);
    expect((await asked).find((r) => r.id === f.readerId)?.card?.cardNumber).toBe(CARD);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events).toEqual([]);

    // Gone for good: believed once the confirmation time has passed, and then at once for a caller.
    const removedAt = performance.now();
    await removeCardToken(f.hsm, CARD);
    await expect.poll(() => events.map((e) => e.type), { timeout: 5000 }).toEqual(['card-removed']);
    expect(performance.now() - removedAt).toBeGreaterThanOrEqual(1500);
    expect((await codeOf(watcher.cardInfo(f.readerId))).code).toBe('CARD_MISSING');
    unsubscribe();
  });

  it('puts a card swapped in while the old one is not yet believed gone into the old one’s place', async () => {
    const watcher = await Pkcs11Backend.open({
      module: f.hsm.module,
      pollIntervalMs: 20,
      vanishConfirmMs: 5000,
    });
    backends.push(watcher);
    const events: BackendEvent[] = [];
    const unsubscribe = watcher.subscribe((event) => events.push(event));
    const other = '9752278900000000033' as CardNumber;
    await removeCardToken(f.hsm, CARD);
    await createCardToken(f.hsm, { cardNumber: other, pin1: PINS.pin1, puk: PINS.puk });
    await expect
      .poll(async () => (await watcher.readers()).map((r) => [r.id, r.card?.cardNumber ?? null]), {
        timeout: 3000,
      })
      .toEqual([[f.readerId, other]]);
    unsubscribe();
    expect(events.map((e) => `${e.type} ${e.readerId} ${e.cardNumber}`)).toEqual([
      `card-removed ${f.readerId} ${CARD}`,
      `card-inserted ${f.readerId} ${other}`,
    ]);
  });

  it('keeps both private keys on the card, sensitive and never extractable, and signs verifiably', async () => {
    const auth = await f.backend.generateKey(f.readerId, CARD, 'auth', PINS.pin1, 'rsa-2048');
    const sign = await f.backend.generateKey(f.readerId, CARD, 'sign', PINS.pin1, 'ecdsa-p256');
    expect(auth.spec).toBe('rsa-2048');

    const privateKeys = (await listObjects(f.hsm, PINS.pin1)).filter((b) =>
      b.startsWith('Private Key Object'),
    );
    expect(privateKeys).toHaveLength(2);
    for (const block of privateKeys) {
      expect(block).toMatch(/Access:.*\bsensitive\b/);
      expect(block).toMatch(/Access:.*never extractable/);
      expect(block).not.toMatch(/Usage:.*decrypt/);
    }
    expect(privateKeys.find((b) => b.includes('reservkort-sign'))).toMatch(/always authenticate/);
    expect(privateKeys.find((b) => b.includes('reservkort-auth'))).toMatch(/ID:\s+01/);
    // RSA-2048 made on the card (CKA_LOCAL), exponent 65537, as pkcs11-tool and node:crypto read it.
    const rsaPrivate = privateKeys.find((b) => b.includes('reservkort-auth'));
    expect(rsaPrivate).toMatch(/Private Key Object; RSA/);
    expect(rsaPrivate).toMatch(/Access:.*\blocal\b/);
    const publicKeys = (await listObjects(f.hsm, PINS.pin1)).filter((b) => b.startsWith('Public Key Object'));
    expect(publicKeys.find((b) => b.includes('reservkort-auth'))).toMatch(/Public Key Object; RSA 2048 bits/);
    expect(
      createPublicKey({ key: Buffer.from(auth.spki), format: 'der', type: 'spki' }).asymmetricKeyDetails,
    ).toEqual({
      modulusLength: 2048,
      publicExponent: 65537n,
    });
    expect(auth.attributes).toEqual({ local: true, sensitive: true, neverExtractable: true });

    // RSA PKCS#1 v1.5 with SHA-256, checked by OpenSSL against the SPKI the backend returned.
    const data = new TextEncoder().encode('login challenge');
    const rsaSignature = await f.backend.sign(f.readerId, CARD, 'auth', PINS.pin1, data);
    const dir = await mkdtemp(join(tmpdir(), 'reservkort-verify-'));
    try {
      const pem = `-----BEGIN PUBLIC KEY-----\n${Buffer.from(auth.spki).toString('base64')}\n-----END PUBLIC KEY-----\n`;
      await writeFile(join(dir, 'key.pem'), pem.replace(/(.{64})/g, '$1\n').replace(/\n\n/g, '\n'));
      await writeFile(join(dir, 'data'), data);
      await writeFile(join(dir, 'sig'), rsaSignature);
      const { stdout } = await run('openssl', [
        'dgst',
        '-sha256',
        '-verify',
        join(dir, 'key.pem'),
        '-signature',
        join(dir, 'sig'),
        join(dir, 'data'),
      ]);
      expect(stdout).toMatch(/Verified OK/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    // ECDSA as raw r‖s, checked by node:crypto (OpenSSL underneath) and WebCrypto.
    const ecSignature = await f.backend.sign(f.readerId, CARD, 'sign', PINS.pin2, data);
    expect(ecSignature).toHaveLength(64);
    const spki = { key: Buffer.from(sign.spki), format: 'der', type: 'spki' } as const;
    expect(verifySignature('sha256', data, { ...spki, dsaEncoding: 'ieee-p1363' }, ecSignature)).toBe(true);
    expect(cardSignatureVerifies(sign.spki, ecSignature, data)).toBe(true);
  });

  it('stores certificates that pkcs11-tool and cardInfo both list', async () => {
    await f.backend.generateKey(f.readerId, CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    await f.backend.generateKey(f.readerId, CARD, 'sign', PINS.pin1, 'ecdsa-p256');
    const dir = await mkdtemp(join(tmpdir(), 'reservkort-cert-'));
    let der: Buffer;
    try {
      await run('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-subj',
        '/CN=Reservkort test/serialNumber=SE2321000016-abc1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-outform',
        'DER',
        '-out',
        join(dir, 'cert.der'),
      ]);
      der = await readFile(join(dir, 'cert.der'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await f.backend.writeCertificate(f.readerId, CARD, 'auth', PINS.pin1, der);
    await f.backend.writeCertificate(f.readerId, CARD, 'sign', PINS.pin1, der);
    // Writing again replaces: still one certificate per key.
    await f.backend.writeCertificate(f.readerId, CARD, 'sign', PINS.pin1, der);

    const certificates = await listObjects(f.hsm, PINS.pin1, 'cert');
    expect(certificates).toHaveLength(2);
    expect(certificates.join('\n')).toMatch(/reservkort-auth/);
    expect(certificates.join('\n')).toMatch(/reservkort-sign/);
    expect(certificates.join('\n')).toMatch(/Reservkort test/);

    const info = await f.backend.cardInfo(f.readerId);
    expect(info.keys).toEqual({ auth: true, sign: true });
    expect(info.certificates.map((c) => c.key)).toEqual(['auth', 'sign']);
    for (const certificate of info.certificates) expect(Buffer.from(certificate.der).equals(der)).toBe(true);

    await f.backend.clean(f.readerId, CARD, PINS.pin1);
    expect(await listObjects(f.hsm, PINS.pin1, 'cert')).toEqual([]);
    // The card number stays, so the card can be issued again.
    expect((await listObjects(f.hsm, PINS.pin1, 'data')).join('\n')).toMatch(/card-number/);
  });

  it('keeps wrong PIN and PUK counts across a restart (state file)', async () => {
    const data = new Uint8Array([1]);
    await f.backend.generateKey(f.readerId, CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    expect(await codeOf(f.backend.sign(f.readerId, CARD, 'auth', '000000', data))).toMatchObject({
      code: 'PIN_INCORRECT',
      details: { triesLeft: 2 },
    });
    expect(await codeOf(f.backend.sign(f.readerId, CARD, 'sign', '000000', data))).toMatchObject({
      code: 'KEY_MISSING',
    });
    expect(await codeOf(f.backend.unblockPin(f.readerId, CARD, 'pin2', '00000000', '2468'))).toMatchObject({
      code: 'PUK_INCORRECT',
      details: { triesLeft: PUK_TRIES },
    });

    let backend = await restart();
    expect((await backend.cardInfo(f.readerId)).pins).toEqual({
      pin1: { triesLeft: 2, blocked: false },
      pin2: { triesLeft: PIN_TRIES, blocked: false },
      puk: { triesLeft: PUK_TRIES, locked: false },
    });
    expect(await codeOf(backend.sign(f.readerId, CARD, 'auth', '000000', data))).toMatchObject({
      code: 'PIN_INCORRECT',
      details: { triesLeft: 1 },
    });
    expect((await codeOf(backend.sign(f.readerId, CARD, 'auth', '000000', data))).code).toBe('PIN_BLOCKED');

    backend = await restart();
    // SoftHSM2 itself would let the right PIN in: the backend does not.
    expect((await codeOf(backend.sign(f.readerId, CARD, 'auth', PINS.pin1, data))).code).toBe('PIN_BLOCKED');
    expect((await codeOf(backend.generateKey(f.readerId, CARD, 'sign', PINS.pin1, 'ecdsa-p256'))).code).toBe(
      'PIN_BLOCKED',
    );
    expect((await codeOf(backend.unblockPin(f.readerId, CARD, 'pin1', PINS.puk, '12'))).code).toBe(
      'PIN_FORMAT',
    );
    await backend.unblockPin(f.readerId, CARD, 'pin1', PINS.puk, '4321');
    expect((await backend.cardInfo(f.readerId)).pins.puk).toEqual({
      triesLeft: PUK_TRIES + 1,
      locked: false,
    });
    await backend.sign(f.readerId, CARD, 'auth', '4321', data);
    // On a one-PIN token the new PIN is PIN 2 as well.
    await backend.generateKey(f.readerId, CARD, 'sign', '4321', 'ecdsa-p256');
    await backend.sign(f.readerId, CARD, 'sign', '4321', data);
  });

  it('changes the user PIN with C_SetPIN and unblocks it with the PUK as SO PIN, as pkcs11-tool sees', async () => {
    const logsIn = (pin: string) =>
      listObjects(f.hsm, pin).then(
        () => true,
        () => false,
      );
    await f.backend.changePin(f.readerId, CARD, 'pin1', PINS.pin1, '24681357');
    expect(await logsIn('24681357')).toBe(true);
    expect(await logsIn(PINS.pin1)).toBe(false);

    // Blocked by three wrong entries (the backend's own count: SoftHSM2 never blocks), then
    // unblocked with the PUK: C_Login as SO with the PUK, C_InitPIN with the new PIN.
    for (let i = 0; i < PIN_TRIES; i++)
      await f.backend.changePin(f.readerId, CARD, 'pin1', '000000', '4321').catch(() => undefined);
    expect((await f.backend.cardInfo(f.readerId)).pins.pin1).toEqual({ triesLeft: 0, blocked: true });
    await f.backend.unblockPin(f.readerId, CARD, 'pin1', PINS.puk, '13572468');
    expect((await f.backend.cardInfo(f.readerId)).pins.pin1).toEqual({
      triesLeft: PIN_TRIES,
      blocked: false,
    });
    expect(await logsIn('13572468')).toBe(true);
    expect(await logsIn('24681357')).toBe(false);
    // The PUK itself is unchanged (it is the token's SO PIN) and its count is back to full.
    expect((await f.backend.cardInfo(f.readerId)).pins.puk).toEqual({
      triesLeft: PUK_TRIES + 1,
      locked: false,
    });
    await f.backend.unblockPin(f.readerId, CARD, 'pin2', PINS.puk, '86427531');
    expect(await logsIn('86427531')).toBe(true);
  });

  it('locks the card for good on the eleventh wrong PUK', async () => {
    for (let wrong = 1; wrong <= PUK_TRIES; wrong++) {
      expect(await codeOf(f.backend.unblockPin(f.readerId, CARD, 'pin1', '00000000', '2468'))).toMatchObject({
        code: 'PUK_INCORRECT',
        details: { triesLeft: PUK_TRIES + 1 - wrong },
      });
    }
    expect((await codeOf(f.backend.unblockPin(f.readerId, CARD, 'pin1', '00000000', '2468'))).code).toBe(
      'CARD_LOCKED',
    );
    const backend = await restart();
    expect((await backend.cardInfo(f.readerId)).pins.puk).toEqual({ triesLeft: 0, locked: true });
    expect((await codeOf(backend.unblockPin(f.readerId, CARD, 'pin1', PINS.puk, '2468'))).code).toBe(
      'CARD_LOCKED',
    );
    expect((await codeOf(backend.generateKey(f.readerId, CARD, 'auth', PINS.pin1, 'ecdsa-p256'))).code).toBe(
      'CARD_LOCKED',
    );
    expect((await codeOf(backend.clean(f.readerId, CARD, PINS.pin1))).code).toBe('CARD_LOCKED');
  });

  it('answers promptly when the card leaves between two key generations, and cleans up after', async () => {
    await f.backend.generateKey(f.readerId, CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    await removeCardToken(f.hsm, CARD);
    const started = Date.now();
    const { code } = await codeOf(f.backend.generateKey(f.readerId, CARD, 'sign', PINS.pin1, 'ecdsa-p256'));
    expect(['CARD_REMOVED', 'CARD_MISSING']).toContain(code);
    expect(Date.now() - started).toBeLessThan(2000);
    // The reader stays, empty.
    expect((await f.backend.readers()).find((r) => r.id === f.readerId)?.card).toBeNull();

    await restoreCardToken(f.hsm, CARD);
    expect((await f.backend.readers()).find((r) => r.id === f.readerId)?.card).toEqual({ cardNumber: CARD });
    await f.backend.clean(f.readerId, CARD, PINS.pin1);
    expect((await listObjects(f.hsm, PINS.pin1)).filter((b) => b.startsWith('Private Key Object'))).toEqual(
      [],
    );
  });

  it('answers CARD_REMOVED when the card leaves during key generation', async () => {
    const generating = f.backend.generateKey(f.readerId, CARD, 'sign', PINS.pin1, 'rsa-2048');
    // The backend is already inside C_GenerateKeyPair (RSA takes a while) when the directory moves.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await removeCardToken(f.hsm, CARD);
    const { code } = await codeOf(generating);
    expect(['CARD_REMOVED', 'CARD_MISSING']).toContain(code);

    await restoreCardToken(f.hsm, CARD);
    await f.backend.clean(f.readerId, CARD, PINS.pin1);
    expect((await listObjects(f.hsm, PINS.pin1)).filter((b) => b.startsWith('Private Key Object'))).toEqual(
      [],
    );
    expect((await f.backend.cardInfo(f.readerId)).keys).toEqual({ auth: false, sign: false });
  });
});

/** PKCS#11 v2.40's CKR_ACTION_PROHIBITED, which pkcs11js has no name for. */
const CKR_ACTION_PROHIBITED = 0x1b;

/**
 * The CKR_ code a call answers with; fails the test if the call succeeds. pkcs11js leaves some
 * errors (C_SetAttributeValue's) with the code only in the message, as CKR_VENDOR_DEFINED:27.
 */
const ckrOf = (call: () => unknown): number | null => {
  try {
    call();
  } catch (error) {
    const inMessage = /^CKR_[A-Z_]+:(\d+)$/.exec(error instanceof Error ? error.message : '');
    return ckrCode(error) ?? (inMessage ? Number(inMessage[1]) : null);
  }
  throw new Error('expected the module to refuse, it did not');
};

describe('the card number on a SoftHSM2 card', () => {
  let f: Fixture;
  let backends: Pkcs11Backend[];
  beforeEach(async () => {
    f = await openFixture();
    backends = [f.backend];
  });
  afterEach(async () => {
    for (const backend of backends) await backend.close();
    await f?.hsm.dispose();
  });

  /** A new backend on the same tokens: an agent that sees the cards in their readers for the first time. */
  const restart = async (): Promise<Pkcs11Backend> => {
    const backend = await Pkcs11Backend.open({ module: f.hsm.module });
    backends.push(backend);
    return backend;
  };
  const readerOf = async (backend: Pkcs11Backend, cardNumber: string): Promise<ReaderId> => {
    const reader = (await backend.readers()).find((r) => r.card?.cardNumber === cardNumber);
    if (reader === undefined) throw new Error(`no reader holds card ${cardNumber}`);
    return reader.id;
  };
  /** What anyone with the card in a reader can do to a public object: no --login, no PIN. */
  const withoutPin = (label: string, args: readonly string[]) =>
    pkcs11Tool(f.hsm, [
      '--token-label',
      label,
      ...args,
      '--type',
      'data',
      '--label',
      CARD_NUMBER_OBJECT_LABEL,
    ]);
  const rewriteWithoutPin = async (label: string, cardNumber: string) => {
    await withoutPin(label, ['--delete-object']);
    const file = join(f.hsm.dir, 'forged-number');
    await writeFile(file, cardNumber);
    await withoutPin(label, ['--write-object', file]);
  };

  it('is written by card init readable without a PIN, and can be neither deleted nor changed, not even with the PIN', async () => {
    const number = '9752278900000000041' as CardNumber;
    const label = 'Reservkort 41';
    await initialisePkcs11Card({
      module: f.hsm.module,
      target: { slot: 'free' },
      cardNumber: number,
      label,
      pin: PINS.pin1,
      puk: PINS.puk,
    });
    const backend = await restart();
    await readerOf(backend, number);
    expect(await withoutPin(label, ['--read-object'])).toBe(number);

    // OpenSC, in a session without login, as in the attack this guards against: 0x1b is CKR_ACTION_PROHIBITED.
    await expect(withoutPin(label, ['--delete-object'])).rejects.toThrow(
      /C_DestroyObject\(\) failed: rv = .*0x1b/,
    );

    // The module itself, in a public session and then after the PIN: the object stays as it was.
    const module = acquireModule(f.hsm.module);
    try {
      const lib = module.lib;
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === label);
      if (slot === undefined) throw new Error(`no token ${label}`);
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        lib.C_FindObjectsInit(session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
          { type: pkcs11js.CKA_LABEL, value: CARD_NUMBER_OBJECT_LABEL },
        ]);
        const [object] = lib.C_FindObjects(session, 2);
        lib.C_FindObjectsFinal(session);
        if (object === undefined) throw new Error('no card-number object');
        const forged = [{ type: pkcs11js.CKA_VALUE, value: Buffer.from('9752278900000000058') }];
        const refusals = () => [
          ckrOf(() => lib.C_SetAttributeValue(session, object, forged)),
          ckrOf(() => lib.C_DestroyObject(session, object)),
        ];
        // SoftHSM2 2.6 refuses both with CKR_ACTION_PROHIBITED (PKCS#11 v2.40), in either session.
        expect(refusals()).toEqual([CKR_ACTION_PROHIBITED, CKR_ACTION_PROHIBITED]);
        lib.C_Login(session, pkcs11js.CKU_USER, PINS.pin1);
        expect(refusals()).toEqual([CKR_ACTION_PROHIBITED, CKR_ACTION_PROHIBITED]);
        const [value] = lib.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_VALUE }]);
        expect(value?.value?.toString('latin1')).toBe(number);
        lib.C_Logout(session);
      } finally {
        lib.C_CloseSession(session);
      }
    } finally {
      releaseModule(module);
    }
    expect((await backend.cardInfo(await readerOf(backend, number))).cardNumber).toBe(number);
  });

  it('answers WRONG_CARD, at insertion and on every read, for a card whose old modifiable object was rewritten without a PIN', async () => {
    // A card made before the object was read-only: its number only in the object, and in its bureau certificate.
    const number = '9752278900000000058' as CardNumber;
    const forgedNumber = '9752278900000000066';
    const label = 'Reservkort 58';
    await createCardToken(f.hsm, { cardNumber: number, label, pin1: PINS.pin1, puk: PINS.puk });
    // SoftHSM2 lists a new token once the module is initialised afresh: after its last user closed.
    await f.backend.close();
    await writePkcs11BureauKey({
      module: f.hsm.module,
      target: { tokenLabel: label },
      pin: PINS.pin1,
      certify: (spki) => testBureauCertificate(spki, number),
    });
    const backend = await restart();
    const reader = await readerOf(backend, number);
    expect((await backend.cardInfo(reader)).cardNumber).toBe(number);

    await rewriteWithoutPin(label, forgedNumber);
    expect(await withoutPin(label, ['--read-object'])).toBe(forgedNumber);

    // Read in its reader: the object now names another card than the certificate does.
    const read = await codeOf(backend.cardInfo(reader));
    expect(read).toEqual({
      code: 'WRONG_CARD',
      details: {
        reader,
        expected: forgedNumber,
        actual: number,
        sources: 'card-number object / card bureau certificate',
      },
    });
    await expect(backend.proveCard(reader, number, new Uint8Array([1]))).rejects.toThrow(
      `the card in reader ${reader} names two card numbers: the card-number object says ${forgedNumber}, the card bureau certificate says ${number}`,
    );

    // Put in where an agent sees it first: the card shows the forged number, and binding to it fails.
    const fresh = await restart();
    const freshReader = await readerOf(fresh, forgedNumber);
    const agent = new CardAgent({ backend: fresh, info: { version: '0.1.0', packaging: 'test' } });
    const session = agent.createSession().token;
    expect(await codeOf(agent.bind(session, freshReader))).toMatchObject({
      code: 'WRONG_CARD',
      details: { expected: forgedNumber, actual: number },
    });

    // A card whose label is its number: an object rewritten beside it disagrees with the label.
    await rewriteWithoutPin(CARD, forgedNumber);
    expect(await codeOf(fresh.cardInfo(await readerOf(fresh, CARD)))).toMatchObject({
      code: 'WRONG_CARD',
      details: { expected: CARD, actual: forgedNumber, sources: 'token label / card-number object' },
    });
  });

  it('reads a good card as before: the label, the object and the certificates of a freshly issued card agree', async () => {
    await writePkcs11BureauKey({
      module: f.hsm.module,
      target: { tokenLabel: CARD },
      pin: PINS.pin1,
      certify: (spki) => testBureauCertificate(spki, CARD),
    });
    await f.backend.generateKey(f.readerId, CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    const info = await f.backend.cardInfo(f.readerId);
    expect(info.cardNumber).toBe(CARD);
    expect(
      certificateCardNumber((await f.backend.proveCard(f.readerId, CARD, new Uint8Array([1]))).certificate),
    ).toBe(CARD);
  });
});
