// Card stock for tests: the reserve cards a test orders, registered sealed to a card station, as a
// card bureau's batch would be.
import { type BranchId, type CardNumber, physicalExpiryOf } from '@reservkort/domain';
import { type Database, findStockCards, insertStockCards } from '@reservkort/store';
import type { Kysely } from 'kysely';

/** Made at the start of 2026 as 573 cards: they last through 2030-12-31. */
export const TEST_STOCK_MANUFACTURED = { year: 2026, month: 1, day: 1 } as const;

/** Registers the cards (those not yet in stock) sealed to a station (the test station's `region`). */
export const stockTestCards = async (
  db: Kysely<Database>,
  cardNumbers: readonly CardNumber[],
  stationId: BranchId = 'region',
  at = Date.now(),
): Promise<void> => {
  const known = await findStockCards(db, cardNumbers);
  const fresh = [...new Set(cardNumbers)].filter((n) => !known.has(n));
  await insertStockCards(
    db,
    fresh.map((cardNumber) => ({
      cardNumber,
      product: '573' as const,
      manufactured: TEST_STOCK_MANUFACTURED,
      physicalExpiry: physicalExpiryOf('573', TEST_STOCK_MANUFACTURED),
      stationId,
      state: 'sealed' as const,
      stateChangedAt: at,
      holder: null,
    })),
    { id: `test-batch-${stationId}`, importedBy: 'card-bureau', importedAt: at },
  );
};
