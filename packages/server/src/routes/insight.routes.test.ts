// The insight routes over HTTP: who sees which flows (an administrator their branches, the service
// desk all), that nothing of a protected person is ever in an answer or the CSV, typed refusals of
// bad filters, answers to parallel requests, and the flow counters in /metrics.
import type { CardNumber, HsaId } from '@reservkort/domain';
import {
  grantRole,
  grantStaffRole,
  insertAdmin,
  insertFlow,
  insertOrder,
  insertPerson,
  insertSession,
  updateFlow,
  upsertBranches,
} from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anOrder, aPerson, card } from '../../../store/src/test-support/store-fixtures.js';
import { hashToken, SESSION_COOKIE } from '../auth/session.js';
import { ADMIN2_CARD, createIssuanceHarness, type Harness } from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';

const OPERATIONS_TOKEN = 'insight-operations-token';
const HOUR = 3_600_000;
const HOSPITAL_ADMIN = 'SE2321000016-hosp' as HsaId;
const OTHER_ADMIN = 'SE2321000016-othr' as HsaId;
const DESK = 'SE2321000016-desk' as HsaId;
const NOBODY = 'SE2321000016-nobd' as HsaId;
/** The protected person: none of this may appear in any answer. */
const HIDDEN = { given: 'Hemligförnamn', surname: 'Skyddadsson', local: 'hidn1' };

describe('the insight routes', () => {
  let h: Harness;
  const tokens: Record<string, string> = {};
  let hiddenHsaId = '';
  let hiddenPnr = '';

  const get = (who: string | null, url: string) =>
    h.app.inject({
      method: 'GET',
      url,
      ...(who === null ? {} : { cookies: { [SESSION_COOKIE]: tokens[who] ?? '' } }),
    });
  const figures = async (who: string, query = '') => {
    const answer = await get(who, `/api/insights${query}`);
    expect(answer.statusCode, answer.body).toBe(200);
    return answer.json();
  };
  const started = (body: { perDay: { started: number }[] }) => body.perDay.reduce((n, d) => n + d.started, 0);

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), 'sqlite', {
      operations: { mode: 'token', token: OPERATIONS_TOKEN, separateListener: false },
    });
    const db = h.ctx.store.db;
    const now = h.clock.now();
    await upsertBranches(db, [{ id: 'other', parentId: 'region', name: 'Annan förvaltning' }]);
    h.services.directory.invalidate();
    for (const [hsaId, role, branchId] of [
      [HOSPITAL_ADMIN, 'RA', 'hospital'],
      [OTHER_ADMIN, 'KRA', 'other'],
    ] as const) {
      await insertAdmin(db, { hsaId, givenName: 'Admin', surname: branchId, createdAt: now });
      await grantRole(db, { adminHsaId: hsaId, role, branchId });
    }
    await grantStaffRole(db, { hsaId: DESK, role: 'service-desk' });
    for (const [who, level] of [
      [HOSPITAL_ADMIN, 'LoA3'],
      [OTHER_ADMIN, 'LoA3'],
      [DESK, 'LoA3'],
      [NOBODY, 'LoA3'],
    ] as const) {
      const token = `token-${who}`;
      tokens[who] = token;
      await insertSession(db, {
        id: hashToken(token),
        adminHsaId: who,
        certificateSerial: `serial-${who}`,
        cardNumber: card(90) as CardNumber,
        assuranceLevel: level,
        csrfToken: 'csrf',
        createdAt: now,
        expiresAt: now + 10 * HOUR,
        station: null,
      });
    }

    // A protected person in the clinic and a person in the other branch, each with a failed flow.
    const hidden = aPerson(HIDDEN.local, {
      givenName: HIDDEN.given,
      surname: HIDDEN.surname,
      branchId: 'clinic',
      protectedIdentity: true,
    });
    hiddenHsaId = hidden.hsaId;
    hiddenPnr = String(hidden.personalNumber ?? '');
    const elsewhere = aPerson('else1', { branchId: 'other' });
    await insertPerson(db, hidden);
    await insertPerson(db, elsewhere);
    await insertOrder(db, anOrder('order-hidden', hidden, { cardNumber: card(501), createdAt: now }));
    await insertOrder(db, anOrder('order-else', elsewhere, { cardNumber: card(502), createdAt: now }));
    const seed = async (id: string, orderId: string, codes: string[], at: number) => {
      await insertFlow(db, {
        id,
        orderId: null,
        admin2HsaId: null,
        status: 'active',
        step: 0,
        state: { timeline: [{ at, step: 0, event: 'flow-started', codes: [] }] },
        deadline: null,
        pendingEffects: [],
        createdAt: at,
        stationId: h.stationId,
        agent: { version: '1.4.0', packaging: 'msi' },
      });
      await updateFlow(db, {
        id,
        expectedVersion: 1,
        status: 'aborted',
        step: 6,
        state: {
          timeline: [
            { at, step: 0, event: 'flow-started', codes: [] },
            { at: at + 1, step: 6, event: 'x', codes },
          ],
        },
        deadline: null,
        pendingEffects: [],
        orderId,
        updatedAt: at + 1,
      });
    };
    await seed('flow-hidden', 'order-hidden', ['CARD_REMOVED_DURING_DOWNLOAD'], now - 2 * HOUR);
    await seed('flow-else', 'order-else', ['DOWNLOAD_FAILED'], now - 3 * HOUR);
  });
  afterAll(() => h?.dispose());

  it('asks who is looking: not logged in is 401, a person with no role is 403', async () => {
    expect((await get(null, '/api/insights')).statusCode).toBe(401);
    const nobody = await get(NOBODY, '/api/insights');
    expect(nobody.statusCode).toBe(403);
    expect(nobody.json().code).toBe('ACCESS_DENIED');
    expect((await get(NOBODY, '/api/insights.csv')).statusCode).toBe(403);
  });

  it('shows an administrator the flows of their branches only, and the service desk all', async () => {
    const hospital = await figures(HOSPITAL_ADMIN);
    expect(hospital.byCode).toEqual([{ code: 'CARD_REMOVED_DURING_DOWNLOAD', flows: 1 }]);
    expect(hospital.branches.map((b: { id: string }) => b.id).sort()).toEqual(['clinic', 'hospital']);
    expect(hospital.perDay).toHaveLength(31);
    expect(hospital.busiestHours).toHaveLength(24);
    const other = await figures(OTHER_ADMIN);
    expect(other.byCode).toEqual([{ code: 'DOWNLOAD_FAILED', flows: 1 }]);
    const desk = await figures(DESK);
    expect(desk.byCode.map((c: { code: string }) => c.code).sort()).toEqual([
      'CARD_REMOVED_DURING_DOWNLOAD',
      'DOWNLOAD_FAILED',
    ]);
    expect(desk.byAgent).toContainEqual({ version: '1.4.0', packaging: 'msi', flows: 2, failed: 2, rate: 1 });
    const list = await get(OTHER_ADMIN, '/api/insights/flows?figure=byCode&key=CARD_REMOVED_DURING_DOWNLOAD');
    expect(list.json()).toEqual({ flows: [], truncated: false });
    const own = await get(OTHER_ADMIN, '/api/insights/flows?figure=byStep&key=6&outcome=failed');
    expect(own.json().flows.map((f: { flowId: string }) => f.flowId)).toEqual(['flow-else']);
    // Another's branch is refused like an unknown one.
    const foreign = await get(HOSPITAL_ADMIN, '/api/insights?branch=other');
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json()).toMatchObject({ code: 'INSIGHT_FILTER_INVALID', details: { field: 'branch' } });
    expect(started(await figures(DESK, '?branch=hospital'))).toBe(1);
  });

  it('never answers with anything of a protected person, to anyone, in JSON or CSV', async () => {
    const urls = [
      '/api/insights',
      '/api/insights.csv',
      `/api/insights/flows?figure=perDay&key=${new Date(h.clock.now()).toISOString().slice(0, 10)}`,
      '/api/insights/flows?figure=byCode&key=CARD_REMOVED_DURING_DOWNLOAD&outcome=failed',
      '/api/insights/flows?figure=byAgent&key=1.4.0/msi',
      '/api/insights/cases',
    ];
    for (const who of [HOSPITAL_ADMIN, OTHER_ADMIN, DESK])
      for (const url of urls) {
        const answer = await get(who, url);
        expect([200, 400], `${who} ${url}`).toContain(answer.statusCode);
        for (const secret of [HIDDEN.given, HIDDEN.surname, hiddenHsaId, hiddenPnr])
          expect(answer.body, `${who} ${url}`).not.toContain(secret);
      }
    const listed = await get(DESK, '/api/insights/flows?figure=byCode&key=CARD_REMOVED_DURING_DOWNLOAD');
    expect(listed.json().flows.map((f: { flowId: string }) => f.flowId)).toEqual(['flow-hidden']);
  });

  it('serves the figures as CSV: one table with a figure column', async () => {
    const answer = await get(DESK, '/api/insights.csv');
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = answer.body.trim().split('\r\n');
    expect(lines[0]).toBe('figure,key,label,started,completed,failed,flows,rate,medianMs,p90Ms');
    expect(lines.filter((l) => l.startsWith('perDay,'))).toHaveLength(31);
    expect(lines.filter((l) => l.startsWith('busiestHours,'))).toHaveLength(24);
    expect(lines).toContain('byCode,DOWNLOAD_FAILED,,,,,1,,,');
  });

  it('refuses bad filters with a typed 4xx', async () => {
    const refusals: [string, string, string][] = [
      ['/api/insights?from=2026-02-30', 'INSIGHT_FILTER_INVALID', 'from'],
      ['/api/insights?from=yesterday', 'INSIGHT_FILTER_INVALID', 'from'],
      ['/api/insights?from=2026-12-05&to=2026-12-01', 'INSIGHT_FILTER_INVALID', 'from'],
      ['/api/insights?from=2024-01-01&to=2026-01-01', 'INSIGHT_FILTER_INVALID', 'to'],
      ['/api/insights?code=NO_SUCH_CODE', 'INSIGHT_FILTER_INVALID', 'code'],
      ['/api/insights?station=st-nowhere', 'INSIGHT_FILTER_INVALID', 'station'],
      ['/api/insights?branch=nowhere', 'INSIGHT_FILTER_INVALID', 'branch'],
      ['/api/insights/flows?figure=byStep', 'INSIGHT_FILTER_INVALID', 'key'],
      ['/api/insights/flows?figure=byStep&key=9', 'INSIGHT_FILTER_INVALID', 'key'],
      ['/api/insights/flows?figure=busiestHours&key=24', 'INSIGHT_FILTER_INVALID', 'key'],
      ['/api/insights/flows?figure=byAgent&key=1.4.0', 'INSIGHT_FILTER_INVALID', 'key'],
      ['/api/insights/flows?figure=perDay&key=1999-01-01', 'INSIGHT_FILTER_INVALID', 'key'],
    ];
    for (const [url, code, field] of refusals) {
      const answer = await get(DESK, url);
      expect(answer.statusCode, url).toBe(400);
      expect(answer.json(), url).toMatchObject({ code, details: { field } });
    }
    for (const url of [
      '/api/insights/flows',
      '/api/insights/flows?figure=nope',
      '/api/insights?from=2026-01-01T00:00',
    ]) {
      const answer = await get(DESK, url);
      expect(answer.statusCode, url).toBe(400);
      expect(answer.json().code, url).toBe('REQUEST_INVALID');
    }
  });

  it('answers parallel requests of different viewers each with their own scope', async () => {
    const who = [HOSPITAL_ADMIN, OTHER_ADMIN, DESK];
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => who[i % 3] ?? DESK).map(async (viewer) => ({
        viewer,
        body: await figures(viewer),
      })),
    );
    for (const { viewer, body } of answers)
      expect(started(body), viewer).toBe(viewer === DESK ? started(await figures(DESK)) : 1);
  });

  it('counts raised codes and ended flows in /metrics, with the station and the agent version', async () => {
    const admin2 = new Page(h);
    await admin2.login(ADMIN2_CARD);
    await admin2.start();
    await admin2.action('manage-orders');
    await admin2.api('POST', `/api/flows/${admin2.flowId}/search`, { query: 'abc1' });
    const restarted = await admin2.api('POST', `/api/flows/${admin2.flowId}/restart`);
    expect(restarted.status).toBe(200);
    const metrics = await h.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${OPERATIONS_TOKEN}` },
    });
    const labels = `station="${h.stationId}",agent_version="0.1.0"`;
    expect(metrics.body).toContain(`reservkort_flow_codes_total{code="HSA_ID_INCOMPLETE",${labels}} 1`);
    expect(metrics.body).toContain(`reservkort_flows_ended_total{outcome="aborted",${labels}} 1`);
    // The flow recorded its agent from the station's readers statement at its start.
    const desk = await figures(DESK, `?station=${h.stationId}&code=HSA_ID_INCOMPLETE`);
    expect(desk.byAgent).toContainEqual({
      version: '0.1.0',
      packaging: 'test',
      flows: 2,
      failed: 1,
      rate: 0.5,
    });
  });
});
