// Complete issuances per second: admin 2 and the recipient through all seven steps, over real HTTP
// on loopback (keep-alive) against `reservkort serve` run as separate processes, with the card
// agent and virtual cards in this process. Each workstation does what test-support/page.ts does
// (which goes through app.inject): the same requests in the order of walkToStep7 + acknowledge in
// routes/issuance.routes.test.ts; PIN dialogs are answered as soon as they open (polled each ms),
// and the agent's events are relayed from the download on, those between the keys in one statement as
// the page sends events that queued up.
// One issuance = login (the flow's id reserved with it) → search → select → SIGNERA → handover
// (click and proof) → terms → download (keys made on the reserve card, CSRs, both certificates
// issued) → write → KVITTERA KORT.
// Printed per configuration: issuances/s and its ratios, latency, the time each workstation waited
// on the server and on the cards, the CPU time of the server processes and of this process per
// issuance, and the mean wait per kind of request; on PostgreSQL the servers' lock waits (sampled);
// then the goals, met or missed: the server's CPU per issuance at most the card work's (SQLite and
// PostgreSQL), and two servers' at most 1.1× one server's.
// Configurations, side by side: SQLite with one server, PostgreSQL with one server, PostgreSQL with
// two servers sharing the database (the workstations split between them, running concurrently),
// and two servers with twice the workstations (each server as busy as the single one; not a goal).
// Baseline: the card work of an issuance alone (key generation, PIN checks and signatures on the
// virtual cards, no server), at the same concurrency: once at the start of each round (the table),
// and half the issuances' worth just before and just after each configuration's timed run, with its
// servers idle (the goals: each configuration's CPU is judged against the card work run around it,
// since this machine's speed drifts within a minute).
// Knobs: BENCH_ISSUANCES (timed issuances per configuration, default 100), BENCH_LANES (concurrent
// workstations, default 4), BENCH_CONFIGS (comma-separated subset: sqlite, postgres, postgres-2,
// postgres-2-wide), BENCH_SERVER_NODE_ARGS (node flags for the servers, e.g. --cpu-prof
// --cpu-prof-dir=DIR), BENCH_WARMUP (untimed issuances per workstation first, default 10),
// BENCH_FLOW_ROUNDS (rounds of the card work and every configuration in turn, default 3: each goal
// is judged on the median of its rounds' ratios).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent as HttpAgent, request } from 'node:http';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type AgentEvent, buildCsr, CardAgent, type OperationView, VirtualBackend } from '@reservkort/agent';
import {
  buildOrganisationTree,
  type CardNumber,
  type HsaId,
  luhnCheckDigit,
  parsePersonalNumber,
  registerOrder,
} from '@reservkort/domain';
import {
  grantRole,
  insertAdmin,
  insertOrder,
  insertPerson,
  type Store,
  upsertBranches,
} from '@reservkort/store';
import pg from 'pg';
import { openCa } from '../packages/server/src/cli/ca-context.js';
import { dataFolder } from '../packages/server/src/config/data-folder.js';
import { CARD_PINS, provisionCard } from '../packages/server/src/test-support/provision-card.js';
import {
  giveTestBureauKeys,
  openTestStation,
  registerTestStation,
} from '../packages/server/src/test-support/test-station.js';
import { createTestStore } from '../packages/store/src/test-support/test-stores.js';
import {
  type CpuMs,
  median,
  processCpuMs,
  ratio,
  serverNodeArgs,
  startProcess,
  stopProcess,
  table,
} from './support.js';

const execute = promisify(execFile);
const BIN = new URL('../packages/server/bin/reservkort.js', import.meta.url).pathname;
const ISSUANCES = Number(process.env.BENCH_ISSUANCES ?? 100);
const LANES = Number(process.env.BENCH_LANES ?? 4);
/**
 * Untimed issuances per workstation before the timed ones. The servers' CPU counts from the end of
 * the warm-up: a server compiles its hot paths during its first few hundred requests, and with two
 * servers each compiles them on half the requests, which a short timed run would count as scaling.
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 10);
/** Rounds of the card work and every configuration, one after the other; the goals take their median. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_FLOW_ROUNDS ?? 3));
/** Extra node flags for the server processes, e.g. `--cpu-prof --cpu-prof-dir=./prof`. */
const SERVER_NODE_ARGS = serverNodeArgs();
const RESERVE_PINS = { pin1: '1111', pin2: '2222', puk: '87654321' } as const;
const ADMIN1 = 'SE2321000016-adm1' as HsaId;
const ADMIN1_CARD = '9752278900000000001' as CardNumber;
const BRANCHES = [
  { id: 'region', parentId: null, name: 'Region Exempel' },
  { id: 'hospital', parentId: 'region', name: 'Sjukhuset' },
  { id: 'clinic', parentId: 'hospital', name: 'Kliniken' },
];

interface Config {
  readonly key: string;
  readonly name: string;
  readonly dialect: 'sqlite' | 'postgres';
  readonly servers: number;
  /** Workstations at once; LANES unless the configuration says otherwise. */
  readonly lanes?: number;
}
const CONFIGS: readonly Config[] = [
  { key: 'sqlite', name: 'SQLite, 1 server', dialect: 'sqlite', servers: 1 },
  { key: 'postgres', name: 'PostgreSQL, 1 server', dialect: 'postgres', servers: 1 },
  { key: 'postgres-2', name: 'PostgreSQL, 2 servers', dialect: 'postgres', servers: 2 },
  // Each server as busy as the one server above: what separates load shared out from load lost.
  {
    key: 'postgres-2-wide',
    name: `PostgreSQL, 2 servers, ${2 * LANES} workstations`,
    dialect: 'postgres',
    servers: 2,
    lanes: 2 * LANES,
  },
];
const lanesOf = (config: Config): number => config.lanes ?? LANES;

const log = (text: string) => process.stderr.write(`${text}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const msSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0);

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** A valid personnummer per index: birth dates from 1940 on, a serial per 20,000 people, Luhn. */
const personalNumberOf = (i: number): string => {
  const born = new Date(Date.UTC(1940, 0, 1) + (i % 20_000) * 86_400_000);
  const date = `${born.getUTCFullYear()}${String(born.getUTCMonth() + 1).padStart(2, '0')}${String(born.getUTCDate()).padStart(2, '0')}`;
  const serial = String(Math.floor(i / 20_000) % 1000).padStart(3, '0');
  return `${date}${serial}${luhnCheckDigit(`${date.slice(2)}${serial}`)}`;
};

// --- HTTP: what the page's fetch does, on a keep-alive connection --------------------------------

interface FlowViewAnswer {
  readonly flowId: string;
  readonly step: number;
  readonly status: string;
}
/** The parts of the API's answers this benchmark reads. */
interface Answer {
  readonly view?: FlowViewAnswer;
  readonly raised?: readonly string[];
  readonly review?: { readonly cardNumber: string } | null;
  readonly certificates?: { readonly auth: string; readonly sign: string };
  readonly challengeId?: string;
  readonly challenge?: string;
  readonly toBeSigned?: string;
  readonly csrfToken?: string;
  /** The login's: the issuance's flow id reserved with it. */
  readonly flowReservation?: { readonly flowId: string; readonly stationNonce: string };
  readonly code?: string;
  /** Given with the answer that brings the flow to SIGNERA or KVITTERA KORT. */
  readonly signingChallenge?: {
    readonly purpose: string;
    readonly challengeId: string;
    readonly toBeSigned: string;
  };
}

class Http {
  private readonly agent = new HttpAgent({ keepAlive: true });
  constructor(readonly port: number) {}

  send(
    method: 'GET' | 'POST',
    path: string,
    payload: unknown,
    headers: Record<string, string>,
  ): Promise<{ status: number; setCookie: readonly string[]; body: Answer }> {
    const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: {
            ...headers,
            ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            try {
              resolve({
                status: res.statusCode ?? 0,
                setCookie: res.headers['set-cookie'] ?? [],
                body: (text === '' ? {} : JSON.parse(text)) as Answer,
              });
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

// --- One workstation: admin 2's card in one reader, the reserve card in the other ---------------

interface Timing {
  httpMs: number;
  cardMs: number;
  requests: number;
  /** Per request kind (path with the flow id taken out, plus the event or action type): count and ms. */
  readonly byKind: Map<string, { count: number; ms: number }>;
}

const newTiming = (): Timing => ({ httpMs: 0, cardMs: 0, requests: 0, byKind: new Map() });

interface Order {
  readonly personalNumber: string;
  readonly cardNumber: CardNumber;
}

/** Answers an operation's PIN dialogs in order (polling each millisecond) and waits for the end. */
const answerPins = async (agent: CardAgent, view: OperationView, pins: readonly string[]) => {
  let current = view;
  for (const pin of pins) {
    while ((current.dialog === null || current.dialog.state === 'completed') && current.state === 'pending') {
      await sleep(1);
      current = agent.operation(view.id);
    }
    if (current.dialog === null || current.state !== 'pending') break;
    await agent.submitPin(current.dialog.id, pin);
    current = agent.operation(view.id);
  }
  const done = await agent.waitFor(view.id, 10_000);
  if (done.state !== 'done')
    throw new Error(`${view.kind} ended ${done.state}: ${JSON.stringify(done.error)}`);
  return done;
};

class Workstation {
  private cookie = '';
  private csrf = '';
  private flowId = '';
  /** The nonce the station's next statement for the flow must carry, as the server last said. */
  private stationNonce = '';
  /** The signing challenge the last answer that reached a signature gave, as the page keeps it. */
  private offered: Answer['signingChallenge'] | null = null;
  readonly readerA = 'reader-1';
  readonly readerB = 'reader-2';
  timing: Timing = newTiming();

  /** Each workstation is a registered card station: its own agent, its own two readers. */
  constructor(
    private readonly http: Http,
    private readonly agent: CardAgent,
    private readonly token: string,
    private readonly cards: VirtualBackend,
    private readonly adminCard: CardNumber,
  ) {}

  private async call(method: 'GET' | 'POST', path: string, payload?: unknown) {
    const start = process.hrtime.bigint();
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = `rk_session=${this.cookie}`;
    if (this.csrf) headers['x-csrf-token'] = this.csrf;
    const answer = await this.http.send(method, path, payload, headers);
    const ms = msSince(start);
    this.timing.httpMs += ms;
    this.timing.requests++;
    const type = (payload as { type?: unknown; purpose?: unknown } | undefined) ?? {};
    const kind = `${method} ${path.replace(this.flowId || '\u0000', ':id')}${typeof type.type === 'string' ? ` ${type.type}` : ''}${typeof type.purpose === 'string' ? ` ${type.purpose}` : ''}`;
    const entry = this.timing.byKind.get(kind) ?? { count: 0, ms: 0 };
    entry.count++;
    entry.ms += ms;
    this.timing.byKind.set(kind, entry);
    if (answer.status >= 400)
      throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    const nonce = (answer.body as { stationNonce?: unknown }).stationNonce;
    if (path.startsWith('/api/flows') && typeof nonce === 'string') this.stationNonce = nonce;
    const offered = (answer.body as Answer).signingChallenge;
    if (offered !== undefined) this.offered = offered;
    return answer;
  }

  /** A statement of this workstation's station for the flow, signed now (part of the card time). */
  private async statement(
    kind: 'readers' | 'event' | 'events' | 'card-proof' | 'keys-generated',
    extra: { eventSeq?: number; eventSeqs?: number[]; reader?: 1 | 2 } = {},
  ) {
    const start = process.hrtime.bigint();
    const signed = await this.agent.statement(this.token, {
      flowId: this.flowId,
      nonce: this.stationNonce,
      kind,
      ...extra,
    });
    this.timing.cardMs += msSince(start);
    return signed;
  }

  /** The agent's log since `afterSeq`, as the page's event stream brings it. */
  private agentLog(afterSeq: number): AgentEvent[] {
    const log: AgentEvent[] = [];
    this.agent.subscribe((event) => log.push(event), afterSeq)();
    return log;
  }

  private lastSeq(): number {
    return this.agentLog(0).at(-1)?.seq ?? 0;
  }

  private async api(path: string, payload?: unknown): Promise<Answer> {
    return (await this.call('POST', path, payload)).body;
  }

  private async card(started: Promise<OperationView>, pins: readonly string[]) {
    const start = process.hrtime.bigint();
    const done = await answerPins(this.agent, await started, pins);
    this.timing.cardMs += msSince(start);
    return done.result as Record<string, string>;
  }

  private expectStep(answer: Answer, step: number, what: string): void {
    if (answer.view?.step !== step)
      throw new Error(`${what}: expected step ${step}, got ${JSON.stringify(answer)}`);
  }

  private flow(path: string, payload?: unknown) {
    return this.api(`/api/flows/${this.flowId}${path}`, payload);
  }

  private action(type: string, extra: Record<string, unknown> = {}) {
    return this.flow('/actions', { type, ...extra });
  }

  /** Relays an event of the agent's log as the station's statement; keys go to /keys, vouched for by the card. */
  private async relay(event: AgentEvent): Promise<Answer> {
    if (event.type === 'flow' && event.event.type === 'keys-generated')
      return this.flow('/keys', { statement: await this.statement('keys-generated', { reader: 2 }) });
    return this.flow('/agent-events', { statement: await this.statement('event', { eventSeq: event.seq }) });
  }

  /**
   * Relays events of the agent's log as the page does when they have queued up: each run between
   * the keys in one `events` statement, the keys to /keys; the last answer.
   */
  private async relayAll(events: readonly AgentEvent[]): Promise<Answer | null> {
    let last: Answer | null = null;
    let run: AgentEvent[] = [];
    const flush = async () => {
      if (run.length > 1)
        last = await this.flow('/agent-events', {
          statement: await this.statement('events', { eventSeqs: run.map((e) => e.seq) }),
        });
      else if (run[0] !== undefined) last = await this.relay(run[0]);
      run = [];
    };
    for (const e of events) {
      if (e.type === 'flow' && e.event.type === 'keys-generated') {
        await flush();
        last = await this.relay(e);
      } else run.push(e);
    }
    await flush();
    return last;
  }

  private async signChallenge(purpose: 'order' | 'acknowledge', reader: string, pin2: string) {
    // As the page does: the challenge the answer that reached the signature gave, else a new one.
    const offered = this.offered?.purpose === purpose ? this.offered : null;
    this.offered = null;
    const challenge = offered ?? (await this.flow('/signing-challenge', { purpose }));
    const signed = await this.card(
      this.agent.sign(this.token, reader, Buffer.from(challenge.toBeSigned ?? '', 'base64'), this.flowId),
      [pin2],
    );
    return { challengeId: challenge.challengeId ?? '', signature: signed.signature ?? '' };
  }

  private async login(): Promise<{ readonly flowId: string; readonly stationNonce: string }> {
    const readers = await this.cards.readers();
    if (readers.find((r) => r.id === this.readerA)?.card?.cardNumber !== this.adminCard)
      await this.cards.insertCard(this.readerA, this.adminCard);
    await this.agent.bind(this.token, this.readerA);
    this.cookie = '';
    this.csrf = '';
    const challenge = await this.api('/api/auth/challenge');
    const signed = await this.card(
      this.agent.authenticate(
        this.token,
        this.readerA,
        Buffer.from(challenge.challenge ?? '', 'base64'),
        null,
      ),
      [CARD_PINS.pin1],
    );
    // The flow's id reserved with the login, as the page asks for it on the issuance portal.
    const answer = await this.call('POST', '/api/auth/login', {
      challengeId: challenge.challengeId,
      certificate: signed.certificate,
      signature: signed.signature,
      reserveFlow: true,
    });
    this.cookie =
      /^rk_session=([^;]*)/.exec(answer.setCookie.find((c) => c.startsWith('rk_session=')) ?? '')?.[1] ?? '';
    this.csrf = answer.body.csrfToken ?? '';
    if (!this.cookie || !this.csrf) throw new Error('login gave no session');
    const reserved = answer.body.flowReservation;
    if (reserved === undefined) throw new Error('login reserved no flow');
    return reserved;
  }

  /** One complete issuance, step by step as in routes/issuance.routes.test.ts (walkToStep7 + acknowledge). */
  async issue(order: Order): Promise<void> {
    try {
      const reserved = await this.login();
      this.flowId = reserved.flowId;
      this.offered = null;
      this.stationNonce = reserved.stationNonce;
      const started = await this.api('/api/flows', {
        flowId: this.flowId,
        readers: await this.statement('readers'),
      });
      this.expectStep(started, 1, 'start');
      this.expectStep(await this.action('manage-orders'), 2, 'Hantera beställningar');
      const search = await this.flow('/search', { query: order.personalNumber });
      if (search.review?.cardNumber !== order.cardNumber)
        throw new Error(`search: no hit for ${order.cardNumber}: ${JSON.stringify(search.raised)}`);
      this.expectStep(await this.action('order-selected'), 3, 'select');

      const challenge = await this.signChallenge('order', this.readerA, CARD_PINS.pin2);
      const info = await this.cards.cardInfo(this.readerA);
      const certificate = Buffer.from(info.certificates.find((c) => c.key === 'sign')?.der ?? []).toString(
        'base64',
      );
      const readers = await this.statement('readers');
      this.expectStep(await this.flow('/sign', { ...challenge, certificate, readers }), 4, 'SIGNERA');

      const beforeInsert = this.lastSeq();
      await this.cards.insertCard(this.readerB, order.cardNumber);
      await this.agent.bind(this.token, this.readerB);
      const inserted = this.agentLog(beforeInsert).find((e) => e.type === 'card-inserted');
      if (inserted === undefined) throw new Error('the agent saw no card inserted');
      await this.relay(inserted);
      // BEKRÄFTA ÖVERLÄMNING goes with the card's proof, as the page sends it.
      this.expectStep(
        await this.flow('/handover', {
          proof: await this.statement('card-proof', { reader: 2 }),
          confirmed: true,
        }),
        5,
        'BEKRÄFTA ÖVERLÄMNING',
      );
      await this.action('terms-accepted', { accepted: true });
      await this.action('download-requested');

      const seen = this.lastSeq();
      const csrs = await this.card(this.agent.enrol(this.token, this.readerB, this.flowId), [
        RESERVE_PINS.pin1,
        RESERVE_PINS.pin2,
      ]);
      // The page relays what the agent recorded for this flow from the download on (step 6).
      const flowEvents = () =>
        this.agentLog(seen).filter((e) => e.type === 'flow' && e.flowId === this.flowId);
      const last = await this.relayAll(flowEvents());
      if (last === null) throw new Error('the agent recorded no events');
      this.expectStep(last, 6, 'download');
      const issued = await this.flow('/certificates', { authCsr: csrs.authCsr, signCsr: csrs.signCsr });
      const certificates = issued.certificates;
      if (certificates === undefined) throw new Error(`certificates: ${JSON.stringify(issued)}`);
      await this.card(
        this.agent.writeCertificates(
          this.token,
          this.readerB,
          { auth: Buffer.from(certificates.auth, 'base64'), sign: Buffer.from(certificates.sign, 'base64') },
          this.flowId,
        ),
        [],
      );
      const written = this.agentLog(seen).find(
        (e) => e.type === 'flow' && e.flowId === this.flowId && e.event.type === 'certificates-written',
      );
      if (written === undefined) throw new Error('the agent recorded no certificates written');
      this.expectStep(await this.relay(written), 7, 'write');

      const ack = await this.signChallenge('acknowledge', this.readerB, RESERVE_PINS.pin2);
      const done = await this.flow('/acknowledge', ack);
      if (done.view?.status !== 'completed') throw new Error(`KVITTERA KORT: ${JSON.stringify(done)}`);
    } finally {
      const inB = (await this.cards.readers()).find((r) => r.id === this.readerB)?.card;
      if (inB) await this.cards.removeCard(this.readerB);
    }
  }
}

// --- Set-up of one configuration ---------------------------------------------------------------

/** One workstation's desk: its two readers and its card agent, a registered card station. */
interface Desk {
  readonly cards: VirtualBackend;
  readonly agent: CardAgent;
  readonly token: string;
}

interface Prepared {
  readonly store: Store & { readonly url: string; dispose(): Promise<void> };
  readonly env: NodeJS.ProcessEnv;
  readonly desks: readonly Desk[];
  readonly adminCards: readonly CardNumber[];
  readonly orders: readonly Order[];
  close(): Promise<void>;
}

/** A fresh database and CA (`reservkort ca init`), admins with cards, persons, orders, reserve cards. */
const prepare = async (config: Config, dir: string, orderCount: number): Promise<Prepared> => {
  const store = await createTestStore(config.dialect);
  const dataDir = join(dir, config.key);
  const env: NodeJS.ProcessEnv = { ...process.env, RESERVKORT_DATA: dataDir, DATABASE_URL: store.url };
  delete env.RESERVKORT_CA_PASSPHRASE;
  try {
    await execute(process.execPath, [BIN, 'ca', 'init'], { env });
    const ca = await openCa(dataFolder(dataDir), store);
    const desks: Desk[] = [];
    for (let lane = 0; lane < lanesOf(config); lane++) {
      const cards = await VirtualBackend.open({ stateFile: null, readers: 2 });
      const agent = new CardAgent({
        backend: cards,
        info: { version: 'bench', packaging: 'bench' },
        station: await openTestStation(),
      });
      desks.push({ cards, agent, token: agent.createSession().token });
    }
    const cards = (desks[0] as Desk).cards;
    const now = Date.now();
    await upsertBranches(store.db, BRANCHES);
    await insertAdmin(store.db, { hsaId: ADMIN1, givenName: 'Admin', surname: 'Ett', createdAt: now });
    await grantRole(store.db, { adminHsaId: ADMIN1, role: 'KRA', branchId: 'hospital' });
    const admin1Card = await provisionCard(cards, ca, {
      hsaId: ADMIN1,
      givenName: 'Admin',
      surname: 'Ett',
      cardNumber: ADMIN1_CARD,
    });
    const adminCards: CardNumber[] = [];
    for (let lane = 0; lane < lanesOf(config); lane++) {
      const hsaId = `SE2321000016-ws${lane}` as HsaId;
      const cardNumber = `9752278900000001${String(lane).padStart(3, '0')}` as CardNumber;
      await insertAdmin(store.db, { hsaId, givenName: 'Admin', surname: `Två ${lane}`, createdAt: now });
      await grantRole(store.db, { adminHsaId: hsaId, role: 'RA', branchId: 'region' });
      await grantRole(store.db, { adminHsaId: hsaId, role: 'KUR', branchId: 'region' });
      await provisionCard((desks[lane] as Desk).cards, ca, {
        hsaId,
        givenName: 'Admin',
        surname: `Två ${lane}`,
        cardNumber,
      });
      adminCards.push(cardNumber);
    }
    const tree = buildOrganisationTree(BRANCHES);
    if (!tree.ok) throw new Error('organisation');
    const admin1 = { hsaId: ADMIN1, grants: [{ role: 'KRA' as const, branchId: 'hospital' }] };
    const orders: Order[] = [];
    await store.db.transaction().execute(async (trx) => {
      for (let i = 0; i < orderCount; i++) {
        const parsed = parsePersonalNumber(personalNumberOf(i), { year: 2026, month: 11, day: 29 });
        if (!parsed.ok) throw new Error(`personnummer ${personalNumberOf(i)}`);
        const person = {
          hsaId: `SE2321000016-r${i}` as HsaId,
          personalNumber: parsed.value.personalNumber,
          givenName: 'Mottagare',
          surname: `Nummer ${i}`,
          branchId: 'clinic',
          protectedIdentity: false,
          createdAt: now,
        };
        await insertPerson(trx, person);
        const cardNumber = `9752278910${String(i).padStart(9, '0')}` as CardNumber;
        const order = registerOrder({
          id: `order-${i}`,
          person,
          cardNumber,
          validity: { notBefore: now, notAfter: now + 7 * 86_400_000 },
          idDocument: 'swedish-driving-licence',
          admin: admin1,
          signature: {
            signedBy: ADMIN1,
            signedAt: now,
            assuranceLevel: 'LoA3',
            certificateSerial: admin1Card.signSerial,
          },
          product: { name: 'SITHS reservkort', maxValidityDays: 14 },
          tree: tree.value,
          now,
          cardHolder: () => null,
        });
        if (!order.ok) throw new Error(`order: ${JSON.stringify(order.error)}`);
        await insertOrder(trx, order.value);
        orders.push({ personalNumber: parsed.value.personalNumber.value, cardNumber });
      }
    });
    // Any order may be issued at any desk: every desk has every blank reserve card, made by the
    // card bureau (a bureau key each), and is registered as a card station.
    for (const desk of desks) {
      await registerTestStation(desk.agent, desk.token, { db: store.db, ca });
      for (const order of orders)
        await desk.cards.createCard({ cardNumber: order.cardNumber, ...RESERVE_PINS });
      await giveTestBureauKeys(desk.cards, ca);
    }
    await ca.close();
    return {
      store,
      env,
      desks,
      adminCards,
      orders,
      close: async () => {
        for (const desk of desks) await desk.agent.close();
        await store.dispose();
      },
    };
  } catch (error) {
    await store.dispose();
    throw error;
  }
};

// --- Runs ---------------------------------------------------------------------------------------

interface RunResult {
  readonly name: string;
  readonly seconds: number;
  readonly done: number;
  readonly latenciesMs: readonly number[];
  readonly timing: Timing;
  readonly errors: number;
  readonly firstError: string | null;
  readonly completedInDatabase: number | null;
  /** CPU time of the server processes during the timed run (PostgreSQL's own not included). */
  readonly serverCpuMs: number | null;
  /** The part of serverCpuMs spent in the kernel: socket calls, and on loopback the receiver's side too. */
  readonly serverSystemMs: number | null;
  /** CPU time of this process: agent, virtual cards (their thread pool included) and HTTP client. */
  readonly benchCpuMs: number;
  /** The part of benchCpuMs spent in the kernel. */
  readonly benchSystemMs: number;
  /** PostgreSQL only: the servers' time spent waiting on locks during the timed run, by lock type. */
  readonly lockWaits: LockWaits | null;
  /**
   * Server CPU of one bare request (GET /health: parsing, routing, hooks, one indexed read, the
   * reply) after the timed run, as many as the run made on the same lanes: the floor that the
   * number of requests alone puts under an issuance.
   */
  readonly bareRequestCpuMs: number | null;
  /**
   * The card work alone, run just before and just after the timed run (half the issuances each):
   * this process's CPU for it and how many issuances' worth. Null for the card work's own row.
   */
  readonly around: { readonly cpuMs: number; readonly done: number } | null;
}

interface LockWaits {
  /** Estimated ms that server connections spent waiting on a lock, summed over connections. */
  readonly totalMs: number;
  readonly byType: ReadonlyMap<string, number>;
  readonly samples: number;
}

/**
 * Lock waits on PostgreSQL, sampled: every few milliseconds a separate connection counts the
 * database's backends that wait on a lock (pg_stat_activity, wait_event_type 'Lock'; the wait event
 * names the kind: 'advisory' is the audit chain's appenders' lock, 'transactionid' and 'tuple' are
 * row locks). Each waiting backend seen counts as waiting for the time since the previous sample.
 * PostgreSQL keeps no cumulative lock-wait time of its own, and timing the lock statement in the
 * server would count the round trip too; sampling costs the servers nothing.
 */
const sampleLockWaits = (url: string, everyMs = 5) => {
  const client = new pg.Client({ connectionString: url });
  const byType = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  let last = process.hrtime.bigint();
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      const { rows } = await client.query<{ wait_event: string; n: string }>(
        `select wait_event, count(*) as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()
          group by wait_event`,
      );
      const now = process.hrtime.bigint();
      const ms = Number(now - last) / 1e6;
      last = now;
      samples++;
      for (const row of rows)
        byType.set(row.wait_event, (byType.get(row.wait_event) ?? 0) + Number(row.n) * ms);
      await sleep(everyMs);
    }
  })();
  return async (): Promise<LockWaits> => {
    stopped = true;
    await loop.finally(() => client.end());
    return { totalMs: [...byType.values()].reduce((a, b) => a + b, 0), byType, samples };
  };
};

/** This process's CPU time so far. */
const benchCpu = (): CpuMs => {
  const usage = process.cpuUsage();
  return { total: (usage.user + usage.system) / 1000, system: usage.system / 1000 };
};
const cpuSince = (before: CpuMs, after: CpuMs): CpuMs => ({
  total: after.total - before.total,
  system: after.system - before.system,
});

/** ", of which N% in the kernel", or nothing where the split is not known. */
const kernelShare = (systemMs: number | null, totalMs: number): string =>
  systemMs === null || totalMs <= 0
    ? ''
    : `, of which ${((100 * systemMs) / totalMs).toFixed(0)}% in the kernel`;

/** Runs `work` for each item on `lanes` concurrent lanes; times each item and the whole. */
const onLanes = async <T>(
  lanes: number,
  items: readonly T[],
  work: (lane: number, item: T) => Promise<void>,
): Promise<{ seconds: number; latenciesMs: number[]; errors: number; firstError: string | null }> => {
  let next = 0;
  let errors = 0;
  let firstError: string | null = null;
  const latenciesMs: number[] = [];
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (let i = next++; i < items.length; i = next++) {
        const itemStart = process.hrtime.bigint();
        try {
          await work(lane, items[i] as T);
          latenciesMs.push(msSince(itemStart));
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message.slice(0, 300) : String(error);
        }
      }
    }),
  );
  return {
    seconds: msSince(start) / 1000,
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    errors,
    firstError,
  };
};

/** Server CPU per bare request: `count` GET /health spread over the lanes, round-robin over the servers. */
const bareRequestCpu = async (
  clients: readonly Http[],
  lanes: number,
  count: number,
  serverCpu: () => CpuMs,
): Promise<number | null> => {
  if (count === 0) return null;
  const before = serverCpu();
  const probes = await onLanes(
    lanes,
    Array.from({ length: count }, (_, i) => i),
    async (lane) => {
      const answer = await (clients[lane % clients.length] as Http).send('GET', '/health', undefined, {});
      if (answer.status !== 200) throw new Error(`GET /health answered ${answer.status}`);
    },
  );
  const used = cpuSince(before, serverCpu());
  return probes.errors > 0 || Number.isNaN(used.total) ? null : used.total / count;
};

const runConfig = async (config: Config, dir: string, cardWork: CardWork): Promise<RunResult> => {
  const lanes = lanesOf(config);
  const warmups = lanes * Math.max(1, WARMUP);
  log(`${config.name}: database, CA, ${ISSUANCES + warmups} persons, orders and reserve cards…`);
  const prepared = await prepare(config, dir, ISSUANCES + warmups);
  const servers: Awaited<ReturnType<typeof startProcess>>[] = [];
  const clients: Http[] = [];
  // Every workstation of the bench logs in from one address, far above a person's pace: the login
  // limit per address would measure itself, not the server.
  const serverConfig = join(dir, `${config.key}.config.json`);
  await writeFile(serverConfig, JSON.stringify({ rateLimit: { loginPerMinute: 100_000 } }));
  try {
    for (let s = 0; s < config.servers; s++) {
      const port = await freePort();
      servers.push(
        await startProcess(
          process.execPath,
          [...SERVER_NODE_ARGS, BIN, 'serve', '--config', serverConfig, '--port', String(port)],
          /Server listening at/,
          prepared.env,
        ),
      );
      clients.push(new Http(port));
    }
    const stations = prepared.adminCards.map((card, lane) => {
      const desk = prepared.desks[lane] as Desk;
      return new Workstation(
        clients[lane % clients.length] as Http,
        desk.agent,
        desk.token,
        desk.cards,
        card,
      );
    });
    log(`${config.name}: warming up (${warmups / lanes} issuances per workstation, not timed)…`);
    const warm = await onLanes(lanes, prepared.orders.slice(0, warmups), (lane, order) =>
      (stations[lane] as Workstation).issue(order),
    );
    if (warm.errors > 0) throw new Error(`warm-up failed: ${warm.firstError}`);
    for (const station of stations) station.timing = newTiming();
    log(`${config.name}: ${ISSUANCES} issuances on ${lanes} workstations, ${config.servers} server(s)…`);
    const serverCpu = () =>
      servers
        .map((s) => processCpuMs(s.pid))
        .reduce((a, b) => ({
          total: a.total + b.total,
          system: a.system + b.system,
        }));
    // The card work alone just before and just after, with the servers idle: this machine's speed
    // drifts within a minute, and a baseline run minutes earlier would read the drift as the server's.
    const before = await cardWork.slice(Math.ceil(ISSUANCES / 2));
    const serverCpuBefore = serverCpu();
    const stopSampling = config.dialect === 'postgres' ? sampleLockWaits(prepared.store.url) : null;
    const benchCpuBefore = benchCpu();
    const run = await onLanes(lanes, prepared.orders.slice(warmups), (lane, order) =>
      (stations[lane] as Workstation).issue(order),
    );
    const benchUsed = cpuSince(benchCpuBefore, benchCpu());
    const serverUsed = cpuSince(serverCpuBefore, serverCpu());
    const lockWaits = stopSampling === null ? null : await stopSampling();
    const after = await cardWork.slice(Math.floor(ISSUANCES / 2));
    if (before.run.errors + after.run.errors > 0)
      throw new Error(`card work failed: ${before.run.firstError ?? after.run.firstError}`);
    const around = {
      cpuMs: before.cpu.total + after.cpu.total,
      done: before.run.latenciesMs.length + after.run.latenciesMs.length,
    };
    const timing = newTiming();
    for (const s of stations) {
      timing.httpMs += s.timing.httpMs;
      timing.cardMs += s.timing.cardMs;
      timing.requests += s.timing.requests;
      for (const [kind, entry] of s.timing.byKind) {
        const sum = timing.byKind.get(kind) ?? { count: 0, ms: 0 };
        sum.count += entry.count;
        sum.ms += entry.ms;
        timing.byKind.set(kind, sum);
      }
    }
    const bareRequestCpuMs = await bareRequestCpu(clients, lanes, timing.requests, serverCpu);
    const completed = await prepared.store.db
      .selectFrom('orders')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'completed')
      .executeTakeFirst();
    return {
      name: config.name,
      seconds: run.seconds,
      done: run.latenciesMs.length,
      latenciesMs: run.latenciesMs,
      timing,
      errors: run.errors,
      firstError: run.firstError,
      completedInDatabase: completed === undefined ? null : Number(completed.n) - warmups,
      serverCpuMs: Number.isNaN(serverUsed.total) ? null : serverUsed.total,
      serverSystemMs: Number.isNaN(serverUsed.system) ? null : serverUsed.system,
      benchCpuMs: benchUsed.total,
      benchSystemMs: benchUsed.system,
      lockWaits,
      bareRequestCpuMs,
      around,
    };
  } finally {
    for (const client of clients) client.close();
    for (const server of servers) await stopProcess(server);
    await prepared.close();
  }
};

/** The card work of issuances straight on virtual cards, run in slices; warmed up when opened. */
interface CardWork {
  /** `count` issuances' worth on the bench's workstations: the run, and this process's CPU for it. */
  slice(count: number): Promise<{ readonly run: Awaited<ReturnType<typeof onLanes>>; readonly cpu: CpuMs }>;
  close(): Promise<void>;
}

const openCardWork = async (): Promise<CardWork> => {
  const cards = await VirtualBackend.open({ stateFile: null, readers: 2 * LANES });
  try {
    const admins: CardNumber[] = [];
    for (let lane = 0; lane < LANES; lane++) {
      const admin = `9752278900000002${String(lane).padStart(3, '0')}` as CardNumber;
      const reserve = `9752278920${String(lane).padStart(9, '0')}` as CardNumber;
      await cards.createCard({ cardNumber: admin, ...CARD_PINS });
      await cards.createCard({ cardNumber: reserve, ...RESERVE_PINS });
      await cards.insertCard(`reader-${2 * lane + 1}`, admin);
      await cards.insertCard(`reader-${2 * lane + 2}`, reserve);
      for (const key of ['auth', 'sign'] as const)
        await cards.generateKey(`reader-${2 * lane + 1}`, admin, key, CARD_PINS.pin1, 'ecdsa-p256');
      admins.push(admin);
    }
    const certificate = randomBytes(700);
    const one = async (lane: number): Promise<void> => {
      const a = `reader-${2 * lane + 1}`;
      const b = `reader-${2 * lane + 2}`;
      const admin = admins[lane] as CardNumber;
      const reserve = `9752278920${String(lane).padStart(9, '0')}` as CardNumber;
      await cards.sign(a, admin, 'auth', CARD_PINS.pin1, randomBytes(32)); // login
      await cards.sign(a, admin, 'sign', CARD_PINS.pin2, randomBytes(200)); // SIGNERA
      const auth = await cards.generateKey(b, reserve, 'auth', RESERVE_PINS.pin1, 'ecdsa-p256');
      const sign = await cards.generateKey(b, reserve, 'sign', RESERVE_PINS.pin1, 'ecdsa-p256');
      await buildCsr(auth.spki, 'ecdsa-p256', `CN=${reserve}`, (tbs) =>
        cards.sign(b, reserve, 'auth', RESERVE_PINS.pin1, tbs),
      );
      await buildCsr(sign.spki, 'ecdsa-p256', `CN=${reserve}`, (tbs) =>
        cards.sign(b, reserve, 'sign', RESERVE_PINS.pin2, tbs),
      );
      await cards.writeCertificate(b, reserve, 'auth', RESERVE_PINS.pin1, certificate);
      await cards.writeCertificate(b, reserve, 'sign', RESERVE_PINS.pin1, certificate);
      await cards.sign(b, reserve, 'sign', RESERVE_PINS.pin2, randomBytes(200)); // KVITTERA KORT
    };
    await onLanes(LANES, Array.from({ length: LANES * Math.max(1, WARMUP) }), (lane) => one(lane));
    return {
      slice: async (count) => {
        const before = benchCpu();
        const run = await onLanes(LANES, Array.from({ length: count }), (lane) => one(lane));
        return { run, cpu: cpuSince(before, benchCpu()) };
      },
      close: () => cards.close(),
    };
  } catch (error) {
    await cards.close();
    throw error;
  }
};

/** The card work of one issuance straight on virtual cards: what the fastest possible server leaves. */
const cardWorkOnly = async (count: number): Promise<RunResult> => {
  log(`card work alone: ${count} issuances' worth on ${LANES} workstations…`);
  const work = await openCardWork();
  try {
    const { run, cpu } = await work.slice(count);
    const cardMs = run.latenciesMs.reduce((sum, ms) => sum + ms, 0);
    return {
      name: 'card work alone (no server)',
      seconds: run.seconds,
      done: run.latenciesMs.length,
      latenciesMs: run.latenciesMs,
      timing: { ...newTiming(), cardMs },
      errors: run.errors,
      firstError: run.firstError,
      completedInDatabase: null,
      serverCpuMs: null,
      serverSystemMs: null,
      benchCpuMs: cpu.total,
      benchSystemMs: cpu.system,
      lockWaits: null,
      bareRequestCpuMs: null,
      around: null,
    };
  } finally {
    await work.close();
  }
};

const serverCpuPerIssuance = (r: RunResult | undefined): number | null =>
  r === undefined || r.serverCpuMs === null || r.done === 0 ? null : r.serverCpuMs / r.done;

/** One round: the card work alone, then each configuration, run one after the other. */
interface Round {
  readonly baseline: RunResult;
  readonly results: readonly RunResult[];
}

/** How a median of rounds' ratios was reached: ", median of 3 rounds; rounds 1.2×, …", or nothing for one round. */
const spreadOf = (each: readonly number[]): string =>
  each.length > 1
    ? `, median of ${each.length} rounds; rounds ${each.map((r) => `${r.toFixed(2)}×`).join(', ')}`
    : '';

/**
 * The goals of the flow benchmark, each met or missed (or not measured in this run). Each ratio is
 * taken within a round, between runs minutes apart, and the verdict is on the median of the rounds':
 * this machine's speed drifts by a fifth or more between minutes, which one run of each would read as
 * a difference between configurations.
 */
const goals = (rounds: readonly Round[]): string[] => {
  const resultOf = (round: Round, key: string) =>
    round.results.find((r) => r.name === CONFIGS.find((c) => c.key === key)?.name);
  const cpuOf = (round: Round, key: string) => serverCpuPerIssuance(resultOf(round, key));
  /** The card work's CPU per issuance just before and after this configuration's timed run. */
  const aroundOf = (round: Round, key: string) => {
    const around = resultOf(round, key)?.around;
    return around === undefined || around === null || around.done === 0 ? null : around.cpuMs / around.done;
  };
  /** The server's CPU per issuance in card works' worth, measured around it. */
  const inCardWorks = (round: Round, key: string) => {
    const cpu = cpuOf(round, key);
    const card = aroundOf(round, key);
    return cpu === null || card === null || card === 0 ? null : cpu / card;
  };
  /** The ratio in each round where both sides were measured. */
  const ratios = (top: (round: Round) => number | null, bottom: (round: Round) => number | null) =>
    rounds.flatMap((round) => {
      const a = top(round);
      const b = bottom(round);
      return a === null || b === null || b === 0 ? [] : [a / b];
    });
  const verdict = (goal: string, each: readonly number[], limit: number, sides: string) => {
    if (each.length === 0) return `goal: ${goal}: not measured`;
    const middle = median(each);
    return `goal: ${goal}: ${middle <= limit ? 'met' : 'missed'} (${sides} ${middle.toFixed(2)}×${spreadOf(each)})`;
  };
  const lines: string[] = [];
  for (const key of ['sqlite', 'postgres'])
    lines.push(
      verdict(
        `server CPU per issuance ≤ 1.0× the card work's CPU, ${key}`,
        ratios(
          (round) => inCardWorks(round, key),
          () => 1,
        ),
        1.0,
        'server ÷ card work run around it',
      ),
    );
  lines.push(
    verdict(
      "two servers' CPU per issuance ≤ 1.1× one server's, PostgreSQL",
      ratios(
        (round) => inCardWorks(round, 'postgres-2'),
        (round) => inCardWorks(round, 'postgres'),
      ),
      1.1,
      'two ÷ one, each in the card work run around it',
    ),
  );
  // The same ratios as judged before the card work ran around each configuration: against the
  // round's one card-work run, and the two configurations' CPU as measured minutes apart.
  const cardOf = (round: Round) =>
    round.baseline.done > 0 ? round.baseline.benchCpuMs / round.baseline.done : null;
  const plain = (each: readonly number[]) => (each.length === 0 ? '-' : `${median(each).toFixed(2)}×`);
  const around = CONFIGS.flatMap((config) => {
    const each = rounds.flatMap((round) => {
      const card = aroundOf(round, config.key);
      return card === null ? [] : [card.toFixed(1)];
    });
    return each.length === 0 ? [] : [`${config.name} ${each.join(', ')}`];
  });
  if (around.length > 0)
    lines.push(
      `card work run around each timed run (this process's CPU ms an issuance, by round): ${around.join('; ')}`,
    );
  lines.push(
    `beside them, against the round's first card-work run: SQLite ${plain(ratios((round) => cpuOf(round, 'sqlite'), cardOf))}, PostgreSQL ${plain(ratios((round) => cpuOf(round, 'postgres'), cardOf))}; two ÷ one in CPU alone ${plain(
      ratios(
        (round) => cpuOf(round, 'postgres-2'),
        (round) => cpuOf(round, 'postgres'),
      ),
    )}`,
  );
  // Not a goal: the goal above splits the same workstations over two servers, so each server
  // works at half the concurrency, and a server's CPU per request rises as its load falls.
  const wide = ratios(
    (round) => inCardWorks(round, 'postgres-2-wide'),
    (round) => inCardWorks(round, 'postgres'),
  );
  if (wide.length > 0)
    lines.push(
      `beside it: two servers with ${2 * LANES} workstations (each server as busy as the one with ${LANES}) ÷ one server: ${median(wide).toFixed(2)}×${spreadOf(wide)}`,
    );
  return lines;
};

export const run = async (): Promise<void> => {
  const chosen = (process.env.BENCH_CONFIGS ?? CONFIGS.map((c) => c.key).join(','))
    .split(',')
    .map((s) => s.trim());
  const configs = CONFIGS.filter((c) => chosen.includes(c.key));
  const loadBefore = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const dir = await mkdtemp(join(tmpdir(), 'reservkort-bench-flow-'));
  const rounds: Round[] = [];
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      if (ROUNDS > 1) log(`round ${round} of ${ROUNDS}`);
      const roundDir = join(dir, `round-${round}`);
      await mkdir(roundDir);
      const baseline = await cardWorkOnly(ISSUANCES);
      const results: RunResult[] = [];
      const cardWork = await openCardWork();
      try {
        for (const config of configs) results.push(await runConfig(config, roundDir, cardWork));
      } finally {
        await cardWork.close();
      }
      rounds.push({ baseline, results });
    }
    const results = rounds.flatMap((round) => round.results);
    const named = (r: RunResult, round: number) => (ROUNDS > 1 ? `${r.name}, round ${round}` : r.name);

    const perSecond = (r: RunResult) => r.done / r.seconds;
    const perIssuance = (value: number | null, r: RunResult) =>
      value === null || r.done === 0 || !Number.isFinite(value) ? '-' : (value / r.done).toFixed(0);
    const rows = rounds.flatMap(({ baseline, results: inRound }, index) => {
      const reference = inRound[0];
      return [baseline, ...inRound].map((r) => [
        named(r, index + 1),
        perSecond(r).toFixed(1),
        reference && r !== baseline ? ratio(perSecond(r), perSecond(reference)) : '-',
        ratio(perSecond(r), perSecond(baseline)),
        percentile(r.latenciesMs, 0.5).toFixed(0),
        percentile(r.latenciesMs, 0.99).toFixed(0),
        r === baseline ? '-' : perIssuance(r.timing.httpMs, r),
        perIssuance(r.timing.cardMs, r),
        perIssuance(r.serverCpuMs, r),
        perIssuance(r.benchCpuMs, r),
        r.timing.requests > 0 ? perIssuance(r.timing.requests, r) : '-',
        String(r.errors),
        r.completedInDatabase === null ? '-' : String(r.completedInDatabase),
      ]);
    });
    const reference = configs[0];
    process.stdout.write(
      `load average before / after: ${loadBefore} / ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (2 cores: other work on the machine shows up in the tails)\n`,
    );
    process.stdout.write(
      `${ISSUANCES} timed issuances per configuration${ROUNDS > 1 ? ` in each of ${ROUNDS} rounds` : ''}, ${LANES} workstations at once, real HTTP on loopback (keep-alive) to \`reservkort serve\` processes; agent and virtual cards in the bench process\n\n`,
    );
    process.stdout.write(
      `${table([
        [
          'configuration',
          'issuances/s',
          `vs ${reference?.name ?? '-'}`,
          'vs card work',
          'p50 ms',
          'p99 ms',
          'HTTP wait ms/iss.',
          'card wait ms/iss.',
          'server CPU ms/iss.',
          'bench CPU ms/iss.',
          'requests/iss.',
          'errors',
          'completed in db',
        ],
        ...rows,
      ])}\n\n`,
    );
    // Each configuration's requests over all rounds.
    const byConfig = configs.flatMap((config) => {
      const runs = results.filter((r) => r.name === config.name);
      if (runs.length === 0) return [];
      const byKind = new Map<string, { count: number; ms: number }>();
      for (const r of runs)
        for (const [kind, entry] of r.timing.byKind) {
          const sum = byKind.get(kind) ?? { count: 0, ms: 0 };
          byKind.set(kind, { count: sum.count + entry.count, ms: sum.ms + entry.ms });
        }
      return [{ name: config.name, byKind }];
    });
    const kinds = [...new Set(byConfig.flatMap((c) => [...c.byKind.keys()]))];
    const mean = (c: (typeof byConfig)[number], kind: string) => {
      const entry = c.byKind.get(kind);
      return entry ? entry.ms / entry.count : Number.NaN;
    };
    const first = byConfig[0];
    process.stdout.write(
      `${table([
        [
          `request (mean ms, as the workstation waits for it${ROUNDS > 1 ? ', all rounds' : ''})`,
          ...byConfig.map((c) => c.name),
          ...byConfig.slice(1).map((c) => `${c.name} vs ${first?.name}`),
        ],
        ...kinds.map((kind) => [
          kind,
          ...byConfig.map((c) => mean(c, kind).toFixed(2)),
          ...byConfig.slice(1).map((c) => (first ? ratio(mean(c, kind), mean(first, kind)) : '-')),
        ]),
      ])}\n\n`,
    );
    for (const [index, { baseline, results: inRound }] of rounds.entries()) {
      for (const r of inRound) {
        const label = named(r, index + 1);
        const total = r.timing.httpMs + r.timing.cardMs;
        if (r.done > 0 && total > 0)
          process.stdout.write(
            `${label}: waiting on the server is ${((100 * r.timing.httpMs) / total).toFixed(0)}% of an issuance's HTTP + card time (${(r.timing.httpMs / r.timing.requests).toFixed(2)} ms a request)\n`,
          );
        if (r.serverCpuMs !== null && r.done > 0 && baseline.done > 0)
          process.stdout.write(
            `${label}: server CPU ${(r.serverCpuMs / r.done).toFixed(0)} ms an issuance (PostgreSQL's own not counted) = ${ratio(r.serverCpuMs / r.done, baseline.benchCpuMs / baseline.done)} the CPU of the card work alone (${(baseline.benchCpuMs / baseline.done).toFixed(0)} ms)${kernelShare(r.serverSystemMs, r.serverCpuMs)}; the card work's${kernelShare(baseline.benchSystemMs, baseline.benchCpuMs)}\n`,
          );
        if (r.bareRequestCpuMs !== null && r.done > 0 && baseline.done > 0) {
          const floor = (r.bareRequestCpuMs * r.timing.requests) / r.done;
          process.stdout.write(
            `${label}: a bare request (GET /health: routing, hooks, one indexed read) costs ${r.bareRequestCpuMs.toFixed(2)} ms of server CPU; an issuance's ${(r.timing.requests / r.done).toFixed(0)} requests at that cost alone come to ${floor.toFixed(0)} ms = ${ratio(floor, baseline.benchCpuMs / baseline.done)} the card work\n`,
          );
        }
        if (r.lockWaits !== null && r.done > 0) {
          const kinds = [...r.lockWaits.byType]
            .sort((a, b) => b[1] - a[1])
            .map(([kind, ms]) => `${kind} ${(ms / r.done).toFixed(1)}`)
            .join(', ');
          process.stdout.write(
            `${label}: lock waits ${(r.lockWaits.totalMs / r.done).toFixed(1)} ms an issuance, summed over the servers' connections (${kinds || 'none seen'}; ${r.lockWaits.samples} samples of pg_stat_activity)\n`,
          );
        }
        if (r.firstError) process.stdout.write(`${label}: first error: ${r.firstError}\n`);
      }
    }
    process.stdout.write(`\n${goals(rounds).join('\n')}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
