// Texts and dates as a person reads them, in one journey: an order valid to a date shows that date
// in the admin portal and in the issuance review (sv and en); a ten-digit personnummer names the
// number it was read as, also when nothing is found; codes are links whose underscores show; an
// administrator without KUR learns nothing of a protected person, on the screen or in the case; and
// each demo person has one name, the directory's, on the card, in the banner and in the queue.
import { join } from 'node:path';
import { addDays, dateOf, formatDate as isoDate, luhnCheckDigit } from '@reservkort/domain';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_TEXTS } from '../packages/web/src/i18n/ui-texts.js';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, WAIT } from './support/portal-page.js';

/** Nils Utanorder (Medicinkliniken) has no order until admin 1 registers one. */
const NILS_PNR = `19670130991${luhnCheckDigit('670130991')}`;
const NILS_TEN_DIGITS = `${NILS_PNR.slice(2, 8)}-${NILS_PNR.slice(8)}`;
/** Stina Skyddad has a protected identity and an order. */
const STINA_PNR = `19880607989${luhnCheckDigit('880607989')}`;
/** Words that would tell an administrator without KUR that there is a protected person or an order. */
const HINTS = /skydd|protected|beställning|\border\b|identitet|identity|Stina/i;
/** What of Stina a timeline could carry (its step titles name orders: "Sök på beställningar"). */
const SECRETS = /skydd|protected|identitet|identity|Stina|p003|9752278900000000203/i;

/** Today's date in Sweden plus `days`, as a date input takes it (YYYY-MM-DD). */
const daysOn = (days: number): string => isoDate(addDays(dateOf(Date.now()), days));

/** How a date is written on the page: ISO in Swedish, day/month/year in English (en-GB). */
const written = (iso: string, language: 'sv' | 'en'): string =>
  language === 'sv' ? iso : `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}`;

/** An element's text without the code names, which are identifiers rather than words. */
const wordsOf = async (locator: Locator): Promise<string> =>
  ((await locator.textContent()) ?? '').replace(/[A-Z0-9]+(?:_[A-Z0-9]+)+/g, ' ');

const switchLanguage = async (page: Page, to: 'sv' | 'en') => {
  await page.locator('[data-action="language"]').click();
  await expect.poll(() => page.locator('html').getAttribute('lang'), WAIT).toBe(to);
};

describe('texts and dates as a person reads them', { timeout: 120_000 }, () => {
  let h: BrowserHarness;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await h?.close();
  });

  const open = async (): Promise<PortalPage> => {
    const { page, context } = await h.newPage();
    contexts.push(context);
    context.setDefaultTimeout(15_000);
    return new PortalPage(page, context);
  };

  it('a validity date reads the same everywhere, placeholders are filled, codes keep their underscores, nothing leaks, one name per person', async () => {
    // The last day of the order, as typed into the form: thirteen days on (the product allows 14).
    const validTo = daysOn(13);
    const dayAfter = daysOn(14);

    // --- Admin Två: the training panel's card and the banner carry the directory's names.
    const admin = await open();
    const { page } = admin;
    const panel = page.getByTestId('training-panel');
    await expect.poll(() => panel.textContent(), WAIT).toContain(DEMO.sara.name);
    expect(await panel.textContent()).not.toContain('Servicedesk Sara');
    await admin.loginAs(DEMO.admin2.card);

    // Ten digits for Nils, who has no order yet: the notice names the number the search used.
    await admin.control('manage-orders').click();
    await admin.atStep(2);
    await page.locator('#order-query').fill(NILS_TEN_DIGITS);
    await admin.control('search').click();
    const pnrNotice = page.locator('.error-panel[data-code="PNR_FORMAT"]');
    await pnrNotice.waitFor();
    await page.locator('.error-panel[data-code="NO_ORDER"]').waitFor();
    expect(await pnrNotice.textContent()).toContain(NILS_PNR);
    for (const shown of await page.locator('.error-panel').allTextContents()) {
      expect(shown).not.toMatch(/\(–\)|\s–\s/);
    }
    // The hint's example is a personnummer the search accepts (its check digit is right).
    expect(await page.locator('#search-hint').textContent()).toBe(UI_TEXTS.sv.flow.searchHint);

    // The code under the panel is a link, marked by a line below it rather than an underline
    // through its underscores.
    const codeLink = page.locator('.error-panel[data-code="NO_ORDER"] a.code-link');
    const style = await codeLink.evaluate((link) => {
      const computed = getComputedStyle(link);
      return {
        decoration: computed.textDecorationLine,
        border: computed.borderBottomStyle,
        width: computed.borderBottomWidth,
      };
    });
    expect(style).toEqual({ decoration: 'none', border: 'solid', width: '1px' });
    expect(await codeLink.textContent()).toBe('NO_ORDER');

    // Admin Två registers Nils's order in the admin portal, valid to `validTo`.
    await page.locator('a[href="#/admin"]').click();
    await page.locator('#person-query').fill(NILS_PNR);
    await page.locator('[data-action="find-person"]').click();
    await page.getByTestId('person').waitFor();
    await page.locator('#order-card').fill(DEMO.spareCard);
    await page.locator('#order-to').fill(validTo);
    await page.locator('#order-document').selectOption('swedish-passport');
    await admin.enterPins([DEMO.adminPins.pin2], () => page.locator('[data-action="sign-order"]').click());
    const order = page.locator('[data-testid="orders"] [data-state="registered"]');
    await order.waitFor();
    for (const language of ['sv', 'en'] as const) {
      if (language === 'en') await switchLanguage(page, 'en');
      await expect.poll(() => order.textContent(), WAIT).toContain(`– ${written(validTo, language)}`);
      expect(await order.textContent()).not.toContain(written(dayAfter, language));
      expect(await page.locator('.admin-portal .notice').textContent()).toBe(
        UI_TEXTS[language].admin.registered,
      );
      await page
        .locator('section.admin-portal')
        .screenshot({ path: join(SCREENSHOTS, `admin-order-validity-${language}.png`) });
    }

    // --- Admin Fyra (no KUR): Stina is refused with nothing of her, on the screen or in the case.
    const fyra = await open();
    await fyra.loginAs(DEMO.admin4.card);
    await fyra.control('manage-orders').click();
    await fyra.atStep(2);
    await fyra.page.locator('#order-query').fill(STINA_PNR);
    await fyra.control('search').click();
    const refused = fyra.page.locator('.error-panel[data-code="PROTECTED_NEEDS_KUR"]');
    await refused.waitFor();
    expect(await wordsOf(refused)).not.toMatch(HINTS);
    await fyra.page.locator('.error-panel button[data-control="send-support-case"]').first().click();
    const preview = fyra.page.locator('.support-dialog');
    await preview.getByTestId('case-fields').waitFor();
    expect(await wordsOf(preview.getByTestId('case-fields'))).not.toMatch(HINTS);
    expect(await wordsOf(preview.locator('.timeline'))).not.toMatch(SECRETS);
    await preview.locator('#support-comment').fill('Browser test: nothing of the person in the case.');
    await preview.locator('[data-action="send-case"]').click();
    await preview.locator('[data-case-id]').waitFor();
    await preview.locator('button', { hasText: /Stäng|Close/ }).click();

    // Admin Fyra finds Nils's order: the review shows the same last day, in both languages.
    await fyra.page.locator('#order-query').fill(NILS_PNR);
    await fyra.control('search').click();
    const review = fyra.page.getByTestId('review');
    await review.waitFor();
    for (const language of ['sv', 'en'] as const) {
      if (language === 'en') await switchLanguage(fyra.page, 'en');
      await expect.poll(() => review.textContent(), WAIT).toContain(`– ${written(validTo, language)}`);
      expect(await review.textContent()).not.toContain(written(dayAfter, language));
    }

    // --- Sara Servicedesk: the banner and the queue call her what her card and the panel do.
    const desk = await open();
    await desk.loginAs(DEMO.sara.card);
    expect(await desk.page.getByTestId('logged-in').textContent()).toContain(DEMO.sara.name);
    const queue = desk.page.getByTestId('queue');
    await queue.locator('tbody tr').first().waitFor();
    await queue.locator('tbody tr a').first().click();
    await desk.page.locator('[data-action="assign"]').click();
    await expect
      .poll(() => desk.page.locator('.case-view').getAttribute('data-status'), WAIT)
      .toBe('assigned');
    await desk.page.locator('a[href="#/desk"]').last().click();
    await queue.waitFor();
    const everywhere = await desk.page.locator('body').textContent();
    expect(everywhere).not.toContain('Servicedesk Sara');
  });
});
