// The card profile's rules on their own (key usages per key type, SAN and EKU from the directory, O
// and OU), then a CA set to RSA-2048 card keys with OpenSSL reading what it issued.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import {
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  X509CertificateGenerator,
} from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../oids.js';
import { isPkiError } from '../pki-error.js';
import {
  CARD_NUMBER,
  createTestCa,
  HOLDER,
  issueRequest,
  makeCsr,
  openssl,
  type TestCa,
  writeText,
} from '../test-support/test-ca.js';
import { buildTemplate, type Holder, PROFILES, type ProfileName } from './certificate-profile.js';

const crypto = webcrypto as unknown as Crypto;

const keyPair = async (kind: 'ec' | 'rsa'): Promise<CryptoKeyPair> =>
  (await crypto.subtle.generateKey(
    kind === 'ec'
      ? { name: 'ECDSA', namedCurve: 'P-256' }
      : {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: 2048,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;

const UNIT_HOLDER: Holder = {
  ...HOLDER,
  organisation: 'Region Exempel',
  unit: 'Vårdcentralen Norr',
  upn: 'anna.andersson@regionexempel.se',
  email: 'anna.andersson@regionexempel.se',
};

describe('card profile rules', () => {
  let ec: CryptoKeyPair;
  let rsa: CryptoKeyPair;
  let issuer: Awaited<ReturnType<typeof X509CertificateGenerator.createSelfSigned>>;
  beforeAll(async () => {
    [ec, rsa] = await Promise.all([keyPair('ec'), keyPair('rsa')]);
    issuer = await X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: '01',
        name: 'CN=Issuer',
        keys: ec,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + 86_400_000),
      },
      crypto,
    );
  });

  const template = (profile: ProfileName, key: CryptoKey, holder: Holder | null) =>
    buildTemplate(
      { subject: [], extensions: [], notBefore: new Date(), notAfter: new Date(Date.now() + 3_600_000) },
      {
        profile,
        subjectPublicKey: key,
        issuer,
        holder,
        cardNumber: holder === null ? null : CARD_NUMBER,
        policyOid: null,
        urls: null,
        crypto,
      },
    );
  const extension = <T>(
    built: Awaited<ReturnType<typeof template>>,
    type: new (...args: never[]) => T,
  ): T | undefined => built.extensions.find((e): e is T & typeof e => e instanceof type) as T | undefined;
  const usages = async (profile: ProfileName, key: CryptoKey, holder: Holder | null = HOLDER) =>
    extension(await template(profile, key, holder), KeyUsagesExtension)?.usages;

  it('gives an EC authentication key digitalSignature only, an RSA one keyEncipherment too', async () => {
    expect(await usages('card-auth', ec.publicKey)).toBe(KeyUsageFlags.digitalSignature);
    expect(await usages('card-auth', rsa.publicKey)).toBe(
      KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment,
    );
  });

  it('gives the signature key nonRepudiation only, whatever its type', async () => {
    expect(await usages('card-sign', ec.publicKey)).toBe(KeyUsageFlags.nonRepudiation);
    expect(await usages('card-sign', rsa.publicKey)).toBe(KeyUsageFlags.nonRepudiation);
  });

  it('puts keyEncipherment on no EC key of any profile the CA issues', async () => {
    for (const profile of PROFILES) {
      const holder = profile === 'card-auth' || profile === 'card-sign' ? UNIT_HOLDER : null;
      const flags = (await usages(profile, ec.publicKey, holder)) ?? 0;
      expect(flags & KeyUsageFlags.keyEncipherment, profile).toBe(0);
      expect(flags & KeyUsageFlags.keyAgreement, profile).toBe(0);
    }
  });

  it('adds the UPN, smart-card logon and e-mail exactly when the directory has them', async () => {
    const plain = await template('card-auth', ec.publicKey, HOLDER);
    expect(extension(plain, SubjectAlternativeNameExtension)).toBeUndefined();
    expect([...(extension(plain, ExtendedKeyUsageExtension)?.usages ?? [])]).toEqual([OID.clientAuth]);

    const full = await template('card-auth', ec.publicKey, UNIT_HOLDER);
    const names = extension(full, SubjectAlternativeNameExtension)?.names.toJSON();
    expect(names).toEqual([
      { type: 'upn', value: UNIT_HOLDER.upn },
      { type: 'email', value: UNIT_HOLDER.email },
    ]);
    expect([...(extension(full, ExtendedKeyUsageExtension)?.usages ?? [])]).toEqual([
      OID.clientAuth,
      OID.smartcardLogon,
    ]);

    const emailOnly = await template('card-auth', ec.publicKey, { ...HOLDER, email: 'a@example.se' });
    expect(extension(emailOnly, SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      { type: 'email', value: 'a@example.se' },
    ]);
    expect([...(extension(emailOnly, ExtendedKeyUsageExtension)?.usages ?? [])]).toEqual([OID.clientAuth]);

    // The signature certificate: the e-mail address (S/MIME signing), never the UPN, and no EKU.
    const sign = await template('card-sign', ec.publicKey, UNIT_HOLDER);
    expect(extension(sign, SubjectAlternativeNameExtension)?.names.toJSON()).toEqual([
      { type: 'email', value: UNIT_HOLDER.email },
    ]);
    expect(extension(sign, ExtendedKeyUsageExtension)).toBeUndefined();
    const signPlain = await template('card-sign', ec.publicKey, { ...HOLDER, upn: 'only@upn.se' });
    expect(extension(signPlain, SubjectAlternativeNameExtension)).toBeUndefined();
  });

  it('names the care provider as O and the unit as OU, and no OU when the unit is the care provider', async () => {
    const subjectOf = async (holder: Holder) =>
      (await template('card-auth', ec.publicKey, holder)).subject.flatMap((rdn) => Object.keys(rdn));
    const withUnit = await template('card-auth', ec.publicKey, UNIT_HOLDER);
    expect(withUnit.subject).toContainEqual({ [OID.organisation]: [{ utf8String: 'Region Exempel' }] });
    expect(withUnit.subject).toContainEqual({
      [OID.organisationalUnit]: [{ utf8String: 'Vårdcentralen Norr' }],
    });
    expect(await subjectOf(UNIT_HOLDER)).toEqual([
      OID.country,
      OID.organisation,
      OID.organisationalUnit,
      OID.commonName,
      OID.givenName,
      OID.surname,
      OID.serialNumber,
    ]);
    expect(await subjectOf({ ...UNIT_HOLDER, unit: 'Region Exempel' })).not.toContain(OID.organisationalUnit);
    expect(await subjectOf(HOLDER)).not.toContain(OID.organisationalUnit);
  });
});

describe('a CA set to RSA-2048 card keys', () => {
  let t: TestCa;
  beforeAll(async () => {
    t = await createTestCa('sqlite', { cardKeyTypes: { LoA3: 'rsa-2048', LoA2: 'ecdsa-p256' } });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('issues an RSA authentication certificate OpenSSL reads with its key usages, SAN and EKU', async () => {
    const { pem } = await makeCsr('rsa-2048');
    const issued = await t.ca.issue(issueRequest(pem, { holder: UNIT_HOLDER }));
    const leaf = await writeText(t.dir, 'rsa-auth.pem', issued.pem);
    const text = (await openssl(['x509', '-text', '-noout', '-in', leaf])).out;
    expect(text).toContain('Public-Key: (2048 bit)');
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
    expect(text).toMatch(
      /X509v3 Extended Key Usage:\s+TLS Web Client Authentication, Microsoft Smartcard Login/,
    );
    expect(text).toMatch(
      /X509v3 Subject Alternative Name:\s+othername: UPN:[:]?anna\.andersson@regionexempel\.se, email:anna\.andersson@regionexempel\.se/,
    );
    expect(text).toMatch(
      /Subject: C ?= ?SE, O ?= ?Region Exempel, OU ?= ?V.+rdcentralen Norr, CN ?= ?Anna Andersson/,
    );
    const verified = await openssl([
      'verify',
      '-x509_strict',
      '-purpose',
      'sslclient',
      '-CAfile',
      t.files.root,
      '-untrusted',
      t.files.loa3,
      leaf,
    ]);
    expect(verified.code, verified.out).toBe(0);
  });

  it('refuses a P-256 card key for the RSA CA, and an RSA one for the P-256 CA', async () => {
    const refused = async (promise: Promise<unknown>) => {
      const error = await promise.then(
        () => null,
        (e: unknown) => e,
      );
      expect(isPkiError(error) ? error.code : String(error)).toBe('KEY_NOT_ALLOWED');
      return error as { details: Record<string, unknown> };
    };
    const ecOnRsa = await refused(t.ca.issue(issueRequest((await makeCsr('ecdsa-p256')).pem)));
    expect(ecOnRsa.details).toEqual({ key: 'ECDSA P-256', allowed: 'RSA 2048' });
    const rsaOnEc = await refused(
      t.ca.issue(issueRequest((await makeCsr('rsa-2048')).pem, { caId: 'loa2' })),
    );
    expect(rsaOnEc.details).toEqual({ key: 'RSA 2048', allowed: 'ECDSA P-256' });
    expect(t.ca.cardKeyType('loa3')).toBe('rsa-2048');
    expect(t.ca.cardKeyType('loa2')).toBe('ecdsa-p256');
  });
});
