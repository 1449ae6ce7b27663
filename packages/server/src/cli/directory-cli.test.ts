import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { luhnCheckDigit } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;
const pnr = (yyyymmdd: string, serial: string) =>
  `${yyyymmdd}${serial}${luhnCheckDigit(`${yyyymmdd.slice(2)}${serial}`)}`;

const cli = async (dir: string, args: readonly string[]) => {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, '--data', dir, ...args], {
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};

describe('reservkort directory import', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-dir-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports every bad row by line number and imports nothing, then imports a good file', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      [
        'type,id,parent_id,name,hsa_id,personal_number,given_name,surname,branch_id,protected,role',
        'branch,top,,Region,,,,,,,',
        'person,,,,SE2321000016-p1,123,Anna,A,top,,',
        'person,,,,not-an-hsa-id,,Bo,B,top,,',
        'role,,,,SE2321000016-x,,,,nowhere,,KRA',
      ].join('\n'),
    );
    const refused = await cli(dir, ['directory', 'import', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/line 3/);
    expect(refused.stderr).toMatch(/line 4/);
    expect(refused.stderr).toContain('nothing was imported');

    const good = join(dir, 'good.json');
    await writeFile(
      good,
      JSON.stringify({
        branches: [{ id: 'top', parentId: null, name: 'Region' }],
        persons: [
          {
            hsaId: 'SE2321000016-p1',
            personalNumber: pnr('19800101', '123'),
            givenName: 'Anna',
            surname: 'A',
            branchId: 'top',
          },
        ],
        admins: [
          {
            hsaId: 'SE2321000016-a1',
            givenName: 'Admin',
            surname: 'A',
            roles: [{ role: 'KRA', branchId: 'top' }],
          },
        ],
      }),
    );
    const imported = await cli(dir, ['directory', 'import', good]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('imported 1 branches, 1 persons, 1 administrators, 1 roles');
  });
});
