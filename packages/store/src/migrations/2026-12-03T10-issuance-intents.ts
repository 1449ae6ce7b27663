import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Exactly-once issuance: the intent to issue one certificate of a flow is recorded before anything is
// signed, with a unique key on (flow, attempt, purpose), and each certificate names the intent it was
// issued under. A snapshot like the earlier migrations: it repeats the value lists it checks.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const int64 = db.getExecutor().adapter instanceof PostgresAdapter ? 'bigint' : 'integer';

  await db.schema
    .createTable('issuance_intents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('flow_id', 'text', (c) => c.notNull().references('flows.id'))
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('created_at', int64, (c) => c.notNull())
    .addColumn('issued_at', int64)
    .addColumn('serial', 'text')
    .addColumn('bound_at', int64)
    .addColumn('closed_at', int64)
    .addColumn('settled_at', int64)
    .addColumn('outcome', 'text')
    .addUniqueConstraint('issuance_intents_flow_attempt_purpose', ['flow_id', 'attempt', 'purpose'])
    .addCheckConstraint('issuance_intents_purpose', sql`purpose in ('card-auth', 'card-sign')`)
    .addCheckConstraint('issuance_intents_outcome', sql`outcome is null or outcome in ('kept', 'revoked')`)
    .execute();
  // The reconciler reads only the intents it has not settled yet.
  await db.schema
    .createIndex('issuance_intents_unsettled_idx')
    .on('issuance_intents')
    .column('created_at')
    .where(sql.ref('settled_at'), 'is', null)
    .execute();

  await db.schema
    .alterTable('certificates')
    .addColumn('intent_id', 'text', (c) => c.references('issuance_intents.id'))
    .execute();
  // One certificate per intent, whatever the callers do (NULLs, certificates of no intent, repeat).
  await db.schema
    .createIndex('certificates_intent_id_idx')
    .unique()
    .on('certificates')
    .column('intent_id')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('certificates_intent_id_idx').execute();
  await db.schema.alterTable('certificates').dropColumn('intent_id').execute();
  await db.schema.dropTable('issuance_intents').execute();
}
