// The practice of a support case under way ("Öva på det här"): its plan, kept for the browser tab
// so that it stays in the training panel while the trainee logs out and walks the flow.
import { type CardNumber, parseCardNumber } from '@reservkort/domain';
import type { PracticePlan } from '../api/views.js';
import { HEALTHY } from './scenarios.js';
import type { SceneTarget } from './scene-setter.js';

const STORAGE_KEY = 'reservkort.practice';

export class PracticeSession {
  private current: PracticePlan | null;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly storage: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>) {
    this.current = PracticeSession.read(storage);
  }

  private static read(storage: Pick<Storage, 'getItem'>): PracticePlan | null {
    try {
      const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as PracticePlan | null;
      return saved?.kind === 'plan' ? saved : null;
    } catch {
      return null;
    }
  }

  get plan(): PracticePlan | null {
    return this.current;
  }

  set(plan: PracticePlan | null): void {
    this.current = plan;
    if (plan === null) this.storage.removeItem(STORAGE_KEY);
    else this.storage.setItem(STORAGE_KEY, JSON.stringify(plan));
    for (const listener of this.listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The readers and cards of the plan, with the administrator's card's PIN tries full and no faults simulated. */
export const sceneOfPlan = (plan: PracticePlan): SceneTarget => {
  // The plan names the training's own cards; a number that is no card number puts no card in.
  const card = (cardNumber: string | undefined): CardNumber | null => {
    const parsed = cardNumber === undefined ? null : parseCardNumber(cardNumber);
    return parsed?.ok ? parsed.value : null;
  };
  const admin = card(plan.adminCard.cardNumber);
  return {
    readers: {
      1: { connected: plan.readers[1].connected, card: card(plan.readers[1].card?.cardNumber) },
      2: { connected: plan.readers[2].connected, card: card(plan.readers[2].card?.cardNumber) },
    },
    counters: admin === null ? [] : [{ cardNumber: admin, counters: 'full' }],
    simulation: HEALTHY,
    keepCardsInPlace: true,
  };
};
