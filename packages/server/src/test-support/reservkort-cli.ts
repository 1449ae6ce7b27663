// `reservkort` as a process of its own against a data folder, as an operator runs it: exit code and
// what it printed, never a throw, so a test can assert on a refusal as on a success.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;

/** Variables of the test's own environment that would steer a command: never inherited. */
const STEERING = ['RESERVKORT_CARD_PIN', 'RESERVKORT_CARD_PIN2', 'RESERVKORT_CARD_PUK', 'DATABASE_URL'];

export interface CliOutcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const runReservkort = async (
  dir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliOutcome> => {
  const clean = { ...process.env };
  for (const name of STEERING) delete clean[name];
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, '--data', dir, ...args], {
      env: { ...clean, ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};
