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
  /** The nonce the station's next statement for this flow must carry; rotated with every accepted one. */
  station_nonce: ColumnType<string | null, string | null | undefined, string | null>;
  /** The login card's insertion counter in its reader when the flow started, as the station signed it. */
  login_insertions: ColumnType<number | null, number | null | undefined, number | null>;
  /** The reserve card's new keys (SubjectPublicKeyInfo, base64 DER) as the card vouched for them. */
  auth_spki: ColumnType<string | null, string | null | undefined, string | null>;
  sign_spki: ColumnType<string | null, string | null | undefined, string | null>;
  /** The order's recipient's branch, else the card station's: whose flow it is, for the insight figures. */
  branch_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The furthest step the flow's timeline reached. */
  reached_step: ColumnType<number, number | undefined, number>;
  /** How many different catalogue codes the flow raised (its rows in flow_codes): > 0 is "failed". */
  code_count: ColumnType<number, number | undefined, number>;
  /** The card agent that ran the flow, as its station signed it; null when not known. */
  agent_version: ColumnType<string | null, string | null | undefined, string | null>;
  agent_packaging: ColumnType<string | null, string | null | undefined, string | null>;
}

/** Each catalogue code a flow raised, once: at the step and time it was first raised. */
export interface FlowCodesTable {
  flow_id: string;
  code: string;
  step: number;
  at: Instant;
}
