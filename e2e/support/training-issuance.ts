// A reserve card issued and acknowledged on the training server over HTTP, as the page does it
// (HttpPortal: the same API calls, the agent's PIN dialogs, the station's statements), for the
// browser tests whose subject comes after the issuance: the holder's pages, förlängning, the card
// stock. The issuance through the UI itself is what happy-path, reload-moves and portal-moves test.
import type { CardNumber } from '@reservkort/domain';
import { expect } from 'vitest';
import type { BrowserHarness } from './browser-harness.js';
import { enabled, HttpPortal } from './http-portal.js';
import { DEMO, reservePins } from './portal-page.js';

export interface TrainingIssuance {
  /** The recipient's personal number: the order is found by it. */
  readonly pnr: string;
  readonly card: string;
  /** Admin Två registers the order for the card first (the person has none yet). */
  readonly order?: boolean;
}

/** The agent's session of the page, on the harness's training agent with the portal's origin. */
const connectPortal = async (h: BrowserHarness): Promise<HttpPortal> => {
  const portal = new HttpPortal(h.server.url, h.server.agentUrl ?? '', h.url);
  await portal.connect('virtual');
  return portal;
};

/**
 * Each card issued in turn: Admin Två orders it if asked to, Admin Fyra walks steps 1–4, and the
 * recipient takes steps 5–7 with the card's PIN letter and acknowledges it. Ends logged out with
 * both readers empty; returns the certificates issued, per card.
 */
export const issueOverHttp = async (
  h: BrowserHarness,
  issuances: readonly TrainingIssuance[],
): Promise<Map<string, { readonly auth: string; readonly sign: string }>> => {
  const p = await connectPortal(h);
  const issued = new Map<string, { readonly auth: string; readonly sign: string }>();
  try {
    await p.trainingCard(2, null);
    const ordered = issuances.filter((i) => i.order === true);
    if (ordered.length > 0) {
      await p.trainingCard(1, DEMO.admin2.card as CardNumber);
      await p.login(DEMO.adminPins.pin1);
      for (const { pnr, card } of ordered) {
        const order = await p.registerOrder(pnr, card as CardNumber, DEMO.adminPins.pin2);
        expect(order).toMatchObject({ cardNumber: card, state: 'registered' });
      }
      await p.logout();
    }
    for (const { pnr, card } of issuances) {
      const pins = reservePins(card);
      await p.trainingCard(2, null);
      await p.trainingCard(1, DEMO.admin4.card as CardNumber);
      await p.login(DEMO.adminPins.pin1);
      expect((await p.start()).view.step).toBe(1);
      expect((await p.action('manage-orders')).view.step).toBe(2);
      expect((await p.search(pnr)).review).toMatchObject({ cardNumber: card });
      expect((await p.action('order-selected')).view.step).toBe(3);
      const signed = await p.signFlow('order', DEMO.adminPins.pin2);
      expect(signed.view.step, JSON.stringify(signed.raised)).toBe(4);
      await p.trainingCard(2, card as CardNumber);
      await expect
        .poll(() => p.relayed, { timeout: 10_000 })
        .toContainEqual({ type: 'card-inserted', reader: 2, cardNumber: card });
      await expect.poll(() => enabled(p.flow.view, 'confirm-handover'), { timeout: 10_000 }).toBe(true);
      expect((await p.confirmHandover()).view.step).toBe(5);
      await p.action('terms-accepted', { accepted: true });
      const { after, certificates } = await p.download(pins.pin1, pins.pin2);
      expect(after.view.step, JSON.stringify(after.view)).toBe(7);
      const acknowledged = await p.signFlow('acknowledge', pins.pin2);
      expect(acknowledged.view.status, JSON.stringify(acknowledged.raised)).toBe('completed');
      issued.set(card, certificates);
      await p.logout();
    }
    await p.trainingCard(1, null);
    await p.trainingCard(2, null);
    expect(p.failures).toEqual([]);
    return issued;
  } finally {
    p.close();
  }
};
