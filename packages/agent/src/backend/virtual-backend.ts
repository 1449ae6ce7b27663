import {
  constants,
  createPrivateKey,
  sign as cryptoSign,
  generateKeyPair,
  type KeyObject,
} from 'node:crypto';
import { type CardNumber, parseCardNumber } from '@reservkort/domain';
import { AgentError } from '../agent-error.js';
import {
  type BackendDescription,
  type BackendEvent,
  type BackendEventType,
  type CardBackend,
  type CardCertificate,
  type CardInfo,
  type CardKeySpec,
  type CardProof,
  type GeneratedKey,
  type KeyAttributes,
  type KeyGeneration,
  type KeySlot,
  PIN_OF,
  PIN_PATTERN,
  PIN_TRIES,
  type PinId,
  type PinStatus,
  PUK_PATTERN,
  PUK_TRIES,
  pukTriesLeft,
  type ReaderId,
  type ReaderInfo,
} from './card-backend.js';
import { type CardNumberSource, certificateSource, checkCardIdentity } from './card-identity.js';
import { counterfeitBureauCertificate } from './virtual-counterfeit.js';
import {
  fromBase64,
  hashSecret,
  type KeyRecord,
  type PinRecord,
  StateFile,
  secretMatches,
  toBase64,
  type VirtualCard,
  type VirtualReader,
  type VirtualState,
} from './virtual-state.js';

export interface VirtualBackendOptions {
  /** The JSON file that keeps readers and cards across restarts; null keeps them in memory only. */
  readonly stateFile: string | null;
  /** How many readers a brand-new state starts with (default 2); ignored when the state file exists. */
  readonly readers?: number;
  readonly now?: () => number;
  /**
   * Makes generateKey, sign and writeCertificate take this long before they commit, so tests and
   * training can pull the card out in the middle of an operation (default 0).
   */
  readonly operationDelayMs?: number;
}

/**
 * Chip faults training can switch on, for every virtual card until switched off. The card then
 * answers as such a card would, and the agent reports that answer as it is: refusing it is the
 * server's job.
 */
export interface CardFaults {
  /**
   * Counterfeit cards: a card proves itself with a key the forger made and a certificate that
   * imitates the card bureau's but was not signed by it (a blank without a bureau key answers so too).
   */
  readonly counterfeitCard: boolean;
  /**
   * Faulty chips: new keys are made outside the chip and imported, so the card reports them as not
   * generated on it, not sensitive and once extractable, as a software token would.
   */
  readonly exportableKeys: boolean;
}

const NO_FAULTS: CardFaults = { counterfeitCard: false, exportableKeys: false };

export interface VirtualCardSpec {
  readonly cardNumber: CardNumber;
  readonly pin1: string;
  readonly pin2: string;
  readonly puk: string;
  readonly label?: string;
}

/** The counter states the training panel can set on a card. */
export type TrainingCounters = 'pin1-blocked' | 'card-locked' | 'full';
export const TRAINING_COUNTERS: readonly TrainingCounters[] = ['pin1-blocked', 'card-locked', 'full'];

export interface VirtualCardSummary {
  readonly cardNumber: CardNumber;
  readonly label: string | null;
  /** The connected reader the card is in, or null when it lies on the desk. */
  readonly readerId: ReaderId | null;
  readonly locked: boolean;
}

const DESCRIPTION: BackendDescription = {
  kind: 'virtual',
  library: 'virtual',
  manufacturer: 'Reservkort',
  version: '1.0',
};

const SLOTS: readonly KeySlot[] = ['auth', 'sign'];
/** A virtual card's keys are made inside the "chip" and never leave it, as a real card's. */
const ON_CARD: KeyAttributes = { local: true, sensitive: true, neverExtractable: true };
/** What a key made in software and imported reads back as. */
const IMPORTED: KeyAttributes = { local: false, sensitive: false, neverExtractable: false };
/**
 * The check a PKCS#11 card gets (see card-identity.ts), on what a virtual card keeps: its label
 * where that is a number, its number, and the card number in each certificate it holds.
 */
const checkVirtualCardIdentity = (readerId: ReaderId, card: VirtualCard): void => {
  const sources: CardNumberSource[] = [];
  if (card.label !== null && parseCardNumber(card.label.trim()).ok)
    sources.push({ name: 'card label', value: card.label });
  sources.push({ name: 'card number record', value: card.cardNumber });
  if (card.bureau?.certificate)
    sources.push(...certificateSource('card bureau certificate', fromBase64(card.bureau.certificate)));
  for (const [key, name] of [
    ['auth', 'authentication certificate'],
    ['sign', 'signature certificate'],
  ] as const) {
    const der = card.certificates[key];
    if (der !== undefined) sources.push(...certificateSource(name, fromBase64(der)));
  }
  checkCardIdentity(readerId, sources);
};

const bureauKeyMissing = (): AgentError =>
  new AgentError('KEY_MISSING', 'the card has no card bureau key', { key: 'card-auth' });
const READER_ID = /^reader-(\d+)$/;
const readerName = (n: number): string => `Virtuell kortläsare ${n}`;

/** A card in a reader as an operation found it; `insertion` tells a re-inserted card from one that never left. */
interface Held {
  readonly readerId: ReaderId;
  readonly card: VirtualCard;
  readonly insertion: number;
}

const cardError = (reason: string, message = reason): AgentError =>
  new AgentError('CARD_ERROR', message, { reason });

const isLocked = (card: VirtualCard): boolean => card.puk.wrong > PUK_TRIES;

const requireForm = (value: unknown, pattern: RegExp, what: 'pin' | 'puk'): void => {
  // The message names the field, never the value: PINs stay out of logs.
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new AgentError('PIN_FORMAT', `the ${what.toUpperCase()} has the wrong form`, { field: what });
  }
};

const requireSlot = (key: unknown): void => {
  if (key !== 'auth' && key !== 'sign') throw cardError('unknown key slot');
};

const withPin = (card: VirtualCard, pin: PinId, record: PinRecord): VirtualCard => ({
  ...card,
  pins: { ...card.pins, [pin]: record },
});

const without = <T>(
  slots: Readonly<Partial<Record<KeySlot, T>>>,
  slot: KeySlot,
): Partial<Record<KeySlot, T>> => {
  const rest: Partial<Record<KeySlot, T>> = { ...slots };
  delete rest[slot];
  return rest;
};

const generatePair = (spec: CardKeySpec): Promise<KeyRecord> =>
  new Promise((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject): void => {
      if (error) {
        reject(
          new AgentError(
            'CARD_ERROR',
            'key generation failed',
            { reason: 'key generation failed' },
            { cause: error },
          ),
        );
        return;
      }
      resolve({
        spec,
        pkcs8: toBase64(privateKey.export({ format: 'der', type: 'pkcs8' })),
        spki: toBase64(publicKey.export({ format: 'der', type: 'spki' })),
      });
    };
    if (spec === 'ecdsa-p256') generateKeyPair('ec', { namedCurve: 'P-256' }, done);
    else if (spec === 'rsa-2048')
      generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, done);
    else reject(cardError('unsupported key type'));
  });

/** SHA-256 signatures as the real cards give them: ECDSA raw r‖s (WebCrypto's form), RSA PKCS#1 v1.5. */
const signWith = (record: KeyRecord, data: Uint8Array): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    const fail = (cause: unknown) =>
      reject(new AgentError('CARD_ERROR', 'signing failed', { reason: 'signing failed' }, { cause }));
    try {
      const key = createPrivateKey({
        key: Buffer.from(record.pkcs8, 'base64'),
        format: 'der',
        type: 'pkcs8',
      });
      const options =
        record.spec === 'ecdsa-p256'
          ? { key, dsaEncoding: 'ieee-p1363' as const }
          : { key, padding: constants.RSA_PKCS1_PADDING };
      cryptoSign('sha256', data, options, (error, signature) =>
        error ? fail(error) : resolve(new Uint8Array(signature)),
      );
    } catch (error) {
      fail(error);
    }
  });

const cardRemoved = (): AgentError =>
  new AgentError('CARD_REMOVED', 'the expected card is not in the reader');
const blockedError = (): AgentError => new AgentError('PIN_BLOCKED', 'the PIN is blocked', { triesLeft: 0 });
const lockedError = (): AgentError => new AgentError('CARD_LOCKED', 'the card is locked for good');

const pinStatus = (card: VirtualCard): PinStatus => {
  const pin = (record: PinRecord) => ({ triesLeft: record.triesLeft, blocked: record.triesLeft <= 0 });
  return {
    pin1: pin(card.pins.pin1),
    pin2: pin(card.pins.pin2),
    puk: { triesLeft: pukTriesLeft(card.puk.wrong), locked: isLocked(card) },
  };
};

const initialState = (count: number): VirtualState => ({
  readers: Array.from({ length: count }, (_, i) => ({
    id: `reader-${i + 1}`,
    name: readerName(i + 1),
    connected: true,
    cardNumber: null,
  })),
  cards: [],
});

/**
 * Virtual readers and cards for training mode and demos: no native module, the same rules as a
 * real card (three PIN tries, the PUK, more than ten wrong PUKs lock the card), and private keys
 * that never leave it. With a state file the "chip" is that file, so cards, keys and counters
 * survive an agent restart.
 *
 * Operations on one card run one at a time, so PIN counters cannot race; the control methods
 * (plug, unplug, insert, remove) act at once, as a hand on the hardware would, and an operation
 * in progress notices: it re-checks after every wait and throws CARD_REMOVED rather than commit
 * to a card that left.
 */
export class VirtualBackend implements CardBackend {
  private readonly listeners = new Set<(event: BackendEvent) => void>();
  /** Operations waiting out `operationDelayMs`; each is woken to re-check when a card or reader changes. */
  private readonly wakers = new Set<() => void>();
  private readonly queues = new Map<CardNumber, Promise<void>>();
  /** In memory only: a fresh number for every insertion, so "the same card" means "never left the reader". */
  private readonly insertions = new Map<ReaderId, number>();
  private readonly readerMap: Map<ReaderId, VirtualReader>;
  private readonly cards: Map<CardNumber, VirtualCard>;
  private nextInsertion = 1;
  private closed = false;
  private faults: CardFaults = NO_FAULTS;
  /**
   * In memory only: each card's counterfeit identity once it was asked for, so that a counterfeit
   * card answers with the same key every time, as a chip would.
   */
  private readonly counterfeits = new Map<
    CardNumber,
    { readonly key: KeyRecord; readonly certificate: string }
  >();

  private constructor(
    state: VirtualState,
    private readonly store: StateFile | null,
    private readonly now: () => number,
    private delayMs: number,
  ) {
    this.readerMap = new Map(state.readers.map((r) => [r.id, r]));
    this.cards = new Map(state.cards.map((c) => [c.cardNumber, c]));
    for (const r of state.readers) if (r.cardNumber !== null) this.insertions.set(r.id, this.nextInsertion++);
  }

  static async open(options: VirtualBackendOptions): Promise<VirtualBackend> {
    const readers = options.readers ?? 2;
    if (!Number.isInteger(readers) || readers < 0) throw cardError('invalid reader count');
    const delayMs = options.operationDelayMs ?? 0;
    if (!Number.isFinite(delayMs) || delayMs < 0) throw cardError('invalid operation delay');
    const store = options.stateFile === null ? null : new StateFile(options.stateFile);
    const saved = store ? await store.load() : null;
    const backend = new VirtualBackend(
      saved ?? initialState(readers),
      store,
      options.now ?? Date.now,
      delayMs,
    );
    // Write a new state at once, so the file exists (and is 0600) before the first card.
    if (store && saved === null) await backend.persist();
    return backend;
  }

  describe(): BackendDescription {
    return DESCRIPTION;
  }

  async readers(): Promise<readonly ReaderInfo[]> {
    this.assertOpen();
    return [...this.readerMap.values()]
      .filter((r) => r.connected)
      .map((r) => ({
        id: r.id,
        name: r.name,
        card: r.cardNumber === null ? null : { cardNumber: r.cardNumber },
      }));
  }

  subscribe(listener: (event: BackendEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async cardInfo(readerId: ReaderId): Promise<CardInfo> {
    this.assertOpen();
    const reader = this.connectedReader(readerId);
    if (reader.cardNumber === null) throw this.cardMissing(readerId);
    const card = this.cardRecord(reader.cardNumber);
    checkVirtualCardIdentity(readerId, card);
    const certificates: CardCertificate[] = [];
    for (const key of SLOTS) {
      const der = card.certificates[key];
      if (der !== undefined) certificates.push({ key, der: fromBase64(der) });
    }
    // A locked card still answers what it is: the agent has to be able to say it is locked.
    return {
      readerId,
      cardNumber: card.cardNumber,
      pins: pinStatus(card),
      keys: { auth: card.keys.auth !== undefined, sign: card.keys.sign !== undefined },
      certificates,
    };
  }

  sign(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin: string,
    data: Uint8Array,
    generation: KeyGeneration = 'current',
  ): Promise<Uint8Array> {
    return this.operate(readerId, expected, async (held) => {
      requireSlot(key);
      requireForm(pin, PIN_PATTERN, 'pin');
      // A missing key is public knowledge (cardInfo shows it): say so before a PIN try is spent.
      const record = generation === 'next' ? held.card.next?.keys[key] : held.card.keys[key];
      if (record === undefined) throw new AgentError('KEY_MISSING', `the card has no ${key} key`, { key });
      await this.pause(held);
      const pinId = PIN_OF[key];
      const verified = await this.verifyPin(held, pinId, pin);
      const signature = await signWith(record, data);
      this.stillHeld(held);
      if (verified.pins[pinId].triesLeft !== held.card.pins[pinId].triesLeft) await this.commit(verified);
      return signature;
    });
  }

  generateKey(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin1: string,
    spec: CardKeySpec,
    generation: KeyGeneration = 'current',
  ): Promise<GeneratedKey> {
    return this.operate(readerId, expected, async (held) => {
      requireSlot(key);
      requireForm(pin1, PIN_PATTERN, 'pin');
      if (spec !== 'ecdsa-p256' && spec !== 'rsa-2048') throw cardError('unsupported key type');
      await this.pause(held);
      const verified = await this.verifyPin(held, 'pin1', pin1);
      const pair = await generatePair(spec);
      // The chip remembers where the key came from, and says so whenever it is asked.
      const record: KeyRecord = this.faults.exportableKeys ? { ...pair, attributes: IMPORTED } : pair;
      this.stillHeld(held);
      // The old certificate belonged to the old key: keeping it would pair a certificate with a key it does not certify.
      if (generation === 'next') {
        const next = verified.next ?? { keys: {}, certificates: {} };
        await this.commit({
          ...verified,
          next: { keys: { ...next.keys, [key]: record }, certificates: without(next.certificates, key) },
        });
      } else {
        await this.commit({
          ...verified,
          keys: { ...verified.keys, [key]: record },
          certificates: without(verified.certificates, key),
        });
      }
      return { key, spki: fromBase64(record.spki), spec, attributes: record.attributes ?? ON_CARD };
    });
  }

  writeCertificate(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin1: string,
    der: Uint8Array,
    generation: KeyGeneration = 'current',
  ): Promise<void> {
    return this.operate(readerId, expected, async (held) => {
      requireSlot(key);
      requireForm(pin1, PIN_PATTERN, 'pin');
      const keys = generation === 'next' ? held.card.next?.keys : held.card.keys;
      if (keys?.[key] === undefined)
        throw new AgentError('KEY_MISSING', `the card has no ${key} key`, { key });
      await this.pause(held);
      const verified = await this.verifyPin(held, 'pin1', pin1);
      this.stillHeld(held);
      if (generation === 'next') {
        const next = verified.next ?? { keys: {}, certificates: {} };
        await this.commit({
          ...verified,
          next: { ...next, certificates: { ...next.certificates, [key]: toBase64(der) } },
        });
      } else {
        await this.commit({ ...verified, certificates: { ...verified.certificates, [key]: toBase64(der) } });
      }
    });
  }

  promoteNextKeys(readerId: ReaderId, expected: CardNumber, pin1: string): Promise<void> {
    return this.operate(readerId, expected, async (held) => {
      requireForm(pin1, PIN_PATTERN, 'pin');
      const next = held.card.next;
      const slots = SLOTS.filter((key) => next?.keys[key] !== undefined);
      // Nothing is removed unless every next key present has its certificate.
      if (
        next === undefined ||
        slots.length === 0 ||
        slots.some((key) => next.certificates[key] === undefined)
      )
        throw new AgentError('KEY_MISSING', 'the card has no new keys with certificates', { key: 'next' });
      await this.pause(held);
      const verified = await this.verifyPin(held, 'pin1', pin1);
      this.stillHeld(held);
      // One record replaces the other: the chip never holds half of the change.
      const { next: _promoted, ...rest } = verified;
      await this.commit({
        ...rest,
        keys: { ...verified.keys, ...Object.fromEntries(slots.map((k) => [k, next.keys[k]])) },
        certificates: {
          ...verified.certificates,
          ...Object.fromEntries(slots.map((k) => [k, next.certificates[k]])),
        },
      });
    });
  }

  proveCard(readerId: ReaderId, expected: CardNumber, data: Uint8Array): Promise<CardProof> {
    return this.operate(readerId, expected, async (held) => {
      // No PIN: the bureau key answers anyone, which is the point (it proves the card, not a person).
      const bureau = this.faults.counterfeitCard ? await this.counterfeitOf(held.card) : held.card.bureau;
      if (bureau === undefined || bureau.certificate === null) throw bureauKeyMissing();
      await this.pause(held);
      const signature = await signWith(bureau.key, data);
      this.stillHeld(held);
      return { signature, certificate: fromBase64(bureau.certificate) };
    });
  }

  clean(readerId: ReaderId, expected: CardNumber, pin1: string): Promise<void> {
    return this.operate(readerId, expected, async (held) => {
      requireForm(pin1, PIN_PATTERN, 'pin');
      const verified = await this.verifyPin(held, 'pin1', pin1);
      this.stillHeld(held);
      // The bureau key stays: it is the card's own, not its holder's.
      const { next: _next, ...rest } = verified;
      await this.commit({ ...rest, keys: {}, certificates: {} });
    });
  }

  changePin(
    readerId: ReaderId,
    expected: CardNumber,
    pin: PinId,
    currentPin: string,
    newPin: string,
  ): Promise<void> {
    return this.operate(readerId, expected, async (held) => {
      if (pin !== 'pin1' && pin !== 'pin2') throw cardError('unknown PIN');
      requireForm(currentPin, PIN_PATTERN, 'pin');
      requireForm(newPin, PIN_PATTERN, 'pin');
      const verified = await this.verifyPin(held, pin, currentPin);
      const secret = await hashSecret(newPin);
      this.stillHeld(held);
      await this.commit(withPin(verified, pin, { secret, triesLeft: PIN_TRIES }));
    });
  }

  unblockPin(
    readerId: ReaderId,
    expected: CardNumber,
    pin: PinId,
    puk: string,
    newPin: string,
  ): Promise<void> {
    return this.operate(readerId, expected, async (held) => {
      if (pin !== 'pin1' && pin !== 'pin2') throw cardError('unknown PIN');
      requireForm(puk, PUK_PATTERN, 'puk');
      requireForm(newPin, PIN_PATTERN, 'pin');
      const right = await secretMatches(held.card.puk.secret, puk);
      const secret = right ? await hashSecret(newPin) : null;
      const card = this.stillHeld(held);
      if (secret === null) {
        const wrong = card.puk.wrong + 1;
        await this.commit({ ...card, puk: { ...card.puk, wrong } });
        if (wrong > PUK_TRIES) throw lockedError();
        throw new AgentError('PUK_INCORRECT', 'wrong PUK', { triesLeft: pukTriesLeft(wrong) });
      }
      await this.commit(
        withPin({ ...card, puk: { ...card.puk, wrong: 0 } }, pin, { secret, triesLeft: PIN_TRIES }),
      );
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    this.listeners.clear();
    await this.store?.flush();
  }

  // --- Virtual cards -----------------------------------------------------------------------------

  /** Makes a new blank card (on the desk, in no reader) with its PINs and PUK. */
  async createCard(spec: VirtualCardSpec): Promise<void> {
    this.assertOpen();
    const parsed = parseCardNumber(spec.cardNumber);
    if (!parsed.ok) throw cardError('invalid card number');
    const cardNumber = parsed.value;
    requireForm(spec.pin1, PIN_PATTERN, 'pin');
    requireForm(spec.pin2, PIN_PATTERN, 'pin');
    requireForm(spec.puk, PUK_PATTERN, 'puk');
    await this.serialised(cardNumber, async () => {
      if (this.cards.has(cardNumber))
        throw cardError('card number already exists', `card ${cardNumber} already exists`);
      const [pin1, pin2, puk] = await Promise.all([
        hashSecret(spec.pin1),
        hashSecret(spec.pin2),
        hashSecret(spec.puk),
      ]);
      this.assertOpen();
      await this.commit({
        cardNumber,
        label: spec.label ?? null,
        pins: { pin1: { secret: pin1, triesLeft: PIN_TRIES }, pin2: { secret: pin2, triesLeft: PIN_TRIES } },
        puk: { secret: puk, wrong: 0 },
        keys: {},
        certificates: {},
      });
    });
  }

  /**
   * What the card bureau does to a blank card (`reservkort card init` on a real one): generates the
   * bureau key pair on the card, has `certify` issue its certificate from the public key (SPKI DER),
   * and stores that certificate next to it. The card may be on the desk; no PIN is involved. A
   * card that already has a bureau key keeps it unless `replace`.
   */
  async installBureauKey(
    cardNumber: CardNumber,
    certify: (spki: Uint8Array) => Promise<Uint8Array>,
    options: { readonly replace?: boolean } = {},
  ): Promise<{ readonly spki: Uint8Array; readonly certificate: Uint8Array }> {
    this.assertOpen();
    return this.serialised(cardNumber, async () => {
      const card = this.cardRecord(cardNumber);
      if (card.bureau?.certificate != null && options.replace !== true) {
        throw cardError('card already has a bureau key', `card ${cardNumber} already has a bureau key`);
      }
      const key = await generatePair('ecdsa-p256');
      const spki = fromBase64(key.spki);
      const certificate = await certify(spki);
      this.assertOpen();
      await this.commit({
        ...this.cardRecord(cardNumber),
        bureau: { key, certificate: toBase64(certificate) },
      });
      return { spki, certificate };
    });
  }

  /** Switches chip faults on or off for every card; answers the faults now in force. */
  simulateFaults(change: Partial<CardFaults>): CardFaults {
    this.assertOpen();
    this.faults = {
      counterfeitCard: change.counterfeitCard ?? this.faults.counterfeitCard,
      exportableKeys: change.exportableKeys ?? this.faults.exportableKeys,
    };
    return this.faults;
  }

  get simulatedFaults(): CardFaults {
    return this.faults;
  }

  /**
   * Training: sets a card's counters as if someone had typed wrong codes: PIN 1 blocked (three
   * wrong PINs), the card locked for good (eleven wrong PUKs), or every counter full again. The
   * PINs and the PUK themselves stay as they are.
   */
  async setCounters(cardNumber: CardNumber, state: TrainingCounters): Promise<void> {
    this.assertOpen();
    if (!this.cards.has(cardNumber))
      throw cardError('no such virtual card', `there is no virtual card ${cardNumber}`);
    await this.serialised(cardNumber, async () => {
      const card = this.cardRecord(cardNumber);
      const full = (pin: PinId): PinRecord => ({ ...card.pins[pin], triesLeft: PIN_TRIES });
      await this.commit({
        ...card,
        pins: {
          pin1: state === 'pin1-blocked' ? { ...card.pins.pin1, triesLeft: 0 } : full('pin1'),
          pin2: full('pin2'),
        },
        puk: { ...card.puk, wrong: state === 'card-locked' ? PUK_TRIES + 1 : 0 },
      });
    });
  }

  /** Whether a virtual card carries a bureau key with its certificate. */
  hasBureauKey(cardNumber: CardNumber): boolean {
    return this.cards.get(cardNumber)?.bureau?.certificate != null;
  }

  async listCards(): Promise<readonly VirtualCardSummary[]> {
    this.assertOpen();
    const placed = new Map<CardNumber, ReaderId>();
    for (const r of this.readerMap.values())
      if (r.connected && r.cardNumber !== null) placed.set(r.cardNumber, r.id);
    return [...this.cards.values()].map((c) => ({
      cardNumber: c.cardNumber,
      label: c.label,
      readerId: placed.get(c.cardNumber) ?? null,
      locked: isLocked(c),
    }));
  }

  // --- Control: the hand on the hardware ---------------------------------------------------------

  /** Plugs a known unplugged reader back in, or (without an id) a new one `reader-N`; returns its id. */
  async plugReader(readerId?: ReaderId): Promise<ReaderId> {
    this.assertOpen();
    let reader: VirtualReader;
    if (readerId === undefined) {
      const n =
        Math.max(0, ...[...this.readerMap.keys()].map((id) => Number(READER_ID.exec(id)?.[1] ?? 0))) + 1;
      reader = { id: `reader-${n}`, name: readerName(n), connected: true, cardNumber: null };
    } else {
      const known = this.readerMap.get(readerId);
      if (known === undefined) throw this.readerNotFound(readerId);
      // Plugging in a reader that is already in is a no-op, as it is on a desk.
      if (known.connected) return readerId;
      reader = { ...known, connected: true, cardNumber: null };
    }
    this.readerMap.set(reader.id, reader);
    this.emit('reader-plugged', reader.id);
    await this.persist();
    return reader.id;
  }

  /** Unplugs a reader; a card in it counts as removed first (card-removed, then reader-unplugged). */
  async unplugReader(readerId: ReaderId): Promise<void> {
    this.assertOpen();
    const reader = this.connectedReader(readerId);
    if (reader.cardNumber !== null) this.takeOut(reader);
    this.readerMap.set(readerId, { ...reader, connected: false, cardNumber: null });
    this.wake();
    this.emit('reader-unplugged', readerId);
    await this.persist();
  }

  async insertCard(readerId: ReaderId, cardNumber: CardNumber): Promise<void> {
    this.assertOpen();
    const reader = this.connectedReader(readerId);
    if (reader.cardNumber !== null)
      throw cardError('reader already holds a card', `${readerId} already holds a card`);
    if (!this.cards.has(cardNumber))
      throw cardError('no such virtual card', `there is no virtual card ${cardNumber}`);
    for (const other of this.readerMap.values()) {
      if (other.connected && other.cardNumber === cardNumber) {
        throw cardError('card is in another reader', `card ${cardNumber} is in ${other.id}`);
      }
    }
    this.readerMap.set(readerId, { ...reader, cardNumber });
    this.insertions.set(readerId, this.nextInsertion++);
    this.emit('card-inserted', readerId, cardNumber);
    await this.persist();
  }

  async removeCard(readerId: ReaderId): Promise<void> {
    this.assertOpen();
    const reader = this.connectedReader(readerId);
    if (reader.cardNumber === null) throw this.cardMissing(readerId);
    this.takeOut(reader);
    await this.persist();
  }

  // --- Internals ---------------------------------------------------------------------------------

  /** The card as a counterfeit of itself: its own key, and a copy of its bureau certificate that the bureau never signed. */
  private async counterfeitOf(card: VirtualCard): Promise<{ key: KeyRecord; certificate: string }> {
    const known = this.counterfeits.get(card.cardNumber);
    if (known !== undefined) return known;
    const key = await generatePair('ecdsa-p256');
    const genuine = card.bureau?.certificate ?? null;
    const certificate = await counterfeitBureauCertificate(
      fromBase64(key.spki),
      card.cardNumber,
      genuine === null ? null : fromBase64(genuine),
      this.now(),
    );
    const counterfeit = { key, certificate: toBase64(certificate) };
    this.counterfeits.set(card.cardNumber, counterfeit);
    return counterfeit;
  }

  private takeOut(reader: VirtualReader): void {
    const cardNumber = reader.cardNumber;
    this.readerMap.set(reader.id, { ...reader, cardNumber: null });
    this.insertions.delete(reader.id);
    this.wake();
    this.emit('card-removed', reader.id, cardNumber);
  }

  private emit(type: BackendEventType, readerId: ReaderId, cardNumber?: CardNumber | null): void {
    const at = this.now();
    const event: BackendEvent =
      cardNumber === undefined ? { type, readerId, at } : { type, readerId, cardNumber, at };
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // A listener's failure is its own: the card has left the reader whatever a subscriber thinks of it.
      }
    }
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }

  /** One operation per card at a time, in the order asked; a failed one does not stop the next. */
  private serialised<T>(cardNumber: CardNumber, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(cardNumber) ?? Promise.resolve();
    const run = previous.then(work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(cardNumber, tail);
    void tail.then(() => {
      if (this.queues.get(cardNumber) === tail) this.queues.delete(cardNumber);
    });
    return run;
  }

  private operate<T>(readerId: ReaderId, expected: CardNumber, work: (held: Held) => Promise<T>): Promise<T> {
    return this.serialised(expected, async () => {
      this.assertOpen();
      return work(this.hold(readerId, expected));
    });
  }

  private hold(readerId: ReaderId, expected: CardNumber): Held {
    const reader = this.connectedReader(readerId);
    if (reader.cardNumber === null) throw this.cardMissing(readerId);
    if (reader.cardNumber !== expected) throw cardRemoved();
    const card = this.cardRecord(expected);
    checkVirtualCardIdentity(readerId, card);
    if (isLocked(card)) throw lockedError();
    return { readerId, card, insertion: this.insertions.get(readerId) ?? 0 };
  }

  private isHeld(held: Held): boolean {
    const reader = this.readerMap.get(held.readerId);
    return (
      !this.closed &&
      reader?.connected === true &&
      reader.cardNumber === held.card.cardNumber &&
      this.insertions.get(held.readerId) === held.insertion
    );
  }

  /** After any wait: the card must not have left the reader meanwhile. Returns its current record. */
  private stillHeld(held: Held): VirtualCard {
    this.assertOpen();
    if (!this.isHeld(held)) throw cardRemoved();
    return this.cardRecord(held.card.cardNumber);
  }

  /** Changes how long operations take from now on (training: seed fast, then slow enough to pull a card out). */
  setOperationDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw cardError('invalid operation delay');
    this.delayMs = ms;
  }

  /** Waits `operationDelayMs`, or less if the card leaves first, then re-checks the card. */
  private async pause(held: Held): Promise<void> {
    if (this.delayMs > 0) {
      await new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          this.wakers.delete(check);
          resolve();
        };
        const check = (): void => {
          if (!this.isHeld(held)) finish();
        };
        const timer = setTimeout(finish, this.delayMs);
        this.wakers.add(check);
      });
    }
    this.stillHeld(held);
  }

  /**
   * Checks a PIN by the card's rules. A wrong one is counted (and saved) before the error is
   * thrown; a right one returns the card with full tries again, for the caller to commit together
   * with its own change, so that nothing is written when the operation fails after all.
   */
  private async verifyPin(held: Held, pinId: PinId, pin: string): Promise<VirtualCard> {
    if (held.card.pins[pinId].triesLeft <= 0) throw blockedError();
    const right = await secretMatches(held.card.pins[pinId].secret, pin);
    const card = this.stillHeld(held);
    const record = card.pins[pinId];
    if (right) return withPin(card, pinId, { ...record, triesLeft: PIN_TRIES });
    const triesLeft = Math.max(0, record.triesLeft - 1);
    await this.commit(withPin(card, pinId, { ...record, triesLeft }));
    if (triesLeft === 0) throw blockedError();
    throw new AgentError('PIN_INCORRECT', 'wrong PIN', { triesLeft });
  }

  private async commit(card: VirtualCard): Promise<void> {
    this.cards.set(card.cardNumber, card);
    await this.persist();
  }

  private async persist(): Promise<void> {
    if (this.store === null) return;
    await this.store.save({ readers: [...this.readerMap.values()], cards: [...this.cards.values()] });
  }

  private connectedReader(readerId: ReaderId): VirtualReader {
    const reader = this.readerMap.get(readerId);
    if (reader === undefined || !reader.connected) throw this.readerNotFound(readerId);
    return reader;
  }

  private cardRecord(cardNumber: CardNumber): VirtualCard {
    const card = this.cards.get(cardNumber);
    if (card === undefined) throw cardError('virtual card record missing');
    return card;
  }

  private readerNotFound(readerId: ReaderId): AgentError {
    return new AgentError('READER_NOT_FOUND', `no card reader ${readerId}`, { reader: readerId });
  }

  private cardMissing(readerId: ReaderId): AgentError {
    return new AgentError('CARD_MISSING', `no card in ${readerId}`, { reader: readerId });
  }

  private assertOpen(): void {
    if (this.closed) throw cardError('virtual backend closed');
  }
}
