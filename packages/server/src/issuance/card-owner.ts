import type { CardNumber, CardOwner, HsaId } from '@reservkort/domain';
import { cardNumberUse, type Database } from '@reservkort/store';
import type { Kysely, Transaction } from 'kysely';

/**
 * Whose card a card in a reader is, from what the store knows of its number: on an order that was
 * not cancelled (the previous recipient's card, issued or not), certified for the administrator
 * who runs the flow (their own login card), certified for someone else without an order (a staff
 * member's card), or unknown. Names nobody: the flow only says which kind of card it is.
 */
export async function cardOwner(
  db: Kysely<Database> | Transaction<Database>,
  cardNumber: CardNumber | null,
  admin: HsaId,
): Promise<CardOwner> {
  if (cardNumber === null) return 'unknown';
  const use = await cardNumberUse(db, cardNumber);
  if (use.orders.some((order) => order.state !== 'cancelled')) return 'previous-recipient';
  if (use.certifiedFor.includes(admin)) return 'own-login-card';
  return use.certifiedFor.length > 0 ? 'staff-card' : 'unknown';
}
