import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Card stock per card station: sealed reserve cards registered in batches to a branch, and their
// life (sealed, issued, returned, destroyed). A snapshot like the earlier migrations: it repeats the
// value lists it checks.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const int64 = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer';
  await db.schema
    .createTable('stock_cards')
    .addColumn('card_number', 'text', (c) => c.primaryKey())
    .addColumn('product', 'text', (c) => c.notNull())
    .addColumn('manufactured', 'text', (c) => c.notNull())
    .addColumn('physical_expiry', 'text', (c) => c.notNull())
    .addColumn('station_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_changed_at', int64, (c) => c.notNull())
    .addColumn('holder', 'text')
    .addColumn('return_reason', 'text')
    .addColumn('batch_id', 'text', (c) => c.notNull())
    .addColumn('imported_by', 'text', (c) => c.notNull())
    .addColumn('imported_at', int64, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .addCheckConstraint('stock_cards_product', sql`product in ('473', '573')`)
    .addCheckConstraint('stock_cards_state', sql`state in ('sealed', 'issued', 'returned', 'destroyed')`)
    // A card given out has a holder; a sealed one has none.
    .addCheckConstraint(
      'stock_cards_holder',
      sql`(state not in ('issued', 'returned') or holder is not null) and (state <> 'sealed' or holder is null)`,
    )
    .execute();
  await db.schema
    .createIndex('stock_cards_station_idx')
    .on('stock_cards')
    .columns(['station_id', 'state'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stock_cards').execute();
}
