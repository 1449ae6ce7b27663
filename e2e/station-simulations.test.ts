// The training panel's two card-station faults in a real browser: an agent that signs with a key no
// server registered (STATION_NOT_REGISTERED), and a statement with a forged signature
// (STATEMENT_INVALID). Each is set from "Prova felkatalogen" and refused with its catalogue code.
import { join } from 'node:path';
import { CATALOGUES, type ErrorCode } from '@reservkort/domain';
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { PortalPage, WAIT } from './support/portal-page.js';

const titleOf = (code: ErrorCode): string => CATALOGUES.sv.codes[code].title.split('{')[0]?.trim() ?? '';

describe('card station faults from the training panel, in a real browser', () => {
  let h: BrowserHarness;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
  });
  afterAll(async () => h?.close());

  const open = async (): Promise<PortalPage> => {
    const { page, context } = await h.newPage();
    contexts.push(context);
    await page.getByTestId('training-panel').waitFor();
    return new PortalPage(page, context);
  };

  /** Logs in after the scene is set: the login's readers statement is the station's first word. */
  const refusedLogin = async (portal: PortalPage, code: ErrorCode) => {
    await portal.enterPins(['1234'], () => portal.control('login').click());
    const panel = portal.page.locator(`.error-panel[data-code="${code}"]`);
    await panel.waitFor(WAIT);
    expect(await panel.textContent()).toContain(titleOf(code));
    expect(await portal.page.getByTestId('logged-in').count()).toBe(0);
    return panel;
  };

  it('STATION_NOT_REGISTERED: an agent signing with an unregistered key is refused until switched back', async () => {
    const portal = await open();
    await portal.tryScenario('STATION_NOT_REGISTERED');
    const box = portal.page.locator('[data-simulate="unregistered-station"]');
    await expect.poll(() => box.isChecked(), WAIT).toBe(true);
    await refusedLogin(portal, 'STATION_NOT_REGISTERED');
    await portal.page.screenshot({
      path: join(SCREENSHOTS, 'station-not-registered-sv.png'),
      fullPage: true,
    });
    // The real station again: the same card logs in.
    await box.uncheck();
    await expect.poll(() => box.isChecked(), WAIT).toBe(false);
    await portal.login();
  });

  it('STATEMENT_INVALID: a forged statement is refused once; the next one is the station’s own', async () => {
    const portal = await open();
    await portal.tryScenario('STATEMENT_INVALID');
    const box = portal.page.locator('[data-simulate="forged-statement"]');
    await expect.poll(() => box.isChecked(), WAIT).toBe(true);
    await refusedLogin(portal, 'STATEMENT_INVALID');
    // Spent: the agent spoiled one signature only.
    await expect.poll(() => box.isChecked(), WAIT).toBe(false);
    await portal.page.screenshot({ path: join(SCREENSHOTS, 'statement-invalid-sv.png'), fullPage: true });
    await portal.login();
  });
});
