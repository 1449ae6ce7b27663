import { describe, expect, it } from 'vitest';
import { type ReturnInput, recordReturn, stockProblem, transitionStockCard } from '../index.js';
import {
  admins,
  aStockCard,
  persons,
  RESERVE_CARD,
  T0,
  TODAY,
  tree,
  unwrap,
} from '../test-support/fixtures.js';

const at = T0 + 60_000;
const input = (overrides: Partial<ReturnInput> = {}): ReturnInput => ({
  tree,
  admin: admins.admin1,
  assuranceLevel: 'LoA3',
  card: aStockCard({ state: 'issued', holder: persons.anna.hsaId }),
  cause: 'ordinary-card-back',
  unrevokedSerials: ['0a01', '0a02'],
  now: at,
  ...overrides,
});

describe('return and destruction', () => {
  it('revokes the e-ID as superseded when the ordinary card is back, and destroys the card', () => {
    const outcome = unwrap(recordReturn(input()));
    expect(outcome.returned).toMatchObject({
      state: 'returned',
      stateChangedAt: at,
      holder: persons.anna.hsaId,
    });
    expect(outcome.destroyed).toMatchObject({ state: 'destroyed', stateChangedAt: at });
    expect(outcome.revoke).toEqual({ serials: ['0a01', '0a02'], reason: 'superseded' });
  });

  it('revokes as cessationOfOperation when the card is no longer needed', () => {
    expect(unwrap(recordReturn(input({ cause: 'no-longer-needed' }))).revoke.reason).toBe(
      'cessationOfOperation',
    );
  });

  it('leaves a destroyed card unusable for good: no order, no issue, no second return', () => {
    const { destroyed } = unwrap(recordReturn(input()));
    expect(stockProblem(RESERVE_CARD, destroyed, 'clinic', TODAY)?.code).toBe('CARD_DESTROYED');
    expect(transitionStockCard(destroyed, { type: 'issue', at, holder: persons.anna.hsaId })).toMatchObject({
      ok: false,
      error: { code: 'CARD_DESTROYED' },
    });
    expect(recordReturn(input({ card: destroyed }))).toMatchObject({
      ok: false,
      error: { code: 'CARD_DESTROYED' },
    });
  });

  it('is only recorded for a card that was given out', () => {
    expect(recordReturn(input({ card: aStockCard() }))).toMatchObject({
      ok: false,
      error: { code: 'CARD_STOCK_CONFLICT', details: { state: 'sealed', event: 'return' } },
    });
  });

  it("needs an administrator with a role at the card's station, logged in at LoA3", () => {
    expect(recordReturn(input({ admin: admins.outsider }))).toEqual({
      ok: false,
      error: { code: 'NO_ROLE_IN_BRANCH' },
    });
    expect(recordReturn(input({ assuranceLevel: 'LoA2' }))).toEqual({
      ok: false,
      error: { code: 'LOA2_LOGIN' },
    });
    expect(recordReturn(input({ admin: admins.weakRoles })).ok).toBe(true);
  });
});
