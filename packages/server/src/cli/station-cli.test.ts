// `reservkort station` as a real process on a data folder: registration writes the agent's key and
// certificate, OpenSSL verifies the certificate, `cert list` shows it, and after `cert revoke` the
// station's statements are refused with STATION_REVOKED.
import { execFile } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StationIdentity } from '@reservkort/agent';
import { canonicalStatementBytes, type StatementPayload } from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import { openStore, type Store, upsertBranches } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSoftHsm } from '../../../pki/src/test-support/softhsm.js';
import { openssl, writeText } from '../../../pki/src/test-support/test-ca.js';
import { dataFolder } from '../config/data-folder.js';
import { newStationNonce, verifyStatement } from '../station/station-statement.service.js';
import { openCa } from './ca-context.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;

const cli = async (env: Record<string, string>, args: readonly string[]) => {
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

describe('reservkort station', () => {
  let dir: string;
  let env: Record<string, string>;
  let store: Store;
  let ca: CertificateAuthority;
  let agentData: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-station-'));
    agentData = join(dir, 'agent');
    env = { RESERVKORT_DATA: join(dir, 'data') };
    const init = await cli(env, ['ca', 'init', '--base-url', 'http://127.0.0.1:9']);
    expect(init.code, init.stderr).toBe(0);
    const folder = dataFolder(env.RESERVKORT_DATA);
    store = await openStore({ url: `sqlite:${folder.sqliteFile}` });
    await upsertBranches(store.db, [
      { id: 'region', parentId: null, name: 'Region Exempel' },
      { id: 'clinic', parentId: 'region', name: 'Kliniken' },
    ]);
    ca = await openCa(folder, store);
  }, 120_000);
  afterAll(async () => {
    await ca?.close();
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('explains itself with --help', async () => {
    const help = await cli(env, ['station', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('register');
    expect(help.stdout).toContain('list');
    const register = await cli(env, ['station', 'register', '--help']);
    expect(register.stdout).toContain('--agent-data <dir>');
    expect(register.stdout).toContain('--branch <id>');
    expect(register.stdout).toContain('--name <name>');
  });

  it('registers a station, revokes it with cert revoke, and its statements are then refused', async () => {
    const registered = await cli(env, [
      'station',
      'register',
      '--agent-data',
      agentData,
      '--branch',
      'clinic',
      '--name',
      'Disk 1',
      '--json',
    ]);
    expect(registered.code, registered.stderr).toBe(0);
    const shown = JSON.parse(registered.stdout);
    expect(shown).toMatchObject({ branch: 'clinic', renewed: false, keyCreated: true });
    const stationId = shown.stationId as string;

    const keyFile = join(agentData, 'station', 'station-key.pem');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(agentData, 'station'))).mode & 0o777).toBe(0o700);
    const certificate = await readFile(join(agentData, 'station', 'station.pem'), 'utf8');
    const bureau = (await ca.bureau()).certificate.toString('pem');
    const root = ca.ca('root').certificate.toString('pem');
    const verified = await openssl([
      'verify',
      '-CAfile',
      await writeText(dir, 'root.pem', root),
      '-untrusted',
      await writeText(dir, 'bureau.pem', bureau),
      '-purpose',
      'sslclient',
      await writeText(dir, 'station.pem', certificate),
    ]);
    expect(verified, verified.out).toMatchObject({ code: 0 });

    const listed = await cli(env, ['station', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ id: stationId, name: 'Disk 1', branch: 'clinic', status: 'active' }),
    ]);
    const certs = JSON.parse((await cli(env, ['cert', 'list', '--json'])).stdout);
    expect(certs).toContainEqual(
      expect.objectContaining({ serial: shown.serial, profile: 'station', status: 'good' }),
    );

    // The key file signs statements the server believes.
    const key = await readFile(keyFile, 'utf8');
    const nonce = newStationNonce();
    const statement = (seq: number) => {
      const payload: StatementPayload = {
        v: 1,
        station: stationId,
        flowId: 'flow-1',
        nonce,
        seq,
        at: Date.now(),
        kind: 'agent-info',
        body: { version: '0.1.0', packaging: 'test' },
      };
      const bytes = canonicalStatementBytes(payload);
      return {
        payload: Buffer.from(bytes).toString('base64url'),
        signature: sign('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
      };
    };
    const expected = { flowId: 'flow-1', nonce, kinds: ['agent-info'] as const, now: Date.now() };
    await expect(verifyStatement(store.db, ca, statement(1), expected)).resolves.toMatchObject({
      station: { id: stationId },
    });

    const revoked = await cli(env, ['cert', 'revoke', shown.serial, '--reason', 'keyCompromise']);
    expect(revoked.code, revoked.stderr).toBe(0);
    await expect(verifyStatement(store.db, ca, statement(2), expected)).rejects.toMatchObject({
      code: 'STATION_REVOKED',
      details: { reason: 'certificate revoked' },
    });
    const after = JSON.parse((await cli(env, ['station', 'list', '--json'])).stdout);
    expect(after).toEqual([expect.objectContaining({ id: stationId, status: 'revoked' })]);

    // Registering the key again makes a new station; the revoked one is not revived.
    const again = await cli(env, [
      'station',
      'register',
      '--agent-data',
      agentData,
      '--branch',
      'clinic',
      '--name',
      'Disk 1',
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ renewed: false, keyCreated: false });
    expect(JSON.parse(again.stdout).stationId).not.toBe(stationId);
  });

  it('refuses an unknown branch with its code', async () => {
    const refused = await cli(env, [
      'station',
      'register',
      '--agent-data',
      join(dir, 'other-agent'),
      '--branch',
      'nowhere',
      '--name',
      'X',
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('[BRANCH_UNKNOWN]');
  });

  it('registers a station whose key is made on a PKCS#11 token, and the server believes its statements', async () => {
    const hsm = await createSoftHsm();
    try {
      await hsm.initToken('Kortstation', '246810');
      const tokenAgent = join(dir, 'token-agent');
      const tokenArgs = ['--station-pkcs11-module', hsm.module, '--station-token', 'Kortstation'];
      const args = [
        'station',
        'register',
        '--agent-data',
        tokenAgent,
        '--branch',
        'clinic',
        '--name',
        'Disk 3',
      ];
      // The PIN comes from the environment (never the command line); the child inherits SOFTHSM2_CONF.
      const pinEnv = {
        ...env,
        SOFTHSM2_CONF: process.env.SOFTHSM2_CONF ?? '',
        RESERVKORT_STATION_PIN: '246810',
      };
      const missingPin = await cli({ ...env, SOFTHSM2_CONF: pinEnv.SOFTHSM2_CONF }, [...args, ...tokenArgs]);
      expect(missingPin.code).toBe(1);
      expect(missingPin.stderr).toContain('[STATION_KEY_UNAVAILABLE]');
      const registered = await cli(pinEnv, [...args, ...tokenArgs, '--json']);
      expect(registered.code, registered.stderr).toBe(0);
      const shown = JSON.parse(registered.stdout);
      expect(shown).toMatchObject({ renewed: false, keyCreated: true, keyStore: 'pkcs11' });
      await expect(stat(join(tokenAgent, 'station', 'station-key.pem'))).rejects.toMatchObject({
        code: 'ENOENT',
      });

      // Without the token the registration is refused rather than given a new key file.
      const withoutToken = await cli(pinEnv, args);
      expect(withoutToken.code).toBe(1);
      expect(withoutToken.stderr).toContain('[STATION_KEY_UNAVAILABLE]');
      await expect(stat(join(tokenAgent, 'station', 'station-key.pem'))).rejects.toMatchObject({
        code: 'ENOENT',
      });

      // The agent opens the same station on the token, and the server believes what it signs there.
      const station = StationIdentity.open(join(tokenAgent, 'station'), {
        token: { module: hsm.module, tokenLabel: 'Kortstation', pin: '246810' },
      });
      try {
        expect(station.describe()).toMatchObject({ stationId: shown.stationId, keyStore: 'pkcs11' });
        const signer = station.signer();
        const nonce = newStationNonce();
        const bytes = canonicalStatementBytes({
          v: 1,
          station: signer.stationId,
          flowId: 'flow-1',
          nonce,
          seq: station.nextSeq(),
          at: Date.now(),
          kind: 'agent-info',
          body: { version: '0.1.0', packaging: 'test' },
        });
        const signed = {
          payload: Buffer.from(bytes).toString('base64url'),
          signature: Buffer.from(signer.sign(bytes)).toString('base64url'),
        };
        const expected = { flowId: 'flow-1', nonce, kinds: ['agent-info'] as const, now: Date.now() };
        await expect(verifyStatement(store.db, ca, signed, expected)).resolves.toMatchObject({
          station: { id: shown.stationId },
        });
      } finally {
        station.close();
      }

      // Registering again renews the same station with the same key on the token.
      const again = await cli(pinEnv, [...args, ...tokenArgs, '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({
        stationId: shown.stationId,
        renewed: true,
        keyCreated: false,
      });
    } finally {
      await hsm.dispose();
    }
  });
});
