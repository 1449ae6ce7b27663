// The virtual cards' "chip": readers, cards, PIN counters and keys as plain data, the JSON file
// they live in between agent restarts, and the salted hashes that stand in for the PINs.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CardNumber } from '@reservkort/domain';
import { AgentError } from '../agent-error.js';
import type { CardKeySpec, KeyAttributes, KeySlot, PinId, ReaderId } from './card-backend.js';

/** A PIN or PUK as the virtual chip keeps it: a scrypt hash with its own salt and cost, never the digits. */
export interface SecretRecord {
  readonly salt: string;
  readonly hash: string;
  readonly n: number;
  readonly r: number;
  readonly p: number;
}

export interface PinRecord {
  readonly secret: SecretRecord;
  readonly triesLeft: number;
}

/** A key pair on the chip. The private half is PKCS#8 (base64) and leaves this module only to sign. */
export interface KeyRecord {
  readonly spec: CardKeySpec;
  readonly pkcs8: string;
  readonly spki: string;
  /**
   * What the chip says of the private key when asked. Absent: made on the chip and never
   * extractable, as on every genuine card (and in files made before a chip could say otherwise).
   */
  readonly attributes?: KeyAttributes;
}

/** A card's record. Records are replaced, never mutated, so an operation that fails half-way changes nothing. */
export interface VirtualCard {
  readonly cardNumber: CardNumber;
  readonly label: string | null;
  readonly pins: { readonly [P in PinId]: PinRecord };
  /** Wrong PUK entries since the last right one; more than PUK_TRIES lock the card for good. */
  readonly puk: { readonly secret: SecretRecord; readonly wrong: number };
  readonly keys: Readonly<Partial<Record<KeySlot, KeyRecord>>>;
  /** Certificate DER, base64, next to the key of the same slot. */
  readonly certificates: Readonly<Partial<Record<KeySlot, string>>>;
  /** A förlängning's next pair and its certificates, beside the current ones until promoted. */
  readonly next?: {
    readonly keys: Readonly<Partial<Record<KeySlot, KeyRecord>>>;
    readonly certificates: Readonly<Partial<Record<KeySlot, string>>>;
  };
  /**
   * The card bureau key (see BUREAU_KEY_LABEL) and its certificate (DER, base64; null until the
   * bureau wrote it). Absent on a card the bureau never initialised, and in files made before.
   */
  readonly bureau?: { readonly key: KeyRecord; readonly certificate: string | null };
}

export interface VirtualReader {
  readonly id: ReaderId;
  readonly name: string;
  readonly connected: boolean;
  readonly cardNumber: CardNumber | null;
}

export interface VirtualState {
  readonly readers: readonly VirtualReader[];
  readonly cards: readonly VirtualCard[];
}

const FORMAT = 'reservkort-virtual-cards';
const VERSION = 1;

// Small scrypt cost: the hashes only keep PINs out of a training file in clear; they are not a
// vault (a PIN has 10^4..10^8 values whatever the cost), and every PIN entry pays this cost.
const SCRYPT_COST = { n: 1024, r: 8, p: 1 } as const;
const HASH_BYTES = 32;
const SALT_BYTES = 16;

const derive = (secret: string, salt: Buffer, cost: { n: number; r: number; p: number }): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, { N: cost.n, r: cost.r, p: cost.p }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });

export const hashSecret = async (secret: string): Promise<SecretRecord> => {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, SCRYPT_COST);
  return { salt: salt.toString('base64'), hash: hash.toString('base64'), ...SCRYPT_COST };
};

export const secretMatches = async (record: SecretRecord, secret: string): Promise<boolean> => {
  const expected = Buffer.from(record.hash, 'base64');
  const actual = await derive(secret, Buffer.from(record.salt, 'base64'), record);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
};

export const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
export const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

// --- The state file ------------------------------------------------------------------------------

const corrupt = (file: string, where: string): AgentError =>
  new AgentError('CARD_ERROR', `virtual card state ${file} is not valid at ${where}`, {
    reason: 'virtual state file unreadable',
  });

type Json = Readonly<Record<string, unknown>>;

/** Reads a hand-editable file defensively: every field is checked, so a broken file fails loudly at start. */
class Reader {
  constructor(private readonly file: string) {}

  object(value: unknown, where: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(this.file, where);
    return value as Json;
  }

  array(value: unknown, where: string): readonly unknown[] {
    if (!Array.isArray(value)) throw corrupt(this.file, where);
    return value;
  }

  string(value: unknown, where: string): string {
    if (typeof value !== 'string') throw corrupt(this.file, where);
    return value;
  }

  count(value: unknown, where: string): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw corrupt(this.file, where);
    return value;
  }

  boolean(value: unknown, where: string): boolean {
    if (typeof value !== 'boolean') throw corrupt(this.file, where);
    return value;
  }

  secret(value: unknown, where: string): SecretRecord {
    const o = this.object(value, where);
    return {
      salt: this.string(o.salt, `${where}.salt`),
      hash: this.string(o.hash, `${where}.hash`),
      n: this.count(o.n, `${where}.n`),
      r: this.count(o.r, `${where}.r`),
      p: this.count(o.p, `${where}.p`),
    };
  }

  pin(value: unknown, where: string): PinRecord {
    const o = this.object(value, where);
    return {
      secret: this.secret(o.secret, `${where}.secret`),
      triesLeft: this.count(o.triesLeft, `${where}.triesLeft`),
    };
  }

  slots<T>(value: unknown, where: string, read: (v: unknown, w: string) => T): Partial<Record<KeySlot, T>> {
    const o = this.object(value, where);
    const out: Partial<Record<KeySlot, T>> = {};
    for (const slot of ['auth', 'sign'] as const) {
      if (o[slot] !== undefined) out[slot] = read(o[slot], `${where}.${slot}`);
    }
    return out;
  }

  key(value: unknown, where: string): KeyRecord {
    const o = this.object(value, where);
    const spec = this.string(o.spec, `${where}.spec`);
    if (spec !== 'ecdsa-p256' && spec !== 'rsa-2048') throw corrupt(this.file, `${where}.spec`);
    return {
      spec,
      pkcs8: this.string(o.pkcs8, `${where}.pkcs8`),
      spki: this.string(o.spki, `${where}.spki`),
      ...(o.attributes === undefined
        ? {}
        : { attributes: this.attributes(o.attributes, `${where}.attributes`) }),
    };
  }

  attributes(value: unknown, where: string): KeyAttributes {
    const o = this.object(value, where);
    return {
      local: this.boolean(o.local, `${where}.local`),
      sensitive: this.boolean(o.sensitive, `${where}.sensitive`),
      neverExtractable: this.boolean(o.neverExtractable, `${where}.neverExtractable`),
    };
  }

  card(value: unknown, where: string): VirtualCard {
    const o = this.object(value, where);
    const pins = this.object(o.pins, `${where}.pins`);
    const puk = this.object(o.puk, `${where}.puk`);
    return {
      cardNumber: this.string(o.cardNumber, `${where}.cardNumber`) as CardNumber,
      label: o.label === null ? null : this.string(o.label, `${where}.label`),
      pins: {
        pin1: this.pin(pins.pin1, `${where}.pins.pin1`),
        pin2: this.pin(pins.pin2, `${where}.pins.pin2`),
      },
      puk: {
        secret: this.secret(puk.secret, `${where}.puk.secret`),
        wrong: this.count(puk.wrong, `${where}.puk.wrong`),
      },
      keys: this.slots(o.keys, `${where}.keys`, (v, w) => this.key(v, w)),
      certificates: this.slots(o.certificates, `${where}.certificates`, (v, w) => this.string(v, w)),
      ...(o.next === undefined ? {} : { next: this.next(o.next, `${where}.next`) }),
      ...(o.bureau === undefined ? {} : { bureau: this.bureau(o.bureau, `${where}.bureau`) }),
    };
  }

  next(value: unknown, where: string): NonNullable<VirtualCard['next']> {
    const o = this.object(value, where);
    return {
      keys: this.slots(o.keys, `${where}.keys`, (v, w) => this.key(v, w)),
      certificates: this.slots(o.certificates, `${where}.certificates`, (v, w) => this.string(v, w)),
    };
  }

  bureau(value: unknown, where: string): NonNullable<VirtualCard['bureau']> {
    const o = this.object(value, where);
    const key = this.key(o.key, `${where}.key`);
    if (key.spec !== 'ecdsa-p256') throw corrupt(this.file, `${where}.key.spec`);
    return {
      key,
      certificate: o.certificate === null ? null : this.string(o.certificate, `${where}.certificate`),
    };
  }

  reader(value: unknown, where: string): VirtualReader {
    const o = this.object(value, where);
    return {
      id: this.string(o.id, `${where}.id`),
      name: this.string(o.name, `${where}.name`),
      connected: this.boolean(o.connected, `${where}.connected`),
      cardNumber:
        o.cardNumber === null ? null : (this.string(o.cardNumber, `${where}.cardNumber`) as CardNumber),
    };
  }

  state(value: unknown): VirtualState {
    const o = this.object(value, '$');
    if (o.format !== FORMAT || o.version !== VERSION) throw corrupt(this.file, '$.format/$.version');
    const state = {
      readers: this.array(o.readers, '$.readers').map((r, i) => this.reader(r, `$.readers[${i}]`)),
      cards: this.array(o.cards, '$.cards').map((c, i) => this.card(c, `$.cards[${i}]`)),
    };
    this.consistent(state);
    return state;
  }

  // The invariants the backend relies on: unique ids, a card in at most one connected reader, and
  // only cards that exist.
  private consistent(state: VirtualState): void {
    const cardNumbers = new Set(state.cards.map((c) => c.cardNumber));
    if (cardNumbers.size !== state.cards.length) throw corrupt(this.file, '$.cards (duplicate card number)');
    if (new Set(state.readers.map((r) => r.id)).size !== state.readers.length) {
      throw corrupt(this.file, '$.readers (duplicate reader id)');
    }
    const placed = new Set<CardNumber>();
    for (const r of state.readers) {
      if (r.cardNumber === null) continue;
      if (!r.connected || !cardNumbers.has(r.cardNumber) || placed.has(r.cardNumber)) {
        throw corrupt(this.file, `$.readers (${r.id} holds an impossible card)`);
      }
      placed.add(r.cardNumber);
    }
  }
}

export const serialiseState = (state: VirtualState): string =>
  `${JSON.stringify({ format: FORMAT, version: VERSION, readers: state.readers, cards: state.cards }, null, 2)}\n`;

export const parseState = (text: string, file: string): VirtualState => {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw corrupt(file, '$ (not JSON)');
  }
  return new Reader(file).state(value);
};

/**
 * The JSON file that makes the virtual cards survive a restart. Each save writes a whole snapshot
 * to a fresh temporary file (mode 0600: it holds the private keys) and renames it over the old
 * one, so a crash leaves either the old or the new state, never half of one. Saves run one after
 * another in the order they were asked for, so the file ends as the latest snapshot.
 */
export class StateFile {
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** The saved state, or null when there is no file yet. */
  async load(): Promise<VirtualState | null> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new AgentError(
        'CARD_ERROR',
        `cannot read virtual card state ${this.path}`,
        { reason: 'virtual state file unreadable' },
        {
          cause: error,
        },
      );
    }
    return parseState(text, this.path);
  }

  save(state: VirtualState): Promise<void> {
    // Serialise now, not when the write's turn comes: the snapshot is the state at this change.
    const text = serialiseState(state);
    const write = this.tail.then(() => this.write(text));
    this.tail = write.catch(() => undefined);
    return write;
  }

  /** Waits for the saves already asked for. */
  async flush(): Promise<void> {
    await this.tail;
  }

  private async write(text: string): Promise<void> {
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, this.path);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw new AgentError(
        'CARD_ERROR',
        `cannot save virtual card state ${this.path}`,
        { reason: 'virtual state file unwritable' },
        {
          cause: error,
        },
      );
    }
  }
}
