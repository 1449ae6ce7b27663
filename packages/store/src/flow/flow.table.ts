import type { FlowStatus, HsaId, Instant, Step } from '@reservkort/domain';
import type { ColumnType, Generated } from 'kysely';

export interface FlowsTable {
  id: string;
  /** The order being issued; null until one is selected. */
  order_id: string | null;
  /** Who logged in to issue (admin 2); null before login. */
  admin2_hsa_id: HsaId | null;
  status: FlowStatus;
  step: Step;
  /** The domain's FlowState as JSON, serialised by the repository. */
  state_json: string;
  /** The acknowledgement deadline, when one is running. */
  deadline: Instant | null;
  /** JSON array of the effects the flow still owes; '[]' once done. */
  pending_effects_json: Generated<string>;
  /** Bumped by every update: the optimistic-concurrency token. */
  version: Generated<number>;
  created_at: Instant;
  updated_at: Instant;
  /** The card station the flow is bound to; null for flows from before stations. */
  station_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** What the station's next statement about the flow must carry; null for flows from before stations. */
  station_nonce: ColumnType<string | null, string | null | undefined, string | null>;
}
