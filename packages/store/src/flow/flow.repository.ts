import type { FlowStatus, HsaId, Instant, Step } from '@reservkort/domain';
import { type Kysely, type RawBuilder, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { dialectOf } from '../dialect.js';
import { fromJsonArray, fromJsonText, toJsonText } from '../json-text.js';
import { translateWriteErrors } from '../store-error.js';
import type { FlowsTable } from './flow.table.js';

type Db = Kysely<Database> | Transaction<Database>;

export interface NewFlow {
  readonly id: string;
  readonly orderId: string | null;
  readonly admin2HsaId: HsaId | null;
  readonly status: FlowStatus;
  readonly step: Step;
  /** The domain's FlowState (or anything JSON can hold); stored as JSON. */
  readonly state: unknown;
  readonly deadline: Instant | null;
  /** The effects the flow still owes (revocations …); [] when none. */
  readonly pendingEffects: readonly unknown[];
  readonly createdAt: Instant;
  /** The card station the flow is bound to (null: none, for flows made without one). */
  readonly stationId?: string | null;
  /** The nonce the station's next statement must carry. */
  readonly stationNonce?: string | null;
  /** The login card's insertion counter in its reader at the start, as the station signed it. */
  readonly loginInsertions?: number | null;
  /** The card agent that runs the flow, as its station signed it; absent or null when not known. */
  readonly agent?: FlowAgent | null;
}

/** The card agent of a flow: its version and packaging (msi, pkg, deb …). */
export interface FlowAgent {
  readonly version: string;
  readonly packaging: string;
}

/** The reserve card's new public keys (SubjectPublicKeyInfo, base64 DER), as the card vouched for them. */
export interface FlowCardKeys {
  readonly auth: string;
  readonly sign: string;
}

/** A flow as stored, with the version to pass to updateFlow. */
export interface StoredFlow {
  readonly id: string;
  readonly orderId: string | null;
  readonly admin2HsaId: HsaId | null;
  readonly status: FlowStatus;
  readonly step: Step;
  /** As parsed from JSON: the caller knows its shape. */
  readonly state: unknown;
  readonly deadline: Instant | null;
  readonly pendingEffects: unknown[];
  readonly version: number;
  readonly createdAt: Instant;
  readonly updatedAt: Instant;
  readonly stationId: string | null;
  /** '' for a flow that never had one (none is made any more without one). */
  readonly stationNonce: string;
  readonly loginInsertions: number | null;
  readonly cardKeys: FlowCardKeys | null;
  /** The card agent that ran the flow; null when not known. */
  readonly agent: FlowAgent | null;
}

export interface FlowChange {
  readonly id: string;
  /** The version read with the flow; the update fails if someone changed it since. */
  readonly expectedVersion: number;
  readonly status: FlowStatus;
  readonly step: Step;
  readonly state: unknown;
  readonly deadline: Instant | null;
  readonly pendingEffects: readonly unknown[];
  /** Set when given (null clears it); left as stored when absent. The order is chosen mid-flow. */
  readonly orderId?: string | null;
  /** Set when given (null clears it); left as stored when absent. Admin 2 logs in after the start. */
  readonly admin2HsaId?: HsaId | null;
  /** Set when given: a statement was accepted, the next one must carry this nonce. */
  readonly stationNonce?: string;
  /** Set when given: the keys the reserve card vouched for. */
  readonly cardKeys?: FlowCardKeys;
  /** Set when given: the card agent, e.g. from a later signed report of a flow that had none. */
  readonly agent?: FlowAgent;
  readonly updatedAt: Instant;
}

// A literal, not a parameter, so that SQLite can match the partial index flows_pending_effects_idx.
const NO_PENDING_EFFECTS = sql.lit('[]');

const toFlow = (row: Selectable<FlowsTable>): StoredFlow => ({
  id: row.id,
  orderId: row.order_id,
  admin2HsaId: row.admin2_hsa_id,
  status: row.status,
  step: row.step,
  state: fromJsonText(row.state_json),
  deadline: row.deadline,
  pendingEffects: fromJsonArray(row.pending_effects_json, `Pending effects of flow ${row.id}`),
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  stationId: row.station_id,
  stationNonce: row.station_nonce ?? '',
  loginInsertions: row.login_insertions === null ? null : Number(row.login_insertions),
  cardKeys:
    row.auth_spki === null || row.sign_spki === null ? null : { auth: row.auth_spki, sign: row.sign_spki },
  agent:
    row.agent_version === null
      ? null
      : { version: row.agent_version, packaging: row.agent_packaging ?? UNKNOWN_AGENT_PART },
});

/** What an agent's version or packaging reads as when no station reported it. */
export const UNKNOWN_AGENT_PART = 'unknown';

interface RaisedCode {
  readonly code: string;
  readonly step: number;
  readonly at: Instant;
}

/**
 * What the insight figures need of a state's timeline: each code at the step and time it was first
 * raised, and the furthest step reached. Read from the stored shape, not the domain's rules.
 */
export const timelineFacts = (state: unknown): { codes: RaisedCode[]; reachedStep: number } => {
  const timeline = (state as { timeline?: unknown } | null)?.timeline;
  const codes: RaisedCode[] = [];
  let reachedStep = 0;
  if (!Array.isArray(timeline)) return { codes, reachedStep };
  const seen = new Set<string>();
  for (const entry of timeline as { at?: unknown; step?: unknown; codes?: unknown }[]) {
    const step = typeof entry?.step === 'number' ? entry.step : 0;
    const at = typeof entry?.at === 'number' ? entry.at : 0;
    reachedStep = Math.max(reachedStep, step);
    if (!Array.isArray(entry?.codes)) continue;
    for (const code of entry.codes) {
      if (typeof code !== 'string' || seen.has(code)) continue;
      seen.add(code);
      codes.push({ code, step, at });
    }
  }
  return { codes, reachedStep };
};

/** Records the codes not yet recorded for the flow (a code counts once per flow, where first raised). */
const recordCodes = async (db: Db, flowId: string, codes: readonly RaisedCode[]): Promise<void> => {
  if (codes.length === 0) return;
  await db
    .insertInto('flow_codes')
    .values(codes.map((c) => ({ flow_id: flowId, code: c.code, step: c.step, at: c.at })))
    .onConflict((oc) => oc.columns(['flow_id', 'code']).doNothing())
    .execute();
};

/** Runs `work` in the caller's transaction, or in a new one: a flow and its facts commit together. */
const inTransaction = <T>(db: Db, work: (trx: Db) => Promise<T>): Promise<T> =>
  db.isTransaction ? work(db) : (db as Kysely<Database>).transaction().execute(work);

/** The branch of a flow: its order's recipient's when it has an order, else its card station's. */
const branchOf = (orderId: string | null, stationId: string | null | RawBuilder<unknown>) =>
  sql<string | null>`coalesce(
    (select o.branch_id from orders o where o.id = ${orderId}),
    (select s.branch_id from stations s where s.id = ${stationId}))`;

/** Stores a new flow at version 1. A duplicate id is a CONFLICT, an unknown order NOT_FOUND. */
export async function insertFlow(db: Db, flow: NewFlow): Promise<void> {
  const facts = timelineFacts(flow.state);
  await translateWriteErrors(`Flow ${flow.id}`, () =>
    inTransaction(db, async (trx) => {
      await insertFlowRow(trx, flow, facts.reachedStep, facts.codes.length);
      await recordCodes(trx, flow.id, facts.codes);
    }),
  );
}

const insertFlowRow = (db: Db, flow: NewFlow, reachedStep: number, codeCount: number) =>
  db
    .insertInto('flows')
    .values({
      id: flow.id,
      order_id: flow.orderId,
      admin2_hsa_id: flow.admin2HsaId,
      status: flow.status,
      step: flow.step,
      state_json: toJsonText(flow.state, `The state of flow ${flow.id}`),
      deadline: flow.deadline,
      pending_effects_json: toJsonText(flow.pendingEffects, `The pending effects of flow ${flow.id}`),
      created_at: flow.createdAt,
      updated_at: flow.createdAt,
      station_id: flow.stationId ?? null,
      station_nonce: flow.stationNonce ?? null,
      login_insertions: flow.loginInsertions ?? null,
      branch_id: branchOf(flow.orderId, flow.stationId ?? null),
      reached_step: reachedStep,
      code_count: codeCount,
      agent_version: flow.agent?.version ?? null,
      agent_packaging: flow.agent?.packaging ?? null,
    })
    .execute();

export async function getFlow(db: Db, id: string): Promise<StoredFlow | null> {
  const row = await db.selectFrom('flows').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toFlow(row);
}

/**
 * Replaces a flow's state if it is still at the expected version, bumping the version; false if
 * another request changed it first (or it does not exist), in which case the caller reads it again.
 */
export async function updateFlow(db: Db, change: FlowChange): Promise<boolean> {
  const state_json = toJsonText(change.state, `The state of flow ${change.id}`);
  const pending_effects_json = toJsonText(change.pendingEffects, `The pending effects of flow ${change.id}`);
  const facts = timelineFacts(change.state);
  const updated = await translateWriteErrors(`Flow ${change.id}`, async () => {
    // On PostgreSQL the row and its codes in one statement: one round trip, atomic on its own.
    if (dialectOf<Database>(db) === 'postgres' && facts.codes.length > 0)
      return (await updateFlowWithCodes(db, change, state_json, pending_effects_json, facts)).length;
    return inTransaction(db, async (trx) => {
      const result = await updateFlowRow(
        trx,
        change,
        state_json,
        pending_effects_json,
        facts,
      ).executeTakeFirst();
      const count = Number(result.numUpdatedRows);
      if (count === 1) await recordCodes(trx, change.id, facts.codes);
      return count;
    });
  });
  return updated === 1;
}

/** The update, and the codes recorded only if it found the flow at its version (PostgreSQL). */
const updateFlowWithCodes = (
  db: Db,
  change: FlowChange,
  state_json: string,
  pending_effects_json: string,
  facts: { readonly reachedStep: number; readonly codes: readonly RaisedCode[] },
) =>
  db
    .with('updated', () =>
      updateFlowRow(db, change, state_json, pending_effects_json, facts).returning('flows.id'),
    )
    .with('recorded', (qc) =>
      qc
        .insertInto('flow_codes')
        .columns(['flow_id', 'code', 'step', 'at'])
        .expression(
          sql`select updated.id, c.code, c.step, c.at from updated cross join unnest(
            ${facts.codes.map((c) => c.code)}::text[],
            ${facts.codes.map((c) => c.step)}::integer[],
            ${facts.codes.map((c) => c.at)}::bigint[]) as c(code, step, at)`,
        )
        .onConflict((oc) => oc.columns(['flow_id', 'code']).doNothing()),
    )
    .selectFrom('updated')
    .select('updated.id')
    .execute();

const updateFlowRow = (
  db: Db,
  change: FlowChange,
  state_json: string,
  pending_effects_json: string,
  facts: { readonly reachedStep: number; readonly codes: readonly unknown[] },
) =>
  db
    .updateTable('flows')
    .set((eb) => ({
      status: change.status,
      step: change.step,
      state_json,
      deadline: change.deadline,
      pending_effects_json,
      updated_at: change.updatedAt,
      version: eb('version', '+', 1),
      // Timelines only grow: neither the furthest step nor the codes raised ever go back.
      reached_step: sql<number>`case when reached_step > ${sql.lit(facts.reachedStep)} then reached_step else ${sql.lit(facts.reachedStep)} end`,
      code_count: sql<number>`case when code_count > ${sql.lit(facts.codes.length)} then code_count else ${sql.lit(facts.codes.length)} end`,
      ...(change.orderId !== undefined && {
        order_id: change.orderId,
        branch_id: branchOf(change.orderId, sql.ref('flows.station_id')),
      }),
      ...(change.agent !== undefined && {
        agent_version: change.agent.version,
        agent_packaging: change.agent.packaging,
      }),
      ...(change.admin2HsaId !== undefined && { admin2_hsa_id: change.admin2HsaId }),
      ...(change.stationNonce !== undefined && { station_nonce: change.stationNonce }),
      ...(change.cardKeys !== undefined && {
        auth_spki: change.cardKeys.auth,
        sign_spki: change.cardKeys.sign,
      }),
    }))
    .where('id', '=', change.id)
    .where('version', '=', change.expectedVersion);

/** Active flows whose deadline has passed (deadline <= now), the longest overdue first. */
export async function listDueFlows(db: Db, now: Instant, limit: number): Promise<StoredFlow[]> {
  const rows = await db
    .selectFrom('flows')
    .selectAll()
    .where('status', '=', 'active')
    .where('deadline', '<=', now)
    .orderBy('deadline')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toFlow);
}

/** Flows, of any status, that still owe effects; the longest waiting first. */
export async function listFlowsWithPendingEffects(db: Db, limit: number): Promise<StoredFlow[]> {
  const rows = await db
    .selectFrom('flows')
    .selectAll()
    .where('pending_effects_json', '<>', NO_PENDING_EFFECTS)
    .orderBy('updated_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toFlow);
}

/** Every flow of an order, oldest first. */
export async function listFlowsForOrder(db: Db, orderId: string): Promise<StoredFlow[]> {
  const rows = await db
    .selectFrom('flows')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toFlow);
}

/** The order's active flow; if there were ever more than one, the newest. */
export async function activeFlowForOrder(db: Db, orderId: string): Promise<StoredFlow | null> {
  const row = await db
    .selectFrom('flows')
    .selectAll()
    .where('order_id', '=', orderId)
    .where('status', '=', 'active')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? null : toFlow(row);
}

/**
 * Records the card agent of a flow that has none yet (from a later signed report, e.g. in a support
 * case). A fact beside the flow's state, not a change of it: the version is left alone.
 */
export async function recordFlowAgentIfUnknown(db: Db, flowId: string, agent: FlowAgent): Promise<void> {
  await db
    .updateTable('flows')
    .set({ agent_version: agent.version, agent_packaging: agent.packaging })
    .where('id', '=', flowId)
    .where('agent_version', 'is', null)
    .execute();
}
