// "Öva på det här": Admin Två pulls Anna's reserve card while its keys are made at step 6
// (CARD_REMOVED_DURING_DOWNLOAD) and files a case; Sara of the service desk opens the case and
// presses "Öva på det här". The training's readers and cards then stand as they did at the error
// (reader 1 with Admin Två's card, reader 2 connected and empty), and the page names the step the
// flow had reached, the clock, the code and what to try. Swedish first, then English.
import { join } from 'node:path';
import { CATALOGUES, formatCardNumber, luhnCheckDigit, parseCardNumber } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_TEXTS } from '../packages/web/src/i18n/ui-texts.js';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';
import { checkScreen, setLanguage } from './support/screen-checks.js';

const ANNA_PNR = `19850412987${luhnCheckDigit('850412987')}`;
const sv = UI_TEXTS.sv;
const en = UI_TEXTS.en;

const grouped = (card: string): string => {
  const parsed = parseCardNumber(card);
  if (!parsed.ok) throw new Error(`not a card number: ${card}`);
  return formatCardNumber(parsed.value);
};

describe('practising a support case in training mode', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('sets the readers and cards as the case had them at its first error, and names the step, clock and remedy', async () => {
    // axe goes in as a script tag, which the portal's Content-Security-Policy refuses: this test
    // profile alone bypasses it.
    const context = await h.browser.newContext({ bypassCSP: true, locale: 'sv-SE' });
    await context.addInitScript(() => localStorage.setItem('reservkort.language', 'sv'));
    const page = await context.newPage();
    await page.goto(h.url);
    const portal = new PortalPage(page, context);
    const pins = reservePins(DEMO.annaCard);

    // The case: the reserve card pulled while its keys are made.
    await portal.loginAs(DEMO.admin2.card);
    await portal.toReview(ANNA_PNR);
    await portal.signOrder();
    await portal.insert(DEMO.annaCard, 2);
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    const dialog = await portal.pullCardDuringDownload(pins.pin1);
    await dialog.close();
    // Back in reader 2, the card is cleaned of the attempt's keys, so it can be used again.
    await portal.enterPins([pins.pin1], () => portal.insert(DEMO.annaCard, 2));
    const filed = await portal.fileSupportCase('The recipient pulled the card at step 6.');
    expect(filed.fields.codes).toContain('CARD_REMOVED_DURING_DOWNLOAD');
    await page.locator('[data-action="logout"]').click();
    await page.locator('[data-control="login"]').waitFor(WAIT);

    // Sara opens the case; the readers are set otherwise than the case had them.
    await portal.loginAs(DEMO.sara.card);
    const row = page.getByTestId('queue').locator(`tr[data-case="${filed.caseId}"]`);
    await row.waitFor(WAIT);
    await row.locator('a').click();
    const view = page.locator(`.case-view[data-case="${filed.caseId}"]`);
    await view.waitFor(WAIT);
    const panelReader = (n: 1 | 2) => page.locator(`[data-training-reader="${n}"]`);
    expect(await panelReader(1).textContent()).toContain(grouped(DEMO.sara.card));

    await view.locator('[data-action="practise"]', { hasText: sv.practice.button }).click();
    const plan = page.getByTestId('practice-case');
    await plan.waitFor(WAIT);
    expect(await plan.getAttribute('data-code')).toBe('CARD_REMOVED_DURING_DOWNLOAD');
    expect(await plan.getAttribute('data-step')).toBe('6');

    // The training's readers, as the card agent reports them: Admin Två's card in reader 1, reader 2
    // connected and empty, and Sara's card back on the desk.
    await expect.poll(() => panelReader(1).textContent(), WAIT).toContain(grouped(DEMO.admin2.card));
    await expect.poll(() => panelReader(2).textContent(), WAIT).toContain(sv.training.dropHere);
    expect(await panelReader(2).getAttribute('class')).not.toContain('unplugged');
    expect(await panelReader(1).getAttribute('class')).not.toContain('unplugged');
    expect(await page.locator('[data-remove="2"]').count()).toBe(0);
    expect(await page.locator(`[data-card="${DEMO.sara.card}"]`).count()).toBe(1);

    // What the page says: the readers, the step, the clock, the walk there, and what to try.
    const readers = await plan.locator('[data-practice-reader]').allTextContents();
    expect(readers[0]).toContain(grouped(DEMO.admin2.card));
    expect(readers[1]).toContain(sv.practice.empty);
    expect(await plan.locator('[data-field="practice-step"]').textContent()).toBe(
      `Flödet hade kommit till steg 6: ${CATALOGUES.sv.steps[6]}.`,
    );
    const clock = (await plan.locator('[data-field="practice-clock"]').textContent()) ?? '';
    expect(clock).toMatch(/^Felet kom (\d+ min )?\d+ s in i försöket\./);
    expect(clock).toContain(sv.practice.noDeadline);
    const walk = await plan.locator('.practice-walk li').allTextContents();
    expect(walk).toHaveLength(7);
    expect(walk[0]).toContain('Admin Två');
    expect(walk.join(' ')).toContain(grouped(DEMO.annaCard));
    expect(walk.join(' ')).toContain('Anna Andersson');
    expect(await plan.locator('[data-field="practice-remedy"]').textContent()).toBe(
      CATALOGUES.sv.codes.CARD_REMOVED_DURING_DOWNLOAD.remedy,
    );
    // axe and the screenshots of the practice, in Swedish and English.
    await view.locator('.practice').scrollIntoViewIfNeeded();
    await checkScreen(page, 'practice', { shotOf: '.case-view .practice' });

    // The same in English.
    await setLanguage(page, 'en');
    expect(await view.locator('[data-action="practise"]').textContent()).toBe(en.practice.button);
    expect(await plan.locator('[data-field="practice-step"]').textContent()).toBe(
      `The flow had reached step 6: ${CATALOGUES.en.steps[6]}.`,
    );
    expect(await plan.locator('[data-field="practice-clock"]').textContent()).toContain(
      en.practice.noDeadline,
    );
    expect(await plan.locator('[data-field="practice-remedy"]').textContent()).toBe(
      CATALOGUES.en.codes.CARD_REMOVED_DURING_DOWNLOAD.remedy,
    );

    // The trainee walks there: the practice stays in the training panel; at step 6 "set the readers
    // as in the case" takes the reserve card out again, and the flow meets the case's error.
    await setLanguage(page, 'sv');
    await page.locator('[data-action="logout"]').click();
    await page.locator('[data-control="login"]').waitFor(WAIT);
    const inPanel = page.getByTestId('practice-panel');
    await inPanel.waitFor(WAIT);
    // A reload keeps the practice in the panel: it is the tab's.
    await page.reload();
    await inPanel.waitFor(WAIT);
    expect(await inPanel.getAttribute('data-code')).toBe('CARD_REMOVED_DURING_DOWNLOAD');
    expect(await inPanel.getAttribute('data-step')).toBe('6');
    await portal.loginAs(DEMO.admin2.card);
    await portal.toReview(ANNA_PNR);
    await portal.signOrder();
    await portal.insert(DEMO.annaCard, 2);
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    await portal.acceptTerms();
    const again = context.waitForEvent('page', { timeout: 15_000 });
    await portal.control('start-download').click();
    const pin1 = await again;
    await pin1.waitForLoadState();
    await pin1.locator('#pin').fill(pins.pin1);
    await pin1.locator('#ok').click();
    await expect
      .poll(() => page.locator('.download-phases li').first().getAttribute('data-phase-state'), WAIT)
      .toBe('doing');
    await inPanel.locator('[data-action="practice-reapply"]').click();
    await page
      .locator('section.issuance .error-panel[data-code="CARD_REMOVED_DURING_DOWNLOAD"]')
      .waitFor(WAIT);
    // The login card stayed in reader 1 all along: no CARD_REINSERTED on the way.
    expect(await page.locator('.error-panel[data-code="CARD_REINSERTED"]').count()).toBe(0);
    expect(await panelReader(1).textContent()).toContain(grouped(DEMO.admin2.card));
    await page.screenshot({ path: join(SCREENSHOTS, 'practice-walked-sv.png'), fullPage: true });
    await pin1.close();
  });
});
