// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
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
  SubjectKeyIdentifierExtension,
  type X509Certificate,
} from '@peculiar/x509';
import type { CardNumber, HsaId } from '@reservkort/domain';
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
  'station',
] as const;
export type ProfileName = (typeof PROFILES)[number];

/** The person a card certificate is for; always from the order and the directory, never the CSR. */
export interface Holder {
  readonly hsaId: HsaId;
  readonly givenName: string;
  readonly surname: string;
  readonly organisation: string;
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
  readonly issuer: X509Certificate | null;
  readonly holder: Holder | null;
  readonly cardNumber: CardNumber | null;
  readonly policyOid: string | null;
  /** Where relying parties fetch the issuer certificate, its CRL, and ask OCSP. */
  readonly urls: { readonly caIssuers: string; readonly crl: string; readonly ocsp: string } | null;
  readonly crypto: Crypto;
  /** The card station a 'station' certificate is for. */
  readonly station?: { readonly id: string; readonly branchId: string } | null;
}

/** One issuance-policy rule: it adjusts the template (step-ca's SignOption, in our words). */
export type ProfileRule = (template: CertificateTemplate, ctx: ProfileContext) => Promise<void> | void;

const printable = (value: string) => [{ printableString: value }];
const utf8 = (value: string) => [{ utf8String: value }];

/** Card holders: country, organisation, name, and the HSA-id in serialNumber (2.5.4.5). */
export const holderSubject: ProfileRule = (template, { holder }) => {
  if (holder === null) return;
  template.subject = [
    { [OID.country]: printable('SE') },
    { [OID.organisation]: utf8(holder.organisation) },
    { [OID.commonName]: utf8(`${holder.givenName} ${holder.surname}`) },
    { [OID.givenName]: utf8(holder.givenName) },
    { [OID.surname]: utf8(holder.surname) },
    { [OID.serialNumber]: printable(holder.hsaId) },
  ];
};

export const subjectKeyIdentifier: ProfileRule = async (template, ctx) => {
  template.extensions.push(
    await SubjectKeyIdentifierExtension.create(ctx.subjectPublicKey, false, ctx.crypto),
  );
};

export const authorityKeyIdentifier: ProfileRule = async (template, ctx) => {
  if (ctx.issuer === null) return;
  template.extensions.push(await AuthorityKeyIdentifierExtension.create(ctx.issuer, false, ctx.crypto));
};

export const caConstraints =
  (pathLength?: number): ProfileRule =>
  (template) => {
    template.extensions.push(new BasicConstraintsExtension(true, pathLength, true));
    template.extensions.push(new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true));
  };

export const endEntity: ProfileRule = (template) => {
  template.extensions.push(new BasicConstraintsExtension(false, undefined, true));
};

/** The authentication and the signature certificate get distinct key usages (SPEC §3). */
export const cardKeyUsage: ProfileRule = (template, { profile }) => {
  if (profile === 'card-auth') {
    template.extensions.push(
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
      new ExtendedKeyUsageExtension([OID.clientAuth]),
    );
  } else {
    template.extensions.push(new KeyUsagesExtension(KeyUsageFlags.nonRepudiation, true));
  }
};

/** The assurance level lives in a policy OID, never in a name. */
export const assurancePolicy: ProfileRule = (template, { policyOid }) => {
  if (policyOid !== null) template.extensions.push(new CertificatePolicyExtension([policyOid]));
};

export const cardNumber: ProfileRule = (template, ctx) => {
  if (ctx.cardNumber !== null) template.extensions.push(new CardNumberExtension(ctx.cardNumber));
};

export const revocationPointers: ProfileRule = (template, { urls }) => {
  if (urls === null) return;
  template.extensions.push(
    new AuthorityInfoAccessExtension({ ocsp: urls.ocsp, caIssuers: urls.caIssuers }),
    new CRLDistributionPointsExtension([urls.crl]),
  );
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
 * A card station: CN is its id, OU its branch. It authenticates its agent's statements (clientAuth,
 * digitalSignature) and carries no person policy, so it can never pass for a person's card.
 */
export const stationIdentity: ProfileRule = (template, { station }) => {
  if (station === null || station === undefined) return;
  template.subject = [
    { [OID.country]: printable('SE') },
    { [OID.organisationalUnit]: utf8(station.branchId) },
    { [OID.commonName]: utf8(station.id) },
  ];
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
  station: [
    stationIdentity,
    endEntity,
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
