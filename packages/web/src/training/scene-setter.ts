// Puts the training's virtual readers and cards where a scene wants them, through the card agent's
// training routes: the catalogue's scenarios and the practice of a support case share it.
import type { CardNumber } from '@reservkort/domain';
import type { TrainingCounters } from '../api/agent-client.js';
import type { Workstation } from '../flow/workstation.js';
import type { Simulation } from './scenarios.js';

export interface ReaderTarget {
  readonly connected: boolean;
  /** The card that should be in the reader; null leaves it empty. */
  readonly card: CardNumber | null;
}

export interface SceneTarget {
  readonly readers: { readonly [N in 1 | 2]: ReaderTarget };
  /** PIN counters set on a card before it goes in (the login page reads them on insertion). */
  readonly counters: readonly { readonly cardNumber: CardNumber; readonly counters: TrainingCounters }[];
  readonly simulation: Simulation;
  /**
   * Leave a card that is already where the scene wants it: a practice set again mid-flow must not
   * pull the login card (the catalogue's scenes put every card in afresh).
   */
  readonly keepCardsInPlace?: boolean;
}

const readerId = (n: 1 | 2) => `reader-${n}`;

/**
 * Plugs the readers the scene needs, empties them, sets counters, inserts the scene's cards and
 * then unplugs the readers it wants gone: a card goes in only where its reader is connected.
 */
export const setTrainingScene = async (ws: Workstation, target: SceneTarget): Promise<void> => {
  const connected = (n: 1 | 2) => ws.slot(n).readerId !== null;
  const inPlace = (n: 1 | 2) =>
    target.keepCardsInPlace === true &&
    target.readers[n].card !== null &&
    ws.slot(n).card?.cardNumber === target.readers[n].card;
  const kept = { 1: inPlace(1), 2: inPlace(2) };
  for (const n of [1, 2] as const) {
    if (target.readers[n].connected && !connected(n)) await ws.agent.plug(readerId(n));
    if (connected(n) && ws.slot(n).card && !kept[n]) await ws.agent.remove(readerId(n));
  }
  for (const { cardNumber, counters } of target.counters)
    await ws.agent.trainingCounters(cardNumber, counters);
  for (const n of [1, 2] as const) {
    const card = target.readers[n].card;
    if (target.readers[n].connected && card !== null && !kept[n]) await ws.agent.insert(readerId(n), card);
  }
  for (const n of [1, 2] as const) {
    if (!target.readers[n].connected && connected(n)) await ws.agent.unplug(readerId(n));
  }
  await ws.simulate(target.simulation);
};
