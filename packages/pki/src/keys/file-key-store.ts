import { createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type CaKey,
  type CaKeyStore,
  type KeySpec,
  keyAlgorithm,
  keyUnavailable,
  modulusLength,
} from './key-spec.js';

const CIPHER = 'aes-256-cbc';

/**
 * CA keys in passphrase-encrypted PKCS#8 PEM files (0600). The passphrase comes from the
 * environment or a secrets file, never from the configuration file.
 */
export class FileKeyStore implements CaKeyStore {
  readonly kind = 'file';

  constructor(
    private readonly directory: string,
    private readonly passphrase: string,
  ) {}

  async generate(label: string, spec: KeySpec): Promise<CaKey> {
    const { privateKey } = spec.startsWith('ecdsa')
      ? generateKeyPairSync('ec', { namedCurve: spec === 'ecdsa-p384' ? 'P-384' : 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: modulusLength(spec) });
    const pem = privateKey.export({
      type: 'pkcs8',
      format: 'pem',
      cipher: CIPHER,
      passphrase: this.passphrase,
    });
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const ref = `${label}.key.pem`;
    await writeFile(join(this.directory, ref), pem, { mode: 0o600, flag: 'wx' });
    return this.open(ref, spec);
  }

  async open(ref: string, spec: KeySpec): Promise<CaKey> {
    let pem: string;
    try {
      pem = await readFile(join(this.directory, ref), 'utf8');
    } catch (cause) {
      throw keyUnavailable(ref, 'key file missing', cause);
    }
    let keyObject: ReturnType<typeof createPrivateKey>;
    try {
      keyObject = createPrivateKey({ key: pem, format: 'pem', passphrase: this.passphrase });
    } catch (cause) {
      throw keyUnavailable(ref, 'wrong passphrase or damaged key file', cause);
    }
    const algorithm = keyAlgorithm(spec);
    const pkcs8 = keyObject.export({ type: 'pkcs8', format: 'der' });
    const spki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' });
    // Imported as non-extractable: once loaded, the key can sign but not be exported again.
    const crypto = webcrypto as unknown as Crypto;
    const privateKey = await crypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']);
    const publicKey = await crypto.subtle.importKey('spki', spki, algorithm, true, ['verify']);
    return { ref, spec, privateKey, publicKey, crypto, nodeKey: keyObject };
  }

  async close(): Promise<void> {}
}
