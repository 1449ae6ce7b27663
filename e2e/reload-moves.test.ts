// A person's ordinary moves in the middle of an issuance: reloading the page at every step (with a
// PIN window open, and between PIN 1 and PIN 2), and putting back a reserve card pulled during the
// download. The flow resumes exactly where it is, tells the server nothing twice, and no PIN window
// opens without the portal saying why.
import { join } from 'node:path';
import { luhnCheckDigit } from '@reservkort/domain';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { cardInReader2, judgeCardCertificates } from './support/card-checks.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';

const ANNA_PNR = `19850412987${luhnCheckDigit('850412987')}`;
/** Bo Berg's order, registered by Admin Två: Admin Fyra completes it. */
const BO = { pnr: `19790923988${luhnCheckDigit('790923988')}`, card: '9752278900000000202' };

interface TimelineEntry {
  readonly event: string;
  readonly codes: readonly string[];
  readonly details?: Record<string, unknown>;
}

/** The flow as the server holds it, read with the page's own session. */
const flowOf = (page: Page, flowId: string) =>
  page.evaluate(async (id) => {
    const answer = await fetch(`/api/flows/${id}`);
    return (await answer.json()) as { view: { step: number; timeline: TimelineEntry[] } };
  }, flowId);

describe('reloading the page and putting back a pulled card, as a person does', () => {
  let h: BrowserHarness;
  let portal: PortalPage;
  beforeAll(async () => {
    h = await startBrowserHarness();
    const { page, context } = await h.newPage();
    await page.getByTestId('training-panel').waitFor();
    portal = new PortalPage(page, context);
  });
  afterAll(async () => h?.close());

  /** The PIN window open now: the marked window of before the reload is not it until it has loaded again. */
  const pinWindow = async (): Promise<Page> => {
    let found: Page | undefined;
    await expect
      .poll(async () => {
        for (const candidate of portal.context.pages()) {
          if (candidate.isClosed() || !candidate.url().includes('/dialog/')) continue;
          const fresh = await candidate
            .evaluate(
              () =>
                !(window as { beforeReload?: boolean }).beforeReload &&
                document.querySelector('#pin') !== null,
            )
            .catch(() => false);
          if (fresh) found = candidate;
        }
        return found !== undefined;
      }, WAIT)
      .toBe(true);
    if (found === undefined) throw new Error('no PIN window');
    return found;
  };

  /** Reloads the portal while a PIN window is open; the same window, or a new one, asks again. */
  const reloadWithPinWindow = async (): Promise<Page> => {
    const before = await pinWindow();
    await before.evaluate(() => {
      (window as { beforeReload?: boolean }).beforeReload = true;
    });
    await portal.page.reload();
    return pinWindow();
  };

  const typePin = async (dialog: Page, pin: string): Promise<void> => {
    await dialog.locator('#pin').fill(pin);
    await dialog.locator('#ok').click();
    await dialog.waitForEvent('close', { timeout: 10_000 });
  };

  const reloadAt = async (step: number): Promise<void> => {
    await portal.page.reload();
    await portal.atStep(step);
  };

  it('resumes at every step, with a PIN window open at steps 3 and 6, and issues the card once', async () => {
    const { page } = portal;
    const pins = reservePins(DEMO.annaCard);
    await portal.loginAs(DEMO.admin4.card);
    await portal.atStep(1);
    const flowId = (await page.locator('section.issuance').getAttribute('data-flow')) ?? '';
    await reloadAt(1);
    await page.getByTestId('logged-in').waitFor();

    await portal.control('manage-orders').click();
    await portal.atStep(2);
    await reloadAt(2);
    await page.locator('#order-query').fill(ANNA_PNR);
    await portal.control('search').click();
    await portal.control('select-order').click();
    await portal.atStep(3);
    await reloadAt(3);

    // Step 3: SIGNERA, then a reload while the PIN 2 window asks; the signature carries on.
    const signing = portal.context.waitForEvent('page', WAIT);
    await portal.control('sign').click();
    await (await signing).waitForLoadState();
    await typePin(await reloadWithPinWindow(), DEMO.adminPins.pin2);
    await portal.atStep(4);
    expect(await page.locator('section.issuance').getAttribute('data-flow')).toBe(flowId);

    // Reloaded once the portal has seen the card (the button lights up), as a person would.
    await portal.insert(DEMO.annaCard, 2);
    await expect.poll(() => portal.control('confirm-handover').isEnabled(), WAIT).toBe(true);
    await reloadAt(4);
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    await page.locator('#accept-terms').check();
    await expect.poll(() => portal.control('start-download').isEnabled(), WAIT).toBe(true);
    await reloadAt(5);
    await expect.poll(() => page.locator('#accept-terms').isChecked(), WAIT).toBe(true);

    // Step 6: a reload while the PIN 1 window asks, and another between PIN 1 and PIN 2 (in English).
    const pin1Window = portal.context.waitForEvent('page', WAIT);
    await portal.control('start-download').click();
    await (await pin1Window).waitForLoadState();
    await portal.atStep(6);
    const pin1 = await reloadWithPinWindow();
    await portal.atStep(6);
    await page.locator('.pin-prompt[data-pin="pin1"]').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'reload-step6-pin1-resumed-sv.png') });
    await typePin(pin1, pins.pin1);
    await page.locator('.pin-prompt[data-pin="pin2"]').waitFor();
    const pin2 = await reloadWithPinWindow();
    await page.locator('.pin-prompt[data-pin="pin2"]').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'reload-step6-pin2-resumed-sv.png') });
    await page.locator('[data-action="language"]').click();
    await expect(page.locator('.download-phases').textContent()).resolves.toMatch(
      /PIN 1\)\s*Done.*PIN 2\)\s*In progress/,
    );
    await expect(page.locator('.download-phases').textContent()).resolves.toMatch(/PIN 1.*Done/);
    await page.screenshot({ path: join(SCREENSHOTS, 'reload-step6-pin2-resumed-en.png') });
    await typePin(pin2, pins.pin2);
    await portal.atStep(7);
    await page.locator('.countdown').waitFor();
    await reloadAt(7);
    await page.locator('.countdown').waitFor();
    await portal.enterPins([pins.pin2], () => portal.control('acknowledge').click());
    await page.getByTestId('completed').waitFor();

    // The card holds both certificates, good at the CA; the flow heard each event once.
    const verdicts = await judgeCardCertificates(h, DEMO.annaCard);
    expect(verdicts.map((v) => v.ocsp)).toEqual(['good', 'good']);
    const timeline = (await flowOf(page, flowId)).view.timeline;
    const told = timeline.map((e) => `${e.event}${e.details?.dialog ? `:${e.details.dialog}` : ''}`);
    for (const once of [
      'key-generation-started',
      'dialog-shown:auth',
      'dialog-completed:auth',
      'keys-generated',
      'dialog-shown:sign',
      'dialog-completed:sign',
      'certificates-written',
    ])
      expect(
        told.filter((e) => e === once),
        told.join(' '),
      ).toHaveLength(1);
    expect(timeline.flatMap((e) => e.codes)).toEqual([]);
  }, 180_000);

  it('says why a PIN window opens when a card pulled during the download is put back after the restart', async () => {
    const { page } = portal;
    const pins = reservePins(BO.card);
    await page.locator('[data-action="new-issuance"]').click();
    await portal.toReview(BO.pnr);
    await portal.signOrder();
    await portal.insert(BO.card, 2);
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    await page.locator('#accept-terms').check();
    await expect.poll(() => portal.control('start-download').isEnabled(), WAIT).toBe(true);
    const pin1Window = portal.context.waitForEvent('page', WAIT);
    await portal.control('start-download').click();
    await typePin(await pin1Window, pins.pin1);
    await page.locator('.pin-prompt[data-pin="pin2"]').waitFor();

    await portal.remove(2);
    await expect
      .poll(() => page.locator('#flow-fault').getAttribute('data-code'), WAIT)
      .toBe('CARD_REMOVED_DURING_DOWNLOAD');
    const failed = await page.locator('section.issuance').getAttribute('data-flow');
    await page.locator('#flow-fault [data-remedy="restart"]').click();
    await expect
      .poll(() => page.locator('section.issuance').getAttribute('data-flow'), WAIT)
      .not.toBe(failed);
    await portal.atStep(1);

    // The card back in reader 2: the clean-up asks for PIN 1, and the portal says why.
    const cleaning = portal.context.waitForEvent('page', WAIT);
    await portal.insert(BO.card, 2);
    const prompt = page.locator('.pin-prompt[data-kind="clean"]');
    await prompt.waitFor();
    await expect(prompt.textContent()).resolves.toContain('Tar bort den avbrutna utgivningens nycklar');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SCREENSHOTS, 'reload-clean-pin-explained-sv.png') });
    await typePin(await cleaning, pins.pin1);
    await prompt.waitFor({ state: 'detached' });
    await expect.poll(async () => (await cardInReader2(h)).keys, WAIT).toEqual({ auth: false, sign: false });
  }, 120_000);
});
