import {
  type BranchId,
  type CalendarDate,
  type CardNumber,
  formatDate,
  type Instant,
  parseDate,
  type StockCard,
  type StockState,
} from '@reservkort/domain';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../database.js';
import { type Pending, pendingRows, runPending } from '../pending.js';
import { translateWriteErrors } from '../store-error.js';
import { STOCK_STATES, type StockCardsTable } from './card-stock.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Where a batch came from: stored on each of its cards. */
export interface StockBatch {
  readonly id: string;
  readonly importedBy: string;
  readonly importedAt: Instant;
}

/** A card as stored: the domain's card with its batch, its version and a return in progress. */
export interface StoredStockCard extends StockCard {
  readonly batch: StockBatch;
  readonly version: number;
  /** The revocation reason of a return being recorded (state `returned`); null otherwise. */
  readonly returnReason: string | null;
}

const date = (text: string): CalendarDate => {
  const parsed = parseDate(text);
  if (!parsed.ok) throw new Error(`Stored date ${text} is not a date`);
  return parsed.value;
};

const toCard = (row: Selectable<StockCardsTable>): StoredStockCard => ({
  cardNumber: row.card_number,
  product: row.product,
  manufactured: date(row.manufactured),
  physicalExpiry: date(row.physical_expiry),
  stationId: row.station_id,
  state: row.state,
  stateChangedAt: Number(row.state_changed_at),
  holder: row.holder,
  batch: { id: row.batch_id, importedBy: row.imported_by, importedAt: Number(row.imported_at) },
  version: Number(row.version),
  returnReason: row.return_reason,
});

/**
 * Registers a batch's cards, all or none (the caller's transaction). A card number already in
 * stock, say from a parallel import of the same batch, is a CONFLICT.
 */
export const insertStockCards = (db: Db, cards: readonly StockCard[], batch: StockBatch): Promise<void> =>
  translateWriteErrors(`A card of batch ${batch.id}`, async () => {
    if (cards.length === 0) return;
    await db
      .insertInto('stock_cards')
      .values(
        cards.map((card) => ({
          card_number: card.cardNumber,
          product: card.product,
          manufactured: formatDate(card.manufactured),
          physical_expiry: formatDate(card.physicalExpiry),
          station_id: card.stationId,
          state: card.state,
          state_changed_at: card.stateChangedAt,
          holder: card.holder,
          return_reason: null,
          batch_id: batch.id,
          imported_by: batch.importedBy,
          imported_at: batch.importedAt,
        })),
      )
      .execute();
  });

export const getStockCard = (db: Db, cardNumber: CardNumber): Promise<StoredStockCard | null> =>
  runPending(db, getStockCardPending(db, cardNumber));

/** getStockCard, to be sent with other statements (see runPending). */
export const getStockCardPending = (db: Db, cardNumber: CardNumber): Pending<StoredStockCard | null> =>
  pendingRows(
    db.selectFrom('stock_cards').selectAll().where('card_number', '=', cardNumber).compile(),
    (rows) => {
      const row = rows[0];
      return row === undefined ? null : toCard(row);
    },
  );

/** The cards of these numbers that are in any station's stock. */
export const findStockCards = async (
  db: Db,
  cardNumbers: readonly CardNumber[],
): Promise<Map<CardNumber, StoredStockCard>> => {
  const found = new Map<CardNumber, StoredStockCard>();
  // Chunks keep each statement under the drivers' parameter limits.
  for (let i = 0; i < cardNumbers.length; i += 500) {
    const chunk = cardNumbers.slice(i, i + 500);
    const rows = await db.selectFrom('stock_cards').selectAll().where('card_number', 'in', chunk).execute();
    for (const row of rows) found.set(row.card_number, toCard(row));
  }
  return found;
};

/** A station's cards, of one state if asked, by card number. */
export const listStockCards = async (
  db: Db,
  query: { readonly stationId: BranchId; readonly state?: StockState },
): Promise<StoredStockCard[]> => {
  let select = db.selectFrom('stock_cards').selectAll().where('station_id', '=', query.stationId);
  if (query.state !== undefined) select = select.where('state', '=', query.state);
  const rows = await select.orderBy('card_number').execute();
  return rows.map(toCard);
};

/** How many of a station's cards are in each state. */
export const countStockCards = async (db: Db, stationId: BranchId): Promise<Record<StockState, number>> => {
  const rows = await db
    .selectFrom('stock_cards')
    .select((eb) => ['state', eb.fn.countAll<number | string>().as('count')])
    .where('station_id', '=', stationId)
    .groupBy('state')
    .execute();
  const counts = Object.fromEntries(STOCK_STATES.map((s) => [s, 0])) as Record<StockState, number>;
  for (const row of rows) counts[row.state] = Number(row.count);
  return counts;
};

/**
 * Stores a card's next state if it is still at the version it was read at: of two changes at once
 * exactly one wins; false for the other (or for a card not in stock), which reads it again.
 */
export const moveStockCard = async (
  db: Db,
  change: {
    readonly card: StockCard;
    readonly expectedVersion: number;
    /** The revocation reason while a return is recorded; cleared by every other change. */
    readonly returnReason?: string;
  },
): Promise<boolean> => {
  const result = await db
    .updateTable('stock_cards')
    .set((eb) => ({
      state: change.card.state,
      state_changed_at: change.card.stateChangedAt,
      holder: change.card.holder,
      return_reason: change.returnReason ?? null,
      version: eb('version', '+', 1),
    }))
    .where('card_number', '=', change.card.cardNumber)
    .where('version', '=', change.expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
};

/**
 * Marks a sealed card as taken by an order being registered (bumps its version), if it is still
 * sealed at the version read: a destruction that read the card before cannot then also win.
 */
export const holdSealedStockCard = async (
  db: Db,
  cardNumber: CardNumber,
  expectedVersion: number,
): Promise<boolean> => {
  const result = await db
    .updateTable('stock_cards')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('card_number', '=', cardNumber)
    .where('state', '=', 'sealed')
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
};

/** Cards whose return was recorded but not finished (revocation and destruction): a crash's leftovers. */
export const listReturningStockCards = async (db: Db): Promise<StoredStockCard[]> => {
  const rows = await db
    .selectFrom('stock_cards')
    .selectAll()
    .where('state', '=', 'returned')
    .orderBy('card_number')
    .execute();
  return rows.map(toCard);
};

/** The serials of the e-ID certificates (those naming a person) carrying a card number and not revoked. */
export const unrevokedCertificatesOfCard = async (db: Db, cardNumber: CardNumber): Promise<string[]> => {
  const rows = await db
    .selectFrom('certificates as c')
    .leftJoin('revocations as r', 'r.serial', 'c.serial')
    .select('c.serial')
    .where('c.card_number', '=', cardNumber)
    .where('c.hsa_id', 'is not', null)
    .where('r.serial', 'is', null)
    .orderBy('c.serial')
    .execute();
  return rows.map((row) => row.serial);
};
