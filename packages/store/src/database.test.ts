import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openStore, runMigrations } from './database.js';
import { MIGRATIONS } from './migrations/migration.provider.js';
import { insertPerson } from './person/person.repository.js';
import { StoreError } from './store-error.js';
import { aPerson, seedOrganisation, T0 } from './test-support/store-fixtures.js';
import { createTestStore, DIALECTS, TEST_PG_URL, type TestStore } from './test-support/test-stores.js';

const TABLES = [
  'admins',
  'audit_log',
  'audit_signers',
  'branches',
  'branches_generation',
  'cas',
  'case_comments',
  'certificates',
  'crls',
  'extensions',
  'flow_codes',
  'flows',
  'issuance_intents',
  'login_challenges',
  'orders',
  'persons',
  'revocations',
  'revocations_generation',
  'role_grants',
  'sessions',
  'staff_roles',
  'stations',
  'stock_cards',
  'support_cases',
];

const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect, { migrate: false });
  });
  afterAll(() => store?.dispose());

  it('fail as a whole with MIGRATION_FAILED naming the failing migration', async () => {
    const error = await rejection(
      runMigrations(store.db, {
        ...MIGRATIONS,
        '2099-01-01T00-broken': { up: (db) => sql`select * from no_such_table`.execute(db).then(() => {}) },
      }),
    );
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'MIGRATION_FAILED' });
    expect((error as StoreError).message).toContain('2099-01-01T00-broken');
    // All pending migrations ran in one transaction: the initial one was rolled back too.
    const tables = await store.db.introspection.getTables();
    expect(tables.map((t) => t.name)).not.toContain('persons');
  });

  it('apply on an empty database, then have nothing left to apply', async () => {
    expect(await migrateToLatest(store.db)).toEqual({ applied: Object.keys(MIGRATIONS) });
    const tables = await store.db.introspection.getTables();
    expect(tables.map((t) => t.name).sort()).toEqual(TABLES);
    expect(await migrateToLatest(store.db)).toEqual({ applied: [] });
  });
});

describe.each(DIALECTS)('values on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
  });
  afterAll(() => store?.dispose());

  it('come back as numbers for timestamps, integers and counts', async () => {
    await insertPerson(store.db, aPerson('num1', { protectedIdentity: true, createdAt: T0 + 1 }));
    const row = await store.db
      .selectFrom('persons')
      .select(['created_at', 'protected_identity'])
      .where('hsa_id', '=', aPerson('num1').hsaId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ created_at: T0 + 1, protected_identity: 1 });
    const { count } = await store.db
      .selectFrom('persons')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    expect(count).toBe(1);
  });

  it('reports its dialect', () => {
    expect(store.dialect).toBe(dialect);
  });
});

describe('openStore', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'reservkort-test-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('turns an unreachable PostgreSQL into DATABASE_UNAVAILABLE naming the host, not the password', async () => {
    const error = await rejection(
      openStore({ url: 'postgres://reservkort:s3cr3t-pw@127.0.0.1:1/reservkort' }),
    );
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    const message = (error as StoreError).message;
    expect(message).toContain('127.0.0.1:1');
    expect(message).not.toContain('s3cr3t-pw');
    expect(message).not.toContain('\n');
  });

  it('opens SQLite from sqlite:PATH, creating the folder, in WAL mode with foreign keys', async () => {
    const path = join(folder, 'nested', 'deeper', 'store.db');
    const store = await openStore({ url: `sqlite:${path}` });
    try {
      expect(store.dialect).toBe('sqlite');
      expect(existsSync(path)).toBe(true);
      const { rows: journal } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      expect(journal).toEqual([{ journal_mode: 'wal' }]);
      const { rows: fk } = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
      expect(fk).toEqual([{ foreign_keys: 1 }]);
    } finally {
      await store.close();
      await store.close();
    }
  });

  it('leaves SQLite its own checkpoints unless asked for them in the background', async () => {
    const store = await openStore({ url: join(folder, 'own-checkpoints.db') });
    try {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db);
      expect(rows).toEqual([{ wal_autocheckpoint: 1000 }]);
    } finally {
      await store.close();
    }
  });

  it('checkpoints SQLite in the background: no commit copies the WAL, a worker does', async () => {
    const path = join(folder, 'background-checkpoints.db');
    const store = await openStore({ url: path, backgroundCheckpoints: true });
    try {
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db);
      expect(rows).toEqual([{ wal_autocheckpoint: 0 }]);
      const before = statSync(path).size;
      // Well past the automatic threshold (1000 pages): the commits alone leave the file as it was.
      await sql`create table filler (id integer primary key, text text not null)`.execute(store.db);
      for (let i = 0; i < 20; i++)
        await sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < 100)
          insert into filler (text) select hex(randomblob(2000)) from n`.execute(store.db);
      // The worker copies the WAL into the file within its interval (a second).
      const deadline = Date.now() + 5000;
      while (statSync(path).size <= before + 4_000_000 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(statSync(path).size).toBeGreaterThan(before + 4_000_000);
    } finally {
      await store.close();
      await store.close();
    }
    // The last connection to close took the WAL with it.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('opens SQLite in memory', async () => {
    const store = await openStore({ url: ':memory:' });
    try {
      expect(await migrateToLatest(store.db)).toEqual({ applied: Object.keys(MIGRATIONS) });
    } finally {
      await store.close();
    }
  });

  // The flow's last writes commit with an audit entry hashed by PostgreSQL (see updateFlowAndAudit),
  // so a database that would hash its text otherwise is refused before anything is written.
  it("refuses a PostgreSQL database whose encoding would change the audit log's text, and opens a UTF8 one", async () => {
    const name = `reservkort_test_latin1_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    try {
      await admin.query(
        `create database ${name} encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0`,
      );
      const url = new URL(TEST_PG_URL);
      url.pathname = `/${name}`;
      const error = await rejection(openStore({ url: url.toString() }));
      expect(error).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
      expect((error as StoreError).message).toMatch(/hashes text differently.*UTF8/);
      const store = await createTestStore('postgres');
      await store.dispose();
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  });

  it('turns an unusable SQLite path into DATABASE_UNAVAILABLE', async () => {
    const file = join(folder, 'a-file');
    await writeFile(file, 'not a folder');
    const error = await rejection(openStore({ url: join(file, 'store.db') }));
    expect(error).toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
  });
});
