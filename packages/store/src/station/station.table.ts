import type { BranchId, Instant } from '@reservkort/domain';
import type { ColumnType } from 'kysely';

export const STATION_STATUSES = ['active', 'revoked'] as const;
export type StationStatus = (typeof STATION_STATUSES)[number];

/** A registered card station: a card agent with a key and a station certificate. */
export interface StationsTable {
  id: string;
  name: string;
  branch_id: BranchId;
  /** The current station certificate's row in `certificates`; renewal replaces it. */
  certificate_serial: string;
  /** The station key's SubjectPublicKeyInfo, base64 DER: what statements are verified with. */
  spki: string;
  status: StationStatus;
  registered_by: string;
  registered_at: Instant;
  /** The highest statement sequence number accepted from the station. */
  last_seq: ColumnType<number, number | undefined, number>;
}
