import { type FlowStatus, type HsaId, type Instant, jsonWithTimeline, type Step } from '@reservkort/domain';
import {
  type CompiledQuery,
  type Kysely,
  type QueryCreator,
  type RawBuilder,
  type Selectable,
  sql,
  type Transaction,
  type Updateable,
} from 'kysely';
import {
  type AuditEntry,
  appendAudit,
  auditAppendToRunTogether,
  type NewAuditEntry,
} from '../audit/audit.repository.js';
import type { Database } from '../database.js';
import { fromJsonArray, fromJsonText, toJsonText } from '../json-text.js';
import { type Pending, runPending } from '../pending.js';
import { type PreparedQuery, preparedQuery } from '../prepared-query.js';
import { runTogether } from '../run-together.js';
import { driverCode, translateWriteErrors } from '../store-error.js';
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
  /** The furthest step the timeline reached, and how many codes it raised, as recorded. */
  readonly reachedStep: number;
  readonly codeCount: number;
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
  /**
   * The flow as read at `expectedVersion`, when the caller has it: columns whose values stay the same
   * are then left out of the update (each one set rewrites its entries in the indexes over it, and on
   * PostgreSQL rules out a heap-only update), and only codes new to the timeline are recorded.
   */
  readonly previous?: StoredFlow;
}

// A literal, not a parameter, so that SQLite can match the partial index flows_pending_effects_idx.
const NO_PENDING_EFFECTS = sql.lit('[]');

/**
 * A flow's state the caller already holds, parsed, at the version it was stored with. A read given
 * one leaves the state's JSON in the database when the version is still that one (see
 * `flowColumnsKnowing`), and hands back this state: states are immutable, each version has one.
 */
export interface KnownFlowState {
  readonly version: number;
  readonly state: unknown;
}

/** The version to leave the state unread at: the known one, or one no flow has. */
export const knownVersionOf = (known: KnownFlowState | undefined): number => known?.version ?? -1;

/**
 * The flow's columns of `table`, named `prefix` + column, with the state NULL while the row is still
 * at the version the caller knows: a flow's state is several kilobytes of JSON, and a request that
 * already holds it need not read and parse it.
 */
export const flowColumnsKnowing = (table: string, knownVersion: number, prefix = '') => {
  const version = sql.ref(`${table}.version`);
  const state = sql.ref(`${table}.state_json`);
  return FLOW_COLUMNS.map((column) =>
    column === 'state_json'
      ? sql<string | null>`case when ${version} = ${knownVersion} then null else ${state} end`.as(
          `${prefix}${column}`,
        )
      : sql.ref(`${table}.${column}`).as(`${prefix}${column}`),
  );
};

const stateOf = (row: Selectable<FlowsTable>, known: KnownFlowState | undefined): unknown => {
  // The column is NOT NULL: it reads as null only when the version matched the known one.
  if ((row.state_json as string | null) !== null) return fromJsonText(row.state_json);
  if (known === undefined || known.version !== row.version)
    throw new Error(`The state of flow ${row.id} was left unread but is not known`);
  return known.state;
};

/** A flow as stored, from its row (whose state may have been left unread, if `known` holds it). */
export const toFlow = (row: Selectable<FlowsTable>, known?: KnownFlowState): StoredFlow => ({
  id: row.id,
  orderId: row.order_id,
  admin2HsaId: row.admin2_hsa_id,
  status: row.status,
  step: row.step,
  state: stateOf(row, known),
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
  reachedStep: Number(row.reached_step),
  codeCount: Number(row.code_count),
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
  await recordCodesQuery(db, flowId, codes).execute();
};

const recordCodesQuery = (db: Db, flowId: string, codes: readonly RaisedCode[]) =>
  db
    .insertInto('flow_codes')
    .values(codes.map((c) => ({ flow_id: flowId, code: c.code, step: c.step, at: c.at })))
    .onConflict((oc) => oc.columns(['flow_id', 'code']).doNothing());

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
      await insertFlowRow(trx, flow, facts.reachedStep, facts.codes.length).execute();
      await recordCodes(trx, flow.id, facts.codes);
    }),
  );
}

/**
 * insertFlow and the audit entry that records it, as the transaction's last work: on PostgreSQL the
 * insert, its codes and the entry go out with the COMMIT, one round trip (see runTogether); an
 * insert that fails (the id taken) fails in the database, so nothing commits. Elsewhere one after
 * the other, the transaction to be committed as usual. The caller runs nothing more in it.
 */
export async function insertFlowAndAudit(
  trx: Transaction<Database>,
  flow: NewFlow,
  entry: NewAuditEntry,
): Promise<AuditEntry> {
  const append = auditAppendToRunTogether(trx, entry);
  if (append === null) {
    await insertFlow(trx, flow);
    return appendAudit(trx, entry);
  }
  const facts = timelineFacts(flow.state);
  const insert = insertFlowRow(trx, flow, facts.reachedStep, facts.codes.length).compile();
  const codes = facts.codes.length === 0 ? [] : [recordCodesQuery(trx, flow.id, facts.codes).compile()];
  const results = await translateWriteErrors(`Flow ${flow.id}`, () =>
    runTogether(trx, [insert, ...codes, append.query], { commit: true }),
  );
  return append.accept((results.at(-1)?.rows ?? []) as Parameters<typeof append.accept>[0]);
}

const insertFlowRow = (db: Db, flow: NewFlow, reachedStep: number, codeCount: number) =>
  db.insertInto('flows').values({
    id: flow.id,
    order_id: flow.orderId,
    admin2_hsa_id: flow.admin2HsaId,
    status: flow.status,
    step: flow.step,
    state_json: stateJson(flow.state, `The state of flow ${flow.id}`),
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
  });

/** Every column of a flow row: for reading one beside another table's row, under a prefix. */
export const FLOW_COLUMNS = [
  'id',
  'order_id',
  'admin2_hsa_id',
  'status',
  'step',
  'state_json',
  'deadline',
  'pending_effects_json',
  'version',
  'created_at',
  'updated_at',
  'station_id',
  'station_nonce',
  'login_insertions',
  'auth_spki',
  'sign_spki',
  'branch_id',
  'reached_step',
  'code_count',
  'agent_version',
  'agent_packaging',
] as const satisfies readonly (keyof FlowsTable)[];

const flowById = preparedQuery((db: Kysely<Database>, id: string, knownVersion: number) =>
  db.selectFrom('flows').select(flowColumnsKnowing('flows', knownVersion)).where('id', '=', id),
);

/** The flow with this id; its state is not read again if `known` holds it at the current version. */
export async function getFlow(db: Db, id: string, known?: KnownFlowState): Promise<StoredFlow | null> {
  const row = (await flowById(db, id, knownVersionOf(known))).rows[0] as Selectable<FlowsTable> | undefined;
  return row === undefined ? null : toFlow(row, known);
}

/**
 * Replaces a flow's state if it is still at the expected version, bumping the version; false if
 * another request changed it first (or it does not exist), in which case the caller reads it again.
 */
export async function updateFlow(db: Db, change: FlowChange): Promise<boolean> {
  const { state_json, pending_effects_json, facts, newCodes } = encodedChange(change);
  const result = await translateWriteErrors(`Flow ${change.id}`, () =>
    inTransaction(db, async (trx) => {
      const updated = await updateFlowRow(trx, change, state_json, pending_effects_json, facts);
      if (updated === 1) await recordCodes(trx, change.id, newCodes);
      return updated;
    }),
  );
  return result === 1;
}

/**
 * updateFlow in the caller's transaction, with `alongside` (what the change's effects go on to need,
 * read after the update) sent with it: one round trip on PostgreSQL instead of two. The codes the
 * change raises go with them, so when the flow had moved on (updated false) the caller must roll the
 * transaction back, as a caller of updateFlow does anyway. Where the update cannot be sent that way
 * (a change without the flow as read), they go one after the other.
 */
export async function updateFlowWith<T>(
  trx: Transaction<Database>,
  change: FlowChange,
  alongside: Pending<T>,
  /** Writes to make first, sent with the update (none built from an answer). */
  before: readonly CompiledQuery[] = [],
): Promise<{ readonly updated: boolean; readonly alongside: T }> {
  const compiled = compiledChange(trx, change, false);
  if (compiled === null) {
    if (before.length > 0) await translateWriteErrors(`Flow ${change.id}`, () => runTogether(trx, before));
    const updated = await updateFlow(trx, change);
    return { updated, alongside: await runPending(trx, alongside) };
  }
  const { update, codes } = compiled;
  const results = await translateWriteErrors(`Flow ${change.id}`, () =>
    runTogether(trx, [...before, update, ...codes, ...alongside.queries]),
  );
  const updated = Number(results[before.length]?.numAffectedRows ?? 0) === 1;
  return { updated, alongside: alongside.answer(results.slice(before.length + 1 + codes.length)) };
}

/**
 * A change given the flow as read, as statements to send with others: the prepared update of the
 * columns it assigns (failing in the database unless it changes the flow, if asked) and the insert
 * of the codes it raises. Null for a change without the flow as read, or of a shape past the budget.
 */
const compiledChange = (trx: Transaction<Database>, change: FlowChange, failUnlessChanged: boolean) => {
  const { state_json, pending_effects_json, facts, newCodes } = encodedChange(change);
  const assigned = assignedValues(change, state_json, pending_effects_json, facts);
  const prepared =
    assigned === null
      ? undefined
      : preparedUpdate(
          assigned.map(([column]) => column),
          failUnlessChanged,
        );
  if (assigned === null || prepared === undefined) return null;
  return {
    update: prepared.compile(trx, change.id, change.expectedVersion, ...assigned.map(([, value]) => value)),
    codes: newCodes.length === 0 ? [] : [recordCodesQuery(trx, change.id, newCodes).compile()],
  };
};

/** A state's JSON: its timeline's entries are each encoded once (the same text as JSON.stringify's). */
const stateJson = (state: unknown, what: string): string =>
  toJsonText(state, what, (value) => jsonWithTimeline(value, ['timeline']));

/** A change's JSON columns, its timeline's facts, and the codes it raises that are not recorded yet. */
const encodedChange = (change: FlowChange) => {
  const state_json = stateJson(change.state, `The state of flow ${change.id}`);
  const pending_effects_json = toJsonText(change.pendingEffects, `The pending effects of flow ${change.id}`);
  const facts = timelineFacts(change.state);
  // Timelines only grow, so the codes recorded before are the first `codeCount` of them.
  const newCodes = change.previous === undefined ? facts.codes : facts.codes.slice(change.previous.codeCount);
  return { state_json, pending_effects_json, facts, newCodes };
};

/** How updateFlowAndAudit ends its work in the transaction. */
export interface FlowAuditOptions {
  /**
   * The change and its entry are the transaction's last work: on PostgreSQL its COMMIT goes out with
   * them (see runTogether), and the transaction is over when this returns. The caller runs nothing
   * more in it. Where that cannot be, the transaction goes on, to be committed as usual.
   */
  readonly last?: boolean;
  /**
   * Writes to make first, in the same round trip as the change on PostgreSQL (none of them built
   * from an answer; each one's failure an SQL error, so that nothing commits with `last`).
   */
  readonly before?: readonly CompiledQuery[];
}

/** The SQLSTATE one_flow_changed raises (see its migration): the flow is at another version. */
const FLOW_MOVED_ON = 'RK001';

/**
 * updateFlow, and when it stores the change, the audit entry that records it, in the caller's
 * transaction; the entry as stored, or null if the flow had moved on. On PostgreSQL the update, the
 * codes it raises and the entry go out together, one round trip: if the flow had moved on, the
 * entry was written as well, so on null the caller must roll the transaction back (as a caller of
 * updateFlow does on false anyway). With `last`, the COMMIT goes with them, and an update that
 * finds the flow moved on fails in the database instead, so that nothing commits.
 */
export async function updateFlowAndAudit(
  trx: Transaction<Database>,
  change: FlowChange,
  entry: NewAuditEntry,
  options: FlowAuditOptions = {},
): Promise<AuditEntry | null> {
  return (await updateFlowAndAuditEach(trx, change, [entry], options))?.[0] ?? null;
}

/**
 * updateFlowAndAudit for a change that several entries record (one per event it applies), appended
 * in the order given: on PostgreSQL still one round trip with the update.
 */
export async function updateFlowAndAuditEach(
  trx: Transaction<Database>,
  change: FlowChange,
  entries: readonly NewAuditEntry[],
  options: FlowAuditOptions = {},
): Promise<AuditEntry[] | null> {
  const before = options.before ?? [];
  const oneAfterTheOther = async () => {
    if (before.length > 0) await translateWriteErrors(`Flow ${change.id}`, () => runTogether(trx, before));
    if (!(await updateFlow(trx, change))) return null;
    const stored: AuditEntry[] = [];
    for (const entry of entries) stored.push(await appendAudit(trx, entry));
    return stored;
  };
  const appends = entries.map((entry) => auditAppendToRunTogether(trx, entry));
  if (appends.some((append) => append === null)) return oneAfterTheOther();
  const locked = appends as NonNullable<(typeof appends)[number]>[];
  const last = options.last === true;
  const compiled = compiledChange(trx, change, last);
  if (compiled === null) return oneAfterTheOther();
  const { update, codes } = compiled;
  let results: Awaited<ReturnType<typeof runTogether>>;
  try {
    results = await translateWriteErrors(`Flow ${change.id}`, () =>
      runTogether(trx, [...before, update, ...codes, ...locked.map((append) => append.query)], {
        commit: last,
      }),
    );
  } catch (error) {
    if (last && driverCode(error) === FLOW_MOVED_ON) return null;
    throw error;
  }
  if (!last && Number(results[before.length]?.numAffectedRows ?? 0) !== 1) return null;
  // With `last` the entries are kept already: the database's hashing is checked when the store
  // opens (see databaseHashesAsWeDo), so this check cannot fail there. Each is accepted in order.
  const answers = results.slice(results.length - locked.length);
  return locked.map((append, i) =>
    append.accept((answers[i]?.rows ?? []) as Parameters<typeof append.accept>[0]),
  );
}

/** The columns an update assigns plain values to, beside the version (and the branch, with the order). */
type Assigned = readonly (readonly [column: keyof FlowsTable & string, value: unknown])[];

/**
 * The values a change assigns. Given the flow as read, only those that differ from it (see
 * FlowChange.previous); null without it, where the timeline's facts are raised in SQL instead.
 */
const assignedValues = (
  change: FlowChange,
  state_json: string,
  pending_effects_json: string,
  facts: { readonly reachedStep: number; readonly codes: readonly unknown[] },
): Assigned | null => {
  const was = change.previous;
  if (was === undefined) return null;
  const values: [keyof FlowsTable & string, unknown][] = [
    ['state_json', state_json],
    ['updated_at', change.updatedAt],
  ];
  if (change.status !== was.status) values.push(['status', change.status]);
  if (change.step !== was.step) values.push(['step', change.step]);
  if (change.deadline !== was.deadline) values.push(['deadline', change.deadline]);
  // Almost always none before and after: then there is nothing to encode again to compare.
  const samePending =
    was.pendingEffects.length === 0
      ? change.pendingEffects.length === 0
      : pending_effects_json === toJsonText(was.pendingEffects, `The pending effects of flow ${change.id}`);
  if (!samePending) values.push(['pending_effects_json', pending_effects_json]);
  // Timelines only grow: neither the furthest step nor the codes raised ever go back.
  if (facts.reachedStep > was.reachedStep) values.push(['reached_step', facts.reachedStep]);
  if (facts.codes.length > was.codeCount) values.push(['code_count', facts.codes.length]);
  if (change.orderId !== undefined && change.orderId !== was.orderId)
    values.push(['order_id', change.orderId]);
  if (change.agent !== undefined)
    values.push(['agent_version', change.agent.version], ['agent_packaging', change.agent.packaging]);
  if (change.admin2HsaId !== undefined && change.admin2HsaId !== was.admin2HsaId)
    values.push(['admin2_hsa_id', change.admin2HsaId]);
  if (change.stationNonce !== undefined) values.push(['station_nonce', change.stationNonce]);
  if (change.cardKeys !== undefined)
    values.push(['auth_spki', change.cardKeys.auth], ['sign_spki', change.cardKeys.sign]);
  return values;
};

/** An update assigning these columns, at the expected version; the branch follows a new order. */
const updateAssigning = (
  db: QueryCreator<Database>,
  columns: readonly string[],
  values: readonly unknown[],
) => {
  const orderAt = columns.indexOf('order_id');
  return db.updateTable('flows').set((eb) => ({
    ...(Object.fromEntries(columns.map((column, i) => [column, values[i]])) as Updateable<FlowsTable>),
    version: eb('version', '+', 1),
    ...(orderAt >= 0 && {
      branch_id: branchOf(values[orderAt] as string | null, sql.ref('flows.station_id')),
    }),
  }));
};

/**
 * Updates by the set of columns they assign (a flow's updates take a few dozen shapes at most), and
 * whether the update is to fail unless it changes the flow (for a transaction that commits with it).
 */
const preparedUpdates = new Map<string, PreparedQuery<Database, unknown[], unknown>>();
const PREPARED_UPDATES_MAX = 128;

const preparedUpdate = (columns: readonly string[], failUnlessChanged = false) => {
  const key = `${failUnlessChanged ? 'checked:' : ''}${columns.join(',')}`;
  let update = preparedUpdates.get(key);
  if (update === undefined && preparedUpdates.size < PREPARED_UPDATES_MAX) {
    update = preparedQuery((db: Kysely<Database>, id: unknown, version: unknown, ...values: unknown[]) => {
      const atVersion = (qc: QueryCreator<Database>) =>
        updateAssigning(qc, columns, values)
          .where('id', '=', id as string)
          .where('version', '=', version as number);
      return failUnlessChanged
        ? db
            .with('changed', (qc) => atVersion(qc).returning(sql<number>`1`.as('one')))
            .selectFrom('changed')
            .select(sql<number>`one_flow_changed(count(*))`.as('changed'))
        : atVersion(db);
    });
    preparedUpdates.set(key, update);
  }
  return update;
};

const updateFlowRow = async (
  db: Db,
  change: FlowChange,
  state_json: string,
  pending_effects_json: string,
  facts: { readonly reachedStep: number; readonly codes: readonly unknown[] },
): Promise<number> => {
  const assigned = assignedValues(change, state_json, pending_effects_json, facts);
  if (assigned !== null) {
    const columns = assigned.map(([column]) => column);
    const values = assigned.map(([, value]) => value);
    const prepared = preparedUpdate(columns);
    const result =
      prepared === undefined
        ? await updateAssigning(db, columns, values)
            .where('id', '=', change.id)
            .where('version', '=', change.expectedVersion)
            .executeTakeFirst()
            .then((r) => ({ numAffectedRows: r.numUpdatedRows }))
        : await prepared(db, change.id, change.expectedVersion, ...values);
    return Number(result.numAffectedRows ?? 0);
  }
  const result = await db
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
    .where('version', '=', change.expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
};

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
  return rows.map((row) => toFlow(row));
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
  return rows.map((row) => toFlow(row));
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
  return rows.map((row) => toFlow(row));
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
