import type { CardKeyType, CardNumber } from '@reservkort/domain';

/** A reader as the agent names it: stable for as long as the reader stays connected. */
export type ReaderId = string;

/** The two keys of a card: authentication (PIN 1) and signature (PIN 2). */
export type KeySlot = 'auth' | 'sign';
export type PinId = 'pin1' | 'pin2';
/**
 * Which pair of a key slot: the card's `current` keys, or the `next` ones a förlängning makes
 * alongside them, certifies, writes and then promotes (`promoteNextKeys`) in place of the old ones.
 */
export type KeyGeneration = 'current' | 'next';
export const PIN_OF: { readonly [K in KeySlot]: PinId } = { auth: 'pin1', sign: 'pin2' };

/** Key types a card can generate (the person CA's setting says which one a flow wants). */
export type CardKeySpec = CardKeyType;

export interface ReaderInfo {
  readonly id: ReaderId;
  readonly name: string;
  /** A card in the reader; `cardNumber` null when the card's number cannot be read (blank card). */
  readonly card: { readonly cardNumber: CardNumber | null } | null;
}

export interface PinState {
  readonly triesLeft: number;
  readonly blocked: boolean;
}

export interface PinStatus {
  readonly pin1: PinState;
  readonly pin2: PinState;
  /** More than ten wrong PUK entries lock the card for good. */
  readonly puk: { readonly triesLeft: number; readonly locked: boolean };
}

/** A certificate stored on the card, next to the key it belongs to. */
export interface CardCertificate {
  readonly key: KeySlot;
  readonly der: Uint8Array;
}

export interface CardInfo {
  readonly readerId: ReaderId;
  readonly cardNumber: CardNumber | null;
  readonly pins: PinStatus;
  readonly keys: { readonly [K in KeySlot]: boolean };
  readonly certificates: readonly CardCertificate[];
}

export type BackendEventType = 'reader-plugged' | 'reader-unplugged' | 'card-inserted' | 'card-removed';

export interface BackendEvent {
  readonly type: BackendEventType;
  readonly readerId: ReaderId;
  /** For card events: the card's number, or null when unreadable. */
  readonly cardNumber?: CardNumber | null;
  readonly at: number;
}

/** What the agent reports about where its cards come from (the support case's "module"). */
export interface BackendDescription {
  readonly kind: 'virtual' | 'pkcs11';
  readonly library: string;
  readonly manufacturer: string;
  readonly version: string;
}

/** What the card says of a private key it generated (PKCS#11 CKA_LOCAL, CKA_SENSITIVE, CKA_NEVER_EXTRACTABLE). */
export interface KeyAttributes {
  /** Generated on the card, not imported. */
  readonly local: boolean;
  readonly sensitive: boolean;
  /** Never was extractable: the private key has never left the card. */
  readonly neverExtractable: boolean;
}

/** A public key as generated on the card. */
export interface GeneratedKey {
  readonly key: KeySlot;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  readonly spec: CardKeySpec;
  /** The private key's attributes as read back from the card after generation. */
  readonly attributes: KeyAttributes;
}

/**
 * The card bureau key: an ECDSA P-256 key pair written on every blank reserve card by the card
 * bureau (`reservkort card init`), with a 'card-bureau' certificate holding the card number. It
 * signs without a PIN (on PKCS#11 a private key with CKA_PRIVATE false, still sensitive and never
 * extractable), so that a card can prove what it is before anyone types anything. Cleaning a card
 * leaves it: it belongs to the card, not to a holder.
 */
export const BUREAU_KEY_LABEL = 'card-auth';

/** A card's answer to a challenge: its bureau key's signature and the certificate of that key. */
export interface CardProof {
  /** ECDSA P-256 over SHA-256 of the data, raw r‖s (IEEE P1363). */
  readonly signature: Uint8Array;
  /** The 'card-bureau' certificate, DER. */
  readonly certificate: Uint8Array;
}

/**
 * Readers and cards, whatever they are made of (a vendor's PKCS#11 module, or virtual ones for
 * training). Every operation names the reader and the card number it expects, so a card swapped
 * in between is caught (CARD_REMOVED) instead of being used by mistake. Private keys never leave
 * the backend: it generates them, signs with them, and deletes them; nothing reads them out.
 * Errors are AgentErrors with codes from the catalogue; nothing hangs when a card disappears.
 */
export interface CardBackend {
  describe(): BackendDescription;
  readers(): Promise<readonly ReaderInfo[]>;
  /** Reader and card events as they happen; returns the unsubscribe function. */
  subscribe(listener: (event: BackendEvent) => void): () => void;
  cardInfo(readerId: ReaderId): Promise<CardInfo>;
  /**
   * Verifies the key's PIN (auth: PIN 1, sign: PIN 2) and signs `data` with that key, hashing with
   * SHA-256 (ECDSA: raw r‖s as WebCrypto gives it; RSA: PKCS#1 v1.5). A wrong PIN counts down its
   * tries (PIN_INCORRECT with `triesLeft`); at zero it is blocked (PIN_BLOCKED).
   */
  sign(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin: string,
    data: Uint8Array,
    generation?: KeyGeneration,
  ): Promise<Uint8Array>;
  /**
   * Generates a key pair on the card (sensitive, never extractable), replacing any old one of the
   * same generation; a `next` pair leaves the current one as it is. PIN 1 authorises it.
   */
  generateKey(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin1: string,
    spec: CardKeySpec,
    generation?: KeyGeneration,
  ): Promise<GeneratedKey>;
  /** Stores a certificate next to its key (of the generation given). PIN 1 authorises it. */
  writeCertificate(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin1: string,
    der: Uint8Array,
    generation?: KeyGeneration,
  ): Promise<void>;
  /**
   * Förlängning's last card step: the current keys and certificates are removed and the next ones
   * (each with its certificate) become the card's keys. Slot by slot, so a run cut short is finished
   * by the next. KEY_MISSING (`key: 'next'`) when there is no next pair, or one without its
   * certificate (nothing is removed then). PIN 1 authorises it.
   */
  promoteNextKeys(readerId: ReaderId, expected: CardNumber, pin1: string): Promise<void>;
  /**
   * Signs `data` with the card's bureau key, without a PIN, and returns the signature with the
   * bureau certificate. A card without a bureau key (or its certificate) answers KEY_MISSING with
   * `key: 'card-auth'`: it was not made by the card bureau.
   */
  proveCard(readerId: ReaderId, expected: CardNumber, data: Uint8Array): Promise<CardProof>;
  /** Removes both keys and both certificates (never the bureau key), so the card can be issued again. PIN 1 authorises it. */
  clean(readerId: ReaderId, expected: CardNumber, pin1: string): Promise<void>;
  /**
   * Changes a PIN: the current PIN is checked first and a wrong one counts down as any PIN entry
   * (PIN_INCORRECT with `triesLeft`, PIN_BLOCKED at zero); a blocked PIN cannot be changed, only
   * unblocked with the PUK. A new PIN of the wrong form (PIN_FORMAT) costs no try.
   */
  changePin(
    readerId: ReaderId,
    expected: CardNumber,
    pin: PinId,
    currentPin: string,
    newPin: string,
  ): Promise<void>;
  /** Unblocks a PIN with the PUK and sets a new PIN. A wrong PUK counts down (PUK_INCORRECT; CARD_LOCKED at the end). */
  unblockPin(
    readerId: ReaderId,
    expected: CardNumber,
    pin: PinId,
    puk: string,
    newPin: string,
  ): Promise<void>;
  close(): Promise<void>;
}

/** PIN rules of SPEC §3: three tries per PIN; the 8-digit PUK; more than ten wrong PUKs lock the card. */
export const PIN_TRIES = 3;
export const PUK_TRIES = 10;
/**
 * Tries left on the PUK after `wrong` wrong entries in a row, counted as a PIN's are: the entry
 * that would lock the card counts too, so a fresh card has eleven, "1" means the next wrong PUK
 * locks it, and 0 is reported only once it is locked. Both backends report it this way.
 */
export const pukTriesLeft = (wrong: number): number => Math.max(0, PUK_TRIES + 1 - wrong);
export const PIN_PATTERN = /^\d{4,8}$/;
export const PUK_PATTERN = /^\d{8}$/;
