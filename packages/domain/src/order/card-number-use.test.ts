import { describe, expect, it } from 'vitest';
import { cardNumberProblem, type HsaId, type Order, type OrderEvent, transitionOrder } from '../index.js';
import { anOrder, persons, SECOND, T0 } from '../test-support/fixtures.js';

const DAY = 86_400_000;
const anna = persons.anna.hsaId;
const hidden = persons.hidden.hsaId;

const moved = (order: Order, ...types: OrderEvent['type'][]): Order =>
  types.reduce((current, type) => {
    const next = transitionOrder(current, { type, at: T0 + SECOND });
    if (!next.ok) throw new Error(`${type}: ${next.error.code}`);
    return next.value;
  }, order);

const forAnna = anOrder();
const use = (orders: readonly Order[], certifiedFor: readonly HsaId[] = []) => ({ orders, certifiedFor });

describe('whether a card number may be ordered for a person', () => {
  it('may be ordered when nothing is known of it', () => {
    expect(cardNumberProblem(use([]), anna, T0)).toBeNull();
  });

  it('is taken by anyone else’s open, running or issued order', () => {
    for (const order of [forAnna, moved(forAnna, 'start'), moved(forAnna, 'start', 'complete')]) {
      expect(cardNumberProblem(use([order]), hidden, T0 + 2 * SECOND), order.state).toBe('CARD_NUMBER_TAKEN');
    }
  });

  it('is not ordered twice for the same person, nor issued to them again', () => {
    expect(cardNumberProblem(use([forAnna]), anna, T0)).toBe('CARD_ALREADY_ORDERED');
    expect(cardNumberProblem(use([moved(forAnna, 'start')]), anna, T0)).toBe('CARD_ALREADY_ORDERED');
    const issued = moved(forAnna, 'start', 'complete');
    expect(cardNumberProblem(use([issued]), anna, T0)).toBe('CARD_ALREADY_ISSUED');
    // However long ago: the card was handed over and acknowledged.
    expect(cardNumberProblem(use([issued]), anna, T0 + 400 * DAY)).toBe('CARD_ALREADY_ISSUED');
  });

  it('comes back when its order was cancelled or ran out unused, for the same person or another', () => {
    const cancelled = moved(forAnna, 'cancel');
    const lapsed = forAnna; // still 'registered' as stored, but past its validity
    const later = forAnna.validity.notAfter;
    for (const [order, at] of [
      [cancelled, T0 + 2 * SECOND],
      [moved(forAnna, 'start', 'release', 'cancel'), T0 + 2 * SECOND],
      [lapsed, later],
    ] as const) {
      expect(cardNumberProblem(use([order]), anna, at)).toBeNull();
      expect(cardNumberProblem(use([order]), hidden, at)).toBeNull();
    }
  });

  it('never goes to another person once a certificate carried it, even if that order was cancelled', () => {
    const cancelled = moved(forAnna, 'start', 'cancel');
    expect(cardNumberProblem(use([cancelled], [anna]), hidden, T0 + 2 * SECOND)).toBe('CARD_NUMBER_TAKEN');
    expect(cardNumberProblem(use([], [anna]), hidden, T0)).toBe('CARD_NUMBER_TAKEN');
    // The same person may have it ordered again: the aborted attempt's certificates were revoked.
    expect(cardNumberProblem(use([cancelled], [anna]), anna, T0 + 2 * SECOND)).toBeNull();
  });
});
