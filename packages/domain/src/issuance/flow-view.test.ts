import { describe, expect, it } from 'vitest';
import { FlowDriver } from '../test-support/fixtures.js';
import { flowControls } from './flow-controls.js';
import { viewOf } from './flow-view.js';

describe('the page’s view of a flow', () => {
  it('carries the screen, the controls with their reasons, the server’s clock and the readers', () => {
    const flow = new FlowDriver().to(7);
    const view = viewOf(flow.state, flow.now);
    expect(view).toMatchObject({
      flowId: 'flow-1',
      status: 'active',
      step: 7,
      now: flow.now,
      deadline: flow.state.deadline,
      issuedSerials: ['0a01', '0a02'],
      twoReadersThroughout: true,
      pending: null,
      readers: flow.state.readers,
    });
    expect(view.controls).toEqual(flowControls(flow.state, flow.now));
    // The timeline without the scenes a replay plays back: every entry of the state has one.
    expect(flow.state.timeline.every((entry) => entry.scene !== undefined)).toBe(true);
    expect(view.timeline).toEqual(flow.state.timeline.map(({ scene: _scene, ...entry }) => entry));
    // Each entry's view is kept with the entry: the next answer carries the same objects.
    const again = viewOf(flow.state, flow.now).timeline;
    expect(again.every((entry, i) => entry === view.timeline[i])).toBe(true);
  });

  it('answers "two readers throughout?" from the reader log', () => {
    const flow = new FlowDriver().to(4);
    flow.send({ type: 'reader-unplugged', reader: 2 });
    flow.send({ type: 'reader-plugged', reader: 2 });
    expect(viewOf(flow.state, flow.now).twoReadersThroughout).toBe(false);
  });
});
