import { acquireModule, releaseModule, type SharedModule } from '@reservkort/pkcs11';
import { type Session, SessionFlag } from 'graphene-pk11';
import { Crypto as Pkcs11Crypto } from 'node-webcrypto-p11';
import pkcs11 from 'pkcs11js';
import { PkiError } from '../pki-error.js';
import {
  type CaKey,
  type CaKeyStore,
  type KeySpec,
  keyAlgorithm,
  keyUnavailable,
  modulusLength,
} from './key-spec.js';

export interface Pkcs11Config {
  /** Path of the vendor's PKCS#11 module (SoftHSM2 in tests). */
  readonly module: string;
  /** The token holding the CA keys, found by its label rather than a slot number that can move. */
  readonly tokenLabel: string;
  readonly pin: string;
}

/** The CA's sessions and key handles live as long as the store: no re-initialisation under them. */
const KEEPS_SESSIONS = { keepsSessions: true } as const;

/** CA keys generated and kept on a PKCS#11 token: sensitive, never extractable. */
export class Pkcs11KeyStore implements CaKeyStore {
  readonly kind = 'pkcs11';
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly module: SharedModule,
    private readonly tokenLabel: string,
    private readonly session: Session,
    private readonly crypto: Pkcs11Crypto,
  ) {}

  static open(config: Pkcs11Config): Pkcs11KeyStore {
    // The module is shared with everything else in this process that opens it (the card code).
    let module: SharedModule;
    try {
      module = acquireModule(config.module, KEEPS_SESSIONS);
    } catch (cause) {
      throw keyUnavailable(config.tokenLabel, `PKCS#11 module ${config.module} could not be loaded`, cause);
    }
    try {
      const slots = module.graphene.getSlots(true);
      for (let i = 0; i < slots.length; i++) {
        const slot = slots.items(i);
        if (slot.getToken().label.trim() !== config.tokenLabel) continue;
        const session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
        try {
          session.login(config.pin);
        } catch (error) {
          // Login state is per application: another store in this process may have logged in.
          if ((error as { code?: number }).code !== pkcs11.CKR_USER_ALREADY_LOGGED_IN) throw error;
        }
        const crypto = new Pkcs11Crypto({ session, name: config.tokenLabel });
        return new Pkcs11KeyStore(module, config.tokenLabel, session, crypto);
      }
    } catch (cause) {
      releaseModule(module, KEEPS_SESSIONS);
      throw keyUnavailable(config.tokenLabel, 'token login failed (wrong PIN?)', cause);
    }
    releaseModule(module, KEEPS_SESSIONS);
    throw keyUnavailable(config.tokenLabel, `no token labelled ${config.tokenLabel}`);
  }

  async generate(label: string, spec: KeySpec): Promise<CaKey> {
    const base = keyAlgorithm(spec);
    const params = spec.startsWith('rsa')
      ? { ...base, modulusLength: modulusLength(spec), publicExponent: new Uint8Array([1, 0, 1]) }
      : base;
    // node-webcrypto-p11 reads the PKCS#11 attributes (label, token, sensitive) from the algorithm.
    const algorithm = { ...params, label, token: true, sensitive: true, extractable: false };
    const keys = (await this.crypto.subtle.generateKey(algorithm as unknown as EcKeyGenParams, false, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    return {
      ref: label,
      spec,
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
      crypto: this.crypto as unknown as Crypto,
    };
  }

  async open(ref: string, spec: KeySpec): Promise<CaKey> {
    let privateKey: CryptoKey | null = null;
    let publicKey: CryptoKey | null = null;
    for (const index of await this.crypto.keyStorage.keys()) {
      const key = (await this.crypto.keyStorage.getItem(index)) as CryptoKey & {
        algorithm: { label?: string };
      };
      if (key.algorithm.label !== ref) continue;
      if (key.type === 'private') privateKey = key;
      if (key.type === 'public') publicKey = key;
    }
    if (privateKey === null || publicKey === null) throw keyUnavailable(ref, 'key not found on the token');
    return { ref, spec, privateKey, publicKey, crypto: this.crypto as unknown as Crypto };
  }

  /** Closes the session and lets go of the module, once however often it is called. */
  close(): Promise<void> {
    if (this.closing === null) {
      this.closing = (async () => {
        try {
          this.session.close();
        } catch (cause) {
          const reason = cause instanceof Error ? cause.message : String(cause);
          throw new PkiError(
            'CA_KEY_UNAVAILABLE',
            `the session on CA token ${this.tokenLabel} could not be closed: ${reason}`,
            { ca: this.tokenLabel, reason },
            { cause },
          );
        } finally {
          releaseModule(this.module, KEEPS_SESSIONS);
        }
      })();
    }
    return this.closing;
  }
}
