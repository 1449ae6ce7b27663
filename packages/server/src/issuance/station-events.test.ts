// Several station events in one statement (`events`), as the page relays what its agent logged
// while its last relay was on the way: each event goes through the domain machine in the order
// stated, all of them in one change of the flow (one version, one nonce), each with its own timeline
// and audit entry naming the station. The statement is taken whole or not at all: one event the
// flow refuses refuses the statement and changes nothing, and the events are still good one by one.
import type { AgentEvent } from '@reservkort/agent';
import type { SignedStatement } from '@reservkort/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { walkTo } from '../test-support/acceptance-flow.js';
import { issueAndWriteCertificates } from '../test-support/durable-walk.js';
import {
  ADMIN1_CARD,
  completeWithPins,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { writesToPostgres } from '../test-support/postgres-writes.js';
import { statementFacts } from '../test-support/statement-facts.js';
import { payloadOf } from '../test-support/station-agent.js';

type FlowLogged = Extract<AgentEvent, { type: 'flow' }>;

describe.each(DIALECTS)('station events in one statement on %s', (dialect) => {
  let h: Harness;
  let page: Page;

  beforeEach(async () => {
    h = await createIssuanceHarness({}, () => ({}), dialect);
    page = new Page(h);
  }, 60_000);
  afterEach(async () => {
    await h?.dispose();
  });

  /** Everything a station statement may move: version, nonce, timeline, audit, the station's seq. */
  const facts = () => statementFacts(h, page.flowId);
  /** The agent's log since `after`: what the page's event stream brings. */
  const logSince = (after: number): AgentEvent[] => {
    const log: AgentEvent[] = [];
    h.agent.subscribe((event) => log.push(event), 0)();
    return log.filter((event) => event.seq > after);
  };
  const lastLogged = () => logSince(0).at(-1)?.seq ?? 0;
  const flowEvents = (after: number): FlowLogged[] =>
    logSince(after).filter((e): e is FlowLogged => e.type === 'flow' && e.flowId === page.flowId);
  const events = (seqs: readonly number[]) => page.statement('events', { eventSeqs: [...seqs] });
  const relayEvents = (statement: SignedStatement) =>
    page.api('POST', `/api/flows/${page.flowId}/agent-events`, { statement });
  /** STARTA NEDLADDNING's card work: keys on the card after PIN 1, the CSRs after PIN 2. */
  const enrol = async () => {
    await h.agent.bind(h.agentToken, 'reader-2');
    const started = await h.agent.enrol(h.agentToken, 'reader-2', page.flowId);
    const done = await completeWithPins(h.agent, started, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
    expect(done.state).toBe('done');
    return done.result as { authCsr: string; signCsr: string };
  };

  it('applies the download’s events in the order stated, in one change, each on the timeline and audited', async () => {
    await walkTo(h, page, 'download-requested');
    const from = lastLogged();
    const csrs = await enrol();
    const logged = flowEvents(from);
    const keysAt = logged.findIndex((e) => e.event.type === 'keys-generated');
    const before = logged.slice(0, keysAt);
    const after = logged.slice(keysAt + 1);
    expect(before.map((e) => e.event.type)).toEqual([
      'key-generation-started',
      'dialog-shown',
      'dialog-completed',
    ]);
    expect(after.map((e) => e.event.type)).toEqual(['dialog-shown', 'dialog-completed']);

    const was = await facts();
    const statement = await events(before.map((e) => e.seq));
    const answer = await relayEvents(statement);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.view.step).toBe(6);
    const now = await facts();
    expect(now.version).toBe(was.version + 1);
    expect(now.nonce).not.toBe(was.nonce);
    expect(now.nonce).toBe(answer.body.stationNonce);
    expect(now.lastSeq).toBe(payloadOf(statement).seq);
    const added = now.timeline.slice(was.timeline.length);
    expect(added.map((e) => e.event)).toEqual(['key-generation-started', 'dialog-shown', 'dialog-completed']);
    expect(added.slice(1).map((e) => e.details?.dialog)).toEqual(['auth', 'auth']);
    const audited = now.audit.slice(was.audit.length);
    expect(audited.map((e) => e.action)).toEqual([
      'flow.key-generation-started',
      'flow.dialog-shown',
      'flow.dialog-completed',
    ]);
    for (const entry of audited) expect(entry.details).toMatchObject({ station: h.stationId });

    // The keys through their own route, the sign dialog's two events together, and on to step 7.
    page.stationNonce = answer.body.stationNonce;
    expect((await page.keys()).status).toBe(200);
    const dialogs = await relayEvents(await events(after.map((e) => e.seq)));
    expect(dialogs.status, JSON.stringify(dialogs.body)).toBe(200);
    expect(dialogs.body.view.download.dialogs).toEqual({ auth: 'completed', sign: 'completed' });
    await issueAndWriteCertificates(page, csrs);
    expect((await page.relay({ type: 'certificates-written' })).body.view.step).toBe(7);
  });

  it.runIf(dialect === 'postgres')('takes two round trips to PostgreSQL, as one event does', async () => {
    await walkTo(h, page, 'download-requested');
    const from = lastLogged();
    await enrol();
    const logged = flowEvents(from);
    const before = logged.slice(
      0,
      logged.findIndex((e) => e.event.type === 'keys-generated'),
    );
    const statement = await events(before.map((e) => e.seq));
    const { result, writes } = await writesToPostgres(() => relayEvents(statement));
    expect(result.status, JSON.stringify(result.body)).toBe(200);
    // The session, flow, station and its raise in one; the change, its three entries and the commit in one.
    expect(writes).toEqual([2]);
    expect((await facts()).audit.slice(-3).map((e) => e.action)).toEqual([
      'flow.key-generation-started',
      'flow.dialog-shown',
      'flow.dialog-completed',
    ]);
  });

  it('names each inserted card’s owner, as for one event', async () => {
    await walkTo(h, page, 4);
    const from = lastLogged();
    // A colleague's card first, taken out again, then the order's card.
    await h.cards.insertCard('reader-2', ADMIN1_CARD);
    await h.cards.removeCard('reader-2');
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const logged = logSince(from).filter((e) => e.type === 'card-inserted' || e.type === 'card-removed');
    expect(logged.map((e) => e.type)).toEqual(['card-inserted', 'card-removed', 'card-inserted']);
    const was = await facts();
    const answer = await relayEvents(await events(logged.map((e) => e.seq)));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.raised).toEqual(['WRONG_CARD']);
    const added = (await facts()).timeline.slice(was.timeline.length);
    const owners = added.map((e) => [e.event, e.details?.cardNumber, e.details?.owner]);
    expect(owners).toEqual([
      ['card-inserted', ADMIN1_CARD, 'staff-card'],
      ['card-removed', undefined, undefined],
      ['card-inserted', RESERVE_CARD, 'previous-recipient'],
    ]);
    // The same cards' events one at a time say the same.
    page.stationNonce = answer.body.stationNonce;
    const again = lastLogged();
    await h.cards.removeCard('reader-2');
    await h.cards.insertCard('reader-2', ADMIN1_CARD);
    await h.cards.removeCard('reader-2');
    await h.cards.insertCard('reader-2', RESERVE_CARD);
    const between = (await facts()).timeline.length;
    for (const event of logSince(again).filter((e) => e.type.startsWith('card-')))
      expect((await page.relaySeq(event.seq)).status).toBe(200);
    const one = (await facts()).timeline.slice(between);
    expect(one.slice(1).map((e) => [e.event, e.details?.cardNumber, e.details?.owner])).toEqual(owners);
    await page.action('handover-confirmed');
    expect((await page.handover()).body.view.step).toBe(5);
  });

  it('refuses the whole statement when the flow refuses one of its events, and changes nothing', async () => {
    await walkTo(h, page, 'download-requested');
    // SIGNERA's PIN dialog is logged on the flow too; the flow takes PIN dialogs only while it downloads.
    const signera = flowEvents(0).find((e) => e.event.type === 'dialog-completed');
    if (signera === undefined) throw new Error('no SIGNERA dialog in the log');
    const from = lastLogged();
    await enrol();
    const download = flowEvents(from);
    const started = download.find((e) => e.event.type === 'key-generation-started');
    if (started === undefined) throw new Error('no key generation in the log');

    const was = await facts();
    const refused = await relayEvents(await events([signera.seq, started.seq]));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'EVENT_OUT_OF_ORDER',
      details: { event: 'dialog-completed' },
    });
    expect(refused.body.message).toMatchObject({ sv: expect.any(String), en: expect.any(String) });
    expect(await facts()).toEqual(was);

    // The keys are never an event of the list: they go to /keys, vouched for by the card.
    const keys = download.find((e) => e.event.type === 'keys-generated');
    const withKeys = await relayEvents(await events([started.seq, keys?.seq ?? 0]));
    expect(withKeys.body).toMatchObject({ code: 'STATEMENT_INVALID', details: { reason: 'event' } });
    expect(await facts()).toEqual(was);

    // An events statement is for this route only.
    const elsewhere = await page.api('POST', `/api/flows/${page.flowId}/keys`, {
      statement: await events([started.seq, keys?.seq ?? 0].sort((a, b) => a - b)),
    });
    expect(elsewhere.body).toMatchObject({ code: 'STATEMENT_INVALID', details: { reason: 'kind' } });
    expect(await facts()).toEqual(was);

    // The events the flow takes are still good, one at a time.
    const one = await page.relaySeq(started.seq);
    expect(one.status, JSON.stringify(one.body)).toBe(200);
    expect(one.body.view.step).toBe(6);
  });
});
