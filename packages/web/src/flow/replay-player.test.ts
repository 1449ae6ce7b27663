import type { CardNumber, ReplayFrame, ReplayScene } from '@reservkort/domain';
import { describe, expect, it } from 'vitest';
import { clampFrame, frameDelay, nextFrame, phasesAt, slotViewOf } from './replay-player.js';

const ADMIN = '9752278900000000102' as CardNumber;
const RESERVE = '9752278900000000201' as CardNumber;

const scene = (overrides: Partial<ReplayScene> = {}): ReplayScene => ({
  step: 6,
  status: 'active',
  readers: {
    1: { connected: true, card: { cardNumber: ADMIN, role: 'admin' } },
    2: { connected: true, card: { cardNumber: RESERVE, role: 'recipient' } },
  },
  download: null,
  pending: null,
  fault: null,
  deadline: null,
  ...overrides,
});

const frame = (event: ReplayFrame['event'], shown: ReplayScene | null, attempt = 1): ReplayFrame => ({
  attempt,
  flowId: `flow-${attempt}`,
  at: 0,
  event,
  step: shown?.step ?? 6,
  codes: [],
  scene: shown,
});

const dialogs = (auth: 'waiting' | 'shown' | 'completed', sign: 'waiting' | 'shown' | 'completed') => ({
  auth,
  sign,
});

describe('the replay player', () => {
  it('keeps the frame within the frames and stops playing at the last one', () => {
    expect(clampFrame(-3, 10)).toBe(0);
    expect(clampFrame(12, 10)).toBe(9);
    expect(clampFrame(4.7, 10)).toBe(4);
    expect(clampFrame(5, 0)).toBe(0);
    expect(nextFrame(3, 10)).toBe(4);
    expect(nextFrame(9, 10)).toBeNull();
  });

  it('shows each frame half as long at 2× and a quarter at 4×', () => {
    expect(frameDelay(2)).toBe(frameDelay(1) / 2);
    expect(frameDelay(4)).toBe(frameDelay(1) / 4);
  });

  it('reads step 6’s rows from the download state of the scene', () => {
    const frames = [
      frame(
        'key-generation-started',
        scene({ download: { phase: 'key-generation', dialogs: dialogs('waiting', 'waiting') } }),
      ),
      frame('dialog-shown', scene({ download: { phase: 'dialogs', dialogs: dialogs('shown', 'waiting') } })),
      frame(
        'dialog-completed',
        scene({ download: { phase: 'dialogs', dialogs: dialogs('completed', 'completed') } }),
      ),
      frame(
        'certificates-issued',
        scene({ download: { phase: 'writing', dialogs: dialogs('completed', 'completed') } }),
      ),
    ];
    expect(phasesAt(frames, 0)).toEqual(['doing', 'waiting', 'waiting', 'waiting', 'waiting']);
    expect(phasesAt(frames, 1)).toEqual(['done', 'doing', 'waiting', 'waiting', 'waiting']);
    expect(phasesAt(frames, 2)).toEqual(['done', 'done', 'done', 'waiting', 'waiting']);
    expect(phasesAt(frames, 3)).toEqual(['done', 'done', 'done', 'done', 'doing']);
  });

  it('marks where a download stopped at a fault from the attempt’s last recorded download', () => {
    const frames = [
      frame('dialog-shown', scene({ download: { phase: 'dialogs', dialogs: dialogs('shown', 'waiting') } })),
      frame('card-removed', scene({ fault: 'CARD_REMOVED_DURING_DOWNLOAD' })),
      // A new attempt does not borrow the old one's download.
      frame('flow-started', scene({ step: 6, fault: 'CARD_REMOVED_DURING_DOWNLOAD' }), 2),
    ];
    expect(phasesAt(frames, 1)).toEqual(['done', 'failed', 'notStarted', 'notStarted', 'notStarted']);
    expect(phasesAt(frames, 2)).toEqual([
      'notStarted',
      'notStarted',
      'notStarted',
      'notStarted',
      'notStarted',
    ]);
  });

  it('marks the dialog that never appeared, though the keys were still being made', () => {
    const frames = [
      frame(
        'dialog-completed',
        scene({ download: { phase: 'key-generation', dialogs: dialogs('completed', 'waiting') } }),
      ),
      frame('tick', scene({ fault: 'SIGN_DIALOG_NOT_SHOWN' })),
    ];
    expect(phasesAt(frames, 1)).toEqual(['notStarted', 'done', 'failed', 'notStarted', 'notStarted']);
  });

  it('shows no rows off step 6 or where the scene was not recorded', () => {
    expect(phasesAt([frame('signed', scene({ step: 4 }))], 0)).toBeNull();
    expect(phasesAt([frame('keys-generated', null)], 0)).toBeNull();
    expect(phasesAt([], 0)).toBeNull();
  });

  it('names the card in a reader by its role only', () => {
    const roles = {
      admin: 'administratörens kort',
      recipient: 'mottagarens kort',
      'previous-recipient': 'tidigare mottagares kort',
      staff: 'annan anställds kort',
      unknown: 'okänt kort',
    };
    expect(slotViewOf({ connected: true, card: { cardNumber: RESERVE, role: 'recipient' } }, roles)).toEqual({
      connected: true,
      card: { cardNumber: RESERVE, holder: 'mottagarens kort' },
    });
    expect(slotViewOf({ connected: false, card: null }, roles)).toEqual({ connected: false, card: null });
  });
});
