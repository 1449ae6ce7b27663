// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Name as AsnName,
  AttributeTypeAndValue,
  AttributeValue,
  id_ce_subjectAltName,
  RelativeDistinguishedName,
  type SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';
import type { Extension, JsonNameParams } from '@peculiar/x509';
import { OID } from '../oids.js';

/**
 * DER for the few structures the CA writes for every certificate, from parts already encoded or
 * from plain values. The ASN.1 schema encodes each part through generic objects and costs far more
 * than the signature; what is written here is byte for byte what the schema writes (the tests
 * compare them), and anything outside these forms is left to the schema.
 */

/** The length octets of DER (X.690 §8.1.3): short form below 128, long form above. */
const lengthOctets = (length: number): number[] => {
  if (length < 0x80) return [length];
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return [0x80 | octets.length, ...octets];
};

/** One element: `tag`, then the definite length of `parts` together, then the parts as they are. */
export const derElement = (tag: number, ...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> => {
  let length = 0;
  for (const part of parts) length += part.byteLength;
  const header = [tag, ...lengthOctets(length)];
  const out = new Uint8Array(header.length + length);
  out.set(header, 0);
  let offset = header.length;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
};

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  objectIdentifier: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

/** A BIT STRING of whole octets (a signature): no unused bits. */
export const derBitString = (bytes: Uint8Array): Uint8Array =>
  derElement(TAG.bitString, Uint8Array.of(0), bytes);

const oids = new Map<string, Uint8Array>();

/** An OBJECT IDENTIFIER from its dotted form, each encoded once (a CA writes the same few). */
export const derOid = (oid: string): Uint8Array => {
  let der = oids.get(oid);
  if (der === undefined) {
    const arcs = oid.split('.').map(Number);
    const [first = 0, second = 0, ...rest] = arcs;
    const octets: number[] = [];
    for (const arc of [first * 40 + second, ...rest]) {
      const base128 = [arc % 128];
      for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128))
        base128.unshift(0x80 | (value % 128));
      octets.push(...base128);
    }
    der = derElement(TAG.objectIdentifier, Uint8Array.from(octets));
    // The OIDs of a CA's names and extensions: few, but bounded all the same.
    if (oids.size >= 1000) oids.clear();
    oids.set(oid, der);
  }
  return der;
};

const two = (n: number): string => String(n).padStart(2, '0');

/**
 * A certificate's Time (RFC 5280 §4.1.2.5): UTCTime through 2049, GeneralizedTime after, in whole
 * seconds, as the schema's Time writes it.
 */
export const derTime = (date: Date): Uint8Array => {
  const year = date.getUTCFullYear();
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  return year > 2049
    ? derElement(TAG.generalizedTime, Buffer.from(`${String(year).padStart(4, '0')}${rest}`, 'latin1'))
    : derElement(TAG.utcTime, Buffer.from(`${two(year % 100)}${rest}`, 'latin1'));
};

/** The string kinds a name of ours holds, with how the schema writes their characters. */
const STRING_KINDS = {
  utf8String: { tag: TAG.utf8String, encoding: 'utf8' },
  printableString: { tag: TAG.printableString, encoding: 'latin1' },
  ia5String: { tag: TAG.ia5String, encoding: 'latin1' },
} as const;
type StringKind = keyof typeof STRING_KINDS;
const isStringKind = (key: string): key is StringKind => Object.hasOwn(STRING_KINDS, key);
const OID_PATTERN = /^[0-2](?:\.(?:0|[1-9][0-9]*))+$/;

/** The one string kind an attribute value holds, or null when it is anything else. */
const stringOf = (value: AttributeValue): { kind: StringKind; text: string } | null => {
  let found: { kind: StringKind; text: string } | null = null;
  for (const [key, text] of Object.entries(value)) {
    if (text === undefined) continue;
    if (found !== null || !isStringKind(key) || typeof text !== 'string') return null;
    found = { kind: key, text };
  }
  return found;
};

/**
 * A name's structure from its JSON form, when every value is a typed string under a dotted OID
 * (as the CA's profiles write them): what the library's Name makes of it, without its detour
 * through bytes. null for any other form, which the library's Name reads.
 */
export const nameStructure = (json: JsonNameParams): AsnName | null => {
  const name = new AsnName();
  for (const item of json) {
    const rdn = new RelativeDistinguishedName();
    for (const [type, values] of Object.entries(item)) {
      if (!OID_PATTERN.test(type)) return null;
      for (const value of values) {
        if (typeof value !== 'object') return null;
        const attribute = new AttributeValue(value);
        if (stringOf(attribute) === null) return null;
        rdn.push(new AttributeTypeAndValue({ type, value: attribute }));
      }
    }
    name.push(rdn);
  }
  return name;
};

/** A Name's DER: each RDN a SET of type-and-value SEQUENCEs, in the order given (as the schema writes it). */
export const derName = (name: AsnName): Uint8Array => {
  const rdns: Uint8Array[] = [];
  for (const rdn of name) {
    const attributes: Uint8Array[] = [];
    for (const attribute of rdn) {
      const value = stringOf(attribute.value);
      if (value === null || !OID_PATTERN.test(attribute.type)) {
        return new Uint8Array(AsnConvert.serialize(name));
      }
      const kind = STRING_KINDS[value.kind];
      attributes.push(
        derElement(
          TAG.sequence,
          derOid(attribute.type),
          derElement(kind.tag, Buffer.from(value.text, kind.encoding)),
        ),
      );
    }
    rdns.push(derElement(TAG.set, ...attributes));
  }
  return derElement(TAG.sequence, ...rdns);
};

const TRUE = Uint8Array.of(TAG.boolean, 1, 0xff);

/** An Extension: its OID, critical only when true (DEFAULT FALSE is left out), its value's octets. */
export const derExtension = (extension: Extension): Uint8Array =>
  derExtensionOf(extension.type, extension.critical, new Uint8Array(extension.value));

/** A subjectAltName entry of a card holder: a UPN (otherName) or an e-mail address (rfc822Name). */
export interface HolderAltName {
  readonly type: 'upn' | 'email';
  readonly value: string;
}

/**
 * The subjectAltName extension of a card holder's names, as the library's generator writes it: an
 * e-mail address as [1] IA5String, a UPN as otherName [0] with its UTF8String in an explicit [0].
 */
export const derSubjectAltName = (
  names: readonly HolderAltName[],
  critical: boolean,
): Uint8Array<ArrayBuffer> => {
  const generalNames = names.map((name) =>
    name.type === 'email'
      ? derElement(0x81, Buffer.from(name.value, 'latin1'))
      : derElement(
          0xa0,
          derOid(OID.userPrincipalName),
          derElement(0xa0, derElement(TAG.utf8String, Buffer.from(name.value, 'utf8'))),
        ),
  );
  return derExtensionOf(id_ce_subjectAltName, critical, derElement(TAG.sequence, ...generalNames));
};

const NULL = Uint8Array.of(0x05, 0x00);

/**
 * A SubjectPublicKeyInfo from its parsed structure: the algorithm's OID and its parameters as they
 * came (NULL for null), then the key's bits. What the schema writes for a key it parsed.
 */
export const derSubjectPublicKeyInfo = (info: SubjectPublicKeyInfo): Uint8Array<ArrayBuffer> => {
  const { algorithm, parameters } = info.algorithm;
  const params = parameters === undefined ? [] : parameters === null ? [NULL] : [new Uint8Array(parameters)];
  return derElement(
    TAG.sequence,
    derElement(TAG.sequence, derOid(algorithm), ...params),
    derBitString(new Uint8Array(info.subjectPublicKey)),
  );
};

/** An extension of `oid` whose value is the DER `value`, as the library's Extension writes it. */
export const derExtensionOf = (oid: string, critical: boolean, value: Uint8Array): Uint8Array<ArrayBuffer> =>
  derElement(TAG.sequence, derOid(oid), ...(critical ? [TRUE] : []), derElement(TAG.octetString, value));
