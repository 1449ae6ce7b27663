import { describe, expect, it } from 'vitest';
import {
  CONTROL_IDS,
  type Control,
  flowControls,
  readerLog,
  startFlow,
  twoReadersThroughout,
} from '../index.js';
import { ADMIN_CARD, BOTH_READERS, FlowDriver, RESERVE_CARD, SECOND, T0 } from '../test-support/fixtures.js';

const summary = (controls: readonly Control[]) =>
  controls.map((c) => (c.enabled ? `${c.id}:on` : `${c.id}:${c.reason.code}`));

describe('controls of each screen', () => {
  it('shows exactly one screen’s controls at each step of the happy path', () => {
    const driver = new FlowDriver();
    expect(summary(flowControls(driver.state, driver.now))).toEqual(['login:on']);
    driver.to(1);
    expect(summary(flowControls(driver.state, driver.now))).toEqual(['manage-orders:on']);
    driver.to(2);
    expect(summary(flowControls(driver.state, driver.now))).toEqual(['search:on', 'select-order:NO_ORDER']);
    driver.to(3);
    expect(summary(flowControls(driver.state, driver.now))).toEqual(['sign:on', 'logout-restart:on']);
    driver.to(4);
    expect(summary(flowControls(driver.state, driver.now))).toEqual([
      'confirm-handover:RESERVE_CARD_MISSING',
    ]);
    driver.to(5);
    expect(summary(flowControls(driver.state, driver.now))).toEqual([
      'accept-terms:on',
      'start-download:TERMS_NOT_ACCEPTED',
    ]);
    driver.to(6);
    expect(summary(flowControls(driver.state, driver.now))).toEqual([]);
    driver.to(7);
    expect(summary(flowControls(driver.state, driver.now))).toEqual(['acknowledge:on']);
    driver.send({ type: 'acknowledged', cardNumber: RESERVE_CARD });
    expect(summary(flowControls(driver.state, driver.now))).toEqual(['send-support-case:on']);
  });

  it('blocks the step’s controls with the fault and offers restart and a support case', () => {
    const driver = new FlowDriver().to(5);
    driver.send({ type: 'terms-accepted', accepted: true });
    driver.send({ type: 'download-requested' });
    driver.send({ type: 'tick' }, 60 * SECOND);
    expect(summary(flowControls(driver.state, driver.now))).toEqual([
      'accept-terms:DOWNLOAD_START_STUCK',
      'start-download:DOWNLOAD_START_STUCK',
      'restart:on',
      'send-support-case:on',
    ]);
  });

  it('offers restart after an abort, and restart and a support case after a timeout', () => {
    const aborted = new FlowDriver().to(2);
    aborted.send({ type: 'aborted', reason: 'restart' });
    expect(summary(flowControls(aborted.state, aborted.now))).toEqual(['restart:on']);
    const late = new FlowDriver().to(7);
    late.send({ type: 'tick' }, 11 * 60 * SECOND);
    expect(summary(flowControls(late.state, late.now))).toEqual(['restart:on', 'send-support-case:on']);
  });

  it('puts a broken session before a missing reader, and a missing reader before the rest', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'reader-unplugged', reader: 2 });
    expect(summary(flowControls(driver.state, driver.now))).toEqual(['confirm-handover:READERS_MISSING']);
    driver.send({ type: 'card-removed', reader: 1 });
    expect(flowControls(driver.state, driver.now)[0]).toMatchObject({
      reason: { code: 'CARD_REINSERTED', details: { removedAt: driver.now } },
    });
  });

  it('disables acknowledgement without the reserve card, and at the deadline before anything else', () => {
    const driver = new FlowDriver().to(7);
    driver.send({ type: 'card-removed', reader: 2 });
    expect(summary(flowControls(driver.state, driver.now))).toEqual(['acknowledge:RESERVE_CARD_MISSING']);
    const deadline = driver.state.deadline ?? 0;
    expect(summary(flowControls(driver.state, deadline))).toEqual(['acknowledge:ACK_TIMEOUT']);
  });

  it('refuses a click on a disabled control with its reason and changes nothing but the timeline', () => {
    const driver = new FlowDriver().to(5);
    const before = driver.state;
    driver.send({ type: 'download-requested' });
    expect(driver.last?.raised).toEqual([{ code: 'TERMS_NOT_ACCEPTED' }]);
    expect(driver.last?.entry?.details).toEqual({ refused: 'start-download' });
    expect({ ...driver.state, timeline: [] }).toEqual({ ...before, timeline: [] });
  });

  it('explains a missed search with its first blocking code, not the notice', () => {
    const driver = new FlowDriver().to(2);
    driver.send({
      type: 'searched',
      queryKind: 'personal-number',
      hit: null,
      codes: ['PNR_FORMAT', 'NO_ORDER'],
    });
    expect(flowControls(driver.state, driver.now)[1]).toMatchObject({ reason: { code: 'NO_ORDER' } });
  });

  it('names every control in the list of control ids', () => {
    const seen = new Set<string>();
    const driver = new FlowDriver();
    for (let step = 0; step <= 7; step++) {
      driver.to(step as 0);
      for (const c of flowControls(driver.state, driver.now)) seen.add(c.id);
    }
    for (const id of seen) expect(CONTROL_IDS).toContain(id);
  });
});

describe('reader log', () => {
  it('lists reader and card events with card numbers', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    driver.send({ type: 'reader-unplugged', reader: 2 });
    expect(readerLog(driver.state).map((e) => [e.reader, e.event, e.cardNumber ?? null])).toEqual([
      [2, 'card-inserted', RESERVE_CARD],
      [2, 'unplugged', null],
    ]);
  });

  it('answers "two readers throughout?" with the gaps since login', () => {
    const driver = new FlowDriver().to(4);
    expect(twoReadersThroughout(driver.state)).toMatchObject({ throughout: true, gaps: [] });
    driver.send({ type: 'reader-unplugged', reader: 2 });
    const from = driver.now;
    driver.send({ type: 'reader-plugged', reader: 2 }, 5 * SECOND);
    driver.send({ type: 'reader-unplugged', reader: 1 });
    const answer = twoReadersThroughout(driver.state);
    expect(answer.throughout).toBe(false);
    expect(answer.gaps).toEqual([
      { reader: 2, from, to: from + 5 * SECOND },
      { reader: 1, from: driver.now, to: null },
    ]);
  });

  it('counts a reader missing from the start until it is plugged', () => {
    const state = startFlow('f', { 1: BOTH_READERS[1], 2: { connected: false, card: null } }, T0);
    expect(twoReadersThroughout(state).gaps).toEqual([{ reader: 2, from: T0, to: null }]);
    const driver = new FlowDriver({
      1: { connected: true, card: { cardNumber: ADMIN_CARD } },
      2: { connected: false, card: null },
    });
    driver.send({ type: 'reader-plugged', reader: 2 });
    expect(twoReadersThroughout(driver.state).gaps).toEqual([{ reader: 2, from: T0, to: driver.now }]);
    // Before login nothing counts once both readers are in: the question is about the flow after login.
    driver.to(1);
    expect(twoReadersThroughout(driver.state).throughout).toBe(true);
    expect(twoReadersThroughout(driver.state, T0).throughout).toBe(false);
  });
});
