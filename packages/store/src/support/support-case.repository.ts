import type { CaseReporter, HsaId, Instant } from '@reservkort/domain';
import { type Kysely, type RawBuilder, type Selectable, sql, type Transaction } from 'kysely';
import type { Database } from '../database.js';
import { dialectOf } from '../dialect.js';
import { fromIntegerBoolean, toIntegerBoolean } from '../integer-boolean.js';
import { fromJsonArray, fromJsonText, toJsonText } from '../json-text.js';
import { translateWriteErrors } from '../store-error.js';
import type { SupportCaseStatus, SupportCasesTable } from './support-case.table.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A new case: open and unassigned. */
export interface NewSupportCase {
  readonly id: string;
  readonly flowId: string | null;
  readonly reportedBy: CaseReporter;
  readonly protectedIdentity: boolean;
  /** The error codes the flow raised, for filtering. */
  readonly codes: readonly string[];
  /** The domain's SupportCaseDraft (or anything JSON can hold); stored as JSON. */
  readonly draft: unknown;
  readonly createdAt: Instant;
  /** The card station whose verified statements the case holds; null without any. */
  readonly stationId: string | null;
}

/** A case as listed, with the version to pass to updateCase. */
export interface StoredSupportCase {
  readonly id: string;
  readonly flowId: string | null;
  readonly status: SupportCaseStatus;
  readonly assignee: HsaId | null;
  readonly reportedBy: CaseReporter;
  readonly protectedIdentity: boolean;
  readonly codes: string[];
  /** As parsed from JSON: the caller knows its shape. */
  readonly draft: unknown;
  readonly createdAt: Instant;
  readonly updatedAt: Instant;
  readonly version: number;
  readonly stationId: string | null;
}

export interface CaseComment {
  readonly author: HsaId;
  readonly at: Instant;
  readonly text: string;
}

export interface SupportCaseWithComments extends StoredSupportCase {
  /** Oldest first. */
  readonly comments: CaseComment[];
}

export interface NewCaseComment extends CaseComment {
  readonly caseId: string;
}

/** What the queue can be sorted by. */
export const SUPPORT_CASE_SORTS = [
  'createdAt',
  'reportedBy',
  'recipient',
  'cardNumber',
  'codes',
  'status',
  'assignee',
] as const;
export type SupportCaseSort = (typeof SUPPORT_CASE_SORTS)[number];

export interface SupportCaseQuery {
  readonly status?: SupportCaseStatus;
  /** Only cases that raised this error code (exact, case-sensitive). */
  readonly code?: string;
  /**
   * Only cases where this text (any case) is part of the case id, the reporter, the assignee, the
   * codes, the card number or the recipient; a protected recipient only when `protectedVisible`.
   */
  readonly text?: string;
  /** Whether the viewer may see protected recipients (holds KUR): else they are never searched or sorted by. */
  readonly protectedVisible?: boolean;
  /** Newest first by default; ties by id. */
  readonly sort?: SupportCaseSort;
  readonly direction?: 'asc' | 'desc';
  readonly limit: number;
  readonly offset?: number;
}

export interface SupportCaseChange {
  readonly id: string;
  /** The version read with the case; the update fails if someone changed it since. */
  readonly expectedVersion: number;
  /** Left as stored when absent. */
  readonly status?: SupportCaseStatus;
  /** Left as stored when absent; null unassigns. */
  readonly assignee?: HsaId | null;
  readonly updatedAt: Instant;
}

const toCase = (row: Selectable<SupportCasesTable>): StoredSupportCase => ({
  id: row.id,
  flowId: row.flow_id,
  status: row.status,
  assignee: row.assignee,
  reportedBy: row.reported_by,
  protectedIdentity: fromIntegerBoolean(row.protected_identity),
  codes: fromJsonArray(row.codes_json, `The codes of support case ${row.id}`).map(String),
  draft: fromJsonText(row.draft_json),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  version: row.version,
  stationId: row.station_id,
});

/** Stores a new case, open, unassigned, at version 1. An unknown flow is NOT_FOUND. */
export async function insertCase(db: Db, supportCase: NewSupportCase): Promise<void> {
  await translateWriteErrors(`Support case ${supportCase.id}`, () =>
    db
      .insertInto('support_cases')
      .values({
        id: supportCase.id,
        flow_id: supportCase.flowId,
        status: 'open',
        assignee: null,
        reported_by: supportCase.reportedBy,
        protected_identity: toIntegerBoolean(supportCase.protectedIdentity),
        codes_json: toJsonText(supportCase.codes, `The codes of support case ${supportCase.id}`),
        draft_json: toJsonText(supportCase.draft, `The draft of support case ${supportCase.id}`),
        created_at: supportCase.createdAt,
        updated_at: supportCase.createdAt,
        station_id: supportCase.stationId,
      })
      .execute(),
  );
}

export async function getCase(db: Db, id: string): Promise<SupportCaseWithComments | null> {
  const row = await db.selectFrom('support_cases').selectAll().where('id', '=', id).executeTakeFirst();
  if (row === undefined) return null;
  const comments = await db
    .selectFrom('case_comments')
    .select(['author', 'at', 'text'])
    .where('case_id', '=', id)
    .orderBy('at')
    .orderBy('id')
    .execute();
  return { ...toCase(row), comments };
}

/** `needle` is part of `haystack`: exact on both dialects, where LIKE would treat '_' as a wildcard. */
const contains = (db: Db, haystack: RawBuilder<unknown>, needle: string) =>
  dialectOf<Database>(db) === 'postgres'
    ? sql<number>`strpos(${haystack}, ${needle})`
    : sql<number>`instr(${haystack}, ${needle})`;

/** A string field of the stored draft (JSON text on both dialects). */
const draftField = (db: Db, field: 'recipientHsaId' | 'cardNumber'): RawBuilder<string | null> =>
  dialectOf<Database>(db) === 'postgres'
    ? sql<string | null>`(draft_json::json ->> ${sql.lit(field)})`
    : sql<string | null>`json_extract(draft_json, ${sql.lit(`$.${field}`)})`;

/** The recipient as the viewer may see it: a protected one is null (never searched or sorted by). */
const recipientShown = (db: Db, protectedVisible: boolean): RawBuilder<string | null> =>
  protectedVisible
    ? draftField(db, 'recipientHsaId')
    : sql<string | null>`case when protected_identity = 0 then ${draftField(db, 'recipientHsaId')} end`;

const sortColumn = (db: Db, sort: SupportCaseSort, protectedVisible: boolean): RawBuilder<unknown> => {
  switch (sort) {
    case 'createdAt':
      return sql`created_at`;
    case 'reportedBy':
      return sql`reported_by`;
    case 'recipient':
      return recipientShown(db, protectedVisible);
    case 'cardNumber':
      return draftField(db, 'cardNumber');
    case 'codes':
      // A case without codes sorts with the empty values.
      return sql`case when codes_json = '[]' then null else codes_json end`;
    case 'status':
      return sql`status`;
    case 'assignee':
      return sql`assignee`;
  }
};

/** Cases newest first (or as sorted), a page at a time, without their comments. */
export async function listCases(db: Db, query: SupportCaseQuery): Promise<StoredSupportCase[]> {
  const protectedVisible = query.protectedVisible ?? false;
  const direction = query.direction ?? 'desc';
  const sort = query.sort ?? 'createdAt';
  // Empty values last whichever way: a queue sorted by assignee shows the assigned first.
  const column = sortColumn(db, sort, protectedVisible);
  let select = db
    .selectFrom('support_cases')
    .selectAll()
    .orderBy(sql`case when ${column} is null then 1 else 0 end`)
    .orderBy(column, direction)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit)
    .offset(query.offset ?? 0);
  if (query.status !== undefined) select = select.where('status', '=', query.status);
  if (query.code !== undefined) {
    // The quoted code in the JSON array: exact and case-sensitive.
    select = select.where(contains(db, sql`codes_json`, JSON.stringify(query.code)), '>', 0);
  }
  const text = query.text?.trim().toLowerCase();
  if (text) {
    // A card number may be typed in groups, as printed on the card.
    const digits = /^[\d\s]+$/.test(text) ? text.replace(/\s+/g, '') : text;
    const fields = [
      sql`lower(id)`,
      sql`lower(reported_by)`,
      sql`lower(coalesce(assignee, ''))`,
      sql`lower(codes_json)`,
      sql`coalesce(${draftField(db, 'cardNumber')}, '')`,
      sql`lower(coalesce(${recipientShown(db, protectedVisible)}, ''))`,
    ];
    select = select.where((eb) =>
      eb.or(fields.map((field, i) => eb(contains(db, field, i === 4 ? digits : text), '>', 0))),
    );
  }
  return (await select.execute()).map(toCase);
}

/**
 * Changes a case's status or assignee if it is still at the expected version, bumping the version;
 * false if another request changed it first (or it does not exist).
 */
export async function updateCase(db: Db, change: SupportCaseChange): Promise<boolean> {
  const result = await db
    .updateTable('support_cases')
    .set((eb) => ({
      updated_at: change.updatedAt,
      version: eb('version', '+', 1),
      ...(change.status !== undefined && { status: change.status }),
      // The resolution time is the first "resolved" of the current resolution: a repeated one keeps it.
      ...(change.status !== undefined && {
        resolved_at:
          change.status === 'resolved'
            ? sql<number>`case when status = 'resolved' and resolved_at is not null then resolved_at else ${sql.lit(change.updatedAt)} end`
            : null,
      }),
      ...(change.assignee !== undefined && { assignee: change.assignee }),
    }))
    .where('id', '=', change.id)
    .where('version', '=', change.expectedVersion)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Adds a comment; it leaves the case's version alone, so comments never make an update stale. */
export async function addComment(db: Db, comment: NewCaseComment): Promise<void> {
  await translateWriteErrors(`Comment on support case ${comment.caseId}`, () =>
    db
      .insertInto('case_comments')
      .values({ case_id: comment.caseId, author: comment.author, at: comment.at, text: comment.text })
      .execute(),
  );
}
