import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyUsageFlags, KeyUsagesExtension, X509Certificate, X509CertificateGenerator } from '@peculiar/x509';
import type { CardNumber } from '@reservkort/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAgentError } from '../agent-error.js';
import { cardNumberExtension, testBureauCertificate } from '../test-support/bureau-certificate.js';
import { cardSignatureVerifies } from '../test-support/signature-check.js';
import { type BackendHarness, cardBackendContract } from './card-backend.contract.js';
import { type BackendEvent, PIN_TRIES, PUK_TRIES } from './card-backend.js';
import { VirtualBackend, type VirtualBackendOptions } from './virtual-backend.js';

const CARD = '9752278900000000100' as CardNumber;
const OTHER = '9752278900000000200' as CardNumber;
const PINS = { pin1: '1234', pin2: '5678', puk: '12345678' } as const;

const failure = async (
  promise: Promise<unknown>,
): Promise<{ code: string; details: Record<string, unknown> }> => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isAgentError(error)) throw new Error(`expected an AgentError, got ${String(error)}`);
  return { code: error.code, details: { ...error.details } };
};

const harness =
  (stateFile: () => Promise<{ file: string | null; cleanup: () => Promise<void> }>) => async () => {
    const { file, cleanup } = await stateFile();
    const backend = await VirtualBackend.open({ stateFile: file });
    await backend.createCard({ cardNumber: CARD, ...PINS, label: 'Kontraktskort' });
    await backend.insertCard('reader-1', CARD);
    const h: BackendHarness = {
      backend,
      readerId: 'reader-1',
      cardNumber: CARD,
      pins: PINS,
      removeCard: () => backend.removeCard('reader-1'),
      insertCard: () => backend.insertCard('reader-1', CARD),
      installBureauKey: async (named = CARD) =>
        (
          await backend.installBureauKey(CARD, (spki) => testBureauCertificate(spki, named), {
            replace: true,
          })
        ).certificate,
      dispose: async () => {
        await backend.close();
        await cleanup();
      },
    };
    return h;
  };

const temporaryDirectory = () => mkdtemp(join(tmpdir(), 'virtual-backend-'));

const crypto = webcrypto as unknown as Crypto;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** The card number extension, as the bureau writes it. */
const CARD_NUMBER_OID = '1.2.752.34.2.1';

/** A card bureau whose key the test keeps, so it can tell its own certificates from copies. */
const testBureau = async () => {
  const keys = (await crypto.subtle.generateKey(EC, false, ['sign', 'verify'])) as CryptoKeyPair;
  const certify = async (spki: Uint8Array, cardNumber: CardNumber): Promise<Uint8Array> => {
    const publicKey = await crypto.subtle.importKey('spki', new Uint8Array(spki), EC, true, ['verify']);
    const certificate = await X509CertificateGenerator.create(
      {
        serialNumber: '7a3f',
        subject: `CN=Reservkort ${cardNumber}, 2.5.4.5=${cardNumber}`,
        issuer: 'CN=Kortbyrån Test CA',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
        extensions: [
          new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
          cardNumberExtension(cardNumber),
        ],
        publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: EC,
      },
      crypto,
    );
    return new Uint8Array(certificate.rawData);
  };
  const signed = (der: Uint8Array) =>
    new X509Certificate(new Uint8Array(der)).verify(
      { publicKey: keys.publicKey, signatureOnly: true },
      crypto,
    );
  return { certify, signed };
};

const publicKeyOf = (der: Uint8Array): Uint8Array =>
  new Uint8Array(new X509Certificate(new Uint8Array(der)).publicKey.rawData);

cardBackendContract(
  'virtual (in memory)',
  harness(async () => ({ file: null, cleanup: async () => undefined })),
);

cardBackendContract(
  'virtual (state file)',
  harness(async () => {
    const dir = await temporaryDirectory();
    return { file: join(dir, 'state.json'), cleanup: () => rm(dir, { recursive: true, force: true }) };
  }),
);

describe('VirtualBackend', () => {
  let dir: string;
  const opened: VirtualBackend[] = [];
  const open = async (options: Partial<VirtualBackendOptions> = {}): Promise<VirtualBackend> => {
    const backend = await VirtualBackend.open({ stateFile: null, ...options });
    opened.push(backend);
    return backend;
  };
  /** A backend with the card in reader-1. */
  const withCard = async (options: Partial<VirtualBackendOptions> = {}): Promise<VirtualBackend> => {
    const backend = await open(options);
    await backend.createCard({ cardNumber: CARD, ...PINS });
    await backend.insertCard('reader-1', CARD);
    return backend;
  };

  beforeEach(async () => {
    dir = await temporaryDirectory();
  });
  afterEach(async () => {
    for (const backend of opened.splice(0)) await backend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts with two connected, empty readers and describes itself as virtual', async () => {
    const backend = await open();
    expect(await backend.readers()).toEqual([
      { id: 'reader-1', name: 'Virtuell kortläsare 1', card: null },
      { id: 'reader-2', name: 'Virtuell kortläsare 2', card: null },
    ]);
    expect(backend.describe()).toEqual({
      kind: 'virtual',
      library: 'virtual',
      manufacturer: 'Reservkort',
      version: '1.0',
    });
    expect(await (await open({ readers: 4 })).readers()).toHaveLength(4);
  });

  it('survives a restart: card, key, PIN counters and reader contents come back from the state file', async () => {
    const stateFile = join(dir, 'agent', 'virtual.json');
    const data = new TextEncoder().encode('before the restart');
    const first = await withCard({ stateFile });
    await first.createCard({ cardNumber: OTHER, ...PINS, label: 'Reserv' });
    await first.insertCard('reader-2', OTHER);
    const generated = await first.generateKey('reader-1', CARD, 'sign', PINS.pin1, 'ecdsa-p256');
    await first.writeCertificate('reader-1', CARD, 'sign', PINS.pin1, new Uint8Array([0x30, 0x00]));
    expect((await failure(first.sign('reader-1', CARD, 'sign', '0000', data))).code).toBe('PIN_INCORRECT');
    expect((await failure(first.unblockPin('reader-1', CARD, 'pin1', '00000000', '4321'))).code).toBe(
      'PUK_INCORRECT',
    );
    await first.removeCard('reader-2');
    await first.close();

    const second = await open({ stateFile });
    expect(await second.readers()).toEqual([
      { id: 'reader-1', name: 'Virtuell kortläsare 1', card: { cardNumber: CARD } },
      { id: 'reader-2', name: 'Virtuell kortläsare 2', card: null },
    ]);
    expect(await second.listCards()).toEqual([
      { cardNumber: CARD, label: null, readerId: 'reader-1', locked: false },
      { cardNumber: OTHER, label: 'Reserv', readerId: null, locked: false },
    ]);
    const info = await second.cardInfo('reader-1');
    expect(info.keys).toEqual({ auth: false, sign: true });
    expect(info.certificates).toEqual([{ key: 'sign', der: new Uint8Array([0x30, 0x00]) }]);
    expect(info.pins).toEqual({
      pin1: { triesLeft: PIN_TRIES, blocked: false },
      pin2: { triesLeft: PIN_TRIES - 1, blocked: false },
      puk: { triesLeft: PUK_TRIES, locked: false },
    });
    const signature = await second.sign('reader-1', CARD, 'sign', PINS.pin2, data);
    expect(cardSignatureVerifies(generated.spki, signature, data)).toBe(true);
    expect((await second.cardInfo('reader-1')).pins.pin2.triesLeft).toBe(PIN_TRIES);
  });

  it('keeps the state file private and free of PINs and PUKs in clear', async () => {
    const stateFile = join(dir, 'virtual.json');
    // Eight digits each, so a chance match inside base64 is out of the question.
    const secrets = { pin1: '40718263', pin2: '59271364', puk: '83920475' };
    const backend = await open({ stateFile });
    await backend.createCard({ cardNumber: CARD, ...secrets });
    await backend.insertCard('reader-1', CARD);
    await backend.generateKey('reader-1', CARD, 'auth', secrets.pin1, 'ecdsa-p256');
    await backend.unblockPin('reader-1', CARD, 'pin2', secrets.puk, '61538290');
    const text = await readFile(stateFile, 'utf8');
    for (const secret of [...Object.values(secrets), '61538290']) expect(text).not.toContain(secret);
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(text)).toMatchObject({ format: 'reservkort-virtual-cards', version: 1 });
  });

  it('refuses a state file it cannot read rather than starting empty', async () => {
    const stateFile = join(dir, 'broken.json');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      stateFile,
      '{"format":"reservkort-virtual-cards","version":1,"readers":[{"id":1}],"cards":[]}',
    );
    expect((await failure(VirtualBackend.open({ stateFile }))).code).toBe('CARD_ERROR');
  });

  it('locks the card for good after more than ten wrong PUKs', async () => {
    const backend = await withCard();
    for (let wrong = 1; wrong <= PUK_TRIES; wrong++) {
      expect(await failure(backend.unblockPin('reader-1', CARD, 'pin1', '00000000', '4321'))).toMatchObject({
        code: 'PUK_INCORRECT',
        details: { triesLeft: PUK_TRIES + 1 - wrong },
      });
    }
    expect((await backend.cardInfo('reader-1')).pins.puk).toEqual({ triesLeft: 1, locked: false });
    expect((await failure(backend.unblockPin('reader-1', CARD, 'pin1', '00000000', '4321'))).code).toBe(
      'CARD_LOCKED',
    );
    expect((await backend.cardInfo('reader-1')).pins.puk).toEqual({ triesLeft: 0, locked: true });
    expect((await backend.listCards())[0]?.locked).toBe(true);

    // From now on even the right PUK and the right PINs are refused.
    const data = new Uint8Array([1]);
    for (const attempt of [
      backend.unblockPin('reader-1', CARD, 'pin1', PINS.puk, '4321'),
      backend.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256'),
      backend.sign('reader-1', CARD, 'auth', PINS.pin1, data),
      backend.writeCertificate('reader-1', CARD, 'auth', PINS.pin1, data),
      backend.clean('reader-1', CARD, PINS.pin1),
    ]) {
      expect((await failure(attempt)).code).toBe('CARD_LOCKED');
    }
  });

  it('a right PUK resets the wrong-PUK count, and PIN 2 counts apart from PIN 1', async () => {
    const backend = await withCard();
    await backend.unblockPin('reader-1', CARD, 'pin2', '00000000', '4321').catch(() => undefined);
    for (let i = 0; i < PIN_TRIES; i++)
      await backend.sign('reader-1', CARD, 'sign', '0000', new Uint8Array()).catch(() => undefined);
    // No key yet: KEY_MISSING comes before the PIN, so no try was spent.
    expect((await backend.cardInfo('reader-1')).pins.pin2.triesLeft).toBe(PIN_TRIES);
    await backend.generateKey('reader-1', CARD, 'sign', PINS.pin1, 'ecdsa-p256');
    for (let i = 0; i < PIN_TRIES; i++)
      await backend.sign('reader-1', CARD, 'sign', '0000', new Uint8Array()).catch(() => undefined);
    const info = await backend.cardInfo('reader-1');
    expect(info.pins.pin2).toEqual({ triesLeft: 0, blocked: true });
    expect(info.pins.pin1).toEqual({ triesLeft: PIN_TRIES, blocked: false });
    expect(info.pins.puk.triesLeft).toBe(PUK_TRIES);
    await backend.unblockPin('reader-1', CARD, 'pin2', PINS.puk, '8765');
    expect((await backend.cardInfo('reader-1')).pins).toMatchObject({
      pin2: { triesLeft: PIN_TRIES, blocked: false },
      puk: { triesLeft: PUK_TRIES + 1, locked: false },
    });
    await backend.sign('reader-1', CARD, 'sign', '8765', new Uint8Array([1]));
  });

  it('signs with RSA-2048 keys as PKCS#1 v1.5 over SHA-256', async () => {
    const backend = await withCard();
    const generated = await backend.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'rsa-2048');
    expect(generated.spec).toBe('rsa-2048');
    const data = new TextEncoder().encode('rsa challenge');
    const signature = await backend.sign('reader-1', CARD, 'auth', PINS.pin1, data);
    expect(cardSignatureVerifies(generated.spki, signature, data)).toBe(true);
  });

  it('unplugging a reader with a card reports card-removed, then reader-unplugged, and hides the reader', async () => {
    let clock = 0;
    const backend = await withCard({ now: () => clock++ });
    clock = 1000;
    const events: BackendEvent[] = [];
    backend.subscribe((e) => events.push(e));
    await backend.unplugReader('reader-1');
    expect(events).toEqual([
      { type: 'card-removed', readerId: 'reader-1', cardNumber: CARD, at: 1000 },
      { type: 'reader-unplugged', readerId: 'reader-1', at: 1001 },
    ]);
    expect((await backend.readers()).map((r) => r.id)).toEqual(['reader-2']);
    expect((await failure(backend.cardInfo('reader-1'))).code).toBe('READER_NOT_FOUND');
    expect((await failure(backend.insertCard('reader-1', CARD))).code).toBe('READER_NOT_FOUND');
    expect((await backend.listCards())[0]?.readerId).toBeNull();

    // Plugged back in, the reader is empty: the card came out with the unplugging.
    expect(await backend.plugReader('reader-1')).toBe('reader-1');
    expect(events.at(-1)).toEqual({ type: 'reader-plugged', readerId: 'reader-1', at: 1002 });
    expect((await backend.readers()).find((r) => r.id === 'reader-1')?.card).toBeNull();
    expect((await failure(backend.plugReader('reader-9'))).code).toBe('READER_NOT_FOUND');
  });

  it('plugReader() without an id adds the next reader', async () => {
    const backend = await open();
    const events: BackendEvent[] = [];
    const unsubscribe = backend.subscribe((e) => events.push(e));
    expect(await backend.plugReader()).toBe('reader-3');
    expect(events.map((e) => [e.type, e.readerId])).toEqual([['reader-plugged', 'reader-3']]);
    expect((await backend.readers()).map((r) => r.name)).toContain('Virtuell kortläsare 3');
    unsubscribe();
    await backend.plugReader();
    expect(events).toHaveLength(1);
  });

  it('a card pulled out during a slow generateKey fails it at once with CARD_REMOVED and leaves no key', async () => {
    const backend = await withCard({ operationDelayMs: 10_000 });
    const started = Date.now();
    const generating = failure(backend.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await backend.removeCard('reader-1');
    expect((await generating).code).toBe('CARD_REMOVED');
    // Woken by the removal, not by the end of the delay: nothing hangs on a card that went away.
    expect(Date.now() - started).toBeLessThan(5000);
    await backend.insertCard('reader-1', CARD);
    expect((await backend.cardInfo('reader-1')).keys).toEqual({ auth: false, sign: false });
  });

  it('a card taken out and put back during a slow sign still fails it: the operation lost its card', async () => {
    const backend = await withCard({ operationDelayMs: 200 });
    await backend.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    const signing = failure(backend.sign('reader-1', CARD, 'auth', '0000', new Uint8Array([1])));
    await new Promise((resolve) => setTimeout(resolve, 20));
    void backend.removeCard('reader-1');
    await backend.insertCard('reader-1', CARD);
    expect((await signing).code).toBe('CARD_REMOVED');
    // The wrong PIN of the interrupted operation was not counted.
    expect((await backend.cardInfo('reader-1')).pins.pin1.triesLeft).toBe(PIN_TRIES);
  });

  it('setOperationDelay() slows later operations down (training seeds fast, then gives time to pull a card)', async () => {
    const backend = await withCard();
    await backend.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    backend.setOperationDelay(10_000);
    const generating = failure(backend.generateKey('reader-1', CARD, 'sign', PINS.pin2, 'ecdsa-p256'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await backend.removeCard('reader-1');
    expect((await generating).code).toBe('CARD_REMOVED');
    expect(() => backend.setOperationDelay(-1)).toThrow();
  });

  it('refuses to insert into an occupied reader or a card that is already in another reader', async () => {
    const backend = await withCard();
    await backend.createCard({ cardNumber: OTHER, ...PINS });
    expect((await failure(backend.insertCard('reader-1', OTHER))).code).toBe('CARD_ERROR');
    expect((await failure(backend.insertCard('reader-2', CARD))).code).toBe('CARD_ERROR');
    expect((await failure(backend.insertCard('reader-2', '9752278900000000999' as CardNumber))).code).toBe(
      'CARD_ERROR',
    );
    expect((await failure(backend.insertCard('no-such-reader', OTHER))).code).toBe('READER_NOT_FOUND');
    expect((await failure(backend.removeCard('reader-2'))).code).toBe('CARD_MISSING');
    await backend.insertCard('reader-2', OTHER);
    expect((await backend.listCards()).map((c) => c.readerId)).toEqual(['reader-1', 'reader-2']);
  });

  it('refuses to create a card with malformed PINs or a number that exists', async () => {
    const backend = await open();
    for (const spec of [
      { pin1: '12', pin2: '5678', puk: '12345678' },
      { pin1: '1234', pin2: '123456789', puk: '12345678' },
      { pin1: '1234', pin2: '5678', puk: '1234567' },
      { pin1: 'abcd', pin2: '5678', puk: '12345678' },
    ]) {
      expect((await failure(backend.createCard({ cardNumber: CARD, ...spec }))).code).toBe('PIN_FORMAT');
    }
    expect(await backend.listCards()).toEqual([]);
    await backend.createCard({ cardNumber: CARD, ...PINS });
    expect((await failure(backend.createCard({ cardNumber: CARD, ...PINS }))).code).toBe('CARD_ERROR');
    expect((await failure(backend.createCard({ cardNumber: '1234' as CardNumber, ...PINS }))).code).toBe(
      'CARD_ERROR',
    );
  });

  it('replacing a key drops the certificate of the old key; writing a certificate needs the key', async () => {
    const backend = await withCard();
    const der = new Uint8Array([0x30, 0x00]);
    expect(await failure(backend.writeCertificate('reader-1', CARD, 'auth', PINS.pin1, der))).toMatchObject({
      code: 'KEY_MISSING',
      details: { key: 'auth' },
    });
    await backend.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    await backend.writeCertificate('reader-1', CARD, 'auth', PINS.pin1, der);
    await backend.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    expect((await backend.cardInfo('reader-1')).certificates).toEqual([]);
  });

  it('serialises operations on one card so concurrent wrong PINs are each counted', async () => {
    const backend = await withCard();
    await backend.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
    const results = await Promise.all(
      [1, 2, 3].map(() => failure(backend.sign('reader-1', CARD, 'auth', '0000', new Uint8Array([1])))),
    );
    expect(results.map((r) => r.code)).toEqual(['PIN_INCORRECT', 'PIN_INCORRECT', 'PIN_BLOCKED']);
    expect(results.map((r) => r.details.triesLeft)).toEqual([2, 1, 0]);
  });

  describe('chip faults for training', () => {
    const challenge = new TextEncoder().encode('flow-1 nonce card number');

    it('a counterfeit card proves itself with its own key and a copy of its bureau certificate the bureau never signed', async () => {
      const bureau = await testBureau();
      const backend = await withCard();
      const genuine = (await backend.installBureauKey(CARD, (spki) => bureau.certify(spki, CARD)))
        .certificate;
      expect(backend.simulateFaults({ counterfeitCard: true })).toEqual({
        counterfeitCard: true,
        exportableKeys: false,
      });
      const forged = await backend.proveCard('reader-1', CARD, challenge);
      // Everything a person or a name check would look at is copied...
      const [copy, original] = [forged.certificate, genuine].map(
        (der) => new X509Certificate(new Uint8Array(der)),
      );
      if (copy === undefined || original === undefined) throw new Error('two certificates');
      expect(copy.subject).toBe(original.subject);
      expect(copy.issuer).toBe(original.issuer);
      expect(copy.serialNumber).toBe(original.serialNumber);
      expect(copy.getExtension(CARD_NUMBER_OID)?.value).toEqual(
        original.getExtension(CARD_NUMBER_OID)?.value,
      );
      // ...but the bureau's key did not sign it, and the card's signature is with the forger's key.
      expect(await bureau.signed(genuine)).toBe(true);
      expect(await bureau.signed(forged.certificate)).toBe(false);
      expect(publicKeyOf(forged.certificate)).not.toEqual(publicKeyOf(genuine));
      expect(cardSignatureVerifies(publicKeyOf(forged.certificate), forged.signature, challenge)).toBe(true);
      // A chip: the same counterfeit key every time.
      const again = await backend.proveCard('reader-1', CARD, challenge);
      expect(again.certificate).toEqual(forged.certificate);
      // Switched off, the genuine bureau key answers again.
      backend.simulateFaults({ counterfeitCard: false });
      const real = await backend.proveCard('reader-1', CARD, challenge);
      expect(real.certificate).toEqual(genuine);
      expect(cardSignatureVerifies(publicKeyOf(genuine), real.signature, challenge)).toBe(true);
    });

    it('a counterfeit blank the bureau never initialised still answers, with an issuer of its own', async () => {
      const backend = await withCard();
      expect(await failure(backend.proveCard('reader-1', CARD, challenge))).toMatchObject({
        code: 'KEY_MISSING',
        details: { key: 'card-auth' },
      });
      backend.simulateFaults({ counterfeitCard: true });
      const forged = await backend.proveCard('reader-1', CARD, challenge);
      const certificate = new X509Certificate(new Uint8Array(forged.certificate));
      expect(certificate.issuer).toBe('CN=Kortbyrån CA');
      expect(certificate.subject).toContain(CARD);
      expect(cardSignatureVerifies(publicKeyOf(forged.certificate), forged.signature, challenge)).toBe(true);
      // Nothing of it was written to the card: switched off, it is a blank again.
      backend.simulateFaults({ counterfeitCard: false });
      expect(backend.hasBureauKey(CARD)).toBe(false);
      expect((await failure(backend.proveCard('reader-1', CARD, challenge))).code).toBe('KEY_MISSING');
    });

    it('a faulty chip reports the keys it made as imported and extractable, and keeps saying so after a restart', async () => {
      const stateFile = join(dir, 'virtual.json');
      const first = await withCard({ stateFile });
      expect(first.simulateFaults({ exportableKeys: true })).toEqual({
        counterfeitCard: false,
        exportableKeys: true,
      });
      const faulty = await first.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
      expect(faulty.attributes).toEqual({ local: false, sensitive: false, neverExtractable: false });
      // The key still works: nothing but its attributes tells it from a card key.
      const signature = await first.sign('reader-1', CARD, 'auth', PINS.pin1, challenge);
      expect(cardSignatureVerifies(faulty.spki, signature, challenge)).toBe(true);
      first.simulateFaults({ exportableKeys: false });
      const sound = await first.generateKey('reader-1', CARD, 'sign', PINS.pin1, 'ecdsa-p256');
      expect(sound.attributes).toEqual({ local: true, sensitive: true, neverExtractable: true });
      await first.close();
      // The chip's record outlives the agent: the file says which key was imported.
      const saved = JSON.parse(await readFile(stateFile, 'utf8'));
      expect(saved.cards[0].keys.auth.attributes).toEqual(faulty.attributes);
      expect(saved.cards[0].keys.sign.attributes).toBeUndefined();
      const second = await open({ stateFile });
      expect(second.simulatedFaults).toEqual({ counterfeitCard: false, exportableKeys: false });
      expect((await second.cardInfo('reader-1')).keys).toEqual({ auth: true, sign: true });
      const replaced = await second.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
      expect(replaced.attributes).toEqual({ local: true, sensitive: true, neverExtractable: true });
    });

    it('refuses a state file whose key attributes are not booleans', async () => {
      const stateFile = join(dir, 'virtual.json');
      const first = await withCard({ stateFile });
      first.simulateFaults({ exportableKeys: true });
      await first.generateKey('reader-1', CARD, 'auth', PINS.pin1, 'ecdsa-p256');
      await first.close();
      const saved = JSON.parse(await readFile(stateFile, 'utf8'));
      saved.cards[0].keys.auth.attributes.local = 'yes';
      await writeFile(stateFile, JSON.stringify(saved));
      expect(await failure(open({ stateFile }))).toMatchObject({
        code: 'CARD_ERROR',
        details: { reason: 'virtual state file unreadable' },
      });
    });
  });

  it('refuses everything once closed', async () => {
    const backend = await withCard();
    await backend.close();
    expect(() => backend.simulateFaults({ exportableKeys: true })).toThrow();
    expect((await failure(backend.readers())).code).toBe('CARD_ERROR');
    expect((await failure(backend.sign('reader-1', CARD, 'auth', PINS.pin1, new Uint8Array()))).code).toBe(
      'CARD_ERROR',
    );
  });
});
