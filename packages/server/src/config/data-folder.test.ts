import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startServer } from '../server.js';
import { DataFolderError, databaseUrl, dataFolder, prepareDataFolder } from './data-folder.js';

describe('which database a data folder uses', () => {
  let dir: string;
  const previous = process.env.DATABASE_URL;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-folder-'));
    delete process.env.DATABASE_URL;
  });

  afterEach(async () => {
    if (previous === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = previous;
    await rm(dir, { recursive: true, force: true });
  });

  it('DATABASE_URL, then secrets/database-url, then the configuration file, then the SQLite file', async () => {
    const folder = dataFolder(dir);
    const configured = 'postgres://reservkort@db.example.org/reservkort';
    expect(await databaseUrl(folder)).toBe(`sqlite:${join(dir, 'reservkort.db')}`);
    expect(await databaseUrl(folder, configured)).toBe(configured);
    await mkdir(join(dir, 'secrets'));
    await writeFile(
      join(dir, 'secrets', 'database-url'),
      'postgres://reservkort:pw@db.example.org/reservkort\n',
    );
    expect(await databaseUrl(folder, configured)).toBe('postgres://reservkort:pw@db.example.org/reservkort');
    process.env.DATABASE_URL = 'postgres://reservkort:env@db.example.org/reservkort';
    expect(await databaseUrl(folder, configured)).toBe(process.env.DATABASE_URL);
    // An empty variable counts as not set.
    process.env.DATABASE_URL = '';
    expect(await databaseUrl(folder, configured)).toBe('postgres://reservkort:pw@db.example.org/reservkort');
  });
});

describe('the data folder is for its owner only', () => {
  let dir: string;
  let umask: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-modes-'));
    // The usual umask, whatever the machine running the tests has: 0644 files unless asked otherwise.
    umask = process.umask(0o022);
  });

  afterEach(async () => {
    process.umask(umask);
    await rm(dir, { recursive: true, force: true });
  });

  /** Every folder and file under `root` with its permission bits, relative to `root`. */
  const modesUnder = async (root: string): Promise<Record<string, string>> => {
    const modes: Record<string, string> = { '.': ((await stat(root)).mode & 0o777).toString(8) };
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      modes[relative(root, path)] = ((await lstat(path)).mode & 0o777).toString(8);
    }
    return modes;
  };

  it('a training start creates the folder 0700 and every file in it 0600, the SQLite -wal and -shm files too', async () => {
    const data = join(dir, 'var', 'reservkort');
    const running = await startServer({
      data,
      port: 0,
      host: '127.0.0.1',
      training: true,
      agentPort: 0,
      webRoot: null,
    });
    let modes: Record<string, string>;
    try {
      // While the database is open its -wal and -shm files exist.
      modes = await modesUnder(data);
    } finally {
      await running.close();
    }
    expect(Object.keys(modes)).toEqual(
      expect.arrayContaining([
        'reservkort.db',
        'reservkort.db-wal',
        'reservkort.db-shm',
        'ca',
        join('ca', 'ca.json'),
        'secrets',
        join('secrets', 'ca-passphrase'),
        'agent',
        join('agent', 'virtual-cards.json'),
        join('agent', 'station', 'station-key.pem'),
        join('agent', 'station', 'station.pem'),
      ]),
    );
    const folders = new Set(['.', 'ca', 'secrets', 'agent', join('agent', 'station')]);
    const wrong = Object.entries(modes).filter(
      ([path, mode]) => mode !== (folders.has(path) ? '700' : '600'),
    );
    expect(wrong).toEqual([]);
    // The folders on the way to it were made too, for the owner only.
    expect(((await stat(join(dir, 'var'))).mode & 0o777).toString(8)).toBe('700');
  });

  it.each(['0755', '0750', '0770', '0705', '0701', '0710'])(
    'a folder with mode %s is refused, and nothing is written into it',
    async (octal) => {
      await chmod(dir, Number.parseInt(octal, 8));
      const refused = prepareDataFolder(dataFolder(dir));
      await expect(refused).rejects.toBeInstanceOf(DataFolderError);
      await expect(refused).rejects.toThrow(`permissions ${octal} of the data folder ${dir} are too open`);
      await expect(refused).rejects.toThrow(`chmod 700 ${dir}`);
      await expect(
        startServer({ data: dir, port: 0, host: '127.0.0.1', training: true, agentPort: 0, webRoot: null }),
      ).rejects.toBeInstanceOf(DataFolderError);
      expect(await readdir(dir)).toEqual([]);
    },
  );

  it('a folder for its owner only is accepted as it is', async () => {
    await chmod(dir, 0o700);
    await prepareDataFolder(dataFolder(dir));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });
});
