import type { AssuranceLevel } from '../assurance-level.js';
import { err, ok, type Result } from '../result.js';

/** What the holder's login card proved, as the rule needs it. */
export interface HolderLoginCard {
  /** The authentication certificate was issued by this product for a reserve-card order. */
  readonly issuedForOrder: boolean;
  /** The assurance level of the certificate's policy. */
  readonly assuranceLevel: AssuranceLevel;
}

/**
 * Which card opens the holder's own pages: a reserve card this product issued for an order, with
 * its e-ID at LoA3. An administrator's card, an ordinary card or a LoA2 card is NOT_A_RESERVE_CARD.
 */
export const holderCardProblem = (card: HolderLoginCard): Result<true> =>
  card.issuedForOrder && card.assuranceLevel === 'LoA3' ? ok(true) : err('NOT_A_RESERVE_CARD');
