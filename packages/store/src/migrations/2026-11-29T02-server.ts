import { type Kysely, PostgresAdapter, sql } from 'kysely';

// The HTTP server's own state: issuance flows, card-login sessions and their challenges, staff roles
// and support cases. A snapshot like the earlier migrations: it repeats the value lists it checks.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const int64 = postgres ? 'bigint' : 'integer';

  await db.schema
    .createTable('flows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.references('orders.id'))
    .addColumn('admin2_hsa_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('state_json', 'text', (c) => c.notNull())
    .addColumn('deadline', int64)
    .addColumn('pending_effects_json', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', int64, (c) => c.notNull())
    .addColumn('updated_at', int64, (c) => c.notNull())
    .execute();
  // The deadline sweep: active flows whose acknowledgement time ran out.
  await db.schema
    .createIndex('flows_status_deadline_idx')
    .on('flows')
    .columns(['status', 'deadline'])
    .execute();
  await db.schema.createIndex('flows_order_id_idx').on('flows').column('order_id').execute();
  // Almost every flow owes nothing: a partial index keeps the retry sweep from scanning them all.
  await db.schema
    .createIndex('flows_pending_effects_idx')
    .on('flows')
    .column('updated_at')
    .where(sql.ref('pending_effects_json'), '<>', sql.lit('[]'))
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('admin_hsa_id', 'text', (c) => c.notNull())
    .addColumn('certificate_serial', 'text', (c) => c.notNull())
    .addColumn('card_number', 'text', (c) => c.notNull())
    .addColumn('assurance_level', 'text', (c) => c.notNull())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', int64, (c) => c.notNull())
    .addColumn('last_seen_at', int64, (c) => c.notNull())
    .addColumn('expires_at', int64, (c) => c.notNull())
    .addColumn('login_card_removed_at', int64)
    .addColumn('ended_at', int64)
    .execute();
  await db.schema.createIndex('sessions_expires_at_idx').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('login_challenges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('challenge', 'text', (c) => c.notNull())
    .addColumn('created_at', int64, (c) => c.notNull())
    .addColumn('expires_at', int64, (c) => c.notNull())
    .addColumn('used_at', int64)
    .execute();
  await db.schema
    .createIndex('login_challenges_expires_at_idx')
    .on('login_challenges')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('staff_roles')
    .addColumn('hsa_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('staff_roles_pk', ['hsa_id', 'role'])
    .addCheckConstraint('staff_roles_role', sql`role in ('service-desk')`)
    .execute();

  await db.schema
    .createTable('support_cases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // The draft keeps the flow's id and timeline, so a case outlives a purged flow.
    .addColumn('flow_id', 'text', (c) => c.references('flows.id').onDelete('set null'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('assignee', 'text')
    .addColumn('reported_by', 'text', (c) => c.notNull())
    .addColumn('protected_identity', 'integer', (c) => c.notNull())
    .addColumn('codes_json', 'text', (c) => c.notNull())
    .addColumn('draft_json', 'text', (c) => c.notNull())
    .addColumn('created_at', int64, (c) => c.notNull())
    .addColumn('updated_at', int64, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addCheckConstraint('support_cases_status', sql`status in ('open', 'assigned', 'resolved')`)
    .addCheckConstraint('support_cases_protected_identity_flag', sql`protected_identity in (0, 1)`)
    .execute();
  await db.schema
    .createIndex('support_cases_status_created_at_idx')
    .on('support_cases')
    .columns(['status', 'created_at'])
    .execute();
  await db.schema.createIndex('support_cases_flow_id_idx').on('support_cases').column('flow_id').execute();

  await db.schema
    .createTable('case_comments')
    .addColumn('id', postgres ? 'bigserial' : 'integer', (c) =>
      postgres ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('case_id', 'text', (c) => c.notNull().references('support_cases.id').onDelete('cascade'))
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('at', int64, (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('case_comments_case_id_at_idx')
    .on('case_comments')
    .columns(['case_id', 'at'])
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  // Dependants before what they refer to.
  for (const table of [
    'case_comments',
    'support_cases',
    'staff_roles',
    'login_challenges',
    'sessions',
    'flows',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
