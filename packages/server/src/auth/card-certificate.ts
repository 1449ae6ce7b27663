import 'reflect-metadata';
import { createPublicKey, type KeyObject, verify, webcrypto } from 'node:crypto';
import {
  CertificatePolicyExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate,
} from '@peculiar/x509';
import type { AssuranceLevel, CardNumber, HsaId } from '@reservkort/domain';
import { parseCardNumber, parseHsaId } from '@reservkort/domain';
import {
  CardNumberExtension,
  type CertificateAuthority,
  type IssuingCaId,
  registerExtensions,
} from '@reservkort/pki';
import { type CertificateStatus, certificateStatus, type Database } from '@reservkort/store';
import type { Kysely } from 'kysely';
import { ApiError } from '../http/api-error.js';

const crypto = webcrypto as unknown as Crypto;

/** What a verified card certificate says about its holder and card. */
export interface VerifiedCard {
  readonly certificate: X509Certificate;
  /** The certificate's public key, for `verifyCardSignature`. */
  readonly publicKey: KeyObject;
  readonly serial: string;
  readonly hsaId: HsaId;
  readonly cardNumber: CardNumber;
  /** From the policy OID of the issuing CA, never from a name. */
  readonly assuranceLevel: AssuranceLevel;
  readonly issuer: IssuingCaId;
}

const refuse = (reason: string): ApiError => new ApiError('LOGIN_FAILED', { reason });

/**
 * What a certificate's bytes say, whenever they are checked: its issuer and that issuer's
 * signature, validity dates, policy, key usage and holder. Only the time and the revocation status
 * change, so those are checked at every use.
 */
interface CertificateFacts {
  readonly certificate: X509Certificate;
  readonly issuerId: IssuingCaId | undefined;
  readonly signed: boolean;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly serial: string;
  readonly policy: boolean;
  readonly usage: number;
  readonly hsaId: ReturnType<typeof parseHsaId>;
  readonly cardNumber: ReturnType<typeof parseCardNumber>;
  readonly publicKey: KeyObject | null;
}

/** The facts of certificates seen before, per CA and by their bytes (logins and SIGNERA reuse them). */
const factsCache = new WeakMap<CertificateAuthority, Map<string, CertificateFacts>>();
const FACTS_MAX = 2000;

const readFacts = async (ca: CertificateAuthority, der: Uint8Array): Promise<CertificateFacts | null> => {
  registerExtensions();
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(new Uint8Array(der) as Uint8Array<ArrayBuffer>);
  } catch {
    return null;
  }
  const issuerId = (['loa3', 'loa2'] as const).find(
    (id) => ca.ca(id).certificate.subject === certificate.issuer,
  );
  const issuer = issuerId === undefined ? null : ca.ca(issuerId);
  const signed =
    issuer !== null &&
    (await certificate.verify({ publicKey: issuer.certificate.publicKey, signatureOnly: true }, crypto));
  const policies = certificate.getExtension(CertificatePolicyExtension)?.policies ?? [];
  let publicKey: KeyObject | null = null;
  try {
    publicKey = createPublicKey({
      key: Buffer.from(certificate.publicKey.rawData),
      format: 'der',
      type: 'spki',
    });
  } catch {
    publicKey = null;
  }
  return {
    certificate,
    issuerId,
    signed,
    notBefore: certificate.notBefore.getTime(),
    notAfter: certificate.notAfter.getTime(),
    serial: certificate.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
    policy:
      issuer !== null &&
      issuer.policyOid !== null &&
      policies.includes(issuer.policyOid) &&
      issuer.assuranceLevel !== null,
    usage: certificate.getExtension(KeyUsagesExtension)?.usages ?? 0,
    hsaId: parseHsaId(certificate.subjectName.getField('2.5.4.5')[0] ?? ''),
    cardNumber: parseCardNumber(certificate.getExtension(CardNumberExtension)?.cardNumber ?? ''),
    publicKey,
  };
};

const factsOf = async (ca: CertificateAuthority, der: Uint8Array): Promise<CertificateFacts | null> => {
  const key = Buffer.from(der).toString('base64');
  let cache = factsCache.get(ca);
  const known = cache?.get(key);
  if (known !== undefined) return known;
  const facts = await readFacts(ca, der);
  if (facts === null) return null;
  if (cache === undefined) {
    cache = new Map();
    factsCache.set(ca, cache);
  }
  // Oldest first out: a full map holds mostly certificates of sessions long ended.
  if (cache.size >= FACTS_MAX) cache.delete(cache.keys().next().value ?? '');
  cache.set(key, facts);
  return facts;
};

/** What a card certificate claims before it is checked, if it can be read: to read what its checks need. */
export interface CardCertificateClaims {
  readonly serial: string;
  readonly hsaId: HsaId | null;
}

/**
 * The serial and holder a certificate names, unchecked: for reading its status (and what the caller
 * needs of the holder) together with the request's other statements. Null if it cannot be read.
 */
export const cardCertificateClaims = async (
  ca: CertificateAuthority,
  der: Uint8Array,
): Promise<CardCertificateClaims | null> => {
  const facts = await factsOf(ca, der);
  return facts === null ? null : { serial: facts.serial, hsaId: facts.hsaId.ok ? facts.hsaId.value : null };
};

/**
 * Checks a card certificate the way a relying party must: issued and signed by one of our issuing
 * CAs, within validity, not revoked, carrying the CA's policy, an HSA-id and a card number, with
 * the key usage the purpose needs. What the bytes say is read once per process; validity and the
 * revocation status are checked at every call. `deps.status`, when given, is the status of the
 * serial `cardCertificateClaims` named, read by the caller in this request.
 */
export const verifyCardCertificate = async (
  der: Uint8Array,
  purpose: 'auth' | 'sign',
  deps: {
    readonly ca: CertificateAuthority;
    readonly db: Kysely<Database>;
    readonly now: number;
    readonly status?: CertificateStatus | null;
  },
  refusal: (reason: string) => ApiError = refuse,
): Promise<VerifiedCard> => {
  const facts = await factsOf(deps.ca, der);
  if (facts === null) throw refusal('certificate unreadable');
  if (facts.issuerId === undefined) throw refusal('unknown issuer');
  const issuer = deps.ca.ca(facts.issuerId);
  if (!facts.signed) throw refusal('certificate signature');
  if (deps.now < facts.notBefore || deps.now > facts.notAfter) throw refusal('expired');
  const status = deps.status === undefined ? await certificateStatus(deps.db, facts.serial) : deps.status;
  if (status === null) throw refusal('not issued here');
  if (status.revocation !== null) throw refusal('revoked');
  if (!facts.policy || issuer.assuranceLevel === null) throw refusal('policy');
  const needed = purpose === 'auth' ? KeyUsageFlags.digitalSignature : KeyUsageFlags.nonRepudiation;
  if ((facts.usage & needed) === 0) throw refusal('key usage');
  if (!facts.hsaId.ok || !facts.cardNumber.ok) throw refusal('holder');
  if (facts.publicKey === null) throw refusal('certificate unreadable');
  return {
    certificate: facts.certificate,
    publicKey: facts.publicKey,
    serial: facts.serial,
    hsaId: facts.hsaId.value,
    cardNumber: facts.cardNumber.value,
    assuranceLevel: issuer.assuranceLevel,
    issuer: facts.issuerId,
  };
};

/** The public key of a certificate as stored (PEM), for `verifyCardSignature`; null if unreadable. */
export const publicKeyOfPem = (pem: string): KeyObject | null => {
  try {
    return createPublicKey(pem);
  } catch {
    return null;
  }
};

/**
 * Verifies a card's signature (ECDSA as raw r‖s, or RSA PKCS#1 v1.5, both over SHA-256) over `data`
 * with the certificate's key.
 */
export const verifyCardSignature = (
  key: KeyObject | null,
  data: Uint8Array,
  signature: Uint8Array,
): boolean => {
  if (key === null) return false;
  try {
    return key.asymmetricKeyType === 'ec'
      ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
      : key.asymmetricKeyType === 'rsa' && verify('sha256', data, key, signature);
  } catch {
    return false;
  }
};
