// The CA's own DER against the ASN.1 schema's encoder: the same structure must give the same bytes.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  Name as AsnName,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  RelativeDistinguishedName,
} from '@peculiar/asn1-x509';
import {
  BasicConstraintsExtension,
  Extension,
  type JsonNameParams,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  PublicKey,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509Certificate,
} from '@peculiar/x509';
import { PrintableString } from 'asn1js';
import { describe, expect, it } from 'vitest';
import { signCertificate, tbsCertificateOf } from '../ca/certificate-signing.js';
import { CardNumberExtension } from '../extensions/card-number.extension.js';
import type { CaKey } from '../keys/key-spec.js';
import {
  derElement,
  derExtensionOf,
  derName,
  derOid,
  derSubjectAltName,
  derTime,
  nameStructure,
  TAG,
} from './der-encoding.js';

const crypto = webcrypto as unknown as Crypto;
const hex = (bytes: ArrayBuffer | Uint8Array): string => Buffer.from(bytes as ArrayBuffer).toString('hex');

const HOLDER_NAME: JsonNameParams = [
  { '2.5.4.6': [{ printableString: 'SE' }] },
  { '2.5.4.10': [{ utf8String: 'Region Exempel' }] },
  { '2.5.4.11': [{ utf8String: 'Vårdcentralen Norr – Åre' }] },
  { '2.5.4.3': [{ utf8String: 'Åsa Öberg 😀' }] },
  { '2.5.4.5': [{ printableString: 'SE2321000016-anna' }] },
  { '1.2.840.113549.1.9.1': [{ ia5String: 'asa@example.se' }] },
  // A long name: the lengths take the long form.
  { '2.5.4.4': [{ utf8String: 'x'.repeat(300) }] },
];

describe('DER encoding', () => {
  it('writes names as the schema writes them, and reads JSON names as the library does', () => {
    const structure = nameStructure(HOLDER_NAME);
    if (structure === null) throw new Error('a name of typed strings has a structure');
    expect(hex(derName(structure))).toBe(hex(AsnConvert.serialize(structure)));
    expect(hex(derName(structure))).toBe(hex(new Name(HOLDER_NAME).toArrayBuffer()));
    expect(new Name(structure).toString()).toBe(new Name(HOLDER_NAME).toString());
  });

  it('leaves other name forms to the library and the schema', () => {
    expect(nameStructure([{ CN: ['plain string'] }])).toBeNull();
    expect(nameStructure([{ '2.5.4.3': ['plain string'] }])).toBeNull();
    expect(nameStructure([{ '2.5.4.3': [{ bmpString: 'bmp' }] }])).toBeNull();
    const bmp = new AsnName([
      new RelativeDistinguishedName([
        new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ bmpString: 'bmp' }) }),
      ]),
    ]);
    expect(hex(derName(bmp))).toBe(hex(AsnConvert.serialize(bmp)));
  });

  it('writes OIDs with large arcs and times on both sides of 2050', () => {
    const name = nameStructure([{ '1.2.752.34.2.1': [{ printableString: 'x' }] }]);
    if (name === null) throw new Error('typed');
    expect(hex(derName(name))).toBe(hex(AsnConvert.serialize(name)));
    expect(hex(derOid('2.999.1.4294967295'))).toBe('06088837018fffffff7f');
    expect(Buffer.from(derTime(new Date('2049-12-31T23:59:59.999Z')).subarray(2)).toString()).toBe(
      '491231235959Z',
    );
    expect(Buffer.from(derTime(new Date('2050-01-01T00:00:00Z')).subarray(2)).toString()).toBe(
      '20500101000000Z',
    );
  });

  it('writes a holder subjectAltName as the library does', () => {
    const names = [
      { type: 'upn', value: 'åsa.öberg@regionexempel.se' },
      { type: 'email', value: 'asa@example.se' },
    ] as const;
    for (const critical of [false, true]) {
      const library = new SubjectAlternativeNameExtension([...names], critical);
      const ours = new SubjectAlternativeNameExtension(derSubjectAltName(names, critical));
      expect(hex(ours.rawData)).toBe(hex(library.rawData));
      expect(ours.names.toJSON()).toEqual(names);
    }
    const long = [{ type: 'email', value: `${'a'.repeat(200)}@example.se` }] as const;
    expect(hex(derSubjectAltName(long, false))).toBe(
      hex(new SubjectAlternativeNameExtension([...long], false).rawData),
    );
  });

  it('writes the key identifier and card number extensions as the library does', () => {
    const keyId = '0123456789abcdef0123456789abcdef01234567';
    const ours = new SubjectKeyIdentifierExtension(
      derExtensionOf('2.5.29.14', false, derElement(TAG.octetString, Buffer.from(keyId, 'hex'))),
    );
    expect(hex(ours.rawData)).toBe(hex(new SubjectKeyIdentifierExtension(keyId, false).rawData));
    expect(ours.keyId).toBe(keyId);
    const card = new CardNumberExtension('9752278900000000100');
    const library = new Extension(
      '1.2.752.34.2.1',
      false,
      new PrintableString({ value: '9752278900000000100' }).toBER(false),
    );
    expect(hex(card.rawData)).toBe(hex(library.rawData));
    expect(new CardNumberExtension(card.rawData).cardNumber).toBe('9752278900000000100');
  });

  it('signs TBS bytes equal to the schema encoding of the structure the certificate reads', async () => {
    const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
    const publicKey = new PublicKey(await crypto.subtle.exportKey('spki', keys.publicKey));
    const signer: Pick<CaKey, 'privateKey' | 'spec' | 'crypto' | 'nodeKey'> = {
      privateKey: keys.privateKey,
      spec: 'ecdsa-p256',
      crypto,
    };
    const structure = nameStructure(HOLDER_NAME);
    if (structure === null) throw new Error('typed');
    const extensions = [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      new SubjectAlternativeNameExtension([{ type: 'email', value: 'asa@example.se' }], false),
      new Extension('1.2.752.34.2.1', false, new Uint8Array([0x13, 0x01, 0x31])),
    ];
    for (const [serial, notAfter, extensionList] of [
      ['7f01', new Date('2030-01-01T00:00:00Z'), extensions],
      // A serial whose first bit is set, a date past 2049 and no extensions at all.
      ['ff01', new Date('2060-06-01T12:00:00.500Z'), []],
    ] as const) {
      const content = {
        serial,
        subject: structure,
        issuer: new Name('CN=Issuer, O=Reservkort'),
        notBefore: new Date('2026-01-01T00:00:00Z'),
        notAfter,
        extensions: extensionList,
        publicKey,
      };
      const { tbsCertificate, tbs } = tbsCertificateOf(content, signer.spec);
      expect(hex(tbs)).toBe(hex(AsnConvert.serialize(tbsCertificate)));
      const signed = await signCertificate(content, signer);
      const parsed = new X509Certificate(signed.rawData);
      expect(hex(AsnConvert.serialize(AsnConvert.parse(signed.rawData, Certificate)))).toBe(
        hex(signed.rawData),
      );
      expect(parsed.subject).toBe(signed.subject);
      expect(parsed.serialNumber).toBe(signed.serialNumber);
      expect(parsed.notAfter.getTime()).toBe(signed.notAfter.getTime());
      expect(await parsed.verify({ publicKey: keys.publicKey, signatureOnly: true }, crypto)).toBe(true);
    }
  });
});
