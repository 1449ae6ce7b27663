/**
 * Reads the few DER elements a relying party needs from a certificate it sees once (a reserve
 * card's bureau certificate at its handover): the tag and where each element's contents lie, no
 * more. Parsing a whole certificate with the ASN.1 schema costs milliseconds in code that runs too
 * rarely to be optimised, where the checks that need it read two extensions; Node's own
 * certificate parser does the rest. Definite lengths and one-octet tags only: anything else is
 * not DER a CA of ours writes, and is refused. Tags are the DER encoder's (`TAG`).
 */
import { derOid, TAG } from './der-encoding.js';

export class DerError extends Error {
  constructor(message: string) {
    super(`Not DER: ${message}`);
    this.name = 'DerError';
  }
}

/** One element: its tag octet at `offset`, and its contents at `start` up to (not including) `end`. */
export interface DerElement {
  readonly tag: number;
  readonly offset: number;
  readonly start: number;
  readonly end: number;
}

/** The element that begins at `offset` and must end by `limit`. */
export const readElement = (der: Uint8Array, offset: number, limit: number = der.length): DerElement => {
  if (offset + 2 > limit) throw new DerError('truncated header');
  const tag = der[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-octet tag');
  let length = der[offset + 1] as number;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    // Indefinite length (0x80) is BER only; more than four length octets is no certificate.
    if (octets === 0 || octets > 4) throw new DerError('length form');
    if (start + octets > limit) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + (der[start + i] as number);
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new DerError('contents past the end');
  return { tag, offset, start, end };
};

/** The elements inside a constructed element, in order; they must fill it exactly. */
export const childrenOf = (der: Uint8Array, parent: DerElement): DerElement[] => {
  const children: DerElement[] = [];
  for (let offset = parent.start; offset < parent.end; ) {
    const child = readElement(der, offset, parent.end);
    children.push(child);
    offset = child.end;
  }
  return children;
};

/** The contents of an element, as a view on the same bytes. */
export const contentsOf = (der: Uint8Array, element: DerElement): Uint8Array =>
  der.subarray(element.start, element.end);

/** The whole element, header and contents, as a view on the same bytes. */
export const bytesOf = (der: Uint8Array, element: DerElement): Uint8Array =>
  der.subarray(element.offset, element.end);

/** A certificate extension as it is encoded: the OID's contents, criticality, and the value's contents. */
export interface DerExtension {
  readonly oid: Uint8Array;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** The context tags of a TBSCertificate's version [0] and extensions [3] (RFC 5280 §4.1). */
const VERSION = 0xa0;
const EXTENSIONS = 0xa3;

/** An OID's contents as DER carries them (what `DerExtension.oid` and `DerAttribute.oid` hold). */
export const oidContents = (oid: string): Uint8Array => {
  const encoded = derOid(oid);
  return contentsOf(encoded, readElement(encoded, 0));
};

/** Whether two byte strings are the same, without copying either. */
export const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** One attribute of a certificate's subject: the OID's contents, and the value as text. */
export interface DerAttribute {
  readonly oid: Uint8Array;
  /** The value decoded from UTF8String, PrintableString, IA5String or BMPString; null for other types. */
  readonly value: string | null;
}

/** What a relying party reads of a certificate beside what Node's parser gives. */
export interface CertificateParts {
  readonly subject: readonly DerAttribute[];
  /** The SubjectPublicKeyInfo, header and all, as the certificate carries it. */
  readonly spki: Uint8Array;
  readonly extensions: readonly DerExtension[];
}

const STRINGS: Readonly<Record<number, (bytes: Uint8Array) => string>> = {
  [TAG.utf8String]: (bytes) => Buffer.from(bytes).toString('utf8'),
  [TAG.printableString]: (bytes) => Buffer.from(bytes).toString('latin1'),
  [TAG.ia5String]: (bytes) => Buffer.from(bytes).toString('latin1'),
  [TAG.bmpString]: (bytes) => {
    if (bytes.length % 2 !== 0) throw new DerError('BMPString');
    return Buffer.from(bytes).swap16().toString('utf16le');
  },
};

const extensionsIn = (der: Uint8Array, wrapper: DerElement): DerExtension[] => {
  const [list, ...extra] = childrenOf(der, wrapper);
  if (list === undefined || list.tag !== TAG.sequence || extra.length > 0) throw new DerError('extensions');
  return childrenOf(der, list).map((extension) => {
    if (extension.tag !== TAG.sequence) throw new DerError('extension');
    const parts = childrenOf(der, extension);
    const [oid, second, third] = parts;
    const flagged = parts.length === 3 && second?.tag === TAG.boolean;
    const value = flagged ? third : second;
    if (
      oid?.tag !== TAG.objectIdentifier ||
      value?.tag !== TAG.octetString ||
      parts.length !== (flagged ? 3 : 2)
    )
      throw new DerError('extension');
    return {
      oid: contentsOf(der, oid),
      critical: flagged && second !== undefined && der[second.start] !== 0,
      value: contentsOf(der, value),
    };
  });
};

/**
 * The subject, key and extensions of an X.509 certificate (RFC 5280 §4.1: Certificate →
 * tbsCertificate → subject, subjectPublicKeyInfo, [3] Extensions). Throws DerError when the bytes
 * are not one certificate of that shape.
 */
export const certificateParts = (der: Uint8Array): CertificateParts => {
  const certificate = readElement(der, 0);
  if (certificate.tag !== TAG.sequence || certificate.end !== der.length) throw new DerError('certificate');
  const tbs = childrenOf(der, certificate)[0];
  if (tbs === undefined || tbs.tag !== TAG.sequence) throw new DerError('tbsCertificate');
  const fields = childrenOf(der, tbs);
  // version [0] is there for v2 and v3; then serial, signature, issuer, validity, subject, key.
  const first = fields[0]?.tag === VERSION ? 1 : 0;
  const subject = fields[first + 4];
  const spki = fields[first + 5];
  if (subject?.tag !== TAG.sequence || spki?.tag !== TAG.sequence) throw new DerError('tbsCertificate');
  const attributes = childrenOf(der, subject).flatMap((set) => {
    if (set.tag !== TAG.set) throw new DerError('name');
    return childrenOf(der, set).map((pair) => {
      const [oid, value, ...rest] = pair.tag === TAG.sequence ? childrenOf(der, pair) : [];
      if (oid?.tag !== TAG.objectIdentifier || value === undefined || rest.length > 0)
        throw new DerError('name');
      const decode = STRINGS[value.tag];
      return { oid: contentsOf(der, oid), value: decode ? decode(contentsOf(der, value)) : null };
    });
  });
  const wrapper = fields.find((element) => element.tag === EXTENSIONS);
  return {
    subject: attributes,
    spki: bytesOf(der, spki),
    extensions: wrapper ? extensionsIn(der, wrapper) : [],
  };
};

/**
 * The named bits of a BIT STRING as a number, bit 0 (the first octet's highest bit) the lowest:
 * how the X.509 library numbers key usages (digitalSignature = 1, nonRepudiation = 2, …).
 */
export const bitStringFlags = (der: Uint8Array): number => {
  const element = readElement(der, 0);
  if (element.tag !== TAG.bitString || element.end !== der.length || element.start === element.end)
    throw new DerError('bit string');
  const unused = der[element.start] as number;
  const octets = element.end - element.start - 1;
  if (unused > 7 || (octets === 0 && unused !== 0)) throw new DerError('bit string');
  let flags = 0;
  const bits = octets * 8 - unused;
  // Key usage has nine named bits; more would not fit a safe shift, and no certificate of ours has them.
  if (bits > 30) throw new DerError('bit string too long');
  for (let bit = 0; bit < bits; bit++) {
    const octet = der[element.start + 1 + (bit >> 3)] as number;
    if (octet & (0x80 >> (bit & 7))) flags |= 1 << bit;
  }
  return flags;
};
