import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { databaseUrl, dataFolder } from './data-folder.js';

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
