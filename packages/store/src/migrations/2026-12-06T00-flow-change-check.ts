import { type Kysely, PostgresAdapter, sql } from 'kysely';

// On PostgreSQL a request's last writes can carry the transaction's COMMIT with them (see
// updateFlowAndAudit): the COMMIT then runs unless a statement before it failed, so a flow update
// that found the flow at another version must fail rather than change no row. This function turns
// the count of rows an update changed into that failure (SQLSTATE RK001) when it is not exactly one.
// SQLite needs nothing: its transactions end only when the server asks.

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`
    create function one_flow_changed(changed bigint) returns bigint
    language plpgsql volatile as $$
    begin
      if changed <> 1 then
        raise exception 'the flow is no longer at the version the change was made for'
          using errcode = 'RK001';
      end if;
      return changed;
    end;
    $$`.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`drop function if exists one_flow_changed(bigint)`.execute(db);
}
