import { type Kysely, PostgresAdapter, sql } from 'kysely';

// On PostgreSQL an appender to the audit chain takes the appenders' advisory lock, then reads the
// chain's head: two statements, since a statement's snapshot is taken before any lock it takes.
// This function does both in one round trip: a VOLATILE PL/pgSQL function takes a new snapshot
// for each query it runs, so the head it returns is read under the lock, as the second statement
// read it. The key is the one appenders have always used ("reskaudt" in ASCII), so servers of the
// release before this one, still running, are serialised with it. SQLite needs nothing: its write
// lock is taken at BEGIN.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create function audit_head_locked() returns table (head_seq bigint, head_hash text)
    language plpgsql volatile as $$
    begin
      perform pg_advisory_xact_lock(8243121598005339252);
      return query select a.seq, a.hash from audit_log a order by a.seq desc limit 1;
    end;
    $$`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop function if exists audit_head_locked()`.execute(db);
}
