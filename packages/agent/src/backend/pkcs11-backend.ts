// Cards through a vendor's PKCS#11 module: a slot is a reader, a token is a card. Written against
// the standard only; SoftHSM2 is what the tests run it on, and where SoftHSM2 differs from a card
// (no PIN counters, no slot events, tokens that are slots) the backend makes up the difference.
import { createHash } from 'node:crypto';
import { type CardNumber, parseCardNumber } from '@reservkort/domain';
import { acquireModule, type ModuleInfo, releaseModule, type SharedModule } from '@reservkort/pkcs11';
import type { Mechanism, PKCS11, Template } from 'pkcs11js';
import pkcs11js from 'pkcs11js';
import { AgentError, isAgentError } from '../agent-error.js';
import {
  type BackendDescription,
  type BackendEvent,
  BUREAU_KEY_LABEL,
  type CardBackend,
  type CardCertificate,
  type CardInfo,
  type CardKeySpec,
  type CardProof,
  type GeneratedKey,
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
import { certificateFields, findBureauObjects, readKeyAttributes } from './pkcs11-bureau-key.js';
import { ckrCode, ckrName, PIN_SHAPE_CODES, REMOVAL_CODES, TEMPLATE_CODES } from './pkcs11-errors.js';
import { signingKeyPairTemplates } from './pkcs11-key-templates.js';
import { NO_WRONG_ENTRIES, PinCounterStore, type PinCounters } from './pkcs11-pin-counters.js';
import { spkiFromEcPoint, spkiFromRsa } from './pkcs11-spki.js';

export interface Pkcs11BackendOptions {
  /** Path of the vendor's PKCS#11 module. */
  readonly module: string;
  /** How often readers are looked at while someone listens for events (default 250 ms). */
  readonly pollIntervalMs?: number;
  readonly now?: () => number;
  /**
   * How long a card must stay gone from a token slot before it is believed gone (default 300 ms);
   * see Pkcs11Backend.scan.
   */
  readonly vanishConfirmMs?: number;
  /** Where wrong PIN/PUK counts survive a restart; null (the default) keeps them in memory. */
  readonly stateFile?: string | null;
}

// Slot flags of PKCS#11 v2.40 §3.2 (pkcs11js has them at run time but not in its typings).
const CKF_TOKEN_PRESENT = 0x1;
const CKF_REMOVABLE_DEVICE = 0x2;

/** CKA_ID and CKA_LABEL per key; the certificate of a key shares them. */
const KEY_IDS: { readonly [K in KeySlot]: Buffer } = { auth: Buffer.from([0x01]), sign: Buffer.from([0x02]) };
const KEY_LABELS: { readonly [K in KeySlot]: string } = { auth: 'reservkort-auth', sign: 'reservkort-sign' };
/** A förlängning's next pair sits beside the current one under ids and labels of its own. */
const NEXT_KEY_IDS: { readonly [K in KeySlot]: Buffer } = {
  auth: Buffer.from([0x11]),
  sign: Buffer.from([0x12]),
};
const NEXT_KEY_LABELS: { readonly [K in KeySlot]: string } = {
  auth: 'reservkort-auth-next',
  sign: 'reservkort-sign-next',
};
const idOf = (key: KeySlot, generation: KeyGeneration): Buffer =>
  generation === 'next' ? NEXT_KEY_IDS[key] : KEY_IDS[key];
const labelOf = (key: KeySlot, generation: KeyGeneration): string =>
  generation === 'next' ? NEXT_KEY_LABELS[key] : KEY_LABELS[key];
const KEY_SLOTS: readonly KeySlot[] = ['auth', 'sign'];

/** Certificates by their CKA_LABEL, as a WRONG_CARD message names them. */
const CERTIFICATE_NAMES: ReadonlyMap<string, string> = new Map([
  [BUREAU_KEY_LABEL, 'card bureau certificate'],
  [KEY_LABELS.auth, 'authentication certificate'],
  [KEY_LABELS.sign, 'signature certificate'],
  [NEXT_KEY_LABELS.auth, 'new authentication certificate'],
  [NEXT_KEY_LABELS.sign, 'new signature certificate'],
]);

/** The data object a card bureau writes when the label cannot carry the card number. */
export const CARD_NUMBER_OBJECT_LABEL = 'card-number';

/** DER of the OID prime256v1 (1.2.840.10045.3.1.7), as CKA_EC_PARAMS wants it. */
/** RFC 8017 §9.2 note 1: DigestInfo prefix for SHA-256, for modules without CKM_SHA256_RSA_PKCS. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
const MAX_SIGNATURE = 1024;

interface TokenView {
  readonly cardNumber: CardNumber | null;
  readonly serial: string;
  readonly label: string;
  readonly flags: number;
}

interface SlotView {
  /** The reader: the slot's own id, or for a token that is its slot, the place it took (see placeReaders). */
  readonly id: ReaderId;
  /** The module's slot behind the reader (`slot-N`); for an empty place, the slot that last filled it. */
  readonly slot: string;
  readonly name: string;
  /** null for a remembered slot whose token went away together with the slot (SoftHSM2). */
  readonly handle: Buffer | null;
  /** No CKF_REMOVABLE_DEVICE: the token is the slot (SoftHSM2, HSM partitions), not a card in a reader. */
  readonly fixed: boolean;
  readonly token: TokenView | null;
  /** The place has held a card: it stays, empty, whatever the module lists for a while. */
  readonly held: boolean;
}

/** A token an operation found in its reader, with an open read/write session. */
interface TokenContext {
  readonly slot: SlotView;
  readonly handle: Buffer;
  readonly token: TokenView;
  readonly cardNumber: CardNumber | null;
  readonly session: Buffer;
}

/** The card an operation expected, found where it expected it. */
interface CardContext extends TokenContext {
  readonly cardNumber: CardNumber;
}

/** A stable reader id from a slot id: CK_SLOT_ID as an unsigned little-endian integer, in decimal. */
const readerIdOf = (handle: Buffer): ReaderId => {
  let value = 0n;
  for (let i = handle.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(handle[i] ?? 0);
  return `slot-${value}`;
};

const cardNumberFrom = (text: string): CardNumber | null => {
  const parsed = parseCardNumber(text.trim());
  return parsed.ok ? parsed.value : null;
};

const identityOf = (token: TokenView | null): string | null =>
  token === null ? null : `${token.serial}\u0000${token.label}\u0000${token.cardNumber ?? ''}`;

const has = (flags: number, flag: number): boolean => (flags & flag) !== 0;

const agentError = (
  code: AgentError['code'],
  message: string,
  details: AgentError['details'] = {},
  cause?: unknown,
): AgentError => new AgentError(code, message, details, cause === undefined ? undefined : { cause });

const sameBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && a.equals(b);

/**
 * PIN 1 is the token's user PIN (C_Login CKU_USER). PIN 2 guards the signature key, generated with
 * CKA_ALWAYS_AUTHENTICATE, through a context-specific login (CKU_CONTEXT_SPECIFIC) right before
 * C_Sign. A module with one user PIN (SoftHSM2 and most soft tokens) has no second PIN to give:
 * there PIN 2 has the same value as PIN 1, and signing with the signature key logs in with that
 * value twice (user, then context-specific). Each of the two keeps its own try counter here.
 *
 * PIN rules (SPEC §3) come from the token when it reports them (CKF_USER_PIN_LOCKED,
 * CKF_USER_PIN_FINAL_TRY, CKR_PIN_LOCKED, CKF_SO_PIN_LOCKED) and are always enforced on top by
 * the backend itself, per card number, because SoftHSM2 never blocks a PIN. The PUK is the token's
 * SO PIN.
 */
export class Pkcs11Backend implements CardBackend {
  private readonly listeners = new Set<(event: BackendEvent) => void>();
  private known = new Map<ReaderId, SlotView>();
  /** Card numbers read from data objects, by slot, serial and label: a session per look is costly. */
  private readonly numberCache = new Map<string, CardNumber>();
  /** Set when a token answered as if its module no longer knew it: look again from scratch. */
  private suspectStale = false;
  /** Token slots whose card seemed gone, with when (monotonic ms) it was first missed. */
  private readonly vanished = new Map<ReaderId, number>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly module: SharedModule,
    private readonly info: ModuleInfo,
    private readonly counters: PinCounterStore,
    private readonly pollIntervalMs: number,
    private readonly now: () => number,
    private readonly vanishConfirmMs: number,
  ) {}

  static async open(options: Pkcs11BackendOptions): Promise<Pkcs11Backend> {
    const counters = await PinCounterStore.open(options.stateFile ?? null);
    let module: SharedModule;
    try {
      module = acquireModule(options.module);
    } catch (cause) {
      throw agentError(
        'CARD_ERROR',
        `PKCS#11 module ${options.module} could not be loaded`,
        { reason: ckrCode(cause) === null ? 'MODULE_LOAD' : ckrName(cause) },
        cause,
      );
    }
    try {
      const backend = new Pkcs11Backend(
        module,
        module.info(),
        counters,
        options.pollIntervalMs ?? 250,
        options.now ?? Date.now,
        options.vanishConfirmMs ?? 300,
      );
      // The first look is the baseline that events are told against.
      await module.exclusive(() => backend.scan());
      return backend;
    } catch (cause) {
      releaseModule(module);
      throw isAgentError(cause)
        ? cause
        : agentError('CARD_ERROR', 'PKCS#11 module did not answer', { reason: ckrName(cause) }, cause);
    }
  }

  describe(): BackendDescription {
    return {
      kind: 'pkcs11',
      library: this.module.path,
      manufacturer: this.info.manufacturer,
      version: this.info.libraryVersion,
    };
  }

  async readers(): Promise<readonly ReaderInfo[]> {
    this.assertOpen();
    const slots = await this.module.exclusive(() => this.settledScan());
    return [...slots.values()].map((slot) => ({
      id: slot.id,
      name: slot.name,
      card: slot.token === null ? null : { cardNumber: slot.token.cardNumber },
    }));
  }

  /**
   * PKCS#11 slot events (C_WaitForSlotEvent) are optional and SoftHSM2 has none, so readers are
   * polled while anyone listens. Every look at the readers, by the poller or by an operation, is
   * compared with the one before, so no change goes unreported because someone else saw it first.
   */
  subscribe(listener: (event: BackendEvent) => void): () => void {
    this.assertOpen();
    this.listeners.add(listener);
    if (this.timer === null) this.schedulePoll();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopPolling();
    };
  }

  async cardInfo(readerId: ReaderId): Promise<CardInfo> {
    return this.withToken(readerId, null, async (card) => {
      // Private keys are visible only after a login; their public halves are made and deleted with them.
      const keys = {
        auth: this.findKeyObject(card, 'auth', 'public') !== null,
        sign: this.findKeyObject(card, 'sign', 'public') !== null,
      };
      const certificates: CardCertificate[] = [];
      for (const key of KEY_SLOTS) {
        for (const handle of this.findObjects(card.session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
          { type: pkcs11js.CKA_ID, value: KEY_IDS[key] },
        ])) {
          const value = this.attribute(card.session, handle, pkcs11js.CKA_VALUE);
          certificates.push({ key, der: new Uint8Array(value) });
        }
      }
      return {
        readerId,
        cardNumber: card.cardNumber,
        pins: this.pinStatus(card.token, card.cardNumber),
        keys,
        certificates,
      };
    });
  }

  async sign(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin: string,
    data: Uint8Array,
    generation: KeyGeneration = 'current',
  ): Promise<Uint8Array> {
    const pinId = PIN_OF[key];
    return this.withCard(readerId, expected, async (card) => {
      this.checkPinBeforeUse(card, pinId, pin);
      // The public half is visible without a login: a missing key costs no PIN try.
      if (this.findKeyObject(card, key, 'public', generation) === null) throw keyMissing(key);
      await this.login(card, pinId, pin);
      const privateKey = this.findKeyObject(card, key, 'private', generation);
      if (privateKey === null) throw keyMissing(key);
      const keyType = this.attribute(card.session, privateKey, pkcs11js.CKA_KEY_TYPE);
      const { mechanism, input } = this.signMechanism(card.handle, keyType, data);
      this.lib.C_SignInit(card.session, mechanism, privateKey);
      if (this.alwaysAuthenticate(card.session, privateKey)) {
        try {
          this.lib.C_Login(card.session, pkcs11js.CKU_CONTEXT_SPECIFIC, pin);
        } catch (error) {
          await this.pinFailure(card, pinId, error);
        }
      }
      const signature = await this.lib.C_SignAsync(card.session, input, Buffer.alloc(MAX_SIGNATURE));
      return new Uint8Array(signature);
    });
  }

  async generateKey(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin1: string,
    spec: CardKeySpec,
    generation: KeyGeneration = 'current',
  ): Promise<GeneratedKey> {
    return this.withCard(readerId, expected, async (card) => {
      this.checkPinBeforeUse(card, 'pin1', pin1);
      await this.login(card, 'pin1', pin1);
      // The old pair goes first, and with it its certificate, which would no longer match.
      this.destroyObjects(card.session, this.objectsOf(card.session, key, generation));
      const { publicKey, privateKey } = await this.generatePair(card, key, spec, generation);
      return {
        key,
        spec,
        spki: this.spkiOf(card.session, publicKey, spec),
        attributes: readKeyAttributes(this.lib, card.session, privateKey),
      };
    });
  }

  async writeCertificate(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin1: string,
    der: Uint8Array,
    generation: KeyGeneration = 'current',
  ): Promise<void> {
    return this.withCard(readerId, expected, async (card) => {
      this.checkPinBeforeUse(card, 'pin1', pin1);
      await this.login(card, 'pin1', pin1);
      if (this.findKeyObject(card, key, 'private', generation) === null) throw keyMissing(key);
      this.destroyObjects(
        card.session,
        this.findObjects(card.session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
          { type: pkcs11js.CKA_ID, value: idOf(key, generation) },
        ]),
      );
      const { subject, issuer, serial } = certificateFields(der);
      this.lib.C_CreateObject(card.session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
        { type: pkcs11js.CKA_CERTIFICATE_TYPE, value: pkcs11js.CKC_X_509 },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: pkcs11js.CKA_LABEL, value: labelOf(key, generation) },
        { type: pkcs11js.CKA_ID, value: idOf(key, generation) },
        { type: pkcs11js.CKA_SUBJECT, value: subject },
        { type: pkcs11js.CKA_ISSUER, value: issuer },
        { type: pkcs11js.CKA_SERIAL_NUMBER, value: serial },
        { type: pkcs11js.CKA_VALUE, value: Buffer.from(der) },
      ]);
    });
  }

  async proveCard(readerId: ReaderId, expected: CardNumber, data: Uint8Array): Promise<CardProof> {
    return this.withCard(readerId, expected, async (card) => {
      // No login: the bureau key is a private key with CKA_PRIVATE false, usable in a public session.
      const { privateKey, certificate } = findBureauObjects(this.lib, card.session);
      if (privateKey === null || certificate === null) {
        throw agentError('KEY_MISSING', 'the card has no card bureau key', { key: 'card-auth' });
      }
      const keyType = this.attribute(card.session, privateKey, pkcs11js.CKA_KEY_TYPE);
      const { mechanism, input } = this.signMechanism(card.handle, keyType, data);
      this.lib.C_SignInit(card.session, mechanism, privateKey);
      const signature = await this.lib.C_SignAsync(card.session, input, Buffer.alloc(MAX_SIGNATURE));
      return {
        signature: new Uint8Array(signature),
        certificate: new Uint8Array(this.attribute(card.session, certificate, pkcs11js.CKA_VALUE)),
      };
    });
  }

  async clean(readerId: ReaderId, expected: CardNumber, pin1: string): Promise<void> {
    return this.withCard(readerId, expected, async (card) => {
      this.checkPinBeforeUse(card, 'pin1', pin1);
      await this.login(card, 'pin1', pin1);
      // Keys and certificates go; the card-number data object and the bureau key stay, the card is the same card.
      this.destroyObjects(card.session, [
        ...this.objectsOf(card.session, 'auth'),
        ...this.objectsOf(card.session, 'sign'),
        ...this.objectsOf(card.session, 'auth', 'next'),
        ...this.objectsOf(card.session, 'sign', 'next'),
      ]);
    });
  }

  async promoteNextKeys(readerId: ReaderId, expected: CardNumber, pin1: string): Promise<void> {
    return this.withCard(readerId, expected, async (card) => {
      this.checkPinBeforeUse(card, 'pin1', pin1);
      await this.login(card, 'pin1', pin1);
      const next = KEY_SLOTS.map((key) => ({ key, objects: this.objectsOf(card.session, key, 'next') }));
      if (next.every((n) => n.objects.length === 0)) throw keyMissing('next');
      // Nothing is removed unless every next pair present is whole: private key and certificate.
      for (const { key, objects } of next) {
        if (objects.length === 0) continue;
        const certificate = this.findObjects(card.session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
          { type: pkcs11js.CKA_ID, value: NEXT_KEY_IDS[key] },
        ]);
        if (this.findKeyObject(card, key, 'private', 'next') === null || certificate.length === 0)
          throw keyMissing('next');
      }
      for (const { key, objects } of next) {
        if (objects.length === 0) continue;
        this.destroyObjects(card.session, this.objectsOf(card.session, key, 'current'));
        for (const object of objects) {
          this.lib.C_SetAttributeValue(card.session, object, [
            { type: pkcs11js.CKA_ID, value: KEY_IDS[key] },
            { type: pkcs11js.CKA_LABEL, value: KEY_LABELS[key] },
          ]);
        }
      }
    });
  }

  async changePin(
    readerId: ReaderId,
    expected: CardNumber,
    pin: PinId,
    currentPin: string,
    newPin: string,
  ): Promise<void> {
    return this.withCard(readerId, expected, async (card) => {
      this.checkPinBeforeUse(card, pin, currentPin);
      if (!PIN_PATTERN.test(newPin)) throw pinFormat(pin);
      // The current PIN is checked by a user login first, so a wrong one counts as any wrong entry.
      await this.login(card, pin, currentPin);
      try {
        // On a one-PIN token this changes the single user PIN: PIN 1 and PIN 2 both take the new value.
        this.lib.C_SetPIN(card.session, currentPin, newPin);
      } catch (error) {
        const code = ckrCode(error);
        if (code !== null && PIN_SHAPE_CODES.has(code)) throw pinFormat(pin);
        if (code === pkcs11js.CKR_PIN_INCORRECT || code === pkcs11js.CKR_PIN_LOCKED)
          await this.pinFailure(card, pin, error);
        throw error;
      } finally {
        this.logoutQuietly(card.session);
      }
    });
  }

  async unblockPin(
    readerId: ReaderId,
    expected: CardNumber,
    pin: PinId,
    puk: string,
    newPin: string,
  ): Promise<void> {
    return this.withCard(readerId, expected, async (card) => {
      const status = this.pinStatus(card.token, card.cardNumber);
      if (status.puk.locked) throw cardLocked();
      if (!PUK_PATTERN.test(puk)) throw pinFormat('puk');
      if (!PIN_PATTERN.test(newPin)) throw pinFormat(pin);
      this.logoutQuietly(card.session);
      try {
        this.lib.C_Login(card.session, pkcs11js.CKU_SO, puk);
      } catch (error) {
        await this.pukFailure(card, error);
      }
      await this.updateCounters(card.cardNumber, { puk: 0 });
      try {
        // On a one-PIN token this sets the single user PIN: PIN 1 and PIN 2 both take the new value.
        this.lib.C_InitPIN(card.session, newPin);
      } catch (error) {
        const code = ckrCode(error);
        if (code !== null && PIN_SHAPE_CODES.has(code)) throw pinFormat(pin);
        throw error;
      }
      await this.updateCounters(card.cardNumber, { [pin]: 0 });
    });
  }

  close(): Promise<void> {
    if (this.closing === null) {
      this.stopPolling();
      this.listeners.clear();
      // Wait for whatever runs on the module, then let go of it, once however often close is called.
      this.closing = this.module
        .exclusive(() => {
          this.closed = true;
        })
        .finally(() => releaseModule(this.module));
    }
    return this.closing;
  }

  // ---- readers ------------------------------------------------------------------------------

  private get lib(): PKCS11 {
    return this.module.lib;
  }

  private assertOpen(): void {
    if (this.closing !== null || this.closed)
      throw agentError('CARD_ERROR', 'the PKCS#11 backend is closed', { reason: 'CLOSED' });
  }

  /**
   * Looks at every slot (inside `exclusive`). SoftHSM2 keeps the token list it read at
   * C_Initialize: a token directory that disappears leaves its slot behind answering
   * CKR_GENERAL_ERROR, one that comes back is not seen at all. So when a token answers like that,
   * or while a remembered card is away, the module is re-initialised to look again. Where every
   * slot is a token (no reader at all), a new token can only be seen that way too: the poller
   * (`watching`) then re-initialises on every look, which costs SoftHSM2 a few milliseconds.
   */
  private scan(watching = false): Map<ReaderId, SlotView> {
    const first = this.readSlots();
    let found = first.slots;
    const awaiting = this.vanished.size > 0 || [...this.known.values()].some((slot) => slot.handle === null);
    if (first.stale || awaiting || this.suspectStale || (watching && !first.readers)) {
      this.suspectStale = false;
      // Refused while the CA's key store in this process holds the module: then this look must do.
      if (this.module.reinitialise()) found = this.readSlots().slots;
    }
    // SoftHSM2 reads each token from its files at C_Initialize; a file being rewritten or moved at
    // that moment leaves the token out, or its slot without one, for that look. A card that seems
    // gone, or a token slot that seems empty, is looked for once more at once, and then believed
    // gone only when it is still missing `vanishConfirmMs` later (placeReaders carries it until
    // then): a statement must not say that a card the station holds is not there, and a file
    // written for a while (a card being personalised) may be caught mid-write by two looks in a row.
    if (this.unsure(found) && this.module.reinitialise()) found = this.readSlots().slots;
    const slots = this.placeReaders(found);
    this.report(this.known, slots);
    this.known = slots;
    return slots;
  }

  /**
   * A look that has settled: while a card the caller may ask about is only possibly gone, waits
   * until its absence is confirmed or it is back, looking again each time. Callers that act on the
   * answer (a statement, an operation on the card) use this; the poller takes each look as it is.
   */
  private async settledScan(readerId?: ReaderId): Promise<Map<ReaderId, SlotView>> {
    let slots = this.scan();
    // Bounded: a card flickering without end is reported as the last look saw it.
    for (let round = 0; round < 4; round++) {
      const since =
        readerId === undefined ? [...this.vanished.values()] : [this.vanished.get(readerId) ?? Number.NaN];
      const pending = since.filter((at) => !Number.isNaN(at));
      if (pending.length === 0) break;
      const wait = Math.min(...pending) + this.vanishConfirmMs - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, Math.ceil(wait))));
      slots = this.scan();
    }
    return slots;
  }

  /** Whether a look shows a known card gone from its token slot, or a token slot without a token. */
  private unsure(found: ReadonlyMap<string, SlotView>): boolean {
    for (const slot of found.values()) if (slot.fixed && slot.token === null) return true;
    for (const place of this.known.values()) {
      if (place.fixed && place.handle !== null && place.token !== null && !found.has(place.slot)) return true;
    }
    return false;
  }

  /**
   * Readers keep their place in the list in the order they were first seen, because the page
   * numbers them by that order (reader 1 and 2) and must not see them swap. Where the token is
   * the slot (SoftHSM2, HSM partitions: no CKF_REMOVABLE_DEVICE), the slot goes when its token
   * does, so the reader is a place instead: it stays, empty, when its token leaves (SoftHSM2 gives
   * a returning token the same slot id), and a token that arrives goes back to its own place if
   * that is empty, else into the first empty place, else a new one — as a card into a reader.
   */
  private placeReaders(found: ReadonlyMap<string, SlotView>): Map<ReaderId, SlotView> {
    const placed = new Map<ReaderId, SlotView>();
    const unplaced = new Map(found);
    const at = performance.now();
    const carried = new Set<ReaderId>();
    for (const previous of this.known.values()) {
      const current = unplaced.get(previous.slot);
      // A card gone from its token slot is carried, as it was, until its absence is confirmed.
      if (previous.fixed && previous.handle !== null && previous.token !== null && current?.token == null) {
        const since = this.vanished.get(previous.id) ?? at;
        if (at - since < this.vanishConfirmMs) {
          this.vanished.set(previous.id, since);
          unplaced.delete(previous.slot);
          placed.set(previous.id, previous);
          carried.add(previous.id);
          continue;
        }
      }
      this.vanished.delete(previous.id);
      if (current !== undefined) {
        unplaced.delete(previous.slot);
        placed.set(previous.id, { ...current, id: previous.id, held: previous.held || current.held });
        continue;
      }
      // A removable reader that is gone was unplugged; so was a fixed slot that never held a card.
      if (!previous.fixed || !previous.held) continue;
      placed.set(previous.id, { ...previous, handle: null, token: null });
    }
    for (const slot of unplaced.values()) {
      // Into an empty place, else into one whose card seems gone: another card arriving while
      // one is away is the card swapped, not a reader more.
      const empty = slot.fixed
        ? ([...placed.values()].find((place) => place.fixed && place.handle === null) ??
          [...placed.values()].find((place) => carried.has(place.id)))
        : undefined;
      if (empty !== undefined && carried.delete(empty.id)) this.vanished.delete(empty.id);
      let id = empty?.id ?? slot.id;
      // A token back after its place was taken: its own slot id already names that place.
      for (let n = 2; empty === undefined && placed.has(id); n++) id = `${slot.id}-${n}`;
      placed.set(id, { ...slot, id });
    }
    return placed;
  }

  private readSlots(): { slots: Map<ReaderId, SlotView>; stale: boolean; readers: boolean } {
    const slots = new Map<ReaderId, SlotView>();
    let stale = false;
    let readers = false;
    for (const handle of this.lib.C_GetSlotList(false)) {
      let slotInfo: pkcs11js.SlotInfo;
      try {
        slotInfo = this.lib.C_GetSlotInfo(handle);
      } catch {
        stale = true; // listed a moment ago, gone now
        continue;
      }
      const id = readerIdOf(handle);
      const fixed = !has(slotInfo.flags, CKF_REMOVABLE_DEVICE);
      readers ||= !fixed;
      let token: TokenView | null = null;
      if (has(slotInfo.flags, CKF_TOKEN_PRESENT)) {
        try {
          token = this.readToken(id, handle);
        } catch (error) {
          const code = ckrCode(error);
          // An empty reader says so; anything else is a token its module lost track of.
          if (code !== pkcs11js.CKR_TOKEN_NOT_PRESENT && code !== pkcs11js.CKR_DEVICE_REMOVED) stale = true;
        }
      }
      // A fixed slot with a token never initialised is the module's spare for making new tokens
      // (SoftHSM2's "free" slot, renumbered whenever the token list changes), not a reader.
      if (fixed && token !== null && !has(token.flags, pkcs11js.CKF_TOKEN_INITIALIZED)) continue;
      slots.set(id, {
        id,
        slot: id,
        name: slotInfo.slotDescription.trim(),
        handle,
        fixed,
        token,
        held: token !== null,
      });
    }
    return { slots, stale, readers };
  }

  private readToken(readerId: ReaderId, handle: Buffer): TokenView {
    const info = this.lib.C_GetTokenInfo(handle);
    const label = info.label.trim();
    const serial = info.serialNumber.trim();
    const base = { serial, label, flags: info.flags };
    const fromLabel = cardNumberFrom(label);
    if (fromLabel !== null) return { ...base, cardNumber: fromLabel };
    if (!has(info.flags, pkcs11js.CKF_TOKEN_INITIALIZED)) return { ...base, cardNumber: null };
    const cacheKey = `${readerId}\u0000${serial}\u0000${label}`;
    const cached = this.numberCache.get(cacheKey);
    if (cached !== undefined) return { ...base, cardNumber: cached };
    const cardNumber = this.readCardNumberObject(handle);
    if (cardNumber !== null) this.numberCache.set(cacheKey, cardNumber);
    return { ...base, cardNumber };
  }

  /** The 19-digit number in a public CKO_DATA object labelled 'card-number', if the card has one. */
  private readCardNumberObject(handle: Buffer): CardNumber | null {
    const session = this.lib.C_OpenSession(handle, pkcs11js.CKF_SERIAL_SESSION);
    try {
      for (const object of this.findObjects(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
        { type: pkcs11js.CKA_LABEL, value: CARD_NUMBER_OBJECT_LABEL },
      ])) {
        const number = cardNumberFrom(this.attribute(session, object, pkcs11js.CKA_VALUE).toString('latin1'));
        if (number !== null) return number;
      }
      return null;
    } finally {
      this.closeQuietly(session);
    }
  }

  private report(before: ReadonlyMap<ReaderId, SlotView>, after: ReadonlyMap<ReaderId, SlotView>): void {
    if (this.listeners.size === 0) return;
    const at = this.now();
    const events: BackendEvent[] = [];
    const cardEvent = (type: 'card-inserted' | 'card-removed', readerId: ReaderId, token: TokenView) =>
      events.push({ type, readerId, cardNumber: token.cardNumber, at });
    for (const [id, slot] of after) {
      const previous = before.get(id);
      if (previous === undefined) {
        events.push({ type: 'reader-plugged', readerId: id, at });
        if (slot.token !== null) cardEvent('card-inserted', id, slot.token);
      } else if (identityOf(previous.token) !== identityOf(slot.token)) {
        if (previous.token !== null) cardEvent('card-removed', id, previous.token);
        if (slot.token !== null) cardEvent('card-inserted', id, slot.token);
      }
    }
    for (const [id, previous] of before) {
      if (after.has(id)) continue;
      if (previous.token !== null) cardEvent('card-removed', id, previous.token);
      events.push({ type: 'reader-unplugged', readerId: id, at });
    }
    for (const event of events) {
      for (const listener of [...this.listeners]) {
        try {
          listener(event);
        } catch {
          // A failing listener must not stop the others, nor the polling.
        }
      }
    }
  }

  private schedulePoll(): void {
    const timer = setTimeout(() => {
      void this.module
        .exclusive(() => {
          if (!this.closed && this.listeners.size > 0) this.scan(true);
        })
        .catch(() => {
          // The next look will tell; a module hiccup is no reason to stop watching.
        })
        .finally(() => {
          // Only the latest chain goes on: unsubscribing and subscribing again starts a new one.
          if (this.timer === timer && !this.closed && this.listeners.size > 0) this.schedulePoll();
        });
    }, this.pollIntervalMs);
    // Watching readers is no reason to keep the process alive.
    timer.unref();
    this.timer = timer;
  }

  private stopPolling(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  // ---- operations on a card -------------------------------------------------------------------

  /** Runs `task` on the card `expected` in the reader; anything else there is CARD_REMOVED. */
  private withCard<T>(
    readerId: ReaderId,
    expected: CardNumber,
    task: (card: CardContext) => Promise<T>,
  ): Promise<T> {
    return this.withToken(readerId, expected, (token) => task({ ...token, cardNumber: expected }));
  }

  /**
   * Finds the token in the reader (the one `expected`, unless null), opens a session, runs `task`,
   * logs out, and turns whatever the module answers into an AgentError.
   */
  private async withToken<T>(
    readerId: ReaderId,
    expected: CardNumber | null,
    task: (card: TokenContext) => Promise<T>,
  ): Promise<T> {
    this.assertOpen();
    return this.module.exclusive(async () => {
      this.assertOpen();
      let slot: SlotView | undefined;
      try {
        slot = (await this.settledScan(readerId)).get(readerId);
      } catch (error) {
        throw agentError(
          'CARD_ERROR',
          'the PKCS#11 module could not list its slots',
          { reason: ckrName(error) },
          error,
        );
      }
      if (slot === undefined)
        throw agentError('READER_NOT_FOUND', `no reader ${readerId}`, { reader: readerId });
      const { handle, token } = slot;
      if (handle === null || token === null) {
        throw agentError('CARD_MISSING', `no card in reader ${readerId}`, { reader: readerId });
      }
      if (expected !== null && token.cardNumber !== expected) {
        throw agentError('CARD_REMOVED', `reader ${readerId} holds another card than ${expected}`, {
          readerId,
          expected,
          found: token.cardNumber ?? '',
        });
      }
      let session: Buffer;
      try {
        session = this.lib.C_OpenSession(handle, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      } catch (error) {
        throw this.translate(error, slot, handle, token);
      }
      try {
        // Whatever is done with a card, it is done with one that is one card throughout.
        this.checkIdentity(readerId, session, token);
        return await task({ slot, handle, token, cardNumber: token.cardNumber, session });
      } catch (error) {
        throw this.translate(error, slot, handle, token);
      } finally {
        this.logoutQuietly(session);
        this.closeQuietly(session);
      }
    });
  }

  /**
   * The card's number as its label, its card-number objects and its certificates give it: any two
   * that differ make it WRONG_CARD. Read afresh for every operation: an object changed while the
   * card sits in its reader (cards made before the object was read-only) is caught as well.
   */
  private checkIdentity(readerId: ReaderId, session: Buffer, token: TokenView): void {
    const sources: CardNumberSource[] = [];
    if (cardNumberFrom(token.label) !== null) sources.push({ name: 'token label', value: token.label });
    for (const object of this.findObjects(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
      { type: pkcs11js.CKA_LABEL, value: CARD_NUMBER_OBJECT_LABEL },
    ])) {
      const value = this.attribute(session, object, pkcs11js.CKA_VALUE).toString('latin1');
      sources.push({ name: 'card-number object', value });
    }
    for (const certificate of this.findObjects(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
    ])) {
      const label = this.attribute(session, certificate, pkcs11js.CKA_LABEL).toString('utf8');
      const der = this.attribute(session, certificate, pkcs11js.CKA_VALUE);
      sources.push(...certificateSource(CERTIFICATE_NAMES.get(label) ?? `certificate ${label}`, der));
    }
    checkCardIdentity(readerId, sources);
  }

  /**
   * Module errors as the agent's codes. SoftHSM2 answers a token whose directory went away with
   * CKR_GENERAL_ERROR, so before calling anything a card error, check that the card is still there.
   */
  private translate(error: unknown, slot: SlotView, handle: Buffer, token: TokenView): AgentError {
    if (isAgentError(error)) return error;
    const code = ckrCode(error);
    const removed = () => {
      this.suspectStale = true;
      return agentError(
        'CARD_REMOVED',
        `the card left reader ${slot.id} during the operation`,
        { readerId: slot.id },
        error,
      );
    };
    if (code !== null && REMOVAL_CODES.has(code)) return removed();
    if (!this.stillPresent(handle, token)) return removed();
    return agentError('CARD_ERROR', `the card answered ${ckrName(error)}`, { reason: ckrName(error) }, error);
  }

  private stillPresent(handle: Buffer, token: TokenView): boolean {
    try {
      const info = this.lib.C_GetTokenInfo(handle);
      return info.serialNumber.trim() === token.serial && info.label.trim() === token.label;
    } catch {
      return false;
    }
  }

  private logoutQuietly(session: Buffer): void {
    try {
      this.lib.C_Logout(session);
    } catch {
      // Not logged in, or the session is gone with its card: either way nobody is logged in.
    }
  }

  private closeQuietly(session: Buffer): void {
    try {
      this.lib.C_CloseSession(session);
    } catch {
      // The session went with its card.
    }
  }

  // ---- PINs -------------------------------------------------------------------------------

  private pinStatus(token: TokenView, cardNumber: CardNumber | null): PinStatus {
    const counters = cardNumber === null ? NO_WRONG_ENTRIES : this.counters.get(cardNumber);
    // A one-PIN token's own state applies to both PINs. CKF_USER_PIN_COUNT_LOW carries no number
    // (SoftHSM2 sets it after any wrong entry), so only FINAL_TRY and LOCKED adjust the count.
    const userLocked = has(token.flags, pkcs11js.CKF_USER_PIN_LOCKED);
    const userCap = has(token.flags, pkcs11js.CKF_USER_PIN_FINAL_TRY) ? 1 : PIN_TRIES;
    const pinState = (wrong: number) => {
      const blocked = userLocked || wrong >= PIN_TRIES;
      return { triesLeft: blocked ? 0 : Math.min(PIN_TRIES - wrong, userCap), blocked };
    };
    // "More than ten wrong PUKs" lock: the eleventh wrong one does, so a fresh card has eleven
    // tries, counted as the virtual cards count them. A token that says its SO PIN is on its final
    // try has one left, whatever our count says.
    const pukLocked = has(token.flags, pkcs11js.CKF_SO_PIN_LOCKED) || counters.puk > PUK_TRIES;
    const pukCap = has(token.flags, pkcs11js.CKF_SO_PIN_FINAL_TRY) ? 1 : PUK_TRIES + 1;
    return {
      pin1: pinState(counters.pin1),
      pin2: pinState(counters.pin2),
      puk: {
        triesLeft: pukLocked ? 0 : Math.min(pukTriesLeft(counters.puk), pukCap),
        locked: pukLocked,
      },
    };
  }

  /** Everything that refuses a PIN without trying it, so none of these costs a try. */
  private checkPinBeforeUse(card: CardContext, pinId: PinId, pin: string): void {
    const status = this.pinStatus(card.token, card.cardNumber);
    if (status.puk.locked) throw cardLocked();
    if (!PIN_PATTERN.test(pin)) throw pinFormat(pinId);
    if (status[pinId].blocked) throw pinBlocked(pinId);
  }

  private async login(card: CardContext, pinId: PinId, pin: string): Promise<void> {
    // Login state belongs to the process: log out first so that this PIN really is checked.
    this.logoutQuietly(card.session);
    try {
      this.lib.C_Login(card.session, pkcs11js.CKU_USER, pin);
    } catch (error) {
      await this.pinFailure(card, pinId, error);
    }
    await this.updateCounters(card.cardNumber, { [pinId]: 0 });
  }

  /** Counts a wrong PIN and throws what it means; other failures go on as they are. */
  private async pinFailure(card: CardContext, pinId: PinId, error: unknown): Promise<never> {
    const code = ckrCode(error);
    if (code !== null && PIN_SHAPE_CODES.has(code)) throw pinFormat(pinId);
    if (code === pkcs11js.CKR_PIN_LOCKED) {
      await this.updateCounters(card.cardNumber, { [pinId]: PIN_TRIES });
      throw pinBlocked(pinId);
    }
    if (code !== pkcs11js.CKR_PIN_INCORRECT) throw error;
    const wrong = this.counters.get(card.cardNumber)[pinId] + 1;
    await this.updateCounters(card.cardNumber, { [pinId]: Math.min(wrong, PIN_TRIES) });
    const state = this.pinStatus(this.freshToken(card), card.cardNumber)[pinId];
    if (state.blocked) throw pinBlocked(pinId);
    throw agentError('PIN_INCORRECT', `wrong ${pinId}`, { pin: pinId, triesLeft: state.triesLeft });
  }

  private async pukFailure(card: CardContext, error: unknown): Promise<never> {
    const code = ckrCode(error);
    if (code !== null && PIN_SHAPE_CODES.has(code)) throw pinFormat('puk');
    if (code === pkcs11js.CKR_PIN_LOCKED) {
      await this.updateCounters(card.cardNumber, { puk: PUK_TRIES + 1 });
      throw cardLocked();
    }
    if (code !== pkcs11js.CKR_PIN_INCORRECT) throw error;
    await this.updateCounters(card.cardNumber, { puk: this.counters.get(card.cardNumber).puk + 1 });
    const state = this.pinStatus(this.freshToken(card), card.cardNumber).puk;
    if (state.locked) throw cardLocked();
    throw agentError('PUK_INCORRECT', 'wrong PUK', { triesLeft: state.triesLeft });
  }

  /** The token's flags after a failed login: a card with its own counter may have moved on. */
  private freshToken(card: CardContext): TokenView {
    try {
      return { ...card.token, flags: this.lib.C_GetTokenInfo(card.handle).flags };
    } catch {
      return card.token;
    }
  }

  private async updateCounters(cardNumber: CardNumber, change: Partial<PinCounters>): Promise<void> {
    await this.counters.set(cardNumber, { ...this.counters.get(cardNumber), ...change });
  }

  // ---- objects and keys -------------------------------------------------------------------

  private findObjects(session: Buffer, template: Template): Buffer[] {
    this.lib.C_FindObjectsInit(session, template);
    try {
      const found: Buffer[] = [];
      for (;;) {
        const batch = this.lib.C_FindObjects(session, 32);
        if (batch.length === 0) return found;
        found.push(...batch);
      }
    } finally {
      this.lib.C_FindObjectsFinal(session);
    }
  }

  private attribute(session: Buffer, object: Buffer, type: number): Buffer {
    const [result] = this.lib.C_GetAttributeValue(session, object, [{ type }]);
    return result?.value ?? Buffer.alloc(0);
  }

  /** CKA_ALWAYS_AUTHENTICATE, read on its own: a module that does not know it refuses the whole read. */
  private alwaysAuthenticate(session: Buffer, key: Buffer): boolean {
    try {
      return this.attribute(session, key, pkcs11js.CKA_ALWAYS_AUTHENTICATE)[0] === 1;
    } catch (error) {
      const code = ckrCode(error);
      if (code !== null && TEMPLATE_CODES.has(code)) return false;
      throw error;
    }
  }

  private findKeyObject(
    card: TokenContext,
    key: KeySlot,
    half: 'public' | 'private',
    generation: KeyGeneration = 'current',
  ): Buffer | null {
    const [found] = this.findObjects(card.session, [
      {
        type: pkcs11js.CKA_CLASS,
        value: half === 'public' ? pkcs11js.CKO_PUBLIC_KEY : pkcs11js.CKO_PRIVATE_KEY,
      },
      { type: pkcs11js.CKA_ID, value: idOf(key, generation) },
    ]);
    return found ?? null;
  }

  /** A key's private and public halves and its certificate, found by CKA_ID or by label. */
  private objectsOf(session: Buffer, key: KeySlot, generation: KeyGeneration = 'current'): Buffer[] {
    const found: Buffer[] = [];
    for (const objectClass of [pkcs11js.CKO_PRIVATE_KEY, pkcs11js.CKO_PUBLIC_KEY, pkcs11js.CKO_CERTIFICATE]) {
      for (const match of [
        { type: pkcs11js.CKA_ID, value: idOf(key, generation) },
        { type: pkcs11js.CKA_LABEL, value: labelOf(key, generation) },
      ]) {
        for (const handle of this.findObjects(session, [
          { type: pkcs11js.CKA_CLASS, value: objectClass },
          match,
        ])) {
          if (!found.some((other) => sameBytes(other, handle))) found.push(handle);
        }
      }
    }
    return found;
  }

  private destroyObjects(session: Buffer, objects: readonly Buffer[]): void {
    for (const object of objects) this.lib.C_DestroyObject(session, object);
  }

  private async generatePair(
    card: CardContext,
    key: KeySlot,
    spec: CardKeySpec,
    generation: KeyGeneration,
  ): Promise<pkcs11js.KeyPair> {
    const { mechanism, publicTemplate, privateTemplate } = signingKeyPairTemplates({
      label: labelOf(key, generation),
      id: idOf(key, generation),
      spec,
      privateObject: true,
    });
    if (key === 'sign') {
      // PIN 2 is asked again for every signature with this key (context-specific login).
      const withPin2 = [...privateTemplate, { type: pkcs11js.CKA_ALWAYS_AUTHENTICATE, value: true }];
      try {
        return await this.lib.C_GenerateKeyPairAsync(card.session, mechanism, publicTemplate, withPin2);
      } catch (error) {
        const code = ckrCode(error);
        if (code === null || !TEMPLATE_CODES.has(code)) throw error;
        // The module cannot mark a key always-authenticate: PIN 2 is then checked by the user
        // login (C_Login) before each signature, which on a one-PIN token is the same PIN.
      }
    }
    return this.lib.C_GenerateKeyPairAsync(card.session, mechanism, publicTemplate, privateTemplate);
  }

  private spkiOf(session: Buffer, publicKey: Buffer, spec: CardKeySpec): Uint8Array {
    try {
      if (spec === 'ecdsa-p256')
        return spkiFromEcPoint(this.attribute(session, publicKey, pkcs11js.CKA_EC_POINT));
      return spkiFromRsa(
        this.attribute(session, publicKey, pkcs11js.CKA_MODULUS),
        this.attribute(session, publicKey, pkcs11js.CKA_PUBLIC_EXPONENT),
      );
    } catch (error) {
      if (ckrCode(error) !== null) throw error;
      throw agentError(
        'CARD_ERROR',
        'the card gave a public key that cannot be read',
        { reason: 'PUBLIC_KEY' },
        error,
      );
    }
  }

  /**
   * SHA-256 then ECDSA (raw r‖s, as the card gives it) or PKCS#1 v1.5. Where the module has no
   * combined mechanism (SoftHSM2 2.6 has no CKM_ECDSA_SHA256) the hash is made here.
   */
  private signMechanism(
    slot: Buffer,
    keyType: Buffer,
    data: Uint8Array,
  ): { mechanism: Mechanism; input: Buffer } {
    const mechanisms = new Set(this.lib.C_GetMechanismList(slot));
    const digest = () => createHash('sha256').update(data).digest();
    const type = keyType.length === 0 ? -1 : Number(keyType.readUIntLE(0, Math.min(keyType.length, 6)));
    if (type === pkcs11js.CKK_EC) {
      return mechanisms.has(pkcs11js.CKM_ECDSA_SHA256)
        ? { mechanism: { mechanism: pkcs11js.CKM_ECDSA_SHA256 }, input: Buffer.from(data) }
        : { mechanism: { mechanism: pkcs11js.CKM_ECDSA }, input: digest() };
    }
    if (type === pkcs11js.CKK_RSA) {
      return mechanisms.has(pkcs11js.CKM_SHA256_RSA_PKCS)
        ? { mechanism: { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, input: Buffer.from(data) }
        : {
            mechanism: { mechanism: pkcs11js.CKM_RSA_PKCS },
            input: Buffer.concat([SHA256_DIGEST_INFO, digest()]),
          };
    }
    throw agentError('CARD_ERROR', 'the key on the card is neither EC nor RSA', { reason: 'KEY_TYPE' });
  }
}

const keyMissing = (key: KeySlot | 'next') => agentError('KEY_MISSING', `no ${key} key on the card`, { key });
const cardLocked = () => agentError('CARD_LOCKED', 'the card is locked: too many wrong PUK entries');
const pinBlocked = (pin: PinId) => agentError('PIN_BLOCKED', `${pin} is blocked`, { pin });
const pinFormat = (pin: PinId | 'puk') =>
  agentError('PIN_FORMAT', pin === 'puk' ? 'a PUK is eight digits' : 'a PIN is four to eight digits', {
    pin,
  });
