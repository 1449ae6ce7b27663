// A support case holds the card agent's version and the card's certificates only as a registered
// card station signed them for the case's flow, with the flow's current nonce; over HTTP, on both
// dialects. A forged or foreign statement files no case; without statements the agent is unknown.
import { getFlowStationNonce } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { statusOf } from '../http/api-error.js';
import { ADMIN2_CARD, createIssuanceHarness, type Harness } from '../test-support/issuance-harness.js';
import { type ApiAnswer, Page } from '../test-support/page.js';
import { flowStationNonce } from '../test-support/station-agent.js';

const refusedWith = (answer: ApiAnswer, code: string, details: Record<string, unknown> = {}) => {
  expect(answer.body?.code, JSON.stringify(answer.body)).toBe(code);
  expect(answer.status).toBe(statusOf(code as 'STATEMENT_INVALID'));
  expect(answer.body.details).toMatchObject(details);
};

describe.each(DIALECTS)('support cases from signed station statements on %s', (dialect) => {
  let h: Harness;
  let admin2: Page;
  let stationId: string;

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    stationId = h.agent.stationView(h.agentToken).stationId ?? '';
    admin2 = new Page(h);
    expect((await admin2.login(ADMIN2_CARD)).status).toBe(200);
    expect((await admin2.start()).status).toBe(200);
  });
  afterAll(async () => {
    await h?.dispose();
  });

  const casesOfFlow = async () =>
    (
      await h.t.store.db
        .selectFrom('support_cases')
        .select(['id', 'station_id'])
        .where('flow_id', '=', admin2.flowId)
        .execute()
    ).length;
  const agentInfo = async () =>
    h.agent.statement(h.agentToken, {
      flowId: admin2.flowId,
      nonce: await flowStationNonce(h, admin2.flowId),
      kind: 'agent-info',
    });
  const loginCardCertificates = async () =>
    h.agent.statement(h.agentToken, {
      flowId: admin2.flowId,
      nonce: await flowStationNonce(h, admin2.flowId),
      kind: 'card-certificates',
      reader: 1,
    });
  const file = (statements: unknown[]) =>
    admin2.api('POST', '/api/support/cases', {
      flowId: admin2.flowId,
      comment: 'Kortet svarar inte',
      statements,
    });

  it('refuses a forged agent-info statement, or one from an unregistered station; no case is filed', async () => {
    h.agent.simulateStation({ forgedStatement: true });
    refusedWith(await file([await agentInfo()]), 'STATEMENT_INVALID', { reason: 'signature' });
    h.agent.simulateStation({ unregisteredStation: true });
    refusedWith(await file([await agentInfo()]), 'STATION_NOT_REGISTERED');
    h.agent.simulateStation({ unregisteredStation: false });
    // A statement of the station's readers is no statement about the agent.
    const readers = await h.agent.statement(h.agentToken, {
      flowId: admin2.flowId,
      nonce: await flowStationNonce(h, admin2.flowId),
      kind: 'readers',
    });
    refusedWith(await file([readers]), 'STATEMENT_INVALID', { reason: 'kind' });
    expect(await casesOfFlow()).toBe(0);
  });

  it('records the version, the certificates and the station from valid statements, once', async () => {
    const statements = [await agentInfo(), await loginCardCertificates()];
    const nonce = await getFlowStationNonce(h.t.store.db, admin2.flowId);
    // The preview checks them without using them up: the same statements file the case.
    const preview = await admin2.api('POST', '/api/support/cases/preview', {
      flowId: admin2.flowId,
      statements,
    });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.case).toMatchObject({ agentVersion: '0.1.0', agentPackaging: 'test', stationId });
    expect(await getFlowStationNonce(h.t.store.db, admin2.flowId)).toBe(nonce);

    const filed = await file(statements);
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body.case).toMatchObject({ agentVersion: '0.1.0', agentPackaging: 'test', stationId });
    expect(filed.body.case.certificates.length).toBeGreaterThan(0);
    for (const certificate of filed.body.case.certificates) expect(certificate.subject).toContain('Admin');
    expect(
      await h.t.store.db
        .selectFrom('support_cases')
        .select('station_id')
        .where('id', '=', filed.body.id)
        .executeTakeFirst(),
    ).toEqual({ station_id: stationId });
    // The nonce moved on once: the same statements file nothing more.
    expect(await getFlowStationNonce(h.t.store.db, admin2.flowId)).not.toBe(nonce);
    refusedWith(await file(statements), 'STATEMENT_INVALID', { reason: 'nonce' });
    expect(await casesOfFlow()).toBe(1);
  });

  it('without statements says the agent is unknown; what the page asserts is not taken', async () => {
    const filed = await file([]);
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);
    expect(filed.body.case).toMatchObject({
      agentVersion: null,
      agentPackaging: null,
      stationId: null,
      certificates: [],
    });
    // Fields a page once sent about the agent and the card are no longer in the schema: dropped.
    const asserted = await admin2.api('POST', '/api/support/cases', {
      flowId: admin2.flowId,
      agent: { version: '9.9.9', packaging: 'msi' },
      certificatesOnCard: [
        {
          subject: 'CN=x',
          issuer: 'CN=y',
          serial: '01',
          notBefore: '',
          notAfter: '',
          keyUsage: [],
          policies: [],
        },
      ],
      cardCertificates: ['AAAA'],
    });
    expect(asserted.status, JSON.stringify(asserted.body)).toBe(201);
    expect(asserted.body.case).toMatchObject({ agentVersion: null, stationId: null, certificates: [] });
  });
});
