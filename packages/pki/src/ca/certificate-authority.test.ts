import { join } from 'node:path';
import { CODE_INFO, ERROR_CODES } from '@reservkort/domain';
import {
  closeIntent,
  getCertificate,
  insertFlow,
  insertIntents,
  listAudit,
  listCertificates,
} from '@reservkort/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { FileKeyStore } from '../keys/file-key-store.js';
import { DEFAULT_POLICY_OIDS } from '../oids.js';
import { isPkiError } from '../pki-error.js';
import { summariseCertificate } from '../profiles/certificate-summary.js';
import {
  CARD_NUMBER,
  createTestCa,
  crlPem,
  HOLDER,
  issueRequest,
  makeCsr,
  openssl,
  realClock,
  type TestCa,
  writeText,
} from '../test-support/test-ca.js';
import { CertificateAuthority } from './certificate-authority.js';

/** Every CA code must be reached by some test here; the last test checks it. */
const reached = new Set<string>();
const expectCode = async (promise: Promise<unknown>, code: string) => {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isPkiError(error), String(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  reached.add(code);
};

describe.each(DIALECTS)('certificate authority on %s', (dialect) => {
  let t: TestCa;
  beforeAll(async () => {
    t = await createTestCa(dialect);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const verify = (leaf: string, issuer: 'loa3' | 'loa2', policy: string, extra: string[] = []) =>
    openssl([
      'verify',
      '-x509_strict',
      '-policy_check',
      '-explicit_policy',
      '-policy',
      policy,
      '-CAfile',
      t.files.root,
      '-untrusted',
      t.files[issuer],
      ...extra,
      leaf,
    ]);

  it('builds a hierarchy OpenSSL accepts', async () => {
    expect(t.ca.all.map((c) => c.id).sort()).toEqual([
      'bureau',
      'loa2',
      'loa3',
      'ocsp-loa2',
      'ocsp-loa3',
      'ocsp-root',
      'root',
    ]);
    const result = await openssl(['verify', '-x509_strict', '-CAfile', t.files.root, t.files.loa3]);
    expect(result.out).toContain('OK');
    const text = await openssl(['x509', '-text', '-noout', '-in', t.files.loa3]);
    expect(text.out).toMatch(/CA:TRUE, pathlen:0/);
    expect(text.out).toContain(`Policy: ${DEFAULT_POLICY_OIDS.LoA3}`);
  });

  it('issues an authentication certificate that verifies under the LoA3 policy, with the full profile', async () => {
    const { pem } = await makeCsr();
    const issued = await t.ca.issue(issueRequest(pem));
    const leaf = await writeText(t.dir, `auth-${dialect}.pem`, issued.pem);
    const verified = await verify(leaf, 'loa3', DEFAULT_POLICY_OIDS.LoA3);
    expect(verified.code, verified.out).toBe(0);
    expect(verified.out).toContain(': OK');
    const text = (await openssl(['x509', '-text', '-noout', '-in', leaf])).out;
    expect(text).toContain(`serialNumber = ${HOLDER.hsaId}`);
    expect(text).toContain('CN = Anna Andersson');
    expect(text).toContain('O = Region Exempel');
    // An EC key: digitalSignature only (RFC 8813); RSA keys add keyEncipherment (certificate-profile.test.ts).
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(text).toContain('TLS Web Client Authentication');
    expect(text).toMatch(new RegExp(`1\\.2\\.752\\.34\\.2\\.1:\\s+\\.\\.${CARD_NUMBER}`));
    expect(text).toContain(`Policy: ${DEFAULT_POLICY_OIDS.LoA3}`);
    expect(text).toContain('OCSP - URI:http://127.0.0.1:3000/ocsp');
    expect(text).toContain('CA Issuers - URI:http://127.0.0.1:3000/pki/ca/loa3.crt');
    expect(text).toMatch(
      /CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/127\.0\.0\.1:3000\/pki\/crl\/loa3\.crl/,
    );
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(summariseCertificate(issued.pem)).toMatchObject({
      hsaId: HOLDER.hsaId,
      cardNumber: CARD_NUMBER,
      keyUsage: ['digitalSignature'],
      policies: [DEFAULT_POLICY_OIDS.LoA3],
    });
  });

  it('gives the signature certificate non-repudiation only, with the same issuer, HSA-id and card number', async () => {
    const { pem } = await makeCsr();
    const issued = await t.ca.issue(issueRequest(pem, { profile: 'card-sign' }));
    const summary = summariseCertificate(issued.pem);
    expect(summary).toMatchObject({
      keyUsage: ['nonRepudiation'],
      extendedKeyUsage: [],
      hsaId: HOLDER.hsaId,
      cardNumber: CARD_NUMBER,
    });
    const text = (
      await openssl([
        'x509',
        '-text',
        '-noout',
        '-in',
        await writeText(t.dir, `sign-${dialect}.pem`, issued.pem),
      ])
    ).out;
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Non Repudiation\n/);
  });

  it('never lets a certificate outlive the order, and takes nothing from the CSR subject', async () => {
    const { pem } = await makeCsr('ecdsa-p256', 'CN=Mallory, 2.5.4.5=SE2321000016-evil');
    const notAfter = Date.now() + 3_600_000;
    const issued = await t.ca.issue(
      issueRequest(pem, { validity: { notBefore: Date.now() - 86_400_000, notAfter } }),
    );
    expect(issued.certificate.notAfter.getTime()).toBeLessThanOrEqual(notAfter);
    expect(issued.certificate.notBefore.getTime()).toBeGreaterThanOrEqual(Date.now() - 10 * 60_000);
    expect(issued.certificate.subject).not.toContain('Mallory');
    expect(issued.certificate.subject).not.toContain('evil');
  });

  it('issues LoA2 certificates that fail the LoA3 policy check', async () => {
    const { pem } = await makeCsr();
    const issued = await t.ca.issue(issueRequest(pem, { caId: 'loa2' }));
    const leaf = await writeText(t.dir, `loa2-${dialect}.pem`, issued.pem);
    const asLoa2 = await verify(leaf, 'loa2', DEFAULT_POLICY_OIDS.LoA2);
    expect(asLoa2.code, asLoa2.out).toBe(0);
    const asLoa3 = await verify(leaf, 'loa2', DEFAULT_POLICY_OIDS.LoA3);
    expect(asLoa3.code).not.toBe(0);
    expect(asLoa3.out).toMatch(/no explicit policy|policy/i);
  });

  it('certifies card keys of the CA’s card key type only (P-256 here)', async () => {
    for (const kind of ['rsa-2048', 'ecdsa-p384'] as const) {
      await expectCode(t.ca.issue(issueRequest((await makeCsr(kind)).pem)), 'KEY_NOT_ALLOWED');
    }
  });

  it('records a certificate under its issuance intent, and none under a closed one', async () => {
    const flowId = `flow-intent-${dialect}`;
    await insertFlow(t.store.db, {
      id: flowId,
      orderId: null,
      admin2HsaId: null,
      status: 'active',
      step: 6,
      state: {},
      deadline: null,
      pendingEffects: [],
      createdAt: Date.now(),
    });
    const [open, closed] = ['card-auth', 'card-sign'] as const;
    await insertIntents(t.store.db, [
      { id: `${flowId}-a`, flowId, attempt: 1, purpose: open, createdAt: Date.now() },
      { id: `${flowId}-s`, flowId, attempt: 1, purpose: closed, createdAt: Date.now() },
    ]);
    const issued = await t.ca.issue(issueRequest((await makeCsr()).pem, { intentId: `${flowId}-a` }));
    expect((await getCertificate(t.store.db, issued.serial))?.intentId).toBe(`${flowId}-a`);
    await closeIntent(t.store.db, `${flowId}-s`, Date.now());
    const before = (await listCertificates(t.store.db)).length;
    await expect(
      t.ca.issue(issueRequest((await makeCsr()).pem, { profile: closed, intentId: `${flowId}-s` })),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await listCertificates(t.store.db)).toHaveLength(before);
    // A second certificate under the intent that already has one: refused the same way.
    await expect(
      t.ca.issue(issueRequest((await makeCsr()).pem, { intentId: `${flowId}-a` })),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses a CSR with a bad signature, a too-small key, or garbage', async () => {
    const { der } = await makeCsr();
    const tampered = new Uint8Array(der);
    tampered[tampered.length - 5] = (tampered[tampered.length - 5] ?? 0) ^ 0xff;
    await expectCode(t.ca.issue(issueRequest(tampered)), 'CSR_SIGNATURE_INVALID');
    await expectCode(t.ca.issue(issueRequest((await makeCsr('rsa-1024')).pem)), 'KEY_NOT_ALLOWED');
    await expectCode(t.ca.issue(issueRequest(new Uint8Array([0x30, 0x03, 1, 2, 3]))), 'CSR_INVALID');
    await expectCode(t.ca.issue(issueRequest('-----BEGIN CERTIFICATE REQUEST-----\nnope\n')), 'CSR_INVALID');
    await expectCode(t.ca.issue(issueRequest(new Uint8Array())), 'CSR_INVALID');
    await expectCode(t.ca.issue(issueRequest(new Uint8Array(20_000))), 'CSR_INVALID');
  });

  it('revokes: the CRL is re-published and OpenSSL rejects the certificate', async () => {
    const { pem } = await makeCsr();
    const issued = await t.ca.issue(issueRequest(pem));
    const leaf = await writeText(t.dir, `revoked-${dialect}.pem`, issued.pem);
    const before = await t.ca.currentCrl('loa3');
    const crlBefore = await writeText(t.dir, `before-${dialect}.crl`, crlPem(before.der));
    const ok = await verify(leaf, 'loa3', DEFAULT_POLICY_OIDS.LoA3, ['-crl_check', '-CRLfile', crlBefore]);
    expect(ok.code, ok.out).toBe(0);

    await t.ca.revoke(issued.serial.toUpperCase(), 'keyCompromise', 'operator');
    const after = await t.ca.currentCrl('loa3');
    const crlAfter = await writeText(t.dir, `after-${dialect}.crl`, crlPem(after.der));
    const rejected = await verify(leaf, 'loa3', DEFAULT_POLICY_OIDS.LoA3, [
      '-crl_check',
      '-CRLfile',
      crlAfter,
    ]);
    expect(rejected.code).not.toBe(0);
    expect(rejected.out).toContain('certificate revoked');

    const crlText = (await openssl(['crl', '-in', crlAfter, '-text', '-noout'])).out;
    expect(crlText).toMatch(/X509v3 CRL Number:\s+\d+/);
    expect(crlText).toContain('Next Update');
    expect(crlText).toContain(`Serial Number: ${issued.serial.toUpperCase()}`);
    expect(crlText).toContain('Key Compromise');
    const numbers = [before, after].map((c) => summariseCrlNumber(c.der));
    expect(numbers[1]).toBeGreaterThan(numbers[0] ?? 0);
  });

  it('refuses to revoke twice, an unknown serial, or for an unknown reason', async () => {
    const { pem } = await makeCsr();
    const issued = await t.ca.issue(issueRequest(pem));
    await t.ca.revoke(issued.serial, 'superseded', 'operator');
    await expectCode(t.ca.revoke(issued.serial, 'superseded', 'operator'), 'ALREADY_REVOKED');
    await expectCode(t.ca.revoke('abcdef', 'keyCompromise', 'operator'), 'CERTIFICATE_NOT_FOUND');
    await expectCode(t.ca.revoke(issued.serial, 'because', 'operator'), 'REVOCATION_REASON_INVALID');
  });

  it('revokes several certificates together, all or none, with the act’s own audit entry', async () => {
    const [a, b, c] = await Promise.all(
      [1, 2, 3].map(async () => t.ca.issue(issueRequest((await makeCsr()).pem))),
    );
    if (a === undefined || b === undefined || c === undefined) throw new Error('fixture');
    const act = { action: 'eid.revoked', subject: 'card', details: { by: 'holder' } };
    await t.ca.revoke(c.serial, 'superseded', 'operator');
    // One of them already revoked: nothing changes for the others.
    await expectCode(
      t.ca.revokeTogether([a.serial, c.serial], 'keyCompromise', 'holder', act),
      'ALREADY_REVOKED',
    );
    expect((await getCertificate(t.store.db, a.serial))?.revocation).toBeNull();
    await expectCode(
      t.ca.revokeTogether([a.serial, 'abcdef'], 'keyCompromise', 'holder', act),
      'CERTIFICATE_NOT_FOUND',
    );
    await expectCode(t.ca.revokeTogether([a.serial], 'because', 'holder', act), 'REVOCATION_REASON_INVALID');

    const done = await t.ca.revokeTogether(
      [b.serial.toUpperCase(), a.serial],
      'keyCompromise',
      'holder',
      act,
    );
    expect(done.reason).toBe('keyCompromise');
    for (const serial of [a.serial, b.serial])
      expect((await getCertificate(t.store.db, serial))?.revocation).toMatchObject({
        reason: 'keyCompromise',
        revokedAt: done.revokedAt,
        revokedBy: 'holder',
      });
    // The act's entries are the holder's; the CRL published after it is the CA's, and on a fast
    // machine it can fall within the same millisecond.
    const entries = (await listAudit(t.store.db, { limit: 100_000 })).filter(
      (e) => e.at === done.revokedAt && e.actor === 'holder',
    );
    expect(entries.map((e) => e.action).sort()).toEqual([
      'certificate.revoked',
      'certificate.revoked',
      'eid.revoked',
    ]);
    const crl = (
      await openssl([
        'crl',
        '-in',
        await writeText(t.dir, `together-${dialect}.crl`, crlPem((await t.ca.currentCrl('loa3')).der)),
        '-text',
        '-noout',
      ])
    ).out;
    for (const serial of [a.serial, b.serial])
      expect(crl).toContain(`Serial Number: ${serial.toUpperCase()}`);
    await expectCode(
      t.ca.revokeTogether([a.serial, b.serial], 'keyCompromise', 'holder', act),
      'ALREADY_REVOKED',
    );
  });

  it('cannot be created twice, and cannot be opened where none exists', async () => {
    await expectCode(
      CertificateAuthority.initialise({
        db: t.store.db,
        keyStore: new FileKeyStore(join(t.dir, 'k2'), 'x'),
        clock: realClock,
      }),
      'CA_ALREADY_INITIALISED',
    );
    const empty = await createTestStore(dialect);
    try {
      await expectCode(
        CertificateAuthority.open({ db: empty.db, keyStore: new FileKeyStore(t.dir, 'x'), clock: realClock }),
        'CA_NOT_INITIALISED',
      );
    } finally {
      await empty.dispose();
    }
  });

  it('opens again from the store with the right passphrase only', async () => {
    const again = await CertificateAuthority.open({
      db: t.store.db,
      keyStore: new FileKeyStore(join(t.dir, 'keys'), 'test passphrase'),
      clock: realClock,
    });
    const issued = await again.issue(issueRequest((await makeCsr()).pem));
    const leaf = await writeText(t.dir, `reopened-${dialect}.pem`, issued.pem);
    expect((await verify(leaf, 'loa3', DEFAULT_POLICY_OIDS.LoA3)).code).toBe(0);
    await expectCode(
      CertificateAuthority.open({
        db: t.store.db,
        keyStore: new FileKeyStore(join(t.dir, 'keys'), 'wrong'),
        clock: realClock,
      }),
      'CA_KEY_UNAVAILABLE',
    );
  });

  it('records every change in an intact audit chain', async () => {
    const { verifyAudit, listAudit } = await import('@reservkort/store');
    expect(await verifyAudit(t.store.db)).toMatchObject({ ok: true });
    const actions = (await listAudit(t.store.db, { limit: 1000 })).map((e) => e.action);
    expect(actions).toContain('ca.created');
    expect(actions).toContain('certificate.issued');
    expect(actions).toContain('certificate.revoked');
    expect(actions).toContain('crl.published');
  });
});

describe('a CA with RSA keys', () => {
  let t: TestCa | undefined;
  afterEach(async () => {
    await t?.dispose();
  });

  it('signs certificates and CRLs OpenSSL accepts', async () => {
    t = await createTestCa('sqlite', {
      keySpec: 'rsa-2048',
      cardKeyTypes: { LoA3: 'rsa-2048', LoA2: 'rsa-2048' },
    });
    const issued = await t.ca.issue(issueRequest((await makeCsr('rsa-2048')).pem));
    const leaf = await writeText(t.dir, 'rsa-leaf.pem', issued.pem);
    const crl = await writeText(t.dir, 'rsa.crl', crlPem((await t.ca.currentCrl('loa3')).der));
    const result = await openssl([
      'verify',
      '-x509_strict',
      '-crl_check',
      '-CRLfile',
      crl,
      '-CAfile',
      t.files.root,
      '-untrusted',
      t.files.loa3,
      leaf,
    ]);
    expect(result.code, result.out).toBe(0);
  });
});

describe('CA error codes', () => {
  it('every code the CA can raise is reached by a test above', () => {
    const pkiCodes = ERROR_CODES.filter((code) => CODE_INFO[code].step === 'pki');
    expect([...reached].sort()).toEqual([...pkiCodes].sort());
  });
});

/** The CRL Number of a DER CRL, read back through OpenSSL's parser-independent view. */
function summariseCrlNumber(der: Uint8Array): number {
  // CRL Number is the only INTEGER extension we write: 06 03 55 1d 14 04 len 02 len value.
  const bytes = Buffer.from(der);
  const at = bytes.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x14]));
  const intAt = at + 5 + 2;
  const length = bytes[intAt + 1] ?? 0;
  return Number.parseInt(bytes.subarray(intAt + 2, intAt + 2 + length).toString('hex'), 16);
}

describe('serial numbers', () => {
  it('are positive, 16 bytes, and never start with a zero digit', async () => {
    const { serialFrom } = await import('./certificate-authority.js');
    for (const first of [0x00, 0x01, 0x0f, 0x10, 0x7f, 0x80, 0xff]) {
      const serial = serialFrom((n) => new Uint8Array(n).fill(first));
      expect(serial).toHaveLength(32);
      expect(serial).toMatch(/^[1-7]/);
    }
  });
});

describe('a revocation whose CRL was never published (crash in between)', () => {
  it('brings the CRL up to date when the revocation is retried', async () => {
    const t = await createTestCa('sqlite');
    try {
      const issued = await t.ca.issue(issueRequest((await makeCsr()).pem));
      const { insertRevocation, getCrl } = await import('@reservkort/store');
      // What a crash right after the revocation's commit leaves behind: a revocation, an old CRL.
      await insertRevocation(t.store.db, {
        serial: issued.serial,
        revokedAt: Date.now() + 1,
        reason: 'keyCompromise',
        revokedBy: 'x',
      });
      const before = await getCrl(t.store.db, 'loa3');
      await expect(t.ca.revoke(issued.serial, 'keyCompromise', 'retry')).rejects.toMatchObject({
        code: 'ALREADY_REVOKED',
      });
      const after = await getCrl(t.store.db, 'loa3');
      expect(after?.crlNumber).toBeGreaterThan(before?.crlNumber ?? 0);
      const text = await openssl([
        'crl',
        '-inform',
        'DER',
        '-in',
        await writeText(t.dir, 'retry.crl', after?.der ?? new Uint8Array()),
        '-noout',
        '-text',
      ]);
      expect(text.out).toContain(issued.serial.toUpperCase());
    } finally {
      await t.dispose();
    }
  });
});
