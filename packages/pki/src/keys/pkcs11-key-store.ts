import { Module, type Session, SessionFlag } from 'graphene-pk11';
import { Crypto as Pkcs11Crypto } from 'node-webcrypto-p11';
import pkcs11 from 'pkcs11js';
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

/**
 * A PKCS#11 library is initialised once per process: stores opened on the same module share it,
 * and it is finalised when the last of them closes.
 */
const loadedModules = new Map<string, { module: Module; users: number }>();

const acquireModule = (path: string): Module => {
  const loaded = loadedModules.get(path);
  if (loaded) {
    loaded.users += 1;
    return loaded.module;
  }
  const module = Module.load(path, 'reservkort');
  try {
    module.initialize();
  } catch (error) {
    if ((error as { code?: number }).code !== pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) throw error;
  }
  loadedModules.set(path, { module, users: 1 });
  return module;
};

const releaseModule = (path: string): void => {
  const loaded = loadedModules.get(path);
  if (!loaded) return;
  loaded.users -= 1;
  if (loaded.users > 0) return;
  loadedModules.delete(path);
  loaded.module.finalize();
};

/** CA keys generated and kept on a PKCS#11 token: sensitive, never extractable. */
export class Pkcs11KeyStore implements CaKeyStore {
  readonly kind = 'pkcs11';
  private constructor(
    private readonly modulePath: string,
    private readonly session: Session,
    private readonly crypto: Pkcs11Crypto,
  ) {}

  static open(config: Pkcs11Config): Pkcs11KeyStore {
    let module: Module;
    try {
      module = acquireModule(config.module);
    } catch (cause) {
      throw keyUnavailable(config.tokenLabel, `PKCS#11 module ${config.module} could not be loaded`, cause);
    }
    try {
      const slots = module.getSlots(true);
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
        return new Pkcs11KeyStore(config.module, session, crypto);
      }
    } catch (cause) {
      releaseModule(config.module);
      throw keyUnavailable(config.tokenLabel, 'token login failed (wrong PIN?)', cause);
    }
    releaseModule(config.module);
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

  async close(): Promise<void> {
    try {
      this.session.close();
    } finally {
      releaseModule(this.modulePath);
    }
  }
}
