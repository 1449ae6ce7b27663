// A card agent that is a registered card station, for tests of what only a station can prove: its
// key in a fresh 0700 folder, its certificate from the harness's CA, over the harness's virtual
// readers. The statements helpers here are what the page asks the agent for.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CardAgent, StationIdentity } from '@reservkort/agent';
import type { SignedStatement, StatementPayload } from '@reservkort/domain';
import { getFlowStationNonce, rotateFlowStationNonce } from '@reservkort/store';
import { registerStation } from '../station/station.service.js';
import { newStationNonce } from '../station/station-statement.service.js';
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

/** The flow's current station nonce, as the flow's answers carry it (set here for a flow without one). */
export const flowStationNonce = async (h: Harness, flowId: string): Promise<string> => {
  const nonce = await getFlowStationNonce(h.t.store.db, flowId);
  if (nonce !== null) return nonce;
  const fresh = newStationNonce();
  await rotateFlowStationNonce(h.t.store.db, flowId, fresh);
  return fresh;
};

/**
 * The harness with its agent a registered station (branch `hospital`): as it is when the harness's
 * own agent already is one, else a second agent over the same readers that is.
 */
export const withStation = async (h: Harness): Promise<Harness> => {
  if (hasStation(h.agent, h.agentToken)) return h;
  const folder = mkdtempSync(join(tmpdir(), 'rk-station-'));
  const station = StationIdentity.open(folder);
  const { csr } = await station.csr('Disk 1');
  const registered = await registerStation(
    { db: h.t.store.db, ca: h.t.ca, now: h.clock.now },
    { csr, name: 'Disk 1', branchId: 'hospital', actor: 'ca-operator' },
  );
  station.installCertificate(registered.certificate);
  const agent = new CardAgent({ backend: h.cards, info: { version: '0.1.0', packaging: 'test' }, station });
  return {
    ...h,
    agent,
    agentToken: agent.createSession().token,
    dispose: async () => {
      await agent.close();
      await h.dispose();
      rmSync(folder, { recursive: true, force: true });
    },
  };
};
