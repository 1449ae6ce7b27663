// A station event reads the request's session and the flow in the flow's transaction, with the
// station's sequence number raised beside them. Every session the event must not pass is refused
// as on every other route, with the same code, and the raise goes back with the transaction: the
// statement is still good for the session it was meant for. On PostgreSQL the event takes two round
// trips: the session, the flow, the station and its raise in one, the change and its commit in one.
// Only a session the server has let through before is read that way: a stranger's cookie is refused
// after one read, before any transaction.
import type { AgentEvent } from '@reservkort/agent';
import type { CardNumber, SignedStatement } from '@reservkort/domain';
import { getStation } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { DEFAULT_SESSION_SETTINGS } from '../auth/session.js';
import { type Answer, Client, cardIn, emptyReader } from '../test-support/acceptance-client.js';
import {
  ADMIN1_CARD,
  ADMIN2_CARD,
  createIssuanceHarness,
  type Harness,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { writesToPostgres } from '../test-support/postgres-writes.js';
import { flowStationNonce } from '../test-support/station-agent.js';
import { giveTestBureauKeys } from '../test-support/test-station.js';

const RESERVE_CARD = '9752278900000000777' as CardNumber;

describe.each(DIALECTS)('a station event and the session, read in its transaction, on %s', (dialect) => {
  let h: Harness;
  const admin1 = () => new Client(h);
  let admin2: Client;
  let flowId: string;

  beforeAll(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    await h.cards.createCard({ cardNumber: RESERVE_CARD, ...RESERVE_PINS });
    await giveTestBureauKeys(h.cards, h.t.ca);
  }, 60_000);
  afterAll(async () => {
    await h?.dispose();
  });

  /** The latest event of the agent's log: what the station signs for the page to relay. */
  const latestEventSeq = (): number => {
    const log: AgentEvent[] = [];
    h.agent.subscribe((event) => log.push(event), 0)();
    const last = log.at(-1);
    if (last === undefined) throw new Error('the agent logged nothing');
    return last.seq;
  };

  /** A card put in reader 2, and the station's statement of it for the flow's current nonce. */
  const cardEvent = async (): Promise<SignedStatement> => {
    await emptyReader(h, 'reader-2');
    await cardIn(h, 'reader-2', RESERVE_CARD);
    return h.agent.statement(h.agentToken, {
      flowId,
      nonce: await flowStationNonce(h, flowId),
      kind: 'event',
      eventSeq: latestEventSeq(),
    });
  };

  const relay = (client: Client, statement: unknown, options: { csrf?: boolean } = {}): Promise<Answer> =>
    client.post(`/api/flows/${flowId}/agent-events`, { statement }, options);
  const lastSeq = async () => (await getStation(h.t.store.db, h.stationId))?.lastSeq;
  const session = async (client: Client) =>
    h.t.store.db
      .selectFrom('sessions')
      .select(['id', 'last_seen_at', 'ended_at'])
      .where('csrf_token', '=', client.csrf)
      .executeTakeFirstOrThrow();

  it('refuses every session it must not pass with that session’s code, and keeps the statement good', async () => {
    const other = admin1();
    expect((await other.login(ADMIN1_CARD)).status).toBe(200);
    admin2 = new Client(h);
    expect((await admin2.login(ADMIN2_CARD)).status).toBe(200);
    const started = await admin2.startFlow();
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    flowId = started.body.view.flowId;

    const signed = await cardEvent();
    const seq = await lastSeq();
    const notOne = { payload: Buffer.from('not JSON').toString('base64url'), signature: 'AAAA' };
    const refusals: [Answer, number, string][] = [
      [await relay(new Client(h), signed), 401, 'NOT_LOGGED_IN'],
      [await relay(admin2, signed, { csrf: false }), 403, 'CSRF_INVALID'],
      [await relay(other, signed), 403, 'ACCESS_DENIED'],
      // A statement that is not one: the session is still what is refused first.
      [await relay(new Client(h), notOne), 401, 'NOT_LOGGED_IN'],
      [await relay(admin2, notOne), 422, 'STATEMENT_INVALID'],
    ];
    for (const [answer, status, code] of refusals) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(status);
      expect(answer.body.code).toBe(code);
    }
    expect(await lastSeq()).toBe(seq);
    const accepted = await relay(admin2, signed);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(await lastSeq()).toBeGreaterThan(seq ?? 0);
    // Accepted once: the same statement again is refused (its nonce is spent).
    expect((await relay(admin2, signed)).body.code).toBe('STATEMENT_INVALID');
  });

  it('reads the session with the station at handover and keys too: refused as on every route', async () => {
    const other = admin1();
    expect((await other.login(ADMIN1_CARD)).status).toBe(200);
    expect((await admin2.login(ADMIN2_CARD)).status).toBe(200);
    // A genuine statement of the station, well formed: what refuses it is the session, else the flow.
    const proof = await h.agent.statement(h.agentToken, {
      flowId,
      nonce: await flowStationNonce(h, flowId),
      kind: 'card-proof',
      reader: 2,
    });
    for (const [path, body] of [
      ['handover', { proof }],
      ['keys', { statement: proof }],
    ] as const) {
      const url = `/api/flows/${flowId}/${path}`;
      const seq = await lastSeq();
      const refusals: [Answer, number, string][] = [
        [await new Client(h).post(url, body), 401, 'NOT_LOGGED_IN'],
        [await admin2.post(url, body, { csrf: false }), 403, 'CSRF_INVALID'],
        [await other.post(url, body), 403, 'ACCESS_DENIED'],
        // The owner's session passes; a card proof at step 1, or a statement of another kind, does not.
        path === 'handover'
          ? [await admin2.post(url, body), 409, 'EVENT_OUT_OF_ORDER']
          : [await admin2.post(url, body), 422, 'STATEMENT_INVALID'],
      ];
      for (const [answer, status, code] of refusals) {
        expect(answer.body.code, `${path}: ${JSON.stringify(answer.body)}`).toBe(code);
        expect(answer.status).toBe(status);
      }
      expect(await lastSeq()).toBe(seq);
    }
  });

  it('records the session’s activity when it is due, and ends an idle session', async () => {
    h.clock.advance(61_000);
    const touched = await relay(admin2, await cardEvent());
    expect(touched.status, JSON.stringify(touched.body)).toBe(200);
    expect((await session(admin2)).last_seen_at).toBeGreaterThanOrEqual(h.clock.now() - 1000);

    h.clock.advance(DEFAULT_SESSION_SETTINGS.idleMs + 1000);
    const signed = await cardEvent();
    const seq = await lastSeq();
    const idle = await relay(admin2, signed);
    expect(idle.status).toBe(401);
    expect(idle.body).toMatchObject({ code: 'NOT_LOGGED_IN', details: { reason: 'expired' } });
    expect((await session(admin2)).ended_at).not.toBeNull();
    expect(await lastSeq()).toBe(seq);

    // Logged in again, the administrator's statement goes through.
    expect((await admin2.login(ADMIN2_CARD)).status).toBe(200);
    const again = await relay(admin2, await cardEvent());
    expect(again.status, JSON.stringify(again.body)).toBe(200);
  });

  it.runIf(dialect === 'postgres')(
    'takes two round trips to PostgreSQL; a stranger’s cookie one read',
    async () => {
      const signed = await cardEvent();
      // A cookie no server let through: only the session is read, no transaction is opened for it.
      const stranger = new Client(h);
      stranger.cookie = 'A'.repeat(43);
      stranger.csrf = 'B'.repeat(43);
      const refused = await writesToPostgres(() => relay(stranger, signed));
      expect(refused.result.body.code).toBe('NOT_LOGGED_IN');
      expect(refused.writes).toEqual([1]);
      const { result, writes } = await writesToPostgres(() => relay(admin2, signed));
      expect(result.status, JSON.stringify(result.body)).toBe(200);
      expect(writes).toEqual([2]);
    },
  );

  it('ends the session of a revoked login certificate', async () => {
    const signed = await cardEvent();
    const seq = await lastSeq();
    const { id } = await session(admin2);
    const serial = await h.t.store.db
      .selectFrom('sessions')
      .select('certificate_serial')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    await h.t.ca.revoke(serial.certificate_serial, 'keyCompromise', 'operator');
    const refused = await relay(admin2, signed);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('LOGIN_CERTIFICATE_REVOKED');
    expect((await session(admin2)).ended_at).not.toBeNull();
    expect(await lastSeq()).toBe(seq);
  });
});
