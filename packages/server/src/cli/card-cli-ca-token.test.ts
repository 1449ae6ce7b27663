// `reservkort card issue-admin` where the CA's keys are on a PKCS#11 token of the same module as the
// card (SoftHSM2: one library, several tokens): the CA's key store and the card code share one
// initialised module, so neither may finalise it under the other, and a real failure is what prints.
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CardNumber } from '@reservkort/domain';
import { getCa } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsm, pkcs11Tool, type SoftHsm } from '../../../pki/src/test-support/softhsm.js';
import { dataFolder } from '../config/data-folder.js';
import { runReservkort } from '../test-support/reservkort-cli.js';
import { openDataStore } from './ca-context.js';

const run = promisify(execFile);

const CA_TOKEN = 'reservkort-ca';
const CA_PIN = '11223344';
const PIN = '246810';
const PUK = '13579246';
const CARD = '9752278900000000801' as CardNumber;
const ADMIN = 'SE2321000016-cad1';

describe('reservkort card with the CA key on a token of the same module', { timeout: 120_000 }, () => {
  let hsm: SoftHsm;
  let dir: string;

  const cli = (args: readonly string[], env: Record<string, string> = {}) =>
    runReservkort(dir, args, { RESERVKORT_PKCS11_PIN: CA_PIN, ...env });
  const issueAdmin = () =>
    cli(['card', 'issue-admin', '--pkcs11-module', hsm.module, '--card-number', CARD, '--hsa-id', ADMIN], {
      RESERVKORT_CARD_PIN: PIN,
    });

  beforeAll(async () => {
    hsm = await createSoftHsm();
    dir = await mkdtemp(join(tmpdir(), 'reservkort-card-ca-token-'));
    await hsm.initToken(CA_TOKEN, CA_PIN);
    const ca = await cli([
      'ca',
      'init',
      '--pkcs11-module',
      hsm.module,
      '--pkcs11-token',
      CA_TOKEN,
      '--base-url',
      'http://127.0.0.1:9',
      '--organisation',
      'Kort CA',
    ]);
    expect(ca.code, ca.stderr).toBe(0);
    const directory = join(dir, 'directory.json');
    await writeFile(
      directory,
      JSON.stringify({
        branches: [{ id: 'region', parentId: null, name: 'Region Exempel' }],
        admins: [
          { hsaId: ADMIN, givenName: 'Karin', surname: 'Kort', roles: [{ role: 'KRA', branchId: 'region' }] },
        ],
      }),
    );
    expect((await cli(['directory', 'import', directory])).code).toBe(0);
  });
  afterAll(async () => {
    await hsm?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('initialises the card and issues the administrator’s certificates, exit 0; a rerun says the card holds keys', async () => {
    const init = await cli(
      ['card', 'init', '--pkcs11-module', hsm.module, '--slot', 'free', '--card-number', CARD],
      { RESERVKORT_CARD_PIN: PIN, RESERVKORT_CARD_PUK: PUK },
    );
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toBe('');

    const issued = await issueAdmin();
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stderr).toBe('');
    expect(issued.stdout).toContain(CARD);

    // The card's certificates, read by pkcs11-tool and judged by OpenSSL against the CA's chain.
    const store = await openDataStore(dataFolder(dir));
    const pems: Record<string, string> = {};
    try {
      for (const id of ['root', 'loa3']) {
        const ca = await getCa(store.db, id);
        if (ca === null) throw new Error(`no CA ${id}`);
        pems[id] = join(dir, `${id}.pem`);
        await writeFile(pems[id], `${ca.certificatePem.trimEnd()}\n`);
      }
    } finally {
      await store.close();
    }
    for (const label of ['reservkort-auth', 'reservkort-sign']) {
      const der = join(dir, `${label}.der`);
      await pkcs11Tool(hsm, [
        '--token-label',
        CARD,
        '--read-object',
        '--type',
        'cert',
        '--label',
        label,
        '--output-file',
        der,
      ]);
      const pem = join(dir, `${label}.pem`);
      await run('openssl', ['x509', '-inform', 'DER', '-in', der, '-out', pem]);
      const verified = await run('openssl', [
        'verify',
        '-CAfile',
        pems.root ?? '',
        '-untrusted',
        pems.loa3 ?? '',
        pem,
      ]);
      expect(verified.stdout.trim()).toBe(`${pem}: OK`);
    }

    // The second time the card already holds keys: that is what the operator must read, not the module's state.
    const again = await issueAdmin();
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already holds keys or certificates; --force replaces them \[CARD_ERROR\]/);
    expect(again.stderr).not.toMatch(/CRYPTOKI|CKR_/);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
  });
});
