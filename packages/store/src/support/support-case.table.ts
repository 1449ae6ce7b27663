import type { CaseReporter, HsaId, Instant } from '@reservkort/domain';
import type { ColumnType, Generated } from 'kysely';

export const SUPPORT_CASE_STATUSES = ['open', 'assigned', 'resolved'] as const;

export type SupportCaseStatus = (typeof SUPPORT_CASE_STATUSES)[number];

export interface SupportCasesTable {
  id: string;
  flow_id: string | null;
  status: SupportCaseStatus;
  assignee: HsaId | null;
  /** An administrator's HSA-id, or the card station's id for a case filed before login. */
  reported_by: CaseReporter;
  /** 0/1. */
  protected_identity: number;
  /** JSON array of error codes. */
  codes_json: string;
  /** The domain's SupportCaseDraft as JSON. */
  draft_json: string;
  created_at: Instant;
  updated_at: Instant;
  /** Bumped by every update: the optimistic-concurrency token. */
  version: Generated<number>;
  /** The card station whose signed statements the case holds; null without any. */
  station_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** When the case was last marked resolved; null while it is not resolved. */
  resolved_at: ColumnType<Instant | null, Instant | null | undefined, Instant | null>;
}

export interface CaseCommentsTable {
  /** Generated; orders comments made in the same millisecond. */
  id: Generated<number>;
  case_id: string;
  author: HsaId;
  at: Instant;
  text: string;
}
