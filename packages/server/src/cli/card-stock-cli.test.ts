// `reservkort card stock import` as a real process on a data folder: a batch with bad lines is
// refused whole with every line's problem and code, a good one registers its cards sealed to the
// station and is audited, the same batch again is refused card by card.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFolder } from '../config/data-folder.js';
import { runReservkort } from '../test-support/reservkort-cli.js';

describe('reservkort card stock import', () => {
  let dir: string;
  let data: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reservkort-stock-cli-'));
    data = join(dir, 'data');
    const directory = join(dir, 'directory.json');
    await writeFile(
      directory,
      JSON.stringify({
        branches: [
          { id: 'region', parentId: null, name: 'Region Exempel' },
          { id: 'clinic', parentId: 'region', name: 'Kliniken' },
        ],
      }),
    );
    const imported = await runReservkort(data, ['directory', 'import', directory]);
    expect(imported.code, imported.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const stockOf = async () => {
    const store = await openStore({ url: `sqlite:${dataFolder(data).sqliteFile}` });
    try {
      return {
        cards: await store.db
          .selectFrom('stock_cards')
          .select(['card_number', 'station_id', 'state', 'physical_expiry'])
          .orderBy('card_number')
          .execute(),
        audit: await store.db
          .selectFrom('audit_log')
          .select(['action', 'actor', 'details'])
          .where('action', '=', 'stock.imported')
          .execute(),
      };
    } finally {
      await store.close();
    }
  };

  it('explains itself with --help, naming the columns', async () => {
    const help = await runReservkort(data, ['card', 'stock', 'import', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--station <branchId>');
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('card_number, product, manufactured, physical_expiry');
  });

  it('refuses a batch with bad lines whole, every line with its code; registers a good one, once', async () => {
    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      [
        'card_number,product,manufactured,physical_expiry',
        '9752278900000000301,473,2026-03-15,2030-03-14',
        '9752278900000000302,999,2026-03-15,',
        '9752278900000000303,573,2026-03-15,2030-03-15',
        '12345,473,2026-03-15,',
        '9752278900000000301,473,2026-03-15,',
      ].join('\n'),
    );
    const refused = await runReservkort(data, ['card', 'stock', 'import', '--station', 'clinic', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 2: STOCK_LINE_INVALID (product)');
    expect(refused.stderr).toContain('line 3: STOCK_LINE_INVALID (expiry)');
    expect(refused.stderr).toContain('line 4: STOCK_LINE_INVALID (card-number)');
    expect(refused.stderr).toContain('line 5: STOCK_LINE_INVALID (duplicate)');
    expect(refused.stderr).toContain('4 problem(s)');
    expect(refused.stderr).toContain('nothing was imported');
    expect((await stockOf()).cards).toEqual([]);

    const good = join(dir, 'good.csv');
    await writeFile(
      good,
      [
        'card_number;product;manufactured;physical_expiry',
        '9752 2789 0000 0000 301;473;2026-03-15;2030-03-14',
        '9752278900000000302;573;2026-03-15;',
        '',
      ].join('\r\n'),
    );
    const unknown = await runReservkort(data, ['card', 'stock', 'import', '--station', 'nowhere', good]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('file: BRANCH_UNKNOWN');

    const imported = await runReservkort(data, ['card', 'stock', 'import', '--station', 'clinic', good]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/batch batch-\S+: 2 cards registered sealed to station clinic/);
    const stock = await stockOf();
    expect(stock.cards).toEqual([
      {
        card_number: '9752278900000000301',
        station_id: 'clinic',
        state: 'sealed',
        physical_expiry: '2030-03-14',
      },
      {
        card_number: '9752278900000000302',
        station_id: 'clinic',
        state: 'sealed',
        physical_expiry: '2031-03-14',
      },
    ]);
    expect(stock.audit).toHaveLength(1);
    expect(stock.audit[0]?.actor).toBe('card-stock-import');
    expect(JSON.parse(String(stock.audit[0]?.details))).toMatchObject({
      station: 'clinic',
      cards: 2,
      source: 'cli',
    });

    const again = await runReservkort(data, ['card', 'stock', 'import', '--station', 'clinic', good]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('line 1: CARD_ALREADY_IN_STOCK');
    expect(again.stderr).toContain('line 2: CARD_ALREADY_IN_STOCK');
    expect((await stockOf()).audit).toHaveLength(1);

    const header = join(dir, 'header.csv');
    await writeFile(header, 'number,product\n9752278900000000304,473\n');
    const noHeader = await runReservkort(data, ['card', 'stock', 'import', '--station', 'clinic', header]);
    expect(noHeader.code).toBe(1);
    expect(noHeader.stderr).toContain('file: REQUEST_INVALID (csv-header)');
  }, 120_000);
});
