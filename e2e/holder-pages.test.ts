// The reserve card's holder on their own pages, and spärr by the holder, an administrator and the
// service desk, in a real browser: two cards issued over the portal's API first, then the holder
// logs in with one and sees both e-IDs with the days left, revokes it (OCSP says revoked with the reason),
// and an administrator revokes the other from the person's page. axe and screenshots in both
// languages on each new screen; the refusals the UI can meet shown with their catalogue codes.
import { luhnCheckDigit } from '@reservkort/domain';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_TEXTS } from '../packages/web/src/i18n/ui-texts.js';
import { type BrowserHarness, startBrowserHarness } from './support/browser-harness.js';
import { judgeCardCertificates } from './support/card-checks.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';
import { checkScreen } from './support/screen-checks.js';
import { issueOverHttp } from './support/training-issuance.js';

const pnr = (born: string, birthNumber: string) =>
  `${born}${birthNumber}${luhnCheckDigit(`${born.slice(2)}${birthNumber}`)}`;
/** Nils Utanorder has no order until Admin Två registers one with the spare card. */
const NILS_PNR = pnr('19670130', '991');
const NILS_CARD = DEMO.spareCard;
/** Bo Berg's order (card …202) was registered by Admin Två, so Admin Fyra may complete it. */
const BO_PNR = pnr('19790923', '988');
const BO_CARD = '9752278900000000202';

const sv = UI_TEXTS.sv;

const logout = async (page: Page): Promise<void> => {
  await page.locator('[data-action="logout"]').click();
  await page.locator('[data-control="login"]').waitFor(WAIT);
};

/** Picks a spärr reason, confirms that it cannot be undone, and clicks Spärra. */
const sparr = async (scope: ReturnType<Page['locator']>, reason: string): Promise<void> => {
  await scope.locator(`input[data-reason="${reason}"]`).check();
  await scope.locator('[data-action="confirm-sparr"]').check();
  await scope.locator('button[data-control="sparr"]').click();
};

describe('the holder’s own pages and spärr in a real browser', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('the holder sees both e-IDs and revokes them; an administrator revokes another from the person’s page', async () => {
    // --- Two reserve cards issued and acknowledged over the page's own API (the journey through the
    // UI is the happy path's subject): Nils's (ordered now) and Bo's.
    await issueOverHttp(h, [
      { pnr: NILS_PNR, card: NILS_CARD, order: true },
      { pnr: BO_PNR, card: BO_CARD },
    ]);

    // axe is injected as a script tag, which the portal's Content-Security-Policy (rightly)
    // refuses: the test profile alone bypasses it.
    const context = await h.browser.newContext({ bypassCSP: true, locale: 'sv-SE' });
    await context.addInitScript(() => localStorage.setItem('reservkort.language', 'sv'));
    const page = await context.newPage();
    await page.goto(h.url);
    await page.getByTestId('training-panel').waitFor();
    const portal = new PortalPage(page, context);

    // --- The holder: from the login page to their own pages, the reserve card in reader 1.
    await page.locator('[data-action="holder-pages"]').click();
    await page.locator('[data-control="holder-login"]').waitFor();
    await portal.insert(NILS_CARD, 1);
    await expect.poll(() => page.locator('[data-control="holder-login"]').isEnabled(), WAIT).toBe(true);
    await checkScreen(page, 'holder-login');
    const nils = reservePins(NILS_CARD);
    await portal.enterPins([nils.pin1], () => portal.clickHolderLogin());
    await page.locator('section.holder-pages').waitFor(WAIT);
    const eid = page.locator(`.eids > li[data-card="${NILS_CARD}"]`);
    await eid.waitFor(WAIT);
    expect(await eid.getAttribute('data-status')).toBe('good');
    expect(
      await eid.locator('[data-use]').evaluateAll((items) => items.map((i) => i.getAttribute('data-use'))),
    ).toEqual(expect.arrayContaining(['authentication', 'signature']));
    expect(await eid.locator('h3').textContent()).toContain('9752 2789 0000 0000 299');
    const days = (await eid.getByTestId('days-left').textContent()) ?? '';
    expect(days).toMatch(/^\d+ dagar kvar$|^Sista dagen i dag$/);
    expect(await eid.locator('.certificate-status').allTextContents()).toEqual([
      sv.holder.status.good,
      sv.holder.status.good,
    ]);
    await checkScreen(page, 'holder-eids');

    // --- Spärr by the holder: reason, confirmation, then the page says what happened and what next.
    await sparr(eid.getByTestId('sparr'), 'card-lost');
    await page.getByTestId('holder-revoked').waitFor(WAIT);
    expect(await page.getByTestId('holder-revoked').textContent()).toContain(sv.holder.nextSteps);
    await checkScreen(page, 'holder-revoked');
    await portal.remove(1);
    await portal.insert(NILS_CARD, 2);
    for (const verdict of await judgeCardCertificates(h, NILS_CARD))
      expect(verdict).toMatchObject({ ocsp: 'revoked', reason: 'keyCompromise', chainOk: true });

    // --- The revoked card opens the holder's pages no more: LOGIN_FAILED, in words.
    await page.getByTestId('holder-revoked').locator('a[href="#/"]').click();
    await page.locator('[data-action="holder-pages"]').click();
    await portal.remove(2);
    await portal.insert(NILS_CARD, 1);
    await expect.poll(() => page.locator('[data-control="holder-login"]').isEnabled(), WAIT).toBe(true);
    await portal.enterPins([nils.pin1], () => portal.clickHolderLogin());
    const refused = page.locator('#holder-login-error');
    await refused.waitFor(WAIT);
    expect(await refused.getAttribute('data-code')).toBe('LOGIN_FAILED');
    // An administrator's card opens no holder's pages: NOT_A_RESERVE_CARD, in words.
    await portal.remove(1);
    await portal.insert(DEMO.admin2.card, 1);
    await portal.enterPins([DEMO.adminPins.pin1], () => portal.clickHolderLogin());
    await page.locator('#holder-login-error[data-code="NOT_A_RESERVE_CARD"]').waitFor(WAIT);
    expect(await page.locator('#holder-login-error').textContent()).toContain('Kortet är inget reservkort');
    await checkScreen(page, 'holder-login-not-reserve-card');
    await portal.remove(1);

    // --- The service desk finds Bo and his e-ID; an administrator then revokes it from his page.
    await page.goto(`${h.url}/#/`);
    await portal.insert(DEMO.sara.card, 1);
    await portal.login(DEMO.adminPins.pin1);
    await page.locator('#desk-person-query').fill(BO_PNR);
    await page.locator('[data-action="desk-find-person"]').click();
    const deskEid = page.locator(`.eids > li[data-card="${BO_CARD}"]`);
    await deskEid.waitFor(WAIT);
    expect(await deskEid.getAttribute('data-status')).toBe('good');
    await page.getByTestId('person-eids').scrollIntoViewIfNeeded();
    await checkScreen(page, 'desk-person-eids');
    await logout(page);

    await portal.loginAs(DEMO.admin2.card);
    await page.locator('a[href="#/admin"]').click();
    await page.locator('#person-query').fill(BO_PNR);
    await page.locator('[data-action="find-person"]').click();
    const adminEid = page.locator(`.eids > li[data-card="${BO_CARD}"]`);
    await adminEid.waitFor(WAIT);
    // A second tab on the same person, still showing the e-ID as valid.
    const other = await context.newPage();
    await other.goto(`${h.url}/#/admin`);
    await other.locator('#person-query').fill(BO_PNR);
    await other.locator('[data-action="find-person"]').click();
    await other.locator(`.eids > li[data-card="${BO_CARD}"] [data-testid="sparr"]`).waitFor(WAIT);
    await checkScreen(page, 'admin-person-eids');

    await sparr(adminEid.getByTestId('sparr'), 'no-longer-needed');
    await page.getByTestId('sparr-done').waitFor(WAIT);
    await expect.poll(() => adminEid.getAttribute('data-status'), WAIT).toBe('revoked');
    expect(await adminEid.locator('.certificate-status').first().textContent()).toContain('upphört');
    await checkScreen(page, 'admin-person-eids-revoked');
    await portal.remove(2).catch(() => undefined);
    await portal.insert(BO_CARD, 2);
    for (const verdict of await judgeCardCertificates(h, BO_CARD))
      expect(verdict).toMatchObject({ ocsp: 'revoked', reason: 'cessationOfOperation' });

    // The second tab's spärr comes too late: ALREADY_REVOKED, and the page shows the status now.
    await sparr(other.locator(`.eids > li[data-card="${BO_CARD}"] [data-testid="sparr"]`), 'card-lost');
    await other.locator('#person-eids-error[data-code="ALREADY_REVOKED"]').waitFor(WAIT);
    await other.locator(`.eids > li[data-card="${BO_CARD}"][data-status="revoked"]`).waitFor(WAIT);
    await other.close();
  }, 300_000);
});
