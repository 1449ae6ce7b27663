import type { CardNumber, CardOwner, HsaId } from '@reservkort/domain';
import {
  type CardNumberUse,
  cardNumberUsePending,
  type Database,
  type Pending,
  pendingValue,
  runPending,
} from '@reservkort/store';
import type { Kysely, Transaction } from 'kysely';

/**
 * Whose card a card in a reader is, from what the store knows of its number: on an order that was
 * not cancelled (the previous recipient's card, issued or not), certified for the administrator
 * who runs the flow (their own login card), certified for someone else without an order (a staff
 * member's card), or unknown. Names nobody: the flow only says which kind of card it is.
 */
export const cardOwner = (
  db: Kysely<Database> | Transaction<Database>,
  cardNumber: CardNumber | null,
  admin: HsaId,
): Promise<CardOwner> => runPending(db, cardOwnerPending(db, cardNumber, admin));

/** cardOwner, to be sent with other statements (see runPending); no card, nothing to read. */
export const cardOwnerPending = (
  db: Kysely<Database> | Transaction<Database>,
  cardNumber: CardNumber | null,
  admin: HsaId,
): Pending<CardOwner> => {
  const ownerFor = cardOwnerForPending(db, cardNumber);
  return { queries: ownerFor.queries, answer: (results) => ownerFor.answer(results)(admin) };
};

/**
 * cardOwnerPending before the administrator is known (read with what says who it is): the answer
 * judges the card for whichever administrator it is given.
 */
export const cardOwnerForPending = (
  db: Kysely<Database> | Transaction<Database>,
  cardNumber: CardNumber | null,
): Pending<(admin: HsaId) => CardOwner> => {
  if (cardNumber === null) return pendingValue(() => 'unknown');
  const use = cardNumberUsePending(db, cardNumber);
  return { queries: use.queries, answer: (results) => (admin) => ownerOf(use.answer(results), admin) };
};

const ownerOf = (use: CardNumberUse, admin: HsaId): CardOwner => {
  if (use.orders.some((order) => order.state !== 'cancelled')) return 'previous-recipient';
  if (use.certifiedFor.includes(admin)) return 'own-login-card';
  return use.certifiedFor.length > 0 ? 'staff-card' : 'unknown';
};
