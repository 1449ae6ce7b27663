// The strict, widely deployed clients as judges of everything the CA signs: GnuTLS's certtool and
// ocsptool, and OpenSSL with -x509_strict and CRL checks on the whole chain.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { promisify } from 'node:util';
import type { CardNumber } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pemOf } from '../encoding/pem-text.js';
import { OcspResponder } from '../ocsp/ocsp-responder.js';
import {
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
import { BUREAU_CA, type CaId, type CrlCaId } from './certificate-authority.js';

const exec = promisify(execFile);

/** Runs a GnuTLS tool; never throws, so a test can assert on a refusal. */
const gnutls = async (tool: 'certtool' | 'ocsptool', args: readonly string[]) => {
  try {
    const { stdout, stderr } = await exec(tool, [...args], { timeout: 20_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : 1,
      out: `${failed.stdout ?? ''}${failed.stderr ?? ''}`,
    };
  }
};

describe('the CA judged by strict clients', () => {
  let t: TestCa;
  let responder: OcspResponder;
  const pems = new Map<string, string>();
  let goodCard: { serial: string; pem: string };
  let revokedCard: { serial: string; pem: string };
  let loa2Card: { serial: string; pem: string };

  const caPem = (id: CaId) => pemOf(t.ca.ca(id).certificate);
  /** A chain file made as every nginx user makes one: `cat leaf.pem issuer.pem root.pem`. */
  const chainFile = (name: string, ...parts: string[]) =>
    writeText(t.dir, `${name}.chain.pem`, parts.join(''));
  const crlFile = async (id: CrlCaId) =>
    writeText(t.dir, `${id}.crl.pem`, crlPem((await t.ca.currentCrl(id)).der));

  beforeAll(async () => {
    t = await createTestCa('sqlite');
    await t.ca.bureau();
    responder = new OcspResponder(t.ca, t.store.db, realClock);
    goodCard = await t.ca.issue(issueRequest((await makeCsr()).pem));
    revokedCard = await t.ca.issue(issueRequest((await makeCsr()).pem));
    await t.ca.revoke(revokedCard.serial, 'keyCompromise', 'operator');
    loa2Card = await t.ca.issue(issueRequest((await makeCsr()).pem, { caId: 'loa2', profile: 'card-sign' }));
    const bureauKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cardBureau = await t.ca.issueCardBureau({
      spki: new Uint8Array(bureauKey.publicKey.export({ format: 'der', type: 'spki' })),
      cardNumber: '9752278900000000300' as CardNumber,
      actor: 'bureau',
    });
    const station = await t.ca.issueStation({
      csr: (await makeCsr()).pem,
      stationId: 'st-kortstation_01',
      branchId: 'branch-vardcentral-norr',
      actor: 'operator',
    });
    pems.set('card-bureau', cardBureau.pem);
    pems.set('station', station.pem);
  });
  afterAll(async () => {
    responder?.close();
    await t?.dispose();
  });

  it('ends every PEM with a newline, so concatenated files stay valid', () => {
    for (const pem of [goodCard.pem, caPem('root'), caPem('loa3'), pems.get('station') ?? '']) {
      expect(pem.endsWith('-----\n')).toBe(true);
    }
  });

  it('passes certtool --verify-chain on every chain the CA makes', async () => {
    const root = caPem('root');
    const chains: Record<string, string[]> = {
      'loa3-card-auth': [goodCard.pem, caPem('loa3'), root],
      'loa2-card-sign': [loa2Card.pem, caPem('loa2'), root],
      'bureau-card': [pems.get('card-bureau') ?? '', caPem(BUREAU_CA), root],
      'bureau-station': [pems.get('station') ?? '', caPem(BUREAU_CA), root],
      'ocsp-loa3': [caPem('ocsp-loa3'), caPem('loa3'), root],
      'ocsp-loa2': [caPem('ocsp-loa2'), caPem('loa2'), root],
      'ocsp-root': [caPem('ocsp-root'), root],
    };
    for (const [name, parts] of Object.entries(chains)) {
      const checked = await gnutls('certtool', [
        '--verify-chain',
        '--infile',
        await chainFile(name, ...parts),
      ]);
      expect(checked.code, `${name}: ${checked.out}`).toBe(0);
      expect(checked.out).toContain('Chain verification output: Verified');
    }
  });

  it('gives OCSP answers ocsptool parses and verifies: good, revoked and unknown, for cards and CAs', async () => {
    const loa3 = await writeText(t.dir, 'loa3-trust.pem', caPem('loa3'));
    const root = t.files.root;
    const cases = [
      { name: 'card-good', issuer: 'loa3', serial: goodCard.serial, trust: loa3, status: 'good' },
      { name: 'card-revoked', issuer: 'loa3', serial: revokedCard.serial, trust: loa3, status: 'revoked' },
      { name: 'card-unknown', issuer: 'loa3', serial: '1234567890abcdef', trust: loa3, status: 'unknown' },
      {
        name: 'ca-good',
        issuer: 'root',
        serial: t.ca.ca('loa3').certificate.serialNumber,
        trust: root,
        status: 'good',
      },
      { name: 'ca-unknown', issuer: 'root', serial: '1234567890abcdef', trust: root, status: 'unknown' },
    ] as const;
    for (const c of cases) {
      const answer = await responder.respond(ocspRequestFor(t.ca.ca(c.issuer).certificate, c.serial), c.name);
      const file = await writeText(t.dir, `${c.name}.ocsp.der`, answer.der);
      const info = await gnutls('ocsptool', ['-j', '--infile', file]);
      expect(info.code, `${c.name}: ${info.out}`).toBe(0);
      expect(info.out).toContain(`Certificate Status: ${c.status}`);
      expect(info.out).toMatch(/Produced At: \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}/);
      expect(info.out).toContain('Next Update:');
      if (c.status === 'revoked') expect(info.out).toContain('Revocation time:');
      // The delegated signer in the answer, checked against the CA that issued it.
      const verified = await gnutls('ocsptool', ['-e', '--infile', file, '--load-trust', c.trust]);
      expect(verified.out, c.name).toContain('Verifying OCSP Response: Success');
    }
  });

  it('passes openssl verify -x509_strict -crl_check_all with the root and CA CRLs, and refuses revoked cards', async () => {
    const crls = ['-CRLfile', await crlFile('root'), '-CRLfile', await crlFile('loa3')];
    const verify = async (name: string, pem: string) =>
      openssl([
        'verify',
        '-x509_strict',
        '-crl_check_all',
        '-CAfile',
        t.files.root,
        '-untrusted',
        t.files.loa3,
        ...crls,
        await writeText(t.dir, `${name}.pem`, pem),
      ]);
    const good = await verify('good-card', goodCard.pem);
    expect(good.code, good.out).toBe(0);
    expect(good.out).toContain(': OK');
    const revoked = await verify('revoked-card', revokedCard.pem);
    expect(revoked.code).not.toBe(0);
    expect(revoked.out).toContain('certificate revoked');
  });

  // Last: it revokes the LoA2 CA, which the other tests use.
  it('refuses a good card under a revoked CA, with the root CRL', async () => {
    const verify = async () =>
      openssl([
        'verify',
        '-x509_strict',
        '-crl_check_all',
        '-CAfile',
        t.files.root,
        '-untrusted',
        t.files.loa2,
        '-CRLfile',
        await crlFile('root'),
        '-CRLfile',
        await crlFile('loa2'),
        await writeText(t.dir, 'loa2-card.pem', loa2Card.pem),
      ]);
    const before = await verify();
    expect(before.code, before.out).toBe(0);
    await t.ca.revoke(t.ca.ca('loa2').certificate.serialNumber, 'cACompromise', 'operator');
    const after = await verify();
    expect(after.code).not.toBe(0);
    expect(after.out).toContain('certificate revoked');
    const answer = await responder.respond(
      ocspRequestFor(t.ca.ca('root').certificate, t.ca.ca('loa2').certificate.serialNumber),
      'loa2-revoked',
    );
    const file = await writeText(t.dir, 'loa2-revoked.ocsp.der', answer.der);
    expect((await gnutls('ocsptool', ['-j', '--infile', file])).out).toContain('Certificate Status: revoked');
  });
});
