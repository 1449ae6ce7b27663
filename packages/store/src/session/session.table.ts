import type { AssuranceLevel, CardNumber, HsaId, Instant } from '@reservkort/domain';
import type { ColumnType } from 'kysely';

export interface SessionsTable {
  /** A hash of the cookie's token, never the token: a leaked table cannot be replayed as cookies. */
  id: string;
  admin_hsa_id: HsaId;
  certificate_serial: string;
  card_number: CardNumber;
  assurance_level: AssuranceLevel;
  csrf_token: string;
  created_at: Instant;
  last_seen_at: Instant;
  /** The absolute end, however active the session. */
  expires_at: Instant;
  /** The first removal of the login card; set once. */
  login_card_removed_at: Instant | null;
  /** Logout or forced end. */
  ended_at: Instant | null;
  /** The card station that saw the login card; null for a login without one. */
  station_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The station's reader (1 or 2) that held the login card. */
  login_reader: ColumnType<1 | 2 | null, 1 | 2 | null | undefined, 1 | 2 | null>;
  /** That reader's insertion counter at login: another value means the card was taken out since. */
  login_insertions: ColumnType<number | null, number | null | undefined, number | null>;
  /** An administrator's session, or a reserve card holder's on their own pages. */
  role: ColumnType<SessionRole, SessionRole | undefined, SessionRole>;
}

/** Whom a session is for; a holder's session never passes for an administrator's. */
export type SessionRole = 'admin' | 'holder';

export interface LoginChallengesTable {
  id: string;
  /** Base64. */
  challenge: string;
  created_at: Instant;
  expires_at: Instant;
  used_at: Instant | null;
}
