import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Förlängning: one row per extension of a reserve card. A partial unique index lets at most one
// extension of a card be anything but abandoned, so two parallel starts cannot both commit (the
// second insert waits for the first and then violates the index, on SQLite and at PostgreSQL's READ
// COMMITTED), and a completed one keeps the card from being extended again. A snapshot: it repeats
// the states it checks.

const INDEX = 'extensions_card_number_once_idx';

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const int64 = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer';
  await db.schema
    .createTable('extensions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('card_number', 'text', (c) => c.notNull())
    .addColumn('holder_hsa_id', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id'))
    .addColumn('old_auth_serial', 'text', (c) => c.notNull().references('certificates.serial'))
    .addColumn('old_sign_serial', 'text', (c) => c.notNull().references('certificates.serial'))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('terms_accepted_at', int64)
    .addColumn('auth_spki', 'text')
    .addColumn('sign_spki', 'text')
    .addColumn('auth_intent', 'text')
    .addColumn('sign_intent', 'text')
    .addColumn('not_before', int64)
    .addColumn('not_after', int64)
    .addColumn('new_auth_serial', 'text', (c) => c.references('certificates.serial'))
    .addColumn('new_sign_serial', 'text', (c) => c.references('certificates.serial'))
    .addColumn('created_at', int64, (c) => c.notNull())
    .addColumn('updated_at', int64, (c) => c.notNull())
    .addColumn('deadline', int64, (c) => c.notNull())
    .addColumn('claimed_at', int64)
    .addColumn('issued_at', int64)
    .addColumn('completed_at', int64)
    .addColumn('abandoned_at', int64)
    .addColumn('abandon_reason', 'text')
    .addColumn('old_revoked_at', int64)
    .addColumn('new_revoked_at', int64)
    .addCheckConstraint(
      'extensions_state',
      sql`state in ('open', 'issuing', 'issued', 'completed', 'abandoned')`,
    )
    .execute();
  await db.schema
    .createIndex(INDEX)
    .on('extensions')
    .column('card_number')
    .unique()
    .where(sql<boolean>`state <> 'abandoned'`)
    .execute();
  // The sweep reads only extensions with something left to do.
  await db.schema
    .createIndex('extensions_unsettled_idx')
    .on('extensions')
    .column('deadline')
    .where(sql<boolean>`old_revoked_at is null and new_revoked_at is null`)
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('extensions').execute();
}
