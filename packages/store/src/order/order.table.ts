import type {
  AssuranceLevel,
  BranchId,
  CardNumber,
  HsaId,
  IdDocument,
  Instant,
  OrderState,
} from '@reservkort/domain';
import type { Generated } from 'kysely';

export interface OrdersTable {
  id: string;
  recipient_hsa_id: HsaId;
  /** The recipient's branch when the order was registered. */
  branch_id: BranchId;
  /** 0/1. */
  protected_identity: number;
  card_number: CardNumber;
  not_before: Instant;
  not_after: Instant;
  id_document: IdDocument;
  created_by: HsaId;
  created_at: Instant;
  signed_by: HsaId;
  signed_at: Instant;
  signature_level: AssuranceLevel;
  signature_serial: string;
  state: OrderState;
  state_changed_at: Instant;
  /** Bumped by every state change: the optimistic-concurrency token. */
  version: Generated<number>;
}
