// A person's ordinary moves in the issuance portal, through the UI only: the previous recipient's
// card left in reader 2 when the next issuance reaches step 4; a PIN typed wrong three times in the
// agent's dialog; and what the portal shows at the end, after a reader gap and after a timeout.
import { join } from 'node:path';
import { describeError, luhnCheckDigit } from '@reservkort/domain';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';

const personalNumber = (born: string, birthNumber: string) =>
  `${born}${birthNumber}${luhnCheckDigit(`${born.slice(2)}${birthNumber}`)}`;

/** Anna's order (by Admin Ett, card …201), Bo's (by Admin Två, …202), Stina's (by Admin Två, …203). */
const ANNA = { pnr: personalNumber('19850412', '987'), card: DEMO.annaCard };
const BO = { pnr: personalNumber('19790923', '988'), card: '9752278900000000202' };
const STINA = { pnr: personalNumber('19880607', '989'), card: '9752278900000000203' };

const TEST_MS = 180_000;

const issuance = (page: Page) => page.locator('section.issuance');

const switchLanguage = async (page: Page, to: 'sv' | 'en'): Promise<void> => {
  await page.locator('[data-action="language"]').click();
  await expect.poll(() => page.locator('html').getAttribute('lang'), WAIT).toBe(to);
};

/** Steps 4–6 up to STARTA NEDLADDNING, with the order's card in reader 2. */
const walkToDownload = async (portal: PortalPage, card: string): Promise<void> => {
  await portal.insert(card, 2);
  await expect.poll(() => portal.control('confirm-handover').isEnabled(), WAIT).toBe(true);
  await portal.control('confirm-handover').click();
  await portal.atStep(5);
  await portal.acceptTerms();
};

/** The flow as the server holds it, read by the page with its own session. */
const flowOf = (page: Page, flowId: string) =>
  page.evaluate(async (id) => {
    const answer = await fetch(`/api/flows/${id}`);
    return (await answer.json()) as {
      view: { timeline: { event: string; codes: string[]; details?: Record<string, unknown> }[] };
    };
  }, flowId);

/** The step-6 rows as shown: each row's state. */
const downloadRows = (page: Page) =>
  page
    .locator('.download-phases li')
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-phase-state')));

/** The training administrators' PUK (their PIN letters), and the PIN Lena chooses when she unblocks. */
const ADMIN_PUK = '12345678';
const LENA_NEW_PIN = '4321';

describe('the issuance portal, moved through as a person would', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it(
    "completes Anna's card, then reaches step 4 for Bo with Anna's card still in reader 2, then blocks Bo's PIN",
    async () => {
      const { page, context } = await h.newPage();
      const portal = new PortalPage(page, context);
      await portal.loginAs(DEMO.admin4.card);

      // Anna's card, to the end: the success sentence once, each serial labelled with its certificate.
      await portal.toReview(ANNA.pnr);
      await portal.signOrder();
      await walkToDownload(portal, ANNA.card);
      const annaPins = reservePins(ANNA.card);
      await portal.enterPins([annaPins.pin1, annaPins.pin2], () => portal.control('start-download').click());
      await portal.atStep(7);
      await portal.enterPins([annaPins.pin2], () => portal.control('acknowledge').click());
      const completed = page.getByTestId('completed');
      await completed.waitFor();
      const text = (await issuance(page).textContent()) ?? '';
      expect(text.split('Kortet är kvitterat').length - 1).toBe(1);
      const serials = await completed.locator('li').allTextContents();
      expect(serials).toHaveLength(2);
      expect(serials[0]).toMatch(/^Legitimeringscertifikat \(autentisering\), serienummer [0-9a-f]+$/);
      expect(serials[1]).toMatch(/^Underskriftscertifikat, serienummer [0-9a-f]+$/);
      expect(await page.locator('[data-action="new-issuance"]').count()).toBe(1);
      await page.screenshot({ path: join(SCREENSHOTS, 'portal-moves-completed-serials-sv.png') });
      await switchLanguage(page, 'en');
      expect(((await issuance(page).textContent()) ?? '').split('The card is acknowledged').length - 1).toBe(
        1,
      );
      const english = await completed.locator('li').allTextContents();
      expect(english[0]).toMatch(/^Authentication certificate, serial number [0-9a-f]+$/);
      expect(english[1]).toMatch(/^Signature certificate, serial number [0-9a-f]+$/);
      await page.screenshot({ path: join(SCREENSHOTS, 'portal-moves-completed-serials-en.png') });
      await switchLanguage(page, 'sv');

      // Ny utgivning, Bo's order: Anna's card stays where it was. Step 4 opens with it in reader 2.
      await page.locator('[data-action="new-issuance"]').click();
      await portal.atStep(1);
      await expect.poll(() => portal.control('manage-orders').isEnabled(), WAIT).toBe(true);
      await portal.toReview(BO.pnr);
      await portal.signOrder();
      const reason = page.locator('.reason[data-reason="WRONG_CARD"]');
      await expect.poll(() => reason.isVisible(), WAIT).toBe(true);
      expect(await reason.textContent()).toContain('Kortet i läsaren är förra mottagarens kort');
      expect(await page.getByTestId('actual-card').textContent()).toContain('0000 201');
      await page.screenshot({ path: join(SCREENSHOTS, 'portal-moves-wrong-card-previous-recipient-sv.png') });
      await switchLanguage(page, 'en');
      expect(await reason.textContent()).toContain("The card in the reader is the previous recipient's card");
      await page.screenshot({ path: join(SCREENSHOTS, 'portal-moves-wrong-card-previous-recipient-en.png') });
      await switchLanguage(page, 'sv');
      // Recorded on the flow (SIGNERA opened step 4 with it), so the case has it too.
      const flowId = (await issuance(page).getAttribute('data-flow')) ?? '';
      const recorded = (await flowOf(page, flowId)).view.timeline.find((e) => e.codes.includes('WRONG_CARD'));
      expect(recorded).toMatchObject({
        event: 'signed',
        details: { actual: ANNA.card, expected: BO.card, owner: 'previous-recipient' },
      });
      const { fields } = await portal.fileSupportCase('Anna’s card was still in reader 2');
      expect(fields.codes?.split(', ')).toContain('WRONG_CARD');

      // Bo's own card, and a wrong PIN 1 three times in the dialog window.
      await walkToDownload(portal, BO.card);
      const opened: Page[] = [];
      const popup = context.waitForEvent('page', { timeout: 15_000 });
      await portal.control('start-download').click();
      const dialog = await popup;
      context.on('page', (p) => opened.push(p));
      await dialog.waitForLoadState();
      const status = dialog.locator('#status');
      for (const left of [2, 1]) {
        await dialog.locator('#pin').fill('9999');
        await dialog.locator('#ok').click();
        await expect.poll(() => status.textContent(), WAIT).toContain(`${left} försök kvar`);
      }
      await dialog.locator('#pin').fill('9999');
      await dialog.locator('#ok').click();
      await expect.poll(() => status.textContent(), WAIT).toContain('portalen säger vad du gör nu');
      const fault = page.locator('section.issuance .error-panel[data-code="PIN_BLOCKED"]');
      await expect.poll(() => fault.isVisible(), WAIT).toBe(true);
      const said = (await fault.textContent()) ?? '';
      expect(said).toContain('PUK-koden från kortets PIN-brev');
      expect(said).toContain('skicka en felanmälan');
      // The portal stops asking: no "Väntar på PIN 1", no other PIN window for the blocked card.
      await expect.poll(() => page.locator('.pin-prompt').count(), WAIT).toBe(0);
      await dialog.close();
      // Step 6 as far as it got: PIN 1 failed, the rest never started (not "Väntar" all over).
      expect(await downloadRows(page)).toEqual([
        'notStarted',
        'failed',
        'notStarted',
        'notStarted',
        'notStarted',
      ]);
      expect(await page.locator('.download-phases li').nth(1).textContent()).toContain('Misslyckades');
      expect(await issuance(page).textContent()).not.toContain('när fönstren visas');
      await page.screenshot({ path: join(SCREENSHOTS, 'portal-moves-pin-blocked-sv.png') });
      await switchLanguage(page, 'en');
      expect(await fault.textContent()).toContain("the PUK from the card's PIN letter");
      expect(await page.locator('.download-phases li').nth(1).textContent()).toContain('Failed');
      await page.screenshot({ path: join(SCREENSHOTS, 'portal-moves-pin-blocked-en.png') });
      await switchLanguage(page, 'sv');
      const { fields: blocked } = await portal.fileSupportCase('Bo’s PIN was typed wrong three times');
      expect(blocked.codes?.split(', ')).toContain('PIN_BLOCKED');
      expect(opened).toHaveLength(0);
      await page.close();
    },
    TEST_MS,
  );

  it(
    'says a PIN blocked at login and opens no further window, shows a reader gap once, and offers one restart after a timeout (English)',
    async () => {
      const { page, context } = await h.newPage({ language: 'en' });
      const portal = new PortalPage(page, context);

      // First a login with Lena's card and a PIN typed wrong three times: blocked, and said so.
      await portal.insert(DEMO.lena.card, 1);
      const popup = context.waitForEvent('page', { timeout: 15_000 });
      const login = page.locator('[data-control="login"]');
      await login.click();
      const dialog = await popup;
      await dialog.waitForLoadState();
      for (let attempt = 0; attempt < 3; attempt++) {
        await dialog.locator('#pin').fill('9999');
        await dialog.locator('#ok').click();
        await expect
          .poll(() => dialog.locator('#status').textContent(), WAIT)
          .toContain(attempt < 2 ? `Tries left: ${2 - attempt}` : 'the portal says what to do now');
      }
      await dialog.close();
      // The pre-flight reads the card's counters: the blocked PIN is said at once, login is not
      // offered (no PIN window that cannot succeed), and unblocking with the PUK is.
      const blockedPanel = page.locator('#pin-blocked[data-code="PIN_BLOCKED"]');
      await expect.poll(() => blockedPanel.isVisible(), WAIT).toBe(true);
      expect(await blockedPanel.textContent()).toContain("the PUK from the card's PIN letter");
      expect(await login.isDisabled()).toBe(true);
      expect(await page.locator('#login-reason').getAttribute('data-reason')).toBe('PIN_BLOCKED');
      expect(await page.locator('#login-error').count()).toBe(0);
      const opened: Page[] = [];
      context.on('page', (p) => opened.push(p));
      expect(opened).toHaveLength(0);
      expect(await page.locator('.pin-prompt').count()).toBe(0);
      await page
        .locator('section.login')
        .screenshot({ path: join(SCREENSHOTS, 'portal-moves-login-pin-blocked-en.png') });

      // Unblock PIN 1 with the PUK in the agent's own window (the PUK never touches the portal),
      // then log in with the new PIN, and out again.
      const unblockWindow = context.waitForEvent('page', { timeout: 15_000 });
      await page.locator('[data-control="unblock-pin"]').click();
      const unblocking = await unblockWindow;
      await unblocking.waitForLoadState();
      await expect
        .poll(() => page.locator('.pin-prompt[data-kind="unblock-pin"]').isVisible(), WAIT)
        .toBe(true);
      expect(await page.locator('.pin-prompt').textContent()).toContain('Unblock PIN 1 (authentication)');
      await unblocking.locator('#pin').fill(ADMIN_PUK);
      await unblocking.locator('#new-pin').fill(LENA_NEW_PIN);
      await unblocking.locator('#repeat-pin').fill(LENA_NEW_PIN);
      await unblocking.locator('#ok').click();
      await page.getByTestId('pin-unblocked').waitFor(WAIT);
      expect(await blockedPanel.count()).toBe(0);
      await expect.poll(() => login.isEnabled(), WAIT).toBe(true);
      await portal.login(LENA_NEW_PIN);
      await page.locator('[data-action="logout"]').click();
      await login.waitFor(WAIT);

      await portal.loginAs(DEMO.admin1.card);
      await portal.toReview(STINA.pnr);
      await portal.signOrder();
      await portal.insert(STINA.card, 2);
      await portal.unplug(2);
      await portal.plug(2);
      const fault = page.locator('section.issuance .error-panel[data-code="ONE_READER_USED"]');
      await expect.poll(() => fault.isVisible(), WAIT).toBe(true);
      await portal.insert(STINA.card, 2);
      // Explained once: the handover button names the fault and points to it.
      const section = issuance(page);
      const { explanation } = describeError({ code: 'ONE_READER_USED' }, 'en');
      expect(((await section.textContent()) ?? '').split(explanation).length - 1).toBe(1);
      expect(await section.locator('[data-remedy="restart"]').count()).toBe(1);
      expect(await section.locator('[data-control="send-support-case"]').count()).toBe(1);
      const reason = page.locator('.reason[data-reason="ONE_READER_USED"]');
      expect(await reason.textContent()).toContain('See the error above.');
      expect(await portal.control('confirm-handover').isDisabled()).toBe(true);
      await section.screenshot({ path: join(SCREENSHOTS, 'portal-moves-one-reader-used-once-en.png') });

      // Restart, to step 7, and let the time run out.
      const before = await section.getAttribute('data-flow');
      await section.locator('[data-remedy="restart"]').click();
      await expect.poll(() => section.getAttribute('data-flow'), WAIT).not.toBe(before);
      await portal.atStep(1);
      await expect.poll(() => portal.control('manage-orders').isEnabled(), WAIT).toBe(true);
      await portal.toReview(STINA.pnr);
      await portal.signOrder();
      await walkToDownload(portal, STINA.card);
      const pins = reservePins(STINA.card);
      await portal.enterPins([pins.pin1, pins.pin2], () => portal.control('start-download').click());
      await portal.atStep(7);
      await page.locator('[data-action="jump-to-deadline"]').click();
      const revoked = page.getByTestId('revoked');
      await expect.poll(() => revoked.isVisible(), WAIT).toBe(true);
      expect(await revoked.textContent()).toMatch(
        /Authentication certificate, serial number [0-9a-f]+; Signature certificate, serial number [0-9a-f]+/,
      );
      // One way on: the error's "Restart the issuance", not also "New issuance".
      await expect.poll(() => section.locator('[data-remedy="restart"]').count(), WAIT).toBe(1);
      expect(await page.locator('[data-action="new-issuance"]').count()).toBe(0);
      await section.screenshot({ path: join(SCREENSHOTS, 'portal-moves-ack-timeout-one-restart-en.png') });
      await page.close();
    },
    TEST_MS,
  );
});
