import type { BranchId, CardNumber, HsaId, Instant } from '@reservkort/domain';
import type { ColumnType } from 'kysely';

export const STOCK_STATES = ['sealed', 'issued', 'returned', 'destroyed'] as const;
export const STOCK_PRODUCTS = ['473', '573'] as const;

/** One reserve card in a card station's stock, from the batch it arrived in to its destruction. */
export interface StockCardsTable {
  card_number: CardNumber;
  product: (typeof STOCK_PRODUCTS)[number];
  /** `YYYY-MM-DD`. */
  manufactured: string;
  /** `YYYY-MM-DD`: the last day the card may be used. */
  physical_expiry: string;
  /** The card station (a branch) the card was registered to. */
  station_id: BranchId;
  state: (typeof STOCK_STATES)[number];
  state_changed_at: Instant;
  holder: HsaId | null;
  /**
   * While a return is being recorded (state `returned`): the revocation reason its certificates
   * get. What a restart needs to finish the return the same way.
   */
  return_reason: string | null;
  batch_id: string;
  imported_by: string;
  imported_at: Instant;
  /** Bumped by every change: the compare-and-set token, so two changes cannot both win. */
  version: ColumnType<number, number | undefined, number>;
}
