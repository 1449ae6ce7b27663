import type { KeyObject } from 'node:crypto';
import { PkiError } from '../pki-error.js';

/** The key types a CA may use. Many cards only do RSA, so RSA stays supported beside ECDSA. */
export const KEY_SPECS = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072'] as const;
export type KeySpec = (typeof KEY_SPECS)[number];
export const DEFAULT_KEY_SPEC: KeySpec = 'ecdsa-p256';

export const isKeySpec = (value: unknown): value is KeySpec =>
  typeof value === 'string' && (KEY_SPECS as readonly string[]).includes(value);

/** WebCrypto parameters to generate or import a key of this spec. */
export const keyAlgorithm = (spec: KeySpec): EcKeyImportParams | RsaHashedImportParams => {
  switch (spec) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256' };
    case 'ecdsa-p384':
      return { name: 'ECDSA', namedCurve: 'P-384' };
    case 'rsa-2048':
    case 'rsa-3072':
      return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  }
};

export const modulusLength = (spec: KeySpec): number => (spec === 'rsa-3072' ? 3072 : 2048);

/** The signature algorithm a key of this spec signs certificates, CRLs and OCSP responses with. */
export const signingAlgorithm = (spec: KeySpec): Algorithm & { hash: string } =>
  spec.startsWith('ecdsa')
    ? { name: 'ECDSA', hash: spec === 'ecdsa-p384' ? 'SHA-384' : 'SHA-256' }
    : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

/** A CA's signing key, wherever it lives; the private key is never extractable. */
export interface CaKey {
  readonly ref: string;
  readonly spec: KeySpec;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The WebCrypto implementation that can use `privateKey` (Node's, or a PKCS#11 token's). */
  readonly crypto: Crypto;
  /**
   * The same private key as `node:crypto` holds it, when it lives in this process (a key file):
   * it signs at once, where WebCrypto sends each signature through the thread pool. None for a
   * key on a token.
   */
  readonly nodeKey?: KeyObject;
}

/** Where CA keys live: an encrypted key file or a PKCS#11 token, behind one interface. */
export interface CaKeyStore {
  readonly kind: 'file' | 'pkcs11';
  generate(label: string, spec: KeySpec): Promise<CaKey>;
  open(ref: string, spec: KeySpec): Promise<CaKey>;
  close(): Promise<void>;
}

export const keyUnavailable = (ca: string, reason: string, cause?: unknown): PkiError =>
  new PkiError(
    'CA_KEY_UNAVAILABLE',
    `the key of ${ca} could not be opened: ${reason}`,
    { ca, reason },
    { cause },
  );
