import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CardNumber, HsaId } from '@reservkort/domain';
import { buildPkiApp, OcspResponder, RevocationWatcher } from '@reservkort/pki';
import { openStore, type Store } from '@reservkort/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCsr, openssl, writeText } from '../../../pki/src/test-support/test-ca.js';
import { createTestStore, DIALECTS, type TestStore } from '../../../store/src/test-support/test-stores.js';
import { dataFolder } from '../config/data-folder.js';
import { openCa, systemClock } from './ca-context.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const cli = async (env: Record<string, string>, args: readonly string[]): Promise<CliResult> => {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};

describe.each(DIALECTS)('reservkort command line on %s', (dialect) => {
  let dir: string;
  let env: Record<string, string>;
  let database: TestStore | undefined;
  let store: Store;
  let app: FastifyInstance;
  let responder: OcspResponder;
  let watcher: RevocationWatcher;
  let ocspUrl: string;
  let serial: string;
  let leaf: string;
  let files: { root: string; loa3: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-cli-'));
    env = { RESERVKORT_DATA: join(dir, 'data') };
    if (dialect === 'postgres') {
      database = await createTestStore('postgres', { migrate: false });
      env.DATABASE_URL = database.url;
    } else {
      // No DATABASE_URL: the data folder's SQLite file is used.
      env.DATABASE_URL = '';
      delete env.DATABASE_URL;
    }
    const init = await cli(env, ['ca', 'init', '--base-url', 'http://127.0.0.1:9']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toContain('[1/6] root');
    expect(init.stderr).toContain('passphrase generated');
    expect(init.stdout).toContain('Person CA LoA3');

    const previousUrl = process.env.DATABASE_URL;
    if (env.DATABASE_URL) process.env.DATABASE_URL = env.DATABASE_URL;
    else delete process.env.DATABASE_URL;
    const folder = dataFolder(env.RESERVKORT_DATA);
    store = await openStore({ url: env.DATABASE_URL ?? `sqlite:${folder.sqliteFile}` });
    const ca = await openCa(folder, store);
    if (previousUrl === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = previousUrl;
    const now = Date.now();
    const issued = await ca.issue({
      caId: 'loa3',
      profile: 'card-auth',
      csr: (await makeCsr()).pem,
      holder: {
        hsaId: 'SE2321000016-anna' as HsaId,
        givenName: 'Anna',
        surname: 'Andersson',
        organisation: 'Region',
      },
      cardNumber: '9752278900000000100' as CardNumber,
      validity: { notBefore: now, notAfter: now + 86_400_000 },
      orderId: null,
      actor: 'test',
    });
    serial = issued.serial;
    leaf = await writeText(dir, 'leaf.pem', issued.pem);
    files = {
      root: await writeText(dir, 'root.pem', ca.ca('root').certificate.toString('pem')),
      loa3: await writeText(dir, 'loa3.pem', ca.ca('loa3').certificate.toString('pem')),
    };
    responder = new OcspResponder(ca, store.db, systemClock);
    watcher = new RevocationWatcher(store.db, () => responder.invalidate());
    await watcher.start();
    app = await buildPkiApp(ca, responder);
    ocspUrl = `${await app.listen({ port: 0, host: '127.0.0.1' })}/ocsp`;
  });

  afterAll(async () => {
    await app?.close();
    watcher?.stop();
    responder?.close();
    await store?.close();
    await database?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const ocsp = () =>
    openssl([
      'ocsp',
      '-issuer',
      files.loa3,
      '-CAfile',
      files.root,
      '-cert',
      leaf,
      '-url',
      ocspUrl,
      '-no_nonce',
    ]);

  it('lists and shows certificates, as a table and as JSON', async () => {
    const list = await cli(env, ['cert', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout) as { serial: string; status: string; profile: string }[];
    expect(rows.find((r) => r.serial === serial)).toMatchObject({ status: 'good', profile: 'card-auth' });
    const revoked = await cli(env, ['cert', 'list', '--status', 'revoked', '--json']);
    expect(JSON.parse(revoked.stdout)).toEqual([]);
    const pem = await cli(env, ['cert', 'show', serial, '--pem']);
    expect(pem.stdout).toContain('BEGIN CERTIFICATE');
    const shown = await cli(env, ['cert', 'show', serial.toUpperCase()]);
    expect(shown.stdout).toMatch(/hsaId\s+SE2321000016-anna/);
    expect(shown.stdout).toMatch(/cardNumber\s+9752278900000000100/);
    const cas = await cli(env, ['ca', 'show', '--json']);
    expect((JSON.parse(cas.stdout) as { id: string }[]).map((c) => c.id).sort()).toEqual([
      'bureau',
      'loa2',
      'loa3',
      'ocsp-loa2',
      'ocsp-loa3',
      'ocsp-root',
      'root',
    ]);
  });

  it('revokes from another process, and OCSP says revoked within one second', async () => {
    const before = await ocsp();
    expect(before.out).toContain(': good');
    expect(responder.cachedResponses).toBeGreaterThan(0);
    const revoke = await cli(env, ['cert', 'revoke', serial, '--reason', 'keyCompromise']);
    const revokedAt = Date.now();
    expect(revoke.code, revoke.stderr).toBe(0);
    let answer = await ocsp();
    while (!answer.out.includes(': revoked') && Date.now() - revokedAt < 3000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await ocsp();
    }
    const elapsed = Date.now() - revokedAt;
    expect(answer.out).toContain(': revoked');
    expect(answer.out).toContain('Reason: keyCompromise');
    expect(elapsed).toBeLessThan(1000);
  });

  it('publishes CRLs and verifies the audit log', async () => {
    const crl = await cli(env, ['crl', 'publish']);
    expect(crl.stdout).toContain('published CRL for loa3');
    expect(crl.stdout).toContain('published CRL for bureau');
    const audit = await cli(env, ['audit', 'verify']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/audit log intact: \d+ entries/);
  });

  it('fails with one clear line and a non-zero exit', async () => {
    const unknown = await cli(env, ['cert', 'revoke', 'ffff', '--reason', 'keyCompromise']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain('[CERTIFICATE_NOT_FOUND]');
    const reason = await cli(env, ['cert', 'revoke', serial, '--reason', 'because']);
    expect(reason.stderr).toContain('[REVOCATION_REASON_INVALID]');
    const again = await cli(env, ['ca', 'init']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('[CA_ALREADY_INITIALISED]');
    const status = await cli(env, ['cert', 'list', '--status', 'maybe']);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('--status must be good or revoked');
  });
});

describe('reservkort help', () => {
  it.each([[[]], [['ca']], [['cert', 'revoke']], [['audit']]])(
    'answers --help on every level: %j',
    async (words) => {
      const result = await cli({}, [...words, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: reservkort');
    },
  );

  it('refuses an unknown command with a non-zero exit', async () => {
    const result = await cli({}, ['frobnicate']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });

  it('refuses a CA in a folder that has none', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'reservkort-empty-'));
    try {
      const result = await cli({ RESERVKORT_DATA: empty }, ['crl', 'publish']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('[CA_NOT_INITIALISED]');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('reservkort ca init on a PKCS#11 token', () => {
  it('keeps the CA keys on the token and works from the settings it wrote', async () => {
    const { createSoftHsm, pkcs11Tool } = await import('../../../pki/src/test-support/softhsm.js');
    const hsm = await createSoftHsm();
    const dir = await mkdtemp(join(tmpdir(), 'reservkort-cli-hsm-'));
    try {
      await hsm.initToken('cli-ca', '112233');
      const env = {
        RESERVKORT_DATA: dir,
        RESERVKORT_PKCS11_PIN: '112233',
        SOFTHSM2_CONF: process.env.SOFTHSM2_CONF ?? '',
      };
      const init = await cli(env, ['ca', 'init', '--pkcs11-module', hsm.module, '--pkcs11-token', 'cli-ca']);
      expect(init.code, init.stderr).toBe(0);
      expect(init.stderr).not.toContain('passphrase');
      const objects = await pkcs11Tool(hsm, [
        '--token-label',
        'cli-ca',
        '--login',
        '--pin',
        '112233',
        '--list-objects',
      ]);
      // The six CA keys (three OCSP signers among them), the audit checkpoint signer's and the bureau's.
      expect(objects.match(/Private Key Object/g)).toHaveLength(8);
      const crl = await cli(env, ['crl', 'publish', '--ca', 'loa3']);
      expect(crl.code, crl.stderr).toBe(0);
      const noPin = await cli({ ...env, RESERVKORT_PKCS11_PIN: '' }, ['crl', 'publish']);
      expect(noPin.code).toBe(1);
      expect(noPin.stderr).toContain('[CA_KEY_UNAVAILABLE]');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await hsm.dispose();
    }
  });
});
