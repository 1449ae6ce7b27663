// The behavioural suite every CardBackend must pass: the same tests for the virtual backend and
// for PKCS#11 (SoftHSM2). A backend's test file calls `cardBackendContract` with a harness.
import { X509Certificate } from 'node:crypto';
import type { CardNumber } from '@reservkort/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentError } from '../agent-error.js';
import { cardSignatureVerifies } from '../test-support/signature-check.js';
import {
  type BackendEvent,
  type CardBackend,
  type KeySlot,
  PIN_TRIES,
  PUK_TRIES,
  type ReaderId,
} from './card-backend.js';

/** A backend with one card in one reader, and ways to take the card out and put it back. */
export interface BackendHarness {
  readonly backend: CardBackend;
  readonly readerId: ReaderId;
  readonly cardNumber: CardNumber;
  readonly pins: { readonly pin1: string; readonly pin2: string; readonly puk: string };
  removeCard(): Promise<void>;
  insertCard(): Promise<void>;
  /**
   * Does what the card bureau does: a bureau key on the card and its certificate; returns the
   * certificate DER. The certificate names `named` (default: the card's own number).
   */
  installBureauKey(named?: CardNumber): Promise<Uint8Array>;
  dispose(): Promise<void>;
}

const codeOf = async (
  promise: Promise<unknown>,
): Promise<{ code: string; details: Record<string, unknown> }> => {
  const error = (await promise.then(
    () => null,
    (e: unknown) => e,
  )) as AgentError | null;
  if (error === null) throw new Error('expected an AgentError, the call succeeded');
  return { code: error.code, details: error.details as Record<string, unknown> };
};

/** Waits until `predicate` holds for a received event; backends may poll, so allow a moment. */
const waitForEvent = async (events: BackendEvent[], predicate: (e: BackendEvent) => boolean, ms = 3000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const found = events.find(predicate);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no such event within ${ms} ms; got ${JSON.stringify(events)}`);
};

export const cardBackendContract = (name: string, setup: () => Promise<BackendHarness>): void => {
  describe(`${name}: the card backend contract`, () => {
    let h: BackendHarness;
    beforeEach(async () => {
      h = await setup();
    });
    afterEach(async () => {
      await h?.dispose();
    });

    it('lists the reader with the card and its number, and describes itself', async () => {
      const readers = await h.backend.readers();
      expect(readers.find((r) => r.id === h.readerId)?.card).toEqual({ cardNumber: h.cardNumber });
      const description = h.backend.describe();
      expect(description.manufacturer.length).toBeGreaterThan(0);
      expect(description.version.length).toBeGreaterThan(0);
    });

    it('reports a fresh card: full PIN tries, no keys, no certificates', async () => {
      const info = await h.backend.cardInfo(h.readerId);
      expect(info).toMatchObject({
        cardNumber: h.cardNumber,
        keys: { auth: false, sign: false },
        certificates: [],
        pins: {
          pin1: { triesLeft: PIN_TRIES, blocked: false },
          pin2: { triesLeft: PIN_TRIES, blocked: false },
        },
      });
      expect(info.pins.puk.locked).toBe(false);
    });

    it('generates both keys on the card and signs with each after its own PIN', async () => {
      const data = new TextEncoder().encode('challenge from the server');
      for (const [key, pin] of [
        ['auth', h.pins.pin1],
        ['sign', h.pins.pin2],
      ] as [KeySlot, string][]) {
        const generated = await h.backend.generateKey(
          h.readerId,
          h.cardNumber,
          key,
          h.pins.pin1,
          'ecdsa-p256',
        );
        expect(generated.key).toBe(key);
        // As the card reports them: made on the card, and its private half never leaves it.
        expect(generated.attributes).toEqual({ local: true, sensitive: true, neverExtractable: true });
        const signature = await h.backend.sign(h.readerId, h.cardNumber, key, pin, data);
        expect(cardSignatureVerifies(generated.spki, signature, data)).toBe(true);
      }
      expect((await h.backend.cardInfo(h.readerId)).keys).toEqual({ auth: true, sign: true });
    });

    it('keeps the two keys apart: each signature verifies only with its own public key', async () => {
      const auth = await h.backend.generateKey(h.readerId, h.cardNumber, 'auth', h.pins.pin1, 'ecdsa-p256');
      const sign = await h.backend.generateKey(h.readerId, h.cardNumber, 'sign', h.pins.pin1, 'ecdsa-p256');
      const data = new Uint8Array([1, 2, 3]);
      const bySign = await h.backend.sign(h.readerId, h.cardNumber, 'sign', h.pins.pin2, data);
      expect(cardSignatureVerifies(sign.spki, bySign, data)).toBe(true);
      expect(cardSignatureVerifies(auth.spki, bySign, data)).toBe(false);
    });

    it('counts wrong PUKs the same way on every card: eleven tries, the eleventh wrong one locks for good', async () => {
      const wrongPuk = h.pins.puk === '11111111' ? '22222222' : '11111111';
      expect((await h.backend.cardInfo(h.readerId)).pins.puk).toEqual({
        triesLeft: PUK_TRIES + 1,
        locked: false,
      });
      for (let wrong = 1; wrong <= PUK_TRIES; wrong++) {
        expect(
          await codeOf(h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', wrongPuk, '4321')),
        ).toMatchObject({ code: 'PUK_INCORRECT', details: { triesLeft: PUK_TRIES + 1 - wrong } });
        expect((await h.backend.cardInfo(h.readerId)).pins.puk).toEqual({
          triesLeft: PUK_TRIES + 1 - wrong,
          locked: false,
        });
      }
      // Ten wrong ones in a row: one try is left, and the right PUK still works then.
      expect((await h.backend.cardInfo(h.readerId)).pins.puk.triesLeft).toBe(1);
      expect(
        (await codeOf(h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', wrongPuk, '4321'))).code,
      ).toBe('CARD_LOCKED');
      expect((await h.backend.cardInfo(h.readerId)).pins.puk).toEqual({ triesLeft: 0, locked: true });
      // Locked for good: the right PUK and the right PIN are refused too.
      expect(
        (await codeOf(h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', h.pins.puk, '4321'))).code,
      ).toBe('CARD_LOCKED');
      expect(
        (await codeOf(h.backend.changePin(h.readerId, h.cardNumber, 'pin1', h.pins.pin1, '4321'))).code,
      ).toBe('CARD_LOCKED');
    });

    it('a right PUK after ten wrong ones gives all eleven tries back', async () => {
      const wrongPuk = h.pins.puk === '11111111' ? '22222222' : '11111111';
      for (let wrong = 1; wrong <= PUK_TRIES; wrong++)
        await codeOf(h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', wrongPuk, '4321'));
      await h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', h.pins.puk, '4321');
      expect((await h.backend.cardInfo(h.readerId)).pins.puk).toEqual({
        triesLeft: PUK_TRIES + 1,
        locked: false,
      });
    });

    it('blocks a PIN after three wrong entries, and the PUK unblocks it with a new PIN', async () => {
      await h.backend.generateKey(h.readerId, h.cardNumber, 'auth', h.pins.pin1, 'ecdsa-p256');
      const data = new Uint8Array([9]);
      const wrong = h.pins.pin1 === '999999' ? '888888' : '999999';
      expect(await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'auth', wrong, data))).toMatchObject({
        code: 'PIN_INCORRECT',
        details: { triesLeft: 2 },
      });
      expect(await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'auth', wrong, data))).toMatchObject({
        code: 'PIN_INCORRECT',
        details: { triesLeft: 1 },
      });
      expect((await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'auth', wrong, data))).code).toBe(
        'PIN_BLOCKED',
      );
      expect((await h.backend.cardInfo(h.readerId)).pins.pin1).toEqual({ triesLeft: 0, blocked: true });
      // Blocked means blocked, even for the right PIN.
      expect((await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'auth', h.pins.pin1, data))).code).toBe(
        'PIN_BLOCKED',
      );

      const wrongPuk = h.pins.puk === '11111111' ? '22222222' : '11111111';
      expect(
        await codeOf(h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', wrongPuk, '4321')),
      ).toMatchObject({
        code: 'PUK_INCORRECT',
      });
      await h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', h.pins.puk, '4321');
      expect((await h.backend.cardInfo(h.readerId)).pins.pin1).toEqual({
        triesLeft: PIN_TRIES,
        blocked: false,
      });
      await h.backend.sign(h.readerId, h.cardNumber, 'auth', '4321', data);
    });

    it('changes a PIN: the new one works and the old one does not; a wrong current PIN counts down', async () => {
      await h.backend.generateKey(h.readerId, h.cardNumber, 'auth', h.pins.pin1, 'ecdsa-p256');
      const data = new Uint8Array([7]);
      const wrong = h.pins.pin1 === '999999' ? '888888' : '999999';
      // A new PIN of the wrong form is refused before the current PIN is tried: no try is spent.
      expect(
        await codeOf(h.backend.changePin(h.readerId, h.cardNumber, 'pin1', h.pins.pin1, '12')),
      ).toMatchObject({ code: 'PIN_FORMAT' });
      expect(
        await codeOf(h.backend.changePin(h.readerId, h.cardNumber, 'pin1', wrong, '24681357')),
      ).toMatchObject({ code: 'PIN_INCORRECT', details: { triesLeft: 2 } });
      expect((await h.backend.cardInfo(h.readerId)).pins.pin1).toEqual({ triesLeft: 2, blocked: false });

      await h.backend.changePin(h.readerId, h.cardNumber, 'pin1', h.pins.pin1, '24681357');
      // The right current PIN resets the count, as any right entry does.
      expect((await h.backend.cardInfo(h.readerId)).pins.pin1).toEqual({
        triesLeft: PIN_TRIES,
        blocked: false,
      });
      const auth = await h.backend.sign(h.readerId, h.cardNumber, 'auth', '24681357', data);
      expect(auth.length).toBeGreaterThan(0);
      expect(await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'auth', h.pins.pin1, data))).toMatchObject(
        {
          code: 'PIN_INCORRECT',
          details: { triesLeft: 2 },
        },
      );
      await h.backend.sign(h.readerId, h.cardNumber, 'auth', '24681357', data);
    });

    it('changes PIN 2, which then signs with the signature key', async () => {
      // On a one-PIN token PIN 2 is the user PIN as PIN 1 is: there both take the new value.
      await h.backend.generateKey(h.readerId, h.cardNumber, 'sign', h.pins.pin1, 'ecdsa-p256');
      const data = new Uint8Array([8]);
      await h.backend.changePin(h.readerId, h.cardNumber, 'pin2', h.pins.pin2, '97531864');
      const signature = await h.backend.sign(h.readerId, h.cardNumber, 'sign', '97531864', data);
      expect(signature.length).toBeGreaterThan(0);
      expect((await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'sign', h.pins.pin2, data))).code).toBe(
        'PIN_INCORRECT',
      );
    });

    it('refuses to change a blocked PIN: only the PUK unblocks it', async () => {
      const wrong = h.pins.pin1 === '999999' ? '888888' : '999999';
      for (let i = 0; i < PIN_TRIES - 1; i++) {
        expect(
          (await codeOf(h.backend.changePin(h.readerId, h.cardNumber, 'pin1', wrong, '4321'))).code,
        ).toBe('PIN_INCORRECT');
      }
      expect((await codeOf(h.backend.changePin(h.readerId, h.cardNumber, 'pin1', wrong, '4321'))).code).toBe(
        'PIN_BLOCKED',
      );
      expect(
        (await codeOf(h.backend.changePin(h.readerId, h.cardNumber, 'pin1', h.pins.pin1, '4321'))).code,
      ).toBe('PIN_BLOCKED');
      await h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', h.pins.puk, '4321');
      await h.backend.changePin(h.readerId, h.cardNumber, 'pin1', '4321', '8642');
      expect((await h.backend.cardInfo(h.readerId)).pins.pin1).toEqual({
        triesLeft: PIN_TRIES,
        blocked: false,
      });
    });

    it('refuses a PIN or PUK of the wrong form without counting it', async () => {
      await h.backend.generateKey(h.readerId, h.cardNumber, 'auth', h.pins.pin1, 'ecdsa-p256');
      expect(
        (await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'auth', '12', new Uint8Array([1])))).code,
      ).toBe('PIN_FORMAT');
      expect((await codeOf(h.backend.unblockPin(h.readerId, h.cardNumber, 'pin1', 'abc', '1234'))).code).toBe(
        'PIN_FORMAT',
      );
      expect((await h.backend.cardInfo(h.readerId)).pins.pin1.triesLeft).toBe(PIN_TRIES);
    });

    it('stores certificates next to their keys and removes everything on clean', async () => {
      await h.backend.generateKey(h.readerId, h.cardNumber, 'auth', h.pins.pin1, 'ecdsa-p256');
      await h.backend.generateKey(h.readerId, h.cardNumber, 'sign', h.pins.pin1, 'ecdsa-p256');
      // Any DER bytes do here: the backend stores, it does not judge.
      const der = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
      await h.backend.writeCertificate(h.readerId, h.cardNumber, 'auth', h.pins.pin1, der);
      await h.backend.writeCertificate(h.readerId, h.cardNumber, 'sign', h.pins.pin1, der);
      const info = await h.backend.cardInfo(h.readerId);
      expect(info.certificates.map((c) => c.key).sort()).toEqual(['auth', 'sign']);
      expect([...(info.certificates[0]?.der ?? [])]).toEqual([...der]);
      await h.backend.clean(h.readerId, h.cardNumber, h.pins.pin1);
      expect(await h.backend.cardInfo(h.readerId)).toMatchObject({
        keys: { auth: false, sign: false },
        certificates: [],
      });
      expect((await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'auth', h.pins.pin1, der))).code).toBe(
        'KEY_MISSING',
      );
    });

    it('makes a next pair beside the current one, and promotes it with its certificates in the old one’s place', async () => {
      const data = new TextEncoder().encode('förlängning');
      const oldAuth = await h.backend.generateKey(
        h.readerId,
        h.cardNumber,
        'auth',
        h.pins.pin1,
        'ecdsa-p256',
      );
      const oldSign = await h.backend.generateKey(
        h.readerId,
        h.cardNumber,
        'sign',
        h.pins.pin1,
        'ecdsa-p256',
      );
      const oldDer = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]);
      const newDer = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x02]);
      await h.backend.writeCertificate(h.readerId, h.cardNumber, 'auth', h.pins.pin1, oldDer);
      await h.backend.writeCertificate(h.readerId, h.cardNumber, 'sign', h.pins.pin1, oldDer);
      // Nothing to promote yet: refused, and nothing is removed.
      expect(
        (await codeOf(h.backend.promoteNextKeys(h.readerId, h.cardNumber, h.pins.pin1))).details,
      ).toEqual({
        key: 'next',
      });
      const nextAuth = await h.backend.generateKey(
        h.readerId,
        h.cardNumber,
        'auth',
        h.pins.pin1,
        'ecdsa-p256',
        'next',
      );
      const nextSign = await h.backend.generateKey(
        h.readerId,
        h.cardNumber,
        'sign',
        h.pins.pin1,
        'ecdsa-p256',
        'next',
      );
      expect(nextAuth.attributes).toEqual({ local: true, sensitive: true, neverExtractable: true });
      expect(Buffer.from(nextAuth.spki).equals(Buffer.from(oldAuth.spki))).toBe(false);
      // Both generations sign, each with its own key; the current pair is untouched.
      const byOld = await h.backend.sign(h.readerId, h.cardNumber, 'sign', h.pins.pin2, data);
      expect(cardSignatureVerifies(oldSign.spki, byOld, data)).toBe(true);
      const byNext = await h.backend.sign(h.readerId, h.cardNumber, 'sign', h.pins.pin2, data, 'next');
      expect(cardSignatureVerifies(nextSign.spki, byNext, data)).toBe(true);
      const byNextAuth = await h.backend.sign(h.readerId, h.cardNumber, 'auth', h.pins.pin1, data, 'next');
      expect(cardSignatureVerifies(nextAuth.spki, byNextAuth, data)).toBe(true);
      const before = await h.backend.cardInfo(h.readerId);
      expect(before.certificates.map((c) => [...c.der])).toEqual([[...oldDer], [...oldDer]]);
      // A next pair without its certificates is not promoted.
      expect((await codeOf(h.backend.promoteNextKeys(h.readerId, h.cardNumber, h.pins.pin1))).code).toBe(
        'KEY_MISSING',
      );
      await h.backend.writeCertificate(h.readerId, h.cardNumber, 'auth', h.pins.pin1, newDer, 'next');
      await h.backend.writeCertificate(h.readerId, h.cardNumber, 'sign', h.pins.pin1, newDer, 'next');
      await h.backend.promoteNextKeys(h.readerId, h.cardNumber, h.pins.pin1);
      const after = await h.backend.cardInfo(h.readerId);
      expect(after.keys).toEqual({ auth: true, sign: true });
      expect(after.certificates.map((c) => [c.key, [...c.der]]).sort()).toEqual([
        ['auth', [...newDer]],
        ['sign', [...newDer]],
      ]);
      // The card's keys are now the new ones; the old ones are gone, and so is the next pair.
      const bySignNow = await h.backend.sign(h.readerId, h.cardNumber, 'sign', h.pins.pin2, data);
      expect(cardSignatureVerifies(nextSign.spki, bySignNow, data)).toBe(true);
      expect(cardSignatureVerifies(oldSign.spki, bySignNow, data)).toBe(false);
      const byAuthNow = await h.backend.sign(h.readerId, h.cardNumber, 'auth', h.pins.pin1, data);
      expect(cardSignatureVerifies(nextAuth.spki, byAuthNow, data)).toBe(true);
      expect(
        (await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'sign', h.pins.pin2, data, 'next'))).code,
      ).toBe('KEY_MISSING');
      expect((await codeOf(h.backend.promoteNextKeys(h.readerId, h.cardNumber, h.pins.pin1))).code).toBe(
        'KEY_MISSING',
      );
    });

    it('proves the card with its bureau key, without a PIN, and keeps that key through clean', async () => {
      const certificate = await h.installBureauKey();
      const spki = new Uint8Array(
        new X509Certificate(certificate).publicKey.export({ format: 'der', type: 'spki' }),
      );
      const challenge = new TextEncoder().encode('card-proof:flow-1:00112233445566778899aabbccddeeff');
      const proof = await h.backend.proveCard(h.readerId, h.cardNumber, challenge);
      expect([...proof.certificate]).toEqual([...certificate]);
      expect(cardSignatureVerifies(spki, proof.signature, challenge)).toBe(true);
      expect(cardSignatureVerifies(spki, proof.signature, new TextEncoder().encode('other data'))).toBe(
        false,
      );
      // No PIN was asked for, and none was counted.
      expect((await h.backend.cardInfo(h.readerId)).pins.pin1.triesLeft).toBe(PIN_TRIES);
      // It is not one of the holder's keys: the card still looks blank to issuance.
      expect((await h.backend.cardInfo(h.readerId)).keys).toEqual({ auth: false, sign: false });

      await h.backend.generateKey(h.readerId, h.cardNumber, 'auth', h.pins.pin1, 'ecdsa-p256');
      await h.backend.clean(h.readerId, h.cardNumber, h.pins.pin1);
      const after = await h.backend.proveCard(h.readerId, h.cardNumber, challenge);
      expect(cardSignatureVerifies(spki, after.signature, challenge)).toBe(true);
      expect([...after.certificate]).toEqual([...certificate]);
    });

    it('answers KEY_MISSING (card-auth) for a card without a bureau key, and CARD_MISSING for an empty reader', async () => {
      const data = new Uint8Array([1, 2, 3]);
      expect(await codeOf(h.backend.proveCard(h.readerId, h.cardNumber, data))).toMatchObject({
        code: 'KEY_MISSING',
        details: { key: 'card-auth' },
      });
      await h.installBureauKey();
      const other = '9752278900000099999' as CardNumber;
      expect((await codeOf(h.backend.proveCard(h.readerId, other, data))).code).toBe('CARD_REMOVED');
      await h.removeCard();
      expect((await codeOf(h.backend.proveCard(h.readerId, h.cardNumber, data))).code).toBe('CARD_MISSING');
    });

    it('answers WRONG_CARD for a card whose certificate names another card, saying which two disagree', async () => {
      await h.installBureauKey();
      expect((await h.backend.cardInfo(h.readerId)).cardNumber).toBe(h.cardNumber);
      const other = '9752278900000099999' as CardNumber;
      await h.installBureauKey(other);
      for (const attempt of [
        h.backend.cardInfo(h.readerId),
        h.backend.proveCard(h.readerId, h.cardNumber, new Uint8Array([1])),
        h.backend.sign(h.readerId, h.cardNumber, 'auth', h.pins.pin1, new Uint8Array([1])),
      ]) {
        const { code, details } = await codeOf(attempt);
        expect(code).toBe('WRONG_CARD');
        expect(details).toMatchObject({ reader: h.readerId, expected: h.cardNumber, actual: other });
        expect(details.sources).toMatch(/ \/ card bureau certificate$/);
      }
    });

    it('refuses to act on an empty reader, an unknown reader, or another card than expected', async () => {
      await h.removeCard();
      expect((await codeOf(h.backend.cardInfo(h.readerId))).code).toBe('CARD_MISSING');
      expect(
        (await codeOf(h.backend.sign(h.readerId, h.cardNumber, 'auth', h.pins.pin1, new Uint8Array([1]))))
          .code,
      ).toBe('CARD_MISSING');
      await h.insertCard();
      expect((await codeOf(h.backend.cardInfo('no-such-reader'))).code).toBe('READER_NOT_FOUND');
      const other = '9752278900000099999' as CardNumber;
      expect(
        (await codeOf(h.backend.generateKey(h.readerId, other, 'auth', h.pins.pin1, 'ecdsa-p256'))).code,
      ).toBe('CARD_REMOVED');
    });

    it('reports the card leaving and coming back as events with the card number', async () => {
      const events: BackendEvent[] = [];
      const unsubscribe = h.backend.subscribe((e) => events.push(e));
      try {
        await h.removeCard();
        await waitForEvent(events, (e) => e.type === 'card-removed' && e.readerId === h.readerId);
        await h.insertCard();
        const inserted = await waitForEvent(
          events,
          (e) => e.type === 'card-inserted' && e.readerId === h.readerId,
        );
        expect(inserted.cardNumber).toBe(h.cardNumber);
        expect(typeof inserted.at).toBe('number');
      } finally {
        unsubscribe();
      }
    });
  });
};
