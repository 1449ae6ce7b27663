// A person's moves around the session, in a real browser: logging out and in again in the same tab
// (the same administrator and another), "Logga ut och börja om" after CARD_REINSERTED, and then
// Utgivning works without a reload.
import { CATALOGUES, luhnCheckDigit } from '@reservkort/domain';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, WAIT } from './support/portal-page.js';

/** Anna Andersson has an order (registered by Admin Ett): Admin Två or Admin Fyra may issue it. */
const ANNA_PNR = `19850412987${luhnCheckDigit('850412987')}`;

/** What the page asked for and did not get, and what it logged as an error. */
const watchFailures = (page: Page): string[] => {
  const failures: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      failures.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => failures.push(`failed: ${request.method()} ${request.url()}`));
  page.on('response', (response) => {
    if (response.status() >= 400)
      failures.push(`${response.status()}: ${response.request().method()} ${response.url()}`);
  });
  return failures;
};

describe('log out and in, in the same tab', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  /** Utgivning works for whoever is logged in: step 1, step 2, and a search that finds Anna's order. */
  const issuanceWorks = async (portal: PortalPage): Promise<void> => {
    await portal.atStep(1);
    expect(await portal.page.locator('section.issuance .error-panel').count()).toBe(0);
    await portal.control('manage-orders').click();
    await portal.atStep(2);
    await portal.page.locator('#order-query').fill(ANNA_PNR);
    await portal.control('search').click();
    await expect.poll(() => portal.control('select-order').isEnabled(), WAIT).toBe(true);
    expect(await portal.page.locator('section.issuance .error-panel').count()).toBe(0);
  };

  const logout = async (portal: PortalPage): Promise<void> => {
    await portal.page.locator('[data-action="logout"]').click();
    await portal.page.locator('[data-control="login"]').waitFor();
    expect(await portal.page.getByTestId('logged-in').count()).toBe(0);
  };

  it('logging out at step 2 and in again (the same admin, then another) gives a working Utgivning', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    const failures = watchFailures(page);

    await portal.loginAs(DEMO.admin2.card);
    await issuanceWorks(portal);
    await logout(portal);

    // The same admin again, without a reload.
    await portal.login();
    expect(await page.getByTestId('logged-in').textContent()).toContain(DEMO.admin2.name);
    await issuanceWorks(portal);
    await logout(portal);

    // Another admin, card swapped in reader 1.
    await portal.loginAs(DEMO.admin4.card);
    expect(await page.getByTestId('logged-in').textContent()).toContain(DEMO.admin4.name);
    await issuanceWorks(portal);
    expect(failures).toEqual([]);
    await context.close();
  }, 120_000);

  it('"Logga ut och börja om" after CARD_REINSERTED, then a new login: Utgivning works', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    await portal.insert(DEMO.admin2.card, 1);
    await portal.login();
    await portal.toReview(ANNA_PNR);
    await expect.poll(() => portal.control('sign').isEnabled(), WAIT).toBe(true);
    // The login card out and back while SIGNERA waits: the session may no longer sign.
    await portal.remove(1);
    await portal.insert(DEMO.admin2.card, 1);
    const reason = page.locator('.reason[data-reason="CARD_REINSERTED"]');
    await reason.waitFor(WAIT);
    const remedy = reason.locator('[data-remedy="logout-restart"]');
    expect(((await remedy.textContent()) ?? '').trim()).toBe(CATALOGUES.sv.controls['logout-restart']);
    await remedy.click();
    await page.locator('[data-control="login"]').waitFor();
    expect(await page.getByTestId('logged-in').count()).toBe(0);

    await portal.login();
    await issuanceWorks(portal);
    await portal.control('select-order').click();
    await portal.atStep(3);
    await context.close();
  }, 120_000);
});
