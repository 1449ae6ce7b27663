// The data folder from the command line: `reservkort ca init` makes it for its owner only, and the
// server refuses to start on a folder others may read or write, in one line, as ssh does for a key.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CONFIG } from '../config/server-config.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;

const cli = async (args: readonly string[]) => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DATABASE_URL;
  delete env.RESERVKORT_DATA;
  delete env.RESERVKORT_CA_PASSPHRASE;
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};

const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

describe('the data folder on the command line', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-folder-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('ca init creates the folder 0700 and its files 0600', async () => {
    const data = join(dir, 'data');
    const init = await cli(['--data', data, 'ca', 'init']);
    expect(init.code, init.stderr).toBe(0);
    expect(await modeOf(data)).toBe('700');
    for (const folder of ['ca', 'secrets']) expect(await modeOf(join(data, folder)), folder).toBe('700');
    const files = [
      'reservkort.db',
      join('ca', 'ca.json'),
      join('secrets', 'ca-passphrase'),
      ...(await readdir(join(data, 'ca'))).filter((f) => f !== 'ca.json').map((f) => join('ca', f)),
    ];
    expect(files.length).toBeGreaterThan(4);
    for (const file of files) expect(await modeOf(join(data, file)), file).toBe('600');
  });

  it.each(['0755', '0770'])(
    'serve refuses a folder with mode %s in one line, and writes nothing',
    async (octal) => {
      const mode = Number.parseInt(octal, 8);
      await chmod(dir, mode);
      const refused = await cli(['--data', dir, 'serve', '--training', '--port', '0', '--agent-port', '0']);
      expect(refused.code).toBe(EXIT_CONFIG);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toBe(
        `reservkort: permissions ${octal} of the data folder ${dir} are too open: it holds the CA keys, secrets and personal data; run chmod 700 ${dir} [DATA_FOLDER_OPEN]\n`,
      );
      expect(await readdir(dir)).toEqual([]);
      expect(await modeOf(dir)).toBe(mode.toString(8));
    },
  );
});
