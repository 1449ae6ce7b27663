// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import {
  CertificatePolicyExtension,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  X509Certificate,
} from '@peculiar/x509';
import type { CertificateOnCard } from '@reservkort/domain';
import { CardNumberExtension } from '../extensions/card-number.extension.js';
import { registerExtensions } from '../extensions/extension-registry.js';
import { OID } from '../oids.js';

/** What people ask of a certificate: the "which certificates are on the card" of a support case. */
export interface CertificateSummary extends CertificateOnCard {
  readonly extendedKeyUsage: readonly string[];
  readonly hsaId: string | null;
  readonly cardNumber: string | null;
}

const USAGE_NAMES: readonly [KeyUsageFlags, string][] = [
  [KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [KeyUsageFlags.cRLSign, 'cRLSign'],
];

export const summariseCertificate = (input: string | Uint8Array | X509Certificate): CertificateSummary => {
  registerExtensions();
  const cert = input instanceof X509Certificate ? input : new X509Certificate(input as string);
  const usage = cert.getExtension(KeyUsagesExtension)?.usages ?? 0;
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    keyUsage: USAGE_NAMES.filter(([flag]) => (usage & flag) !== 0).map(([, label]) => label),
    extendedKeyUsage: [...(cert.getExtension(ExtendedKeyUsageExtension)?.usages ?? [])].map(String),
    policies: [...(cert.getExtension(CertificatePolicyExtension)?.policies ?? [])],
    hsaId: cert.subjectName.getField(OID.serialNumber)[0] ?? null,
    cardNumber: cert.getExtension(CardNumberExtension)?.cardNumber ?? null,
  };
};
