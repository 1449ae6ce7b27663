// A fresh SoftHSM2 token directory per test run: real PKCS#11, nothing shared between runs.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const CANDIDATES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'];

export const SOFTHSM_MODULE = CANDIDATES.find((path) => existsSync(path)) ?? CANDIDATES[0] ?? '';

export interface SoftHsm {
  readonly module: string;
  readonly dir: string;
  /** Creates a token with the label and PINs; returns its label. */
  initToken(label: string, pin: string, soPin?: string): Promise<string>;
  dispose(): Promise<void>;
}

/**
 * Points SoftHSM2 at a new token directory through SOFTHSM2_CONF. It must run before the module is
 * first loaded in this process: the library reads its configuration once, at C_Initialize. Test
 * files that use it belong to the `softhsm` project of vitest.config.ts, which gives each a process.
 */
export const createSoftHsm = async (): Promise<SoftHsm> => {
  if (!existsSync(SOFTHSM_MODULE)) {
    throw new Error(`SoftHSM2 is required for this test (${SOFTHSM_MODULE}); install the softhsm2 package`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'reservkort-softhsm-'));
  await mkdir(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(
    conf,
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  process.env.SOFTHSM2_CONF = conf;
  return {
    module: SOFTHSM_MODULE,
    dir,
    initToken: async (label, pin, soPin = '87654321') => {
      await run(
        'softhsm2-util',
        ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', soPin],
        {
          env: { ...process.env, SOFTHSM2_CONF: conf },
        },
      );
      return label;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
};

/** pkcs11-tool (OpenSC) as an independent look at a token. */
export const pkcs11Tool = async (hsm: SoftHsm, args: readonly string[]): Promise<string> => {
  const { stdout } = await run('pkcs11-tool', ['--module', hsm.module, ...args], {
    env: { ...process.env, SOFTHSM2_CONF: join(hsm.dir, 'softhsm2.conf') },
  });
  return stdout;
};
