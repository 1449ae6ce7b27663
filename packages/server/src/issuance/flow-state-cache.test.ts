import { getFlow } from '@reservkort/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServices } from '../services.js';
import { RECIPIENTS } from '../test-support/durable-fixture.js';
import { acknowledge, walkToStep7 } from '../test-support/durable-walk.js';
import {
  ADMIN2_CARD,
  ANNA_PNR,
  createIssuanceHarness,
  type Harness,
  RESERVE_CARD,
} from '../test-support/issuance-harness.js';
import { Page } from '../test-support/page.js';
import { FlowStateCache } from './flow-state-cache.js';

describe('the flow states a process holds', () => {
  it('keeps the newest version of each flow, and lets the least recently stored go when full', () => {
    const cache = new FlowStateCache(2);
    cache.remember('a', 2, { v: 2 });
    // Parallel requests end in any order: an older version does not replace a newer one.
    cache.remember('a', 1, { v: 1 });
    expect(cache.get('a')).toEqual({ version: 2, state: { v: 2 } });
    cache.remember('b', 1, { v: 1 });
    cache.remember('a', 3, { v: 3 });
    cache.remember('c', 1, { v: 1 });
    // 'b' was stored least recently.
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.version).toBe(3);
    expect(cache.get('c')?.version).toBe(1);
    expect(cache.size).toBe(2);
  });
});

describe('a flow served from the states the server holds', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createIssuanceHarness();
  });
  afterEach(async () => {
    await h.dispose();
  });

  it('holds, after every request of an issuance, exactly the state the database has at that version', async () => {
    let compared = 0;
    const check = async (flowId: string) => {
      const held = h.services.issuance.states.get(flowId);
      const stored = await getFlow(h.t.store.db, flowId);
      if (held === undefined || stored === null || held.version !== stored.version) return;
      // Strictly: a field the JSON would drop (undefined) or change (a Date) would show here.
      expect(held.state, `version ${held.version}`).toStrictEqual(stored.state);
      compared++;
    };
    class CheckedPage extends Page {
      override async api(method: 'GET' | 'POST', url: string, payload?: unknown) {
        const answer = await super.api(method, url, payload);
        if (this.flowId !== '') await check(this.flowId);
        return answer;
      }
    }
    const page = new CheckedPage(h);
    await walkToStep7(page, ADMIN2_CARD, RECIPIENTS.anna);
    const done = await acknowledge(page);
    expect(done.body.view?.status, JSON.stringify(done.body)).toBe('completed');
    expect(compared).toBeGreaterThan(15);
  });

  it('reads the state again when another process moved the flow on', async () => {
    const page = new Page(h);
    expect((await page.login(ADMIN2_CARD)).status).toBe(200);
    const started = await page.start();
    expect(started.body.view.step).toBe(1);
    // A read holds the state too.
    expect((await page.view()).body.view.step).toBe(1);
    const held = h.services.issuance.states.get(page.flowId);
    expect(held?.version).toBeGreaterThan(0);
    // Another server on the same database (its own services, its own states) takes the click.
    const other = createServices(h.ctx);
    const moved = await other.issuance.apply(page.flowId, null, { type: 'manage-orders', at: h.clock.now() });
    expect(moved.view.step).toBe(2);
    // This server still holds step 1 at the old version; the flow's version tells it to read again.
    expect(h.services.issuance.states.get(page.flowId)?.version).toBe(held?.version);
    const view = await page.view();
    expect(view.body.view.step).toBe(2);
    const search = await page.api('POST', `/api/flows/${page.flowId}/search`, { query: ANNA_PNR });
    expect(search.body.review?.cardNumber).toBe(RESERVE_CARD);
    expect((await page.action('order-selected')).body.view.step).toBe(3);
    expect(h.services.issuance.states.get(page.flowId)?.version).toBe((held?.version ?? 0) + 3);
  });
});
