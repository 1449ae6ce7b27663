// The whole issuance through the UI only: admin 1 registers and signs an order; admin 2 logs in and
// issues; the recipient accepts, downloads and acknowledges. Then the card and OCSP are checked.
import { join } from 'node:path';
import { errorResponse, luhnCheckDigit } from '@reservkort/domain';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { cardInReader2, judgeCardCertificates } from './support/card-checks.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';

/** Nils Utanorder (Medicinkliniken) has no order until admin 1 registers one. */
const NILS_PNR = `19670130991${luhnCheckDigit('670130991')}`;
/** Bo Berg (Medicinkliniken) and the reserve card on his order. */
const BO = { pnr: `19790923988${luhnCheckDigit('790923988')}`, card: '9752278900000000202' };

/** A station statement as the page posts it to the server, decoded: its events, each as `type dialog`. */
const eventsOf = (statement: { payload: string }): string[] => {
  const { body } = JSON.parse(Buffer.from(statement.payload, 'base64url').toString('utf8')) as {
    body: { event?: { type: string; dialog?: string }; events?: { type: string; dialog?: string }[] };
  };
  const named = (e: { type: string; dialog?: string }) => `${e.type} ${e.dialog ?? ''}`.trim();
  return body.events?.map(named) ?? (body.event === undefined ? [] : [named(body.event)]);
};

/**
 * The events the page relays to the server, statement by statement (a tick as `tick`). The relay of
 * `key-generation-started` is held on its way until `release` (a slow network).
 */
const relaysOf = async (page: Page) => {
  const statements: string[][] = [];
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route('**/api/flows/*/agent-events', async (route) => {
    const { statement } = route.request().postDataJSON() as { statement?: { payload: string } };
    const events = statement === undefined ? ['tick'] : eventsOf(statement);
    statements.push(events);
    if (events[0] === 'key-generation-started') await released;
    await route.continue();
  });
  return { statements, release };
};

/** The clicks and handover proofs the page posts to the server, in order (`handover confirmed`: both in one). */
const clicksOf = (page: Page): string[] => {
  const clicks: string[] = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (request.method() !== 'POST' || !/^\/api\/flows\/[^/]+\/(actions|handover)$/.test(path)) return;
    const body = request.postDataJSON() as { type?: string; confirmed?: boolean };
    clicks.push(body.type ?? `handover${body.confirmed === true ? ' confirmed' : ''}`);
  });
  return clicks;
};

/**
 * STARTA NEDLADDNING with the terms accepted: PIN 1 entered while the relay of the key generation's
 * start is held; once the PIN 2 window is open (the keys are made: PIN 1's dialog events and the
 * keys' are in the agent's log, and a second later on the page), `release`, then PIN 2.
 */
const downloadWithFirstRelayHeld = async (
  portal: PortalPage,
  pins: { readonly pin1: string; readonly pin2: string },
  release: () => void,
): Promise<void> => {
  const dialogs: Page[] = [];
  portal.context.on('page', (opened) => dialogs.push(opened));
  await portal.enterPins([pins.pin1], () => portal.control('start-download').click());
  await expect.poll(() => dialogs.length, { timeout: 15_000 }).toBe(2);
  // The agent's events reach the page over its event stream, a moment after they are logged.
  await portal.page.waitForTimeout(1000);
  release();
  const dialog = dialogs[1] as Page;
  await dialog.waitForLoadState();
  await dialog.locator('#pin').fill(pins.pin2);
  await dialog.locator('#ok').click();
};

describe('the happy path in a real browser', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('admin 1 orders, admin 2 issues, the recipient acknowledges; the card holds both certificates and OCSP says good', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    const card = DEMO.spareCard;
    const pins = reservePins(card);

    // Admin 1 (Admin Två, RA in the region) registers an order for Nils with the sealed spare card.
    await portal.loginAs(DEMO.admin2.card);
    await page.locator('a[href="#/admin"]').click();
    await page.locator('#person-query').fill(NILS_PNR);
    await page.locator('[data-action="find-person"]').click();
    await page.getByTestId('person').waitFor();
    await page.locator('#order-card').fill(card);
    await page.locator('#order-document').selectOption('swedish-passport');
    await portal.enterPins([DEMO.adminPins.pin2], () => page.locator('[data-action="sign-order"]').click());
    await page.locator('[data-testid="orders"] [data-state="registered"]').waitFor();
    await page.locator('[data-action="logout"]').click();

    // The signatures' challenges come with the answers that reach SIGNERA and KVITTERA KORT: the page
    // asks for none on the way.
    const asked: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/signing-challenge')) asked.push(request.url());
    });

    // Admin 2 (Admin Fyra) logs in with the card in reader 1, finds, reviews and signs the order.
    // The flow's id comes with the login: the page asks for no reservation of its own.
    const reserving: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/flows/start')
        reserving.push(request.url());
    });
    await portal.loginAs(DEMO.admin4.card);
    await portal.toReview(NILS_PNR);
    await expect(page.getByTestId('review').textContent()).resolves.toContain('Nils Utanorder');
    await portal.signOrder();
    expect(reserving).toEqual([]);

    // The recipient: the reserve card in reader 2, BEKRÄFTA ÖVERLÄMNING, the terms, STARTA NEDLADDNING.
    // The click goes to the server with the card's proof, in one request.
    const clicks = clicksOf(page);
    await portal.handOver(card);
    expect(clicks.splice(0)).toEqual(['handover confirmed']);
    await page.locator('#accept-terms').check();
    await expect.poll(() => portal.control('start-download').isEnabled()).toBe(true);
    // The download's events as the page relays them. The first is held on its way (a slow network)
    // until PIN 1 is entered and the keys made: the dialog's two events queue up behind it and go
    // in one statement.
    const relayed = await relaysOf(page);
    await downloadWithFirstRelayHeld(portal, pins, relayed.release);
    await portal.atStep(7);
    await page.unroute('**/api/flows/*/agent-events');
    expect(relayed.statements).toContainEqual(['dialog-shown auth', 'dialog-completed auth']);
    await page.locator('.countdown').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'happy-step7-countdown-sv.png') });
    await portal.enterPins([pins.pin2], () => portal.control('acknowledge').click());
    await page.getByTestId('completed').waitFor();
    expect(asked).toEqual([]);
    const serials = (await page.getByTestId('completed').textContent()) ?? '';

    // The card holds both keys and both certificates: read back through the agent, judged by OpenSSL.
    expect((await cardInReader2(h)).keys).toEqual({ auth: true, sign: true });
    const verdicts = await judgeCardCertificates(h, card);
    for (const verdict of verdicts) {
      expect(verdict).toMatchObject({ ocsp: 'good', chainOk: true });
      expect(serials.toLowerCase()).toContain(verdict.serial);
    }
  }, 180_000);

  // A card agent installed before statements of several events existed refuses to sign one; the
  // page then relays the queued events one at a time, and the card is issued as before.
  it('with an agent that signs one event per statement, the page relays the queued events one by one', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    const pins = reservePins(BO.card);
    const refusedKinds: string[] = [];
    await page.route('**/v1/statements', async (route) => {
      const { kind } = route.request().postDataJSON() as { kind: string };
      if (kind !== 'events') return route.continue();
      refusedKinds.push(kind);
      // What such an agent answers for a kind it does not know: its request check's refusal.
      return route.fulfill({
        status: 400,
        headers: { 'access-control-allow-origin': h.url, 'content-type': 'application/json' },
        json: errorResponse('REQUEST_INVALID', { reason: 'kind' }),
      });
    });
    // The login's reservation has lapsed when the flow starts on it (so answered here, once): the
    // page reserves a fresh one and starts the flow on that.
    const starts: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (request.method() === 'POST' && (path === '/api/flows/' || path === '/api/flows/start'))
        starts.push(path);
    });
    await page.route(
      '**/api/flows/',
      (route) => route.fulfill({ status: 404, json: errorResponse('NOT_FOUND', { what: 'flow' }) }),
      { times: 1 },
    );
    await portal.loginAs(DEMO.admin4.card);
    await portal.atStep(1);
    expect(starts).toEqual(['/api/flows/', '/api/flows/start', '/api/flows/']);
    await portal.toReview(BO.pnr);
    await portal.signOrder();
    // The agent cannot prove the card the first time (its read failed): the page says so and sends
    // nothing, and BEKRÄFTA ÖVERLÄMNING stays for another try. The second time the agent is slow:
    // the click goes alone after a moment (the flow's clock for a stuck handover starts), and the
    // proof follows once it comes.
    const failedRead = async (route: Route) => {
      const { kind } = route.request().postDataJSON() as { kind: string };
      if (kind !== 'card-proof') return route.fallback();
      await page.unroute('**/v1/statements', failedRead);
      return route.fulfill({
        status: 409,
        headers: { 'access-control-allow-origin': h.url, 'content-type': 'application/json' },
        json: errorResponse('CARD_MISSING', { reader: 2 }),
      });
    };
    let releaseProof = () => {};
    const proofHeld = new Promise<void>((resolve) => {
      releaseProof = resolve;
    });
    const slowRead = async (route: Route) => {
      const { kind } = route.request().postDataJSON() as { kind: string };
      if (kind !== 'card-proof') return route.fallback();
      await page.unroute('**/v1/statements', slowRead);
      await proofHeld;
      return route.fallback();
    };
    await page.route('**/v1/statements', failedRead);
    const clicks = clicksOf(page);
    await portal.insert(BO.card, 2);
    await expect.poll(() => portal.control('confirm-handover').isEnabled(), WAIT).toBe(true);
    await portal.control('confirm-handover').click();
    await page.locator('section.issuance .error-panel[data-code="CARD_MISSING"]').waitFor();
    expect(clicks).toEqual([]);
    await expect.poll(() => portal.control('confirm-handover').isEnabled(), WAIT).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'happy-card-proof-failed-sv.png') });
    await page.route('**/v1/statements', slowRead);
    await portal.control('confirm-handover').click();
    await expect.poll(() => clicks, WAIT).toEqual(['handover-confirmed']);
    await portal.page.locator('section.issuance .error-panel').waitFor({ state: 'detached' });
    releaseProof();
    await portal.atStep(5);
    expect(clicks).toEqual(['handover-confirmed', 'handover']);
    await portal.acceptTerms();
    const relayed = await relaysOf(page);
    await downloadWithFirstRelayHeld(portal, pins, relayed.release);
    await portal.atStep(7);
    await page.unroute('**/api/flows/*/agent-events');
    // Asked once: the page does not ask that agent again.
    expect(refusedKinds).toEqual(['events']);
    const signed = relayed.statements.filter((events) => events[0] !== 'tick');
    expect(signed.every((events) => events.length === 1)).toBe(true);
    expect(signed.flat()).toEqual([
      'key-generation-started',
      'dialog-shown auth',
      'dialog-completed auth',
      'dialog-shown sign',
      'dialog-completed sign',
      'certificates-written',
    ]);
    await expect(page.locator('section.issuance .error-panel').count()).resolves.toBe(0);
    await portal.enterPins([pins.pin2], () => portal.control('acknowledge').click());
    await page.getByTestId('completed').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'happy-one-event-per-statement-completed-sv.png') });
  }, 180_000);
});
