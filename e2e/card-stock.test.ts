// "Kortlager" in a real browser: the training station's stock with its counts, a batch with a bad
// line refused with the line's problem shown, then a good batch; admin 1's order picks a sealed
// card from the stock, and card numbers the station cannot give are refused, each with its code;
// after the issuance (over the portal's API) the card is returned: its e-ID revoked (OCSP says so)
// and the card destroyed.
// Screenshots in Swedish and English, axe on each new screen.
import { luhnCheckDigit } from '@reservkort/domain';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startBrowserHarness } from './support/browser-harness.js';
import { judgeCardCertificates } from './support/card-checks.js';
import { DEMO, PortalPage, WAIT } from './support/portal-page.js';
import { checkScreen, setLanguage } from './support/screen-checks.js';
import { issueOverHttp } from './support/training-issuance.js';

/** Nils Utanorder (Medicinkliniken) has no order until admin 1 registers one. */
const NILS_PNR = `19670130991${luhnCheckDigit('670130991')}`;
/** Länssjukhuset Norr: another card station's branch in the region. */
const NORTH = 'SE2321000016-1200';
/** The training stock's 473 card whose physical life ends three days after the seed. */
const AGEING = '9752278900000000298';
const NEW_CARDS = ['9752278900000000401', '9752278900000000402'] as const;
const NORTH_CARD = '9752278900000000411';

const count = (page: Page, state: string) =>
  page.locator(`[data-testid="stock-counts"] [data-state="${state}"] dd`).textContent();

describe('card stock in a real browser', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('imports a batch, orders from stock, refuses what the station cannot give, and returns the issued card', async () => {
    // axe goes in as a script tag, which the portal's Content-Security-Policy (rightly) refuses: the
    // test profile alone bypasses it.
    const context = await h.browser.newContext({ bypassCSP: true, locale: 'sv-SE' });
    await context.addInitScript(() => localStorage.setItem('reservkort.language', 'sv'));
    const page = await context.newPage();
    await page.goto(h.url);
    const portal = new PortalPage(page, context);
    const notice = page.locator('.stock-screen [role="status"]');

    // Admin Två (RA in the region) opens the stock of the training station (Centrallasarettet).
    await portal.loginAs(DEMO.admin2.card);
    await page.locator('a[href="#/stock"]').click();
    await page.getByRole('heading', { name: 'Kortlager', level: 2 }).waitFor();
    await page.getByTestId('stock-counts').waitFor(WAIT);
    await expect.poll(() => count(page, 'sealed'), WAIT).toBe('7');
    await expect(count(page, 'issued')).resolves.toBe('0');
    await checkScreen(page, 'card-stock');

    // A batch with a bad line: nothing is imported, the line's problem is shown.
    await page
      .locator('#stock-csv')
      .fill(
        [
          'card_number;product;manufactured;physical_expiry',
          `${NEW_CARDS[0]};473;2026-03-15;`,
          `${NEW_CARDS[1]};999;2026-03-15;`,
        ].join('\n'),
      );
    await page.locator('[data-action="import-batch"]').click();
    const problems = page.getByTestId('stock-problems');
    await problems.waitFor(WAIT);
    await expect(problems.locator('li[data-code="STOCK_LINE_INVALID"]').textContent()).resolves.toContain(
      'Rad 2',
    );
    await expect(count(page, 'sealed')).resolves.toBe('7');
    await checkScreen(page, 'card-stock-bad-batch');

    // The good batch.
    await page
      .locator('#stock-csv')
      .fill(
        [
          'card_number,product,manufactured',
          `${NEW_CARDS[0]},473,2026-03-15`,
          `${NEW_CARDS[1]},573,2026-03-15`,
        ].join('\n'),
      );
    await page.locator('[data-action="import-batch"]').click();
    await expect.poll(() => notice.textContent(), WAIT).toContain('2 kort lästes in som förseglade');
    await expect.poll(() => count(page, 'sealed'), WAIT).toBe('9');

    // The same batch again: every card is registered already, and nothing changes.
    await page
      .locator('#stock-csv')
      .fill(['card_number,product,manufactured', `${NEW_CARDS[0]},473,2026-03-15`].join('\n'));
    await page.locator('[data-action="import-batch"]').click();
    const again = page.locator('[data-testid="stock-problems"] li[data-code="CARD_ALREADY_IN_STOCK"]');
    await again.waitFor(WAIT);
    await expect(again.textContent()).resolves.toContain('(rad 1)');
    await expect(count(page, 'sealed')).resolves.toBe('9');
    await checkScreen(page, 'card-stock-already-in-stock');

    // One card for another station, and one destroyed: neither can be ordered here.
    await page.locator('#stock-station').selectOption(NORTH);
    await page.locator('#stock-csv').fill(`card_number,product,manufactured\n${NORTH_CARD},573,2026-03-15`);
    await page.locator('[data-action="import-batch"]').click();
    await expect.poll(() => notice.textContent(), WAIT).toContain('1 kort lästes in');
    await page.locator('#stock-station').selectOption('SE2321000016-1100');
    await expect.poll(() => count(page, 'sealed'), WAIT).toBe('9');
    await page.locator('#stock-destroy-card').selectOption(NEW_CARDS[1]);
    await page.locator('#stock-destroy-why').selectOption('damaged');
    await page.locator('[data-action="destroy-card"]').click();
    await expect.poll(() => count(page, 'destroyed'), WAIT).toBe('1');

    // Admin 1's order: the refused card numbers, each with its code, then a card from the stock.
    await page.locator('a[href="#/admin"]').click();
    await page.locator('#person-query').fill(NILS_PNR);
    await page.locator('[data-action="find-person"]').click();
    await page.getByTestId('person').waitFor();
    const refusedWith = async (card: string, code: string) => {
      await page.locator('#order-card').fill(card);
      await page.locator('[data-action="sign-order"]').click();
      await page.locator(`.error-panel[data-code="${code}"]`).waitFor(WAIT);
    };
    await refusedWith('9752278900000000499', 'CARD_NOT_IN_STOCK');
    await refusedWith(NORTH_CARD, 'CARD_AT_OTHER_STATION');
    await refusedWith(NEW_CARDS[1], 'CARD_DESTROYED');
    await refusedWith(AGEING, 'CARD_PAST_PHYSICAL_EXPIRY');
    await checkScreen(page, 'card-stock-order-refused');

    const card = DEMO.spareCard;
    await page.locator('#order-stock').selectOption(card);
    await expect(page.locator('#order-card').inputValue()).resolves.toBe(card);
    await checkScreen(page, 'card-stock-order-picker');
    await page.locator('#order-document').selectOption('swedish-passport');
    await portal.enterPins([DEMO.adminPins.pin2], () => page.locator('[data-action="sign-order"]').click());
    await page.locator('[data-testid="orders"] [data-state="registered"]').waitFor(WAIT);
    await page.locator('[data-action="logout"]').click();
    await page.locator('[data-control="login"]').waitFor(WAIT);

    // Admin Fyra issues it and the recipient acknowledges, over the page's own API (the journey through
    // the UI is the happy path's subject); Admin Fyra then opens the stock in the browser.
    await issueOverHttp(h, [{ pnr: NILS_PNR, card }]);
    // The page's training panel follows the agent: both readers empty before the card goes back in.
    for (const reader of [1, 2])
      await expect
        .poll(
          () => page.locator(`.reader-slots [data-reader="${reader}"] [data-card]`).getAttribute('data-card'),
          WAIT,
        )
        .toBe('');
    await portal.insert(card, 2);
    for (const verdict of await judgeCardCertificates(h, card)) expect(verdict.ocsp).toBe('good');
    await portal.loginAs(DEMO.admin4.card);

    // The ordinary card is back: the return revokes the e-ID and destroys the card.
    await page.locator('a[href="#/stock"]').click();
    await page.getByRole('heading', { name: 'Kortlager', level: 2 }).waitFor();
    await expect.poll(() => count(page, 'issued'), WAIT).toBe('1');
    await page.locator('#stock-return-card').selectOption(card);
    await page.locator('#stock-return-cause').selectOption('ordinary-card-back');
    await page.locator('[data-action="record-return"]').click();
    await expect.poll(() => notice.textContent(), WAIT).toContain('e-legitimationen är spärrad');
    await expect.poll(() => count(page, 'destroyed'), WAIT).toBe('2');
    await expect(count(page, 'issued')).resolves.toBe('0');
    await page.locator('#stock-filter').selectOption('destroyed');
    await expect
      .poll(
        () => page.locator(`[data-testid="stock-cards"] tr[data-card="${card}"]`).getAttribute('data-state'),
        WAIT,
      )
      .toBe('destroyed');
    await checkScreen(page, 'card-stock-returned');
    // What happened reads in the language chosen afterwards too.
    await setLanguage(page, 'en');
    await expect(notice.textContent()).resolves.toContain('its e-ID is revoked and the card destroyed');
    await setLanguage(page, 'sv');
    for (const verdict of await judgeCardCertificates(h, card)) expect(verdict.ocsp).toBe('revoked');
  }, 300_000);
});
