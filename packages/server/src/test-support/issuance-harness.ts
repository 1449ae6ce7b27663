// A whole issuance on one machine for tests: a real store and CA, the server app, a card agent
// over virtual cards, and a "page" that does what the web UI will do between them.
import { CardAgent, type CardAgentOptions, type OperationView, VirtualBackend } from '@reservkort/agent';
import {
  type CardNumber,
  DEFAULT_FLOW_CONFIG,
  type FlowConfig,
  type HsaId,
  luhnCheckDigit,
  parsePersonalNumber,
  registerOrder,
} from '@reservkort/domain';
import { OcspResponder } from '@reservkort/pki';
import {
  type Dialect,
  getAdmin,
  grantRole,
  insertAdmin,
  insertOrder,
  insertPerson,
  upsertBranches,
} from '@reservkort/store';
import type { FastifyInstance } from 'fastify';
import { createTestCa, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { type AppOptions, buildApp } from '../app.js';
import { DEFAULT_SESSION_SETTINGS } from '../auth/session.js';
import type { ServerContext } from '../server-context.js';
import { createServices, type Services } from '../services.js';
import { CARD_PINS, provisionCard } from './provision-card.js';
import { giveTestBureauKeys, openTestStation, registerTestStation } from './test-station.js';
import { stockTestCards } from './test-stock.js';

export const ADMIN1 = 'SE2321000016-adm1' as HsaId;
export const ADMIN2 = 'SE2321000016-adm2' as HsaId;
export const ADMIN1_CARD = '9752278900000000001' as CardNumber;
export const ADMIN2_CARD = '9752278900000000002' as CardNumber;
export const RESERVE_CARD = '9752278900000000100' as CardNumber;
export const RESERVE_PINS = { pin1: '1111', pin2: '2222', puk: '87654321' } as const;
export const ANNA = 'SE2321000016-anna' as HsaId;
export const ANNA_PNR = `19800101123${luhnCheckDigit('800101123')}`;

export interface Harness {
  readonly t: TestCa;
  readonly ctx: ServerContext;
  /** The server listens on a random loopback port: tests talk real HTTP to it. */
  readonly baseUrl: string;
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly cards: VirtualBackend;
  readonly agent: CardAgent;
  readonly agentToken: string;
  /** The agent's station id, registered at the harness's start. */
  readonly stationId: string;
  /** The station's folder, with its key: for tests that play a station whose key was stolen. */
  readonly stationDir: string;
  readonly clock: { now(): number; advance(ms: number): void };
  dispose(): Promise<void>;
}

/** Answers an operation's PIN dialogs with the given PINs, in order, and waits for the end. */
export const completeWithPins = async (
  agent: CardAgent,
  view: OperationView,
  pins: readonly string[],
): Promise<OperationView> => {
  let current = view;
  for (const pin of pins) {
    const deadline = Date.now() + 5000;
    while (current.dialog === null || current.dialog.state === 'completed') {
      if (current.state !== 'pending' || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
      current = agent.operation(view.id);
    }
    if (current.dialog === null || current.state !== 'pending') break;
    agent.dialogShown(current.dialog.id);
    await agent.submitPin(current.dialog.id, pin);
    current = agent.operation(view.id);
  }
  return agent.waitFor(view.id, 5000);
};

export const createIssuanceHarness = async (
  flow: Partial<FlowConfig> = {},
  /** Parts of the server context to set differently (training kit, web root, clock). */
  context: (clock: Harness['clock']) => Partial<ServerContext> = () => ({}),
  /** The database behind the server: a SQLite file, or a fresh PostgreSQL database. */
  dialect: Dialect = 'sqlite',
  /** Options of the app beyond its services (e.g. the rate limit). */
  appOptions: Omit<AppOptions, 'services'> = {},
  /** The card agent's dialog timeouts, for tests of dialogs that never appear. */
  agentOptions: Pick<CardAgentOptions, 'dialogShowTimeoutMs' | 'dialogAnswerTimeoutMs'> = {},
  /** The CA's settings that tests vary (the card key type: administrators' cards follow it too). */
  caOptions: Pick<Parameters<typeof createTestCa>[1] & object, 'cardKeyTypes'> = {},
): Promise<Harness> => {
  const t = await createTestCa(dialect, caOptions);
  const db = t.store.db;
  let offset = 0;
  const clock = { now: () => Date.now() + offset, advance: (ms: number) => (offset += ms) };
  await upsertBranches(db, [
    { id: 'region', parentId: null, name: 'Region Exempel' },
    { id: 'hospital', parentId: 'region', name: 'Sjukhuset' },
    { id: 'clinic', parentId: 'hospital', name: 'Kliniken' },
  ]);
  await insertAdmin(db, { hsaId: ADMIN1, givenName: 'Admin', surname: 'Ett', createdAt: clock.now() });
  await grantRole(db, { adminHsaId: ADMIN1, role: 'KRA', branchId: 'hospital' });
  await insertAdmin(db, { hsaId: ADMIN2, givenName: 'Admin', surname: 'Två', createdAt: clock.now() });
  await grantRole(db, { adminHsaId: ADMIN2, role: 'RA', branchId: 'region' });
  await grantRole(db, { adminHsaId: ADMIN2, role: 'KUR', branchId: 'region' });
  const pnr = parsePersonalNumber(ANNA_PNR, { year: 2026, month: 11, day: 29 });
  if (!pnr.ok) throw new Error('fixture personnummer');
  const anna = {
    hsaId: ANNA,
    personalNumber: pnr.value.personalNumber,
    givenName: 'Anna',
    surname: 'Andersson',
    branchId: 'clinic',
    protectedIdentity: false,
    createdAt: clock.now(),
  };
  await insertPerson(db, anna);

  const cards = await VirtualBackend.open({ stateFile: null, readers: 2 });
  const admin1Card = await provisionCard(cards, t.ca, {
    hsaId: ADMIN1,
    givenName: 'Admin',
    surname: 'Ett',
    cardNumber: ADMIN1_CARD,
  });
  await provisionCard(cards, t.ca, {
    hsaId: ADMIN2,
    givenName: 'Admin',
    surname: 'Två',
    cardNumber: ADMIN2_CARD,
  });
  await cards.createCard({ cardNumber: RESERVE_CARD, ...RESERVE_PINS });
  // Every card as the card bureau delivers it: with its bureau key and certificate.
  await giveTestBureauKeys(cards, t.ca);

  const admin1 = await getAdmin(db, ADMIN1);
  const branches = (await import('@reservkort/domain')).buildOrganisationTree([
    { id: 'region', parentId: null, name: 'Region Exempel' },
    { id: 'hospital', parentId: 'region', name: 'Sjukhuset' },
    { id: 'clinic', parentId: 'hospital', name: 'Kliniken' },
  ]);
  if (!branches.ok || admin1 === null) throw new Error('fixture directory');
  const now = clock.now();
  const order = registerOrder({
    id: 'order-anna',
    person: anna,
    cardNumber: RESERVE_CARD,
    validity: { notBefore: now, notAfter: now + 7 * 86_400_000 },
    idDocument: 'swedish-driving-licence',
    admin: { hsaId: admin1.hsaId, grants: admin1.grants },
    signature: {
      signedBy: ADMIN1,
      signedAt: now,
      assuranceLevel: 'LoA3',
      certificateSerial: admin1Card.signSerial,
    },
    product: { name: 'SITHS reservkort', maxValidityDays: 14 },
    tree: branches.value,
    now,
    cardHolder: () => null,
  });
  if (!order.ok) throw new Error(`fixture order: ${JSON.stringify(order.error)}`);
  await insertOrder(db, order.value);
  // The reserve card is in the test station's stock (branch `region`), as the card bureau left it.
  await stockTestCards(db, [RESERVE_CARD], 'region', now);

  const ctx: ServerContext = {
    store: t.store,
    ca: t.ca,
    responder: new OcspResponder(t.ca, db, clock),
    clock,
    sessions: DEFAULT_SESSION_SETTINGS,
    flow: { ...DEFAULT_FLOW_CONFIG, ...flow },
    agentUrl: null,
    training: false,
    ...context(clock),
  };
  const services = createServices(ctx);
  // Tests log in far more often than a person: the login limit is the rate-limit tests' subject.
  const app = await buildApp(ctx, {
    rateLimit: { perMinute: 100_000, redis: null },
    ...appOptions,
    services,
  });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  // The workstation's agent is a registered card station of this CA.
  const station = await openTestStation();
  const agent = new CardAgent({
    backend: cards,
    info: { version: '0.1.0', packaging: 'test' },
    station,
    ...agentOptions,
  });
  const agentToken = agent.createSession().token;
  const stationId = await registerTestStation(agent, agentToken, { db, ca: t.ca });
  return {
    t,
    ctx,
    baseUrl,
    app,
    services,
    cards,
    agent,
    agentToken,
    stationId,
    stationDir: station.folder,
    clock,
    dispose: async () => {
      await app.close();
      await agent.close();
      await t.dispose();
    },
  };
};

export { CARD_PINS };
