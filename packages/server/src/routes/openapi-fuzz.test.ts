// Every route of the OpenAPI document `reservkort openapi` prints, fuzzed: path parameters, query
// strings and bodies from the declared schemas mixed with values that break them, sent with an
// administrator's session and CSRF token, with the session but no token, with a forged cookie and
// with none. No answer is a 5xx, and every 4xx is the catalogue's error body. A failure names the
// route and the shrunk request.

import { generateKeyPairSync } from 'node:crypto';
import { ERROR_CODES, isErrorCode } from '@reservkort/domain';
import { grantStaffRole } from '@reservkort/store';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../cli/commands/serve.command.js';
import { stationCsr } from '../station/station-key.js';
import { Client } from '../test-support/acceptance-client.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import {
  ADMIN2,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
} from '../test-support/issuance-harness.js';
import {
  encodeText,
  Fresh,
  fastifyPath,
  type Hints,
  hostileValue,
  jsonText,
  nowAndThen,
  type OpenApiDocument,
  type Operation,
  operationsOf,
  RAW_SEGMENTS,
  resolveFresh,
  shapedValue,
  urlText,
  valueFor,
  weighted,
} from '../test-support/openapi-arbitrary.js';
import { Page } from '../test-support/page.js';
import { TrainingClock } from '../training/training-clock.js';

/** Per route: enough to reach every field a few times, few enough for the whole file to take seconds. */
const RUNS = 50;
const DAY = 86_400_000;
const FREE_CARD = '9752278900000000777';

const document = (await openApiDocument()) as OpenApiDocument;
const operations = operationsOf(document);

type Auth = 'admin' | 'admin-without-csrf' | 'forged' | 'anonymous';

interface Drawn {
  readonly auth: Auth;
  readonly params: readonly string[];
  readonly query: readonly string[];
  readonly body: unknown;
}

describe('the OpenAPI document, fuzzed route by route', () => {
  let h: Harness;
  let admin: Client;
  const ids = {
    fresh: '',
    search: '',
    step7: '',
    caseId: '',
    signCertificate: '',
    stationCsr: '',
    station: '',
  };

  /** Values that take a request past "not found" into the handler. */
  const hints: Hints = {
    values: {
      flowId: () => fc.constantFrom(ids.fresh, ids.search, ids.step7),
      toDeadlineOf: () => fc.constantFrom(ids.fresh, ids.step7),
      caseId: () => fc.constant(ids.caseId),
      orderId: () => fc.constantFrom('order-anna', 'order-unknown'),
      challengeId: () =>
        fc.constantFrom(
          new Fresh('login'),
          new Fresh('order'),
          new Fresh('acknowledge'),
          new Fresh('register-order'),
        ),
      certificate: () => fc.constant(ids.signCertificate),
      cardNumber: () => fc.constantFrom(ADMIN2_CARD, RESERVE_CARD, FREE_CARD, null),
      personHsaId: () => fc.constantFrom(ANNA, ADMIN2),
      query: () => fc.constantFrom(ANNA_PNR, ANNA, '19800101-1234'),
      code: () => fc.constantFrom(...ERROR_CODES),
      notBefore: (schema) => (schema.type === 'integer' ? fc.constant(h.clock.now()) : undefined),
      notAfter: (schema) => (schema.type === 'integer' ? fc.constant(h.clock.now() + 3 * DAY) : undefined),
      idDocument: () => fc.constant('swedish-passport'),
      // Card stations: a real station CSR (registering it again renews), branches, a station.
      csr: () => fc.constantFrom(ids.stationCsr, 'AAAA'),
      branchId: () => fc.constantFrom('clinic', 'region', 'nowhere'),
      stationId: () => fc.constantFrom(ids.station, 'st-nosuchstation1'),
      // The agent events' own fields.
      reader: () => fc.constantFrom(1, 2),
      dialog: () => fc.constantFrom('auth', 'sign'),
      reason: (schema) => (schema.enum === undefined ? fc.string({ maxLength: 1001 }) : undefined),
    },
    extraFields: ['reader', 'cardNumber', 'dialog', 'reason'],
  };

  const headersFor = (auth: Auth): Record<string, string> => {
    switch (auth) {
      case 'admin':
        return { cookie: `rk_session=${admin.cookie}`, 'x-csrf-token': admin.csrf };
      case 'admin-without-csrf':
        return { cookie: `rk_session=${admin.cookie}` };
      case 'forged':
        return { cookie: 'rk_session=%00forged%ZZ; rk_session=x', 'x-csrf-token': admin.csrf };
      case 'anonymous':
        return {};
    }
  };

  /** A challenge of a kind, fetched with the administrator's session just before it is used. */
  const fresh = async (kind: string): Promise<string> => {
    const post = (url: string, payload: object) =>
      h.app.inject({ method: 'POST', url, headers: headersFor('admin'), payload });
    const answer =
      kind === 'login'
        ? await post('/api/auth/challenge', {})
        : kind === 'register-order'
          ? await post('/api/admin/orders/prepare', {
              personHsaId: ANNA,
              cardNumber: FREE_CARD,
              validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + 3 * DAY },
              idDocument: 'swedish-passport',
            })
          : await post(`/api/flows/${ids.step7}/signing-challenge`, { purpose: kind });
    const challengeId = answer.json().challengeId;
    // Not every kind can be had in every state the fuzzing leaves behind; an unknown id is input too.
    return typeof challengeId === 'string' ? challengeId : `gone-${kind}`;
  };

  /** What is drawn for one request to `op`. */
  const requestOf = (op: Operation): fc.Arbitrary<Drawn> => {
    const parameters = op.operation.parameters ?? [];
    const inPath = parameters.filter((p) => p.in === 'path');
    const inQuery = parameters.filter((p) => p.in === 'query');
    const segment = (name: string, schema: object | undefined) =>
      weighted(
        { weight: 12, arbitrary: valueFor(schema ?? {}, hints, name).map((v) => encodeText(urlText(v))) },
        { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
      );
    const queryPart = (name: string, schema: object | undefined) =>
      weighted<string | null>(
        { weight: 1, arbitrary: fc.constant(null) },
        {
          weight: 2,
          arbitrary: valueFor(schema ?? {}, hints, name).map((v) =>
            (Array.isArray(v) ? v : [v])
              .map((item) => `${encodeText(name)}=${encodeText(urlText(item))}`)
              .join('&'),
          ),
        },
      );
    const repeated = inQuery[0]?.name ?? 'q';
    const pollution = nowAndThen(
      fc.constantFrom(
        '__proto__=1',
        '__proto__[admin]=1',
        'constructor[prototype][admin]=1',
        'x=1&x=2',
        `${repeated}=1&${repeated}=2`,
        '%zz=%zz',
      ),
      12,
    );
    const schema = op.operation.requestBody?.content?.['application/json']?.schema;
    const body =
      op.method === 'GET'
        ? fc.constant(undefined)
        : schema
          ? weighted<unknown>(
              { weight: 24, arbitrary: shapedValue(schema, hints, '', 0) },
              { weight: 1, arbitrary: hostileValue() },
              { weight: 1, arbitrary: fc.constant(undefined) },
            )
          : weighted<unknown>(
              { weight: 3, arbitrary: fc.constant(undefined) },
              { weight: 1, arbitrary: hostileValue() },
            );
    return fc.record({
      auth: weighted<Auth>(
        { weight: 5, arbitrary: fc.constant('admin') },
        { weight: 1, arbitrary: fc.constantFrom('admin-without-csrf', 'forged', 'anonymous') },
      ),
      params: fc.tuple(...inPath.map((p) => segment(p.name, p.schema))),
      query: fc
        .tuple(pollution, ...inQuery.map((p) => queryPart(p.name, p.schema)))
        .map((parts) => parts.filter((part): part is string => part !== null && part !== '')),
      body,
    });
  };

  const send = async (op: Operation, drawn: Drawn) => {
    const names = (op.operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
    let path = op.path;
    for (const [i, name] of names.entries()) path = path.replace(`{${name}}`, drawn.params[i] ?? '');
    const url = drawn.query.length > 0 ? `${path}?${drawn.query.join('&')}` : path;
    const body = await resolveFresh(drawn.body, fresh);
    const payload = body === undefined ? undefined : jsonText(body);
    const response = await h.app.inject({
      method: op.method as 'GET' | 'POST',
      url,
      headers: {
        ...headersFor(drawn.auth),
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined ? {} : { payload }),
    });
    return { url, payload, response };
  };

  beforeAll(async () => {
    // A registered card station beside the page: logins are bound to it, so the order signature
    // reaches the verification of the station's (fuzzed) statement.
    h = await createIssuanceHarness(
      {},
      () => ({
        trainingKit: {
          summary: { admins: [], reserveCards: [], persons: [], scenarios: [] },
          clock: new TrainingClock(),
        },
      }),
      'sqlite',
      // The fuzzing alone asks for more login challenges in a minute than the default limit allows;
      // the logins that follow each fuzzed logout must not be starved by it.
      { rateLimit: { perMinute: 100_000, redis: null } },
    );
    // One session reaches every route: admin 2 also works at the service desk.
    await grantStaffRole(h.t.store.db, { hsaId: ADMIN2, role: 'service-desk' });
    // A flow waiting at KVITTERA KORT, one at step 1 and one at the search screen, and a case.
    const page = new Page(h);
    await walkTo(h, page, 7);
    ids.step7 = page.flowId;
    admin = new Client(h);
    await loginAdmin();
    const info = await h.cards.cardInfo('reader-1');
    const der = info.certificates.find((c) => c.key === 'sign')?.der ?? new Uint8Array();
    ids.signCertificate = Buffer.from(der).toString('base64');
    ids.fresh = (await admin.startFlow()).body.view.flowId;
    ids.search = (await admin.startFlow()).body.view.flowId;
    expect((await admin.post(`/api/flows/${ids.search}/actions`, { type: 'manage-orders' })).status).toBe(
      200,
    );
    const filed = await admin.post('/api/support/cases', { flowId: ids.fresh });
    expect(filed.status).toBe(201);
    ids.caseId = filed.body.id;
    const stationKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    ids.stationCsr = Buffer.from(
      await stationCsr(stationKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
    ).toString('base64');
    const station = await admin.post('/api/stations', {
      csr: ids.stationCsr,
      name: 'Disk',
      branchId: 'clinic',
    });
    expect(station.status).toBe(201);
    ids.station = station.body.stationId;
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('names routes the server under test has', () => {
    expect(operations.length).toBeGreaterThan(30);
    const missing = operations
      .filter((op) => !h.app.hasRoute({ method: op.method as 'GET', url: fastifyPath(op.path) }))
      .map((op) => `${op.method} ${op.path}`);
    expect(missing).toEqual([]);
  });

  it.each(operations.map((op) => [`${op.method} ${op.path}`, op] as const))(
    '%s never answers with a 5xx',
    async (_name, op) => {
      await fc.assert(
        fc.asyncProperty(requestOf(op), async (drawn) => {
          const { url, payload, response } = await send(op, drawn);
          const status = response.statusCode;
          const where = `${op.method} ${url} (${drawn.auth}) ${payload?.slice(0, 300) ?? ''} → ${status} ${response.body.slice(0, 300)}`;
          expect(status, where).toBeLessThan(500);
          if (status >= 400) expect(isErrorCode(JSON.parse(response.body).code), where).toBe(true);
          // Logging out ends the session the other requests use: log in again.
          if (op.path === '/api/auth/logout' && status === 200) await loginAdmin();
        }),
        { numRuns: RUNS },
      );
    },
  );

  async function loginAdmin() {
    expect((await admin.login(ADMIN2_CARD)).status).toBe(200);
  }
});
