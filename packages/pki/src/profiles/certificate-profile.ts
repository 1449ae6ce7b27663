// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { id_ce_subjectKeyIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import {
  AuthorityInfoAccessExtension,
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  CertificatePolicyExtension,
  CRLDistributionPointsExtension,
  ExtendedKeyUsageExtension,
  type Extension,
  Extension as GenericExtension,
  type JsonNameParams,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  type X509Certificate,
} from '@peculiar/x509';
import type { CardNumber, HsaId } from '@reservkort/domain';
import {
  derElement,
  derExtensionOf,
  derSubjectAltName,
  type HolderAltName,
  TAG,
} from '../encoding/der-encoding.js';
import { CardNumberExtension } from '../extensions/card-number.extension.js';
import { OID } from '../oids.js';

/** The certificate kinds the CA issues. */
export const PROFILES = [
  'root-ca',
  'issuing-ca',
  'ocsp',
  'card-auth',
  'card-sign',
  'audit-checkpoint',
  'card-bureau',
  'station',
] as const;
export type ProfileName = (typeof PROFILES)[number];

/** The person a card certificate is for; always from the order and the directory, never the CSR. */
export interface Holder {
  readonly hsaId: HsaId;
  readonly givenName: string;
  readonly surname: string;
  /** O: the care provider (vårdgivare), the top of the person's branch in the organisation tree. */
  readonly organisation: string;
  /** OU: the person's own unit (their branch); none, or the care provider itself, gives no OU. */
  readonly unit?: string | null;
  /** The Windows user principal name from the directory (SAN otherName), if it has one. */
  readonly upn?: string | null;
  /** The e-mail address from the directory (SAN rfc822Name), if it has one. */
  readonly email?: string | null;
}

/** What a certificate is built from, filled in by the profile rules one after another. */
export interface CertificateTemplate {
  subject: JsonNameParams;
  extensions: Extension[];
  notBefore: Date;
  notAfter: Date;
}

/** Everything a rule may need to know; rules only read it. */
export interface ProfileContext {
  readonly profile: ProfileName;
  readonly subjectPublicKey: CryptoKey;
  /**
   * The same key's SubjectPublicKeyInfo when the caller holds it already, as the certificate will
   * carry it (a CSR's): it is not exported from the key and parsed again.
   */
  readonly subjectPublicKeyInfo?: SubjectPublicKeyInfo;
  readonly issuer: X509Certificate | null;
  readonly holder: Holder | null;
  readonly cardNumber: CardNumber | null;
  readonly policyOid: string | null;
  /** Where relying parties fetch the issuer certificate, its CRL, and ask OCSP (null: no OCSP for that CA). */
  readonly urls: { readonly caIssuers: string; readonly crl: string; readonly ocsp: string | null } | null;
  readonly crypto: Crypto;
}

/** One issuance-policy rule: it adjusts the template (step-ca's SignOption, in our words). */
export type ProfileRule = (template: CertificateTemplate, ctx: ProfileContext) => Promise<void> | void;

const printable = (value: string) => [{ printableString: value }];
const utf8 = (value: string) => [{ utf8String: value }];

/**
 * Card holders: country, the care provider as O and the person's unit as OU (one rule for reserve
 * and administrators' cards), name, and the HSA-id in serialNumber (2.5.4.5).
 */
export const holderSubject: ProfileRule = (template, { holder }) => {
  if (holder === null) return;
  const unit = holder.unit != null && holder.unit !== holder.organisation ? holder.unit : null;
  template.subject = [
    { [OID.country]: printable('SE') },
    { [OID.organisation]: utf8(holder.organisation) },
    ...(unit === null ? [] : [{ [OID.organisationalUnit]: utf8(unit) }]),
    { [OID.commonName]: utf8(`${holder.givenName} ${holder.surname}`) },
    { [OID.givenName]: utf8(holder.givenName) },
    { [OID.surname]: utf8(holder.surname) },
    { [OID.serialNumber]: printable(holder.hsaId) },
  ];
};

/**
 * The SHA-1 of the key's bits (RFC 5280 §4.2.1.2, method 1), as the library makes it, but hashed
 * at once: WebCrypto's digest goes through the thread pool, a round trip longer than the hash.
 */
export const subjectKeyIdentifier: ProfileRule = async (template, ctx) => {
  const info =
    ctx.subjectPublicKeyInfo ??
    AsnConvert.parse(await ctx.crypto.subtle.exportKey('spki', ctx.subjectPublicKey), SubjectPublicKeyInfo);
  const keyBits = info.subjectPublicKey;
  const keyId = createHash('sha1').update(new Uint8Array(keyBits)).digest();
  // Made from its bytes: the library's constructor encodes the extension, then parses it back.
  template.extensions.push(
    new SubjectKeyIdentifierExtension(
      derExtensionOf(id_ce_subjectKeyIdentifier, false, derElement(TAG.octetString, keyId)),
    ),
  );
};

/**
 * The extensions that depend only on the issuer, made once per issuer certificate (or URL set) and
 * shared by the certificates it issues: an extension is its encoded bytes, never changed.
 */
const issuerKeyIds = new WeakMap<X509Certificate, Promise<Extension>>();
const revocationExtensions = new Map<string, readonly Extension[]>();

export const authorityKeyIdentifier: ProfileRule = async (template, ctx) => {
  const issuer = ctx.issuer;
  if (issuer === null) return;
  let extension = issuerKeyIds.get(issuer);
  if (extension === undefined) {
    extension = AuthorityKeyIdentifierExtension.create(issuer, false, ctx.crypto);
    issuerKeyIds.set(issuer, extension);
    extension.catch(() => issuerKeyIds.delete(issuer));
  }
  template.extensions.push(await extension);
};

export const caConstraints =
  (pathLength?: number): ProfileRule =>
  (template) => {
    template.extensions.push(new BasicConstraintsExtension(true, pathLength, true));
    template.extensions.push(new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true));
  };

/**
 * Extensions that say the same in every certificate of a kind, made once: like the issuer's, an
 * extension is its encoded bytes, never changed.
 */
const END_ENTITY = new BasicConstraintsExtension(false, undefined, true);
const DIGITAL_SIGNATURE = new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true);
const RSA_AUTHENTICATION = new KeyUsagesExtension(
  KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment,
  true,
);
const NON_REPUDIATION = new KeyUsagesExtension(KeyUsageFlags.nonRepudiation, true);
const CLIENT_AUTH = new ExtendedKeyUsageExtension([OID.clientAuth]);
const CLIENT_AUTH_LOGON = new ExtendedKeyUsageExtension([OID.clientAuth, OID.smartcardLogon]);
const policies = new Map<string, Extension>();

export const endEntity: ProfileRule = (template) => {
  template.extensions.push(END_ENTITY);
};

/** Whether a public key is an RSA key (the CSR check reads rsaEncryption as RSASSA-PKCS1-v1_5). */
export const isRsaKey = (key: CryptoKey): boolean => key.algorithm.name.startsWith('RSA');

/**
 * The authentication and the signature certificate get distinct key usages (SPEC §3), and the
 * authentication certificate's follow its key type: keyEncipherment only for RSA, which can
 * encipher (TLS RSA key exchange, Windows logon); RFC 5480 §3 as updated by RFC 8813 forbids it on
 * EC keys. With a UPN, the authentication certificate is also for Windows smart-card logon.
 */
export const cardKeyUsage: ProfileRule = (template, { profile, subjectPublicKey, holder }) => {
  if (profile === 'card-auth') {
    const logon = holder?.upn != null;
    template.extensions.push(
      isRsaKey(subjectPublicKey) ? RSA_AUTHENTICATION : DIGITAL_SIGNATURE,
      logon ? CLIENT_AUTH_LOGON : CLIENT_AUTH,
    );
  } else {
    template.extensions.push(NON_REPUDIATION);
  }
};

/**
 * The holder's directory names as subjectAltName, present exactly when the directory has them:
 * the authentication certificate carries the UPN (Windows logon) and the e-mail address; the
 * signature certificate the e-mail address only, as S/MIME signing expects it there (RFC 8550).
 */
export const holderAltNames: ProfileRule = (template, { profile, holder }) => {
  if (holder === null) return;
  const names: HolderAltName[] = [];
  if (profile === 'card-auth' && holder.upn != null) names.push({ type: 'upn', value: holder.upn });
  if (holder.email != null) names.push({ type: 'email', value: holder.email });
  // The subject is never empty, so the SAN is not critical (RFC 5280 §4.2.1.6).
  // Made from its bytes: the library's generator encodes and parses each name several times over.
  if (names.length > 0)
    template.extensions.push(new SubjectAlternativeNameExtension(derSubjectAltName(names, false)));
};

/** The assurance level lives in a policy OID, never in a name. */
export const assurancePolicy: ProfileRule = (template, { policyOid }) => {
  if (policyOid === null) return;
  let extension = policies.get(policyOid);
  if (extension === undefined) {
    extension = new CertificatePolicyExtension([policyOid]);
    // One policy per assurance level: the map stays small (and is bounded all the same).
    if (policies.size >= 100) policies.clear();
    policies.set(policyOid, extension);
  }
  template.extensions.push(extension);
};

export const cardNumber: ProfileRule = (template, ctx) => {
  if (ctx.cardNumber !== null) template.extensions.push(new CardNumberExtension(ctx.cardNumber));
};

export const revocationPointers: ProfileRule = (template, { urls }) => {
  if (urls === null) return;
  const key = JSON.stringify([urls.caIssuers, urls.crl, urls.ocsp]);
  let extensions = revocationExtensions.get(key);
  if (extensions === undefined) {
    extensions = [
      new AuthorityInfoAccessExtension(
        urls.ocsp === null ? { caIssuers: urls.caIssuers } : { ocsp: urls.ocsp, caIssuers: urls.caIssuers },
      ),
      new CRLDistributionPointsExtension([urls.crl]),
    ];
    // A few CAs, each with one set of URLs: the map stays small (and is bounded all the same).
    if (revocationExtensions.size >= 100) revocationExtensions.clear();
    revocationExtensions.set(key, extensions);
  }
  template.extensions.push(...extensions);
};

/** A delegated OCSP responder: signs responses only, and is itself not checked for revocation. */
export const ocspSigner: ProfileRule = (template) => {
  template.extensions.push(
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
    new ExtendedKeyUsageExtension([OID.ocspSigning], true),
    // id-pkix-ocsp-nocheck carries an ASN.1 NULL.
    new GenericExtension(OID.ocspNoCheck, false, new Uint8Array([0x05, 0x00])),
  );
};

/**
 * The audit checkpoint signer: signs checkpoint notes (CMS) and nothing else. Document signing, not
 * e-mail protection, so it is not an S/MIME certificate either (OpenSSL needs `-purpose any`).
 */
export const auditCheckpointSigner: ProfileRule = (template) => {
  template.extensions.push(
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
    new ExtendedKeyUsageExtension([OID.documentSigning]),
  );
};

/**
 * A card bureau key (on a blank reserve card) and a card station's key authenticate a device, not a
 * person: digital signatures for client authentication, nothing else, and no person policy.
 */
export const deviceAuthentication: ProfileRule = (template) => {
  template.extensions.push(
    new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
    new ExtendedKeyUsageExtension([OID.clientAuth]),
  );
};

/** Never outlive the issuer: a certificate valid beyond its CA would fail path validation anyway. */
export const withinIssuer: ProfileRule = (template, { issuer }) => {
  if (issuer === null) return;
  if (template.notAfter > issuer.notAfter) template.notAfter = issuer.notAfter;
  if (template.notBefore < issuer.notBefore) template.notBefore = issuer.notBefore;
};

const CARD_RULES: readonly ProfileRule[] = [
  holderSubject,
  endEntity,
  cardKeyUsage,
  holderAltNames,
  assurancePolicy,
  cardNumber,
  revocationPointers,
  subjectKeyIdentifier,
  authorityKeyIdentifier,
  withinIssuer,
];

export const PROFILE_RULES: { readonly [P in ProfileName]: readonly ProfileRule[] } = {
  'root-ca': [caConstraints(), subjectKeyIdentifier],
  'issuing-ca': [
    caConstraints(0),
    subjectKeyIdentifier,
    authorityKeyIdentifier,
    assurancePolicy,
    // The root's CRL and OCSP: nginx `ssl_ocsp on` and `-crl_check_all` check the CA too.
    revocationPointers,
    withinIssuer,
  ],
  ocsp: [endEntity, ocspSigner, subjectKeyIdentifier, authorityKeyIdentifier, withinIssuer],
  'card-auth': CARD_RULES,
  'card-sign': CARD_RULES,
  'audit-checkpoint': [
    endEntity,
    auditCheckpointSigner,
    subjectKeyIdentifier,
    authorityKeyIdentifier,
    withinIssuer,
  ],
  // The subjects of these two are set by the CA from the card number and the station's id.
  'card-bureau': [
    endEntity,
    deviceAuthentication,
    cardNumber,
    revocationPointers,
    subjectKeyIdentifier,
    authorityKeyIdentifier,
    withinIssuer,
  ],
  station: [
    endEntity,
    deviceAuthentication,
    revocationPointers,
    subjectKeyIdentifier,
    authorityKeyIdentifier,
    withinIssuer,
  ],
};

/** Builds the template of a certificate by running its profile's rules in order. */
export const buildTemplate = async (
  base: CertificateTemplate,
  ctx: ProfileContext,
): Promise<CertificateTemplate> => {
  const template: CertificateTemplate = { ...base, extensions: [...base.extensions] };
  for (const rule of PROFILE_RULES[ctx.profile]) await rule(template, ctx);
  return template;
};
