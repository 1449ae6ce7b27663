// What the page asks the harness's agent (a registered card station) for, for tests of what only a
// station can prove.
import type { CardAgent } from '@reservkort/agent';
import type { SignedStatement, StatementPayload } from '@reservkort/domain';
import { getFlowStationNonce } from '@reservkort/store';
import type { Harness } from './issuance-harness.js';

/** Whether this agent signs statements as a registered station. */
export const hasStation = (agent: CardAgent, token: string): boolean => {
  try {
    return agent.stationView(token).registered;
  } catch {
    return false;
  }
};

/** The agent's signed statement of its readers for a challenge or flow and its station nonce. */
export const readersStatement = (
  agent: CardAgent,
  token: string,
  flowId: string,
  nonce: string,
): Promise<SignedStatement> => agent.statement(token, { flowId, nonce, kind: 'readers' });

/** What a signed statement says (its payload decoded), for tests that look inside. */
export const payloadOf = (signed: SignedStatement): StatementPayload =>
  JSON.parse(Buffer.from(signed.payload, 'base64url').toString('utf8')) as StatementPayload;

/** The flow's current station nonce, as the flow's answers carry it. */
export const flowStationNonce = async (h: Harness, flowId: string): Promise<string> => {
  const nonce = await getFlowStationNonce(h.t.store.db, flowId);
  if (nonce === null) throw new Error(`flow ${flowId} has no station nonce`);
  return nonce;
};
