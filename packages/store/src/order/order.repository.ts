import type { CardNumber, HsaId, Instant, Order, OrderState } from '@reservkort/domain';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { fromIntegerBoolean, toIntegerBoolean } from '../integer-boolean.js';
import { type Pending, pendingRows, runPending } from '../pending.js';
import { preparedQuery } from '../prepared-query.js';
import { StoreError, translateWriteErrors } from '../store-error.js';
import type { OrdersTable } from './order.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** An order as stored: the domain's order and the version to pass to updateOrderState. */
export interface StoredOrder extends Order {
  readonly version: number;
}

export interface OrderStateChange {
  readonly id: string;
  /** The version read with the order; the update fails if someone changed it since. */
  readonly expectedVersion: number;
  readonly state: OrderState;
  readonly stateChangedAt: Instant;
}

export const toOrder = (row: Selectable<OrdersTable>): StoredOrder => ({
  id: row.id,
  recipient: {
    hsaId: row.recipient_hsa_id,
    branchId: row.branch_id,
    protectedIdentity: fromIntegerBoolean(row.protected_identity),
  },
  cardNumber: row.card_number,
  validity: { notBefore: row.not_before, notAfter: row.not_after },
  idDocument: row.id_document,
  createdBy: row.created_by,
  createdAt: row.created_at,
  signature: {
    signedBy: row.signed_by,
    signedAt: row.signed_at,
    assuranceLevel: row.signature_level,
    certificateSerial: row.signature_serial,
  },
  state: row.state,
  stateChangedAt: row.state_changed_at,
  version: row.version,
});

/** The unique index that lets one order at a time hold a card number (open or completed). */
const CARD_NUMBER_INDEX = 'orders_card_number_holding_idx';

/** Whether a unique violation is the card-number index's: PostgreSQL names it, SQLite its column. */
const isCardNumberConflict = (error: StoreError): boolean => {
  const cause = error.cause as { constraint?: unknown; message?: unknown } | undefined;
  return cause?.constraint === CARD_NUMBER_INDEX || String(cause?.message).includes('orders.card_number');
};

/**
 * Stores a new order at version 1. A CONFLICT if the id exists, or if another order holds the card
 * number (open or completed): the database refuses it even when the caller checked first and a
 * parallel transaction committed in between.
 */
export async function insertOrder(db: Db, order: Order): Promise<void> {
  await translateWriteErrors(`Order ${order.id}`, () =>
    db
      .insertInto('orders')
      .values({
        id: order.id,
        recipient_hsa_id: order.recipient.hsaId,
        branch_id: order.recipient.branchId,
        protected_identity: toIntegerBoolean(order.recipient.protectedIdentity),
        card_number: order.cardNumber,
        not_before: order.validity.notBefore,
        not_after: order.validity.notAfter,
        id_document: order.idDocument,
        created_by: order.createdBy,
        created_at: order.createdAt,
        signed_by: order.signature.signedBy,
        signed_at: order.signature.signedAt,
        signature_level: order.signature.assuranceLevel,
        signature_serial: order.signature.certificateSerial,
        state: order.state,
        state_changed_at: order.stateChangedAt,
      })
      .execute(),
  ).catch((error: unknown) => {
    if (error instanceof StoreError && error.code === 'CONFLICT' && isCardNumberConflict(error)) {
      throw new StoreError('CONFLICT', `Card number ${order.cardNumber} is held by another order`, {
        cause: error.cause,
      });
    }
    throw error;
  });
}

const orderById = preparedQuery((db: Kysely<Database>, id: string) =>
  db.selectFrom('orders').selectAll().where('id', '=', id),
);

const orderOf = (rows: readonly Selectable<OrdersTable>[]): StoredOrder | null => {
  const row = rows[0];
  return row === undefined ? null : toOrder(row);
};

export async function getOrder(db: Db, id: string): Promise<StoredOrder | null> {
  return orderOf((await orderById(db, id)).rows);
}

/** getOrder, to be sent with other statements (see runPending). */
export const getOrderPending = (db: Db, id: string): Pending<StoredOrder | null> =>
  pendingRows(orderById.compile(db, id), orderOf);

/** A recipient's orders, newest first. */
export async function listOrdersForRecipient(db: Db, hsaId: HsaId): Promise<StoredOrder[]> {
  const rows = await db
    .selectFrom('orders')
    .selectAll()
    .where('recipient_hsa_id', '=', hsaId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toOrder);
}

/**
 * Moves an order to a new state if it is still at the expected version; false if another request
 * changed it first (or it does not exist), in which case the caller reads it again.
 */
export const updateOrderState = (db: Db, change: OrderStateChange): Promise<boolean> =>
  runPending(db, updateOrderStatePending(db, change));

/** updateOrderState, to be sent with other statements (see runPending). */
export const updateOrderStatePending = (db: Db, change: OrderStateChange): Pending<boolean> => ({
  queries: [
    db
      .updateTable('orders')
      .set((eb) => ({
        state: change.state,
        state_changed_at: change.stateChangedAt,
        version: eb('version', '+', 1),
      }))
      .where('id', '=', change.id)
      .where('version', '=', change.expectedVersion)
      .compile(),
  ],
  answer: ([result]) => Number(result?.numAffectedRows ?? 0) === 1,
});

/** Whom a card number is already ordered for: the recipient of any order for it not cancelled. */
export async function cardHolder(db: Db, cardNumber: CardNumber): Promise<HsaId | null> {
  const row = await db
    .selectFrom('orders')
    .select('recipient_hsa_id')
    .where('card_number', '=', cardNumber)
    .where('state', '!=', 'cancelled')
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.recipient_hsa_id ?? null;
}

/** Everything stored about a card number: every order of it, and whom certificates carrying it named. */
export const cardNumberUse = (db: Db, cardNumber: CardNumber): Promise<CardNumberUse> =>
  runPending(db, cardNumberUsePending(db, cardNumber));

export interface CardNumberUse {
  readonly orders: StoredOrder[];
  readonly certifiedFor: HsaId[];
}

/** cardNumberUse, to be sent with other statements (see runPending): its two reads need no answer. */
export const cardNumberUsePending = (db: Db, cardNumber: CardNumber): Pending<CardNumberUse> => ({
  queries: [
    db
      .selectFrom('orders')
      .selectAll()
      .where('card_number', '=', cardNumber)
      .orderBy('created_at')
      .orderBy('id')
      .compile(),
    db
      .selectFrom('certificates')
      .select('hsa_id')
      .distinct()
      .where('card_number', '=', cardNumber)
      .where('hsa_id', 'is not', null)
      .orderBy('hsa_id')
      .compile(),
  ],
  answer: ([orders, certified]) => ({
    orders: ((orders?.rows ?? []) as Selectable<OrdersTable>[]).map(toOrder),
    certifiedFor: ((certified?.rows ?? []) as { hsa_id: HsaId | null }[]).flatMap((row) =>
      row.hsa_id === null ? [] : [row.hsa_id],
    ),
  }),
});
