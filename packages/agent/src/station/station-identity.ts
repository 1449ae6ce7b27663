// The card station's own identity: a P-256 key the agent keeps (PKCS#8, 0600, in a 0700 folder, or
// on a PKCS#11 token when one is configured), the certificate the CA issued for it, the statement sequence counter and the readers' insertion
// counters. Counters are written with fsync and rename before anything that depends on them leaves
// the agent, so a crash can never make a number repeat.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from '@peculiar/x509';
import { type ReaderSlot, STATION_ID_PATTERN } from '@reservkort/domain';
import { AgentError } from '../agent-error.js';
import { buildCsr } from '../enrolment/csr-builder.js';
import {
  FileStationKey,
  KEY_STORE_FILE,
  keyStoreRecord,
  type StationKeyStore,
  type StationKeyStoreKind,
  stationKeyUnavailable,
} from './station-key-store.js';
import { type StationTokenConfig, TokenStationKey } from './station-token-key.js';

const CERTIFICATE_FILE = 'station.pem';
const IDENTITY_FILE = 'station.json';
const SEQ_FILE = 'seq';
const INSERTIONS_FILE = 'insertions.json';

export interface StationView {
  readonly stationId: string | null;
  readonly registered: boolean;
  readonly certificate: string | null;
  /** The id proposed in the last CSR and the name given with it, before and after registration. */
  readonly proposedId: string | null;
  readonly name: string | null;
  /** Where the station key lives: the key file in the station folder, or a PKCS#11 token. */
  readonly keyStore: StationKeyStoreKind;
}

/** Who signs a statement: the station's id and a raw (r‖s) ECDSA P-256 / SHA-256 signer. */
export interface StatementSigner {
  readonly stationId: string;
  sign(bytes: Uint8Array): Uint8Array;
}

const readText = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
};

/** Writes a file whole or not at all: a temporary file, fsync, rename, then fsync of the folder. */
const writeDurably = (dir: string, name: string, text: string, mode = 0o600): void => {
  const temporary = join(dir, `.${name}.${randomBytes(4).toString('hex')}`);
  const fd = openSync(temporary, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, join(dir, name));
  const folder = openSync(dir, 'r');
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
};

const commonName = (certificate: X509Certificate): string | null =>
  certificate.subjectName.getField('CN')[0] ?? null;

export interface StationIdentityOptions {
  readonly now?: () => number;
  /** Keep the key on this PKCS#11 token instead of the key file. */
  readonly token?: StationTokenConfig | null;
}

/**
 * Opens the key store the options name, refusing when the folder's key was made elsewhere: a
 * station's identity must not change because a flag was added or left out.
 */
const openKeyStore = (
  dir: string,
  token: StationTokenConfig | null,
  write: (name: string, text: string) => void,
): StationKeyStore => {
  const record = keyStoreRecord(dir);
  if (token === null) {
    if (record?.keyStore === 'pkcs11') {
      throw stationKeyUnavailable(
        'key on a token',
        `the station key is on token ${record.token}, but no station token is configured; configure it, or register the station again`,
      );
    }
    return new FileStationKey(dir, write);
  }
  if (record?.keyStore === 'file') {
    throw stationKeyUnavailable(
      'key in a file',
      'a station token is configured, but the station key is in the key file; leave the token out, or remove the station folder and register the station again',
    );
  }
  const store = TokenStationKey.open(token);
  if (record?.keyStore === 'pkcs11' && store.publicKey() === null) {
    store.close();
    throw stationKeyUnavailable(
      'key missing from token',
      `the station key was made on token ${record.token}, but token ${token.tokenLabel} has none; use that token, or register the station again`,
    );
  }
  return store;
};

export class StationIdentity {
  private readonly keyStore: StationKeyStore;
  private certificate: X509Certificate | null;
  private certificatePem: string | null;
  private identity: { id: string; name: string } | null;
  private seq: number;
  private readonly insertions: Record<ReaderSlot, number>;

  private constructor(
    private readonly dir: string,
    private readonly now: () => number,
    token: StationTokenConfig | null,
  ) {
    this.certificatePem = readText(join(dir, CERTIFICATE_FILE));
    this.certificate = this.certificatePem === null ? null : new X509Certificate(this.certificatePem);
    const identity = readText(join(dir, IDENTITY_FILE));
    this.identity = identity === null ? null : (JSON.parse(identity) as { id: string; name: string });
    const seq = readText(join(dir, SEQ_FILE));
    this.seq = seq === null ? 0 : Number(seq.trim());
    if (!Number.isSafeInteger(this.seq) || this.seq < 0) {
      // A damaged counter must not restart at 0: the server would refuse every statement anyway.
      throw new AgentError('CARD_ERROR', 'the station sequence counter is unreadable', { reason: 'seq' });
    }
    const insertions = readText(join(dir, INSERTIONS_FILE));
    const parsed = insertions === null ? {} : (JSON.parse(insertions) as Partial<Record<string, number>>);
    this.insertions = { 1: Number(parsed[1] ?? 0), 2: Number(parsed[2] ?? 0) };
    this.keyStore = openKeyStore(dir, token, (name, text) => writeDurably(dir, name, text));
    const spki = this.keyStore.publicKey();
    if (spki !== null && this.certificate !== null && !this.holds(this.certificate, spki)) {
      this.keyStore.close();
      throw stationKeyUnavailable(
        'key does not match certificate',
        'the station key is not the one the station certificate was issued for; register the station again',
      );
    }
  }

  private holds(certificate: X509Certificate, spki: Uint8Array): boolean {
    return Buffer.from(certificate.publicKey.rawData).equals(Buffer.from(spki));
  }

  /**
   * Opens (and creates, 0700) the station folder; the key itself is made on the first CSR. With a
   * token configured, the token is opened and logged into here: STATION_KEY_UNAVAILABLE if it is
   * absent or locked or the PIN is wrong, never a fall back to a key file.
   */
  static open(dir: string, options: StationIdentityOptions = {}): StationIdentity {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if ((statSync(dir).mode & 0o077) !== 0) {
      throw new AgentError('CARD_ERROR', 'the station folder is open to other users', {
        reason: 'station folder mode',
      });
    }
    return new StationIdentity(dir, options.now ?? Date.now, options.token ?? null);
  }

  get folder(): string {
    return this.dir;
  }

  describe(): StationView {
    return {
      stationId: this.certificate === null ? null : commonName(this.certificate),
      registered: this.certificate !== null,
      certificate: this.certificatePem,
      proposedId: this.identity?.id ?? null,
      name: this.identity?.name ?? null,
      keyStore: this.keyStore.kind,
    };
  }

  /** The key store itself, for the doctor's and tests' look at a token key's attributes. */
  get store(): StationKeyStore {
    return this.keyStore;
  }

  /** The station's public key (SPKI, DER), making the key pair on first use. */
  private ensureKey(): Uint8Array {
    const existing = this.keyStore.publicKey();
    if (existing !== null) return existing;
    const spki = this.keyStore.create();
    if (this.keyStore instanceof TokenStationKey) {
      // Recorded before any CSR leaves: from now on this folder refuses to run without the token.
      writeDurably(
        this.dir,
        KEY_STORE_FILE,
        JSON.stringify({ keyStore: 'pkcs11', token: this.keyStore.tokenLabel }),
      );
    }
    return spki;
  }

  /**
   * A PKCS#10 request for the station key, subject CN = the station's proposed id (kept across
   * requests, so registering again renews the same station).
   */
  async csr(name: string): Promise<{ csr: string; proposedId: string }> {
    const spki = this.ensureKey();
    const id = this.identity?.id ?? `st-${randomBytes(12).toString('base64url')}`;
    if (this.identity?.id !== id || this.identity.name !== name) {
      writeDurably(this.dir, IDENTITY_FILE, JSON.stringify({ id, name }));
      this.identity = { id, name };
    }
    const request = await buildCsr(spki, 'ecdsa-p256', `CN=${id}`, async (tbs) => this.keyStore.sign(tbs));
    return { csr: Buffer.from(request.rawData).toString('base64'), proposedId: id };
  }

  /** Stores the station certificate (PEM; a chain may follow it) once it is shown to hold this station's key. */
  installCertificate(pem: string): StationView {
    const spki = this.keyStore.publicKey();
    if (spki === null)
      throw new AgentError('REQUEST_INVALID', 'no station key yet: ask for a CSR first', {
        reason: 'no station key',
      });
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(pem);
    } catch {
      throw new AgentError('REQUEST_INVALID', 'not a PEM certificate', { reason: 'certificate' });
    }
    if (!this.holds(certificate, spki)) {
      throw new AgentError('REQUEST_INVALID', 'the certificate is not for this station key', {
        reason: 'certificate key',
      });
    }
    const cn = commonName(certificate);
    if (cn === null || !STATION_ID_PATTERN.test(cn)) {
      throw new AgentError('REQUEST_INVALID', 'the certificate does not name a station', {
        reason: 'certificate subject',
      });
    }
    // Public, but kept like the rest of the folder (owner only): it may sit inside a data folder that promises so.
    writeDurably(this.dir, CERTIFICATE_FILE, pem);
    this.certificate = certificate;
    this.certificatePem = pem;
    return this.describe();
  }

  /** The registered station's signer, or STATION_NOT_REGISTERED (no certificate, or it has expired). */
  signer(): StatementSigner {
    const hasKey = this.keyStore.publicKey() !== null;
    const certificate = this.certificate;
    const stationId = certificate === null ? null : commonName(certificate);
    if (!hasKey || certificate === null || stationId === null) {
      throw new AgentError('STATION_NOT_REGISTERED', 'this card agent has no station certificate', {
        reason: 'no certificate',
      });
    }
    if (certificate.notAfter.getTime() <= this.now()) {
      throw new AgentError('STATION_NOT_REGISTERED', 'the station certificate has expired', {
        reason: 'expired',
      });
    }
    return { stationId, sign: (bytes) => this.keyStore.sign(bytes) };
  }

  /** The next statement number, on disk before it is returned. */
  nextSeq(): number {
    const next = this.seq + 1;
    writeDurably(this.dir, SEQ_FILE, `${next}\n`);
    this.seq = next;
    return next;
  }

  get lastSeq(): number {
    return this.seq;
  }

  insertionsOf(slot: ReaderSlot): number {
    return this.insertions[slot];
  }

  /** A card went into the reader numbered `slot`: its counter takes the next value, on disk first. */
  countInsertion(slot: ReaderSlot): number {
    const next = { ...this.insertions, [slot]: this.insertions[slot] + 1 };
    writeDurably(this.dir, INSERTIONS_FILE, JSON.stringify(next));
    this.insertions[slot] = next[slot];
    return next[slot];
  }

  /** Lets go of the token (its session and login); a file key holds nothing open. */
  close(): void {
    this.keyStore.close();
  }
}
