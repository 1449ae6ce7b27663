// The whole issuance through the UI only: admin 1 registers and signs an order; admin 2 logs in and
// issues; the recipient accepts, downloads and acknowledges. Then the card and OCSP are checked.
import { join } from 'node:path';
import { luhnCheckDigit } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { cardInReader2, judgeCardCertificates } from './support/card-checks.js';
import { DEMO, PortalPage, reservePins } from './support/portal-page.js';

/** Nils Utanorder (Medicinkliniken) has no order until admin 1 registers one. */
const NILS_PNR = `19670130991${luhnCheckDigit('670130991')}`;

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
    await portal.loginAs(DEMO.admin4.card);
    await portal.toReview(NILS_PNR);
    await expect(page.getByTestId('review').textContent()).resolves.toContain('Nils Utanorder');
    await portal.signOrder();

    // The recipient: the reserve card in reader 2, BEKRÄFTA ÖVERLÄMNING, the terms, STARTA NEDLADDNING.
    await portal.insert(card, 2);
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    await page.locator('#accept-terms').check();
    await expect.poll(() => portal.control('start-download').isEnabled()).toBe(true);
    await portal.enterPins([pins.pin1, pins.pin2], () => portal.control('start-download').click());
    await portal.atStep(7);
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
});
