// Who may call what: every endpoint against every kind of caller, each cell asserted. A cell is
// either allowed (a 2xx, or a domain-level 4xx that shows the request got past authorisation) or
// refused with a specific code. Refusals come from the session (NOT_LOGGED_IN, CSRF_INVALID), the
// assurance level (LOA2_LOGIN), the roles (NO_ROLE_IN_BRANCH, ACCESS_DENIED) and ownership.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CardNumber, ErrorCode } from '@reservkort/domain';
import { getStockCard, moveStockCard } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusOf } from '../http/api-error.js';
import { stationCsr } from '../station/station-key.js';
import {
  type Answer,
  Client,
  cardIn,
  loginBody,
  orderBody,
  signWithCard,
} from '../test-support/acceptance-client.js';
import {
  ACTORS,
  addAcceptanceDirectory,
  insertOrderFor,
  RECIPIENTS,
} from '../test-support/acceptance-directory.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import { acknowledge } from '../test-support/durable-walk.js';
import {
  ADMIN1,
  ADMIN1_CARD,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { stockTestCards } from '../test-support/test-stock.js';

const run = promisify(execFile);
/** Cards of the hospital's card station: admin 1 holds KRA there, admin 2 RA above it. */
const STOCK = {
  toReturn: '9752278900000000801' as CardNumber,
  toDestroy: '9752278900000000802' as CardNumber,
};
let stockBatch = 900;
/** A batch of one new card for the hospital's station, different at every call. */
const stockBatchBody = () => ({
  lines: [
    {
      cardNumber: `97522789000000${String(stockBatch++).padStart(5, '0')}`,
      product: '473',
      manufactured: '2026-03-15',
    },
  ],
});
const COLUMNS = ['anonymous', 'noCsrf', 'loa2', 'noRole', 'admin1', 'desk', 'admin2', 'holder'] as const;
type Column = (typeof COLUMNS)[number];
type Caller = Exclude<Column, 'anonymous' | 'noCsrf'>;

const CARDS: Record<Caller, CardNumber> = {
  loa2: ACTORS.loa2.cardNumber,
  noRole: ACTORS.outsider.cardNumber,
  admin1: ADMIN1_CARD,
  desk: ACTORS.desk.cardNumber,
  admin2: ADMIN2_CARD,
  /** Anna, logged in on her own pages with the reserve card issued to her. */
  holder: RESERVE_CARD,
};

/** A cell: the status, and the code for a 4xx. */
const ok = (status = 200) => String(status);
const refused = (code: ErrorCode) => `${statusOf(code)} ${code}`;
/** Got past authorisation and was answered by the domain. */
const past = refused;

interface Row {
  /** The route as the OpenAPI description names it (`:param` for `{param}`), then a comment. */
  readonly name: string;
  readonly method: 'GET' | 'POST';
  /** The path, built once the ids exist. */
  readonly url: () => string;
  /** A valid body for the caller (`as` is whose card or session the body belongs to). */
  readonly body?: (as: Caller | 'anonymous') => Promise<unknown> | unknown;
  /** Bytes sent as they are instead of a JSON body. */
  readonly raw?: () => Buffer;
  readonly contentType?: string;
  /** Whose session the no-CSRF column uses: the caller who would otherwise be let in. */
  readonly csrfCaller?: Caller;
  readonly expected: Record<Column, string>;
}

/** Everyone, with or without a session or the header. */
const open = (status = 200): Record<Column, string> =>
  Object.fromEntries(COLUMNS.map((c) => [c, ok(status)])) as Record<Column, string>;

/** Refused with the same code whoever calls. */
const everyone = (code: ErrorCode): Record<Column, string> =>
  Object.fromEntries(COLUMNS.map((c) => [c, refused(code)])) as Record<Column, string>;

/** Only the owner of admin 2's flow gets in; the owner's answer is `owner`. */
const ownerOnly = (owner: string, method: 'GET' | 'POST'): Record<Column, string> => ({
  anonymous: refused('NOT_LOGGED_IN'),
  noCsrf: method === 'GET' ? owner : refused('CSRF_INVALID'),
  loa2: refused('ACCESS_DENIED'),
  noRole: refused('ACCESS_DENIED'),
  admin1: refused('ACCESS_DENIED'),
  desk: refused('ACCESS_DENIED'),
  admin2: owner,
  // The holder's session is no administrator's: on their routes nobody is logged in.
  holder: refused('NOT_LOGGED_IN'),
});

/** The service desk's queue. */
const deskOnly = (desk: string, method: 'GET' | 'POST'): Record<Column, string> => ({
  anonymous: refused('NOT_LOGGED_IN'),
  noCsrf: method === 'GET' ? desk : refused('CSRF_INVALID'),
  loa2: refused('ACCESS_DENIED'),
  noRole: refused('ACCESS_DENIED'),
  admin1: refused('ACCESS_DENIED'),
  desk,
  admin2: refused('ACCESS_DENIED'),
  holder: refused('NOT_LOGGED_IN'),
});

/** The admin portal: LoA3 logins with KRA/RA in the recipient's branch. */
const adminPortal = (
  method: 'GET' | 'POST',
  allowed: { admin1: string; admin2: string },
  /** What an admin without a role in the recipient's branch is told. */
  noRole: ErrorCode = 'NO_ROLE_IN_BRANCH',
): Record<Column, string> => ({
  anonymous: refused('NOT_LOGGED_IN'),
  noCsrf: method === 'GET' ? allowed.admin1 : refused('CSRF_INVALID'),
  loa2: refused('LOA2_LOGIN'),
  noRole: refused(noRole),
  admin1: allowed.admin1,
  // The service desk is no ID-administrator.
  desk: refused('ACCESS_DENIED'),
  admin2: allowed.admin2,
  holder: refused('NOT_LOGGED_IN'),
});

/** Any logged-in caller. */
const loggedIn = (answer: string, method: 'GET' | 'POST'): Record<Column, string> => ({
  anonymous: refused('NOT_LOGGED_IN'),
  noCsrf: method === 'GET' ? answer : refused('CSRF_INVALID'),
  loa2: answer,
  noRole: answer,
  admin1: answer,
  desk: answer,
  admin2: answer,
  holder: refused('NOT_LOGGED_IN'),
});

/** The holder's own pages: the holder's session only. */
const holderOnly = (answer: string, method: 'GET' | 'POST'): Record<Column, string> => ({
  anonymous: refused('NOT_LOGGED_IN'),
  noCsrf: method === 'GET' ? answer : refused('CSRF_INVALID'),
  loa2: refused('NOT_LOGGED_IN'),
  noRole: refused('NOT_LOGGED_IN'),
  admin1: refused('NOT_LOGGED_IN'),
  desk: refused('NOT_LOGGED_IN'),
  admin2: refused('NOT_LOGGED_IN'),
  holder: answer,
});

const cell = (answer: Answer): string => {
  if (answer.status < 400) return String(answer.status);
  const body = answer.body ?? {};
  const shaped = typeof body.message?.sv === 'string' && typeof body.message?.en === 'string';
  return `${answer.status} ${body.code ?? '(no code)'}${shaped ? '' : ' (no sv/en message)'}`;
};

describe('authorization matrix: every endpoint × caller', () => {
  let h: Harness;
  const clients = {} as Record<Caller, Client> & { anonymous: Client };
  const ids = {
    flow: '',
    flowToAbort: '',
    flowToRestart: '',
    caseId: '',
    orderToCancel: 'order-cancel',
    station: '',
  };
  let cardCounter = 500;
  let ocspRequest = Buffer.alloc(0);

  /** Shaped like a station's statement; believed by no server. */
  const notAStatement = { payload: 'AAAA', signature: 'AAAA' };
  /** A flow start for the caller: its card in reader 1, a reserved flow id, the station's readers. */
  const startFor = async (as: Caller | 'anonymous') => {
    if (as === 'anonymous' || as === 'holder') return { flowId: 'no-such-flow', readers: notAStatement };
    await withCardIn(cardOf(as));
    const reserved = await clients[as].post('/api/flows/start');
    if (reserved.status !== 200) return { flowId: 'no-such-flow', readers: notAStatement };
    const { flowId, stationNonce } = reserved.body as { flowId: string; stationNonce: string };
    return {
      flowId,
      readers: await h.agent.statement(h.agentToken, { flowId, nonce: stationNonce, kind: 'readers' }),
    };
  };
  /** The station's readers now, for admin 2's flow at its current nonce. */
  const flowReaders = async () => {
    const nonce = (await clients.admin2.get(`/api/flows/${ids.flow}`)).body.stationNonce as string;
    return h.agent.statement(h.agentToken, { flowId: ids.flow, nonce, kind: 'readers' });
  };
  const cardOf = (as: Caller | 'anonymous'): CardNumber => CARDS[as === 'anonymous' ? 'admin2' : as];
  const withCardIn = (card: CardNumber) => cardIn(h, 'reader-1', card);
  const admin2Flow = async (...actions: string[]) => {
    const started = await clients.admin2.startFlow();
    expect(started.status).toBe(200);
    const flowId = started.body.view.flowId as string;
    for (const type of actions) await clients.admin2.post(`/api/flows/${flowId}/actions`, { type });
    return flowId;
  };
  const draftFor = () => ({
    personHsaId: ANNA,
    cardNumber: `97522789000000${String(cardCounter++).padStart(5, '0')}`,
    validity: { notBefore: h.clock.now(), notAfter: h.clock.now() + 5 * 86_400_000 },
    idDocument: 'swedish-passport',
  });
  /**
   * An order draft prepared by admin 1 (or admin 2 for themself), signed with the caller's card and
   * the station's statement of its readers. The caller logs in again first: an order signature
   * needs the login card still in its reader since login, and the other rows swap cards.
   */
  const signedOrder = async (as: Caller | 'anonymous') => {
    if (as === 'anonymous' || as === 'holder') await withCardIn(ADMIN1_CARD);
    else expect((await clients[as].login(cardOf(as))).status).toBe(200);
    const preparer = as === 'admin2' ? clients.admin2 : clients.admin1;
    const prepared = await preparer.post('/api/admin/orders/prepare', draftFor());
    expect(prepared.status, JSON.stringify(prepared.body)).toBe(200);
    return orderBody(h, prepared.body);
  };
  const admin2SignCertificate = async () => {
    await withCardIn(ADMIN2_CARD);
    const info = await h.cards.cardInfo('reader-1');
    return Buffer.from(info.certificates.find((c) => c.key === 'sign')?.der ?? []).toString('base64');
  };
  /** A fresh challenge of admin 2's flow: what a caller would have to replay to sign or acknowledge it. */
  const flowChallenge = async (purpose: 'order' | 'acknowledge') => {
    const answer = await clients.admin2.post(`/api/flows/${ids.flow}/signing-challenge`, { purpose });
    expect(answer.status).toBe(200);
    return answer.body.challengeId as string;
  };
  /** A fresh holder's login: the server's challenge signed by the reserve card in reader 2 with PIN 1. */
  const holderLoginBody = async () => {
    await cardIn(h, 'reader-2', RESERVE_CARD);
    await h.agent.bind(h.agentToken, 'reader-2');
    const challenge = (await clients.anonymous.post('/api/auth/challenge')).body;
    const started = await h.agent.authenticate(
      h.agentToken,
      'reader-2',
      Buffer.from(challenge.challenge, 'base64'),
      null,
    );
    const done = await completeWithPins(h.agent, started, [RESERVE_PINS.pin1]);
    const result = done.result as { signature: string; certificate: string };
    return { challengeId: challenge.challengeId as string, ...result };
  };
  const garbageSignature = Buffer.alloc(64, 3).toString('base64');
  /** A card station's registration: a CSR by a fresh station key, for a branch below admin 1's role. */
  const stationRegistration = async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const pem = key.export({ format: 'pem', type: 'pkcs8' }).toString();
    return {
      csr: Buffer.from(await stationCsr(pem)).toString('base64'),
      name: 'Kortdisken',
      branchId: 'clinic',
    };
  };

  const rows: Row[] = [
    // --- public ---
    { name: 'GET /health', method: 'GET', url: () => '/health', expected: open() },
    // For operators, not sessions: outside training mode only the operations token opens them.
    {
      name: 'GET /metrics',
      method: 'GET',
      url: () => '/metrics',
      expected: everyone('OPERATIONS_TOKEN_REQUIRED'),
    },
    {
      name: 'GET /api/docs/json',
      method: 'GET',
      url: () => '/api/docs/json',
      expected: everyone('OPERATIONS_TOKEN_REQUIRED'),
    },
    { name: 'GET /api/config', method: 'GET', url: () => '/api/config', expected: open() },
    {
      name: 'GET /pki/ca/:name.:ext (root.pem)',
      method: 'GET',
      url: () => '/pki/ca/root.pem',
      expected: open(),
    },
    {
      name: 'GET /pki/crl/:name.crl (loa3)',
      method: 'GET',
      url: () => '/pki/crl/loa3.crl',
      expected: open(),
    },
    {
      name: 'POST /ocsp',
      method: 'POST',
      url: () => '/ocsp',
      raw: () => ocspRequest,
      contentType: 'application/ocsp-request',
      expected: open(),
    },
    {
      name: 'GET /ocsp/:*',
      method: 'GET',
      url: () => `/ocsp/${encodeURIComponent(ocspRequest.toString('base64'))}`,
      expected: open(),
    },
    { name: 'GET /api/catalogue', method: 'GET', url: () => '/api/catalogue', expected: open() },
    { name: 'GET /audit/checkpoint', method: 'GET', url: () => '/audit/checkpoint', expected: open() },
    { name: 'POST /api/auth/challenge', method: 'POST', url: () => '/api/auth/challenge', expected: open() },
    // READERS_MISSING on the login screen: anyone may ask, only a registered station's signature files.
    {
      name: 'POST /api/support/cases/before-login/challenge',
      method: 'POST',
      url: () => '/api/support/cases/before-login/challenge',
      expected: open(),
    },
    {
      name: 'POST /api/support/cases/before-login (no challenge, no station)',
      method: 'POST',
      url: () => '/api/support/cases/before-login',
      body: () => ({ challengeId: 'no-such-challenge', statements: [notAStatement, notAStatement] }),
      expected: everyone('STATEMENT_INVALID'),
    },
    // --- förlängning: a holder's session only; no administrator's or desk session opens it; the
    // holder starts one and finds no other ---
    ...(() => {
      const ext = '/api/holder/extension';
      const id = `${ext}/no-such-extension`;
      const spki = Buffer.alloc(91, 1).toString('base64');
      const fact = { spki, local: true, sensitive: true, neverExtractable: true };
      const rows: Row[] = [
        {
          name: `GET ${ext}`,
          method: 'GET',
          url: () => ext,
          csrfCaller: 'holder',
          expected: holderOnly(ok(), 'GET'),
        },
        {
          name: `POST ${ext}`,
          method: 'POST',
          url: () => ext,
          csrfCaller: 'holder',
          expected: holderOnly(ok(), 'POST'),
        },
        {
          name: `GET ${ext}/:extensionId`,
          method: 'GET',
          url: () => id,
          csrfCaller: 'holder',
          expected: holderOnly(refused('NOT_FOUND'), 'GET'),
        },
        {
          name: `POST ${ext}/:extensionId/terms`,
          method: 'POST',
          url: () => `${id}/terms`,
          csrfCaller: 'holder',
          expected: holderOnly(refused('NOT_FOUND'), 'POST'),
        },
        {
          name: `POST ${ext}/:extensionId/keys`,
          method: 'POST',
          url: () => `${id}/keys`,
          body: () => ({
            cardNumber: '9752278900000000100',
            bureauCertificate: spki,
            cardSignature: spki,
            keys: { auth: fact, sign: fact },
          }),
          csrfCaller: 'holder',
          expected: holderOnly(refused('NOT_FOUND'), 'POST'),
        },
        {
          name: `POST ${ext}/:extensionId/certificates`,
          method: 'POST',
          url: () => `${id}/certificates`,
          body: () => ({ authCsr: 'x', signCsr: 'y' }),
          csrfCaller: 'holder',
          expected: holderOnly(refused('NOT_FOUND'), 'POST'),
        },
        {
          name: `GET ${ext}/:extensionId/certificates`,
          method: 'GET',
          url: () => `${id}/certificates`,
          csrfCaller: 'holder',
          expected: holderOnly(refused('NOT_FOUND'), 'GET'),
        },
        {
          name: `POST ${ext}/:extensionId/acknowledgement-challenge`,
          method: 'POST',
          url: () => `${id}/acknowledgement-challenge`,
          csrfCaller: 'holder',
          expected: holderOnly(refused('NOT_FOUND'), 'POST'),
        },
        {
          name: `POST ${ext}/:extensionId/acknowledge`,
          method: 'POST',
          url: () => `${id}/acknowledge`,
          body: () => ({ challengeId: 'no-such-challenge', signature: spki }),
          csrfCaller: 'holder',
          expected: holderOnly(refused('NOT_FOUND'), 'POST'),
        },
      ];
      return rows;
    })(),
    // --- session ---
    { name: 'GET /api/auth/me', method: 'GET', url: () => '/api/auth/me', expected: loggedIn(ok(), 'GET') },
    // Anyone may ask; the anonymous caller is told no one is logged in (200, user null).
    { name: 'GET /api/auth/session', method: 'GET', url: () => '/api/auth/session', expected: open() },
    {
      name: 'POST /api/auth/card-removed (another card than the login card)',
      method: 'POST',
      url: () => '/api/auth/card-removed',
      body: () => ({ cardNumber: '9752278900000000999' }),
      expected: loggedIn(ok(), 'POST'),
    },
    {
      name: 'POST /api/flows/start',
      method: 'POST',
      url: () => '/api/flows/start',
      expected: { ...loggedIn(ok(), 'POST'), desk: refused('ACCESS_DENIED') },
    },
    {
      name: 'POST /api/flows (start)',
      method: 'POST',
      url: () => '/api/flows',
      body: (as) => startFor(as),
      // Starting a flow needs only a login: a LoA2 login or one without roles gets a flow whose
      // controls explain what they may not do (LOA2_LOGIN, NO_ROLE_IN_BRANCH at the search). The
      // service desk is no ID-administrator and may not start one (ACCESS_DENIED).
      expected: { ...loggedIn(ok(), 'POST'), desk: refused('ACCESS_DENIED') },
    },
    // --- admin 2's flow ---
    {
      name: 'GET /api/flows/:flowId',
      method: 'GET',
      url: () => `/api/flows/${ids.flow}`,
      expected: ownerOnly(ok(), 'GET'),
    },
    {
      // Read-only: the flow's own administrator, or one with a role in the recipient's branch.
      name: 'GET /api/flows/:flowId/replay',
      method: 'GET',
      url: () => `/api/flows/${ids.flow}/replay`,
      expected: ownerOnly(ok(), 'GET'),
    },
    {
      name: 'POST /api/flows/:flowId/actions',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/actions`,
      body: () => ({ type: 'manage-orders' }),
      expected: ownerOnly(past('EVENT_OUT_OF_ORDER'), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/agent-events',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/agent-events`,
      body: () => ({ type: 'tick' }),
      expected: ownerOnly(ok(), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/search',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/search`,
      body: () => ({ query: ANNA_PNR }),
      expected: ownerOnly(ok(), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/signing-challenge',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/signing-challenge`,
      body: () => ({ purpose: 'order' }),
      expected: ownerOnly(ok(), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/sign',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/sign`,
      body: async () => ({
        challengeId: await flowChallenge('order'),
        certificate: await admin2SignCertificate(),
        signature: garbageSignature,
        readers: await flowReaders(),
      }),
      // The flow is at step 2: SIGNERA is no control there.
      expected: ownerOnly(past('EVENT_OUT_OF_ORDER'), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/handover',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/handover`,
      body: () => ({ proof: notAStatement }),
      expected: ownerOnly(past('STATEMENT_INVALID'), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/keys',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/keys`,
      body: () => ({ statement: notAStatement }),
      expected: ownerOnly(past('STATEMENT_INVALID'), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/certificates',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/certificates`,
      body: () => ({ authCsr: 'MIIB', signCsr: 'MIIB' }),
      expected: ownerOnly(past('EVENT_OUT_OF_ORDER'), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/acknowledge',
      method: 'POST',
      url: () => `/api/flows/${ids.flow}/acknowledge`,
      body: async () => ({ challengeId: await flowChallenge('acknowledge'), signature: garbageSignature }),
      expected: ownerOnly(past('EVENT_OUT_OF_ORDER'), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/abort',
      method: 'POST',
      url: () => `/api/flows/${ids.flowToAbort}/abort`,
      body: () => ({ reason: 'restart' }),
      expected: ownerOnly(ok(), 'POST'),
    },
    {
      name: 'POST /api/flows/:flowId/restart',
      method: 'POST',
      url: () => `/api/flows/${ids.flowToRestart}/restart`,
      expected: ownerOnly(ok(), 'POST'),
    },
    {
      name: 'POST /api/support/cases (file a case on a flow)',
      method: 'POST',
      url: () => '/api/support/cases',
      body: () => ({ flowId: ids.flow, comment: 'Fastnar' }),
      expected: ownerOnly(ok(201), 'POST'),
    },
    {
      name: 'POST /api/support/cases/preview (the case as it would be filed)',
      method: 'POST',
      url: () => '/api/support/cases/preview',
      body: () => ({ flowId: ids.flow }),
      expected: ownerOnly(ok(), 'POST'),
    },
    // --- admin portal ---
    {
      name: 'GET /api/admin/persons',
      method: 'GET',
      url: () => `/api/admin/persons?query=${ANNA_PNR}`,
      csrfCaller: 'admin1',
      // A person outside the admin's roles is answered like one who does not exist.
      expected: adminPortal('GET', { admin1: ok(), admin2: ok() }, 'PERSON_NOT_FOUND'),
    },
    {
      name: 'POST /api/admin/orders/prepare',
      method: 'POST',
      url: () => '/api/admin/orders/prepare',
      body: () => draftFor(),
      csrfCaller: 'admin1',
      expected: adminPortal('POST', { admin1: ok(), admin2: ok() }, 'PERSON_NOT_FOUND'),
    },
    {
      name: 'POST /api/admin/orders (register, signed)',
      method: 'POST',
      url: () => '/api/admin/orders',
      body: (as) => signedOrder(as === 'anonymous' ? 'anonymous' : as),
      csrfCaller: 'admin1',
      expected: adminPortal('POST', { admin1: ok(201), admin2: ok(201) }, 'PERSON_NOT_FOUND'),
    },
    {
      name: 'POST /api/admin/orders/:orderId/cancel',
      method: 'POST',
      url: () => `/api/admin/orders/${ids.orderToCancel}/cancel`,
      csrfCaller: 'admin1',
      // Admin 1 cancels first; admin 2 gets past authorisation to find it cancelled.
      expected: adminPortal('POST', { admin1: ok(), admin2: past('ORDER_STATE_CONFLICT') }),
    },
    // --- card stations: administrators with KRA/RA in the station's branch or above ---
    {
      name: 'POST /api/stations (register)',
      method: 'POST',
      url: () => '/api/stations',
      body: () => stationRegistration(),
      csrfCaller: 'admin1',
      expected: adminPortal('POST', { admin1: ok(201), admin2: ok(201) }),
    },
    {
      name: 'GET /api/stations',
      method: 'GET',
      url: () => '/api/stations',
      csrfCaller: 'admin1',
      // An administrator without a role anywhere above a station sees none.
      expected: { ...adminPortal('GET', { admin1: ok(), admin2: ok() }), noRole: ok() },
    },
    {
      name: 'POST /api/stations/:stationId/revoke',
      method: 'POST',
      url: () => `/api/stations/${ids.station}/revoke`,
      csrfCaller: 'admin1',
      // Admin 1 revokes it; admin 2 finds it revoked, which changes nothing.
      expected: adminPortal('POST', { admin1: ok(), admin2: ok() }),
    },
    // --- card stock: administrators with a role at the station; the service desk may read ---
    {
      name: 'GET /api/stock/:stationId',
      method: 'GET',
      url: () => '/api/stock/hospital',
      csrfCaller: 'admin1',
      expected: { ...adminPortal('GET', { admin1: ok(), admin2: ok() }), desk: ok() },
    },
    {
      name: 'POST /api/stock/:stationId/batches',
      method: 'POST',
      url: () => '/api/stock/hospital/batches',
      body: () => stockBatchBody(),
      csrfCaller: 'admin1',
      expected: adminPortal('POST', { admin1: ok(201), admin2: ok(201) }),
    },
    {
      name: 'POST /api/stock/cards/:cardNumber/return',
      method: 'POST',
      url: () => `/api/stock/cards/${STOCK.toReturn}/return`,
      body: () => ({ cause: 'ordinary-card-back' }),
      csrfCaller: 'admin1',
      // Admin 1 records the return; admin 2 gets past authorisation to find the card destroyed.
      expected: adminPortal('POST', { admin1: ok(), admin2: past('CARD_DESTROYED') }),
    },
    {
      name: 'POST /api/stock/cards/:cardNumber/destroy',
      method: 'POST',
      url: () => `/api/stock/cards/${STOCK.toDestroy}/destroy`,
      body: () => ({ why: 'damaged' }),
      csrfCaller: 'admin1',
      expected: adminPortal('POST', { admin1: ok(), admin2: past('CARD_DESTROYED') }),
    },
    // --- "Insikter": administrators (their branches) and the service desk; LoA2 and holders not ---
    ...[
      '/api/insights',
      '/api/insights/flows?figure=byCode&key=ACK_TIMEOUT',
      '/api/insights/cases',
      '/api/insights.csv',
    ].map(
      (url): Row => ({
        name: `GET ${url.split('?')[0]}`,
        method: 'GET',
        url: () => url,
        csrfCaller: 'admin1',
        expected: {
          anonymous: refused('NOT_LOGGED_IN'),
          noCsrf: ok(),
          loa2: refused('LOA2_LOGIN'),
          noRole: ok(),
          admin1: ok(),
          desk: ok(),
          admin2: ok(),
          holder: refused('NOT_LOGGED_IN'),
        },
      }),
    ),
    // --- the service desk's queue ---
    {
      name: 'GET /api/support/cases',
      method: 'GET',
      url: () => '/api/support/cases',
      csrfCaller: 'desk',
      expected: deskOnly(ok(), 'GET'),
    },
    {
      name: 'GET /api/support/cases/:caseId',
      method: 'GET',
      url: () => `/api/support/cases/${ids.caseId}`,
      csrfCaller: 'desk',
      expected: deskOnly(ok(), 'GET'),
    },
    {
      name: 'GET /api/support/cases/:caseId/replay',
      method: 'GET',
      url: () => `/api/support/cases/${ids.caseId}/replay`,
      csrfCaller: 'desk',
      expected: deskOnly(ok(), 'GET'),
    },
    {
      name: 'POST /api/support/cases/:caseId/assign',
      method: 'POST',
      url: () => `/api/support/cases/${ids.caseId}/assign`,
      csrfCaller: 'desk',
      expected: deskOnly(ok(), 'POST'),
    },
    {
      name: 'POST /api/support/cases/:caseId/comments',
      method: 'POST',
      url: () => `/api/support/cases/${ids.caseId}/comments`,
      body: () => ({ text: 'Tittar på det.' }),
      csrfCaller: 'desk',
      expected: deskOnly(ok(201), 'POST'),
    },
    {
      name: 'POST /api/support/cases/:caseId/resolve',
      method: 'POST',
      url: () => `/api/support/cases/${ids.caseId}/resolve`,
      csrfCaller: 'desk',
      expected: deskOnly(ok(), 'POST'),
    },
    // --- reserve-card e-IDs: the holder's own, a person's for administrators and the service desk ---
    {
      name: 'GET /api/holder/session',
      method: 'GET',
      url: () => '/api/holder/session',
      expected: open(),
    },
    {
      name: 'GET /api/holder/eids',
      method: 'GET',
      url: () => '/api/holder/eids',
      csrfCaller: 'holder',
      expected: holderOnly(ok(), 'GET'),
    },
    {
      // A reason the holder may not give: past authorisation, nothing revoked.
      name: 'POST /api/holder/eids/revoke',
      method: 'POST',
      url: () => '/api/holder/eids/revoke',
      body: () => ({ reason: 'left-organisation' }),
      csrfCaller: 'holder',
      expected: holderOnly(past('REVOCATION_REASON_NOT_OFFERED'), 'POST'),
    },
    {
      name: 'GET /api/admin/persons/:hsaId/eids',
      method: 'GET',
      url: () => `/api/admin/persons/${ANNA}/eids`,
      expected: adminPortal('GET', { admin1: ok(), admin2: ok() }),
    },
    {
      name: 'POST /api/admin/persons/:hsaId/eids/revoke',
      method: 'POST',
      url: () => `/api/admin/persons/${ANNA}/eids/revoke`,
      body: () => ({ cardNumber: RESERVE_CARD, reason: 'superseded' }),
      expected: adminPortal('POST', {
        admin1: past('REVOCATION_REASON_NOT_OFFERED'),
        admin2: past('REVOCATION_REASON_NOT_OFFERED'),
      }),
    },
    {
      name: 'GET /api/support/persons',
      method: 'GET',
      url: () => `/api/support/persons?query=${ANNA_PNR}`,
      csrfCaller: 'desk',
      expected: deskOnly(ok(), 'GET'),
    },
    {
      name: 'POST /api/support/persons/:hsaId/eids/revoke',
      method: 'POST',
      url: () => `/api/support/persons/${ANNA}/eids/revoke`,
      body: () => ({ cardNumber: RESERVE_CARD, reason: 'superseded' }),
      csrfCaller: 'desk',
      expected: deskOnly(past('REVOCATION_REASON_NOT_OFFERED'), 'POST'),
    },
    // --- login and logout last: logging out ends the callers' sessions ---
    {
      name: 'POST /api/holder/login',
      method: 'POST',
      url: () => '/api/holder/login',
      body: () => holderLoginBody(),
      expected: open(),
    },
    {
      name: 'POST /api/holder/logout',
      method: 'POST',
      url: () => '/api/holder/logout',
      csrfCaller: 'holder',
      expected: holderOnly(ok(), 'POST'),
    },
    {
      name: 'POST /api/auth/login',
      method: 'POST',
      url: () => '/api/auth/login',
      // The holder tries the administrators' login with the reserve card itself.
      body: (as) => (as === 'holder' ? holderLoginBody() : loginBody(h, cardOf(as))),
      expected: { ...open(), holder: refused('LOGIN_FAILED') },
    },
    {
      name: 'POST /api/auth/logout',
      method: 'POST',
      url: () => '/api/auth/logout',
      expected: loggedIn(ok(), 'POST'),
    },
  ];

  beforeAll(async () => {
    h = await createIssuanceHarness();
    await addAcceptanceDirectory(h, { actors: ['outsider', 'loa2', 'desk'] });
    // Anna's reserve card, issued and acknowledged: the holder's e-ID the e-ID rows are about.
    await h.cards.removeCard('reader-1').catch(() => undefined);
    const issuer = new Page(h);
    await walkTo(h, issuer, 7);
    expect((await acknowledge(issuer)).status).toBe(200);
    await insertOrderFor(h, {
      id: ids.orderToCancel,
      person: RECIPIENTS.noOrder.person,
      cardNumber: '9752278900000000204' as CardNumber,
      createdBy: ADMIN1,
    });
    // A real OCSP request for a serial of the LoA3 CA, as OpenSSL makes it.
    const reqFile = join(h.t.dir, 'matrix.ocsp');
    await run('openssl', [
      'ocsp',
      '-issuer',
      h.t.files.loa3,
      '-serial',
      '0x1234',
      '-no_nonce',
      '-reqout',
      reqFile,
    ]);
    ocspRequest = await readFile(reqFile);
    // What the server does at start-up: a checkpoint to serve.
    await h.services.checkpoints.publish();
    clients.anonymous = new Client(h);
    clients.holder = new Client(h);
    const holder = await clients.holder.post('/api/holder/login', await holderLoginBody());
    expect(holder.status, JSON.stringify(holder.body)).toBe(200);
    clients.holder.cookie =
      holder.setCookie
        .find((c) => c.startsWith('rk_session='))
        ?.split(';')[0]
        ?.slice('rk_session='.length) ?? '';
    clients.holder.csrf = holder.body.csrfToken;
    for (const caller of Object.keys(CARDS).filter((c) => c !== 'holder') as Caller[]) {
      clients[caller] = new Client(h);
      const login = await clients[caller].login(CARDS[caller]);
      expect(login.status, `${caller} login: ${JSON.stringify(login.body)}`).toBe(200);
    }
    ids.flow = await admin2Flow('manage-orders');
    ids.flowToAbort = await admin2Flow();
    ids.flowToRestart = await admin2Flow();
    const filed = await clients.admin2.post('/api/support/cases', { flowId: ids.flow });
    expect(filed.status).toBe(201);
    ids.caseId = filed.body.id;
    const station = await clients.admin2.post('/api/stations', await stationRegistration());
    expect(station.status, JSON.stringify(station.body)).toBe(201);
    ids.station = station.body.stationId;
    // The numbers the order rows take, in the test station's stock; and at the hospital's station,
    // a card given out (to return) and a sealed one (to destroy).
    await stockTestCards(
      h.t.store.db,
      Array.from(
        { length: 100 },
        (_, i) => `97522789000000${String(500 + i).padStart(5, '0')}` as CardNumber,
      ),
    );
    await stockTestCards(h.t.store.db, [STOCK.toReturn, STOCK.toDestroy], 'hospital');
    const given = await getStockCard(h.t.store.db, STOCK.toReturn);
    if (given === null) throw new Error('fixture stock');
    await moveStockCard(h.t.store.db, {
      card: { ...given, state: 'issued', holder: ANNA, stateChangedAt: h.clock.now() },
      expectedVersion: given.version,
    });
  });
  afterAll(async () => {
    await h?.dispose();
  });

  it('has a row for every route of the OpenAPI description', async () => {
    const docs = h.app.swagger() as { paths: Record<string, object> };
    const described = Object.entries(docs.paths as Record<string, object>).flatMap(([path, methods]) =>
      Object.keys(methods).map(
        (method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1').replace(/(.)\/$/, '$1')}`,
      ),
    );
    const covered = new Set(rows.map((r) => r.name.split(' (')[0]));
    expect(described.length).toBeGreaterThan(25);
    expect(described.filter((route) => !covered.has(route))).toEqual([]);
  });

  for (const row of rows) {
    it(row.name, async () => {
      const actual = {} as Record<Column, string>;
      for (const column of COLUMNS) {
        const caller: Caller | 'anonymous' =
          column === 'noCsrf' ? (row.csrfCaller ?? 'admin2') : column === 'anonymous' ? 'anonymous' : column;
        const client = caller === 'anonymous' ? clients.anonymous : clients[caller];
        const body = row.body ? await row.body(caller) : undefined;
        const answer = await client.request(row.method, row.url(), {
          ...(body === undefined ? {} : { payload: body }),
          ...(row.raw ? { raw: row.raw() } : {}),
          ...(row.contentType ? { contentType: row.contentType } : {}),
          csrf: column !== 'noCsrf',
        });
        actual[column] = cell(answer);
      }
      expect(actual).toEqual(row.expected);
    });
  }

  it('a refused call on another admin’s flow does not use up the owner’s signing challenge', async () => {
    // Logout above ended the sessions: log the two callers in again.
    for (const caller of ['noRole', 'admin2'] as const) {
      expect((await clients[caller].login(CARDS[caller])).status).toBe(200);
    }
    // Admin 2's card goes in before the flow starts: the station counts that insertion for SIGNERA.
    await withCardIn(ADMIN2_CARD);
    const flowId = await admin2Flow('manage-orders');
    await clients.admin2.post(`/api/flows/${flowId}/search`, { query: ANNA_PNR });
    expect(
      (await clients.admin2.post(`/api/flows/${flowId}/actions`, { type: 'order-selected' })).body.view.step,
    ).toBe(3);
    const challenge = await clients.admin2.post(`/api/flows/${flowId}/signing-challenge`, {
      purpose: 'order',
    });
    const signed = await signWithCard(h, 'reader-1', Buffer.from(challenge.body.toBeSigned, 'base64'));
    const nonce = (await clients.admin2.get(`/api/flows/${flowId}`)).body.stationNonce as string;
    const readers = await h.agent.statement(h.agentToken, { flowId, nonce, kind: 'readers' });
    const body = { challengeId: challenge.body.challengeId, ...signed, readers };
    const stranger = await clients.noRole.post(`/api/flows/${flowId}/sign`, body);
    expect(cell(stranger)).toBe(refused('ACCESS_DENIED'));
    const owner = await clients.admin2.post(`/api/flows/${flowId}/sign`, body);
    expect(owner.status, JSON.stringify(owner.body)).toBe(200);
    expect(owner.body.view.step).toBe(4);
  });
});
