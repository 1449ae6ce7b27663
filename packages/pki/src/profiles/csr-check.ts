// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createPublicKey, type KeyObject, verify as nodeVerify, webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
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
  /** The CSR's key as parsed with it: the certificate carries it as it is. */
  readonly publicKeyInfo: SubjectPublicKeyInfo;
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

/** A parsed CSR that also gives the bytes its signature covers. */
class ParsedRequest extends Pkcs10CertificateRequest {
  /**
   * The CertificationRequestInfo as it came, kept by the ASN.1 schema while parsing the request
   * (never re-encoded): from the request's own parse, not a second one.
   */
  get signedBytes(): ArrayBuffer {
    return this.asn.certificationRequestInfoRaw ?? AsnConvert.serialize(this.asn.certificationRequestInfo);
  }

  /** The key's structure as parsed with the request: what the certificate carries. */
  get publicKeyInfo(): SubjectPublicKeyInfo {
    return this.asn.certificationRequestInfo.subjectPKInfo;
  }
}

/**
 * The CSR's signature checked with `node:crypto` at once, as WebCrypto would check it (the
 * algorithm the CSR names must be its key's; ECDSA signatures are DER in both): WebCrypto sends
 * every check through the thread pool. undefined for what only WebCrypto is asked (RSA-PSS).
 */
const verifiedByNode = (csr: ParsedRequest, key: KeyObject | null): boolean | undefined => {
  const algorithm = csr.signatureAlgorithm as RsaHashedKeyAlgorithm;
  const keyAlgorithm = csr.publicKey.algorithm.name;
  const hash = NODE_HASHES[algorithm.hash?.name ?? ''];
  const sameKind =
    algorithm.name === keyAlgorithm && (algorithm.name === 'ECDSA' || algorithm.name === 'RSASSA-PKCS1-v1_5');
  if (!sameKind || hash === undefined || key === null) return undefined;
  return nodeVerify(hash, new Uint8Array(csr.signedBytes), key, new Uint8Array(csr.signature));
};

/** Keys Node reads from their SubjectPublicKeyInfo as WebCrypto would import them. */
const NODE_READABLE_KEYS: readonly string[] = ['ECDSA', 'RSASSA-PKCS1-v1_5'];

/**
 * The CSR's public key, read once: Node's key for the signature check, and the same key as a
 * WebCrypto key (imported with the checks WebCrypto's own import makes). A key Node does not read
 * as WebCrypto does (RSA-PSS) is imported by the library, and has no Node key.
 */
const readPublicKey = async (
  csr: ParsedRequest,
): Promise<{ cryptoKey: CryptoKey; nodeKey: KeyObject | null }> => {
  const algorithm = { hash: 'SHA-256', ...csr.publicKey.algorithm };
  if (!NODE_READABLE_KEYS.includes(algorithm.name)) {
    return { cryptoKey: await csr.publicKey.export(crypto), nodeKey: null };
  }
  // The library's key, already made to describe the key, holds its SubjectPublicKeyInfo's DER.
  const nodeKey = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  return { cryptoKey: nodeKey.toCryptoKey(algorithm, true, ['verify']) as unknown as CryptoKey, nodeKey };
};

/** One PEM block and nothing else, without headers: the form CSRs come in. */
const PLAIN_PEM = /^-----BEGIN ([^\n]+?)-----\n((?:[A-Za-z0-9+/=]+\n)+)-----END \1-----\n?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The DER of a plain PEM block, decoded by Node: the library's own decoder costs as much as a
 * signature check. null for any other text, which the library reads as it always has.
 */
const derOfPlainPem = (text: string): Uint8Array<ArrayBuffer> | null => {
  const base64 = PLAIN_PEM.exec(text.replace(/\r/g, ''))?.[2]?.replace(/\n/g, '');
  if (base64 === undefined || base64.length % 4 !== 0 || !BASE64.test(base64)) return null;
  return new Uint8Array(Buffer.from(base64, 'base64'));
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
  let csr: ParsedRequest;
  try {
    csr = new ParsedRequest(
      typeof input === 'string' ? (derOfPlainPem(input) ?? input) : new Uint8Array(input),
    );
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
  let publicKey: Awaited<ReturnType<typeof readPublicKey>>;
  try {
    publicKey = await readPublicKey(csr);
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
    valid = verifiedByNode(csr, publicKey.nodeKey) ?? (await csr.verify(crypto));
  } catch {
    valid = false;
  }
  if (!valid) throw new PkiError('CSR_SIGNATURE_INVALID', 'CSR signature does not verify', {});
  return {
    csr,
    publicKeyInfo: csr.publicKeyInfo,
    publicKey: publicKey.cryptoKey,
    keyDescription: key.text,
  };
};
