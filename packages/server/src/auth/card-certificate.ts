import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
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
import { certificateStatus, type Database } from '@reservkort/store';
import type { Kysely } from 'kysely';
import { ApiError } from '../http/api-error.js';

const crypto = webcrypto as unknown as Crypto;

/** What a verified card certificate says about its holder and card. */
export interface VerifiedCard {
  readonly certificate: X509Certificate;
  readonly serial: string;
  readonly hsaId: HsaId;
  readonly cardNumber: CardNumber;
  /** From the policy OID of the issuing CA, never from a name. */
  readonly assuranceLevel: AssuranceLevel;
  readonly issuer: IssuingCaId;
}

const refuse = (reason: string): ApiError => new ApiError('LOGIN_FAILED', { reason });

/**
 * Checks a card certificate the way a relying party must: issued and signed by one of our issuing
 * CAs, within validity, not revoked, carrying the CA's policy, an HSA-id and a card number, with
 * the key usage the purpose needs.
 */
export const verifyCardCertificate = async (
  der: Uint8Array,
  purpose: 'auth' | 'sign',
  deps: { ca: CertificateAuthority; db: Kysely<Database>; now: number },
  refusal: (reason: string) => ApiError = refuse,
): Promise<VerifiedCard> => {
  registerExtensions();
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(new Uint8Array(der) as Uint8Array<ArrayBuffer>);
  } catch {
    throw refusal('certificate unreadable');
  }
  const issuerId = (['loa3', 'loa2'] as const).find(
    (id) => deps.ca.ca(id).certificate.subject === certificate.issuer,
  );
  if (issuerId === undefined) throw refusal('unknown issuer');
  const issuer = deps.ca.ca(issuerId);
  const signed = await certificate.verify(
    { publicKey: issuer.certificate.publicKey, signatureOnly: true },
    crypto,
  );
  if (!signed) throw refusal('certificate signature');
  if (deps.now < certificate.notBefore.getTime() || deps.now > certificate.notAfter.getTime())
    throw refusal('expired');
  const serial = certificate.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');
  const status = await certificateStatus(deps.db, serial);
  if (status === null) throw refusal('not issued here');
  if (status.revocation !== null) throw refusal('revoked');
  const policies = certificate.getExtension(CertificatePolicyExtension)?.policies ?? [];
  if (issuer.policyOid === null || !policies.includes(issuer.policyOid) || issuer.assuranceLevel === null) {
    throw refusal('policy');
  }
  const usage = certificate.getExtension(KeyUsagesExtension)?.usages ?? 0;
  const needed = purpose === 'auth' ? KeyUsageFlags.digitalSignature : KeyUsageFlags.nonRepudiation;
  if ((usage & needed) === 0) throw refusal('key usage');
  const hsaId = parseHsaId(certificate.subjectName.getField('2.5.4.5')[0] ?? '');
  const cardNumber = parseCardNumber(certificate.getExtension(CardNumberExtension)?.cardNumber ?? '');
  if (!hsaId.ok || !cardNumber.ok) throw refusal('holder');
  return {
    certificate,
    serial,
    hsaId: hsaId.value,
    cardNumber: cardNumber.value,
    assuranceLevel: issuer.assuranceLevel,
    issuer: issuerId,
  };
};

/** Verifies a card's signature (ECDSA as raw r‖s, or RSA PKCS#1 v1.5) over `data` with the certificate's key. */
export const verifyCardSignature = async (
  certificate: X509Certificate,
  data: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> => {
  try {
    const key = await certificate.publicKey.export(crypto);
    const algorithm =
      key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5' };
    return await crypto.subtle.verify(algorithm, key, new Uint8Array(signature), new Uint8Array(data));
  } catch {
    return false;
  }
};
