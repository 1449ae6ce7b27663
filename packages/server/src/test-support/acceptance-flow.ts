// Admin 2 and the recipient through the issuance portal to a given step, with the harness's
// virtual cards and agent, so that a test can provoke what belongs to that step.
import { expect } from 'vitest';
import {
  ADMIN2_CARD,
  ANNA_PNR,
  CARD_PINS,
  completeWithPins,
  type Harness,
  RESERVE_CARD,
  RESERVE_PINS,
} from './issuance-harness.js';
import type { Page } from './page.js';

export type WalkTarget = 2 | 3 | 4 | 5 | 'download-requested' | 'keys-on-card' | 'certificates-issued' | 7;

export interface Walked {
  /** The agent events relayed so far, for `page.relayAgentEvents`. */
  readonly seen: { count: number };
  readonly csrs?: { readonly authCsr: string; readonly signCsr: string };
  readonly certificates?: { readonly auth: string; readonly sign: string };
}

/**
 * Logs admin 2 in with their card in reader 1 and walks to `target`:
 * 2 search screen; 3 review of Anna's order; 4 handover (order signed); 5 terms; 'download-requested'
 * (STARTA NEDLADDNING clicked, nothing from the agent yet); 'keys-on-card' (step 6, keys made, both
 * PIN dialogs done); 'certificates-issued' (step 6, certificates issued, not yet written); 7 (KVITTERA KORT).
 */
export const walkTo = async (h: Harness, page: Page, target: WalkTarget): Promise<Walked> => {
  const seen = { count: 0 };
  expect((await page.login(ADMIN2_CARD)).status).toBe(200);
  expect((await page.start()).body.view.step).toBe(1);
  expect((await page.action('manage-orders')).body.view.step).toBe(2);
  if (target === 2) return { seen };

  const search = await page.api('POST', `/api/flows/${page.flowId}/search`, { query: ANNA_PNR });
  expect(search.body.raised).toEqual([]);
  expect((await page.action('order-selected')).body.view.step).toBe(3);
  if (target === 3) return { seen };

  const signature = await page.signChallenge('order', 'reader-1', CARD_PINS.pin2);
  const signed = await page.api('POST', `/api/flows/${page.flowId}/sign`, signature);
  expect(signed.body.view.step, JSON.stringify(signed.body)).toBe(4);
  if (target === 4) return { seen };

  await h.cards.insertCard('reader-2', RESERVE_CARD);
  await page.relay({ type: 'card-inserted', reader: 2, cardNumber: RESERVE_CARD });
  await page.action('handover-confirmed');
  expect((await page.relay({ type: 'handover-verified', cardNumber: RESERVE_CARD })).body.view.step).toBe(5);
  if (target === 5) return { seen };

  await page.action('terms-accepted', { accepted: true });
  const requested = await page.action('download-requested');
  expect(requested.body.raised).toEqual([]);
  if (target === 'download-requested') return { seen };

  await h.agent.bind(h.agentToken, 'reader-2');
  const enrol = await h.agent.enrol(h.agentToken, 'reader-2', page.flowId);
  const enrolled = await completeWithPins(h.agent, enrol, [RESERVE_PINS.pin1, RESERVE_PINS.pin2]);
  expect(enrolled.state).toBe('done');
  const relayed = await page.relayAgentEvents(seen);
  expect(relayed?.body.view.step).toBe(6);
  const csrs = enrolled.result as { authCsr: string; signCsr: string };
  if (target === 'keys-on-card') return { seen, csrs };

  const issued = await page.api('POST', `/api/flows/${page.flowId}/certificates`, csrs);
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  const certificates = issued.body.certificates as { auth: string; sign: string };
  if (target === 'certificates-issued') return { seen, csrs, certificates };

  const write = await h.agent.writeCertificates(
    h.agentToken,
    'reader-2',
    { auth: Buffer.from(certificates.auth, 'base64'), sign: Buffer.from(certificates.sign, 'base64') },
    page.flowId,
  );
  expect((await h.agent.waitFor(write.id, 5000)).state).toBe('done');
  const written = await page.relay({ type: 'certificates-written' });
  expect(written.body.view.step).toBe(7);
  return { seen, csrs, certificates };
};
