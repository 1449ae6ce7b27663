import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, KeyUsage } from '@peculiar/asn1-x509';
import {
  BasicConstraintsExtension,
  ExtendedKeyUsageExtension,
  Extension,
  type JsonAttributeAndObjectValue,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { PrintableString } from 'asn1js';
import { beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../oids.js';
import {
  bitStringFlags,
  certificateParts,
  childrenOf,
  DerError,
  oidContents,
  readElement,
  sameBytes,
} from './der-reading.js';

const crypto = webcrypto as unknown as Crypto;
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

const certificate = async (extensions: Extension[]): Promise<Uint8Array> => {
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const made = await X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '1a2b3c',
      name: new Name([
        { '2.5.4.3': [{ utf8String: 'läsning av DER' }] },
        { '2.5.4.5': [{ printableString: '9752000000000012' }] },
        { '2.5.4.11': [{ utf8String: 'SE2321000016-1001' }, { bmpString: 'två värden' }] },
      ] satisfies JsonAttributeAndObjectValue[]),
      keys,
      signingAlgorithm: alg,
      extensions,
    },
    crypto,
  );
  return new Uint8Array(made.rawData);
};

const hexOid = (oid: string): string => Buffer.from(oidContents(oid)).toString('hex');

const cardNumberExtension = (text: string) =>
  new Extension(OID.cardNumber, false, new PrintableString({ value: text }).toBER());

describe('DER reading', () => {
  let samples: Uint8Array[];
  beforeAll(async () => {
    samples = [
      await certificate([]),
      await certificate([new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true)]),
      await certificate([
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, true),
        new ExtendedKeyUsageExtension([OID.clientAuth]),
        cardNumberExtension('9752000000000012'),
        // A long value: its length takes the long form.
        new Extension('1.2.3.4', false, new OctetString(new Uint8Array(300).fill(7)).toASN().toBER()),
      ]),
    ];
  });

  it('finds the extensions the X.509 schema finds: OID, criticality and value, byte for byte', () => {
    for (const der of samples) {
      const expected = AsnConvert.parse(der, Certificate).tbsCertificate.extensions ?? [];
      const found = certificateParts(der).extensions;
      expect(found).toHaveLength(expected.length);
      found.forEach((extension, i) => {
        const want = expected[i];
        if (want === undefined) throw new Error('missing');
        expect(sameBytes(extension.oid, oidContents(want.extnID))).toBe(true);
        expect(extension.critical).toBe(want.critical);
        expect(Buffer.from(extension.value).equals(Buffer.from(want.extnValue.buffer))).toBe(true);
      });
    }
  });

  it('reads the subject and the key as the schema does', () => {
    for (const der of samples) {
      const tbs = AsnConvert.parse(der, Certificate).tbsCertificate;
      const parts = certificateParts(der);
      expect(
        Buffer.from(parts.spki).equals(Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo))),
      ).toBe(true);
      const expected = tbs.subject.flatMap((set) =>
        set.map((pair) => ({ oid: hexOid(pair.type), value: pair.value.toString() })),
      );
      expect(parts.subject.map((a) => ({ oid: Buffer.from(a.oid).toString('hex'), value: a.value }))).toEqual(
        expected,
      );
      expect(parts.subject.map((a) => a.value)).toEqual([
        'läsning av DER',
        '9752000000000012',
        'SE2321000016-1001',
        'två värden',
      ]);
    }
  });

  it('numbers key usage bits as the schema does, for every combination of the nine', () => {
    for (let flags = 1; flags < 1 << 9; flags++) {
      const usage = new KeyUsage();
      usage.fromNumber(flags);
      const der = new Uint8Array(AsnConvert.serialize(usage));
      expect(bitStringFlags(der)).toBe(AsnConvert.parse(der, KeyUsage).toNumber());
      expect(bitStringFlags(der)).toBe(flags);
    }
  });

  it('refuses what is not DER a CA writes: truncated, indefinite, multi-octet tags, trailing bytes', () => {
    const der = samples[2] as Uint8Array;
    expect(() => certificateParts(der.subarray(0, der.length - 1))).toThrow(DerError);
    expect(() => certificateParts(Uint8Array.of(...der, 0))).toThrow(DerError);
    expect(() => certificateParts(Uint8Array.of(0x30, 0x80, 0x00, 0x00))).toThrow(DerError);
    expect(() => readElement(Uint8Array.of(0x1f, 0x81, 0x01, 0x00), 0)).toThrow(DerError);
    expect(() => readElement(Uint8Array.of(0x30, 0x85, 1, 0, 0, 0, 0), 0)).toThrow(DerError);
    expect(() => certificateParts(new Uint8Array())).toThrow(DerError);
    // Children must fill their parent exactly.
    const parent = Uint8Array.of(0x30, 0x03, 0x04, 0x02, 0x00);
    expect(() => childrenOf(parent, readElement(parent, 0))).toThrow(DerError);
    expect(() => bitStringFlags(Uint8Array.of(0x03, 0x02, 0x08, 0x80))).toThrow(DerError);
    expect(() => bitStringFlags(Uint8Array.of(0x04, 0x02, 0x07, 0x80))).toThrow(DerError);
  });
});
