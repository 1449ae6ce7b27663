import type { CardNumber } from '@reservkort/domain';

/** A reader as the agent names it: stable for as long as the reader stays connected. */
export type ReaderId = string;

/** The two keys of a card: authentication (PIN 1) and signature (PIN 2). */
export type KeySlot = 'auth' | 'sign';
export type PinId = 'pin1' | 'pin2';
export const PIN_OF: { readonly [K in KeySlot]: PinId } = { auth: 'pin1', sign: 'pin2' };

/** Key types a card can generate. */
export type CardKeySpec = 'ecdsa-p256' | 'rsa-2048';

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

/** A public key as generated on the card. */
export interface GeneratedKey {
  readonly key: KeySlot;
  /** SubjectPublicKeyInfo, DER. */
  readonly spki: Uint8Array;
  readonly spec: CardKeySpec;
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
  ): Promise<Uint8Array>;
  /** Generates a key pair on the card (sensitive, never extractable), replacing any old one. PIN 1 authorises it. */
  generateKey(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin1: string,
    spec: CardKeySpec,
  ): Promise<GeneratedKey>;
  /** Stores a certificate next to its key. PIN 1 authorises it. */
  writeCertificate(
    readerId: ReaderId,
    expected: CardNumber,
    key: KeySlot,
    pin1: string,
    der: Uint8Array,
  ): Promise<void>;
  /** Removes both keys and both certificates, so the card can be issued again. PIN 1 authorises it. */
  clean(readerId: ReaderId, expected: CardNumber, pin1: string): Promise<void>;
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
export const PIN_PATTERN = /^\d{4,8}$/;
export const PUK_PATTERN = /^\d{8}$/;
