import type { ErrorCode } from '../error-code.js';
import type { Instant } from '../time.js';
import { flowControls } from './flow-controls.js';
import type { FlowOrder } from './flow-event.js';
import type { FlowState } from './flow-state.js';
import type { FlowEffect } from './issuance-machine.js';
import { twoReadersThroughout } from './reader-log.js';

/** What the page sees of a flow: the screen to show, its controls with their reasons, the timeline. */
export interface FlowView {
  readonly flowId: string;
  readonly status: FlowState['status'];
  readonly step: FlowState['step'];
  readonly deadline: Instant | null;
  /** The server's clock when the view was made, so the page counts down against the server's time. */
  readonly now: Instant;
  readonly order: FlowOrder | null;
  readonly controls: ReturnType<typeof flowControls>;
  readonly fault: FlowState['fault'];
  readonly timeline: FlowState['timeline'];
  readonly readers: FlowState['readers'];
  readonly download: FlowState['download'];
  readonly pending: FlowState['pending'];
  readonly twoReadersThroughout: boolean;
  readonly issuedSerials: readonly string[];
}

/** The answer to every flow request: the view, the codes the request raised, work for the card agent. */
export interface FlowAnswer {
  readonly view: FlowView;
  readonly raised: readonly ErrorCode[];
  readonly cardEffects: readonly FlowEffect[];
}

type TimelineEntry = FlowState['timeline'][number];
type ViewEntry = FlowView['timeline'][number];

// The page needs what happened, not the scenes a replay plays back: they stay out of every answer.
// Each entry's view is made once and kept with the entry, so an answer's timeline is the same
// objects from one request to the next and their JSON is made once too (see timeline-json.ts).
const viewEntries = new WeakMap<TimelineEntry, ViewEntry>();
const viewEntryOf = (entry: TimelineEntry): ViewEntry => {
  let view = viewEntries.get(entry);
  if (view === undefined) {
    const { scene: _scene, ...rest } = entry;
    view = rest;
    viewEntries.set(entry, view);
  }
  return view;
};

export const viewOf = (state: FlowState, now: Instant): FlowView => ({
  flowId: state.flowId,
  status: state.status,
  step: state.step,
  deadline: state.deadline,
  now,
  order: state.order,
  controls: flowControls(state, now),
  fault: state.fault,
  timeline: state.timeline.map(viewEntryOf),
  readers: state.readers,
  download: state.download,
  pending: state.pending,
  twoReadersThroughout: twoReadersThroughout(state).throughout,
  issuedSerials: state.issuedSerials,
});
