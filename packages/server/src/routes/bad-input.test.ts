// Bad input to every endpoint, over real HTTP: fuzzed bodies, wrong content types, bodies over the
// limit, malformed JSON, odd and far too long path parameters and query strings. Every answer is a
// 4xx with the catalogue's JSON error body (the OCSP routes answer 200 with an OCSP
// malformedRequest), never a 500; and nothing is half-written: the store holds no extra orders,
// flows, sessions or support cases afterwards, the flow under attack is unchanged, and the audit
// chain still verifies.

import { isErrorCode, AGENT_EVENT_TYPES as STATION_EVENT_TYPES } from '@reservkort/domain';
import { verifyAudit } from '@reservkort/store';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, Client, send } from '../test-support/acceptance-client.js';
import { ACTORS, addAcceptanceDirectory } from '../test-support/acceptance-directory.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';

const RUNS = { numRuns: 20 } as const;
/** OCSPResponse { responseStatus malformedRequest(1) } */
const OCSP_MALFORMED = Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]);
const TABLES = ['orders', 'flows', 'sessions', 'support_cases', 'case_comments', 'certificates'] as const;
/** The events a page might try to relay unsigned: the station's, and the handover it no longer may. */
const AGENT_EVENT_TYPES = [...STATION_EVENT_TYPES, 'handover-verified'];

type Who = 'anonymous' | 'admin1' | 'admin2' | 'desk';

interface Route {
  readonly name: string;
  readonly method: 'GET' | 'POST';
  readonly who: Who;
  /** The path with valid parameters. */
  readonly path: () => string;
  /** The path with `param` (already percent-encoded) in place of the route's parameter. */
  readonly withParam?: (param: string) => string;
  /** A valid body: never sent as it is, only mutated into bad ones. */
  readonly valid?: () => Record<string, unknown>;
  /** The required fields of `valid` (default: all of them). */
  readonly required?: readonly string[];
  /** The body fields that must be strings (top level). */
  readonly strings?: readonly string[];
  /** More bodies, each of them bad, that only this route knows. */
  readonly bad?: () => fc.Arbitrary<unknown>;
}

/** Percent-encodes any text as UTF-8 (lone surrogates become U+FFFD), so that it reaches the router. */
const encodePath = (text: string): string =>
  Array.from(Buffer.from(text, 'utf8'))
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9_~.-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

const oddText = (maxLength = 60) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.constantFrom(
      '\u0000',
      '\u202e\u2066abc',
      '𝕏𝕐',
      'e\u0301\u0301\u0301',
      '\ud800',
      '\ufeff',
      "'; drop table orders; --",
    ),
  );

/** A JSON value as the bytes a client sends; `undefined` becomes an empty body. */
const jsonBytes = (value: unknown): Buffer => Buffer.from(JSON.stringify(value) ?? '', 'utf8');

describe('bad input never gives a 500 and never half-writes', () => {
  let h: Harness;
  const clients = {} as Record<Who, Client>;
  const ids = { flow: '', caseId: '', searchFlow: '' };
  let before: Record<string, number> = {};
  let flowVersion = 0;

  const counts = async () => {
    const db = h.t.store.db as any;
    const result: Record<string, number> = {};
    for (const table of TABLES) {
      const row = await db.selectFrom(table).select(db.fn.countAll().as('n')).executeTakeFirst();
      result[table] = Number(row?.n ?? 0);
    }
    return result;
  };

  /** A refusal the catalogue explains: 4xx, JSON, a known code, Swedish and English texts. */
  const expectRefusal = (answer: Answer, context: string) => {
    const where = `${context} → ${answer.status} ${answer.raw.toString('utf8').slice(0, 300)}`;
    expect(answer.status, where).toBeGreaterThanOrEqual(400);
    expect(answer.status, where).toBeLessThan(500);
    expect(answer.contentType, where).toContain('application/json');
    expect(answer.body, where).toMatchObject({
      code: expect.any(String),
      message: { sv: expect.any(String), en: expect.any(String) },
    });
    expect(isErrorCode(answer.body.code), where).toBe(true);
  };

  const sendBody = (route: Route, body: Buffer, contentType?: string, path = route.path()) =>
    clients[route.who].request(route.method, path, {
      raw: body,
      ...(contentType === undefined ? {} : { contentType }),
    });

  /** Something shaped like a statement: valid on the wire, never one the server believes. */
  const statement = () => ({ payload: 'eyJ2IjoxfQ', signature: 'AAAA' });
  const statementish = () =>
    fc.oneof(
      fc.record({ payload: oddText(), signature: oddText() }),
      fc.record({ payload: fc.base64String().map((t) => t.replace(/[+/=]/g, '')), signature: fc.anything() }),
      fc.anything(),
    );

  const routes: Route[] = [
    {
      name: 'POST /api/auth/login',
      method: 'POST',
      who: 'anonymous',
      path: () => '/api/auth/login',
      valid: () => ({ challengeId: 'abcdefgh', certificate: 'AAAA', signature: 'AAAA' }),
      strings: ['challengeId', 'certificate', 'signature'],
    },
    {
      name: 'POST /api/auth/card-removed',
      method: 'POST',
      who: 'admin2',
      path: () => '/api/auth/card-removed',
      valid: () => ({ cardNumber: '9752278900000000999' }),
      strings: ['cardNumber'],
    },
    {
      name: 'POST /api/flows',
      method: 'POST',
      who: 'admin2',
      path: () => '/api/flows',
      valid: () => ({ flowId: 'abcdefgh', readers: statement() }),
      strings: ['flowId'],
      bad: () => fc.record({ flowId: fc.constant(ids.flow), readers: statementish() }),
    },
    {
      name: 'POST /api/flows/start',
      method: 'POST',
      who: 'admin2',
      path: () => '/api/flows/start',
    },
    {
      name: 'POST /api/flows/:flowId/handover',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/handover`,
      withParam: (p) => `/api/flows/${p}/handover`,
      valid: () => ({ proof: statement() }),
      bad: () => fc.record({ proof: statementish() }),
    },
    {
      name: 'POST /api/flows/:flowId/keys',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/keys`,
      withParam: (p) => `/api/flows/${p}/keys`,
      valid: () => ({ statement: statement() }),
      bad: () => fc.record({ statement: statementish() }),
    },
    {
      name: 'GET /api/flows/:flowId',
      method: 'GET',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}`,
      withParam: (p) => `/api/flows/${p}`,
    },
    {
      name: 'POST /api/flows/:flowId/actions',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/actions`,
      withParam: (p) => `/api/flows/${p}/actions`,
      valid: () => ({ type: 'manage-orders' }),
      strings: ['type'],
      bad: () => fc.record({ type: oddText().filter((t) => t !== 'manage-orders'), accepted: fc.anything() }),
    },
    {
      name: 'POST /api/flows/:flowId/agent-events',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/agent-events`,
      withParam: (p) => `/api/flows/${p}/agent-events`,
      valid: () => ({ type: 'tick' }),
      strings: ['type'],
      // Events the page states itself, well-formed or not, and statements that are none.
      bad: () =>
        fc.oneof(
          fc.record({
            type: fc.oneof(fc.constantFrom(...AGENT_EVENT_TYPES), oddText()),
            reader: fc.anything(),
            cardNumber: fc.anything(),
            dialog: fc.anything(),
            reason: fc.oneof(fc.anything(), fc.string({ minLength: 1001, maxLength: 3000 })),
          }),
          fc.record({ statement: statementish() }),
        ),
    },
    {
      name: 'POST /api/flows/:flowId/search',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/search`,
      withParam: (p) => `/api/flows/${p}/search`,
      valid: () => ({ query: ANNA_PNR }),
      strings: ['query'],
    },
    {
      name: 'POST /api/flows/:flowId/signing-challenge',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/signing-challenge`,
      withParam: (p) => `/api/flows/${p}/signing-challenge`,
      valid: () => ({ purpose: 'order' }),
      strings: ['purpose'],
      bad: () => fc.record({ purpose: oddText().filter((p) => p !== 'order' && p !== 'acknowledge') }),
    },
    {
      name: 'POST /api/flows/:flowId/sign',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/sign`,
      withParam: (p) => `/api/flows/${p}/sign`,
      valid: () => ({
        challengeId: 'abcdefgh',
        certificate: 'AAAA',
        signature: 'AAAA',
        readers: statement(),
      }),
      strings: ['challengeId', 'certificate', 'signature'],
      bad: () =>
        fc.record({
          challengeId: fc.string({ maxLength: 64 }),
          certificate: oddText().map((t) => `${t}%%`),
          signature: fc.constant('AAAA'),
          readers: statementish(),
        }),
    },
    {
      name: 'POST /api/flows/:flowId/certificates',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/certificates`,
      withParam: (p) => `/api/flows/${p}/certificates`,
      valid: () => ({ authCsr: '-----BEGIN CERTIFICATE REQUEST-----', signCsr: 'x' }),
      strings: ['authCsr', 'signCsr'],
    },
    {
      name: 'POST /api/flows/:flowId/acknowledge',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/acknowledge`,
      withParam: (p) => `/api/flows/${p}/acknowledge`,
      valid: () => ({ challengeId: 'abcdefgh', signature: 'AAAA' }),
      strings: ['challengeId', 'signature'],
    },
    {
      name: 'POST /api/flows/:flowId/abort',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/abort`,
      withParam: (p) => `/api/flows/${p}/abort`,
      valid: () => ({ reason: 'restart' }),
      strings: ['reason'],
      bad: () => fc.record({ reason: oddText().filter((r) => r !== 'restart' && r !== 'logout') }),
    },
    {
      name: 'POST /api/flows/:flowId/restart',
      method: 'POST',
      who: 'admin2',
      path: () => `/api/flows/${ids.flow}/restart`,
      withParam: (p) => `/api/flows/${p}/restart`,
    },
    {
      name: 'POST /api/admin/orders/prepare',
      method: 'POST',
      who: 'admin1',
      path: () => '/api/admin/orders/prepare',
      valid: () => ({
        personHsaId: ANNA,
        cardNumber: '9752278900000000777',
        validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + 86_400_000 },
        idDocument: 'swedish-passport',
      }),
      strings: ['personHsaId', 'cardNumber', 'idDocument'],
      bad: () =>
        fc.record({
          personHsaId: fc.constant(ANNA),
          cardNumber: fc.constant('9752278900000000777'),
          validity: fc.oneof(
            fc.record({ notBefore: fc.double({ noInteger: true }), notAfter: fc.integer() }),
            fc.record({ notBefore: oddText(), notAfter: fc.integer() }),
            fc.record({ notBefore: fc.integer() }),
            fc.array(fc.integer(), { minLength: 2 }),
          ),
          idDocument: fc.constant('swedish-passport'),
        }),
    },
    {
      name: 'POST /api/admin/orders',
      method: 'POST',
      who: 'admin1',
      path: () => '/api/admin/orders',
      valid: () => ({ challengeId: 'abcdefgh', certificate: 'AAAA', signature: 'AAAA' }),
      strings: ['challengeId', 'certificate', 'signature'],
    },
    {
      name: 'POST /api/admin/orders/:orderId/cancel',
      method: 'POST',
      who: 'admin1',
      path: () => '/api/admin/orders/order-anna/cancel',
      withParam: (p) => `/api/admin/orders/${p}/cancel`,
    },
    {
      name: 'POST /api/support/cases',
      method: 'POST',
      who: 'admin2',
      path: () => '/api/support/cases',
      valid: () => ({ flowId: ids.flow, comment: 'Fastnar' }),
      required: ['flowId'],
      strings: ['flowId', 'comment'],
      bad: () =>
        fc.oneof(
          fc.record({
            flowId: fc.constant(ids.flow),
            comment: fc.string({ minLength: 8001, maxLength: 9000 }),
          }),
          // Statements that are no signed statements: wrong shapes, wrong encodings, too many.
          fc.record({
            flowId: fc.constant(ids.flow),
            statements: fc.oneof(
              fc.array(fc.object(), { minLength: 1, maxLength: 3 }),
              fc.array(fc.record({ payload: fc.constant('e30'), signature: fc.constant('AAAA') }), {
                minLength: 7,
                maxLength: 9,
              }),
              fc.array(
                fc.record({ payload: fc.constant('not base64url!'), signature: fc.constant('AAAA') }),
                {
                  minLength: 1,
                  maxLength: 2,
                },
              ),
              fc.string(),
            ),
          }),
          // Well-formed, but signed by no station: refused as a statement.
          fc.record({
            flowId: fc.constant(ids.flow),
            statements: fc.array(
              fc.record({
                payload: fc
                  .base64String({ minLength: 8, maxLength: 64 })
                  .map((b) => b.replace(/[+/=]/g, 'A')),
                signature: fc.constant('A'.repeat(86)),
              }),
              { minLength: 1, maxLength: 6 },
            ),
          }),
        ),
    },
    {
      name: 'GET /api/support/cases/:caseId',
      method: 'GET',
      who: 'desk',
      path: () => `/api/support/cases/${ids.caseId}`,
      withParam: (p) => `/api/support/cases/${p}`,
    },
    {
      name: 'POST /api/support/cases/:caseId/assign',
      method: 'POST',
      who: 'desk',
      path: () => `/api/support/cases/${ids.caseId}/assign`,
      withParam: (p) => `/api/support/cases/${p}/assign`,
    },
    {
      name: 'POST /api/support/cases/:caseId/resolve',
      method: 'POST',
      who: 'desk',
      path: () => `/api/support/cases/${ids.caseId}/resolve`,
      withParam: (p) => `/api/support/cases/${p}/resolve`,
    },
    {
      name: 'POST /api/support/cases/:caseId/comments',
      method: 'POST',
      who: 'desk',
      path: () => `/api/support/cases/${ids.caseId}/comments`,
      withParam: (p) => `/api/support/cases/${p}/comments`,
      valid: () => ({ text: 'En kommentar' }),
      strings: ['text'],
      bad: () =>
        fc.oneof(
          fc.record({ text: fc.constant('') }),
          fc.record({ text: fc.string({ minLength: 4001, maxLength: 5000 }) }),
        ),
    },
    {
      name: 'GET /pki/ca/:name.:ext',
      method: 'GET',
      who: 'anonymous',
      path: () => '/pki/ca/root.pem',
      withParam: (p) => `/pki/ca/${p}`,
    },
    {
      name: 'GET /pki/crl/:name.crl',
      method: 'GET',
      who: 'anonymous',
      path: () => '/pki/crl/loa3.crl',
      withParam: (p) => `/pki/crl/${p}.crl`,
    },
    // Routes without a body: only bad bytes on the wire (they must be refused before the handler).
    { name: 'POST /api/auth/challenge', method: 'POST', who: 'anonymous', path: () => '/api/auth/challenge' },
    { name: 'POST /api/auth/logout', method: 'POST', who: 'admin2', path: () => '/api/auth/logout' },
  ];

  beforeAll(async () => {
    h = await createIssuanceHarness();
    await addAcceptanceDirectory(h, { actors: ['desk'] });
    clients.anonymous = new Client(h);
    clients.admin1 = new Client(h);
    clients.admin2 = new Client(h);
    clients.desk = new Client(h);
    expect((await clients.admin1.login(ADMIN1_CARD)).status).toBe(200);
    expect((await clients.desk.login(ACTORS.desk.cardNumber)).status).toBe(200);
    expect((await clients.admin2.login(ADMIN2_CARD)).status).toBe(200);
    // The valid requests: admin 2's flows at the search screen, and a support case on one.
    for (const key of ['flow', 'searchFlow'] as const) {
      const started = await clients.admin2.startFlow();
      expect(started.status).toBe(200);
      ids[key] = started.body.view.flowId;
      await clients.admin2.post(`/api/flows/${ids[key]}/actions`, { type: 'manage-orders' });
    }
    const filed = await clients.admin2.post('/api/support/cases', { flowId: ids.flow });
    expect(filed.status).toBe(201);
    ids.caseId = filed.body.id;
    before = await counts();
    flowVersion = (await h.services.issuance.load(ids.flow)).version;
  });
  afterAll(async () => {
    await h?.dispose();
  });

  describe.each(routes.filter((r) => r.valid !== undefined).map((r) => [r.name, r] as const))(
    '%s',
    (_name, route) => {
      it('fuzzed bodies are refused', async () => {
        const valid = route.valid?.() ?? {};
        const fields = Object.keys(valid);
        const without = fc.constantFrom(...(route.required ?? fields)).map((field) => {
          const copy: Record<string, unknown> = { ...valid };
          delete copy[field];
          return copy;
        });
        const wrongType = fc
          .record({
            field: fc.constantFrom(...fields),
            value: fc.oneof(fc.object(), fc.array(fc.anything(), { minLength: 2, maxLength: 4 })),
          })
          .map(({ field, value }) => ({ ...valid, [field]: value }));
        const huge = fc
          .record({
            field: fc.constantFrom(...(route.strings ?? fields)),
            length: fc.integer({ min: 40_000, max: 60_000 }),
          })
          .map(({ field, length }) => ({ ...valid, [field]: 'é'.repeat(length) }));
        const body = fc.oneof(
          fc.anything(),
          fc.object(),
          fc.array(fc.anything(), { minLength: 2 }),
          fc.constant([valid]),
          without,
          wrongType,
          huge,
          ...(route.bad ? [route.bad()] : []),
        );
        await fc.assert(
          fc.asyncProperty(body, async (value) => {
            const answer = await sendBody(route, jsonBytes(value), 'application/json');
            expectRefusal(answer, `${route.name} ${JSON.stringify(value)?.slice(0, 200)}`);
          }),
          RUNS,
        );
      });
    },
  );

  it('malformed JSON, wrong content types, an empty and a 300 KB body are refused on every route with a body', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.method === 'POST')) {
      const valid = jsonBytes(route.valid?.() ?? {});
      const cases: [string, Buffer, string | undefined][] = [
        ['truncated JSON', Buffer.from('{"query": "19800101'), 'application/json'],
        ['trailing garbage', Buffer.from('{"a":1}}'), 'application/json'],
        ['single quotes', Buffer.from("{'a': 1}"), 'application/json'],
        ['NaN', Buffer.from('{"a": NaN}'), 'application/json'],
        ['a NUL byte', Buffer.from('\u0000'), 'application/json'],
        ['__proto__ pollution', Buffer.from('{"__proto__": {"admin": true}}'), 'application/json'],
        [
          'constructor pollution',
          Buffer.from('{"constructor": {"prototype": {"admin": true}}}'),
          'application/json',
        ],
        ['empty JSON body', Buffer.alloc(0), 'application/json'],
        ['300 KB', Buffer.from(JSON.stringify({ query: 'x'.repeat(300 * 1024) })), 'application/json'],
        ['XML', Buffer.from('<query>x</query>'), 'application/xml'],
        ['form', Buffer.from('query=x'), 'application/x-www-form-urlencoded'],
        ['multipart', Buffer.from('--b\r\n\r\nx\r\n--b--'), 'multipart/form-data; boundary=b'],
        ['no content type', valid, undefined],
        ['OCSP bytes', Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x01]), 'application/ocsp-request'],
      ];
      // A route without a body ignores a well-formed one (text, or JSON once invalid UTF-8 is read
      // as U+FFFD): only routes that expect an object are given these.
      if (route.valid) {
        cases.push(['JSON as text/plain', valid, 'text/plain']);
        cases.push([
          'invalid UTF-8',
          Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
          'application/json',
        ]);
      }
      for (const [label, body, contentType] of cases) {
        const answer = await sendBody(route, body, contentType);
        try {
          expectRefusal(answer, `${route.name} with ${label}`);
        } catch {
          failures.push(
            `${route.name} with ${label} → ${answer.status} ${answer.raw.toString('utf8').slice(0, 160)}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('numbers, booleans, null and one-element arrays where strings are expected are refused', async () => {
    const failures: string[] = [];
    for (const route of routes.filter((r) => r.strings !== undefined)) {
      for (const field of route.strings ?? []) {
        for (const value of [42, true, null, ['x']]) {
          // card-removed declares the card number nullable.
          if (value === null && route.name === 'POST /api/auth/card-removed') continue;
          const body = { ...route.valid?.(), [field]: value };
          // Flows other than the one under attack take the writes a lax server would do.
          const path = route.path().replace(ids.flow, ids.searchFlow);
          const answer = await sendBody(route, jsonBytes(body), 'application/json', path);
          if (answer.status < 400 || answer.status >= 500 || answer.body?.message?.sv === undefined) {
            failures.push(`${route.name} ${JSON.stringify({ [field]: value })} → ${answer.status}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('odd characters in path parameters are refused', async () => {
    const paramRoutes = routes.filter((r) => r.withParam !== undefined);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paramRoutes),
        oddText(30)
          .map(encodePath)
          .filter((p) => p.length > 0 && p.length <= 100),
        async (route, param) => {
          const answer = await sendBody(
            route,
            route.valid ? jsonBytes(route.valid()) : Buffer.alloc(0),
            route.valid ? 'application/json' : undefined,
            route.withParam?.(param),
          );
          expectRefusal(answer, `${route.name} with ${param}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('far too long or badly encoded path parameters are refused with the catalogue’s error body', async () => {
    const params: [string, string][] = [
      ['101 characters', 'a'.repeat(101)],
      ['5000 characters', 'a'.repeat(5000)],
      ['300 × ö', encodePath('ö'.repeat(300))],
      ['a lone %', '%'],
      ['%zz', '%zz'],
      ['a truncated UTF-8 sequence', '%E0%A4%A'],
      ['an overlong UTF-8 slash', '%C0%AF'],
      ['an encoded surrogate', '%ED%A0%80'],
      ['an encoded path traversal', '..%2F..%2Fetc%2Fpasswd'],
      ['an encoded NUL', '%00'],
    ];
    /** What went wrong, with the routes it went wrong on. */
    const failures = new Map<string, string[]>();
    for (const route of routes.filter((r) => r.withParam !== undefined)) {
      for (const [label, param] of params) {
        const answer = await sendBody(
          route,
          route.valid ? jsonBytes(route.valid()) : Buffer.alloc(0),
          route.valid ? 'application/json' : undefined,
          route.withParam?.(param),
        );
        try {
          expectRefusal(answer, `${route.name} with ${label}`);
        } catch {
          const what = `${label} → ${answer.status} ${answer.raw
            .toString('utf8')
            .replace(/'[^']*'/, "'…'")
            .slice(0, 110)}`;
          failures.set(what, [...(failures.get(what) ?? []), route.name]);
        }
      }
    }
    expect(
      Object.fromEntries(
        [...failures].map(([what, names]) => [what, `${names.length} routes, e.g. ${names[0]}`]),
      ),
    ).toEqual({});
  });

  it('odd query strings are refused by the person search and the support queue', async () => {
    const badQueue = fc.oneof(
      fc.record({ status: oddText().filter((s) => !['open', 'assigned', 'resolved'].includes(s)) }),
      fc.record({ code: oddText().filter((c) => !isErrorCode(c)) }),
      fc.record({
        limit: fc.oneof(
          fc.integer({ max: 0 }),
          fc.integer({ min: 201 }),
          fc.constantFrom('abc', '1.5', '1e3x'),
        ),
      }),
      fc.record({ offset: fc.oneof(fc.integer({ max: -1 }), fc.constantFrom('x', '-0.5')) }),
    );
    await fc.assert(
      fc.asyncProperty(badQueue, async (query) => {
        const search = Object.entries(query)
          .map(([k, v]) => `${k}=${encodePath(String(v))}`)
          .join('&');
        expectRefusal(await clients.desk.get(`/api/support/cases?${search}`), `queue ${search}`);
      }),
      RUNS,
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(oddText(200), fc.string({ minLength: 201, maxLength: 2000 })),
        async (query) => {
          const answer = await clients.admin1.get(`/api/admin/persons?query=${encodePath(query)}`);
          expectRefusal(answer, `persons ${JSON.stringify(query)}`);
        },
      ),
      RUNS,
    );
    for (const path of [
      '/api/admin/persons',
      '/api/admin/persons?query',
      '/api/admin/persons?query=a&query=b',
    ]) {
      expectRefusal(await clients.admin1.get(path), path);
    }
  });

  it('odd search queries in a flow are answered, never with a 500', async () => {
    await fc.assert(
      fc.asyncProperty(oddText(200), async (query) => {
        const answer = await clients.admin2.post(`/api/flows/${ids.searchFlow}/search`, { query });
        expect(answer.status, JSON.stringify(query)).toBe(200);
        expect(answer.body.review).toBeNull();
        expect(answer.body.raised.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('a start with readers that do not hold the login card is refused without leaving a flow behind', async () => {
    const flowsBefore = (await counts()).flows;
    // The station signs what is there: reader 1 empty.
    await h.cards.removeCard('reader-1');
    try {
      expectRefusal(await clients.admin2.startFlow(), 'login card not in a reader');
    } finally {
      await h.cards.insertCard('reader-1', ADMIN2_CARD);
    }
    expect((await counts()).flows).toBe(flowsBefore);
  });

  it('the OCSP endpoints answer any bytes with malformedRequest, and never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 2048 }),
        fc.constantFrom('application/ocsp-request', 'application/json', 'text/plain', undefined),
        async (bytes, contentType) => {
          const body = Buffer.from(bytes);
          const posted = await send(
            h.baseUrl,
            'POST',
            '/ocsp',
            contentType ? { 'content-type': contentType } : {},
            body,
          );
          expect(posted.status).toBe(200);
          expect(posted.contentType).toBe('application/ocsp-response');
          expect(posted.raw).toEqual(OCSP_MALFORMED);
          const got = await send(
            h.baseUrl,
            'GET',
            `/ocsp/${encodeURIComponent(body.toString('base64'))}`,
            {},
            null,
          );
          expect(got.status).toBe(200);
          expect(got.raw).toEqual(OCSP_MALFORMED);
        },
      ),
      RUNS,
    );
    await fc.assert(
      fc.asyncProperty(
        oddText(80)
          .map(encodePath)
          .filter((p) => p.length > 0),
        async (param) => {
          const got = await send(h.baseUrl, 'GET', `/ocsp/${param}`, {}, null);
          expect(got.status, param).toBe(200);
          expect(got.raw).toEqual(OCSP_MALFORMED);
        },
      ),
      RUNS,
    );
    // Far over the size of any OCSP request: refused unread, not answered with a 500.
    const big = await send(
      h.baseUrl,
      'POST',
      '/ocsp',
      { 'content-type': 'application/ocsp-request' },
      Buffer.alloc(300 * 1024, 1),
    ).catch((error: NodeJS.ErrnoException) => ({ status: error.code ?? 'error' }));
    expect([413, 'ECONNRESET', 'EPIPE']).toContain(big.status);
  });

  it('left nothing half-written: no extra rows, the flow under attack unchanged, the sessions alive, the audit chain intact', async () => {
    // Soft: each kind of leftover is reported, not only the first.
    expect.soft(await counts()).toEqual(before);
    const flow = await h.services.issuance.load(ids.flow);
    expect.soft(flow.version).toBe(flowVersion);
    expect.soft(flow.state.step).toBe(2);
    for (const who of ['admin1', 'admin2', 'desk'] as const) {
      expect.soft((await clients[who].get('/api/auth/me')).status, who).toBe(200);
    }
    const audit = await verifyAudit(h.t.store.db);
    expect.soft(audit).toMatchObject({ ok: true });
  });
});
