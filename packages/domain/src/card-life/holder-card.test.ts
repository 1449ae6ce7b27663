import { describe, expect, it } from 'vitest';
import { holderCardProblem } from './holder-card.js';

describe('holderCardProblem', () => {
  it('lets a LoA3 card issued for an order open the holder’s pages', () => {
    expect(holderCardProblem({ issuedForOrder: true, assuranceLevel: 'LoA3' })).toEqual({
      ok: true,
      value: true,
    });
  });

  it('refuses any other card as no reserve card', () => {
    for (const card of [
      { issuedForOrder: false, assuranceLevel: 'LoA3' },
      { issuedForOrder: true, assuranceLevel: 'LoA2' },
    ] as const) {
      const decided = holderCardProblem(card);
      expect(decided.ok ? null : decided.error.code).toBe('NOT_A_RESERVE_CARD');
    }
  });
});
