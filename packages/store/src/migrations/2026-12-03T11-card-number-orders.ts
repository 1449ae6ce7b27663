import { type Kysely, sql } from 'kysely';

// One reserve card number, one person: at most one order of a card number is open or completed.
// Two parallel registrations that each saw no such order cannot both commit, on SQLite or on
// PostgreSQL at READ COMMITTED: the second insert waits for the first and then violates the index.
// Cancelled and expired orders give the number back. A snapshot: it repeats the states it names.

const INDEX = 'orders_card_number_holding_idx';

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
const holdingDuplicates = async (db: Kysely<any>): Promise<string[]> => {
  const rows = await db
    .selectFrom('orders')
    .select('card_number')
    .where('state', 'in', ['registered', 'in_progress', 'completed'])
    .groupBy('card_number')
    .having((eb) => eb.fn.countAll(), '>', 1)
    .orderBy('card_number')
    .execute();
  return rows.map((row) => String(row.card_number));
};

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const duplicated = await holdingDuplicates(db);
  if (duplicated.length > 0) {
    // An unused order past its validity reads 'registered' until something records its expiry;
    // record it here, as the order's own rules would, for the numbers the index would refuse.
    await db
      .updateTable('orders')
      .set((eb) => ({
        state: 'expired',
        state_changed_at: eb.ref('not_after'),
        version: eb('version', '+', 1),
      }))
      .where('state', '=', 'registered')
      .where('not_after', '<=', Date.now())
      .where('card_number', 'in', duplicated)
      .execute();
  }
  const left = await holdingDuplicates(db);
  if (left.length > 0) {
    throw new Error(
      `Card numbers with more than one open or completed order: ${left.join(', ')}. ` +
        'A card number belongs to one order at a time: cancel the extra orders in the admin portal ' +
        'with the previous version, then upgrade again.',
    );
  }
  await db.schema
    .createIndex(INDEX)
    .on('orders')
    .column('card_number')
    .unique()
    .where(sql<boolean>`state in ('registered', 'in_progress', 'completed')`)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex(INDEX).execute();
}
