// A person's moves around the session and the page's address, in a real browser: logging out and in
// again in the same tab (the same administrator and another), "Logga ut och börja om" after
// CARD_REINSERTED, every screen loaded without a console error or a failed request, the page opened
// at 127.0.0.1 instead of localhost, and at an address the card agent does not answer.
import { join } from 'node:path';
import { CATALOGUES, luhnCheckDigit } from '@reservkort/domain';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fill, UI_TEXTS } from '../packages/web/src/i18n/ui-texts.js';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, WAIT } from './support/portal-page.js';

/** Anna Andersson has an order (registered by Admin Ett): Admin Två or Admin Fyra may issue it. */
const ANNA_PNR = `19850412987${luhnCheckDigit('850412987')}`;

/**
 * What a page (and every window it opens, the agent's PIN dialogs too) logged as an error or
 * warning, and the requests that failed or got an error status. A request cut off by the page's own
 * navigation (the agent's event stream on a reload) is no failure.
 */
const watchFailures = (context: BrowserContext): string[] => {
  const failures: string[] = [];
  const watch = (page: Page) => {
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning')
        failures.push(`console ${message.type()} at ${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => failures.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      if (request.failure()?.errorText !== 'net::ERR_ABORTED')
        failures.push(`failed: ${request.method()} ${request.url()} ${request.failure()?.errorText}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400)
        failures.push(`${response.status()}: ${response.request().method()} ${response.url()}`);
    });
  };
  for (const page of context.pages()) watch(page);
  context.on('page', watch);
  return failures;
};

/** The h1 as a screen reader names it. */
const headingName = (page: Page, name: string) => page.getByRole('heading', { level: 1, name, exact: true });

describe('session moves and page loads', () => {
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

  /** A full load of a screen (not a hash change): the page starts from nothing, logged in. */
  const load = async (page: Page, hash: string, shown: string): Promise<void> => {
    await page.evaluate((to) => {
      window.location.hash = to;
    }, hash);
    await page.reload();
    await page.getByTestId('logged-in').waitFor();
    await page.locator(shown).first().waitFor();
  };

  it('logging out at step 2 and in again (the same admin, then another) gives a working Utgivning; no screen logs an error', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    const failures = watchFailures(context);

    // The login screen: the heading names the product and the mode with a space between.
    await page.locator('[data-control="login"]').waitFor();
    await expect.poll(() => headingName(page, 'Reservkort LoA3 Övningsläge').count(), WAIT).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'session-login-sv.png') });

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

    // Each screen loaded afresh, then the service desk as Sara.
    await load(page, '#/admin', '#person-query');
    await load(page, '#/stations', '[data-testid="this-station"]');
    await load(page, '#/catalogue', 'section.catalogue');
    await logout(portal);
    await portal.loginAs(DEMO.sara.card);
    await load(page, '#/desk', '[data-testid="queue"]');
    expect(failures).toEqual([]);
    await context.close();
  }, 120_000);

  it('at 127.0.0.1 the page works: "Logga ut och börja om" after CARD_REINSERTED, then a new login issues', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    // The address the server's own log spells; the agent answers it as it answers localhost.
    await page.goto(h.url.replace('localhost', '127.0.0.1'));
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

  it('a page at an address the agent does not answer names the portal’s address; a silent agent is named with its own (sv, en)', async () => {
    const portalUrl = new URL(h.url).origin;
    // Chromium resolves every *.localhost name to loopback: the server answers, the agent refuses.
    const elsewhere = portalUrl.replace('localhost', 'portal-elsewhere.localhost');
    for (const language of ['sv', 'en'] as const) {
      const t = UI_TEXTS[language];
      const { page, context } = await h.newPage({ language });
      await page.locator('[data-control="login"]').waitFor();
      if (language === 'en') {
        const heading = `${t.app.name} ${t.app.trainingBadge}`;
        expect(heading).toBe('Reserve card LoA3 Training mode');
        await expect.poll(() => headingName(page, heading).count(), WAIT).toBe(1);
        await page.screenshot({ path: join(SCREENSHOTS, 'session-login-en.png') });
      }

      await page.goto(`${elsewhere}/`);
      const panel = page.locator('section.login .error-panel[data-code="ORIGIN_FORBIDDEN"]');
      await panel.waitFor(WAIT);
      const text = (await panel.textContent()) ?? '';
      expect(text).toContain(CATALOGUES[language].codes.ORIGIN_FORBIDDEN.title);
      expect(text).toContain(fill(t.agent.wrongAddress, { portal: portalUrl, page: elsewhere }));
      expect(await panel.locator('a[data-portal-url]').getAttribute('href')).toBe(`${portalUrl}/`);
      // Not the advice for an agent that is not running.
      expect(await page.locator('.error-panel[data-code="AGENT_UNREACHABLE"]').count()).toBe(0);
      expect(await page.locator('#login-reason').textContent()).toBe(
        CATALOGUES[language].codes.ORIGIN_FORBIDDEN.title,
      );
      // The training panel's copy of the refusal names the address too.
      const training = page.locator(
        '[data-testid="training-panel"] .error-panel[data-code="ORIGIN_FORBIDDEN"]',
      );
      await training.waitFor(WAIT);
      expect(await training.textContent()).toContain(portalUrl);
      await page.screenshot({
        path: join(SCREENSHOTS, `session-origin-refused-${language}.png`),
        fullPage: true,
      });

      // The link leads to the portal, where the agent answers.
      await panel.locator('a[data-portal-url]').click();
      await page.waitForURL(`${portalUrl}/`);
      await page.getByTestId('preflight').locator('li[data-reader="1"]').waitFor();
      expect(await page.locator('.error-panel[data-code="ORIGIN_FORBIDDEN"]').count()).toBe(0);

      // No agent answering at all: the login screen and the training panel name where it was looked for.
      const agentUrl = (await (await page.request.get(`${portalUrl}/api/config`)).json()).agentUrl as string;
      await context.route(`${agentUrl}/**`, (route) => route.abort('connectionrefused'));
      await page.reload();
      const unreachable = fill(t.agent.unreachable, { url: agentUrl });
      const silent = page.locator('section.login .error-panel[data-code="AGENT_UNREACHABLE"]');
      await silent.waitFor(WAIT);
      expect(await silent.textContent()).toContain(unreachable);
      const trainingSilent = page.locator(
        '[data-testid="training-panel"] .error-panel[data-code="AGENT_UNREACHABLE"]',
      );
      await trainingSilent.waitFor(WAIT);
      expect(await trainingSilent.textContent()).toContain(unreachable);
      await context.close();
    }
  }, 120_000);
});
