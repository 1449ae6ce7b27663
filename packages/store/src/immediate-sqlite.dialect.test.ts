import BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImmediateSqliteDialect } from './immediate-sqlite.dialect.js';

interface Tables {
  people: { id: string; n: number | null; tag: Uint8Array | null };
  grants: { person_id: string; role: string };
}

describe('the SQLite dialect', () => {
  let raw: BetterSqlite3.Database;
  let db: Kysely<Tables>;

  beforeEach(async () => {
    raw = new BetterSqlite3(':memory:');
    raw.exec(`
      create table people (id text primary key, n integer, tag blob);
      create table grants (person_id text not null references people (id), role text not null);
      create index grants_person_idx on grants (person_id);
    `);
    const insert = raw.prepare('insert into people values (?, ?, ?)');
    for (let i = 1; i <= 50; i++) insert.run(String(i), i, i % 2 === 0 ? Buffer.from([i]) : null);
    raw.prepare('insert into grants values (?, ?)').run('7', 'RA');
    db = new Kysely<Tables>({ dialect: new ImmediateSqliteDialect({ database: raw }) });
  });
  afterEach(() => db.destroy());

  it('writes each parameter as +?', () => {
    const query = db.selectFrom('people').selectAll().where('id', '=', '7').limit(1).compile();
    expect(query.sql).toBe('select * from "people" where "id" = +? limit +?');
    expect(query.parameters).toEqual(['7', 1]);
  });

  it('answers as bare ? does: affinity, NULL, blobs, IN lists, LIMIT, and writes', async () => {
    const bare = (text: string, ...values: unknown[]) => raw.prepare(text).all(...values);
    // A number against a text key, and text against an integer column: the column's affinity applies.
    expect(
      await db
        .selectFrom('people')
        .select('id')
        .where('id', '=', 7 as never)
        .execute(),
    ).toEqual(bare('select id from people where id = ?', 7));
    expect(
      await db
        .selectFrom('people')
        .select('id')
        .where('n', '=', '8' as never)
        .execute(),
    ).toEqual(bare('select id from people where n = ?', '8'));
    expect(await db.selectFrom('people').select('id').where('tag', 'is', null).limit(3).execute()).toEqual(
      bare('select id from people where tag is ? limit ?', null, 3),
    );
    expect(
      await db
        .selectFrom('people')
        .select('id')
        .where('tag', '=', Buffer.from([10]))
        .execute(),
    ).toEqual(bare('select id from people where tag = ?', Buffer.from([10])));
    expect(
      await db.selectFrom('people').select('id').where('n', 'in', [3, 4, 99]).where('n', '>', 3).execute(),
    ).toEqual(bare('select id from people where n in (?, ?, ?) and n > ?', 3, 4, 99, 3));
    await db.insertInto('people').values({ id: '51', n: 51, tag: null }).execute();
    await db
      .updateTable('people')
      .set({ n: sql<number>`${5} * ${11}` })
      .where('id', '=', '51')
      .execute();
    expect(bare('select n, typeof(n) t from people where id = ?', '51')).toEqual([{ n: 55, t: 'integer' }]);
  });

  it('uses the same indexes as bare ?', () => {
    const plan = (text: string) =>
      raw
        .prepare(`explain query plan ${text}`)
        .all('7')
        .map((row) => (row as { detail: string }).detail);
    const joined = db
      .selectFrom('people as p')
      .leftJoin('grants as g', 'g.person_id', 'p.id')
      .select(['p.id', 'g.role'])
      .where('p.id', '=', '7')
      .compile().sql;
    expect(plan(joined)).toEqual(
      plan('select p.id, g.role from people as p left join grants as g on g.person_id = p.id where p.id = ?'),
    );
    expect(plan(joined).join(' ')).toMatch(
      /SEARCH p USING (COVERING )?INDEX .*\(id=\?\).*SEARCH g USING INDEX grants_person_idx/,
    );
  });

  it('prepares a joined read, and a read with a LIMIT, once however often it runs', async () => {
    // better-sqlite3 builds a row constructor with Function whenever SQLite has prepared a statement
    // again; with bare ? SQLite does so at every run of these two, after each bind.
    const original = globalThis.Function;
    let built = 0;
    globalThis.Function = new Proxy(original, {
      apply: (target, self, args) => {
        built++;
        return Reflect.apply(target, self, args);
      },
    });
    try {
      const joined = () =>
        db
          .selectFrom('people as p')
          .leftJoin('grants as g', 'g.person_id', 'p.id')
          .select(['p.id', 'g.role'])
          .where('p.id', '=', '7')
          .execute();
      const limited = () => db.selectFrom('people').select('id').orderBy('id', 'desc').limit(1).execute();
      await joined();
      await limited();
      built = 0;
      for (let i = 0; i < 20; i++) {
        expect(await joined()).toEqual([{ id: '7', role: 'RA' }]);
        expect(await limited()).toEqual([{ id: '9' }]);
      }
      expect(built).toBe(0);

      // The check itself: the same statements with bare ? are prepared again at every run.
      const bareJoined = raw.prepare(
        'select p.id, g.role from people as p left join grants as g on g.person_id = p.id where p.id = ?',
      );
      bareJoined.all('7');
      built = 0;
      for (let i = 0; i < 20; i++) bareJoined.all('7');
      expect(built).toBe(20);
    } finally {
      globalThis.Function = original;
    }
  });
});
