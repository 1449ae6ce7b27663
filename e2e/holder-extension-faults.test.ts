// Förlängning's failures as the holder meets them, in training mode in a real browser: a förlängning
// left half-way whose deadline passes (EXTENSION_ABANDONED) and a card whose proof of the new keys
// is not the card bureau's (EXTENSION_KEYS_NOT_PROVEN). Each panel in Swedish and English,
// screenshot and axe; what the server did is checked outside the page (OCSP, the extension's state).
import { luhnCheckDigit } from '@reservkort/domain';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startBrowserHarness } from './support/browser-harness.js';
import { judgeCertificates } from './support/card-checks.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';
import { checkScreen } from './support/screen-checks.js';
import { issueOverHttp } from './support/training-issuance.js';

/** Nils Utanorder (Medicinkliniken) has no order until one is registered here. */
const NILS_PNR = `19670130991${luhnCheckDigit('670130991')}`;
const CARD = DEMO.spareCard;
const PINS = reservePins(CARD);

/** A browser of its own (axe needs the test profile's CSP bypass), Swedish first. */
const openBrowser = async (h: BrowserHarness): Promise<{ context: BrowserContext; portal: PortalPage }> => {
  const context = await h.browser.newContext({ bypassCSP: true, locale: 'sv-SE' });
  await context.addInitScript(() => localStorage.setItem('reservkort.language', 'sv'));
  const page = await context.newPage();
  await page.goto(h.url);
  return { context, portal: new PortalPage(page, context) };
};

/** Mina sidor with the reserve card in reader 1, logged in with it (PIN 1): the old e-ID works. */
const holderLogin = async (h: BrowserHarness, portal: PortalPage): Promise<void> => {
  const { page } = portal;
  await page.goto(`${h.url}/#/holder`);
  await portal.insert(CARD, 1);
  await portal.enterPins([PINS.pin1], () => portal.clickHolderLogin());
  await page.getByTestId('holder').waitFor(WAIT);
};

/** The holder's förlängning as the server has it (GET needs no CSRF token; the session's cookie). */
interface Extension {
  readonly id: string;
  readonly state: string;
  readonly keysProven: boolean;
  readonly newSerials: { readonly auth: string; readonly sign: string } | null;
}
const extensionOf = (page: Page): Promise<Extension | null> =>
  page.evaluate(async () => {
    const answer = await fetch('/api/holder/extension', { credentials: 'same-origin' });
    return ((await answer.json()) as { extension: Extension | null }).extension;
  });

const panel = (page: Page) => page.locator('#extension-error');

describe('förlängning’s failures on the holder’s pages in a real browser', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  /**
   * The card issued to Nils and acknowledged over the page's own API (the journey through the UI is
   * the happy path's subject); once, for either test.
   */
  let issuance: Promise<unknown> | null = null;
  const issued = (): Promise<unknown> => {
    issuance ??= issueOverHttp(h, [{ pnr: NILS_PNR, card: CARD, order: true }]);
    return issuance;
  };

  it('EXTENSION_ABANDONED: a förlängning left half-way passes its deadline; its new pair is revoked, the old e-ID works, a new one may start', async () => {
    await issued();
    // The holder starts, the card makes and proves its keys, the certificates are issued, and the
    // holder closes the window just as the page turns to the card to write them.
    const first = await openBrowser(h);
    await holderLogin(h, first.portal);
    const page1 = first.portal.page;
    await page1.locator('[data-action="extension-open"]').click();
    await page1.locator('.extension-wizard[data-stage="overview"]').waitFor(WAIT);
    await page1.locator('[data-control="extension-terms"]').check();
    let leave: () => void = () => undefined;
    const leaving = new Promise<void>((resolve) => {
      leave = resolve;
    });
    await page1.route('**/renewal/certificates', async (route) => {
      leave();
      await route.abort().catch(() => undefined);
    });
    await first.portal.enterPins([PINS.pin1, PINS.pin2], () =>
      page1.locator('[data-control="extension-run"]').click(),
    );
    await leaving;
    const left = await extensionOf(page1);
    expect(left).toMatchObject({ state: 'issued', keysProven: true });
    const newSerials = left?.newSerials;
    if (!newSerials) throw new Error('no new certificates were issued');
    const newPair = await page1.evaluate(async (id) => {
      const answer = await fetch(`/api/holder/extension/${id}/certificates`, { credentials: 'same-origin' });
      return (await answer.json()) as { auth: string; sign: string };
    }, left?.id ?? '');
    await first.context.close();

    // The holder comes back: the old e-ID still logs in (nothing was written), and the wizard picks
    // the förlängning up at its acknowledgement, the writing still to do.
    const second = await openBrowser(h);
    const { page } = second.portal;
    await holderLogin(h, second.portal);
    await page.locator('[data-action="extension-open"]').click();
    await page.locator('.extension-wizard[data-stage="acknowledge"]').waitFor(WAIT);
    expect(await page.locator('.extension-step[data-step="writing"]').getAttribute('data-state')).toBe(
      'waiting',
    );
    for (const verdict of await judgeCertificates(h, [newPair.auth, newPair.sign]))
      expect(verdict.ocsp).toBe('good');

    // The holder does not acknowledge in time: the training clock jumps past the deadline and the
    // sweep gives the förlängning up. KVITTERA then shows the panel, and nothing is written.
    await page.locator('[data-action="jump-to-extension-deadline"]').click();
    await expect.poll(() => page.getByTestId('training-notice').textContent(), WAIT).toMatch(/\d+ min/);
    await expect
      .poll(async () => (await judgeCertificates(h, [newPair.auth, newPair.sign])).map((v) => v.ocsp), WAIT)
      .toEqual(['revoked', 'revoked']);
    for (const verdict of await judgeCertificates(h, [newPair.auth, newPair.sign]))
      expect(verdict.reason).toBe('cessationOfOperation');
    await page.locator('[data-control="extension-acknowledge"]').click();
    await panel(page).waitFor(WAIT);
    await expect(panel(page).getAttribute('data-code')).resolves.toBe('EXTENSION_ABANDONED');
    // The abandoned one cannot be acknowledged: the page offers a new förlängning, not KVITTERA.
    expect(await page.locator('[data-control="extension-acknowledge"]').count()).toBe(0);
    await page.locator('[data-control="extension-start-again"]').waitFor();
    expect(await page.locator('.extension-step[data-step="writing"]').getAttribute('data-state')).toBe(
      'failed',
    );
    // The list is read again: the pair it had issued is listed revoked.
    const issuedPair = page.locator('ul.eids > li', {
      has: page.locator(`[data-serial="${newSerials.auth}"]`),
    });
    await expect.poll(() => issuedPair.getAttribute('data-status'), WAIT).toBe('revoked');
    await checkScreen(page, 'extension-abandoned');
    expect(await extensionOf(page)).toBeNull();

    // The old e-ID works: out, and in again with the card and PIN 1.
    await page.locator('[data-action="extension-back"]').click();
    await page.locator('[data-action="holder-logout"]').click();
    await holderLogin(h, second.portal);
    // After a reload the wizard says first that the last one was given up, and what to do; the
    // holder starts a new one (the abandoned one does not count).
    await page.reload();
    await page.getByTestId('holder').waitFor(WAIT);
    await page.locator('[data-action="extension-open"]').click();
    await panel(page).waitFor(WAIT);
    await expect(panel(page).getAttribute('data-code')).resolves.toBe('EXTENSION_ABANDONED');
    expect(await page.locator('.extension-wizard').getAttribute('data-stage')).toBe('starting');
    await checkScreen(page, 'extension-abandoned-after-reload');
    await page.locator('[data-control="extension-start-again"]').click();
    await page.locator('.extension-wizard[data-stage="overview"]').waitFor(WAIT);
    const fresh = await extensionOf(page);
    expect(fresh).toMatchObject({ state: 'open', keysProven: false, newSerials: null });
    expect(fresh?.id).not.toBe(left?.id);
    await checkScreen(page, 'extension-abandoned-new-start');
    await second.context.close();
  }, 360_000);

  it('EXTENSION_KEYS_NOT_PROVEN: a counterfeit card’s proof of the new keys is refused; nothing is issued', async () => {
    await issued();
    const { context, portal } = await openBrowser(h);
    const { page } = portal;
    await holderLogin(h, portal);
    // The training panel's counterfeit card: the virtual card's proof is signed by a key the card
    // bureau never certified. It applies to this card, issued long before.
    const box = page.locator('[data-simulate="counterfeit-card"]');
    await box.check();
    await expect.poll(() => box.isChecked(), WAIT).toBe(true);
    await page.locator('[data-action="extension-open"]').click();
    await page.locator('.extension-wizard[data-stage="overview"]').waitFor(WAIT);
    await page.locator('[data-control="extension-terms"]').check();
    // PIN 1 for the keys and PIN 2 for the signature key's request: the card does its work, then the
    // server refuses the proof.
    await portal.enterPins([PINS.pin1, PINS.pin2], () =>
      page.locator('[data-control="extension-run"]').click(),
    );
    await panel(page).waitFor(WAIT);
    await expect(panel(page).getAttribute('data-code')).resolves.toBe('EXTENSION_KEYS_NOT_PROVEN');
    expect(await page.locator('.extension-step[data-step="keys"]').getAttribute('data-state')).toBe('failed');
    expect(await page.locator('.extension-step[data-step="certificates"]').getAttribute('data-state')).toBe(
      'waiting',
    );
    await checkScreen(page, 'extension-keys-not-proven');
    // Nothing issued, the keys not taken.
    expect(await extensionOf(page)).toMatchObject({ state: 'open', keysProven: false, newSerials: null });

    // A genuine card (the simulation off): "Försök igen" goes on with the same förlängning.
    await box.uncheck();
    await expect.poll(() => box.isChecked(), WAIT).toBe(false);
    await portal.enterPins([PINS.pin1, PINS.pin2], () =>
      page.locator('[data-control="extension-run"]').click(),
    );
    await page.locator('.extension-wizard[data-stage="acknowledge"]').waitFor(WAIT);
    expect(await extensionOf(page)).toMatchObject({ state: 'issued', keysProven: true });
    await context.close();
  }, 360_000);
});
