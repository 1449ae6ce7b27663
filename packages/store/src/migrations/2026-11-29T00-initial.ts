import { type Kysely, PostgresAdapter, sql } from 'kysely';

// A snapshot of the schema as of this date: it must never change once released, so it repeats the
// value lists it checks instead of importing them.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // Milliseconds since the epoch overflow int4; SQLite's integer is 64-bit already.
  const int64 = postgres ? 'bigint' : 'integer';

  await db.schema
    .createTable('branches')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('parent_id', 'text', (c) => c.references('branches.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('persons')
    .addColumn('hsa_id', 'text', (c) => c.primaryKey())
    .addColumn('personal_number', 'text')
    .addColumn('given_name', 'text', (c) => c.notNull())
    .addColumn('surname', 'text', (c) => c.notNull())
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addColumn('protected_identity', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', int64, (c) => c.notNull())
    .addCheckConstraint('persons_personal_number_length', sql`length(personal_number) = 12`)
    .addCheckConstraint('persons_protected_identity_flag', sql`protected_identity in (0, 1)`)
    .execute();
  await db.schema
    .createIndex('persons_personal_number_idx')
    .on('persons')
    .column('personal_number')
    .execute();
  await db.schema.createIndex('persons_branch_id_idx').on('persons').column('branch_id').execute();

  await db.schema
    .createTable('admins')
    .addColumn('hsa_id', 'text', (c) => c.primaryKey())
    .addColumn('given_name', 'text', (c) => c.notNull())
    .addColumn('surname', 'text', (c) => c.notNull())
    .addColumn('created_at', int64, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('role_grants')
    .addColumn('admin_hsa_id', 'text', (c) => c.notNull().references('admins.hsa_id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('branch_id', 'text', (c) => c.notNull().references('branches.id'))
    .addPrimaryKeyConstraint('role_grants_pk', ['admin_hsa_id', 'role', 'branch_id'])
    .addCheckConstraint('role_grants_role', sql`role in ('KRA', 'RA', 'ORA', 'LRA', 'KUR')`)
    .execute();

  await db.schema
    .createTable('orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('recipient_hsa_id', 'text', (c) => c.notNull().references('persons.hsa_id'))
    .addColumn('branch_id', 'text', (c) => c.notNull())
    .addColumn('protected_identity', 'integer', (c) => c.notNull())
    .addColumn('card_number', 'text', (c) => c.notNull())
    .addColumn('not_before', int64, (c) => c.notNull())
    .addColumn('not_after', int64, (c) => c.notNull())
    .addColumn('id_document', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', int64, (c) => c.notNull())
    .addColumn('signed_by', 'text', (c) => c.notNull())
    .addColumn('signed_at', int64, (c) => c.notNull())
    .addColumn('signature_level', 'text', (c) => c.notNull())
    .addColumn('signature_serial', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_changed_at', int64, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addCheckConstraint('orders_protected_identity_flag', sql`protected_identity in (0, 1)`)
    .addCheckConstraint(
      'orders_state',
      sql`state in ('registered', 'in_progress', 'completed', 'expired', 'cancelled')`,
    )
    .execute();
  await db.schema
    .createIndex('orders_recipient_hsa_id_idx')
    .on('orders')
    .column('recipient_hsa_id')
    .execute();
  await db.schema.createIndex('orders_card_number_idx').on('orders').column('card_number').execute();

  await db.schema
    .createTable('cas')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('issuer_id', 'text', (c) => c.references('cas.id'))
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('key_kind', 'text', (c) => c.notNull())
    .addColumn('key_ref', 'text', (c) => c.notNull())
    .addColumn('policy_oid', 'text')
    .addColumn('assurance_level', 'text')
    .addColumn('crl_number', int64, (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', int64, (c) => c.notNull())
    .addCheckConstraint('cas_role', sql`role in ('root', 'issuing', 'ocsp')`)
    .addCheckConstraint('cas_key_kind', sql`key_kind in ('file', 'pkcs11')`)
    .execute();

  await db.schema
    .createTable('certificates')
    .addColumn('serial', 'text', (c) => c.primaryKey())
    .addColumn('ca_id', 'text', (c) => c.notNull().references('cas.id'))
    .addColumn('profile', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('hsa_id', 'text')
    .addColumn('card_number', 'text')
    .addColumn('order_id', 'text')
    .addColumn('not_before', int64, (c) => c.notNull())
    .addColumn('not_after', int64, (c) => c.notNull())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('created_at', int64, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('certificates_ca_id_idx').on('certificates').column('ca_id').execute();
  await db.schema.createIndex('certificates_hsa_id_idx').on('certificates').column('hsa_id').execute();
  await db.schema
    .createIndex('certificates_card_number_idx')
    .on('certificates')
    .column('card_number')
    .execute();

  await db.schema
    .createTable('revocations')
    .addColumn('serial', 'text', (c) => c.primaryKey().references('certificates.serial'))
    .addColumn('revoked_at', int64, (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('revoked_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('seq', int64, (c) => c.primaryKey())
    .addColumn('at', int64, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();

  // The hash chain detects tampering; the triggers stop it through the application's own account.
  if (postgres) {
    await sql`
      create function audit_log_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_log is append-only';
      end;
      $$`.execute(db);
    // Statement-level, so that TRUNCATE (which skips row triggers) is refused too.
    await sql`
      create trigger audit_log_append_only before update or delete or truncate on audit_log
      for each statement execute function audit_log_append_only()`.execute(db);
  } else {
    await sql`
      create trigger audit_log_no_update before update on audit_log
      begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
    await sql`
      create trigger audit_log_no_delete before delete on audit_log
      begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  // Dependants before what they refer to.
  for (const table of [
    'audit_log',
    'revocations',
    'certificates',
    'cas',
    'orders',
    'role_grants',
    'admins',
    'persons',
    'branches',
  ]) {
    await db.schema.dropTable(table).execute();
  }
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`drop function audit_log_append_only()`.execute(db);
  }
}
