// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  type AlgorithmIdentifier,
  Extension as AsnExtension,
  Name as AsnName,
  Certificate,
  Extensions,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { type Extension, type Name, PublicKey, X509Certificate } from '@peculiar/x509';
import {
  derBitString,
  derElement,
  derExtension,
  derName,
  derSubjectPublicKeyInfo,
  derTime,
  TAG,
} from '../encoding/der-encoding.js';
import type { CaKey, KeySpec } from '../keys/key-spec.js';
import { signatureAlgorithmIdentifier, signForX509 } from '../keys/x509-signature.js';

/** What a certificate says, its extensions already encoded (a profile's template, filled in). */
export interface CertificateContent {
  /** Positive hex, as `serialFrom` makes it. */
  readonly serial: string;
  /** The library's Name, or the structure `nameStructure` made of a profile's JSON name. */
  readonly subject: Name | AsnName;
  readonly issuer: Name;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly Extension[];
  /** The library's PublicKey, or the structure a CSR was parsed into. */
  readonly publicKey: PublicKey | SubjectPublicKeyInfo;
}

/** A part of the certificate twice: as the structure the X509Certificate reads, and as its DER. */
interface Encoded<T> {
  readonly asn: T;
  readonly der: Uint8Array;
}

/**
 * An extension and a name are never changed once made, so one made for an issuer (its key
 * identifier, revocation pointers, its name) is converted and encoded once for all it issues.
 */
const encodedExtensions = new WeakMap<Extension, Encoded<AsnExtension>>();
const encodedNames = new WeakMap<Name, Encoded<AsnName>>();

const encodedExtension = (extension: Extension): Encoded<AsnExtension> => {
  let encoded = encodedExtensions.get(extension);
  if (encoded === undefined) {
    const asn = new AsnExtension({
      extnID: extension.type,
      critical: extension.critical,
      extnValue: new OctetString(extension.value),
    });
    encoded = { asn, der: derExtension(extension) };
    encodedExtensions.set(extension, encoded);
  }
  return encoded;
};

const encodedName = (name: Name | AsnName): Encoded<AsnName> => {
  if (name instanceof AsnName) return { asn: name, der: derName(name) };
  let encoded = encodedNames.get(name);
  if (encoded === undefined) {
    const der = new Uint8Array(name.toArrayBuffer());
    encoded = { asn: AsnConvert.parse(der, AsnName), der };
    encodedNames.set(name, encoded);
  }
  return encoded;
};

const encodedPublicKey = (key: PublicKey | SubjectPublicKeyInfo): Encoded<SubjectPublicKeyInfo> => {
  if (!(key instanceof PublicKey)) return { asn: key, der: derSubjectPublicKeyInfo(key) };
  const der = new Uint8Array(key.rawData);
  return { asn: AsnConvert.parse(der, SubjectPublicKeyInfo), der };
};

/** The signatureAlgorithm field of each key spec, encoded once. */
const encodedAlgorithms = new Map<KeySpec, Encoded<AlgorithmIdentifier>>();
const encodedAlgorithm = (spec: KeySpec): Encoded<AlgorithmIdentifier> => {
  let encoded = encodedAlgorithms.get(spec);
  if (encoded === undefined) {
    const asn = signatureAlgorithmIdentifier(spec);
    encoded = { asn, der: new Uint8Array(AsnConvert.serialize(asn)) };
    encodedAlgorithms.set(spec, encoded);
  }
  return encoded;
};

/**
 * A certificate signed here: the structure it was made from, and the bytes encoded while signing
 * it, so they are not encoded a second time from the structure when first asked for.
 */
class SignedX509Certificate extends X509Certificate {
  readonly #der: ArrayBuffer;

  constructor(asn: Certificate, der: ArrayBuffer) {
    super(asn);
    this.#der = der;
  }

  override get rawData(): ArrayBuffer {
    return this.#der;
  }
}

/** A serial's INTEGER octets: positive, so a leading zero where the first bit is set. */
const serialOctets = (serial: string): Uint8Array => {
  const bytes = Buffer.from(serial.length % 2 === 0 ? serial : `0${serial}`, 'hex');
  return new Uint8Array((bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
};

/** [0] EXPLICIT Version v3. */
const VERSION_3 = Uint8Array.of(0xa0, 0x03, TAG.integer, 0x01, Version.v3);
/** [3] EXPLICIT, around the extensions. */
const EXTENSIONS_TAG = 0xa3;

/**
 * The certificate's structure (what the X509Certificate reads) and its TBS bytes, encoded from
 * the same parts: the schema's encoder writes the same bytes from the structure (the tests compare
 * them), at many times the cost of the signature.
 */
export const tbsCertificateOf = (
  content: CertificateContent,
  spec: KeySpec,
): { tbsCertificate: TBSCertificate; tbs: Uint8Array; algorithm: Encoded<AlgorithmIdentifier> } => {
  const algorithm = encodedAlgorithm(spec);
  const issuer = encodedName(content.issuer);
  const subject = encodedName(content.subject);
  const extensions = content.extensions.map(encodedExtension);
  const serial = serialOctets(content.serial);
  const publicKey = encodedPublicKey(content.publicKey);
  const tbsCertificate = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array(serial).buffer,
    signature: algorithm.asn,
    issuer: issuer.asn,
    validity: new Validity({ notBefore: content.notBefore, notAfter: content.notAfter }),
    subject: subject.asn,
    subjectPublicKeyInfo: publicKey.asn,
    extensions: new Extensions(extensions.map((e) => e.asn)),
  });
  const tbs = derElement(
    TAG.sequence,
    VERSION_3,
    derElement(TAG.integer, serial),
    algorithm.der,
    issuer.der,
    derElement(TAG.sequence, derTime(content.notBefore), derTime(content.notAfter)),
    subject.der,
    publicKey.der,
    derElement(EXTENSIONS_TAG, derElement(TAG.sequence, ...extensions.map((e) => e.der))),
  );
  return { tbsCertificate, tbs, algorithm };
};

/**
 * Signs a v3 certificate with the issuer's key: the same structure the library's generator makes,
 * without re-parsing every part and, for a key Node holds, without WebCrypto's thread-pool round trip.
 */
export const signCertificate = async (
  content: CertificateContent,
  signer: Pick<CaKey, 'privateKey' | 'spec' | 'crypto' | 'nodeKey'>,
): Promise<X509Certificate> => {
  const { tbsCertificate, tbs, algorithm } = tbsCertificateOf(content, signer.spec);
  const signatureValue = await signForX509(signer, tbs);
  const certificate = new Certificate({
    tbsCertificate,
    signatureAlgorithm: algorithm.asn,
    signatureValue,
  });
  certificate.tbsCertificateRaw = tbs.buffer as ArrayBuffer;
  const der = derElement(TAG.sequence, tbs, algorithm.der, derBitString(new Uint8Array(signatureValue)));
  return new SignedX509Certificate(certificate, der.buffer as ArrayBuffer);
};
