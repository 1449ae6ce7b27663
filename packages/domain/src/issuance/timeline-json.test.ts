import { describe, expect, it } from 'vitest';
import { FlowDriver } from '../test-support/fixtures.js';
import type { Step } from './flow-state.js';
import { viewOf } from './flow-view.js';
import { jsonWithTimeline } from './timeline-json.js';

const STEPS: Step[] = [1, 2, 3, 4, 5, 6, 7];

describe('a flow’s JSON with each timeline entry encoded once', () => {
  it('is JSON.stringify’s text for every state and answer of an issuance, step by step', () => {
    const flow = new FlowDriver();
    for (const step of STEPS) {
      flow.to(step);
      // The same entries again and again, one more each step: the kept texts must still be right.
      expect(jsonWithTimeline(flow.state, ['timeline'])).toBe(JSON.stringify(flow.state));
      const answer = { view: viewOf(flow.state, flow.now), raised: [], cardEffects: [] };
      expect(jsonWithTimeline(answer, ['view', 'timeline'])).toBe(JSON.stringify(answer));
    }
    flow.send({ type: 'reader-unplugged', reader: 2 });
    expect(jsonWithTimeline(flow.state, ['timeline'])).toBe(JSON.stringify(flow.state));
  });

  it('encodes an entry once, however many values carry it', () => {
    let encoded = 0;
    const entry = {
      at: 1,
      toJSON: () => {
        encoded += 1;
        return { at: 1 };
      },
    };
    const first = { flowId: 'f', timeline: [entry], step: 1 };
    const second = { flowId: 'f', timeline: [entry, { at: 2 }], step: 2 };
    expect(jsonWithTimeline(first, ['timeline'])).toBe('{"flowId":"f","timeline":[{"at":1}],"step":1}');
    expect(jsonWithTimeline(second, ['timeline'])).toBe(
      '{"flowId":"f","timeline":[{"at":1},{"at":2}],"step":2}',
    );
    expect(encoded).toBe(1);
  });

  it('keeps the key order and JSON’s treatment of entries that are not objects', () => {
    const value = { a: 1, timeline: ['x', 2, null, undefined, true, [1]], z: { y: 'w' } };
    expect(jsonWithTimeline(value, ['timeline'])).toBe(JSON.stringify(value));
  });

  it.each([
    ['no such key', { step: 1 }, ['timeline']],
    ['a timeline that is not an array', { timeline: 'none' }, ['timeline']],
    ['a path through a value that is not an object', { view: 3 }, ['view', 'timeline']],
    ['a path through an array', { view: [{ timeline: [] }] }, ['view', 'timeline']],
    ['the mark’s own text as a value', { note: '\u0000timeline\u0000', timeline: [{ a: 1 }] }, ['timeline']],
    ['the mark’s own text as a key', { '\u0000timeline\u0000': 1, timeline: [{ a: 1 }] }, ['timeline']],
    ['the mark inside a string', { note: '"\u0000timeline\u0000"', timeline: [{ a: 1 }] }, ['timeline']],
    ['an empty timeline', { timeline: [], b: 2 }, ['timeline']],
    ['a value that is not an object', 'timeline', ['timeline']],
    ['an array', [{ timeline: [1] }], ['timeline']],
    ['null', null, ['timeline']],
    ['a value that encodes itself', { timeline: [1], toJSON: () => ({ other: true }) }, ['timeline']],
    [
      'a timeline JSON skips',
      Object.defineProperty({ a: 1 }, 'timeline', { value: [{ b: 2 }], enumerable: false }),
      ['timeline'],
    ],
  ])('falls back to, or equals, JSON.stringify: %s', (_what, value, path) => {
    expect(jsonWithTimeline(value, path)).toBe(JSON.stringify(value));
  });
});
