// Förlängning in a real browser: a reserve card issued over the portal's API, then its holder logs in
// on "Mina sidor" with it in reader 1 and extends it with the wizard (terms, PIN 1 and PIN 2 for the
// new keys, the certificates written, the acknowledgement with PIN 2). A second förlängning is
// refused with its catalogue panel. Each wizard step in Swedish and English, screenshot and axe.
import { luhnCheckDigit } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';
import { checkScreen } from './support/screen-checks.js';
import { issueOverHttp } from './support/training-issuance.js';

/** Nils Utanorder (Medicinkliniken) has no order until one is registered here. */
const NILS_PNR = `19670130991${luhnCheckDigit('670130991')}`;

describe('förlängning on the holder’s pages in a real browser', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('the holder extends the card once with the wizard; a second förlängning is refused', async () => {
    const card = DEMO.spareCard;
    const pins = reservePins(card);
    // The card issued and acknowledged over the page's own API (the journey through the UI is the
    // happy path's subject).
    await issueOverHttp(h, [{ pnr: NILS_PNR, card, order: true }]);

    // axe is injected as a script tag, which the portal's Content-Security-Policy (rightly) refuses;
    // the test profile alone bypasses it.
    const context = await h.browser.newContext({ bypassCSP: true, locale: 'sv-SE' });
    await context.addInitScript(() => localStorage.setItem('reservkort.language', 'sv'));
    const page = await context.newPage();
    await page.goto(h.url);
    const portal = new PortalPage(page, context);

    // ---- the holder: Mina sidor with the reserve card in reader 1 --------------------------------------
    await page.goto(`${h.url}/#/holder`);
    await portal.insert(card, 1);
    await portal.enterPins([pins.pin1], () => portal.clickHolderLogin());
    await page.getByTestId('holder').waitFor(WAIT);
    const extendButton = page.locator('[data-action="extension-open"]');
    await extendButton.waitFor(WAIT);
    await extendButton.click();

    // What will happen, the new validity and the terms.
    await page.locator('.extension-wizard[data-stage="overview"]').waitFor(WAIT);
    await expect(page.getByTestId('extension-validity').textContent()).resolves.toMatch(/\d/);
    await checkScreen(page, 'extension-1-overview');
    await page.locator('[data-control="extension-terms"]').check();
    await checkScreen(page, 'extension-2-terms');

    // The card's work: PIN 1 for the new keys, PIN 2 for the signature key's request.
    await portal.enterPins([pins.pin1, pins.pin2], () =>
      page.locator('[data-control="extension-run"]').click(),
    );
    await page.locator('.extension-wizard[data-stage="acknowledge"]').waitFor(WAIT);
    for (const step of ['keys', 'certificates', 'writing'])
      expect(await page.locator(`.extension-step[data-step="${step}"]`).getAttribute('data-state')).toBe(
        'done',
      );
    await checkScreen(page, 'extension-3-acknowledge');

    // KVITTERA with PIN 2 and the new signature key: the result, new serials and validity.
    await portal.enterPins([pins.pin2], () => page.locator('[data-control="extension-acknowledge"]').click());
    await page.getByTestId('extension-done').waitFor(WAIT);
    const serials = await page.locator('.extension-serials .serial').allTextContents();
    expect(serials).toHaveLength(2);
    for (const serial of serials) expect(serial).toMatch(/^[0-9a-f]+$/);
    // The e-ID read before says it was replaced, not the status it had, and offers no spärr.
    await expect(page.getByTestId('eid-superseded').textContent()).resolves.toContain(
      'Ersatt av de nya certifikaten',
    );
    expect(await page.getByTestId('eid-status').count()).toBe(0);
    expect(await page.locator('.sparr').count()).toBe(0);
    await checkScreen(page, 'extension-4-done');

    // The session ended with the old certificate: log in again with the card; a second förlängning
    // is refused with its panel.
    await page.locator('[data-action="extension-login-again"]').click();
    await portal.enterPins([pins.pin1], () => portal.clickHolderLogin());
    await page.getByTestId('holder').waitFor(WAIT);
    await page.locator('[data-action="extension-open"]').click();
    const refused = page.locator('#extension-error');
    await refused.waitFor(WAIT);
    await expect(refused.getAttribute('data-code')).resolves.toBe('EXTENSION_ALREADY_USED');
    await checkScreen(page, 'extension-5-second-refused');
  }, 240_000);
});
