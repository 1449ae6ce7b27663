// The checks a relying party inside the server makes on the card bureau's certificates: the one on
// a reserve card (it proves the card is a genuine card with that number) and a card station's.
import 'reflect-metadata';
import {
  createPublicKey,
  type KeyObject,
  X509Certificate as NativeCertificate,
  webcrypto,
} from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  type Certificate,
  ExtendedKeyUsage,
  type Extension,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  KeyUsage,
} from '@peculiar/asn1-x509';
import { KeyUsageFlags, X509Certificate } from '@peculiar/x509';
import { type CardNumber, parseCardNumber, STATION_ID_PATTERN } from '@reservkort/domain';
import { fromBER, PrintableString } from 'asn1js';
import { OID } from '../oids.js';
import { BUREAU_CA, type CertificateAuthority } from './certificate-authority.js';

/** Why a bureau or station certificate was refused; the server reports it as `details.reason`. */
export type BureauRefusal =
  | 'not-a-certificate'
  | 'wrong-issuer'
  | 'signature'
  | 'not-yet-valid'
  | 'expired'
  | 'unknown-certificate'
  | 'revoked'
  | 'profile';

export type BureauCheck<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: BureauRefusal };

export interface BureauCardIdentity {
  readonly cardNumber: CardNumber;
  /** The card authentication key: ECDSA P-256, verifies raw r‖s SHA-256 signatures (WebCrypto's form). */
  readonly publicKey: CryptoKey;
  /** The same key for node:crypto's one-shot verify (raw r‖s as `dsaEncoding: 'ieee-p1363'`). */
  readonly key: KeyObject;
  /** SubjectPublicKeyInfo DER of that key. */
  readonly spki: Uint8Array;
  readonly serial: string;
}

export interface StationIdentity {
  readonly stationId: string;
  readonly branchId: string;
  readonly publicKey: CryptoKey;
  readonly key: KeyObject;
  readonly spki: Uint8Array;
  readonly serial: string;
  readonly notAfter: number;
}

const crypto = webcrypto as unknown as Crypto;
const refuse = (reason: BureauRefusal): { ok: false; reason: BureauRefusal } => ({ ok: false, reason });

interface Checked {
  readonly certificate: X509Certificate;
  readonly facts: Facts;
  readonly publicKey: CryptoKey;
  /** The same key for node:crypto's one-shot verify. */
  readonly key: KeyObject;
  readonly spki: Uint8Array;
}

/**
 * What a certificate's bytes say, whatever the time and the database: issued by the bureau CA
 * (name and signature), its validity dates and serial, and whether its key and key usages fit.
 */
interface Facts {
  readonly certificate: X509Certificate;
  readonly issuer: boolean;
  readonly signed: boolean;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly profile: boolean;
  readonly keys: { readonly publicKey: CryptoKey; readonly key: KeyObject } | null;
  /** The subject's and extensions' values the two checks read: parsed once, not at every call. */
  readonly spki: Uint8Array;
  readonly serialNumbers: readonly string[];
  readonly commonNames: readonly string[];
  readonly units: readonly string[];
  readonly cardNumberExtension: string | null;
}

/**
 * The facts of bureau and station certificates already read, per bureau CA certificate and by the
 * certificate's bytes: a reserve card shows the same one at its handover and with its keys, a
 * station at every statement. The record, its revocation and the time are checked at every call.
 */
const factsCache = new WeakMap<X509Certificate, Map<string, Facts>>();
const FACTS_MAX = 2000;

/** The values of one subject attribute. */
const attribute = (certificate: X509Certificate, oid: string): string[] =>
  certificate.subjectName.getField(oid).map(String);

/** The bureau CA's key for node:crypto, per bureau certificate: exported once, not at every check. */
const bureauKeys = new WeakMap<X509Certificate, KeyObject>();

const bureauKey = (bureau: X509Certificate): KeyObject => {
  let key = bureauKeys.get(bureau);
  if (key === undefined) {
    key = createPublicKey({ key: Buffer.from(bureau.publicKey.rawData), format: 'der', type: 'spki' });
    bureauKeys.set(bureau, key);
  }
  return key;
};

/**
 * The value of the certificate's first extension with this OID, parsed by `parse`; null when it
 * has none or the value does not parse. Read straight from the parsed certificate: the X.509
 * library's extension list re-encodes and re-parses every extension, which costs more than the rest
 * of the check together.
 */
const extensionValue = <T>(
  extensions: readonly Extension[],
  oid: string,
  parse: (value: ArrayBuffer) => T,
): T | null => {
  const extension = extensions.find((e) => e.extnID === oid);
  if (extension === undefined) return null;
  try {
    return parse(extension.extnValue.buffer);
  } catch {
    return null;
  }
};

const cardNumberOf = (value: ArrayBuffer): string => {
  const { result } = fromBER(value);
  return result instanceof PrintableString ? result.valueBlock.value : '';
};

const readFacts = async (bureau: X509Certificate, der: Uint8Array): Promise<Facts | null> => {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(new Uint8Array(der));
  } catch {
    return null;
  }
  const issuer = certificate.issuer === bureau.subject;
  let signed = false;
  if (issuer) {
    try {
      signed = new NativeCertificate(der).verify(bureauKey(bureau));
    } catch {
      signed = false;
    }
  }
  // The library keeps the parsed structure protected; its public extension list is the slow path.
  const extensions = (certificate as unknown as { asn: Certificate }).asn.tbsCertificate.extensions ?? [];
  const keyUsage = extensionValue(extensions, id_ce_keyUsage, (v) =>
    AsnConvert.parse(v, KeyUsage).toNumber(),
  );
  const eku = extensionValue(extensions, id_ce_extKeyUsage, (v) =>
    AsnConvert.parse(v, ExtendedKeyUsage).map(String),
  );
  const profile = keyUsage === KeyUsageFlags.digitalSignature && eku?.includes(OID.clientAuth) === true;
  let keys: Facts['keys'] = null;
  try {
    const publicKey = await crypto.subtle.importKey(
      'spki',
      certificate.publicKey.rawData,
      { name: 'ECDSA', namedCurve: 'P-256' },
      true,
      ['verify'],
    );
    const key = createPublicKey({
      key: Buffer.from(certificate.publicKey.rawData),
      format: 'der',
      type: 'spki',
    });
    keys = { publicKey, key };
  } catch {
    keys = null;
  }
  return {
    certificate,
    issuer,
    signed,
    notBefore: certificate.notBefore.getTime(),
    notAfter: certificate.notAfter.getTime(),
    profile,
    keys,
    spki: new Uint8Array(certificate.publicKey.rawData),
    serialNumbers: attribute(certificate, OID.serialNumber),
    commonNames: attribute(certificate, OID.commonName),
    units: attribute(certificate, OID.organisationalUnit),
    cardNumberExtension: extensionValue(extensions, OID.cardNumber, cardNumberOf),
  };
};

const factsOf = async (bureau: X509Certificate, der: Uint8Array): Promise<Facts | null> => {
  const cacheKey = Buffer.from(der).toString('base64');
  let cache = factsCache.get(bureau);
  const known = cache?.get(cacheKey);
  if (known !== undefined) return known;
  const facts = await readFacts(bureau, der);
  if (facts === null) return null;
  if (cache === undefined) {
    cache = new Map();
    factsCache.set(bureau, cache);
  }
  // Oldest first out: cards are handed over once, so a full map holds mostly cards long issued.
  if (cache.size >= FACTS_MAX) cache.delete(cache.keys().next().value ?? '');
  cache.set(cacheKey, facts);
  return facts;
};

/** The DER bytes of a PEM certificate, as stored. */
const pemBytes = (pem: string): Buffer =>
  Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''), 'base64');

/**
 * What both checks share: issued by the bureau CA (signature and name), valid now, recorded by
 * this CA under `profile` with these very bytes (a forged or foreign certificate has no record),
 * not revoked, and a P-256 key with digital signature and client authentication.
 */
const checkIssued = async (
  ca: CertificateAuthority,
  der: Uint8Array,
  now: number,
  profile: 'card-bureau' | 'station',
): Promise<BureauCheck<Checked>> => {
  const bureau = await ca.bureau();
  const facts = await factsOf(bureau.certificate, der);
  if (facts === null) return refuse('not-a-certificate');
  if (!facts.issuer) return refuse('wrong-issuer');
  if (!facts.signed) return refuse('signature');
  if (facts.notBefore > now) return refuse('not-yet-valid');
  if (facts.notAfter <= now || bureau.certificate.notAfter.getTime() <= now) return refuse('expired');
  const { certificate } = facts;
  const stored = await ca.storedCertificate(certificate.serialNumber);
  if (
    stored === null ||
    stored.caId !== BUREAU_CA ||
    !pemBytes(stored.certificatePem).equals(Buffer.from(der))
  ) {
    return refuse('unknown-certificate');
  }
  if (stored.revocation !== null) return refuse('revoked');
  if (stored.profile !== profile) return refuse('profile');
  if (!facts.profile || facts.keys === null) return refuse('profile');
  return {
    ok: true,
    value: {
      certificate,
      facts,
      publicKey: facts.keys.publicKey,
      key: facts.keys.key,
      spki: facts.spki,
    },
  };
};

/**
 * Checks the certificate a reserve card presents for its card authentication key: chain to the
 * bureau CA, validity at `now`, not revoked, the 'card-bureau' profile, and one card number in
 * both the subject and the card number extension.
 */
export const verifyBureauCertificate = async (
  ca: CertificateAuthority,
  der: Uint8Array,
  now: number,
): Promise<BureauCheck<BureauCardIdentity>> => {
  const checked = await checkIssued(ca, der, now, 'card-bureau');
  if (!checked.ok) return checked;
  const { certificate, facts } = checked.value;
  const serials = facts.serialNumbers;
  const parsed = parseCardNumber(serials[0] ?? '');
  if (serials.length !== 1 || !parsed.ok || facts.cardNumberExtension !== parsed.value)
    return refuse('profile');
  return {
    ok: true,
    value: {
      cardNumber: parsed.value,
      publicKey: checked.value.publicKey,
      key: checked.value.key,
      spki: checked.value.spki,
      serial: certificate.serialNumber,
    },
  };
};

/**
 * Checks a card station's certificate: chain to the bureau CA, validity at `now`, not revoked, the
 * 'station' profile, a station id as its common name and its branch as its organisational unit.
 */
export const verifyStationCertificate = async (
  ca: CertificateAuthority,
  der: Uint8Array,
  now: number,
): Promise<BureauCheck<StationIdentity>> => {
  const checked = await checkIssued(ca, der, now, 'station');
  if (!checked.ok) return checked;
  const { certificate, facts } = checked.value;
  const names = facts.commonNames;
  const units = facts.units;
  const stationId = names[0] ?? '';
  const branchId = units[0] ?? '';
  if (names.length !== 1 || units.length !== 1 || !STATION_ID_PATTERN.test(stationId) || branchId === '') {
    return refuse('profile');
  }
  return {
    ok: true,
    value: {
      stationId,
      branchId,
      publicKey: checked.value.publicKey,
      key: checked.value.key,
      spki: checked.value.spki,
      serial: certificate.serialNumber,
      notAfter: certificate.notAfter.getTime(),
    },
  };
};
