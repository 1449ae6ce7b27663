import type { KnownFlowState } from '@reservkort/store';

/** Active flows are few per workstation; a few hundred cover every desk a server serves. */
const DEFAULT_MAX_FLOWS = 256;

/**
 * The states of the flows this process last stored or read, parsed, by flow id and version. A
 * flow's request reads its row with the version it knows, and the database leaves the state's JSON
 * out when the version is still that one: most requests then neither read nor parse several
 * kilobytes of JSON. Any writer (this process, another server, the sweeper) moves the version on,
 * and the next read takes the state from the database again. States are immutable values, so one
 * object may serve many requests.
 */
export class FlowStateCache {
  readonly #entries = new Map<string, KnownFlowState>();

  constructor(private readonly maxFlows: number = DEFAULT_MAX_FLOWS) {}

  get(flowId: string): KnownFlowState | undefined {
    return this.#entries.get(flowId);
  }

  /**
   * Records a state as stored at `version`: read from the database, or written by a transaction that
   * has committed (never before the commit: a state a rolled-back transaction wrote was never the
   * flow's). An older version than the one known is ignored: parallel requests end in any order.
   */
  remember(flowId: string, version: number, state: unknown): void {
    const known = this.#entries.get(flowId);
    if (known !== undefined && known.version >= version) return;
    // Most recently stored last, so the first is the one to let go when full.
    this.#entries.delete(flowId);
    if (this.#entries.size >= this.maxFlows) this.#entries.delete(this.#entries.keys().next().value ?? '');
    this.#entries.set(flowId, { version, state });
  }

  get size(): number {
    return this.#entries.size;
  }
}
