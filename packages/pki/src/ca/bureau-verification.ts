// The checks a relying party inside the server makes on the card bureau's certificates: the one on
// a reserve card (it proves the card is a genuine card with that number) and a card station's.
// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { type KeyObject, X509Certificate as NativeCertificate } from 'node:crypto';
import { id_ce_keyUsage } from '@peculiar/asn1-x509';
import { KeyUsageFlags, type X509Certificate } from '@peculiar/x509';
import { type CardNumber, parseCardNumber, STATION_ID_PATTERN } from '@reservkort/domain';
import type { Pending, StoredCertificate } from '@reservkort/store';
import { TAG } from '../encoding/der-encoding.js';
import {
  bitStringFlags,
  type CertificateParts,
  certificateParts,
  type DerExtension,
  oidContents,
  readElement,
  sameBytes,
} from '../encoding/der-reading.js';
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
  /** The card authentication key (ECDSA P-256) for node:crypto's verify; raw r‖s is `dsaEncoding: 'ieee-p1363'`. */
  readonly key: KeyObject;
  /** SubjectPublicKeyInfo DER of that key. */
  readonly spki: Uint8Array;
  readonly serial: string;
}

export interface StationIdentity {
  readonly stationId: string;
  readonly branchId: string;
  readonly key: KeyObject;
  readonly spki: Uint8Array;
  readonly serial: string;
  readonly notAfter: number;
}

const refuse = (reason: BureauRefusal): { ok: false; reason: BureauRefusal } => ({ ok: false, reason });

/**
 * What a certificate's bytes say, whatever the time and the database: issued by the bureau CA
 * (name and signature), its validity dates and serial, and whether its key and key usages fit.
 */
interface Facts {
  /** Lower-case hex, as the CA stores serials (its serials never start with a zero octet). */
  readonly serial: string;
  readonly issuer: boolean;
  readonly signed: boolean;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly profile: boolean;
  /** The key, when it is ECDSA P-256; null for any other. */
  readonly key: KeyObject | null;
  readonly spki: Uint8Array;
  /** The subject's and extensions' values the two checks read: parsed once, not at every call. */
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

/** The bureau CA's certificate as Node reads it, per bureau certificate: parsed once, not at every check. */
const bureauCertificates = new WeakMap<X509Certificate, NativeCertificate>();

const nativeBureau = (bureau: X509Certificate): NativeCertificate => {
  let native = bureauCertificates.get(bureau);
  if (native === undefined) {
    native = new NativeCertificate(new Uint8Array(bureau.rawData));
    bureauCertificates.set(bureau, native);
  }
  return native;
};

/** The values of one subject attribute (a value of a string type the check does not read counts as ''). */
const attribute = (subject: CertificateParts['subject'], oid: Uint8Array): string[] =>
  subject.filter((a) => sameBytes(a.oid, oid)).map((a) => a.value ?? '');

/** The contents of each OID the checks look for, as they appear in DER. */
const OID_BYTES = {
  keyUsage: oidContents(id_ce_keyUsage),
  cardNumber: oidContents(OID.cardNumber),
  serialNumber: oidContents(OID.serialNumber),
  commonName: oidContents(OID.commonName),
  organisationalUnit: oidContents(OID.organisationalUnit),
};

/** The value of the certificate's first extension with this OID, parsed by `parse`; null when it has none or the value does not parse. */
const extensionValue = <T>(
  extensions: readonly DerExtension[],
  oid: Uint8Array,
  parse: (value: Uint8Array) => T,
): T | null => {
  const extension = extensions.find((e) => sameBytes(e.oid, oid));
  if (extension === undefined) return null;
  try {
    return parse(extension.value);
  } catch {
    return null;
  }
};

/** The card number extension's value: a PrintableString ('' for any other string type). */
const cardNumberOf = (value: Uint8Array): string => {
  const element = readElement(value, 0);
  if (element.end !== value.length) throw new Error('trailing bytes');
  return element.tag === TAG.printableString
    ? Buffer.from(value.subarray(element.start, element.end)).toString('latin1')
    : '';
};

/**
 * Read with Node's certificate parser (OpenSSL's), and the subject, key and two extensions from
 * the DER: a reserve card's certificate is seen once, at its handover, and the X.509 library's
 * parse, in code that runs too seldom to be optimised, cost more than the rest of the handover.
 */
const readFacts = (bureau: X509Certificate, der: Uint8Array): Facts | null => {
  let certificate: NativeCertificate;
  let parts: CertificateParts;
  try {
    certificate = new NativeCertificate(der);
    parts = certificateParts(der);
  } catch {
    return null;
  }
  const { extensions, subject } = parts;
  const issuerCertificate = nativeBureau(bureau);
  const issuer = certificate.issuer === issuerCertificate.subject;
  let signed = false;
  if (issuer) {
    try {
      signed = certificate.verify(issuerCertificate.publicKey);
    } catch {
      signed = false;
    }
  }
  const keyUsage = extensionValue(extensions, OID_BYTES.keyUsage, bitStringFlags);
  // Node lists the extended key usages as `keyUsage`; undefined when the extension is absent.
  const eku = certificate.keyUsage ?? [];
  const profile = keyUsage === KeyUsageFlags.digitalSignature && eku.includes(OID.clientAuth);
  const publicKey = certificate.publicKey;
  const p256 =
    publicKey.asymmetricKeyType === 'ec' && publicKey.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  return {
    serial: certificate.serialNumber.toLowerCase(),
    issuer,
    signed,
    notBefore: certificate.validFromDate.getTime(),
    notAfter: certificate.validToDate.getTime(),
    profile,
    key: p256 ? publicKey : null,
    // A copy: kept in the cache, a view would keep the caller's whole buffer (maybe a shared pool's) alive.
    spki: new Uint8Array(parts.spki),
    serialNumbers: attribute(subject, OID_BYTES.serialNumber),
    commonNames: attribute(subject, OID_BYTES.commonName),
    units: attribute(subject, OID_BYTES.organisationalUnit),
    cardNumberExtension: extensionValue(extensions, OID_BYTES.cardNumber, cardNumberOf),
  };
};

const factsOf = (bureau: X509Certificate, der: Uint8Array): Facts | null => {
  const cacheKey = Buffer.from(der).toString('base64');
  let cache = factsCache.get(bureau);
  const known = cache?.get(cacheKey);
  if (known !== undefined) return known;
  const facts = readFacts(bureau, der);
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

/** A certificate's record (with its revocation) as read for its serial, before a check needs it. */
export interface BureauRecord {
  readonly serial: string;
  readonly record: StoredCertificate | null;
}

/**
 * The read of the record a check of `der` looks up, to send with other statements of the CA's
 * database (see runPending) and hand to the check: null for bytes that are no certificate.
 */
export const bureauRecordPending = async (
  ca: CertificateAuthority,
  der: Uint8Array,
): Promise<Pending<BureauRecord> | null> => {
  const facts = factsOf((await ca.bureau()).certificate, der);
  if (facts === null) return null;
  const read = ca.storedCertificatePending(facts.serial);
  return {
    queries: read.queries,
    answer: (results) => ({ serial: facts.serial, record: read.answer(results) }),
  };
};

/**
 * What both checks share: issued by the bureau CA (signature and name), valid now, recorded by
 * this CA under `profile` with these very bytes (a forged or foreign certificate has no record),
 * not revoked, and a P-256 key with digital signature and client authentication. The record is
 * `read` when it was read beforehand for this serial, else read here.
 */
const checkIssued = async (
  ca: CertificateAuthority,
  der: Uint8Array,
  now: number,
  profile: 'card-bureau' | 'station',
  read?: BureauRecord,
): Promise<BureauCheck<Facts & { readonly key: KeyObject }>> => {
  const bureau = await ca.bureau();
  const facts = factsOf(bureau.certificate, der);
  if (facts === null) return refuse('not-a-certificate');
  if (!facts.issuer) return refuse('wrong-issuer');
  if (!facts.signed) return refuse('signature');
  if (facts.notBefore > now) return refuse('not-yet-valid');
  if (facts.notAfter <= now || bureau.certificate.notAfter.getTime() <= now) return refuse('expired');
  const stored =
    read !== undefined && read.serial === facts.serial
      ? read.record
      : await ca.storedCertificate(facts.serial);
  if (
    stored === null ||
    stored.caId !== BUREAU_CA ||
    !pemBytes(stored.certificatePem).equals(Buffer.from(der))
  ) {
    return refuse('unknown-certificate');
  }
  if (stored.revocation !== null) return refuse('revoked');
  if (stored.profile !== profile) return refuse('profile');
  const { key } = facts;
  if (!facts.profile || key === null) return refuse('profile');
  return { ok: true, value: { ...facts, key } };
};

/**
 * Checks the certificate a reserve card presents for its card authentication key: chain to the
 * bureau CA, validity at `now`, not revoked, the 'card-bureau' profile, and one card number in
 * both the subject and the card number extension. `read`: its record, read beforehand (see
 * bureauRecordPending).
 */
export const verifyBureauCertificate = async (
  ca: CertificateAuthority,
  der: Uint8Array,
  now: number,
  read?: BureauRecord,
): Promise<BureauCheck<BureauCardIdentity>> => {
  const checked = await checkIssued(ca, der, now, 'card-bureau', read);
  if (!checked.ok) return checked;
  const facts = checked.value;
  const serials = facts.serialNumbers;
  const parsed = parseCardNumber(serials[0] ?? '');
  if (serials.length !== 1 || !parsed.ok || facts.cardNumberExtension !== parsed.value)
    return refuse('profile');
  return {
    ok: true,
    value: { cardNumber: parsed.value, key: facts.key, spki: facts.spki, serial: facts.serial },
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
  const facts = checked.value;
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
      key: facts.key,
      spki: facts.spki,
      serial: facts.serial,
      notAfter: facts.notAfter,
    },
  };
};
