// The card-station routes under parallel requests, over HTTP on both dialects: the same statement
// (same nonce, same sequence number) sent six times at once is accepted once and refused five
// times with a catalogue code; the flow's version moves once, its timeline and the audit log gain
// one entry, the nonce rotates once. Parallel registrations of one key make one station with one
// good certificate (as the store and the real `reservkort cert list` show): the copies that race
// are refused, one arriving after a commit renews, and every replaced certificate is revoked.
// Parallel revocations revoke once.
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ErrorCode, isErrorCode, type SignedStatement } from '@reservkort/domain';
import { getFlow, getStation, listAudit } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { statusOf } from '../http/api-error.js';
import type { ApiAnswer } from '../test-support/durable-page.js';
import {
  ADMIN2,
  ADMIN2_CARD,
  ANNA_PNR,
  CARD_PINS,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { payloadOf } from '../test-support/station-agent.js';
import { stationCsr } from './station-key.js';

const run = promisify(execFile);
const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;
/** How many copies of one request are sent at once. */
const N = 6;

const copies = <T>(send: () => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: N }, send));

/** Exactly one answer with `status`; every other one a 4xx with a catalogue code of `codes`. */
const oneAccepted = <T extends { status: number; body: any }>(
  answers: readonly T[],
  status: number,
  codes: readonly ErrorCode[],
): T => {
  const accepted = answers.filter((a) => a.status === status);
  expect(accepted, JSON.stringify(answers.map((a) => [a.status, a.body?.code]))).toHaveLength(1);
  for (const refused of answers.filter((a) => a.status !== status)) {
    expect(isErrorCode(refused.body?.code), JSON.stringify(refused.body)).toBe(true);
    expect(codes, JSON.stringify(refused.body)).toContain(refused.body.code);
    expect(refused.status).toBe(statusOf(refused.body.code));
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
  }
  return accepted[0] as T;
};

const newKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
const csrOf = async (pem: string) => Buffer.from(await stationCsr(pem)).toString('base64');

describe.each(DIALECTS)('the card-station routes under parallel requests on %s', (dialect) => {
  let h: Harness;
  let page: Page;
  let data = '';

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    page = new Page(h);
    data = await mkdtemp(join(tmpdir(), 'reservkort-parallel-'));
  });
  afterAll(async () => {
    await h?.dispose();
    await rm(data, { recursive: true, force: true });
  });

  const db = () => h.t.store.db;
  /** What one accepted statement must move exactly once: version, nonce, timeline, audit. */
  const flowFacts = async (flowId: string) => {
    const flow = await getFlow(db(), flowId);
    if (flow === null) throw new Error(`no flow ${flowId}`);
    const audit = (await listAudit(db(), { limit: 100_000 })).filter((e) => e.subject === flowId);
    return {
      version: flow.version,
      nonce: flow.stationNonce,
      timeline: (flow.state as { timeline: { event: string }[] }).timeline.map((e) => e.event),
      audit: audit.map((e) => e.action),
      cardKeys: flow.cardKeys,
    };
  };
  const lastSeq = async () => (await getStation(db(), h.stationId))?.lastSeq ?? -1;

  /**
   * Sends one statement N times at once to a flow route, and checks that it moved the flow once:
   * the version by one, one timeline and one audit entry for each of its `events`, the nonce to the
   * accepted answer's, and the station's sequence number to the statement's.
   */
  const once = async (
    url: string,
    body: Record<string, unknown>,
    statement: SignedStatement,
    events: string | readonly string[],
    codes: readonly ErrorCode[],
  ): Promise<ApiAnswer> => {
    const each = typeof events === 'string' ? [events] : events;
    const before = await flowFacts(page.flowId);
    const answers = await copies(() => page.api('POST', url, body));
    const accepted = oneAccepted(answers, 200, codes);
    const after = await flowFacts(page.flowId);
    expect(after.version).toBe(before.version + 1);
    expect(after.timeline.slice(before.timeline.length)).toEqual(each);
    expect(after.audit.slice(before.audit.length)).toEqual(each.map((event) => `flow.${event}`));
    expect(after.nonce).not.toBe(before.nonce);
    expect(after.nonce).toBe(accepted.body.stationNonce);
    expect(await lastSeq()).toBe(payloadOf(statement).seq);
    page.stationNonce = after.nonce;
    return accepted;
  };

  it('login: one challenge and statement sent six times opens one session', async () => {
    const sessions = async () =>
      (await db().selectFrom('sessions').select('id').where('admin_hsa_id', '=', ADMIN2).execute()).length;
    const before = await sessions();
    const { cards, agent, agentToken } = h;
    await cards.insertCard('reader-1', ADMIN2_CARD);
    await agent.bind(agentToken, 'reader-1');
    const challenge = (await page.api('POST', '/api/auth/challenge')).body;
    const started = await agent.authenticate(
      agentToken,
      'reader-1',
      Buffer.from(challenge.challenge, 'base64'),
      null,
    );
    const done = await completeWithPins(agent, started, [CARD_PINS.pin1]);
    const body = {
      challengeId: challenge.challengeId,
      ...(done.result as { signature: string; certificate: string }),
      readers: await agent.statement(agentToken, {
        flowId: challenge.challengeId,
        nonce: challenge.stationNonce,
        kind: 'readers',
      }),
    };
    const answers = await copies(async () => {
      const response = await fetch(`${h.baseUrl}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return {
        status: response.status,
        body: await response.json(),
        cookies: response.headers.getSetCookie(),
      };
    });
    oneAccepted(answers, 200, ['LOGIN_FAILED']);
    expect(await sessions()).toBe(before + 1);
    // The page carries on with a session of its own (the statement above is spent).
    await cards.removeCard('reader-1');
    expect((await page.login(ADMIN2_CARD)).status).toBe(200);
  });

  it('POST /api/flows/start: six reservations at once are six flow ids and nonces, each started once', async () => {
    const answers = await copies(() => page.api('POST', '/api/flows/start'));
    for (const answer of answers) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const ids = new Set(answers.map((a) => a.body.flowId));
    const nonces = new Set(answers.map((a) => a.body.stationNonce));
    expect(ids.size).toBe(N);
    expect(nonces.size).toBe(N);
    // Each reservation starts one flow, with its own nonce; used again, it starts nothing.
    for (const reserved of answers.slice(0, 2)) {
      const readers = await h.agent.statement(h.agentToken, {
        flowId: reserved.body.flowId,
        nonce: reserved.body.stationNonce,
        kind: 'readers',
      });
      const started = await page.api('POST', '/api/flows', { flowId: reserved.body.flowId, readers });
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      const again = await page.api('POST', '/api/flows', { flowId: reserved.body.flowId, readers });
      expect(again.status).toBeGreaterThanOrEqual(400);
      expect(again.status).toBeLessThan(500);
      expect(isErrorCode(again.body.code)).toBe(true);
    }
  });

  it('POST /api/flows: one reservation and readers statement sent six times starts one flow', async () => {
    const reserved = await page.api('POST', '/api/flows/start');
    const flowId = reserved.body.flowId as string;
    const readers = await h.agent.statement(h.agentToken, {
      flowId,
      nonce: reserved.body.stationNonce,
      kind: 'readers',
    });
    const answers = await copies(() => page.api('POST', '/api/flows', { flowId, readers }));
    const accepted = oneAccepted(answers, 200, ['EVENT_OUT_OF_ORDER']);
    page.flowId = flowId;
    page.stationNonce = accepted.body.stationNonce;
    const flow = await flowFacts(flowId);
    expect(flow).toMatchObject({ version: 1, nonce: accepted.body.stationNonce });
    expect(flow.audit).toEqual(['flow.logged-in']);
    expect(flow.timeline.filter((e) => e === 'logged-in')).toHaveLength(1);
    expect((await getFlow(db(), flowId))?.stationId).toBe(h.stationId);
    expect(await lastSeq()).toBe(payloadOf(readers).seq);
    const flows = await db().selectFrom('flows').select('id').where('id', '=', flowId).execute();
    expect(flows).toHaveLength(1);
  });

  it('SIGNERA: one signature and readers statement sent six times signs once', async () => {
    expect((await page.action('manage-orders')).body.view.step).toBe(2);
    const search = await page.api('POST', `/api/flows/${page.flowId}/search`, { query: ANNA_PNR });
    expect(search.body.raised).toEqual([]);
    expect((await page.action('order-selected')).body.view.step).toBe(3);
    const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2);
    const accepted = await once(
      `/api/flows/${page.flowId}/sign`,
      signature,
      signature.readers as SignedStatement,
      'signed',
      ['SIGNATURE_INVALID'],
    );
    expect(accepted.body.view.step).toBe(4);
    const order = await db()
      .selectFrom('orders')
      .select(['state', 'version'])
      .where('id', '=', 'order-anna')
      .executeTakeFirst();
    expect(order?.state).toBe('in_progress');
  });

  it('agent-events: one card-inserted statement sent six times is applied once', async () => {
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const seq = agentLogSeq(h, 'card-inserted');
    const statement = await page.statement('event', { eventSeq: seq });
    await once(`/api/flows/${page.flowId}/agent-events`, { statement }, statement, 'card-inserted', [
      'STATEMENT_INVALID',
      'ORDER_STATE_CONFLICT',
    ]);
    // The spent statement later: its nonce moved on.
    const late = await page.api('POST', `/api/flows/${page.flowId}/agent-events`, { statement });
    expect(late.body).toMatchObject({ code: 'STATEMENT_INVALID', details: { reason: 'nonce' } });
  });

  it('handover: BEKRÄFTA ÖVERLÄMNING with one card proof, sent six times, confirms and verifies once', async () => {
    const proof = await page.statement('card-proof', { reader: 2 });
    const accepted = await once(
      `/api/flows/${page.flowId}/handover`,
      { proof, confirmed: true },
      proof,
      ['handover-confirmed', 'handover-verified'],
      ['STATEMENT_INVALID', 'ORDER_STATE_CONFLICT'],
    );
    expect(accepted.body.view.step).toBe(5);
  });

  it('keys: the events before them in one statement, then one keys-generated statement, each sent six times, are taken once', async () => {
    await page.action('terms-accepted', { accepted: true });
    expect((await page.action('download-requested')).body.raised).toEqual([]);
    await h.agent.bind(h.agentToken, 'reader-2');
    // Only the enrolment's events (SIGNERA's dialogs were the order signature's).
    let enrolFrom = 0;
    h.agent.subscribe((e) => {
      enrolFrom = Math.max(enrolFrom, e.seq);
    }, 0)();
    const enrol = await h.agent.enrol(h.agentToken, 'reader-2', page.flowId);
    const enrolled = await completeWithPins(h.agent, enrol, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
    expect(enrolled.state).toBe('done');
    const events: { seq: number; type: string }[] = [];
    h.agent.subscribe((e) => {
      if (e.type === 'flow' && e.flowId === page.flowId && e.seq > enrolFrom)
        events.push({ seq: e.seq, type: e.event.type });
    }, 0)();
    let keysSent = false;
    // The events before the keys in one statement, sent six times: taken once, all of them.
    const keysAt = events.findIndex((event) => event.type === 'keys-generated');
    const first = events.slice(0, keysAt);
    expect(first.length).toBeGreaterThan(1);
    const together = await page.statement('events', { eventSeqs: first.map((event) => event.seq) });
    await once(
      `/api/flows/${page.flowId}/agent-events`,
      { statement: together },
      together,
      first.map((event) => event.type),
      ['STATEMENT_INVALID', 'ORDER_STATE_CONFLICT'],
    );
    for (const event of events.slice(keysAt)) {
      if (event.type !== 'keys-generated') {
        const relayed = await page.relaySeq(event.seq);
        expect(relayed.status, JSON.stringify([events, relayed.body])).toBe(200);
        continue;
      }
      const statement = await page.statement('keys-generated', { reader: 2 });
      const accepted = await once(
        `/api/flows/${page.flowId}/keys`,
        { statement },
        statement,
        'keys-generated',
        ['STATEMENT_INVALID', 'ORDER_STATE_CONFLICT'],
      );
      expect(accepted.body.view.step).toBe(6);
      keysSent = true;
    }
    expect(keysSent).toBe(true);
    const csrs = enrolled.result as { authCsr: string; signCsr: string };
    expect((await flowFacts(page.flowId)).cardKeys).not.toBeNull();
    // The flow goes on: the keys the card vouched for are certified.
    const issued = await page.api('POST', `/api/flows/${page.flowId}/certificates`, csrs);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  });

  const stationCertificates = async () =>
    db()
      .selectFrom('certificates')
      .select('serial')
      .where('profile', '=', 'station')
      .execute()
      .then((rows) => rows.map((r) => r.serial));
  const stationsWithKey = async (spki: string) =>
    db()
      .selectFrom('stations')
      .select(['id', 'certificate_serial', 'status'])
      .where('spki', '=', spki)
      .execute();
  const revoked = async (serial: string) =>
    (await db().selectFrom('revocations').select('reason').where('serial', '=', serial).execute()).map(
      (r) => r.reason,
    );
  const spkiOf = (pem: string) =>
    createPublicKey(pem).export({ format: 'der', type: 'spki' }).toString('base64');

  /**
   * Six copies of one registration at once. Those that read the key's station before another copy
   * committed race for it: one commits, the others are refused and record nothing. A copy that
   * arrives after a commit finds the key's active station and renews it, as registering a key again
   * does: its predecessor's certificate is revoked as superseded. So: one station, one good
   * certificate (the station's), and every other certificate a copy made revoked.
   */
  const sameRegistration = async (key: string, station: { id: string; serial: string } | null) => {
    const csr = await csrOf(key);
    const before = await stationCertificates();
    const actions = async (id: string | undefined) =>
      (await listAudit(db(), { limit: 100_000 }))
        .filter((e) => e.subject === id && e.action.startsWith('station.'))
        .map((e) => e.action);
    const auditBefore = await actions(station?.id);
    const answers = await copies(() =>
      page.api('POST', '/api/stations', { csr, name: 'Disk parallell', branchId: 'clinic' }),
    );
    const accepted = answers.filter((a) => a.status === 201);
    expect(accepted.length, JSON.stringify(answers.map((a) => [a.status, a.body?.code]))).toBeGreaterThan(0);
    for (const refused of answers.filter((a) => a.status !== 201)) {
      expect(refused.body?.code, JSON.stringify(refused.body)).toBe('REQUEST_INVALID');
      expect(refused.status).toBe(statusOf('REQUEST_INVALID'));
    }
    // One registration at most, every other acceptance a renewal of its station.
    const stationId = station?.id ?? accepted.find((a) => a.body.renewed === false)?.body.stationId;
    expect(accepted.filter((a) => a.body.renewed === false)).toHaveLength(station === null ? 1 : 0);
    for (const answer of accepted) expect(answer.body.stationId).toBe(stationId);
    const stations = await stationsWithKey(spkiOf(key));
    expect(stations).toEqual([{ id: stationId, certificate_serial: expect.any(String), status: 'active' }]);
    const current = stations[0]?.certificate_serial ?? '';
    // One certificate per acceptance, and only the station's is good.
    const fresh = (await stationCertificates()).filter((s) => !before.includes(s));
    expect(fresh).toHaveLength(accepted.length);
    expect(fresh).toContain(current);
    for (const serial of fresh)
      expect(await revoked(serial), serial).toEqual(serial === current ? [] : ['superseded']);
    if (station !== null) expect(await revoked(station.serial)).toEqual(['superseded']);
    // One audit entry per acceptance: the registration, then each renewal.
    const renewals = accepted.filter((a) => a.body.renewed === true).length;
    expect((await actions(stationId)).slice(auditBefore.length).sort()).toEqual(
      [
        ...(station === null ? ['station.registered'] : []),
        ...Array.from({ length: renewals }, () => 'station.renewed'),
      ].sort(),
    );
    return { stationId: stationId as string, current, before };
  };

  it('POST /api/stations: one CSR sent six times registers one station with one good certificate', async () => {
    const { current, before } = await sameRegistration(newKeyPem(), null);
    // As the CA operator lists them: of the station certificates made now, the station's is good.
    const listed = await run(process.execPath, [BIN, '--data', data, 'cert', 'list', '--json'], {
      env: { ...process.env, DATABASE_URL: h.t.store.url },
      timeout: 60_000,
    });
    const rows = (JSON.parse(listed.stdout) as { serial: string; profile: string; status: string }[]).filter(
      (r) => r.profile === 'station' && !before.includes(r.serial),
    );
    expect(rows.filter((r) => r.status === 'good')).toEqual([
      expect.objectContaining({ serial: current, status: 'good' }),
    ]);
  });

  it('renewal: the same key registered again six times at once leaves one good certificate', async () => {
    const key = newKeyPem();
    const first = await sameRegistration(key, null);
    // A new CSR of the same key, sent six times: what an agent renewing its certificate sends.
    await sameRegistration(key, { id: first.stationId, serial: first.current });
  });

  it('revoke: six revocations of one station at once revoke it and its certificate once', async () => {
    const registered = await page.api('POST', '/api/stations', {
      csr: await csrOf(newKeyPem()),
      name: 'Disk spärrad',
      branchId: 'clinic',
    });
    const id = registered.body.stationId as string;
    const answers = await copies(() => page.api('POST', `/api/stations/${id}/revoke`));
    // Revoking a revoked station changes nothing and says so: every answer shows it revoked.
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toMatchObject({ id, status: 'revoked' });
    }
    const station = await getStation(db(), id);
    expect(station?.status).toBe('revoked');
    expect(await revoked(station?.certificateSerial ?? '')).toEqual(['cessationOfOperation']);
    const audit = await listAudit(db(), { limit: 100_000 });
    expect(audit.filter((e) => e.action === 'station.revoked' && e.subject === id)).toHaveLength(1);
    expect(
      audit.filter((e) => e.action === 'certificate.revoked' && e.subject === station?.certificateSerial),
    ).toHaveLength(1);
  });
});

/** The seq of the latest event of this type in the agent's log. */
function agentLogSeq(h: Harness, type: string): number {
  const seqs: number[] = [];
  h.agent.subscribe((e) => {
    if (e.type === type) seqs.push(e.seq);
  }, 0)();
  const seq = seqs.at(-1);
  if (seq === undefined) throw new Error(`no ${type} in the agent's log`);
  return seq;
}
