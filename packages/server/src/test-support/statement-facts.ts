// What a station statement may move on a flow, read straight from the store: tests compare it
// before and after a request to show a statement taken whole, once, or not at all.
import { getFlow, getStation, listAudit } from '@reservkort/store';
import type { Harness } from './issuance-harness.js';

export interface TimelineFact {
  readonly event: string;
  readonly codes: readonly string[];
  readonly details?: Record<string, unknown>;
}

/** The flow's version, nonce, timeline and audit entries, and the station's last sequence number. */
export const statementFacts = async (h: Pick<Harness, 't' | 'stationId'>, flowId: string) => {
  const db = h.t.store.db;
  const flow = await getFlow(db, flowId);
  if (flow === null) throw new Error(`no flow ${flowId}`);
  const audit = (await listAudit(db, { limit: 100_000 })).filter((e) => e.subject === flowId);
  return {
    version: flow.version,
    nonce: flow.stationNonce,
    timeline: (flow.state as { timeline: TimelineFact[] }).timeline,
    audit,
    lastSeq: (await getStation(db, h.stationId))?.lastSeq ?? -1,
  };
};
