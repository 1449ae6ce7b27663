// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createPublicKey, type KeyObject, verify as nodeVerify, webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { Pkcs10CertificateRequest } from '@peculiar/x509';
import type { CardKeyType } from '@reservkort/domain';
import { TAG } from '../encoding/der-encoding.js';
import { bytesOf, childrenOf, contentsOf, oidContents, readElement } from '../encoding/der-reading.js';
import { PkiError } from '../pki-error.js';

/** A CSR larger than this is not a card's CSR: refuse it before parsing. */
export const MAX_CSR_BYTES = 16 * 1024;

const ALLOWED_CURVES: readonly string[] = ['P-256', 'P-384'];
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 4096;

export interface CheckedCsr {
  /** The CSR's DER. */
  readonly der: Uint8Array;
  /** The CSR's SubjectPublicKeyInfo DER, as the CSR carries it. */
  readonly spki: Uint8Array;
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

/** The signature algorithms a card's CSR comes with, read without the X.509 library. */
const FAST_SIGNATURES = new Map<string, { readonly hash: string; readonly key: 'ec' | 'rsa' }>(
  (
    [
      ['1.2.840.10045.4.3.2', 'sha256', 'ec'],
      ['1.2.840.10045.4.3.3', 'sha384', 'ec'],
      ['1.2.840.10045.4.3.4', 'sha512', 'ec'],
      ['1.2.840.113549.1.1.11', 'sha256', 'rsa'],
      ['1.2.840.113549.1.1.12', 'sha384', 'rsa'],
      ['1.2.840.113549.1.1.13', 'sha512', 'rsa'],
    ] as const
  ).map(([oid, hash, key]) => [Buffer.from(oidContents(oid)).toString('hex'), { hash, key }]),
);

/** WebCrypto's names of the curves Node names as OpenSSL does. */
const CURVES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

interface PlainCsr {
  /** The CertificationRequestInfo, header and all: what the signature covers. */
  readonly info: Uint8Array;
  readonly spki: Uint8Array;
  readonly hash: string;
  readonly key: 'ec' | 'rsa';
  readonly signature: Uint8Array;
}

/** The context tag of a CertificationRequestInfo's attributes [0] (RFC 2986 §4.1). */
const ATTRIBUTES = 0xa0;

/**
 * A PKCS#10 request (RFC 2986 §4) of the plain form a card makes: version 1, an ECDSA or RSA
 * PKCS#1 v1.5 signature. null for anything else, and for what does not parse: the X.509 library
 * then reads it, refusing it or handling the rarer forms as it always has.
 */
const plainCsr = (der: Uint8Array): PlainCsr | null => {
  try {
    const request = readElement(der, 0);
    if (request.tag !== TAG.sequence || request.end !== der.length) return null;
    const [info, algorithm, signature, ...more] = childrenOf(der, request);
    if (info?.tag !== TAG.sequence || algorithm?.tag !== TAG.sequence || signature?.tag !== TAG.bitString)
      return null;
    const [version, subject, spki, attributes, ...rest] = childrenOf(der, info);
    if (
      more.length > 0 ||
      rest.length > 0 ||
      version?.tag !== TAG.integer ||
      version.end !== version.start + 1 ||
      der[version.start] !== 0 ||
      subject?.tag !== TAG.sequence ||
      spki?.tag !== TAG.sequence ||
      attributes?.tag !== ATTRIBUTES
    )
      return null;
    const [oid, parameters, ...extra] = childrenOf(der, algorithm);
    const known =
      oid === undefined ? undefined : FAST_SIGNATURES.get(Buffer.from(contentsOf(der, oid)).toString('hex'));
    // ECDSA names no parameters; PKCS#1 v1.5 names NULL or none.
    const plainParameters =
      parameters === undefined ||
      (known?.key === 'rsa' && parameters.tag === TAG.null && parameters.start === parameters.end);
    if (known === undefined || !plainParameters || extra.length > 0) return null;
    if (signature.end === signature.start || der[signature.start] !== 0) return null;
    return {
      info: bytesOf(der, info),
      spki: bytesOf(der, spki),
      hash: known.hash,
      key: known.key,
      signature: der.subarray(signature.start + 1, signature.end),
    };
  } catch {
    return null;
  }
};

/**
 * The check of a plain CSR with Node's crypto alone: a card's CSR is checked once, in code too
 * rarely run to be optimised, where the X.509 library's parse cost a millisecond a CSR. null when
 * the key is not one it describes as WebCrypto would (the library path then decides).
 */
const checkPlainCsr = (der: Uint8Array, plain: PlainCsr, cardKeyType?: CardKeyType): CheckedCsr | null => {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(plain.spki), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
  const details = key.asymmetricKeyDetails;
  const curve = CURVES[details?.namedCurve ?? ''];
  let algorithm: KeyAlgorithm;
  if (key.asymmetricKeyType === 'ec' && curve !== undefined)
    algorithm = { name: 'ECDSA', namedCurve: curve } as EcKeyAlgorithm;
  else if (key.asymmetricKeyType === 'rsa' && details?.modulusLength !== undefined)
    algorithm = { name: 'RSASSA-PKCS1-v1_5', modulusLength: details.modulusLength } as RsaKeyAlgorithm;
  else return null;
  if (key.asymmetricKeyType !== plain.key) return null;
  const described = describeKey(algorithm);
  allow(described, cardKeyType);
  let valid = false;
  try {
    valid = nodeVerify(plain.hash, plain.info, key, plain.signature);
  } catch {
    valid = false;
  }
  if (!valid) throw new PkiError('CSR_SIGNATURE_INVALID', 'CSR signature does not verify', {});
  return {
    der,
    spki: plain.spki,
    publicKeyInfo: AsnConvert.parse(plain.spki, SubjectPublicKeyInfo),
    publicKey: key.toCryptoKey({ hash: 'SHA-256', ...algorithm }, true, ['verify']) as unknown as CryptoKey,
    keyDescription: described.text,
  };
};

/** The key policy: an allowed type and size, and with `cardKeyType` exactly that one. */
const allow = (key: { text: string; allowed: boolean }, cardKeyType?: CardKeyType): void => {
  const allowed = cardKeyType === undefined ? ANY_ALLOWED : CARD_KEY_DESCRIPTIONS[cardKeyType];
  if (!key.allowed || (cardKeyType !== undefined && key.text !== allowed))
    throw new PkiError('KEY_NOT_ALLOWED', `key ${key.text} is not allowed (allowed: ${allowed})`, {
      key: key.text,
      allowed,
    });
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
  // Null only for text that is not one plain PEM block, which the library reads as it always has.
  const der: Uint8Array<ArrayBuffer> | null =
    typeof input === 'string' ? derOfPlainPem(input) : new Uint8Array(input);
  const plain = der === null ? null : plainCsr(der);
  const checked = der === null || plain === null ? null : checkPlainCsr(der, plain, cardKeyType);
  if (checked !== null) return checked;
  let csr: ParsedRequest;
  try {
    csr = new ParsedRequest(der ?? String(input));
  } catch (cause) {
    throw new PkiError('CSR_INVALID', 'CSR could not be parsed', { reason: 'not-pkcs10' }, { cause });
  }
  const key = describeKey(csr.publicKey.algorithm as KeyAlgorithm);
  allow(key, cardKeyType);
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
    der: new Uint8Array(csr.rawData),
    spki: new Uint8Array(csr.publicKey.rawData),
    publicKeyInfo: csr.publicKeyInfo,
    publicKey: publicKey.cryptoKey,
    keyDescription: key.text,
  };
};
