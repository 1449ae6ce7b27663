// What a support case gathers besides the flow it is filed from: the earlier attempts at the same
// order (a restart is a new flow), and the order a search explained without selecting it.
import { type FlowOrder, type FlowState, MAX_CASE_ATTEMPTS } from '@reservkort/domain';
import { type Database, getFlow, getOrder, listFlowsForOrder, type StoredFlow } from '@reservkort/store';
import type { Kysely, Transaction } from 'kysely';
import { EXPLAINED_ORDER } from '../issuance/issuance.service.js';

type Db = Kysely<Database> | Transaction<Database>;
type FlowWithState = StoredFlow & { state: FlowState };

/**
 * The flows before this one: those its restarts came from ("Starta om utgivningen"), newest first,
 * and every other flow of the same order, at most MAX_CASE_ATTEMPTS of them, this flow left out.
 */
export const earlierAttempts = async (db: Db, flow: FlowWithState): Promise<FlowState[]> => {
  const found = new Map<string, FlowState>();
  let previous = flow.state.restartOf;
  let orderId = flow.orderId ?? flow.state.order?.orderId ?? null;
  while (previous !== undefined && found.size < MAX_CASE_ATTEMPTS && !found.has(previous)) {
    const earlier = (await getFlow(db, previous)) as FlowWithState | null;
    if (earlier === null) break;
    found.set(earlier.id, earlier.state);
    orderId ??= earlier.orderId ?? earlier.state.order?.orderId ?? null;
    previous = earlier.state.restartOf;
  }
  if (orderId !== null) {
    for (const other of (await listFlowsForOrder(db, orderId)) as FlowWithState[]) {
      if (other.createdAt <= flow.createdAt) found.set(other.id, other.state);
    }
  }
  found.delete(flow.id);
  return [...found.values()];
};

/**
 * The order the flow's last search explained without a hit (OWN_ORDER, a used order...), as the flow
 * would have kept it; null when it has an order of its own or no search explained one.
 */
export const explainedOrderOf = async (db: Db, state: FlowState): Promise<FlowOrder | null> => {
  if (state.order !== null || state.candidate !== null) return null;
  const lastSearch = state.timeline.findLast((entry) => entry.event === 'searched');
  const orderId = lastSearch?.details?.[EXPLAINED_ORDER];
  if (typeof orderId !== 'string') return null;
  const order = await getOrder(db, orderId);
  if (order === null) return null;
  return {
    orderId: order.id,
    cardNumber: order.cardNumber,
    recipientHsaId: order.recipient.hsaId,
    admin1HsaId: order.createdBy,
    protectedIdentity: order.recipient.protectedIdentity,
  };
};
