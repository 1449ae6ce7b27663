import { errorResponse } from '@reservkort/domain';
import { describe, expect, it } from 'vitest';
import type { PracticePlan } from '../api/views.js';
import { sceneOfPlan } from './practice-session.js';

const ADMIN = '9752278900000000002';
const RESERVE = '9752278900000000100';

const plan = (over: Partial<PracticePlan> = {}): PracticePlan => ({
  kind: 'plan',
  caseId: 'case-0001',
  code: 'CARD_REMOVED_DURING_DOWNLOAD',
  caseCodes: ['CARD_REMOVED_DURING_DOWNLOAD'],
  at: 0,
  step: 6,
  readers: {
    1: { connected: true, card: { role: 'admin', cardNumber: ADMIN } },
    2: { connected: true, card: { role: 'reserve', cardNumber: RESERVE } },
  },
  adminCard: { cardNumber: ADMIN, name: 'Admin Två' },
  reserveCard: RESERVE,
  recipient: null,
  clock: { sinceStartMs: 1000, deadlineLeftMs: null },
  catalogue: errorResponse('CARD_REMOVED_DURING_DOWNLOAD'),
  ...over,
});

describe('sceneOfPlan', () => {
  it('puts the plan’s cards in its readers, the administrator’s card with its PIN tries full', () => {
    const scene = sceneOfPlan(plan());
    expect(scene.readers).toEqual({
      1: { connected: true, card: ADMIN },
      2: { connected: true, card: RESERVE },
    });
    expect(scene.counters).toEqual([{ cardNumber: ADMIN, counters: 'full' }]);
    expect(scene.keepCardsInPlace).toBe(true);
  });

  it('leaves a reader empty, and sets no counters, for a number that is no card number', () => {
    const scene = sceneOfPlan(
      plan({
        readers: {
          1: { connected: false, card: null },
          2: { connected: true, card: { role: 'foreign', cardNumber: 'not a card' } },
        },
        adminCard: { cardNumber: '12', name: 'Admin Två' },
      }),
    );
    expect(scene.readers).toEqual({
      1: { connected: false, card: null },
      2: { connected: true, card: null },
    });
    expect(scene.counters).toEqual([]);
  });
});
