import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { type X509Certificate, X509CertificateGenerator, X509Crl } from '@peculiar/x509';
import { getCa, listAudit, replaceCaCertificate } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { pemOf } from '../encoding/pem-text.js';
import { FileKeyStore } from '../keys/file-key-store.js';
import { signingAlgorithm } from '../keys/key-spec.js';
import { OcspResponder } from '../ocsp/ocsp-responder.js';
import {
  basicResponseOf,
  createTestCa,
  crlPem,
  issueRequest,
  makeCsr,
  ocspRequestFor,
  openssl,
  realClock,
  type TestCa,
  writeText,
} from '../test-support/test-ca.js';
import { BUREAU_CA, type CaId, CertificateAuthority } from './certificate-authority.js';

const CDP = '2.5.29.31';
const AIA = '1.3.6.1.5.5.7.1.1';
const crypto = webcrypto as unknown as Crypto;

/** The certificate as an earlier version made it: the same, without CRL distribution point and AIA. */
const withoutPointers = async (ca: CertificateAuthority, id: CaId): Promise<X509Certificate> => {
  const root = ca.ca('root');
  const current = ca.ca(id).certificate;
  return X509CertificateGenerator.create(
    {
      serialNumber: '1f'.repeat(16),
      subject: current.subjectName,
      issuer: root.certificate.subjectName,
      notBefore: current.notBefore,
      notAfter: current.notAfter,
      extensions: current.extensions.filter((e) => e.type !== CDP && e.type !== AIA),
      publicKey: current.publicKey,
      signingKey: root.key.privateKey,
      signingAlgorithm: signingAlgorithm(root.key.spec),
    },
    root.key.crypto,
  );
};

describe.each(DIALECTS)('revocation status of the CAs on %s', (dialect) => {
  let t: TestCa;
  let responder: OcspResponder;
  beforeAll(async () => {
    t = await createTestCa(dialect);
    await t.ca.bureau();
    responder = new OcspResponder(t.ca, t.store.db, realClock);
  });
  afterAll(async () => {
    responder?.close();
    await t?.dispose();
  });

  it('points every CA the root certified to the root CRL, the root certificate and OCSP', async () => {
    for (const id of ['loa3', 'loa2', BUREAU_CA] as const) {
      const text = (
        await openssl([
          'x509',
          '-noout',
          '-text',
          '-in',
          await writeText(t.dir, `${id}.pem`, pemOf(t.ca.ca(id).certificate)),
        ])
      ).out;
      expect(text).toContain('URI:http://127.0.0.1:3000/pki/crl/root.crl');
      expect(text).toContain('CA Issuers - URI:http://127.0.0.1:3000/pki/ca/root.crt');
      expect(text).toContain('OCSP - URI:http://127.0.0.1:3000/ocsp');
    }
    const signer = await writeText(t.dir, 'ocsp-root.pem', pemOf(t.ca.ca('ocsp-root').certificate));
    const text = (await openssl(['x509', '-noout', '-text', '-in', signer])).out;
    expect(text).toContain('OCSP Signing');
    expect(text).toContain('OCSP No Check');
    const verified = await openssl([
      'verify',
      '-x509_strict',
      '-CAfile',
      t.files.root,
      '-purpose',
      'ocsphelper',
      signer,
    ]);
    expect(verified.code, verified.out).toBe(0);
  });

  it('publishes a root CRL of its own number sequence, and lists a revoked CA certificate in it', async () => {
    const first = new X509Crl(new Uint8Array((await t.ca.currentCrl('root')).der));
    expect(first.issuer).toBe(t.ca.ca('root').certificate.subject);
    const checked = await openssl([
      'crl',
      '-noout',
      '-CAfile',
      t.files.root,
      '-in',
      await writeText(t.dir, 'root-1.crl', crlPem((await t.ca.currentCrl('root')).der)),
    ]);
    expect(checked.out).toContain('verify OK');

    // Revoking a CA certificate needs a hierarchy of its own: the other tests use this one's.
    const other = await createTestCa(dialect);
    try {
      const numbers = async () => ({
        root: (await getCa(other.store.db, 'root'))?.crlNumber,
        loa3: (await getCa(other.store.db, 'loa3'))?.crlNumber,
      });
      const before = await numbers();
      const loa2Serial = other.ca.ca('loa2').certificate.serialNumber.toLowerCase();
      await other.ca.revoke(loa2Serial, 'cACompromise', 'operator');
      const after = await numbers();
      expect(after.root).toBe((before.root ?? 0) + 1);
      expect(after.loa3).toBe(before.loa3);
      const crl = new X509Crl(new Uint8Array((await other.ca.currentCrl('root')).der));
      expect(crl.entries.map((e) => e.serialNumber.toLowerCase())).toEqual([loa2Serial]);
      // The root answers "revoked" for it over OCSP, signed by its delegated signer.
      const ocsp = new OcspResponder(other.ca, other.store.db, realClock);
      try {
        const answer = await ocsp.respond(
          ocspRequestFor(other.ca.ca('root').certificate, loa2Serial),
          'loa2',
        );
        const single = basicResponseOf(answer.der).tbsResponseData.responses[0];
        expect(single?.certStatus.revoked).toBeDefined();
      } finally {
        ocsp.close();
      }
    } finally {
      await other.dispose();
    }
  });

  it('answers good for a CA certificate the root issued, through the root OCSP signer, as OpenSSL checks', async () => {
    const root = t.ca.ca('root').certificate;
    for (const id of ['loa3', 'loa2', BUREAU_CA] as const) {
      const serial = t.ca.ca(id).certificate.serialNumber.toLowerCase();
      const answer = await responder.respond(ocspRequestFor(root, serial), `ca-${id}`);
      const basic = basicResponseOf(answer.der);
      expect(basic.tbsResponseData.responses[0]?.certStatus.good).toBeDefined();
      const file = await writeText(t.dir, `ocsp-${id}.der`, answer.der);
      const checked = await openssl([
        'ocsp',
        '-respin',
        file,
        '-CAfile',
        t.files.root,
        '-issuer',
        t.files.root,
        '-cert',
        await writeText(t.dir, `${id}-check.pem`, pemOf(t.ca.ca(id).certificate)),
      ]);
      expect(checked.out).toContain('Response verify OK');
      expect(checked.out).toContain(': good');
    }
  });

  it('upgrades a hierarchy made without CA revocation pointers when it is opened, once', async () => {
    const older = await createTestCa(dialect);
    try {
      const before = new Map<CaId, X509Certificate>();
      for (const id of ['loa3', 'loa2', BUREAU_CA] as const) {
        await older.ca.loadCa(id);
        const stripped = await withoutPointers(older.ca, id);
        await replaceCaCertificate(older.store.db, id, pemOf(stripped));
        before.set(id, stripped);
      }
      await older.store.db.deleteFrom('cas').where('id', '=', 'ocsp-root').execute();
      const card = await older.ca.issue(issueRequest((await makeCsr()).pem));
      await older.ca.close();

      const keyStore = () => new FileKeyStore(join(older.dir, 'keys'), 'test passphrase');
      const settings = { baseUrl: 'http://127.0.0.1:3000' };
      // Two servers start on the older hierarchy at once: one re-certifies, the other takes its result.
      const open = () =>
        CertificateAuthority.open({ db: older.store.db, keyStore: keyStore(), clock: realClock, settings });
      const [opened, beside] = await Promise.all([open(), open()]);
      try {
        for (const id of [...before.keys(), 'ocsp-root' as const])
          expect(beside.ca(id).certificate.serialNumber).toBe(opened.ca(id).certificate.serialNumber);
        await beside.close();
        for (const [id, old] of before) {
          const now = opened.ca(id).certificate;
          expect(now.getExtension(CDP)).not.toBeNull();
          expect(now.getExtension(AIA)).not.toBeNull();
          expect(now.subject).toBe(old.subject);
          expect(now.serialNumber).not.toBe(old.serialNumber);
          expect(Buffer.from(await now.publicKey.getThumbprint(crypto)).toString('hex')).toBe(
            Buffer.from(await old.publicKey.getThumbprint(crypto)).toString('hex'),
          );
          expect((await opened.storedCertificate(now.serialNumber))?.caId).toBe('root');
        }
        expect(opened.ca('ocsp-root').certificate.issuer).toBe(opened.ca('root').certificate.subject);
        // The card issued under the old LoA3 certificate chains through the new one.
        const newLoa3 = await writeText(older.dir, 'loa3-new.pem', pemOf(opened.ca('loa3').certificate));
        const chained = await openssl([
          'verify',
          '-x509_strict',
          '-CAfile',
          older.files.root,
          '-untrusted',
          newLoa3,
          await writeText(older.dir, 'card.pem', card.pem),
        ]);
        expect(chained.code, chained.out).toBe(0);
        const audit = await listAudit(older.store.db, { limit: 1000 });
        expect(
          audit
            .filter((e) => e.action === 'ca.recertified')
            .map((e) => e.subject)
            .sort(),
        ).toEqual(['bureau', 'loa2', 'loa3']);
        // The upgraded CAs are what is stored, so opening again changes nothing.
        const again = await CertificateAuthority.open({
          db: older.store.db,
          keyStore: keyStore(),
          clock: realClock,
          settings,
        });
        try {
          expect(again.ca('loa3').certificate.serialNumber).toBe(opened.ca('loa3').certificate.serialNumber);
          expect(again.ca('ocsp-root').certificate.serialNumber).toBe(
            opened.ca('ocsp-root').certificate.serialNumber,
          );
          const later = await listAudit(older.store.db, { limit: 1000 });
          expect(later.filter((e) => e.action === 'ca.recertified')).toHaveLength(3);
        } finally {
          await again.close();
        }
      } finally {
        await opened.close();
      }
    } finally {
      await older.store.dispose();
      const { rm } = await import('node:fs/promises');
      await rm(older.dir, { recursive: true, force: true });
    }
  });
});
