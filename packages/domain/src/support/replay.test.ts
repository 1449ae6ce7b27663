import { describe, expect, it } from 'vitest';
import { cardRoleOf, frameCodeDetails, frameCodes, replayFrames, restartFlow } from '../index.js';
import { ADMIN_CARD, FlowDriver, OTHER_CARD, RESERVE_CARD } from '../test-support/fixtures.js';

const known = { login: ADMIN_CARD, reserve: RESERVE_CARD };

describe('replay frames', () => {
  it('names each card by its role: the login card, the order’s card, then the server’s word', () => {
    expect(cardRoleOf({ cardNumber: ADMIN_CARD }, known)).toBe('admin');
    expect(cardRoleOf({ cardNumber: RESERVE_CARD, owner: 'previous-recipient' }, known)).toBe('recipient');
    expect(cardRoleOf({ cardNumber: OTHER_CARD, owner: 'previous-recipient' }, known)).toBe(
      'previous-recipient',
    );
    expect(cardRoleOf({ cardNumber: OTHER_CARD, owner: 'staff-card' }, known)).toBe('staff');
    expect(cardRoleOf({ cardNumber: OTHER_CARD, owner: 'own-login-card' }, known)).toBe('admin');
    expect(cardRoleOf({ cardNumber: OTHER_CARD }, known)).toBe('unknown');
    expect(cardRoleOf({ cardNumber: null }, known)).toBe('unknown');
  });

  it('plays back CARD_REMOVED_DURING_DOWNLOAD: admin card in reader 1, the reserve card in 2, then 2 empty', () => {
    const driver = new FlowDriver().to(6);
    driver.send({ type: 'card-removed', reader: 2 });
    const frames = replayFrames([{ flowId: 'flow-1', timeline: driver.state.timeline }], RESERVE_CARD);
    expect(frames).toHaveLength(driver.state.timeline.length);
    expect(frames.every((frame) => frame.attempt === 1 && frame.scene !== null)).toBe(true);
    // Before login the card in reader 1 is already known as the administrator's: the chain says so.
    expect(frames[0]?.scene?.readers[1].card).toEqual({ cardNumber: ADMIN_CARD, role: 'admin' });
    const inserted = frames.find((frame) => frame.event === 'card-inserted');
    expect(inserted?.scene?.readers[2].card).toEqual({ cardNumber: RESERVE_CARD, role: 'recipient' });
    expect(inserted?.scene?.step).toBe(4);
    const generating = frames.find((frame) => frame.event === 'key-generation-started');
    expect(generating?.scene?.download?.phase).toBe('key-generation');
    const last = frames.at(-1);
    expect(last?.event).toBe('card-removed');
    expect(last?.codes).toEqual(['CARD_REMOVED_DURING_DOWNLOAD']);
    expect(last?.scene?.readers[2].card).toBeNull();
    expect(last?.scene?.readers[1].card?.role).toBe('admin');
    expect(last?.scene?.fault).toBe('CARD_REMOVED_DURING_DOWNLOAD');
    expect(frameCodes(frames)).toEqual(['CARD_REMOVED_DURING_DOWNLOAD']);
    expect(frameCodeDetails(frames, 'CARD_REMOVED_DURING_DOWNLOAD')).toMatchObject({ reader: 2 });
    // Only roles leave: no owner field, nothing of a person.
    expect(JSON.stringify(frames)).not.toContain('owner');
  });

  it('shows the PIN dialogs as they stood after each entry', () => {
    const driver = new FlowDriver().to(7);
    const frames = replayFrames([{ flowId: 'flow-1', timeline: driver.state.timeline }], RESERVE_CARD);
    const shown = frames.find((frame) => frame.event === 'dialog-shown');
    expect(shown?.scene?.download?.dialogs).toEqual({ auth: 'shown', sign: 'waiting' });
    const completed = frames.findLast((frame) => frame.event === 'dialog-completed');
    expect(completed?.scene?.download?.dialogs).toEqual({ auth: 'completed', sign: 'completed' });
    expect(frames.at(-1)?.scene?.step).toBe(7);
    expect(frames.at(-1)?.scene?.deadline).not.toBeNull();
  });

  it('marks entries recorded before scenes as missing, never guessing', () => {
    const driver = new FlowDriver().to(4);
    const older = driver.state.timeline.map(({ scene: _scene, ...entry }) => entry);
    const frames = replayFrames([{ flowId: 'old', timeline: older }], RESERVE_CARD);
    expect(frames.length).toBeGreaterThan(3);
    expect(frames.every((frame) => frame.scene === null)).toBe(true);
  });

  it('numbers the attempts of a restart chain, and knows the login card from an earlier attempt', () => {
    const first = new FlowDriver().to(6);
    first.send({ type: 'card-removed', reader: 2 });
    const second = restartFlow(first.state, 'flow-2', first.tick());
    const frames = replayFrames(
      [
        { flowId: 'flow-1', timeline: first.state.timeline },
        { flowId: 'flow-2', timeline: second.timeline },
      ],
      RESERVE_CARD,
    );
    const restarted = frames.filter((frame) => frame.flowId === 'flow-2');
    expect(restarted.map((frame) => frame.attempt)).toEqual([2]);
    expect(restarted[0]?.scene?.readers[1].card?.role).toBe('admin');
    expect(restarted[0]?.scene?.step).toBe(1);
  });
});
