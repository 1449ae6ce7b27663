import type { AssuranceLevel, CardNumber, HsaId, Instant } from '@reservkort/domain';

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
}

export interface LoginChallengesTable {
  id: string;
  /** Base64. */
  challenge: string;
  created_at: Instant;
  expires_at: Instant;
  used_at: Instant | null;
}
