import { type Kysely, PostgresAdapter, sql } from 'kysely';

// What the insight figures read instead of every flow's state JSON: on each flow its branch (the
// order's recipient's, else its card station's), the furthest step it reached, how many codes it
// raised and the card agent that ran it; each catalogue code a flow raised, once, at the step and time it was first raised
// (`flow_codes`); and when a support case was resolved. Existing rows are backfilled from the
// stored JSON; what cannot be known (the agent of a flow nobody reported) stays null ("unknown").
// The extraction below repeats the timeline's shape on purpose: migrations import no application code.

const BATCH = 500;

interface TimelineLike {
  readonly at?: unknown;
  readonly step?: unknown;
  readonly codes?: unknown;
}

/** The first time each code was raised on a timeline, and the furthest step it shows. */
const readTimeline = (stateJson: string) => {
  const first = new Map<string, { step: number; at: number }>();
  let reached = 0;
  let timeline: unknown;
  try {
    timeline = (JSON.parse(stateJson) as { timeline?: unknown }).timeline;
  } catch {
    return { first, reached };
  }
  if (!Array.isArray(timeline)) return { first, reached };
  for (const entry of timeline as TimelineLike[]) {
    const step = typeof entry?.step === 'number' ? entry.step : 0;
    const at = typeof entry?.at === 'number' ? entry.at : 0;
    reached = Math.max(reached, step);
    if (!Array.isArray(entry?.codes)) continue;
    for (const code of entry.codes)
      if (typeof code === 'string' && !first.has(code)) first.set(code, { step, at });
  }
  return { first, reached };
};

const textField = (json: string, field: string): string | null => {
  try {
    const value = (JSON.parse(json) as Record<string, unknown>)[field];
    return typeof value === 'string' && value !== '' ? value : null;
  } catch {
    return null;
  }
};

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const int64 = postgres ? 'bigint' : 'integer';
  await db.schema.alterTable('flows').addColumn('branch_id', 'text').execute();
  await db.schema
    .alterTable('flows')
    .addColumn('reached_step', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('flows').addColumn('agent_version', 'text').execute();
  await db.schema.alterTable('flows').addColumn('agent_packaging', 'text').execute();
  await db.schema
    .alterTable('flows')
    .addColumn('code_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('support_cases').addColumn('resolved_at', int64).execute();

  await db.schema
    .createTable('flow_codes')
    .addColumn('flow_id', 'text', (c) => c.notNull().references('flows.id').onDelete('cascade'))
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('at', int64, (c) => c.notNull())
    .addPrimaryKeyConstraint('flow_codes_pk', ['flow_id', 'code'])
    .execute();
  await db.schema.createIndex('flow_codes_code_idx').on('flow_codes').columns(['code', 'flow_id']).execute();
  // The period is every figure's first filter; branch and station narrow it further. Each index
  // carries every column the figures read, so a year of flows is counted from the index alone,
  // never from the rows with their state JSON.
  const figures = ['status', 'reached_step', 'code_count', 'agent_version', 'agent_packaging', 'id'];
  await db.schema
    .createIndex('flows_created_at_idx')
    .on('flows')
    .columns(['created_at', 'branch_id', 'station_id', ...figures])
    .execute();
  await db.schema
    .createIndex('flows_branch_created_at_idx')
    .on('flows')
    .columns(['branch_id', 'created_at', 'station_id', ...figures])
    .execute();
  await db.schema
    .createIndex('flows_station_created_at_idx')
    .on('flows')
    .columns(['station_id', 'created_at', 'branch_id', ...figures])
    .execute();
  // A code's flows joined to their start and branch without reading the flow rows.
  await db.schema
    .createIndex('flows_id_created_at_idx')
    .on('flows')
    .columns(['id', 'created_at', 'branch_id', 'station_id'])
    .execute();
  await db.schema
    .createIndex('support_cases_resolved_at_idx')
    .on('support_cases')
    .column('resolved_at')
    .execute();

  await sql`update flows set branch_id = coalesce(
      (select o.branch_id from orders o where o.id = flows.order_id),
      (select s.branch_id from stations s where s.id = flows.station_id))`.execute(db);
  // The last change of a resolved case is, for cases from before this column, the best known resolution time.
  await sql`update support_cases set resolved_at = updated_at where status = 'resolved'`.execute(db);

  let after = '';
  for (;;) {
    const rows: { id: string; state_json: string }[] = await db
      .selectFrom('flows')
      .select(['id', 'state_json'])
      .where('id', '>', after)
      .orderBy('id')
      .limit(BATCH)
      .execute();
    if (rows.length === 0) break;
    for (const row of rows) {
      const { first, reached } = readTimeline(row.state_json);
      if (reached > 0 || first.size > 0)
        await db
          .updateTable('flows')
          .set({ reached_step: reached, code_count: first.size })
          .where('id', '=', row.id)
          .execute();
      if (first.size > 0)
        await db
          .insertInto('flow_codes')
          .values([...first].map(([code, { step, at }]) => ({ flow_id: row.id, code, step, at })))
          .execute();
    }
    after = rows[rows.length - 1]?.id ?? after;
  }

  // The agent of a flow is known where a support case carried its signed report: the newest case wins.
  const cases: { flow_id: string; draft_json: string }[] = await db
    .selectFrom('support_cases')
    .select(['flow_id', 'draft_json'])
    .where('flow_id', 'is not', null)
    .orderBy('created_at')
    .execute();
  const agents = new Map<string, { version: string; packaging: string }>();
  for (const row of cases) {
    const version = textField(row.draft_json, 'agentVersion');
    if (version === null) continue;
    agents.set(row.flow_id, { version, packaging: textField(row.draft_json, 'agentPackaging') ?? 'unknown' });
  }
  for (const [flowId, agent] of agents)
    await db
      .updateTable('flows')
      .set({ agent_version: agent.version, agent_packaging: agent.packaging })
      .where('id', '=', flowId)
      .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: migrations are schema-agnostic
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('flow_codes').execute();
  for (const index of [
    'flows_created_at_idx',
    'flows_branch_created_at_idx',
    'flows_station_created_at_idx',
    'flows_id_created_at_idx',
  ])
    await db.schema.dropIndex(index).execute();
  await db.schema.dropIndex('support_cases_resolved_at_idx').execute();
  await db.schema.alterTable('support_cases').dropColumn('resolved_at').execute();
  for (const column of ['code_count', 'agent_packaging', 'agent_version', 'reached_step', 'branch_id'])
    await db.schema.alterTable('flows').dropColumn(column).execute();
}
