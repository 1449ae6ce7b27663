import { describe, expect, it } from 'vitest';
import {
  applyFlowEvent,
  cleanUpOffered,
  DEFAULT_FLOW_CONFIG,
  type FlowEvent,
  type FlowState,
  findControl,
  flowControls,
  restartFlow,
  startFlow,
} from '../index.js';
import {
  ADMIN_CARD,
  admins,
  anOrder,
  BOTH_READERS,
  FlowDriver,
  flowOrderOf,
  LOA2_CARD,
  OTHER_CARD,
  RESERVE_CARD,
  SECOND,
  T0,
} from '../test-support/fixtures.js';

const codesOf = (driver: FlowDriver) => driver.last?.raised.map((e) => e.code) ?? [];

describe('the happy path', () => {
  it('walks steps 0–7 to a completed flow, asking for the order to start and complete', () => {
    const order = anOrder();
    const driver = new FlowDriver();
    const effects: string[] = [];
    driver.to(7, order);
    for (const entry of driver.state.timeline) expect(entry.codes).toEqual([]);
    expect(driver.state.deadline).toBe(driver.now + DEFAULT_FLOW_CONFIG.ackWindowMs);
    expect(driver.state.issuedSerials).toEqual(['0a01', '0a02']);
    const done = driver.send({ type: 'acknowledged', cardNumber: RESERVE_CARD });
    effects.push(...done.effects.map((e) => e.type));
    expect(driver.state.status).toBe('completed');
    expect(effects).toEqual(['complete-order']);
    expect(driver.state.timeline.map((e) => e.event)).toContain('signed');
  });

  it('asks the order to start when admin 2 signs', () => {
    const driver = new FlowDriver().to(3);
    const signed = driver.send({ type: 'signed', outcome: 'ok', cardNumber: ADMIN_CARD });
    expect(signed.effects).toEqual([{ type: 'start-order', orderId: 'order-1' }]);
    expect(driver.state.step).toBe(4);
  });

  it('records every event with the step it happened at', () => {
    const driver = new FlowDriver().to(2);
    expect(driver.state.timeline.map((e) => [e.event, e.step])).toEqual([
      ['flow-started', 0],
      ['logged-in', 0],
      ['manage-orders', 1],
    ]);
  });

  it('takes the recipient acknowledgement up to the last millisecond before the deadline', () => {
    const driver = new FlowDriver().to(7);
    const deadline = driver.state.deadline ?? 0;
    driver.send({ type: 'acknowledged', cardNumber: RESERVE_CARD }, deadline - driver.now - 1);
    expect(driver.state.status).toBe('completed');
  });
});

describe('readers and cards', () => {
  it('notices the login card leaving when its reader is unplugged', () => {
    const driver = new FlowDriver().to(3);
    driver.send({ type: 'reader-unplugged', reader: 1 });
    expect(codesOf(driver)).toEqual(['READERS_MISSING', 'CARD_REINSERTED']);
    expect(driver.state.loginCardRemovedAt).toBe(driver.now);
    expect(driver.state.readers[1]).toEqual({ connected: false, card: null });
  });

  it('keeps the first removal time when the card comes and goes again', () => {
    const driver = new FlowDriver().to(2);
    driver.send({ type: 'card-removed', reader: 1 });
    const removedAt = driver.now;
    driver.send({ type: 'card-inserted', reader: 1, cardNumber: ADMIN_CARD });
    driver.send({ type: 'card-removed', reader: 1 });
    expect(driver.state.loginCardRemovedAt).toBe(removedAt);
    expect(codesOf(driver)).toEqual([]);
  });

  it('refuses a card in a reader that is not connected', () => {
    const driver = new FlowDriver();
    driver.send({ type: 'reader-unplugged', reader: 2 });
    expect(driver.try({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD })).toMatchObject({
      ok: false,
      error: { code: 'EVENT_OUT_OF_ORDER' },
    });
  });

  it('records an unreadable card as such and explains it at step 4', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: null });
    expect(codesOf(driver)).toEqual(['WRONG_CARD']);
    expect(driver.last?.entry?.details).toMatchObject({ actual: '', expected: RESERVE_CARD });
  });

  it("records the previous recipient's card left in reader 2 when step 4 opens, and whose it is", () => {
    const driver = new FlowDriver().to(2);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: OTHER_CARD, owner: 'previous-recipient' });
    expect(codesOf(driver)).toEqual([]);
    driver.to(4);
    expect(driver.state.step).toBe(4);
    expect(codesOf(driver)).toEqual(['WRONG_CARD']);
    const details = { expected: RESERVE_CARD, actual: OTHER_CARD, owner: 'previous-recipient', reader: 2 };
    expect(driver.last?.entry?.details).toMatchObject(details);
    expect(findControl(driver.state, 'confirm-handover', driver.now)).toMatchObject({
      enabled: false,
      reason: { code: 'WRONG_CARD', details },
    });
  });

  it('takes only the known kinds of card owner', () => {
    const driver = new FlowDriver().to(2);
    const inserted = { type: 'card-inserted', reader: 2, cardNumber: OTHER_CARD, owner: 'Anna' } as const;
    expect(driver.try(inserted as unknown as FlowEvent)).toMatchObject({
      ok: false,
      error: { code: 'EVENT_OUT_OF_ORDER', details: { field: 'owner' } },
    });
  });

  it('opens step 4 quietly with the right card already in reader 2', () => {
    const driver = new FlowDriver().to(4);
    expect(codesOf(driver)).toEqual([]);
  });

  it('does not mind a reserve card removed before the download', () => {
    const driver = new FlowDriver().to(5);
    driver.send({ type: 'card-removed', reader: 2 });
    expect(codesOf(driver)).toEqual([]);
    expect(driver.state.fault).toBeNull();
  });

  it('faults when the reserve card reader is unplugged during the download', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'reader-unplugged', reader: 2 });
    expect(codesOf(driver)).toEqual(['READERS_MISSING', 'CARD_REMOVED_DURING_DOWNLOAD']);
    expect(driver.last?.effects).toEqual([{ type: 'clean-card', cardNumber: RESERVE_CARD }]);
  });

  it('revokes what was issued when the card leaves after issuance', () => {
    const driver = new FlowDriver().to(6);
    for (const event of [
      { type: 'keys-generated' },
      { type: 'dialog-completed', dialog: 'auth' },
      { type: 'dialog-completed', dialog: 'sign' },
      { type: 'issuance-claimed' },
      { type: 'certificates-issued', serials: ['aa', 'bb'] },
    ] as const) {
      driver.send(event);
    }
    driver.send({ type: 'card-removed', reader: 2 });
    expect(driver.last?.effects).toEqual([
      { type: 'revoke-certificates', serials: ['aa', 'bb'], reason: 'cessationOfOperation' },
      { type: 'clean-card', cardNumber: RESERVE_CARD },
    ]);
    expect(driver.state.issuedSerials).toEqual([]);
  });
});

describe('scenes for replay', () => {
  it('keeps with every entry what the screen showed after it: step, readers and cards, dialogs, fault', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'dialog-shown', dialog: 'auth' });
    driver.send({ type: 'card-removed', reader: 2 });
    const timeline = driver.state.timeline;
    expect(timeline.every((entry) => entry.scene !== undefined)).toBe(true);
    expect(timeline[0]?.scene).toMatchObject({ step: 0, status: 'active', fault: null, download: null });
    // Each scene is the state right after its entry, not before it.
    const shown = timeline.find((entry) => entry.event === 'dialog-shown');
    expect(shown?.scene?.download).toEqual({
      phase: 'key-generation',
      dialogs: { auth: 'shown', sign: 'waiting' },
    });
    expect(shown?.scene?.readers[2].card?.cardNumber).toBe(RESERVE_CARD);
    const pulled = timeline.at(-1);
    expect(pulled?.codes).toContain('CARD_REMOVED_DURING_DOWNLOAD');
    expect(pulled?.scene).toMatchObject({
      step: 6,
      fault: 'CARD_REMOVED_DURING_DOWNLOAD',
      readers: { 1: { card: { cardNumber: ADMIN_CARD } }, 2: { connected: true, card: null } },
    });
  });

  it('gives a restarted flow’s first entry the scene it starts from', () => {
    const driver = new FlowDriver().to(3);
    const restarted = restartFlow(driver.state, 'flow-2', driver.now);
    expect(restarted.timeline[0]?.scene).toMatchObject({ step: restarted.step, readers: restarted.readers });
  });
});

describe('login', () => {
  it('needs the login card to be in the named reader', () => {
    const driver = new FlowDriver();
    const result = driver.try({
      type: 'logged-in',
      admin: admins.admin2.hsaId,
      assuranceLevel: 'LoA3',
      cardNumber: LOA2_CARD,
      reader: 1,
    });
    expect(result).toMatchObject({ ok: false, error: { code: 'EVENT_OUT_OF_ORDER' } });
  });

  it('puts the reserve card in the other reader when admin 2 used reader 2', () => {
    const driver = new FlowDriver({
      1: { connected: true, card: null },
      2: { connected: true, card: { cardNumber: ADMIN_CARD } },
    });
    driver.send({
      type: 'logged-in',
      admin: admins.admin2.hsaId,
      assuranceLevel: 'LoA3',
      cardNumber: ADMIN_CARD,
      reader: 2,
    });
    driver.send({ type: 'manage-orders' });
    driver.send({ type: 'searched', queryKind: 'hsa-id', hit: flowOrderOf(anOrder()), codes: [] });
    driver.send({ type: 'order-selected' });
    driver.send({ type: 'signed', outcome: 'ok', cardNumber: ADMIN_CARD });
    const controls = flowControls(driver.state, driver.now);
    expect(controls[0]).toMatchObject({ reason: { code: 'RESERVE_CARD_MISSING', details: { reader: 1 } } });
  });

  it('cannot log in twice', () => {
    const driver = new FlowDriver().to(1);
    const again = driver.try({
      type: 'logged-in',
      admin: admins.admin2.hsaId,
      assuranceLevel: 'LoA3',
      cardNumber: ADMIN_CARD,
      reader: 1,
    });
    expect(again).toMatchObject({ ok: false, error: { code: 'EVENT_OUT_OF_ORDER' } });
  });
});

describe('signing', () => {
  it('treats a signature from another card than the login card as a broken session', () => {
    const driver = new FlowDriver().to(3);
    driver.send({ type: 'signed', outcome: 'ok', cardNumber: OTHER_CARD });
    expect(codesOf(driver)).toEqual(['CARD_REINSERTED']);
    expect(driver.state.step).toBe(3);
  });
});

describe('handover', () => {
  it('refuses the agent verifying another card than the order’s', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    driver.send({ type: 'handover-confirmed' });
    driver.send({ type: 'handover-verified', cardNumber: OTHER_CARD });
    expect(codesOf(driver)).toEqual(['WRONG_CARD']);
    expect(driver.state).toMatchObject({ step: 4, pending: null });
  });

  it('stops the flow when the server refuses the card’s proof: CARD_NOT_PROVEN, restart and a support case', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
    driver.send({ type: 'handover-confirmed' });
    driver.send({ type: 'card-refused', code: 'CARD_NOT_PROVEN', reason: 'certificate signature' });
    expect(codesOf(driver)).toEqual(['CARD_NOT_PROVEN']);
    expect(driver.state).toMatchObject({
      step: 4,
      pending: null,
      fault: { code: 'CARD_NOT_PROVEN', details: { reason: 'certificate signature' } },
    });
    // Nothing touched the card yet: nothing to clean.
    expect(driver.last?.effects).toEqual([]);
    expect(driver.state.timeline.at(-1)).toMatchObject({ event: 'card-refused', codes: ['CARD_NOT_PROVEN'] });
    expect(
      flowControls(driver.state, driver.now)
        .filter((c) => c.enabled)
        .map((c) => c.id),
    ).toEqual(['restart', 'send-support-case']);
  });

  it('takes a card refusal only where a card proves itself', () => {
    const driver = new FlowDriver().to(4);
    expect(driver.try({ type: 'card-refused', code: 'CARD_NOT_PROVEN', reason: 'x' })).toMatchObject({
      error: { code: 'EVENT_OUT_OF_ORDER' },
    });
    expect(
      new FlowDriver().to(7).try({ type: 'card-refused', code: 'KEYS_NOT_ON_CARD', reason: 'x' }),
    ).toMatchObject({ error: { code: 'EVENT_OUT_OF_ORDER' } });
    expect(
      driver.try({ type: 'card-refused', code: 'WRONG_CARD', reason: 'x' } as unknown as FlowEvent),
    ).toMatchObject({ error: { code: 'EVENT_OUT_OF_ORDER', details: { field: 'code' } } });
  });

  it('refuses a verification nobody asked for', () => {
    const driver = new FlowDriver().to(4);
    expect(driver.try({ type: 'handover-verified', cardNumber: RESERVE_CARD })).toMatchObject({
      error: { code: 'EVENT_OUT_OF_ORDER' },
    });
  });

  it('lets the recipient untick the terms again', () => {
    const driver = new FlowDriver().to(5);
    driver.send({ type: 'terms-accepted', accepted: true });
    driver.send({ type: 'terms-accepted', accepted: false });
    expect(driver.state.termsAccepted).toBe(false);
  });
});

describe('download', () => {
  const outOfOrder = { ok: false, error: { code: 'EVENT_OUT_OF_ORDER' } };

  it.each<[string, FlowEvent['type'], Record<string, unknown>]>([
    ['key generation without a request', 'key-generation-started', {}],
    ['keys twice', 'keys-generated', {}],
    ['certificates before both PIN dialogs', 'certificates-issued', { serials: ['x'] }],
    ['a claim before both PIN dialogs', 'issuance-claimed', {}],
    ['writing before issuing', 'certificates-written', {}],
  ])('refuses %s', (_name, type, extra) => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'keys-generated' });
    expect(driver.try({ type, ...extra } as never)).toMatchObject(outOfOrder);
  });

  it('takes the PIN 1 dialog before the keys exist (a card needs PIN 1 to make them), and no dialog outside step 6', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'dialog-shown', dialog: 'auth' });
    driver.send({ type: 'dialog-completed', dialog: 'auth' });
    driver.send({ type: 'keys-generated' });
    driver.send({ type: 'dialog-shown', dialog: 'sign' });
    driver.send({ type: 'dialog-completed', dialog: 'sign' });
    driver.send({ type: 'issuance-claimed' });
    expect(driver.state.download?.phase).toBe('issuing');
    driver.send({ type: 'certificates-issued', serials: ['01'] });
    expect(driver.state.download?.phase).toBe('writing');
    const early = new FlowDriver().to(5);
    expect(early.try({ type: 'dialog-shown', dialog: 'auth' })).toMatchObject(outOfOrder);
    expect(early.try({ type: 'dialog-cancelled', dialog: 'auth' })).toMatchObject(outOfOrder);
    expect(early.try({ type: 'dialog-not-shown', dialog: 'sign' })).toMatchObject(outOfOrder);
    expect(early.try({ type: 'download-failed', reason: 'x' })).toMatchObject(outOfOrder);
  });

  it('stops the download when the server refuses the keys the card vouched for, and cleans the card', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'dialog-shown', dialog: 'auth' });
    driver.send({ type: 'dialog-completed', dialog: 'auth' });
    driver.send({ type: 'card-refused', code: 'KEYS_NOT_ON_CARD', reason: 'attributes' });
    expect(driver.state).toMatchObject({
      step: 6,
      download: null,
      fault: { code: 'KEYS_NOT_ON_CARD', details: { reason: 'attributes' } },
    });
    expect(driver.last?.effects).toEqual([{ type: 'clean-card', cardNumber: RESERVE_CARD }]);
    expect(driver.try({ type: 'issuance-claimed' })).toMatchObject(outOfOrder);
  });

  it('accepts a failure reported while the download start is pending', () => {
    const driver = new FlowDriver().to(5);
    driver.send({ type: 'terms-accepted', accepted: true });
    driver.send({ type: 'download-requested' });
    driver.send({ type: 'download-failed', reason: 'agent crashed' });
    expect(driver.state.fault).toMatchObject({
      code: 'DOWNLOAD_FAILED',
      details: { reason: 'agent crashed' },
    });
    expect(driver.state.pending).toBeNull();
  });

  it('says a PIN blocked in the dialog as PIN_BLOCKED, a fault that offers the restart', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'dialog-shown', dialog: 'auth' });
    driver.send({ type: 'download-failed', reason: 'PIN_BLOCKED' });
    expect(driver.state.fault).toMatchObject({ code: 'PIN_BLOCKED', details: { reason: 'PIN_BLOCKED' } });
    expect(driver.state.download).toBeNull();
    expect(findControl(driver.state, 'restart', driver.now)).toMatchObject({ enabled: true });
  });

  it('finds a signature dialog that never came on a clock tick', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'keys-generated' });
    driver.send({ type: 'dialog-shown', dialog: 'auth' });
    driver.send({ type: 'dialog-completed', dialog: 'auth' });
    driver.send({ type: 'tick' }, DEFAULT_FLOW_CONFIG.dialogTimeoutMs);
    expect(codesOf(driver)).toEqual(['SIGN_DIALOG_NOT_SHOWN']);
  });

  it('waits quietly while a shown dialog is being answered', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'keys-generated' });
    driver.send({ type: 'dialog-shown', dialog: 'auth' });
    const tick = driver.send({ type: 'tick' }, 5 * DEFAULT_FLOW_CONFIG.dialogTimeoutMs);
    expect(tick).toMatchObject({ raised: [], entry: null, effects: [] });
  });
});

describe('clock', () => {
  it('says nothing on a tick when nothing is due, and after a fault', () => {
    const driver = new FlowDriver().to(3);
    expect(driver.send({ type: 'tick' }).entry).toBeNull();
    driver.send({ type: 'signed', outcome: 'failed', cardNumber: ADMIN_CARD });
    driver.send({ type: 'signed', outcome: 'failed', cardNumber: ADMIN_CARD });
    expect(driver.send({ type: 'tick' }, 3_600_000).entry).toBeNull();
  });

  it('takes the sweeper’s deadline-passed at or after the deadline only', () => {
    const driver = new FlowDriver().to(7);
    const deadline = driver.state.deadline ?? 0;
    expect(driver.try({ type: 'deadline-passed' })).toMatchObject({ error: { code: 'EVENT_OUT_OF_ORDER' } });
    driver.send({ type: 'deadline-passed' }, deadline - driver.now);
    expect(driver.state.status).toBe('ack-timeout-revoked');
    expect(driver.last?.effects).toEqual([
      { type: 'revoke-certificates', serials: ['0a01', '0a02'], reason: 'cessationOfOperation' },
      { type: 'clean-card', cardNumber: RESERVE_CARD },
      { type: 'release-order', orderId: 'order-1' },
    ]);
  });

  it('times out an acknowledgement that comes too late instead of completing', () => {
    const driver = new FlowDriver().to(7);
    const deadline = driver.state.deadline ?? 0;
    driver.send({ type: 'acknowledged', cardNumber: RESERVE_CARD }, deadline - driver.now + SECOND);
    expect(codesOf(driver)).toEqual(['ACK_TIMEOUT']);
    expect(driver.state.status).toBe('ack-timeout-revoked');
  });

  it('refuses deadline-passed outside step 7', () => {
    expect(new FlowDriver().to(2).try({ type: 'deadline-passed' })).toMatchObject({
      error: { code: 'EVENT_OUT_OF_ORDER' },
    });
  });

  it('lets ticks through on an ended flow and refuses everything else', () => {
    const driver = new FlowDriver().to(7);
    driver.send({ type: 'acknowledged', cardNumber: RESERVE_CARD });
    expect(driver.send({ type: 'tick' })).toMatchObject({ entry: null, effects: [] });
    expect(driver.try({ type: 'card-removed', reader: 2 })).toMatchObject({
      error: { code: 'FLOW_ENDED', details: { status: 'completed' } },
    });
  });

  it('honours a configured acknowledgement window', () => {
    const state = new FlowDriver().to(6).state;
    let current = state;
    let at = T0 + 100 * SECOND;
    const config = { ...DEFAULT_FLOW_CONFIG, ackWindowMs: 60_000 };
    for (const event of [
      { type: 'keys-generated' },
      { type: 'dialog-completed', dialog: 'auth' },
      { type: 'dialog-completed', dialog: 'sign' },
      { type: 'issuance-claimed' },
      { type: 'certificates-issued', serials: ['1'] },
      { type: 'certificates-written' },
    ] as const) {
      at += SECOND;
      const result = applyFlowEvent(current, { ...event, at }, config);
      if (!result.ok) throw new Error(result.error.code);
      current = result.value.state;
    }
    expect(current.deadline).toBe(at + 60_000);
  });
});

describe('claiming the issuance', () => {
  const keysOnCard = () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'keys-generated' });
    driver.send({ type: 'dialog-completed', dialog: 'auth' });
    driver.send({ type: 'dialog-completed', dialog: 'sign' });
    return driver;
  };

  it('claims once, before anything is issued; a second claim is refused whatever the phase', () => {
    const driver = keysOnCard();
    expect(driver.try({ type: 'certificates-issued', serials: ['aa', 'bb'] })).toMatchObject({
      ok: false,
      error: { code: 'EVENT_OUT_OF_ORDER' },
    });
    driver.send({ type: 'issuance-claimed' });
    expect(driver.state.issuance).toEqual({ attempt: 1, claimedAt: driver.now });
    expect(driver.last?.entry).toMatchObject({ event: 'issuance-claimed', details: { attempt: 1 } });
    const again = { ok: false, error: { code: 'CERTIFICATES_ALREADY_REQUESTED', details: { attempt: 1 } } };
    expect(driver.try({ type: 'issuance-claimed' })).toMatchObject(again);
    driver.send({ type: 'certificates-issued', serials: ['aa', 'bb'] });
    expect(driver.try({ type: 'certificates-issued', serials: ['cc', 'dd'] })).toMatchObject({
      ok: false,
      error: { code: 'EVENT_OUT_OF_ORDER' },
    });
    expect(driver.try({ type: 'issuance-claimed' })).toMatchObject(again);
    driver.send({ type: 'certificates-written' });
    expect(driver.state.step).toBe(7);
    expect(driver.try({ type: 'issuance-claimed' })).toMatchObject(again);
  });

  it('ends a claim that never got its certificates with DOWNLOAD_FAILED and the card clean-up', () => {
    const driver = keysOnCard();
    driver.send({ type: 'issuance-claimed' });
    driver.send({ type: 'download-failed', reason: 'issuance-interrupted' });
    expect(driver.state.fault).toMatchObject({ code: 'DOWNLOAD_FAILED' });
    expect(driver.last?.effects).toEqual([{ type: 'clean-card', cardNumber: RESERVE_CARD }]);
    expect(cleanUpOffered(driver.state)).toEqual([{ type: 'clean-card', cardNumber: RESERVE_CARD }]);
    expect(findControl(driver.state, 'restart', driver.now)).toEqual({ id: 'restart', enabled: true });
  });

  it('writes the certificates of a flow stored before claims existed', () => {
    const driver = keysOnCard();
    const { issuance: _claim, ...older } = driver.state;
    const stored = {
      ...older,
      issuedSerials: ['aa', 'bb'],
      download: driver.state.download && { ...driver.state.download, phase: 'issuing' as const },
    } as unknown as FlowState;
    const written = applyFlowEvent(stored, { type: 'certificates-written', at: driver.now + SECOND });
    expect(written.ok && written.value.state.step).toBe(7);
    // Its certificates were issued before the upgrade: there is nothing left to claim.
    expect(applyFlowEvent(stored, { type: 'issuance-claimed', at: driver.now })).toMatchObject({
      ok: false,
      error: { code: 'EVENT_OUT_OF_ORDER' },
    });
  });
});

describe('an order cancelled under its flow', () => {
  it('aborts without releasing the order, revokes and cleans, and answers ORDER_CANCELLED afterwards', () => {
    const driver = new FlowDriver().to(7);
    driver.send({ type: 'aborted', reason: 'order-cancelled' });
    expect(driver.state.status).toBe('aborted');
    expect(driver.last?.raised).toEqual([{ code: 'ORDER_CANCELLED' }]);
    expect(driver.last?.entry).toMatchObject({
      codes: ['ORDER_CANCELLED'],
      details: { reason: 'order-cancelled', cleanedUp: true },
    });
    expect(driver.last?.effects).toEqual([
      { type: 'revoke-certificates', serials: ['0a01', '0a02'], reason: 'cessationOfOperation' },
      { type: 'clean-card', cardNumber: RESERVE_CARD },
    ]);
    expect(cleanUpOffered(driver.state)).toEqual([{ type: 'clean-card', cardNumber: RESERVE_CARD }]);
    for (const type of ['acknowledged', 'aborted'] as const) {
      const event =
        type === 'acknowledged'
          ? { type, cardNumber: RESERVE_CARD, at: driver.now }
          : { type, reason: 'logout' as const, at: driver.now };
      expect(applyFlowEvent(driver.state, event)).toMatchObject({
        ok: false,
        error: { code: 'ORDER_CANCELLED', details: { status: 'aborted' } },
      });
    }
  });

  it('offers no clean-up before the card was touched, nor after a completed flow', () => {
    const early = new FlowDriver().to(3);
    early.send({ type: 'aborted', reason: 'order-cancelled' });
    expect(early.last?.effects).toEqual([]);
    expect(cleanUpOffered(early.state)).toEqual([]);
    const done = new FlowDriver().to(7);
    done.send({ type: 'acknowledged', cardNumber: RESERVE_CARD });
    expect(cleanUpOffered(done.state)).toEqual([]);
    expect(cleanUpOffered(new FlowDriver().to(7).state)).toEqual([]);
  });
});

describe('aborting and restarting', () => {
  it('ends a flow at step 2 without effects', () => {
    const driver = new FlowDriver().to(2);
    driver.send({ type: 'aborted', reason: 'logout' });
    expect(driver.state.status).toBe('aborted');
    expect(driver.last?.effects).toEqual([]);
  });

  it('cleans up and releases the order when aborted during the download', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'aborted', reason: 'restart' });
    expect(driver.last?.effects).toEqual([
      { type: 'clean-card', cardNumber: RESERVE_CARD },
      { type: 'release-order', orderId: 'order-1' },
    ]);
  });

  it('restarts at step 1 with the same login while the login card stayed in', () => {
    const driver = new FlowDriver().to(4);
    driver.send({ type: 'aborted', reason: 'restart' });
    const next = restartFlow(driver.state, 'flow-2', driver.now);
    expect(next).toMatchObject({ flowId: 'flow-2', step: 1, status: 'active', order: null });
    expect(next.login).toMatchObject({ admin: admins.admin2.hsaId, at: driver.now });
  });

  it('restarts at the login screen when the login card was removed', () => {
    const driver = new FlowDriver().to(3);
    driver.send({ type: 'card-removed', reader: 1 });
    driver.send({ type: 'card-inserted', reader: 1, cardNumber: ADMIN_CARD });
    expect(restartFlow(driver.state, 'flow-2', driver.now)).toMatchObject({ step: 0, login: null });
  });

  it('restarts at the login screen when another card sits in the login reader', () => {
    const driver = new FlowDriver().to(1);
    const swapped = {
      ...driver.state,
      readers: { ...driver.state.readers, 1: { connected: true, card: null } },
    };
    expect(restartFlow(swapped, 'flow-2', driver.now).step).toBe(0);
    expect(restartFlow(startFlow('x', BOTH_READERS, T0), 'flow-2', T0).step).toBe(0);
  });
});

describe('events as data', () => {
  it.each([null, 42, {}, { type: 'explode', at: T0 }, { type: 'tick' }, { type: 'tick', at: Number.NaN }])(
    'refuses %j with a typed error',
    (event) => {
      const state = startFlow('f', BOTH_READERS, T0);
      const result = applyFlowEvent(state, event as unknown as FlowEvent);
      expect(result).toMatchObject({ ok: false, error: { code: 'EVENT_OUT_OF_ORDER' } });
    },
  );
});
