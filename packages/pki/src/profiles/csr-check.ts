// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createPublicKey, verify as nodeVerify, webcrypto } from 'node:crypto';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Pkcs10CertificateRequest } from '@peculiar/x509';
import type { CardKeyType } from '@reservkort/domain';
import { PkiError } from '../pki-error.js';

/** A CSR larger than this is not a card's CSR: refuse it before parsing. */
export const MAX_CSR_BYTES = 16 * 1024;

const ALLOWED_CURVES: readonly string[] = ['P-256', 'P-384'];
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 4096;

export interface CheckedCsr {
  readonly csr: Pkcs10CertificateRequest;
  readonly publicKey: CryptoKey;
  /** e.g. "ECDSA P-256" or "RSA 2048", for logs and the support case. */
  readonly keyDescription: string;
}

const crypto = webcrypto as unknown as Crypto;

/** How each card key type reads in `keyDescription`: a card key must be exactly this. */
export const CARD_KEY_DESCRIPTIONS: { readonly [T in CardKeyType]: string } = {
  'ecdsa-p256': 'ECDSA P-256',
  'rsa-2048': 'RSA 2048',
};
const ANY_ALLOWED = 'ECDSA P-256, ECDSA P-384, RSA 2048–4096';

const describeKey = (algorithm: KeyAlgorithm): { text: string; allowed: boolean } => {
  if (algorithm.name === 'ECDSA') {
    const curve = (algorithm as EcKeyAlgorithm).namedCurve;
    return { text: `ECDSA ${curve}`, allowed: ALLOWED_CURVES.includes(curve) };
  }
  // rsaEncryption keys read as RSASSA-PKCS1-v1_5; an RSA-PSS-only key is no card key of ours.
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'RSA-PSS') {
    const bits = (algorithm as RsaHashedKeyAlgorithm).modulusLength;
    const text = algorithm.name === 'RSA-PSS' ? `RSA-PSS ${bits}` : `RSA ${bits}`;
    return { text, allowed: bits >= MIN_RSA_BITS && bits <= MAX_RSA_BITS };
  }
  return { text: algorithm.name, allowed: false };
};

const NODE_HASHES: Readonly<Record<string, string>> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

/**
 * The CSR's signature checked with `node:crypto` at once, as WebCrypto would check it (the
 * algorithm the CSR names must be its key's; ECDSA signatures are DER in both): WebCrypto sends
 * every check through the thread pool. undefined for what only WebCrypto is asked (RSA-PSS).
 */
const verifiedByNode = (csr: Pkcs10CertificateRequest): boolean | undefined => {
  const algorithm = csr.signatureAlgorithm as RsaHashedKeyAlgorithm;
  const keyAlgorithm = csr.publicKey.algorithm.name;
  const hash = NODE_HASHES[algorithm.hash?.name ?? ''];
  const sameKind =
    algorithm.name === keyAlgorithm && (algorithm.name === 'ECDSA' || algorithm.name === 'RSASSA-PKCS1-v1_5');
  if (!sameKind || hash === undefined) return undefined;
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  // The signed bytes as they came, kept by the ASN.1 schema while parsing (never re-encoded).
  const request = AsnConvert.parse(csr.rawData, CertificationRequest);
  const signed =
    request.certificationRequestInfoRaw ?? AsnConvert.serialize(request.certificationRequestInfo);
  return nodeVerify(hash, new Uint8Array(signed), key, new Uint8Array(csr.signature));
};

/**
 * Proof of possession and key policy: the CSR must parse, its signature must verify with the key
 * it carries, and that key must be of an allowed type and size — with `cardKeyType`, exactly that
 * type and size (a card CSR for a CA set to RSA-2048 carries an RSA-2048 key, nothing else). Its
 * subject is ignored.
 */
export const checkCsr = async (
  input: Uint8Array | string,
  cardKeyType?: CardKeyType,
): Promise<CheckedCsr> => {
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size === 0 || size > MAX_CSR_BYTES) {
    throw new PkiError('CSR_INVALID', 'CSR is empty or too large', {
      reason: size === 0 ? 'empty' : 'too-large',
    });
  }
  let csr: Pkcs10CertificateRequest;
  try {
    csr = new Pkcs10CertificateRequest(typeof input === 'string' ? input : new Uint8Array(input));
  } catch (cause) {
    throw new PkiError('CSR_INVALID', 'CSR could not be parsed', { reason: 'not-pkcs10' }, { cause });
  }
  const key = describeKey(csr.publicKey.algorithm as KeyAlgorithm);
  const allowed = cardKeyType === undefined ? ANY_ALLOWED : CARD_KEY_DESCRIPTIONS[cardKeyType];
  if (!key.allowed || (cardKeyType !== undefined && key.text !== allowed))
    throw new PkiError('KEY_NOT_ALLOWED', `key ${key.text} is not allowed (allowed: ${allowed})`, {
      key: key.text,
      allowed,
    });
  let publicKey: CryptoKey;
  try {
    publicKey = await csr.publicKey.export(crypto);
  } catch (cause) {
    throw new PkiError(
      'CSR_INVALID',
      'CSR public key could not be read',
      { reason: 'public-key' },
      { cause },
    );
  }
  let valid = false;
  try {
    valid = verifiedByNode(csr) ?? (await csr.verify(crypto));
  } catch {
    valid = false;
  }
  if (!valid) throw new PkiError('CSR_SIGNATURE_INVALID', 'CSR signature does not verify', {});
  return { csr, publicKey, keyDescription: key.text };
};
