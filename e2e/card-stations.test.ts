// "Kortstationer" in a real browser: the training agent is a registered station from the first
// start; an administrator renews it, revokes it and registers this workstation again, each step
// through the agent (key and CSR), the server (certificate) and the agent again (installs it).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, WAIT } from './support/portal-page.js';

/** Centrallasarettet, where the training station stands and Admin Ett holds KRA. */
const HOSPITAL = 'SE2321000016-1100';

describe('card stations in the admin portal, in a real browser', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('lists the training station, renews it, revokes it and registers the workstation again', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    await portal.loginAs(DEMO.admin1.card);
    await page.locator('a[href="#/stations"]').click();
    await page.getByRole('heading', { name: 'Kortstationer', level: 2 }).waitFor();

    // The training agent is a registered, active station of the hospital from the first start.
    const rows = page.locator('[data-testid="stations"] tbody tr');
    const notice = page.locator('.station-admin [role="status"]');
    await rows.first().waitFor(WAIT);
    const first = rows.first();
    const stationId = (await first.getAttribute('data-station')) ?? '';
    expect(stationId).toMatch(/^st-/);
    await expect(first.getAttribute('data-status')).resolves.toBe('active');
    await expect(first.textContent()).resolves.toContain('Övningsstation (den här arbetsplatsen)');
    await expect(page.getByTestId('this-station').textContent()).resolves.toContain(stationId);
    await page.screenshot({ path: join(SCREENSHOTS, 'card-stations-sv.png'), fullPage: true });

    // Registering again with the same key renews the same station under its new name.
    await page.locator('#station-name').fill('Kortdisken plan 3');
    await page.locator('#station-branch').selectOption(HOSPITAL);
    await page.locator('[data-action="register-station"]').click();
    await expect
      .poll(() => notice.textContent(), WAIT)
      .toContain(`Kortstationen ${stationId} har fått ett nytt certifikat.`);
    await expect.poll(() => rows.count(), WAIT).toBe(1);
    await expect(first.textContent()).resolves.toContain('Kortdisken plan 3');

    // Revoked: its statements are refused from now on; the list says so.
    await page.locator(`tr[data-station="${stationId}"] [data-action="revoke-station"]`).click();
    await expect
      .poll(() => page.locator(`tr[data-station="${stationId}"]`).getAttribute('data-status'), WAIT)
      .toBe('revoked');
    await expect(notice.textContent()).resolves.toContain(`${stationId} är spärrad`);

    // Registered again: the same agent key becomes a new station, which the agent now names itself by.
    await page.locator('[data-action="register-station"]').click();
    await expect.poll(() => notice.textContent(), WAIT).toMatch(/registrerad som kortstation st-/);
    await expect.poll(() => rows.count(), WAIT).toBe(2);
    const active = page.locator('[data-testid="stations"] tbody tr[data-status="active"]');
    const newId = (await active.getAttribute('data-station')) ?? '';
    expect(newId).not.toBe(stationId);
    await expect(page.getByTestId('this-station').textContent()).resolves.toContain(newId);

    // The same screen in English.
    await page.locator('[data-action="language"]').click();
    await page.getByRole('heading', { name: 'Card stations', level: 2 }).waitFor();
    await expect(active.textContent()).resolves.toContain('(this workstation)');
    await expect(notice.textContent()).resolves.toBe(
      `This workstation is registered as card station ${newId}.`,
    );
    await expect(
      page.locator('[data-testid="stations"] tr[data-status="revoked"]').textContent(),
    ).resolves.toContain('Revoked');
    await page.screenshot({ path: join(SCREENSHOTS, 'card-stations-en.png'), fullPage: true });
  }, 120_000);
});
