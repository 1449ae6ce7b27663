// Where the card station's P-256 key lives: a PKCS#8 file (0600) in the station folder, or a
// PKCS#11 token (station-token-key.ts). Both sign the same way (ECDSA over SHA-256, raw r‖s), so
// the statements and the CSR do not care which. The folder records where the key was made, so a
// station whose key is on a token is never quietly given a new file key, nor the other way round.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentError } from '../agent-error.js';

export type StationKeyStoreKind = 'file' | 'pkcs11';

/** The station key, wherever it is kept. */
export interface StationKeyStore {
  readonly kind: StationKeyStoreKind;
  /** The key's SubjectPublicKeyInfo (DER), or null before the key is made. */
  publicKey(): Uint8Array | null;
  /** Makes the key pair (once: an existing key is kept) and returns its SubjectPublicKeyInfo. */
  create(): Uint8Array;
  /** ECDSA P-256 over SHA-256 of `bytes`, as raw r‖s (IEEE P1363). */
  sign(bytes: Uint8Array): Uint8Array;
  close(): void;
}

export const STATION_KEY_FILE = 'station-key.pem';
/** Written beside the key's other files when the key is made on a token; absent for a file key. */
export const KEY_STORE_FILE = 'key-store.json';

/** What the station folder says about its key: on a token (and which), in the key file, or none yet. */
export type KeyStoreRecord =
  | { readonly keyStore: 'pkcs11'; readonly token: string }
  | { readonly keyStore: 'file' }
  | null;

export const stationKeyUnavailable = (reason: string, message: string, cause?: unknown): AgentError =>
  new AgentError('STATION_KEY_UNAVAILABLE', message, { reason }, cause === undefined ? undefined : { cause });

/** Where the folder's station key was made, read from its files. */
export const keyStoreRecord = (dir: string): KeyStoreRecord => {
  const record = join(dir, KEY_STORE_FILE);
  if (existsSync(record)) {
    const parsed = JSON.parse(readFileSync(record, 'utf8')) as { keyStore?: unknown; token?: unknown };
    if (parsed.keyStore === 'pkcs11' && typeof parsed.token === 'string')
      return { keyStore: 'pkcs11', token: parsed.token };
    throw stationKeyUnavailable('key store record', `${KEY_STORE_FILE} in the station folder is unreadable`);
  }
  return existsSync(join(dir, STATION_KEY_FILE)) ? { keyStore: 'file' } : null;
};

const spkiOf = (key: KeyObject): Uint8Array =>
  new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));

/** The key as a PKCS#8 PEM file, mode 0600, written whole (see StationIdentity's writeDurably). */
export class FileStationKey implements StationKeyStore {
  readonly kind = 'file';
  private key: KeyObject | null;

  constructor(
    private readonly dir: string,
    private readonly write: (name: string, text: string) => void,
  ) {
    const path = join(dir, STATION_KEY_FILE);
    this.key = existsSync(path) ? createPrivateKey(readFileSync(path, 'utf8')) : null;
  }

  publicKey(): Uint8Array | null {
    return this.key === null ? null : spkiOf(this.key);
  }

  create(): Uint8Array {
    if (this.key === null) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      this.write(STATION_KEY_FILE, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
      this.key = privateKey;
    }
    return spkiOf(this.key);
  }

  sign(bytes: Uint8Array): Uint8Array {
    if (this.key === null) throw new Error(`no station key in ${this.dir}`);
    return new Uint8Array(sign('sha256', bytes, { key: this.key, dsaEncoding: 'ieee-p1363' }));
  }

  close(): void {
    // Nothing held open: the key lives in this process's memory only.
  }
}
