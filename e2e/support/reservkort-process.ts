// `reservkort` as an operator runs it: commands that run to their end, and long-running processes
// (serve, agent) started as children of the test, with SoftHSM2's token directory in their
// environment and nothing of the test runner's that names a database, CA or PIN.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SoftHsm } from '../../packages/pki/src/test-support/softhsm.js';

const run = promisify(execFile);

export const RESERVKORT_BIN = new URL('../../packages/server/bin/reservkort.js', import.meta.url).pathname;

/** A child's environment: SoftHSM2's token directory, and nothing of ours that names a database or CA. */
export const childEnv = (hsm: SoftHsm, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, SOFTHSM2_CONF: join(hsm.dir, 'softhsm2.conf') };
  for (const name of [
    'DATABASE_URL',
    'RESERVKORT_DATA',
    'RESERVKORT_CA_PASSPHRASE',
    'RESERVKORT_CARD_PIN',
    'RESERVKORT_CARD_PIN2',
    'RESERVKORT_CARD_PUK',
    'PORT',
    'NODE_OPTIONS',
  ])
    delete env[name];
  return { ...env, ...extra };
};

export interface StartedProcess {
  readonly child: ChildProcess;
  readonly match: RegExpExecArray;
  readonly output: () => string;
}

/** Starts a long-running command; resolves with the first match of `ready` in its output. */
export const startProcess = (
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<StartedProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RESERVKORT_BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no start\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${code}\n${output}`));
    });
  });

/** SIGTERM, and SIGKILL if the process is still there after five seconds. */
export const stopProcess = async (child: ChildProcess | undefined): Promise<void> => {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
};

/** A `reservkort --data <data> …` command run to its end; its stdout, or an error with what it said. */
export const reservkortCli =
  (data: string, hsm: SoftHsm) =>
  async (args: readonly string[], extra: Record<string, string> = {}): Promise<string> => {
    try {
      const { stdout } = await run(process.execPath, [RESERVKORT_BIN, '--data', data, ...args], {
        env: childEnv(hsm, extra),
        timeout: 90_000,
      });
      return stdout;
    } catch (error) {
      const failed = error as { stderr?: string; stdout?: string };
      throw new Error(`reservkort ${args.join(' ')}: ${failed.stderr ?? ''}${failed.stdout ?? ''}`);
    }
  };
