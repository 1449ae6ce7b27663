// What setTrainingScene asks of the card agent: readers plugged before cards go in, unplugged after,
// and a card already in place left there only when the scene says so (a practice set again mid-flow).
import type { CardNumber } from '@reservkort/domain';
import { describe, expect, it } from 'vitest';
import type { Workstation } from '../flow/workstation.js';
import { HEALTHY } from './scenarios.js';
import { type SceneTarget, setTrainingScene } from './scene-setter.js';

const ADMIN = '9752278900000000102' as CardNumber;
const RESERVE = '9752278900000000201' as CardNumber;

/** A workstation over readers in memory that records the agent calls made. */
const workstation = (readers: { [N in 1 | 2]: { connected: boolean; card: CardNumber | null } }) => {
  const calls: string[] = [];
  const ws = {
    slot: (n: 1 | 2) => ({
      slot: n,
      readerId: readers[n].connected ? `reader-${n}` : null,
      card: readers[n].card === null ? null : { cardNumber: readers[n].card },
    }),
    agent: {
      plug: async (id: string) => void calls.push(`plug ${id}`),
      unplug: async (id: string) => void calls.push(`unplug ${id}`),
      insert: async (id: string, card: string) => void calls.push(`insert ${card.slice(-3)} ${id}`),
      remove: async (id: string) => void calls.push(`remove ${id}`),
      trainingCounters: async (card: string, counters: string) =>
        void calls.push(`counters ${card.slice(-3)} ${counters}`),
    },
    simulate: async () => void calls.push('simulate'),
  };
  return { ws: ws as unknown as Workstation, calls };
};

const scene = (patch: Partial<SceneTarget>): SceneTarget => ({
  readers: { 1: { connected: true, card: ADMIN }, 2: { connected: true, card: null } },
  counters: [{ cardNumber: ADMIN, counters: 'full' }],
  simulation: HEALTHY,
  ...patch,
});

describe('setting a training scene', () => {
  it('plugs a missing reader and empties the others, sets the counters, then puts the cards in', async () => {
    const { ws, calls } = workstation({
      1: { connected: true, card: RESERVE },
      2: { connected: false, card: null },
    });
    await setTrainingScene(ws, scene({}));
    expect(calls).toEqual([
      'remove reader-1',
      'plug reader-2',
      'counters 102 full',
      'insert 102 reader-1',
      'simulate',
    ]);
  });

  it('takes the login card out and back in for a scenario, but leaves it in place for a practice', async () => {
    const readers = { 1: { connected: true, card: ADMIN }, 2: { connected: true, card: RESERVE } } as const;
    const fresh = workstation({ ...readers });
    await setTrainingScene(fresh.ws, scene({}));
    expect(fresh.calls).toEqual([
      'remove reader-1',
      'remove reader-2',
      'counters 102 full',
      'insert 102 reader-1',
      'simulate',
    ]);
    const kept = workstation({ ...readers });
    await setTrainingScene(kept.ws, scene({ keepCardsInPlace: true }));
    expect(kept.calls).toEqual(['remove reader-2', 'counters 102 full', 'simulate']);
  });

  it('unplugs a reader the scene wants gone, after the cards', async () => {
    const { ws, calls } = workstation({
      1: { connected: true, card: null },
      2: { connected: true, card: null },
    });
    await setTrainingScene(
      ws,
      scene({ readers: { 1: { connected: true, card: ADMIN }, 2: { connected: false, card: null } } }),
    );
    expect(calls).toEqual(['counters 102 full', 'insert 102 reader-1', 'unplug reader-2', 'simulate']);
  });
});
