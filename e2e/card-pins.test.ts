// Card and PINs in Chromium, through the UI only: a PIN changed and then used to log in; a PIN 1
// blocked at login, said on the pre-flight, and unblocked with the PUK in the agent's own window; a
// wrong PUK counted down to the card locked for good; the training panel's PIN scenes. axe on the
// new screen and screenshots in both languages of the screen, the dialogs and each code's panel.
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, WAIT } from './support/portal-page.js';
import { checkScreen, setLanguage } from './support/screen-checks.js';

const TEST_MS = 180_000;
/** The training administrators' PUK, from their PIN letters. */
const ADMIN_PUK = '12345678';
const WRONG_PUK = '00000000';

/** The screen in both languages: axe on each, a screenshot of each; ends in Swedish. */
const shootBoth = (page: Page, shot: string, axe = true): Promise<void> =>
  // The screen itself; the training panel beside it is the same in every shot.
  checkScreen(page, shot, { axe, shotOf: 'main' });

const tools = (page: Page) => page.locator('section.card-tools');
const counter = (page: Page, which: 'pin1' | 'pin2' | 'puk') =>
  page.locator(`[data-counter="${which}"]`).getAttribute('data-tries');

const openCardTools = async (page: Page): Promise<void> => {
  await page.locator('[data-action="open-card-tools"]').last().click();
  await tools(page).waitFor(WAIT);
  await expect.poll(() => page.getByTestId('pin-counters').isVisible(), WAIT).toBe(true);
};

/** Clicks a card-tools button and answers the agent's window that opens. */
const openDialog = async (context: BrowserContext, click: () => Promise<void>): Promise<Page> => {
  const opened = context.waitForEvent('page', { timeout: 15_000 });
  await click();
  const dialog = await opened;
  await dialog.waitForLoadState();
  return dialog;
};

const typeInDialog = async (dialog: Page, first: string, newPin: string): Promise<void> => {
  await dialog.locator('#pin').fill(first);
  await dialog.locator('#new-pin').fill(newPin);
  await dialog.locator('#repeat-pin').fill(newPin);
  await dialog.locator('#ok').click();
};

const backToLogin = async (page: Page): Promise<void> => {
  await page.locator('[data-action="back-to-login"]').click();
  await page.locator('[data-control="login"]').waitFor(WAIT);
};

/** A training scene from the panel, by its id; the notice names its code. */
const tryScene = async (page: Page, id: string, code: string): Promise<void> => {
  await page.locator(`[data-try="${id}"]`).click();
  await expect.poll(() => page.getByTestId('training-notice').textContent(), WAIT).toContain(code);
};

describe('Card and PINs: PIN change and PUK unblock in the agent, without logging in (Chromium)', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  /**
   * A fresh browser profile on the portal. axe goes in as a script tag, which the portal's
   * Content-Security-Policy refuses; the test profile alone bypasses it.
   */
  const open = async (language: 'sv' | 'en' = 'sv'): Promise<{ page: Page; context: BrowserContext }> => {
    const context = await h.browser.newContext({
      bypassCSP: true,
      locale: language === 'sv' ? 'sv-SE' : 'en-GB',
    });
    await context.addInitScript((lang) => localStorage.setItem('reservkort.language', lang), language);
    const page = await context.newPage();
    await page.goto(h.url);
    await page.getByTestId('training-panel').waitFor(WAIT);
    return { page, context };
  };

  it(
    'changes PIN 1 in the agent’s window, then logs in with the new PIN (the old one no longer works)',
    async () => {
      const { page, context } = await open();
      const portal = new PortalPage(page, context);
      await portal.insert(DEMO.admin3.card, 1);
      await openCardTools(page);
      expect(await page.getByTestId('card-tools-card').textContent()).toContain('9752 2789 0000 0000 103');
      expect(await counter(page, 'pin1')).toBe('3');
      expect(await counter(page, 'pin2')).toBe('3');
      expect(await counter(page, 'puk')).toBe('11');
      expect(await tools(page).textContent()).toContain('11 försök kvar');
      // Only changes are offered while nothing is blocked.
      expect(await page.locator('[data-control^="unblock-"]').count()).toBe(0);
      await shootBoth(page, 'card-pins-screen');

      const dialog = await openDialog(context, () => page.locator('[data-control="change-pin1"]').click());
      await expect
        .poll(() => page.locator('.pin-prompt[data-kind="change-pin"]').isVisible(), WAIT)
        .toBe(true);
      await dialog.screenshot({ path: join(SCREENSHOTS, 'card-pins-change-dialog-sv.png') });
      // A wrong current PIN counts down, in the window and on the page with its code.
      await typeInDialog(dialog, '9999', '2468');
      await expect.poll(() => dialog.locator('#status').textContent(), WAIT).toContain('2 försök kvar');
      const inDialog = page.locator('#card-tools-dialog-error[data-code="PIN_INCORRECT"]');
      await expect.poll(() => inDialog.isVisible(), WAIT).toBe(true);
      expect(await inDialog.textContent()).toContain('2 försök återstår');
      await shootBoth(page, 'card-pins-change-wrong-pin');
      await typeInDialog(dialog, DEMO.adminPins.pin1, '2468');
      await page.locator('[data-done="changed-pin1"]').waitFor(WAIT);
      expect(await counter(page, 'pin1')).toBe('3');
      expect(await page.locator('#card-tools-dialog-error').count()).toBe(0);
      await shootBoth(page, 'card-pins-changed');
      // The screen never held a PIN: nothing typed in the window is in it.
      const html = await tools(page).innerHTML();
      for (const secret of ['2468', '9999']) expect(html).not.toContain(secret);

      // A window closed without a PIN is said with its code; the PIN stays as it was.
      const cancelled = await openDialog(context, () => page.locator('[data-control="change-pin2"]').click());
      await cancelled.locator('#cancel').click();
      const cancelPanel = page.locator('#card-tools-error[data-code="DIALOG_CANCELLED"]');
      await expect.poll(() => cancelPanel.isVisible(), WAIT).toBe(true);
      expect(await page.locator('[data-done]').count()).toBe(0);
      await shootBoth(page, 'card-pins-dialog-cancelled');
      // PIN 2 changed as well, in its own window.
      const pin2 = await openDialog(context, () => page.locator('[data-control="change-pin2"]').click());
      await expect.poll(() => page.locator('.pin-prompt[data-pin="pin2"]').isVisible(), WAIT).toBe(true);
      await typeInDialog(pin2, DEMO.adminPins.pin2, '8642');
      await page.locator('[data-done="changed-pin2"]').waitFor(WAIT);
      expect(await cancelPanel.count()).toBe(0);

      await backToLogin(page);
      // The old PIN is refused by the card; the new one logs in.
      const old = await openDialog(context, () => page.locator('[data-control="login"]').click());
      await old.locator('#pin').fill(DEMO.adminPins.pin1);
      await old.locator('#ok').click();
      await expect.poll(() => old.locator('#status').textContent(), WAIT).toContain('2 försök kvar');
      await old.locator('#pin').fill('2468');
      await old.locator('#ok').click();
      await page.getByTestId('logged-in').waitFor(WAIT);
      await page.locator('[data-action="logout"]').click();
      await page.locator('[data-control="login"]').waitFor(WAIT);
    },
    TEST_MS,
  );

  it(
    'blocks PIN 1 with three wrong PINs at login, says PIN_BLOCKED on the pre-flight, unblocks it with the PUK after a wrong one, and logs in',
    async () => {
      const { page, context } = await open();
      const portal = new PortalPage(page, context);
      await portal.insert(DEMO.admin4.card, 1);
      const login = page.locator('[data-control="login"]');
      const dialog = await openDialog(context, () => login.click());
      for (const left of [2, 1]) {
        await dialog.locator('#pin').fill('9999');
        await dialog.locator('#ok').click();
        await expect
          .poll(() => dialog.locator('#status').textContent(), WAIT)
          .toContain(`${left} försök kvar`);
      }
      await dialog.locator('#pin').fill('9999');
      await dialog.locator('#ok').click();
      await expect.poll(() => dialog.locator('#status').textContent(), WAIT).toContain('spärrad');
      await dialog.close();
      const blocked = page.locator('#pin-blocked[data-code="PIN_BLOCKED"]');
      await expect.poll(() => blocked.isVisible(), WAIT).toBe(true);
      expect(await login.isDisabled()).toBe(true);
      // The panel's remedy leads to Card and PINs.
      expect(await blocked.locator('a[data-action="open-card-tools"]').textContent()).toBe(
        'Öppna Kort och PIN-koder',
      );
      await shootBoth(page, 'card-pins-login-pin-blocked');

      await blocked.locator('a[data-action="open-card-tools"]').click();
      await tools(page).waitFor(WAIT);
      await expect
        .poll(() => page.locator('#pin1-blocked[data-code="PIN_BLOCKED"]').isVisible(), WAIT)
        .toBe(true);
      expect(await page.locator('[data-counter="pin1"]').getAttribute('data-blocked')).toBe('true');
      expect(await page.locator('[data-control="change-pin1"]').isDisabled()).toBe(true);
      expect(await page.locator('[data-control="change-pin2"]').isEnabled()).toBe(true);
      expect(await page.locator('[data-control="unblock-pin2"]').count()).toBe(0);
      await shootBoth(page, 'card-pins-screen-pin-blocked');

      const unblock = await openDialog(context, () => page.locator('[data-control="unblock-pin1"]').click());
      await expect
        .poll(() => page.locator('.pin-prompt[data-kind="unblock-pin"]').isVisible(), WAIT)
        .toBe(true);
      await unblock.screenshot({ path: join(SCREENSHOTS, 'card-pins-unblock-dialog-sv.png') });
      // A wrong PUK: the window and the page both say so, with the tries left before the card locks.
      await typeInDialog(unblock, WRONG_PUK, '1357');
      await expect
        .poll(() => unblock.locator('#status').textContent(), WAIT)
        .toContain('10 försök kvar innan kortet låses för gott');
      const wrongPuk = page.locator('#card-tools-dialog-error[data-code="PUK_INCORRECT"]');
      await expect.poll(() => wrongPuk.isVisible(), WAIT).toBe(true);
      expect(await wrongPuk.textContent()).toContain('10 försök återstår innan kortet låses för gott');
      await unblock.screenshot({ path: join(SCREENSHOTS, 'card-pins-unblock-dialog-wrong-puk-sv.png') });
      await shootBoth(page, 'card-pins-puk-incorrect');

      await typeInDialog(unblock, ADMIN_PUK, '1357');
      await page.locator('[data-done="unblocked-pin1"]').waitFor(WAIT);
      expect(await counter(page, 'pin1')).toBe('3');
      // The right PUK gives the PUK all its tries back.
      expect(await counter(page, 'puk')).toBe('11');
      expect(await page.locator('#pin1-blocked').count()).toBe(0);
      await shootBoth(page, 'card-pins-unblocked');
      const html = await tools(page).innerHTML();
      for (const secret of [ADMIN_PUK, WRONG_PUK, '1357']) expect(html).not.toContain(secret);

      await backToLogin(page);
      await portal.login('1357');
      await page.locator('[data-action="logout"]').click();
      await page.locator('[data-control="login"]').waitFor(WAIT);
    },
    TEST_MS,
  );

  it(
    'counts a wrong PUK down to CARD_LOCKED on the eleventh, and the card is then locked on every screen',
    async () => {
      const { page, context } = await open('en');
      // The training panel's "Blocked PIN": Admin Två's card, PIN 1 blocked, in reader 1.
      await tryScene(page, 'pin-blocked-card', 'PIN_BLOCKED');
      await expect
        .poll(() => page.locator('#pin-blocked[data-code="PIN_BLOCKED"]').isVisible(), WAIT)
        .toBe(true);
      await openCardTools(page);
      const unblock = await openDialog(context, () => page.locator('[data-control="unblock-pin1"]').click());
      const status = unblock.locator('#status');
      const wrongPuk = page.locator('#card-tools-dialog-error[data-code="PUK_INCORRECT"]');
      for (let left = 10; left >= 1; left--) {
        await typeInDialog(unblock, WRONG_PUK, '1357');
        await expect
          .poll(() => status.textContent(), WAIT)
          .toContain(`Wrong PUK. Tries left before the card is locked for good: ${left}.`);
        await expect.poll(() => wrongPuk.textContent(), WAIT).toContain(`locked for good: ${left}.`);
      }
      await typeInDialog(unblock, WRONG_PUK, '1357');
      await expect.poll(() => status.textContent(), WAIT).toContain('locked for good');
      await unblock.screenshot({ path: join(SCREENSHOTS, 'card-pins-unblock-dialog-card-locked-en.png') });
      await unblock.close();

      const locked = page.locator('#card-tools-locked[data-code="CARD_LOCKED"]');
      await expect.poll(() => locked.isVisible(), WAIT).toBe(true);
      expect(await locked.textContent()).toContain('revoked');
      expect(await locked.textContent()).toContain('destroyed');
      expect(await page.locator('[data-counter="puk"]').getAttribute('data-locked')).toBe('true');
      expect(await page.locator('[data-control^="change-"], [data-control^="unblock-"]').count()).toBe(0);
      // Said once, by its own panel, not a second time as the operation's error.
      expect(await page.locator('[data-code="CARD_LOCKED"]').count()).toBe(1);
      await shootBoth(page, 'card-pins-card-locked');
      await setLanguage(page, 'sv');
      expect(await locked.textContent()).toContain('spärras');
      expect(await locked.textContent()).toContain('förstöras');

      await backToLogin(page);
      await expect
        .poll(() => page.locator('#card-locked[data-code="CARD_LOCKED"]').isVisible(), WAIT)
        .toBe(true);
      expect(await page.locator('[data-control="login"]').isDisabled()).toBe(true);
      expect(await page.locator('#login-reason').getAttribute('data-reason')).toBe('CARD_LOCKED');
    },
    TEST_MS,
  );

  it(
    'sets the training panel’s Låst kort and Blockerad PIN scenes, and another scene gives the card its tries back',
    async () => {
      const { page, context } = await open();
      const scenes = page.locator('[data-scenario="pin-blocked-card"], [data-scenario="card-locked"]');
      expect(await scenes.allTextContents()).toEqual([
        expect.stringContaining('Blockerad PIN'),
        expect.stringContaining('Låst kort'),
      ]);
      // The card life's other scenes: an order with a card about to wear out, a second förlängning.
      const later = page.locator(
        '[data-scenario="card-past-physical-expiry"], [data-scenario="second-extension"]',
      );
      expect(await later.allTextContents()).toEqual([
        expect.stringContaining('9752 2789 0000 0000 298'),
        expect.stringContaining('förläng giltighetstiden och försök förlänga en gång till'),
      ]);
      await tryScene(page, 'card-locked', 'CARD_LOCKED');
      await expect
        .poll(() => page.locator('#card-locked[data-code="CARD_LOCKED"]').isVisible(), WAIT)
        .toBe(true);
      expect(await page.locator('[data-control="login"]').isDisabled()).toBe(true);
      await page.locator('[data-training-reader="1"]').scrollIntoViewIfNeeded();
      await shootBoth(page, 'card-pins-scene-card-locked', false);
      await openCardTools(page);
      expect(await page.locator('[data-counter="puk"]').getAttribute('data-locked')).toBe('true');

      // Blockerad PIN: the same card, PIN 1 blocked, the PUK's tries full again.
      await tryScene(page, 'pin-blocked-card', 'PIN_BLOCKED');
      await expect
        .poll(() => page.locator('[data-counter="pin1"]').getAttribute('data-blocked'), WAIT)
        .toBe('true');
      expect(await counter(page, 'puk')).toBe('11');
      const unblock = await openDialog(context, () => page.locator('[data-control="unblock-pin1"]').click());
      await typeInDialog(unblock, ADMIN_PUK, DEMO.adminPins.pin1);
      await page.locator('[data-done="unblocked-pin1"]').waitFor(WAIT);

      // Any other scene puts the card back as it was printed: full tries.
      await tryScene(page, 'card-locked', 'CARD_LOCKED');
      await expect
        .poll(() => page.locator('[data-counter="puk"]').getAttribute('data-locked'), WAIT)
        .toBe('true');
      await tryScene(page, 'SIGN_FAILED', 'SIGN_FAILED');
      await expect.poll(() => counter(page, 'pin1'), WAIT).toBe('3');
      expect(await counter(page, 'puk')).toBe('11');
    },
    TEST_MS,
  );
});
