// Step 2 (Sök på beställningar) at directory scale: 1,000,000 persons, 20,000 branches, 5,000
// administrators, on SQLite and on PostgreSQL side by side. Three measurements per store, each as
// p50/p99 and as a ratio to the first:
//   1. raw indexed lookup: SELECT … FROM persons WHERE personal_number = ? on the driver, prepared;
//   2. in-process: what IssuanceService.search runs before it records the search on the flow —
//      classifySearchQuery → lookUp (person and their orders) → DirectoryCache.organisation (the
//      server's 5 s cache) → adminOf (the admin's roles) → diagnoseSearch (role filtering);
//   3. over HTTP: POST /api/flows/:id/search on a flow at step 2, against `reservkort serve` in its
//      own process (real HTTP on loopback, keep-alive, one request at a time). Sessions are stored
//      as a card login stores them (login is the flow benchmark's), each admin's flow is started
//      over HTTP and renewed every 20 searches; only the search requests are timed. On SQLite the
//      server checkpoints its WAL in a worker thread: no timed commit copies the WAL into the file.
// Queries are random existing personnummer (a fifth of them with a hyphen) and HSA-ids, asked by a
// mix of admins: with a role over the person, without one, and about protected persons with and
// without KUR. Goals: in-process p99 under 1 ms on SQLite and under 3 ms on PostgreSQL; over HTTP
// p99 under 5 ms on SQLite and under 8 ms on PostgreSQL; the review's organisation name read without
// listing the branches (rows read from the branches table are counted: in-process by a query plugin,
// over HTTP on PostgreSQL from its table statistics), and the organisation tree built once while the
// branches do not change. The server's CPU time over the HTTP phase is read from /proc.
// Knobs: BENCH_PERSONS (1,000,000), BENCH_BRANCHES (20,000), BENCH_ADMINS (5,000), BENCH_QUERIES
// (in-process and raw, 20,000), BENCH_HTTP_QUERIES (5,000), BENCH_ROUNDS (passes in-process and
// raw, the median p99 reported; 3), BENCH_STORES (sqlite,postgres), BENCH_SERVER_NODE_ARGS (node flags
// for the server).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent as HttpAgent, request } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type CardNumber,
  canonicalStatementBytes,
  classifySearchQuery,
  dateOf,
  diagnoseSearch,
  type HsaId,
  luhnCheckDigit,
  type SearchOutcome,
} from '@reservkort/domain';
import {
  branchesGeneration,
  type Database,
  type Dialect,
  insertSession,
  listBranches,
} from '@reservkort/store';
import SqliteDatabase from 'better-sqlite3';
import {
  type Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  SelectQueryNode,
  sql,
  TableNode,
  type UnknownRow,
} from 'kysely';
import pg from 'pg';
import { openCa } from '../packages/server/src/cli/ca-context.js';
import { dataFolder } from '../packages/server/src/config/data-folder.js';
import { adminOf, DirectoryCache, lookUp } from '../packages/server/src/issuance/directory.js';
import { registerStation } from '../packages/server/src/station/station.service.js';
import { stationCsr } from '../packages/server/src/station/station-key.js';
import { createTestStore, type TestStore } from '../packages/store/src/test-support/test-stores.js';
import { processCpuMs, ratio, serverNodeArgs, startProcess, stopProcess, table } from './support.js';

const execute = promisify(execFile);
const BIN = new URL('../packages/server/bin/reservkort.js', import.meta.url).pathname;
const PERSONS = Number(process.env.BENCH_PERSONS ?? 1_000_000);
const BRANCHES = Number(process.env.BENCH_BRANCHES ?? 20_000);
const ADMINS = Number(process.env.BENCH_ADMINS ?? 5_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 20_000);
const HTTP_QUERIES = Number(process.env.BENCH_HTTP_QUERIES ?? 5_000);
/** Passes over the queries in-process and raw; the pass with the median p99 is reported. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter((s): s is Dialect => s === 'sqlite' || s === 'postgres');
const GOAL_P99_MS: Record<Dialect, number> = { sqlite: 1, postgres: 3 };
const GOAL_HTTP_P99_MS: Record<Dialect, number> = { sqlite: 5, postgres: 8 };
const WARM_UP = 500;
/** Where the server under HTTP load writes a CPU profile (node --cpu-prof), when set. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
/** Node flags for the server, as in the flow benchmark: e.g. --trace-gc-nvp. */
const SERVER_NODE_ARGS = serverNodeArgs();
/** Searches on one flow before the admin starts a new one (each search adds a timeline entry). */
const SEARCHES_PER_FLOW = 20;
const HSA_PREFIX = 'SE2321000016-';

// As auth/session.ts makes and stores them (importing it would need Fastify's cookie typings here).
const newToken = () => randomBytes(32).toString('base64url');
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

const log = (text: string) => process.stderr.write(`${text}\n`);
const msSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

// --- The directory: a tree of regions, hospitals and clinics; persons spread over the clinics ---

const REGIONS = Math.max(1, Math.round(BRANCHES / 1000));
const HOSPITALS = Math.max(REGIONS, Math.round(BRANCHES / 20));
const CLINICS = Math.max(1, BRANCHES - 1 - REGIONS - HOSPITALS);
const clinicOf = (person: number) => person % CLINICS;
const hospitalOf = (person: number) => clinicOf(person) % HOSPITALS;
const regionOf = (person: number) => hospitalOf(person) % REGIONS;
const isProtected = (person: number) => person % 100 === 7;
const hasOrder = (person: number) => person % 20 === 0 || isProtected(person);

/** A valid personnummer per index: birth dates from 1940 on, a serial per 20,000 people, Luhn. */
const personalNumberOf = (i: number): string => {
  const born = new Date(Date.UTC(1940, 0, 1) + (i % 20_000) * 86_400_000);
  const date = `${born.getUTCFullYear()}${String(born.getUTCMonth() + 1).padStart(2, '0')}${String(born.getUTCDate()).padStart(2, '0')}`;
  const serial = String(Math.floor(i / 20_000) % 1000).padStart(3, '0');
  return `${date}${serial}${luhnCheckDigit(`${date.slice(2)}${serial}`)}`;
};
const personHsaId = (i: number) => `${HSA_PREFIX}p${i}`;
const adminHsaId = (i: number) => `${HSA_PREFIX}a${i}`;

// Administrators by kind (i % 10): 0–3 RA in a region (half with KUR there), 4–6 KRA in a hospital,
// 7–8 only ORA/LRA (no role that issues LoA3), 9 RA over the whole organisation.
type AdminKind = 'region' | 'hospital' | 'none' | 'all';
const kindOf = (i: number): AdminKind => {
  const k = i % 10;
  return k <= 3 ? 'region' : k <= 6 ? 'hospital' : k <= 8 ? 'none' : 'all';
};
const adminRegion = (i: number) => Math.floor(i / 10) % REGIONS;
const adminHospital = (i: number) => (i * 7919) % HOSPITALS;
const adminHasKur = (i: number) => kindOf(i) === 'region' && i % 2 === 0;
const grantsOf = (i: number): { role: string; branchId: string }[] => {
  switch (kindOf(i)) {
    case 'region':
      return [
        { role: 'RA', branchId: `r${adminRegion(i)}` },
        ...(adminHasKur(i) ? [{ role: 'KUR', branchId: `r${adminRegion(i)}` }] : []),
      ];
    case 'hospital':
      return [
        { role: 'KRA', branchId: `h${adminHospital(i)}` },
        { role: 'ORA', branchId: `r${adminRegion(i)}` },
      ];
    case 'none':
      return [
        { role: 'ORA', branchId: `r${adminRegion(i)}` },
        { role: 'LRA', branchId: 'root' },
      ];
    default:
      return [{ role: 'RA', branchId: 'root' }];
  }
};

/** A small seeded generator, so every run asks the same questions. */
const generator = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

type Category = 'role' | 'no role' | 'protected';
interface Query {
  readonly text: string;
  readonly person: number;
  readonly admin: number;
  readonly category: Category;
}

const makeQueries = (count: number, seed: number): Query[] => {
  const random = generator(seed);
  const pick = <T>(list: readonly T[]): T | undefined => list[Math.floor(random() * list.length)];
  const byRegion = Array.from({ length: REGIONS }, () => ({ kur: [] as number[], plain: [] as number[] }));
  const byHospital = new Map<number, number[]>();
  const none: number[] = [];
  const all: number[] = [];
  for (let i = 0; i < ADMINS; i++) {
    const kind = kindOf(i);
    if (kind === 'region') byRegion[adminRegion(i)]?.[adminHasKur(i) ? 'kur' : 'plain'].push(i);
    else if (kind === 'hospital')
      byHospital.set(adminHospital(i), [...(byHospital.get(adminHospital(i)) ?? []), i]);
    else if (kind === 'none') none.push(i);
    else all.push(i);
  }
  const anyPerson = () => {
    for (;;) {
      const j = Math.floor(random() * PERSONS);
      if (!isProtected(j)) return j;
    }
  };
  const orderedPerson = () => Math.floor((random() * PERSONS) / 20) * 20;
  const protectedPerson = () => Math.floor((random() * (PERSONS - 7)) / 100) * 100 + 7;
  const queries: Query[] = [];
  while (queries.length < count) {
    const roll = random();
    const category: Category = roll < 0.5 ? 'role' : roll < 0.8 ? 'no role' : 'protected';
    let person: number;
    let admin: number | undefined;
    if (category === 'role') {
      person = random() < 0.5 ? orderedPerson() : anyPerson();
      const r = random();
      const region = byRegion[regionOf(person)];
      admin =
        r < 0.6
          ? pick([...(region?.kur ?? []), ...(region?.plain ?? [])])
          : r < 0.85
            ? pick(byHospital.get(hospitalOf(person)) ?? [])
            : pick(all);
    } else if (category === 'no role') {
      person = anyPerson();
      const other = byRegion[(regionOf(person) + 1) % REGIONS];
      admin =
        random() < 0.5 || REGIONS === 1 ? pick(none) : pick([...(other?.kur ?? []), ...(other?.plain ?? [])]);
    } else {
      person = protectedPerson();
      const region = byRegion[regionOf(person)];
      admin = pick(random() < 0.5 ? (region?.kur ?? []) : (region?.plain ?? []));
    }
    admin ??= pick(all) ?? 0;
    if (person >= PERSONS) continue;
    const style = random();
    const pnr = personalNumberOf(person);
    const text = style < 0.5 ? personHsaId(person) : style < 0.6 ? `${pnr.slice(0, 8)}-${pnr.slice(8)}` : pnr;
    queries.push({ text, person, admin, category });
  }
  return queries;
};

// --- Loading: multi-row inserts in large batches, inside one transaction -----------------------

interface Rows {
  readonly table: string;
  readonly columns: readonly string[];
  /** PostgreSQL types for unnest(), in column order. */
  readonly types: readonly string[];
  readonly count: number;
  readonly row: (i: number) => readonly (string | number | null)[];
}

const directoryRows = (now: number): Rows[] => {
  const branches: [string, string | null, string][] = [['root', null, 'Organisationen']];
  for (let r = 0; r < REGIONS; r++) branches.push([`r${r}`, 'root', `Region ${r}`]);
  for (let h = 0; h < HOSPITALS; h++) branches.push([`h${h}`, `r${h % REGIONS}`, `Sjukhus ${h}`]);
  for (let c = 0; c < CLINICS; c++) branches.push([`c${c}`, `h${c % HOSPITALS}`, `Klinik ${c}`]);
  const ordered: number[] = [];
  for (let j = 0; j < PERSONS; j++) if (hasOrder(j)) ordered.push(j);
  const grants: [string, string, string][] = [];
  for (let i = 0; i < ADMINS; i++)
    for (const g of grantsOf(i)) grants.push([adminHsaId(i), g.role, g.branchId]);
  const creators = Array.from({ length: REGIONS }, (_, r) => {
    const list: number[] = [];
    for (let i = 0; i < ADMINS; i++) if (kindOf(i) === 'region' && adminRegion(i) === r) list.push(i);
    return list;
  });
  return [
    {
      table: 'branches',
      columns: ['id', 'parent_id', 'name'],
      types: ['text', 'text', 'text'],
      count: branches.length,
      row: (i) => branches[i] ?? [],
    },
    {
      table: 'persons',
      columns: [
        'hsa_id',
        'personal_number',
        'given_name',
        'surname',
        'branch_id',
        'protected_identity',
        'created_at',
      ],
      types: ['text', 'text', 'text', 'text', 'text', 'int', 'bigint'],
      count: PERSONS,
      row: (j) => [
        personHsaId(j),
        personalNumberOf(j),
        'Förnamn',
        `Efternamn${j}`,
        `c${clinicOf(j)}`,
        isProtected(j) ? 1 : 0,
        now,
      ],
    },
    {
      table: 'admins',
      columns: ['hsa_id', 'given_name', 'surname', 'created_at'],
      types: ['text', 'text', 'text', 'bigint'],
      count: ADMINS,
      row: (i) => [adminHsaId(i), 'Admin', `Nummer${i}`, now],
    },
    {
      table: 'role_grants',
      columns: ['admin_hsa_id', 'role', 'branch_id'],
      types: ['text', 'text', 'text'],
      count: grants.length,
      row: (i) => grants[i] ?? [],
    },
    {
      table: 'orders',
      columns: [
        'id',
        'recipient_hsa_id',
        'branch_id',
        'protected_identity',
        'card_number',
        'not_before',
        'not_after',
        'id_document',
        'created_by',
        'created_at',
        'signed_by',
        'signed_at',
        'signature_level',
        'signature_serial',
        'state',
        'state_changed_at',
      ],
      types: [
        'text',
        'text',
        'text',
        'int',
        'text',
        'bigint',
        'bigint',
        'text',
        'text',
        'bigint',
        'text',
        'bigint',
        'text',
        'text',
        'text',
        'bigint',
      ],
      count: ordered.length,
      row: (k) => {
        const j = ordered[k] ?? 0;
        const list = creators[regionOf(j)] ?? [];
        const creator = adminHsaId(list.length > 0 ? (list[j % list.length] ?? 0) : 0);
        return [
          `o${j}`,
          personHsaId(j),
          `c${clinicOf(j)}`,
          isProtected(j) ? 1 : 0,
          `97522789${String(j).padStart(11, '0')}`,
          now - 86_400_000,
          now + 7 * 86_400_000,
          'swedish-passport',
          creator,
          now - 3_600_000,
          creator,
          now - 3_600_000,
          'LoA3',
          'bench',
          'registered',
          now - 3_600_000,
        ];
      },
    },
  ];
};

const loadSqlite = (path: string, tables: readonly Rows[]): void => {
  const db = new SqliteDatabase(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.transaction(() => {
      for (const t of tables) {
        // SQLite allows 32,766 bound parameters per statement.
        const perStatement = Math.floor(30_000 / t.columns.length);
        const statement = (rows: number) =>
          db.prepare(
            `insert into ${t.table} (${t.columns.join(', ')}) values ${Array.from(
              { length: rows },
              () => `(${t.columns.map(() => '?').join(', ')})`,
            ).join(', ')}`,
          );
        const full = statement(perStatement);
        for (let start = 0; start < t.count; start += perStatement) {
          const rows = Math.min(perStatement, t.count - start);
          const values: (string | number | null)[] = [];
          for (let i = start; i < start + rows; i++) values.push(...t.row(i));
          (rows === perStatement ? full : statement(rows)).run(values);
        }
      }
    })();
  } finally {
    db.close();
  }
};

const loadPostgres = async (store: TestStore, tables: readonly Rows[]): Promise<void> => {
  const BATCH = 20_000;
  await store.db.transaction().execute(async (trx) => {
    for (const t of tables) {
      for (let start = 0; start < t.count; start += BATCH) {
        const end = Math.min(t.count, start + BATCH);
        const columns: (string | number | null)[][] = t.columns.map(() => []);
        for (let i = start; i < end; i++) {
          const row = t.row(i);
          for (let c = 0; c < columns.length; c++) columns[c]?.push(row[c] ?? null);
        }
        // One statement a batch: each column as one array parameter, unnest()ed back into rows.
        const arrays = sql.join(
          columns.map((values, c) => sql`${values}::${sql.raw(t.types[c] ?? 'text')}[]`),
        );
        await sql`insert into ${sql.table(t.table)} (${sql.join(t.columns.map((c) => sql.ref(c)))}) select * from unnest(${arrays})`.execute(
          trx,
        );
      }
    }
  });
};

/** What autovacuum does after a bulk load (PostgreSQL), done now so that it does not run during the measurements. */
const settle = async (store: TestStore): Promise<void> => {
  if (store.dialect === 'postgres') await sql`vacuum analyze`.execute(store.db);
};

// --- Measuring ----------------------------------------------------------------------------------

interface Stats {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly n: number;
  /** The lowest and highest p99 of the passes, when there were several. */
  readonly p99Range?: readonly [number, number];
}
const statsOf = (ms: readonly number[]): Stats => {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
  return {
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.at(-1) ?? Number.NaN,
    mean: sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length),
    n: sorted.length,
  };
};

/** Runs a measurement ROUNDS times and keeps the pass with the median p99, noting the spread. */
const medianRound = async <T extends { readonly times: readonly number[] }>(
  measure: () => Promise<T>,
): Promise<T & { readonly stats: Stats }> => {
  const rounds: (T & { stats: Stats })[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const result = await measure();
    rounds.push({ ...result, stats: statsOf(result.times) });
  }
  rounds.sort((a, b) => a.stats.p99 - b.stats.p99);
  const median = rounds[Math.floor(rounds.length / 2)] ?? rounds[0];
  if (median === undefined) throw new Error('no rounds');
  const p99Range = [rounds[0]?.stats.p99 ?? Number.NaN, rounds.at(-1)?.stats.p99 ?? Number.NaN] as const;
  return { ...median, stats: { ...median.stats, ...(rounds.length > 1 ? { p99Range } : {}) } };
};

const timeEach = async <T>(
  items: readonly T[],
  work: (item: T) => Promise<unknown> | unknown,
): Promise<number[]> => {
  const times: number[] = [];
  for (const [i, item] of items.entries()) {
    const start = process.hrtime.bigint();
    await work(item);
    if (i >= WARM_UP || items.length <= WARM_UP * 2) times.push(msSince(start));
  }
  return times;
};

/** The driver alone, prepared: the floor any search over this table stands on. */
const rawLookups = async (store: TestStore, pnrs: readonly string[]): Promise<number[]> => {
  const text =
    'select hsa_id, personal_number, given_name, surname, branch_id, protected_identity, created_at from persons where personal_number';
  if (store.dialect === 'sqlite') {
    const db = new SqliteDatabase(store.url, { readonly: true });
    try {
      const statement = db.prepare(`${text} = ?`);
      return await timeEach(pnrs, (pnr) => {
        if (statement.get(pnr) === undefined) throw new Error(`no person ${pnr}`);
      });
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    return await timeEach(pnrs, async (pnr) => {
      const result = await client.query({ name: 'bench-person', text: `${text} = $1`, values: [pnr] });
      if (result.rowCount === 0) throw new Error(`no person ${pnr}`);
    });
  } finally {
    await client.end();
  }
};

const SEGMENTS = ['classify', 'lookUp', 'organisation', 'adminOf', 'diagnoseSearch'] as const;

/** Counts the reads of the whole branches table (a select from it without a where): listBranches(). */
class BranchListingCounter implements KyselyPlugin {
  listings = 0;

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node;
    if (
      SelectQueryNode.is(node) &&
      node.where === undefined &&
      (node.from?.froms ?? []).some((f) => TableNode.is(f) && f.table.identifier.name === 'branches')
    )
      this.listings++;
    return node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/** The server's search path without HTTP and without recording on a flow (IssuanceService.search's first half). */
const inProcess = async (store: TestStore, queries: readonly Query[]) => {
  const counter = new BranchListingCounter();
  const db: Kysely<Database> = store.db.withPlugin(counter);
  const directory = new DirectoryCache(db);
  let reviews = 0;
  /** Reviews whose organisation name (read with the person) differs from the tree's name of the branch. */
  let wrongNames = 0;
  const started = Date.now();
  const perQuery: number[][] = [];
  const outcomes = new Map<string, number>();
  const times = await timeEach(queries, async (q) => {
    const laps: number[] = [];
    let mark = process.hrtime.bigint();
    const lap = () => {
      const now = process.hrtime.bigint();
      laps.push(Number(now - mark) / 1e6);
      mark = now;
    };
    const now = Date.now();
    const classified = classifySearchQuery(q.text, dateOf(now));
    lap();
    const match =
      classified.kind === 'personal-number'
        ? await lookUp(db, 'personal-number', classified.normalised)
        : classified.kind === 'hsa-id'
          ? await lookUp(db, 'hsa-id', classified.normalised)
          : null;
    lap();
    const tree = await directory.organisation(now);
    lap();
    const admin = await adminOf(db, adminHsaId(q.admin));
    lap();
    const outcome: SearchOutcome = diagnoseSearch(classified, match, {
      tree,
      admin,
      assuranceLevel: 'LoA3',
      now,
    });
    lap();
    // The review of a hit names the person's branch: read with the person, checked against the tree.
    if (outcome.kind === 'found') {
      reviews++;
      if (match?.branchName !== tree.branches.get(outcome.person.branchId)?.name) wrongNames++;
    }
    perQuery.push(laps);
    const label =
      outcome.kind === 'found'
        ? 'found'
        : outcome.codes.filter((c) => c !== 'PNR_FORMAT').join('+') || 'none';
    outcomes.set(`${q.category}: ${label}`, (outcomes.get(`${q.category}: ${label}`) ?? 0) + 1);
  });
  // Mean time per segment over all counted queries, and over the slowest 1% of them.
  const counted = perQuery.slice(perQuery.length - times.length);
  const total = (laps: readonly number[]) => laps.reduce((sum, x) => sum + x, 0);
  const slowest = [...counted]
    .sort((a, b) => total(b) - total(a))
    .slice(0, Math.max(1, Math.ceil(counted.length / 100)));
  const meanOf = (rows: readonly number[][]) =>
    new Map(
      SEGMENTS.map((segment, i) => [
        segment,
        rows.reduce((sum, laps) => sum + (laps[i] ?? 0), 0) / rows.length,
      ]),
    );
  return {
    times,
    segments: meanOf(counted),
    tail: meanOf(slowest),
    outcomes,
    reviews,
    wrongNames,
    listings: counter.listings,
    treeBuilds: directory.buildCount,
    seconds: (Date.now() - started) / 1000,
  };
};

class Http {
  private readonly agent = new HttpAgent({ keepAlive: true });
  constructor(readonly port: number) {}

  post(path: string, payload: unknown, headers: Record<string, string>) {
    const body = Buffer.from(JSON.stringify(payload));
    return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path,
          agent: this.agent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) });
            } catch (error) {
              reject(error);
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * A card station registered with the data folder's CA, whose key the bench holds: it signs the
 * readers a flow starts with (the admin's card in reader 1), as a workstation's agent would.
 */
const benchStation = async (store: TestStore, dataDir: string) => {
  const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const ca = await openCa(dataFolder(dataDir), store);
  let stationId: string;
  try {
    const branchId = (await listBranches(store.db))[0]?.id ?? '';
    const csr = await stationCsr(key.export({ format: 'pem', type: 'pkcs8' }).toString());
    stationId = (
      await registerStation(
        { db: store.db, ca, now: () => Date.now() },
        { csr, name: 'Bänken', branchId, actor: 'ca-operator' },
      )
    ).stationId;
  } finally {
    await ca.close();
  }
  let seq = 0;
  return (flowId: string, nonce: string, card: CardNumber) => {
    const bytes = canonicalStatementBytes({
      v: 1,
      station: stationId,
      flowId,
      nonce,
      seq: ++seq,
      at: Date.now(),
      kind: 'readers',
      body: {
        readers: {
          1: { connected: true, card: { cardNumber: card, insertions: 1 } },
          2: { connected: true, card: null },
        },
      },
    });
    return {
      payload: Buffer.from(bytes).toString('base64url'),
      signature: sign('sha256', bytes, { key, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
    };
  };
};

/** POST /api/flows/:id/search against the real server; sessions stored as a login stores them. */
const overHttp = async (store: TestStore, env: NodeJS.ProcessEnv, queries: readonly Query[]) => {
  const now = Date.now();
  const admins = [...new Set(queries.map((q) => q.admin))];
  const sessions = new Map<
    number,
    { cookie: string; csrf: string; card: CardNumber; flowId: string; used: number }
  >();
  await store.db.transaction().execute(async (trx) => {
    for (const admin of admins) {
      const token = newToken();
      const csrf = newToken();
      const card = `9752278903${String(admin).padStart(9, '0')}` as CardNumber;
      await insertSession(trx, {
        id: hashToken(token),
        adminHsaId: adminHsaId(admin) as HsaId,
        certificateSerial: randomBytes(8).toString('hex'),
        cardNumber: card,
        assuranceLevel: 'LoA3',
        csrfToken: csrf,
        createdAt: now,
        expiresAt: now + 10 * 3_600_000,
        // Searching needs no card station: no order or flow signature is made on these sessions.
        station: null,
      });
      sessions.set(admin, { cookie: `rk_session=${token}`, csrf, card, flowId: '', used: SEARCHES_PER_FLOW });
    }
  });
  const readersOf = await benchStation(store, String(env.RESERVKORT_DATA));
  const branchRowsBefore = await branchRowsRead(store);
  const port = await freePort();
  const server = await startProcess(
    process.execPath,
    [
      ...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', join(PROFILE_DIR, store.dialect)] : []),
      ...SERVER_NODE_ARGS,
      BIN,
      'serve',
      '--port',
      String(port),
    ],
    /Server listening at/,
    env,
  );
  const http = new Http(port);
  const hits: number[] = [];
  const misses: number[] = [];
  const all: number[] = [];
  let requests = 0;
  let reviewsShown = 0;
  let cpuMs = Number.NaN;
  try {
    const cpuBefore = processCpuMs(server.pid).total;
    for (const [i, q] of queries.entries()) {
      const session = sessions.get(q.admin);
      if (session === undefined) throw new Error('no session');
      const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
      if (session.used >= SEARCHES_PER_FLOW) {
        const reserved = await http.post('/api/flows/start', {}, headers);
        const flowId = String(reserved.body.flowId ?? '');
        const readers = readersOf(flowId, String(reserved.body.stationNonce ?? ''), session.card);
        const started = await http.post('/api/flows', { flowId, readers }, headers);
        session.flowId = String((started.body.view as { flowId?: string } | undefined)?.flowId ?? '');
        const step = await http.post(
          `/api/flows/${session.flowId}/actions`,
          { type: 'manage-orders' },
          headers,
        );
        if ((step.body.view as { step?: number } | undefined)?.step !== 2)
          throw new Error(`flow not at step 2: ${JSON.stringify(step.body)}`);
        session.used = 0;
        requests += 3;
      }
      const start = process.hrtime.bigint();
      const answer = await http.post(`/api/flows/${session.flowId}/search`, { query: q.text }, headers);
      const ms = msSince(start);
      session.used++;
      requests++;
      if (answer.status !== 200) throw new Error(`search: ${answer.status} ${JSON.stringify(answer.body)}`);
      if (answer.body.review) reviewsShown++;
      if (i < WARM_UP && queries.length > WARM_UP * 2) continue;
      all.push(ms);
      (answer.body.review ? hits : misses).push(ms);
    }
    cpuMs = processCpuMs(server.pid).total - cpuBefore;
  } finally {
    http.close();
    await stopProcess(server);
  }
  const branchRowsAfter = await branchRowsRead(store);
  return {
    all,
    hits,
    misses,
    cpuMsPerRequest: cpuMs / requests,
    requests,
    reviewsShown,
    branchRows: branchRowsAfter - branchRowsBefore,
  };
};

/** Rows PostgreSQL has read from the branches table so far (its statistics); NaN on SQLite. */
const branchRowsRead = async (store: TestStore): Promise<number> => {
  if (store.dialect !== 'postgres') return Number.NaN;
  // A connection's statistics reach the shared counters when it ends, or when idle: at most a second
  // after its last flush, else after ten (PostgreSQL's PGSTAT_IDLE_INTERVAL). The bench's own reads
  // just before (the station's registration lists the branches) must be counted before the window.
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  const { rows } = await sql<{ n: string | null }>`
    select coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) as n
    from pg_stat_user_tables where relname = 'branches'`.execute(store.db);
  return Number(rows[0]?.n ?? Number.NaN);
};

interface StoreResult {
  readonly dialect: Dialect;
  readonly loadSeconds: number;
  readonly settleSeconds: number;
  readonly rows: number;
  readonly raw: Stats;
  readonly inProcess: Stats;
  readonly http: Stats;
  readonly httpHits: Stats;
  readonly httpMisses: Stats;
  readonly listBranches: Stats;
  readonly treeBuild: Stats;
  readonly treeCheck: Stats;
  /** In-process (the median pass): hits reviewed, names unlike the tree's, whole reads of branches, tree builds, seconds. */
  readonly review: {
    readonly reviews: number;
    readonly wrongNames: number;
    readonly listings: number;
    readonly builds: number;
    readonly seconds: number;
  };
  /** Server CPU per request over HTTP (searches and the flow starts between them), ms. */
  readonly cpuMsPerRequest: number;
  readonly httpRequests: number;
  /** Rows read from branches over the HTTP phase (PostgreSQL's statistics), and reviews shown. */
  readonly httpBranchRows: number;
  readonly httpReviews: number;
  readonly httpSearches: number;
  readonly branchCount: number;
  readonly segments: ReadonlyMap<string, number>;
  readonly tail: ReadonlyMap<string, number>;
  readonly outcomes: ReadonlyMap<string, number>;
}

const runStore = async (dialect: Dialect, dir: string, queries: readonly Query[]): Promise<StoreResult> => {
  const store = await createTestStore(dialect);
  try {
    const dataDir = join(dir, dialect);
    const env: NodeJS.ProcessEnv = { ...process.env, RESERVKORT_DATA: dataDir, DATABASE_URL: store.url };
    delete env.RESERVKORT_CA_PASSPHRASE;
    await execute(process.execPath, [BIN, 'ca', 'init'], { env });

    const tables = directoryRows(Date.now());
    const rows = tables.reduce((sum, t) => sum + t.count, 0);
    log(`${dialect}: loading ${tables.map((t) => `${t.count} ${t.table}`).join(', ')}…`);
    const loadStart = process.hrtime.bigint();
    if (dialect === 'sqlite') loadSqlite(store.url, tables);
    else await loadPostgres(store, tables);
    const loadSeconds = msSince(loadStart) / 1000;
    log(`${dialect}: loaded ${rows} rows in ${loadSeconds.toFixed(1)} s`);
    const settleStart = process.hrtime.bigint();
    await settle(store);
    const settleSeconds = msSince(settleStart) / 1000;

    const asked = queries.slice(0, QUERIES);
    log(`${dialect}: raw indexed lookups…`);
    const raw = await medianRound(async () => ({
      times: await rawLookups(
        store,
        asked.map((q) => personalNumberOf(q.person)),
      ),
    }));
    log(`${dialect}: in-process search path, ${asked.length} queries × ${ROUNDS}…`);
    const inside = await medianRound(() => inProcess(store, asked));
    const few = queries.slice(0, 60);
    const branchTimes = await timeEach(few, () => listBranches(store.db));
    const treeTimes = await timeEach(few, () => new DirectoryCache(store.db).organisation(Date.now()));
    const checkTimes = await timeEach(few, () => branchesGeneration(store.db));
    log(`${dialect}: over HTTP, ${Math.min(HTTP_QUERIES, queries.length)} searches…`);
    const http =
      HTTP_QUERIES > 0
        ? await overHttp(store, env, queries.slice(0, HTTP_QUERIES))
        : {
            all: [],
            hits: [],
            misses: [],
            cpuMsPerRequest: Number.NaN,
            requests: 0,
            reviewsShown: 0,
            branchRows: Number.NaN,
          };
    return {
      dialect,
      loadSeconds,
      settleSeconds,
      rows,
      raw: raw.stats,
      inProcess: inside.stats,
      http: statsOf(http.all),
      httpHits: statsOf(http.hits),
      httpMisses: statsOf(http.misses),
      listBranches: statsOf(branchTimes),
      treeBuild: statsOf(treeTimes),
      treeCheck: statsOf(checkTimes),
      review: {
        reviews: inside.reviews,
        wrongNames: inside.wrongNames,
        listings: inside.listings,
        builds: inside.treeBuilds,
        seconds: inside.seconds,
      },
      cpuMsPerRequest: http.cpuMsPerRequest,
      httpRequests: http.requests,
      httpBranchRows: http.branchRows,
      httpReviews: http.reviewsShown,
      httpSearches: Math.min(HTTP_QUERIES, queries.length),
      branchCount: tables.find((t) => t.table === 'branches')?.count ?? 0,
      segments: inside.segments,
      tail: inside.tail,
      outcomes: inside.outcomes,
    };
  } finally {
    await store.dispose();
  }
};

const ms = (value: number) => (value < 10 ? value.toFixed(3) : value.toFixed(1));

export const run = async (): Promise<void> => {
  const loadBefore = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const dir = await mkdtemp(join(tmpdir(), 'reservkort-bench-search-'));
  try {
    const queries = makeQueries(Math.max(QUERIES, HTTP_QUERIES), 20261129);
    const results: StoreResult[] = [];
    for (const dialect of STORES) results.push(await runStore(dialect, dir, queries));

    process.stdout.write(
      `load average before / after: ${loadBefore} / ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (2 cores: other work on the machine shows up in the tails)\n`,
    );
    process.stdout.write(
      `${PERSONS} persons, ${REGIONS + HOSPITALS + CLINICS + 1} branches, ${ADMINS} admins; ${QUERIES} queries in-process and raw, ${Math.min(HTTP_QUERIES, queries.length)} over HTTP (first ${WARM_UP} not counted); times in ms\n\n`,
    );
    process.stdout.write(
      `${table([
        ['store', 'rows', 'load s (one transaction)', 'rows/s', 'then VACUUM ANALYZE s'],
        ...results.map((r) => [
          r.dialect,
          String(r.rows),
          r.loadSeconds.toFixed(1),
          (r.rows / r.loadSeconds).toFixed(0),
          r.dialect === 'postgres' ? r.settleSeconds.toFixed(1) : '-',
        ]),
      ])}\n\n`,
    );
    const measurements: [string, (r: StoreResult) => Stats][] = [
      ['raw indexed lookup (driver, prepared)', (r) => r.raw],
      ['in-process search path', (r) => r.inProcess],
      ['HTTP POST /api/flows/:id/search', (r) => r.http],
      ['  HTTP, hits (review shown)', (r) => r.httpHits],
      ['  HTTP, misses', (r) => r.httpMisses],
      ['listBranches() (all branches; not on the request path)', (r) => r.listBranches],
      ['organisation tree built (first read; after a branch write)', (r) => r.treeBuild],
      ['branch write count read (the check every 5 s)', (r) => r.treeCheck],
    ];
    process.stdout.write(
      `${table([
        [
          'measurement',
          ...results.flatMap((r) => [
            `${r.dialect} p50`,
            'p99',
            `p99 of ${ROUNDS} passes`,
            'max',
            'p99 vs raw',
          ]),
        ],
        ...measurements.map(([name, get]) => [
          name,
          ...results.flatMap((r) => {
            const s = get(r);
            const range = s.p99Range ? `${ms(s.p99Range[0])}–${ms(s.p99Range[1])}` : '';
            return [ms(s.p50), ms(s.p99), range, ms(s.max), ratio(s.p99, r.raw.p99)];
          }),
        ]),
      ])}\n\n`,
    );
    process.stdout.write(
      `${table([
        [
          'in-process path, mean ms per segment',
          ...results.flatMap((r) => [`${r.dialect} all`, 'slowest 1%']),
        ],
        ...SEGMENTS.map((s) => [
          s,
          ...results.flatMap((r) => [ms(r.segments.get(s) ?? Number.NaN), ms(r.tail.get(s) ?? Number.NaN)]),
        ]),
      ])}\n\n`,
    );
    const labels = [...new Set(results.flatMap((r) => [...r.outcomes.keys()]))].sort();
    process.stdout.write(
      `${table([
        ['query mix (in-process outcomes)', ...results.map((r) => r.dialect)],
        ...labels.map((l) => [l, ...results.map((r) => String(r.outcomes.get(l) ?? 0))]),
      ])}\n\n`,
    );
    const goal = (ok: boolean, text: string) =>
      process.stdout.write(`${ok ? 'met    ' : 'MISSED '} ${text}\n`);
    for (const r of results) {
      process.stdout.write(
        `${r.dialect}: server CPU ${ms(r.cpuMsPerRequest)} ms a request over HTTP (${r.httpRequests} requests: the searches and the three that start each admin's flow every ${SEARCHES_PER_FLOW} searches)\n`,
      );
    }
    process.stdout.write('\n');
    for (const r of results) {
      const limit = GOAL_P99_MS[r.dialect];
      const httpLimit = GOAL_HTTP_P99_MS[r.dialect];
      goal(
        r.inProcess.p99 < limit,
        `${r.dialect} in-process p99 < ${limit} ms (${ms(r.inProcess.p99)} ms, p50 ${ms(r.inProcess.p50)} ms)`,
      );
      if (r.http.n > 0)
        goal(
          r.http.p99 < httpLimit,
          `${r.dialect} over HTTP p99 < ${httpLimit} ms (${ms(r.http.p99)} ms, p50 ${ms(r.http.p50)} ms)`,
        );
      // The review's name comes with the person's row; the only whole read of branches is the first build.
      goal(
        r.review.reviews > 0 && r.review.wrongNames === 0 && r.review.listings === r.review.builds,
        `${r.dialect} the review's organisation name without listBranches(): ${r.review.reviews} reviews in-process named from the person's lookup (${r.review.wrongNames} unlike the tree's name); ${r.review.listings} whole read(s) of branches, all by tree builds`,
      );
      goal(
        r.review.builds === 1,
        `${r.dialect} organisation tree built once while the branches did not change: ${r.review.builds} build(s) over ${r.review.seconds.toFixed(1)} s in-process (checked every 5 s)`,
      );
      if (r.dialect === 'postgres' && r.http.n > 0)
        goal(
          r.httpBranchRows <= r.branchCount + r.httpRequests,
          `postgres over HTTP: ${r.httpBranchRows} rows read from branches (PostgreSQL's statistics) for ${r.httpRequests} requests (${r.httpSearches} searches, ${r.httpReviews} reviews); at most one tree build (${r.branchCount}) and one row a request`,
        );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
