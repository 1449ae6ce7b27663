import type { Instant } from '@reservkort/domain';

export interface AuditLogTable {
  /** Assigned by the appender: the previous entry's seq + 1, starting at 1. */
  seq: number;
  at: Instant;
  actor: string;
  action: string;
  subject: string;
  /** Canonical JSON of an object. */
  details: string;
  prev_hash: string;
  hash: string;
}
