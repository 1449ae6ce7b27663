// The training panel's card-station and card faults in a real browser: an agent that signs with a
// key no server registered (STATION_NOT_REGISTERED), a statement with a forged signature
// (STATEMENT_INVALID), a counterfeit reserve card at the handover (CARD_NOT_PROVEN) and a faulty
// chip whose keys can be exported at the download (KEYS_NOT_ON_CARD). Each is set from "Prova
// felkatalogen" and refused with its catalogue code by the server's own checks.
import { join } from 'node:path';
import {
  CATALOGUES,
  type ErrorCode,
  formatCardNumber,
  luhnCheckDigit,
  parseCardNumber,
} from '@reservkort/domain';
import type { BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { cardInReader2 } from './support/card-checks.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';

const titleOf = (code: ErrorCode): string => CATALOGUES.sv.codes[code].title.split('{')[0]?.trim() ?? '';
/** The catalogue's Swedish remedy up to its first placeholder. */
const remedyOf = (code: ErrorCode): string => CATALOGUES.sv.codes[code].remedy.split('{')[0]?.trim() ?? '';
const TEST_MS = 120_000;

/** Anna Andersson's order, registered by Admin Ett, completed by Admin Två. */
const ANNA = {
  pnr: `19850412987${luhnCheckDigit('850412987')}`,
  hsaId: 'SE2321000016-p001',
  card: DEMO.annaCard,
  admin1: 'SE2321000016-ad01',
  admin2: 'SE2321000016-ad02',
} as const;
const grouped = (card: string): string => {
  const parsed = parseCardNumber(card);
  if (!parsed.ok) throw new Error(`not a card number: ${card}`);
  return formatCardNumber(parsed.value);
};

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

  /** The flow's fault panel of `code`: the catalogue's title and remedy, restart offered, nothing else shown. */
  const faultPanel = async (portal: PortalPage, code: ErrorCode) => {
    const panel = portal.page.locator(`#flow-fault.error-panel[data-code="${code}"]`);
    await panel.waitFor(WAIT);
    expect(await panel.locator('h3').textContent()).toBe(titleOf(code));
    expect(await panel.textContent()).toContain(remedyOf(code));
    const shown = await portal.page
      .locator('section.issuance')
      .locator('.error-panel[data-code], .reason[data-reason]')
      .evaluateAll((elements) =>
        elements.map((e) => e.getAttribute('data-code') ?? e.getAttribute('data-reason')),
      );
    expect(new Set(shown)).toEqual(new Set([code]));
    const restart = panel.locator('[data-remedy="restart"]');
    expect(((await restart.textContent()) ?? '').trim()).toBe(CATALOGUES.sv.controls.restart);
    return { panel, restart };
  };

  /** "Skicka felanmälan": the case names the code and everyone in the flow, and no certificate. */
  const fileCase = async (portal: PortalPage, code: ErrorCode) => {
    const { fields, caseId } = await portal.fileSupportCase(`${code}: filed by the station simulation test`);
    expect(caseId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(fields.codes?.split(', ')).toContain(code);
    expect(fields.admin1).toBe(ANNA.admin1);
    expect(fields.admin2).toBe(ANNA.admin2);
    expect(fields.recipient).toBe(ANNA.hsaId);
    expect(fields.cardNumber).toBe(grouped(ANNA.card));
    expect(fields.certificates).toBe('Inga certifikat på kortet.');
  };

  /** Starta om utgivningen: a new flow at step 1, the same login. */
  const restart = async (portal: PortalPage, button: ReturnType<PortalPage['control']>) => {
    const before = await portal.page.locator('section.issuance').getAttribute('data-flow');
    await button.click();
    await expect
      .poll(() => portal.page.locator('section.issuance').getAttribute('data-flow'), WAIT)
      .not.toBe(before);
    await portal.atStep(1);
  };

  /** From a scenario's scene: logged in as Admin Två, Anna's order signed, her card in reader 2. */
  const toHandover = async (portal: PortalPage) => {
    await portal.login();
    await portal.toReview(ANNA.pnr);
    await portal.signOrder();
    await portal.insert(ANNA.card, 2);
    await expect.poll(() => portal.control('confirm-handover').isEnabled(), WAIT).toBe(true);
  };

  const acceptTerms = async (portal: PortalPage) => {
    const box = portal.page.locator('#accept-terms');
    await expect.poll(() => box.isEnabled(), WAIT).toBe(true);
    await box.click();
    await expect.poll(() => box.isChecked(), WAIT).toBe(true);
    await expect.poll(() => portal.control('start-download').isEnabled(), WAIT).toBe(true);
  };

  it(
    'CARD_NOT_PROVEN: a counterfeit reserve card is refused at the handover; the genuine card goes on after a restart',
    async () => {
      const portal = await open();
      await portal.tryScenario('CARD_NOT_PROVEN');
      const box = portal.page.locator('[data-simulate="counterfeit-card"]');
      await expect.poll(() => box.isChecked(), WAIT).toBe(true);
      await toHandover(portal);
      await portal.control('confirm-handover').click();
      const { restart: again } = await faultPanel(portal, 'CARD_NOT_PROVEN');
      // The server's check of the certificate: the card bureau never signed it.
      expect(await portal.page.locator('#flow-fault').textContent()).toContain('certificate signature');
      expect(await portal.step()).toBe('4');
      expect(await portal.control('confirm-handover').isDisabled()).toBe(true);
      await portal.page.screenshot({ path: join(SCREENSHOTS, 'card-not-proven-sv.png'), fullPage: true });
      const onCard = await cardInReader2(h);
      expect(onCard).toMatchObject({
        cardNumber: ANNA.card,
        keys: { auth: false, sign: false },
        certificates: [],
      });
      await fileCase(portal, 'CARD_NOT_PROVEN');
      // A genuine card from stock (here: the same card, no longer counterfeit), and the flow again.
      await box.uncheck();
      await expect.poll(() => box.isChecked(), WAIT).toBe(false);
      await restart(portal, again);
      await portal.control('manage-orders').click();
      await portal.atStep(2);
      await portal.page.locator('#order-query').fill(ANNA.pnr);
      await portal.control('search').click();
      await portal.control('select-order').click();
      await portal.atStep(3);
      await portal.signOrder();
      await expect.poll(() => portal.control('confirm-handover').isEnabled(), WAIT).toBe(true);
      await portal.control('confirm-handover').click();
      await portal.atStep(5);
      // Logging out ends the flow and hands Anna's order back.
      await portal.page.locator('[data-action="logout"]').click();
      await portal.page.locator('[data-control="login"]').waitFor();
    },
    TEST_MS,
  );

  it(
    'KEYS_NOT_ON_CARD: keys a faulty chip reports as exportable get no certificate; the card is cleaned and the flow restarts',
    async () => {
      const portal = await open();
      await portal.tryScenario('KEYS_NOT_ON_CARD');
      const box = portal.page.locator('[data-simulate="exportable-keys"]');
      await expect.poll(() => box.isChecked(), WAIT).toBe(true);
      await toHandover(portal);
      await portal.control('confirm-handover').click();
      await portal.atStep(5);
      await acceptTerms(portal);
      const pins = reservePins(ANNA.card);
      await portal.enterPins([pins.pin1, pins.pin2], () => portal.control('start-download').click());
      const { restart: again } = await faultPanel(portal, 'KEYS_NOT_ON_CARD');
      expect(await portal.page.locator('#flow-fault').textContent()).toContain('(nycklarnas egenskaper)');
      expect(await portal.step()).toBe('6');
      await portal.page.screenshot({ path: join(SCREENSHOTS, 'keys-not-on-card-sv.png'), fullPage: true });
      // Nothing issued, and the attempt's keys are cleaned off the card.
      await expect
        .poll(async () => {
          const onCard = await cardInReader2(h);
          return { keys: onCard.keys, certificates: onCard.certificates.length };
        }, WAIT)
        .toEqual({ keys: { auth: false, sign: false }, certificates: 0 });
      await fileCase(portal, 'KEYS_NOT_ON_CARD');
      await box.uncheck();
      await expect.poll(() => box.isChecked(), WAIT).toBe(false);
      await restart(portal, again);
      // A new flow from step 1 with the same login; the order is Anna's again to take.
      await portal.control('manage-orders').click();
      await portal.atStep(2);
    },
    TEST_MS,
  );
});
