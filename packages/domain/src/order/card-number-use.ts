import type { HsaId } from '../identifiers/hsa-id.js';
import type { Instant } from '../time.js';
import { type Order, type OrderState, orderStateAt } from './order.js';

/** Everything known of one card number: its orders, and whom certificates carrying it were issued to. */
export interface CardNumberUse {
  readonly orders: readonly Order[];
  /** The HSA-ids of every certificate ever issued with the card number, revoked ones included. */
  readonly certifiedFor: readonly HsaId[];
}

export type CardNumberProblem = 'CARD_NUMBER_TAKEN' | 'CARD_ALREADY_ISSUED' | 'CARD_ALREADY_ORDERED';

/**
 * The stored order states in which an order holds its card number: open, or issued. At most one
 * order of a card number is in one of them (the store enforces it); cancelled and expired orders
 * give the number back.
 */
export const CARD_HOLDING_STATES: readonly OrderState[] = ['registered', 'in_progress', 'completed'];

/**
 * Whether a card number may be ordered for a recipient (SPEC §3: one reserve card is only ever given
 * to one person). A number someone else holds, or that any certificate issued to someone else ever
 * carried, is taken for good; one already issued to the recipient is not issued again (extending it
 * is the holder's own errand); one with an open order for the recipient needs no second order. A
 * number whose orders were all cancelled or ran out unused, with no certificate, may be ordered again.
 */
export const cardNumberProblem = (
  use: CardNumberUse,
  recipient: HsaId,
  now: Instant,
): CardNumberProblem | null => {
  const holding = use.orders.filter((order) => CARD_HOLDING_STATES.includes(orderStateAt(order, now)));
  if (
    use.certifiedFor.some((holder) => holder !== recipient) ||
    holding.some((order) => order.recipient.hsaId !== recipient)
  ) {
    return 'CARD_NUMBER_TAKEN';
  }
  if (holding.some((order) => order.state === 'completed')) return 'CARD_ALREADY_ISSUED';
  return holding.length > 0 ? 'CARD_ALREADY_ORDERED' : null;
};
