import { UNKNOWN_AGENT_PART } from '@reservkort/store';
import { Counter } from 'prom-client';

/** What the counters need of a flow: its card station and card agent. */
export interface MeteredFlow {
  readonly stationId: string | null;
  readonly agent: { readonly version: string } | null;
}

/**
 * Counters of what flows raise and how they end, for /metrics: a spike of one code at one station
 * or with one agent version is seen within a scrape, not at the next look at the insight page.
 * Counted after the flow's change committed, in the process that made it.
 */
export class FlowMetrics {
  readonly codes = new Counter({
    name: 'reservkort_flow_codes_total',
    help: 'Catalogue codes raised on issuance flows, by code, card station and card agent version',
    labelNames: ['code', 'station', 'agent_version'] as const,
    registers: [],
  });
  readonly ended = new Counter({
    name: 'reservkort_flows_ended_total',
    help: 'Issuance flows that ended, by outcome (completed, ack-timeout-revoked, aborted), card station and agent version',
    labelNames: ['outcome', 'station', 'agent_version'] as const,
    registers: [],
  });

  private labels(flow: MeteredFlow) {
    return { station: flow.stationId ?? 'none', agent_version: flow.agent?.version ?? UNKNOWN_AGENT_PART };
  }

  raised(flow: MeteredFlow, codes: readonly string[]): void {
    for (const code of codes) this.codes.inc({ code, ...this.labels(flow) });
  }

  end(flow: MeteredFlow, outcome: string): void {
    this.ended.inc({ outcome, ...this.labels(flow) });
  }
}
