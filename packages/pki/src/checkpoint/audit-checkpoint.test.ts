import { currentAuditSigner, GENESIS_HASH, openStore, type Store } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { CertificateAuthority } from '../ca/certificate-authority.js';
import { FileKeyStore } from '../keys/file-key-store.js';
import { createTestCa, openssl, realClock, type TestCa, writeText } from '../test-support/test-ca.js';
import { type AuditCheckpoint, auditLogId, readCheckpoint, signCheckpoint } from './audit-checkpoint.js';

const HEAD = 'ab'.repeat(32);

/** The PEM with the note's `"size": N` changed in the encapsulated bytes (same length, so still DER). */
const withSize = (pem: string, from: number, to: number): string => {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const der = Buffer.from(body, 'base64');
  const at = der.indexOf(`"size": ${from},`);
  expect(at).toBeGreaterThan(0);
  der.write(`"size": ${to},`, at);
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CMS-----\n${base64.trimEnd()}\n-----END CMS-----\n`;
};

describe.each(DIALECTS)('audit checkpoints on %s', (dialect) => {
  let t: TestCa;
  let checkpoint: AuditCheckpoint;
  let pem: string;
  let file: string;

  beforeAll(async () => {
    t = await createTestCa(dialect);
    checkpoint = {
      log: auditLogId(t.ca.ca('root').certificate),
      size: 1234,
      headHash: HEAD,
      time: Date.now(),
    };
    pem = await signCheckpoint(await t.ca.auditSigner(), checkpoint);
    file = await writeText(t.dir, 'checkpoint.pem', pem);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const opensslVerify = (path: string, extra: string[] = []) =>
    openssl(['cms', '-verify', '-inform', 'PEM', '-in', path, '-CAfile', t.files.root, ...extra]);

  it('makes one signer with the hierarchy, certified by the root for document signing only, and keeps it', async () => {
    const signer = await t.ca.auditSigner();
    expect(signer.certificate.issuer).toBe(t.ca.ca('root').certificate.subject);
    expect(await signer.certificate.verify({ publicKey: t.ca.ca('root').certificate.publicKey })).toBe(true);
    const certificate = await writeText(t.dir, 'signer.pem', signer.certificate.toString('pem'));
    const text = await openssl(['x509', '-in', certificate, '-noout', '-text']);
    expect(text.out).toMatch(/Key Usage: critical\s+Digital Signature\s/);
    expect(text.out).toMatch(/CA:FALSE/);
    expect(text.out).toContain('1.3.6.1.5.5.7.3.36');
    const chain = await openssl(['verify', '-x509_strict', '-CAfile', t.files.root, certificate]);
    expect(chain.code, chain.out).toBe(0);
    // Asked again, or by a second CA instance on the same database: the same signer.
    expect((await t.ca.auditSigner()).certificate.serialNumber).toBe(signer.certificate.serialNumber);
    const rows = await t.store.db.selectFrom('audit_signers').selectAll().execute();
    expect(rows).toHaveLength(1);
    const registered = await t.store.db
      .selectFrom('certificates')
      .select(['ca_id', 'profile'])
      .where('serial', '=', rows[0]?.certificate_serial ?? '')
      .executeTakeFirst();
    expect(registered).toEqual({ ca_id: 'root', profile: 'audit-checkpoint' });
    const audit = await t.store.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'audit-signer.created')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('gives an installation from before checkpoints one signer, however many servers start at once', async () => {
    const other = await createTestCa(dialect);
    try {
      // As a hierarchy made before the signer existed: no row (its old certificate stays registered).
      const made = await currentAuditSigner(other.store.db);
      await other.store.db.deleteFrom('audit_signers').execute();
      // On PostgreSQL as separate servers would (own pools); SQLite's one writer is one connection.
      const connect = async (): Promise<Store> =>
        dialect === 'postgres'
          ? openStore({ url: other.store.url })
          : { ...other.store, close: async () => {} };
      const first = await connect();
      const second = await connect();
      const third = await connect();
      const keyStore = () => new FileKeyStore(`${other.dir}/keys`, 'test passphrase');
      const cas = await Promise.all(
        [first, second, third].map((store) =>
          CertificateAuthority.open({ db: store.db, keyStore: keyStore(), clock: realClock }),
        ),
      );
      try {
        const signers = await Promise.all(cas.map((ca) => ca.auditSigner()));
        const serials = new Set(signers.map((s) => s.certificate.serialNumber));
        expect(serials.size).toBe(1);
        expect(made?.certificateSerial).toMatch(/^[0-9a-f]+$/);
        expect([...serials][0]?.toLowerCase()).not.toBe(made?.certificateSerial);
        expect(await other.store.db.selectFrom('audit_signers').selectAll().execute()).toHaveLength(1);
        // The ones that did not create it opened the same key: their checkpoints verify too.
        const opened = signers[2];
        if (opened === undefined) throw new Error('no signer');
        const signed = await signCheckpoint(opened, {
          ...checkpoint,
          log: auditLogId(other.ca.ca('root').certificate),
        });
        expect(readCheckpoint(signed, other.ca.ca('root').certificate)).toMatchObject({ ok: true });
      } finally {
        for (const ca of cas) await ca.close();
        await first.close();
        await second.close();
        await third.close();
      }
    } finally {
      await other.dispose();
    }
  });

  it('signs a checkpoint that reads back, and that OpenSSL alone verifies against the root', async () => {
    const signer = (await currentAuditSigner(t.store.db))?.certificateSerial;
    expect(readCheckpoint(pem, t.ca.ca('root').certificate)).toEqual({ ok: true, checkpoint, signer });
    const verified = await opensslVerify(file, ['-purpose', 'any']);
    expect(verified.code, verified.out).toBe(0);
    expect(verified.out).toContain('Verification successful');
    expect(JSON.parse(verified.out.slice(0, verified.out.lastIndexOf('}') + 1))).toEqual({
      format: 'reservkort-audit-checkpoint/1',
      log: checkpoint.log,
      size: 1234,
      headHash: HEAD,
      time: new Date(checkpoint.time).toISOString(),
    });
    // Not an S/MIME certificate: without -purpose any OpenSSL refuses it for that purpose.
    expect((await opensslVerify(file)).code).not.toBe(0);
  });

  it('signs an empty log', async () => {
    const empty = { ...checkpoint, size: 0, headHash: GENESIS_HASH };
    const signed = await signCheckpoint(await t.ca.auditSigner(), empty);
    expect(readCheckpoint(signed, t.ca.ca('root').certificate)).toMatchObject({
      ok: true,
      checkpoint: empty,
    });
  });

  it('refuses a changed note, a changed signature and garbage, as OpenSSL does', async () => {
    const root = t.ca.ca('root').certificate;
    const changed = withSize(pem, 1234, 9234);
    expect(readCheckpoint(changed, root)).toEqual({
      ok: false,
      reason: 'the note does not match its signature',
    });
    const changedFile = await writeText(t.dir, 'changed.pem', changed);
    expect((await opensslVerify(changedFile, ['-purpose', 'any'])).code).not.toBe(0);

    const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    const flipped = Buffer.from(der);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 0x01;
    expect(readCheckpoint(new Uint8Array(flipped), root)).toMatchObject({ ok: false });

    expect(readCheckpoint('hello', root)).toEqual({ ok: false, reason: 'not a PEM or DER CMS file' });
    expect(readCheckpoint('-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n', root)).toMatchObject({
      ok: false,
    });
    expect(readCheckpoint(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), root)).toMatchObject({ ok: false });
  });

  it('refuses a checkpoint of another hierarchy, and a certificate that is not the audit signer', async () => {
    const other = await createTestCa(dialect);
    try {
      const foreign = readCheckpoint(pem, other.ca.ca('root').certificate);
      expect(foreign).toEqual({ ok: false, reason: 'the signer is not certified by this root CA' });
      // An OCSP signer of the right hierarchy has a key, but not the purpose.
      const ocsp = t.ca.ca('ocsp-loa3');
      const byOcsp = await signCheckpoint(
        { certificate: ocsp.certificate, key: ocsp.key, root: t.ca.ca('root').certificate },
        checkpoint,
      );
      expect(readCheckpoint(byOcsp, t.ca.ca('loa3').certificate)).toEqual({
        ok: false,
        reason: 'the signer is not an audit checkpoint signer',
      });
      // A right signer that signs a note naming another log.
      const wrongLog = await signCheckpoint(await t.ca.auditSigner(), {
        ...checkpoint,
        log: 'cd'.repeat(32),
      });
      expect(readCheckpoint(wrongLog, t.ca.ca('root').certificate)).toEqual({
        ok: false,
        reason: 'the checkpoint is of another log (another root CA)',
      });
    } finally {
      await other.dispose();
    }
  });
});

describe('audit checkpoints with RSA keys', () => {
  let t: TestCa;
  beforeAll(async () => {
    t = await createTestCa('sqlite', { keySpec: 'rsa-2048' });
  });
  afterAll(async () => {
    await t?.dispose();
  });

  it('signs with the root’s key type, and OpenSSL verifies it', async () => {
    const checkpoint = {
      log: auditLogId(t.ca.ca('root').certificate),
      size: 7,
      headHash: HEAD,
      time: Date.now(),
    };
    const pem = await signCheckpoint(await t.ca.auditSigner(), checkpoint);
    expect(readCheckpoint(pem, t.ca.ca('root').certificate)).toMatchObject({ ok: true, checkpoint });
    const file = await writeText(t.dir, 'rsa-checkpoint.pem', pem);
    const verified = await openssl([
      'cms',
      '-verify',
      '-inform',
      'PEM',
      '-in',
      file,
      '-CAfile',
      t.files.root,
      '-purpose',
      'any',
    ]);
    expect(verified.code, verified.out).toBe(0);
  });
});
