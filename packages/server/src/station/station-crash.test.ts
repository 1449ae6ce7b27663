// Acceptance: SIGKILL of a real `reservkort serve` a few milliseconds into each card-station route
// (station registration, POST /api/flows/start, POST /api/flows, agent-events (one event, and
// several in one statement), handover (with its click), keys, and the support case a station files
// before login), on one SQLite data folder with one workstation whose agent is a registered station. After each
// restart the state is before or after the request, never half: no station certificate without
// its station row (or else revoked), no station nonce or sequence number spent without its event;
// the flow goes on (the same request sent again, or, once it was applied, refused with a clear code
// and the next step taken), and at the end `reservkort audit verify` passes.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { AgentEvent } from '@reservkort/agent';
import type { SignedStatement } from '@reservkort/domain';
import {
  appendAudit,
  getFlow,
  getStation,
  listAudit,
  listUnheldStationCertificates,
  renewStation,
} from '@reservkort/store';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../cli/ca-context.js';
import { crashScaffolding } from '../test-support/crash-scaffolding.js';
import {
  addReserveCard,
  auditVerifiedOffline,
  openFolderCa,
  RECIPIENTS,
} from '../test-support/durable-fixture.js';
import type { ApiAnswer, DurablePage } from '../test-support/durable-page.js';
import { prepareOrderSignature, sendOrderSignature } from '../test-support/durable-walk.js';
import { ADMIN2, ADMIN2_CARD, completeWithPins, RESERVE_PINS } from '../test-support/issuance-harness.js';
import { payloadOf } from '../test-support/station-agent.js';
import { STATION_VALIDITY_MS } from './station.service.js';
import { stationCsr } from './station-key.js';

const anna = RECIPIENTS.anna;
const newKeyPem = () =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .privateKey.export({ format: 'pem', type: 'pkcs8' })
    .toString();
const spkiOf = (pem: string) =>
  createPublicKey(pem).export({ format: 'der', type: 'spki' }).toString('base64');
const csrOf = async (pem: string) => Buffer.from(await stationCsr(pem)).toString('base64');

/**
 * How far into a request the server is killed: a little later each time, until a kill finds the
 * request committed (the first ones land in its checks or its transaction, or before it arrives).
 */
const KILL_AFTER_MS = [5, 30, 90] as const;
/** For each route, how many ms in a kill first found it committed ('never': none of them did). */
type Outcome = (typeof KILL_AFTER_MS)[number] | 'never';

describe('SIGKILL in the card-station routes (SQLite data folder, real server processes)', () => {
  const crash = crashScaffolding();

  // Dozens of server processes started and killed in turn: 40 s on a quiet machine, minutes on two
  // busy cores.
  it('killed a few ms into each route, restarted: before or after, never half; the flow goes on', async () => {
    const seeded = await crash.seededWorkstation('reservkort-station-crash-', [anna]);
    const { folder, ws } = seeded;
    await addReserveCard(ws, anna);
    const stationId = ws.agent.stationView(ws.agentToken).stationId ?? '';
    expect(stationId).toMatch(/^st-/);
    const served = await crash.served(seeded);
    const { page } = served;
    const db = served.store.db;
    const outcomes: Record<string, Outcome> = {};

    /**
     * Sends a request, kills the server `afterMs` into it, and starts another on the same folder:
     * the answer if one came before the kill, else the error the page saw.
     */
    const killedInto = async (
      send: () => Promise<ApiAnswer>,
      afterMs: number,
    ): Promise<ApiAnswer | Error> => {
      const answer = await served.killedInto(send, afterMs);
      // A relying party fetches the card bureau CA's CRL (the station certificates' CA): the new
      // server opens that CA for it, as for any station statement.
      const crl = await fetch(`${served.server.url}/pki/crl/bureau.crl`);
      expect(crl.status).toBe(200);
      expect((await crl.arrayBuffer()).byteLength).toBeGreaterThan(0);
      // An answer that came before the kill is the request done: it says so.
      if (!(answer instanceof Error)) expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(500);
      // The page's session checked by the new server (once logged in), as by any page's next request:
      // the station routes killed next read the session with the station, in their own transaction.
      await page.api('GET', '/api/auth/me');
      return answer;
    };

    /** Every station certificate is its station's current one, or revoked; no station lacks its own. */
    const stationCertificatesHeld = async () => {
      const certificates = await db
        .selectFrom('certificates as c')
        .leftJoin('revocations as r', 'r.serial', 'c.serial')
        .select(['c.serial', 'r.reason'])
        .where('c.profile', '=', 'station')
        .execute();
      const stations = await db
        .selectFrom('stations')
        .select(['id', 'certificate_serial', 'status'])
        .execute();
      const current = new Set(stations.map((s) => s.certificate_serial));
      for (const certificate of certificates)
        if (!current.has(certificate.serial))
          expect(certificate.reason, `${certificate.serial}: no station holds it`).not.toBeNull();
      const known = new Set(certificates.map((c) => c.serial));
      for (const station of stations) expect(known.has(station.certificate_serial), station.id).toBe(true);
      return certificates.map((c) => c.serial);
    };

    const flowFacts = async (flowId: string) => {
      const flow = await getFlow(db, flowId);
      const audit = (await listAudit(db, { limit: 100_000 })).filter((e) => e.subject === flowId);
      return {
        exists: flow !== null,
        version: flow?.version ?? 0,
        nonce: flow?.stationNonce ?? '',
        timeline: ((flow?.state as { timeline?: { event: string }[] })?.timeline ?? []).map((e) => e.event),
        audit: audit.map((e) => e.action),
      };
    };
    const lastSeq = async () => (await getStation(db, stationId))?.lastSeq ?? -1;

    /**
     * A flow statement killed in flight, a little later each time until a kill lands after its
     * commit: each time applied with everything it moves (version, nonce, the station's sequence
     * number, one timeline and one audit entry for each of its events), or nothing of it. The page reloads the flow after
     * each restart and sends the same statement again at the next kill; once it was applied, the
     * statement is refused for its spent nonce and nothing moves.
     */
    const statementKilled = async (
      name: string,
      url: string,
      body: Record<string, unknown>,
      statement: SignedStatement,
      events: string | readonly string[],
    ): Promise<void> => {
      const each = typeof events === 'string' ? [events] : events;
      const first = await flowFacts(page.flowId);
      const count = (facts: typeof first) => facts.timeline.filter((e) => e === each[0]).length;
      const seq = payloadOf(statement).seq;
      let after = first;
      for (const afterMs of KILL_AFTER_MS) {
        await killedInto(() => page.api('POST', url, body), afterMs);
        after = await flowFacts(page.flowId);
        // The page reloads: the flow and the nonce the station's next statement must carry.
        const view = await page.view();
        expect(view.status, JSON.stringify(view.body)).toBe(200);
        expect(page.stationNonce).toBe(after.nonce);
        if (after.version === first.version) {
          expect(after, `${name} killed ${afterMs} ms in`).toEqual(first);
          expect(await lastSeq()).toBeLessThan(seq);
          continue;
        }
        outcomes[name] = afterMs;
        expect(after.version).toBe(first.version + 1);
        expect(after.nonce).not.toBe(first.nonce);
        expect(after.timeline.slice(first.timeline.length)).toEqual(each);
        expect(after.audit).toEqual([...first.audit, ...each.map((event) => `flow.${event}`)]);
        expect(await lastSeq()).toBe(seq);
        break;
      }
      const again = await page.api('POST', url, body);
      if (after.version === first.version) {
        // No kill landed after the commit: the statement still goes through, once.
        outcomes[name] = 'never';
        expect(again.status, JSON.stringify(again.body)).toBe(200);
        expect(count(await flowFacts(page.flowId))).toBe(count(first) + 1);
        return;
      }
      expect(again.body).toMatchObject({ code: 'STATEMENT_INVALID', details: { reason: 'nonce' } });
      expect(await flowFacts(page.flowId)).toEqual(after);
    };

    // --- Login on the first server. ----------------------------------------------------------------
    expect((await page.login(ADMIN2_CARD)).status).toBe(200);

    // --- Station registration, then its renewal with the same key. ----------------------------
    const stationKey = newKeyPem();
    const registration = { csr: await csrOf(stationKey), name: 'Disk 2', branchId: 'clinic' };
    const keyStations = () =>
      db
        .selectFrom('stations')
        .select(['id', 'certificate_serial'])
        .where('spki', '=', spkiOf(stationKey))
        .execute();
    const certificatesBefore = await stationCertificatesHeld();
    for (const afterMs of KILL_AFTER_MS) {
      await killedInto(() => page.api('POST', '/api/stations', registration), afterMs);
      const registered = await keyStations();
      const fresh = (await stationCertificatesHeld()).filter((s) => !certificatesBefore.includes(s));
      expect(registered.length).toBeLessThanOrEqual(1);
      expect(fresh).toEqual(registered.map((s) => s.certificate_serial));
      if (registered.length === 1) {
        outcomes.registration = afterMs;
        break;
      }
    }
    if (outcomes.registration === undefined) {
      outcomes.registration = 'never';
      const registered = await page.api('POST', '/api/stations', registration);
      expect(registered.status, JSON.stringify(registered.body)).toBe(201);
      expect(registered.body.renewed).toBe(false);
    }
    const [station] = await keyStations();
    if (station === undefined) throw new Error('the station was registered');
    // Renewed: the station keeps its id, and the certificate it held is revoked as superseded.
    for (const afterMs of KILL_AFTER_MS) {
      await killedInto(() => page.api('POST', '/api/stations', registration), afterMs);
      const [now] = await keyStations();
      expect(now?.id).toBe(station.id);
      await stationCertificatesHeld();
      if (now?.certificate_serial !== station.certificate_serial) {
        outcomes.renewal = afterMs;
        break;
      }
    }
    const renewed = await page.api('POST', '/api/stations', registration);
    expect(renewed.status, JSON.stringify(renewed.body)).toBe(201);
    expect(renewed.body).toMatchObject({ stationId: station.id, renewed: true });
    outcomes.renewal ??= 'never';
    await stationCertificatesHeld();

    // --- POST /api/flows/start. ----------------------------------------------------------------------
    const reservations = () =>
      db
        .selectFrom('login_challenges')
        .select('id')
        .where('challenge', 'like', '%flow-start%')
        .execute()
        .then((rows) => rows.length);
    // A reservation is one row: there, or not (the page, without its answer, asks for another).
    for (const afterMs of KILL_AFTER_MS) {
      const before = await reservations();
      await killedInto(() => page.api('POST', '/api/flows/start'), afterMs);
      const made = (await reservations()) - before;
      expect([0, 1]).toContain(made);
      if (made === 1) {
        outcomes.reserve = afterMs;
        break;
      }
    }
    outcomes.reserve ??= 'never';

    // --- POST /api/flows on a reservation made on the restarted server. ----------------------------
    const reserved = await page.api('POST', '/api/flows/start');
    expect(reserved.status, JSON.stringify(reserved.body)).toBe(200);
    const flowId = reserved.body.flowId as string;
    page.flowId = flowId;
    const readers = await page.statement('readers');
    const seqBefore = await lastSeq();
    for (const afterMs of KILL_AFTER_MS) {
      await killedInto(() => page.api('POST', '/api/flows', { flowId, readers }), afterMs);
      const started = await flowFacts(flowId);
      if (!started.exists) {
        expect(started.audit).toEqual([]);
        expect(await lastSeq()).toBe(seqBefore);
        continue;
      }
      outcomes.start = afterMs;
      expect(started).toMatchObject({ version: 1, audit: ['flow.logged-in'] });
      expect(started.nonce).not.toBe(reserved.body.stationNonce);
      expect(await lastSeq()).toBe(payloadOf(readers).seq);
      // The statement again: its flow is there, and the page is told to reload it.
      const resent = await page.api('POST', '/api/flows', { flowId, readers });
      expect(resent.body).toMatchObject({
        code: 'EVENT_OUT_OF_ORDER',
        details: { reason: 'flow already started' },
      });
      expect((await page.view()).body.view.step).toBe(1);
      break;
    }
    if (outcomes.start === undefined) {
      outcomes.start = 'never';
      const resent = await page.api('POST', '/api/flows', { flowId, readers });
      expect(resent.status, JSON.stringify(resent.body)).toBe(200);
    }
    expect(page.stationNonce).toBe((await flowFacts(flowId)).nonce);

    // --- Steps 2 and 3 on the restarted server. ----------------------------------------------------
    expect((await page.action('manage-orders')).body.view.step).toBe(2);
    const search = await page.api('POST', `/api/flows/${flowId}/search`, { query: anna.pnr });
    expect(search.body.review?.cardNumber, JSON.stringify(search.body)).toBe(anna.reserveCard);
    expect((await page.action('order-selected')).body.view.step).toBe(3);
    const signed = await sendOrderSignature(page, await prepareOrderSignature(page));
    expect(signed.body.view?.step, JSON.stringify(signed.body)).toBe(4);

    // --- Agent event: the reserve card inserted in reader 2. ----------------------------------------
    const { cards, agent, agentToken } = ws;
    await cards.insertCard('reader-2', anna.reserveCard);
    const inserted = agentLog(ws.agent)
      .filter((e) => e.type === 'card-inserted')
      .at(-1)?.seq;
    if (inserted === undefined) throw new Error('no card-inserted in the agent’s log');
    const event = await page.statement('event', { eventSeq: inserted });
    await statementKilled(
      'agent-event',
      `/api/flows/${flowId}/agent-events`,
      { statement: event },
      event,
      'card-inserted',
    );

    // --- Handover: BEKRÄFTA ÖVERLÄMNING with the card's proof, in one request. ----------------------
    const proof = await page.statement('card-proof', { reader: 2 });
    await statementKilled('handover', `/api/flows/${flowId}/handover`, { proof, confirmed: true }, proof, [
      'handover-confirmed',
      'handover-verified',
    ]);
    expect((await page.view()).body.view.step).toBe(5);

    // --- Keys generated on the card. -------------------------------------------------------------
    await page.action('terms-accepted', { accepted: true });
    expect((await page.action('download-requested')).body.raised).toEqual([]);
    await agent.bind(agentToken, 'reader-2');
    const enrolFrom = agentLog(agent).at(-1)?.seq ?? 0;
    const enrol = await agent.enrol(agentToken, 'reader-2', flowId);
    const enrolled = await completeWithPins(agent, enrol, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
    expect(enrolled.state).toBe('done');
    const csrs = enrolled.result as { authCsr: string; signCsr: string };
    const enrolment = agentLog(agent).filter(
      (e): e is Extract<AgentEvent, { type: 'flow' }> =>
        e.type === 'flow' && e.flowId === flowId && e.seq > enrolFrom,
    );
    // The events before the keys in one statement, as a page sends those that queued up.
    const keysAt = enrolment.findIndex((logged) => logged.event.type === 'keys-generated');
    const together = await page.statement('events', {
      eventSeqs: enrolment.slice(0, keysAt).map((logged) => logged.seq),
    });
    await statementKilled(
      'agent-events',
      `/api/flows/${flowId}/agent-events`,
      { statement: together },
      together,
      enrolment.slice(0, keysAt).map((logged) => logged.event.type),
    );
    for (const logged of enrolment.slice(keysAt)) {
      if (logged.event.type !== 'keys-generated') {
        const relayed = await page.relaySeq(logged.seq);
        expect(relayed.status, JSON.stringify(relayed.body)).toBe(200);
        continue;
      }
      const statement = await page.statement('keys-generated', { reader: 2 });
      await statementKilled('keys', `/api/flows/${flowId}/keys`, { statement }, statement, 'keys-generated');
    }
    expect(outcomes.keys).toBeDefined();
    const flow = await getFlow(db, flowId);
    expect(flow?.cardKeys).not.toBeNull();

    // --- The flow goes on: the keys the card vouched for are certified. -----------------------------
    const issued = await page.api('POST', `/api/flows/${flowId}/certificates`, csrs);
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    expect(issued.body.view.step).toBe(6);
    expect(Object.keys(outcomes).sort()).toEqual(
      [
        'agent-event',
        'agent-events',
        'handover',
        'keys',
        'registration',
        'renewal',
        'reserve',
        'start',
      ].sort(),
    );

    // --- A renewal whose process died between its commit and the old certificate's revocation. -----
    // Its committed state, made with the folder's CA as a renewal commits it: the station on a new
    // certificate, the one it replaced still good. The next server revokes that before it answers.
    expect(await served.server.stop()).toBe(0);
    const held = await getStation(db, station.id);
    if (held === null) throw new Error('the station is there');
    const folderCa = await openFolderCa(folder, db, systemClock);
    await folderCa.issueStation({
      csr: Buffer.from(registration.csr, 'base64'),
      stationId: station.id,
      branchId: 'clinic',
      validityMs: STATION_VALIDITY_MS,
      actor: ADMIN2,
      alsoInTransaction: async (trx, certificate) => {
        const renewal = { id: station.id, certificateSerial: certificate.serial, name: 'Disk 2' };
        expect(await renewStation(trx, { ...renewal, previousSerial: held.certificateSerial })).toBe(true);
        await appendAudit(trx, {
          at: Date.now(),
          actor: ADMIN2,
          action: 'station.renewed',
          subject: station.id,
          details: { branch: 'clinic', name: 'Disk 2', serial: certificate.serial },
        });
      },
    });
    await folderCa.close();
    expect(await listUnheldStationCertificates(db)).toEqual([held.certificateSerial]);
    await served.restart();
    expect(await listUnheldStationCertificates(db)).toEqual([]);
    const superseded = await db
      .selectFrom('revocations')
      .select('reason')
      .where('serial', '=', held.certificateSerial)
      .executeTakeFirst();
    expect(superseded?.reason).toBe('superseded');
    await stationCertificatesHeld();

    // --- Skicka felanmälan before login (READERS_MISSING), killed in flight. -----------------------
    // The case, its audit entry and the spent challenge commit together: after each kill there is
    // either no new case and the challenge still files one, or the case with its audit entry and
    // the challenge spent.
    await ws.cards.unplugReader('reader-2');
    const beforeLogin = (path: string, body?: unknown) => async (): Promise<ApiAnswer> => {
      const { url } = served.server;
      const answer = await fetch(`${url}/api/support/cases/before-login${path}`, {
        method: 'POST',
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return { status: answer.status, body: await answer.json(), server: url };
    };
    const stationCases = async () => {
      const cases = await db
        .selectFrom('support_cases')
        .select('id')
        .where('reported_by', '=', stationId as `st-${string}`)
        .execute();
      const audited = (await listAudit(db, { limit: 100_000 })).filter(
        (e) => e.action === 'support.case-created' && e.actor === stationId,
      );
      return { cases: cases.map((c) => c.id).sort(), audited: audited.map((e) => e.subject).sort() };
    };
    for (const afterMs of KILL_AFTER_MS) {
      const challenge = await beforeLogin('/challenge')();
      expect(challenge.status, JSON.stringify(challenge.body)).toBe(200);
      const about = { flowId: challenge.body.challengeId, nonce: challenge.body.stationNonce };
      const body = {
        challengeId: challenge.body.challengeId,
        comment: `killed ${afterMs} ms in`,
        statements: [
          await ws.agent.statement(ws.agentToken, { ...about, kind: 'agent-info' }),
          await ws.agent.statement(ws.agentToken, { ...about, kind: 'readers' }),
        ],
      };
      const first = await stationCases();
      await killedInto(beforeLogin('', body), afterMs);
      const after = await stationCases();
      expect(after.cases).toEqual(after.audited);
      const again = await beforeLogin('', body)();
      if (after.cases.length === first.cases.length) {
        // Nothing committed: the same report files its case now, once.
        expect(again.status, JSON.stringify(again.body)).toBe(201);
        expect((await stationCases()).cases).toHaveLength(first.cases.length + 1);
      } else {
        outcomes['support case before login'] ??= afterMs;
        expect(after.cases).toHaveLength(first.cases.length + 1);
        expect(again.body).toMatchObject({ code: 'STATEMENT_INVALID', details: { reason: 'nonce' } });
        expect((await stationCases()).cases).toEqual(after.cases);
      }
    }
    await ws.cards.plugReader('reader-2');

    // --- The audit log, as the operator checks it, with the server stopped. -------------------------
    expect(await served.server.stop()).toBe(0);
    await auditVerifiedOffline(folder.root);
    // How many ms in a kill first found each request committed, for whoever reads the output.
    console.info('first kill after the commit (ms)', JSON.stringify(outcomes));
  }, 300_000);
});

/** The agent's whole event log, as a page reconnecting to it gets it. */
function agentLog(agent: DurablePage['ws']['agent']): AgentEvent[] {
  const log: AgentEvent[] = [];
  agent.subscribe((e) => log.push(e), 0)();
  return log;
}
