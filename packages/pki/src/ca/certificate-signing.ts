// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  Extension as AsnExtension,
  Name as AsnName,
  Certificate,
  Extensions,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { type Extension, type Name, type PublicKey, X509Certificate } from '@peculiar/x509';
import type { CaKey } from '../keys/key-spec.js';
import { signatureAlgorithmIdentifier, signForX509 } from '../keys/x509-signature.js';

/** What a certificate says, its extensions already encoded (a profile's template, filled in). */
export interface CertificateContent {
  /** Positive hex, as `serialFrom` makes it. */
  readonly serial: string;
  readonly subject: Name;
  readonly issuer: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly Extension[];
  readonly publicKey: PublicKey;
}

/**
 * The encoded forms the library's generator makes anew for every certificate by parsing the bytes
 * it was given; an extension and a name are never changed once made, so one made for an issuer
 * (its key identifier, revocation pointers, its name) is converted once for all it issues.
 */
const asnExtensions = new WeakMap<Extension, AsnExtension>();
const asnNames = new WeakMap<Name, AsnName>();

const asnExtension = (extension: Extension): AsnExtension => {
  let asn = asnExtensions.get(extension);
  if (asn === undefined) {
    asn = new AsnExtension({
      extnID: extension.type,
      critical: extension.critical,
      extnValue: new OctetString(extension.value),
    });
    asnExtensions.set(extension, asn);
  }
  return asn;
};

const asnName = (name: Name): AsnName => {
  let asn = asnNames.get(name);
  if (asn === undefined) {
    asn = AsnConvert.parse(name.toArrayBuffer(), AsnName);
    asnNames.set(name, asn);
  }
  return asn;
};

/** A serial's INTEGER octets: positive, so a leading zero where the first bit is set. */
const serialOctets = (serial: string): ArrayBuffer => {
  const bytes = Buffer.from(serial.length % 2 === 0 ? serial : `0${serial}`, 'hex');
  const octets = (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return new Uint8Array(octets).buffer;
};

/**
 * Signs a v3 certificate with the issuer's key: the same structure the library's generator makes,
 * without re-parsing every part and, for a key Node holds, without WebCrypto's thread-pool round trip.
 */
export const signCertificate = async (
  content: CertificateContent,
  signer: Pick<CaKey, 'privateKey' | 'spec' | 'crypto' | 'nodeKey'>,
): Promise<X509Certificate> => {
  const signatureAlgorithm = signatureAlgorithmIdentifier(signer.spec);
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialOctets(content.serial),
    signature: signatureAlgorithm,
    issuer: asnName(content.issuer),
    validity: new Validity({ notBefore: content.notBefore, notAfter: content.notAfter }),
    subject: asnName(content.subject),
    subjectPublicKeyInfo: AsnConvert.parse(content.publicKey.rawData, SubjectPublicKeyInfo),
    extensions: new Extensions(content.extensions.map(asnExtension)),
  });
  const tbs = AsnConvert.serialize(tbsCertificate);
  const certificate = new Certificate({
    tbsCertificate,
    signatureAlgorithm,
    signatureValue: await signForX509(signer, tbs),
  });
  // Made from the structure, not from its bytes: parsing them back would cost more than all the
  // rest; the bytes are encoded once, when first asked for.
  return new X509Certificate(certificate);
};
