import { describe, expect, it } from 'vitest';
import {
  type CardNumber,
  importStockBatch,
  parseStockLine,
  physicalExpiryOf,
  stockProblem,
  transitionStockCard,
} from '../index.js';
import {
  aStockCard,
  card,
  OTHER_CARD,
  persons,
  RESERVE_CARD,
  T0,
  TODAY,
  tree,
  unwrap,
} from '../test-support/fixtures.js';

const line = (
  overrides: Partial<{
    cardNumber: string;
    product: string;
    manufactured: string;
    physicalExpiry: string;
  }> = {},
) => ({
  cardNumber: RESERVE_CARD,
  product: '473',
  manufactured: '2026-03-15',
  ...overrides,
});

const batch = (
  lines: ReturnType<typeof line>[],
  inStock: (c: CardNumber) => ReturnType<typeof aStockCard> | null = () => null,
) => importStockBatch({ lines, stationId: 'clinic', tree, now: T0, inStock });

describe('physical expiry', () => {
  it('is the day before the same date 4 years (473) or 5 years (573) after manufacture', () => {
    expect(physicalExpiryOf('473', { year: 2026, month: 3, day: 15 })).toEqual({
      year: 2030,
      month: 3,
      day: 14,
    });
    expect(physicalExpiryOf('573', { year: 2026, month: 3, day: 15 })).toEqual({
      year: 2031,
      month: 3,
      day: 14,
    });
    expect(physicalExpiryOf('473', { year: 2026, month: 1, day: 1 })).toEqual({
      year: 2029,
      month: 12,
      day: 31,
    });
  });

  it('turns a card made on 29 February into one that lasts through 28 February', () => {
    expect(physicalExpiryOf('473', { year: 2028, month: 2, day: 29 })).toEqual({
      year: 2032,
      month: 2,
      day: 28,
    });
    expect(physicalExpiryOf('573', { year: 2028, month: 2, day: 29 })).toEqual({
      year: 2033,
      month: 2,
      day: 28,
    });
  });
});

describe('a batch line', () => {
  it('reads a card number as printed, the product and the date, and derives the physical expiry', () => {
    const parsed = unwrap(
      parseStockLine(line({ cardNumber: '9752 2789 0000 0000 100', product: ' 573 ' }), 1),
    );
    expect(parsed).toMatchObject({
      cardNumber: RESERVE_CARD,
      product: '573',
      physicalExpiry: { year: 2031, month: 3, day: 14 },
    });
  });

  it('accepts a printed physical expiry that follows the rule', () => {
    expect(parseStockLine(line({ physicalExpiry: '2030-03-14' }), 1).ok).toBe(true);
  });

  it.each([
    ['card-number', line({ cardNumber: '1234' })],
    ['product', line({ product: '474' })],
    ['manufactured', line({ manufactured: '2026-02-30' })],
    ['expiry', line({ physicalExpiry: '2030-03-15' })],
  ])('is refused for its %s, naming the line', (reason, input) => {
    expect(parseStockLine(input, 7)).toEqual({
      ok: false,
      error: { code: 'STOCK_LINE_INVALID', details: { line: 7, reason } },
    });
  });
});

describe('importing a batch to a card station', () => {
  it('registers every card sealed, at the station, with nobody holding it', () => {
    const cards = unwrap(batch([line(), line({ cardNumber: OTHER_CARD, product: '573' })]));
    expect(cards).toHaveLength(2);
    for (const c of cards)
      expect(c).toMatchObject({ stationId: 'clinic', state: 'sealed', stateChangedAt: T0, holder: null });
  });

  it('registers nothing and reports every problem with its line', () => {
    const result = batch([line(), line({ product: 'x' }), line(), line({ cardNumber: OTHER_CARD })], (c) =>
      c === OTHER_CARD ? aStockCard({ cardNumber: OTHER_CARD }) : null,
    );
    expect(result).toEqual({
      ok: false,
      error: [
        { code: 'STOCK_LINE_INVALID', details: { line: 2, reason: 'product' } },
        { code: 'STOCK_LINE_INVALID', details: { line: 3, reason: 'duplicate' } },
        { code: 'CARD_ALREADY_IN_STOCK', details: { line: 4, cardNumber: OTHER_CARD } },
      ],
    });
  });

  it('needs a card station the organisation knows', () => {
    const result = importStockBatch({
      lines: [line()],
      stationId: 'nowhere',
      tree,
      now: T0,
      inStock: () => null,
    });
    expect(result).toEqual({ ok: false, error: [{ code: 'BRANCH_UNKNOWN' }] });
  });

  it('takes an empty batch as nothing to register', () => {
    expect(unwrap(batch([]))).toEqual([]);
  });
});

describe("a card's stock state", () => {
  const at = T0 + 1000;

  it('goes sealed → issued → returned → destroyed, recording the holder', () => {
    const issued = unwrap(
      transitionStockCard(aStockCard(), { type: 'issue', at, holder: persons.anna.hsaId }),
    );
    expect(issued).toMatchObject({ state: 'issued', holder: persons.anna.hsaId, stateChangedAt: at });
    const returned = unwrap(transitionStockCard(issued, { type: 'return', at: at + 1 }));
    expect(returned).toMatchObject({ state: 'returned', holder: persons.anna.hsaId });
    expect(unwrap(transitionStockCard(returned, { type: 'destroy', at: at + 2 }))).toMatchObject({
      state: 'destroyed',
    });
  });

  it('lets a sealed card be destroyed without ever being given out', () => {
    expect(unwrap(transitionStockCard(aStockCard(), { type: 'destroy', at }))).toMatchObject({
      state: 'destroyed',
      holder: null,
    });
  });

  it.each([
    ['sealed', { type: 'return', at }],
    ['issued', { type: 'issue', at, holder: persons.anna.hsaId }],
    ['issued', { type: 'destroy', at }],
    ['returned', { type: 'issue', at, holder: persons.anna.hsaId }],
    ['returned', { type: 'return', at }],
  ] as const)('refuses a %s card to %o', (state, event) => {
    expect(transitionStockCard(aStockCard({ state }), event)).toEqual({
      ok: false,
      error: { code: 'CARD_STOCK_CONFLICT', details: { cardNumber: RESERVE_CARD, state, event: event.type } },
    });
  });

  it('never lets a destroyed card be used again', () => {
    const destroyed = aStockCard({ state: 'destroyed' });
    for (const event of [
      { type: 'issue', at, holder: persons.anna.hsaId },
      { type: 'return', at },
      { type: 'destroy', at },
    ] as const) {
      expect(transitionStockCard(destroyed, event)).toMatchObject({
        ok: false,
        error: { code: 'CARD_DESTROYED' },
      });
    }
    expect(stockProblem(RESERVE_CARD, destroyed, 'clinic', TODAY)?.code).toBe('CARD_DESTROYED');
  });
});

describe('a card number checked against the stock at order time', () => {
  it('passes a sealed card at the station that lasts through the last day of validity', () => {
    expect(stockProblem(RESERVE_CARD, aStockCard(), 'clinic', { year: 2030, month: 3, day: 14 })).toBeNull();
  });

  it('refuses each problem with its own code', () => {
    expect(stockProblem(card(999), null, 'clinic', TODAY)).toEqual({
      code: 'CARD_NOT_IN_STOCK',
      details: { cardNumber: card(999) },
    });
    expect(stockProblem(RESERVE_CARD, aStockCard(), 'hospital', TODAY)?.code).toBe('CARD_AT_OTHER_STATION');
    expect(stockProblem(RESERVE_CARD, aStockCard({ state: 'issued' }), 'clinic', TODAY)?.code).toBe(
      'CARD_ALREADY_GIVEN',
    );
    expect(stockProblem(RESERVE_CARD, aStockCard({ state: 'returned' }), 'clinic', TODAY)?.code).toBe(
      'CARD_ALREADY_GIVEN',
    );
    expect(stockProblem(RESERVE_CARD, aStockCard(), 'clinic', { year: 2030, month: 3, day: 15 })).toEqual({
      code: 'CARD_PAST_PHYSICAL_EXPIRY',
      details: { physicalExpiry: '2030-03-14' },
    });
  });

  it('says another station before anything else about the card', () => {
    expect(stockProblem(RESERVE_CARD, aStockCard({ state: 'issued' }), 'other', TODAY)?.code).toBe(
      'CARD_AT_OTHER_STATION',
    );
  });
});
