import type { Instant } from '../time.js';
import type { ReaderSlot } from './flow-event.js';
import type { FlowState, TimelineEntry } from './flow-state.js';

export interface ReaderLogEntry {
  readonly at: Instant;
  readonly reader: ReaderSlot;
  readonly event: 'plugged' | 'unplugged' | 'card-inserted' | 'card-removed';
  readonly cardNumber?: string;
}

const READER_EVENTS = {
  'reader-plugged': 'plugged',
  'reader-unplugged': 'unplugged',
  'card-inserted': 'card-inserted',
  'card-removed': 'card-removed',
} as const;

const isReaderEvent = (event: TimelineEntry['event']): event is keyof typeof READER_EVENTS =>
  event in READER_EVENTS;

/** The reader and card events of a flow, in order: the "kortläsarlogg" the guide asks about. */
export const readerLog = (state: FlowState): readonly ReaderLogEntry[] =>
  state.timeline.flatMap((entry): ReaderLogEntry[] => {
    if (!isReaderEvent(entry.event)) return [];
    const reader = entry.details?.reader === 2 ? 2 : 1;
    const cardNumber = entry.details?.cardNumber;
    const base = { at: entry.at, reader, event: READER_EVENTS[entry.event] } as const;
    return [typeof cardNumber === 'string' ? { ...base, cardNumber } : base];
  });

/** A span during which a reader was not connected; `to` is null while it still is not. */
export interface ReaderGap {
  readonly reader: ReaderSlot;
  readonly from: Instant;
  readonly to: Instant | null;
}

export interface TwoReadersAnswer {
  /** The answer to "were two readers used throughout?" */
  readonly throughout: boolean;
  readonly since: Instant;
  readonly gaps: readonly ReaderGap[];
}

/** Answers "were two readers connected throughout?" from `since` (default: login) until now. */
export const twoReadersThroughout = (state: FlowState, since?: Instant): TwoReadersAnswer => {
  const from = since ?? state.login?.at ?? state.startedAt;
  const initial = state.timeline[0]?.details;
  const openGap: Record<ReaderSlot, Instant | null> = {
    1: initial?.reader1 === false ? state.startedAt : null,
    2: initial?.reader2 === false ? state.startedAt : null,
  };
  const gaps: ReaderGap[] = [];
  for (const entry of readerLog(state)) {
    if (entry.event === 'unplugged' && openGap[entry.reader] === null) openGap[entry.reader] = entry.at;
    if (entry.event === 'plugged') {
      const start = openGap[entry.reader];
      if (start !== null && entry.at > from)
        gaps.push({ reader: entry.reader, from: Math.max(start, from), to: entry.at });
      openGap[entry.reader] = null;
    }
  }
  for (const reader of [1, 2] as const) {
    const start = openGap[reader];
    if (start !== null) gaps.push({ reader, from: Math.max(start, from), to: null });
  }
  gaps.sort((a, b) => a.from - b.from);
  return { throughout: gaps.length === 0, since: from, gaps };
};
