import 'reflect-metadata';
import { generateKeyPairSync, sign as nodeSign, verify, webcrypto } from 'node:crypto';
import { X509CertificateGenerator } from '@peculiar/x509';
import type { CardNumber } from '@reservkort/domain';
import { openStore, runPending, type Store } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { FileKeyStore } from '../keys/file-key-store.js';
import {
  CARD_NUMBER,
  createTestCa,
  crlPem,
  issueRequest,
  makeCsr,
  openssl,
  realClock,
  type TestCa,
  writeText,
} from '../test-support/test-ca.js';
import {
  bureauRecordPending,
  verifyBureauCertificate,
  verifyStationCertificate,
} from './bureau-verification.js';
import { CertificateAuthority } from './certificate-authority.js';

const DAY = 86_400_000;
const STATION = 'st-kortstation_01';
const BRANCH = 'branch-vardcentral-norr';

/** A P-256 pair as a card's bureau key would be: the public half as SPKI DER. */
const cardKey = () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    spki: new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' })),
    sign: (data: Uint8Array) =>
      new Uint8Array(nodeSign('sha256', data, { key: pair.privateKey, dsaEncoding: 'ieee-p1363' })),
  };
};

describe.each(DIALECTS)('card bureau CA on %s', (dialect) => {
  let t: TestCa;
  let bureauFile: string;
  beforeAll(async () => {
    t = await createTestCa(dialect);
    bureauFile = await writeText(t.dir, 'bureau.pem', (await t.ca.bureau()).certificate.toString('pem'));
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const verifyLeaf = (leaf: string, extra: string[] = []) =>
    openssl(['verify', '-x509_strict', '-CAfile', t.files.root, '-untrusted', bureauFile, ...extra, leaf]);
  const text = async (pem: string, name: string) =>
    (await openssl(['x509', '-text', '-noout', '-in', await writeText(t.dir, name, pem)])).out;

  it('is made by ca init under the root, a CA with no person policy, with its own CRL', async () => {
    expect(t.ca.all.map((c) => c.id).sort()).toEqual([
      'bureau',
      'loa2',
      'loa3',
      'ocsp-loa2',
      'ocsp-loa3',
      'ocsp-root',
      'root',
    ]);
    const verified = await openssl(['verify', '-x509_strict', '-CAfile', t.files.root, bureauFile]);
    expect(verified.code, verified.out).toBe(0);
    const shown = (await openssl(['x509', '-text', '-noout', '-in', bureauFile])).out;
    expect(shown).toContain('CN = Reservkort Demo Card Bureau CA');
    expect(shown).toMatch(/CA:TRUE, pathlen:0/);
    expect(shown).not.toContain('Policy:');
    const crl = await t.ca.currentCrl('bureau');
    const crlFile = await writeText(t.dir, 'bureau.crl.pem', crlPem(crl.der));
    const checked = await openssl(['crl', '-in', crlFile, '-noout', '-CAfile', bureauFile]);
    expect(checked.out).toMatch(/verify OK/);
  });

  it('issues a card-bureau certificate that OpenSSL verifies, with the card number in subject and extension', async () => {
    const key = cardKey();
    const issued = await t.ca.issueCardBureau({
      spki: key.spki,
      cardNumber: CARD_NUMBER,
      actor: 'ca-operator',
    });
    const leaf = await writeText(t.dir, `card-bureau-${dialect}.pem`, issued.pem);
    const verified = await verifyLeaf(leaf, ['-purpose', 'sslclient']);
    expect(verified.code, verified.out).toBe(0);
    const shown = await text(issued.pem, `card-bureau-text-${dialect}.pem`);
    expect(shown).toContain(`serialNumber = ${CARD_NUMBER}`);
    expect(shown).toContain(`CN = Reserve card ${CARD_NUMBER}`);
    expect(shown).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(shown).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
    expect(shown).toMatch(new RegExp(`1\\.2\\.752\\.34\\.2\\.1:\\s+\\.\\.${CARD_NUMBER}`));
    expect(shown).toContain('CA Issuers - URI:http://127.0.0.1:3000/pki/ca/bureau.crt');
    expect(shown).toMatch(/URI:http:\/\/127\.0\.0\.1:3000\/pki\/crl\/bureau\.crl/);
    expect(shown).not.toContain('OCSP - URI');
    expect(shown).not.toContain('Policy:');
    // About five years: the card's life.
    const life = issued.certificate.notAfter.getTime() - issued.certificate.notBefore.getTime();
    expect(life).toBeGreaterThan(5 * 365 * DAY - DAY);
    expect(life).toBeLessThan(5 * 365 * DAY + DAY);

    const checked = await verifyBureauCertificate(
      t.ca,
      new Uint8Array(issued.certificate.rawData),
      Date.now(),
    );
    if (!checked.ok) throw new Error(checked.reason);
    expect(checked.value.cardNumber).toBe(CARD_NUMBER);
    expect(Buffer.from(checked.value.spki).equals(Buffer.from(key.spki))).toBe(true);
    const data = new TextEncoder().encode('card-proof:flow-1:00112233445566778899aabbccddeeff');
    const { key: cardPublicKey } = checked.value;
    const p1363 = { key: cardPublicKey, dsaEncoding: 'ieee-p1363' } as const;
    expect(verify('sha256', data, p1363, key.sign(data))).toBe(true);
    expect(verify('sha256', data, p1363, cardKey().sign(data))).toBe(false);
  });

  it('issues a station certificate from a CSR: CN the station, OU its branch, client authentication, 30 days', async () => {
    const { der, keys } = await makeCsr('ecdsa-p256', 'CN=whatever the station says');
    const issued = await t.ca.issueStation({
      csr: der,
      stationId: STATION,
      branchId: BRANCH,
      actor: 'admin',
    });
    const leaf = await writeText(t.dir, `station-${dialect}.pem`, issued.pem);
    const verified = await verifyLeaf(leaf, ['-purpose', 'sslclient']);
    expect(verified.code, verified.out).toBe(0);
    const shown = await text(issued.pem, `station-text-${dialect}.pem`);
    expect(shown).toContain(`CN = ${STATION}`);
    expect(shown).toContain(`OU = ${BRANCH}`);
    expect(shown).not.toContain('whatever');
    expect(shown).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(shown).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Client Authentication\n/);
    const life = issued.certificate.notAfter.getTime() - issued.certificate.notBefore.getTime();
    expect(life).toBeLessThanOrEqual(30 * DAY + 10 * 60_000);
    expect(life).toBeGreaterThan(30 * DAY - 60_000);

    const checked = await verifyStationCertificate(
      t.ca,
      new Uint8Array(issued.certificate.rawData),
      Date.now(),
    );
    if (!checked.ok) throw new Error(checked.reason);
    expect(checked.value).toMatchObject({ stationId: STATION, branchId: BRANCH, serial: issued.serial });
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    expect(Buffer.from(checked.value.spki).equals(Buffer.from(spki))).toBe(true);
    // Listed with every other certificate (what `reservkort cert list` shows).
    expect(await t.ca.storedCertificate(issued.serial)).toMatchObject({ profile: 'station', caId: 'bureau' });
    await expect(
      t.ca.issueStation({ csr: der, stationId: 'station-1', branchId: BRANCH, actor: 'admin' }),
    ).rejects.toMatchObject({ code: 'CSR_INVALID' });
  });

  it('refuses the wrong profile, another issuer, a forgery, garbage, expiry and revocation', async () => {
    const card = await t.ca.issueCardBureau({ spki: cardKey().spki, cardNumber: CARD_NUMBER, actor: 'ca' });
    const station = await t.ca.issueStation({
      csr: (await makeCsr()).der,
      stationId: STATION,
      branchId: BRANCH,
      actor: 'admin',
    });
    const der = (issued: { certificate: { rawData: ArrayBuffer } }) =>
      new Uint8Array(issued.certificate.rawData);
    const now = Date.now();
    expect(await verifyBureauCertificate(t.ca, der(station), now)).toEqual({ ok: false, reason: 'profile' });
    expect(await verifyStationCertificate(t.ca, der(card), now)).toEqual({ ok: false, reason: 'profile' });
    const person = await t.ca.issue(issueRequest((await makeCsr()).pem));
    expect(await verifyBureauCertificate(t.ca, der(person), now)).toEqual({
      ok: false,
      reason: 'wrong-issuer',
    });
    expect(await verifyBureauCertificate(t.ca, new Uint8Array([0x30, 0x03, 1, 2, 3]), now)).toEqual({
      ok: false,
      reason: 'not-a-certificate',
    });

    // Same issuer name and serial, signed by a key that is not the bureau's.
    const crypto = webcrypto as unknown as Crypto;
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const forger = (await crypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair;
    const forged = await X509CertificateGenerator.create(
      {
        serialNumber: card.serial,
        subject: card.certificate.subjectName,
        issuer: card.certificate.issuerName,
        notBefore: card.certificate.notBefore,
        notAfter: card.certificate.notAfter,
        extensions: card.certificate.extensions,
        publicKey: forger.publicKey,
        signingKey: forger.privateKey,
        signingAlgorithm: alg,
      },
      crypto,
    );
    expect(await verifyBureauCertificate(t.ca, new Uint8Array(forged.rawData), now)).toEqual({
      ok: false,
      reason: 'signature',
    });

    expect(await verifyBureauCertificate(t.ca, der(card), now + 6 * 365 * DAY)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(await verifyStationCertificate(t.ca, der(station), now + 31 * DAY)).toEqual({
      ok: false,
      reason: 'expired',
    });
    expect(await verifyStationCertificate(t.ca, der(station), now - DAY)).toEqual({
      ok: false,
      reason: 'not-yet-valid',
    });

    await t.ca.revoke(station.serial, 'cessationOfOperation', 'admin');
    expect(await verifyStationCertificate(t.ca, der(station), Date.now())).toEqual({
      ok: false,
      reason: 'revoked',
    });
    // The bureau CRL lists it, and OpenSSL with CRL checking refuses it.
    const crl = await writeText(
      t.dir,
      `bureau-crl-${dialect}.pem`,
      crlPem((await t.ca.currentCrl('bureau')).der),
    );
    const leaf = await writeText(t.dir, `revoked-station-${dialect}.pem`, station.pem);
    const refused = await verifyLeaf(leaf, ['-crl_check', '-CRLfile', crl]);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/revoked/i);
  });

  it('checks against a record read beforehand for the same serial, and reads its own for another', async () => {
    const issue = async () =>
      t.ca.issueCardBureau({ spki: cardKey().spki, cardNumber: CARD_NUMBER, actor: 'ca-operator' });
    const der = (issued: { certificate: { rawData: ArrayBuffer } }) =>
      new Uint8Array(issued.certificate.rawData);
    const [card, other] = [await issue(), await issue()];
    const now = Date.now();
    const pending = await bureauRecordPending(t.ca, der(card));
    if (pending === null) throw new Error('a certificate has a record to read');
    const read = await runPending(t.store.db, pending);
    expect(read.record?.serial).toBe(read.serial);
    expect((await verifyBureauCertificate(t.ca, der(card), now, read)).ok).toBe(true);
    // The record read is the one judged: as it was when read, here none.
    expect(await verifyBureauCertificate(t.ca, der(card), now, { ...read, record: null })).toEqual({
      ok: false,
      reason: 'unknown-certificate',
    });
    // A record of another serial is not this certificate's: the check reads its own.
    await t.ca.revoke(card.serial, 'keyCompromise', 'admin');
    expect(await verifyBureauCertificate(t.ca, der(other), now, read)).toMatchObject({ ok: true });
    expect(
      await verifyBureauCertificate(t.ca, der(card), now, await runPending(t.store.db, pending)),
    ).toEqual({
      ok: false,
      reason: 'revoked',
    });
    // Bytes that are no certificate have nothing to read; the check refuses them as before.
    expect(await bureauRecordPending(t.ca, new Uint8Array([0x30, 0x03, 1, 2, 3]))).toBeNull();
  });

  it('is made on first use, once, for a hierarchy made before the bureau existed', async () => {
    const older = await createTestCa(dialect);
    try {
      const bureau = await older.ca.bureau();
      // Back to the hierarchy as it was before: no bureau CA, no CRL, no certificate of it.
      await older.store.db.deleteFrom('crls').where('ca_id', '=', 'bureau').execute();
      await older.store.db
        .deleteFrom('certificates')
        .where('serial', '=', bureau.certificate.serialNumber.toLowerCase())
        .execute();
      await older.store.db.deleteFrom('cas').where('id', '=', 'bureau').execute();
      const connect = async (): Promise<Store> =>
        dialect === 'postgres'
          ? openStore({ url: older.store.url })
          : { ...older.store, close: async () => {} };
      const stores = await Promise.all([connect(), connect(), connect()]);
      const keyStore = () => new FileKeyStore(`${older.dir}/keys`, 'test passphrase');
      const cas = await Promise.all(
        stores.map((store) =>
          CertificateAuthority.open({ db: store.db, keyStore: keyStore(), clock: realClock }),
        ),
      );
      try {
        expect(cas[0]?.all.map((c) => c.id)).not.toContain('bureau');
        const made = await Promise.all(cas.map((ca) => ca.bureau()));
        expect(new Set(made.map((b) => b.certificate.serialNumber)).size).toBe(1);
        expect(made[0]?.certificate.serialNumber).not.toBe(bureau.certificate.serialNumber);
        expect(
          await older.store.db.selectFrom('cas').where('id', '=', 'bureau').selectAll().execute(),
        ).toHaveLength(1);
        // Whichever server made it, another one issues and verifies with the same key.
        const [first, second] = cas;
        if (first === undefined || second === undefined) throw new Error('no CA');
        const issued = await first.issueCardBureau({
          spki: cardKey().spki,
          cardNumber: '9752278900000000200' as CardNumber,
          actor: 'ca',
        });
        const checked = await verifyBureauCertificate(
          second,
          new Uint8Array(issued.certificate.rawData),
          Date.now(),
        );
        expect(checked.ok).toBe(true);
        expect((await first.currentCrl('bureau')).der.byteLength).toBeGreaterThan(0);
      } finally {
        for (const ca of cas) await ca.close();
        for (const store of stores) await store.close();
      }
    } finally {
      await older.dispose();
    }
  });
});
