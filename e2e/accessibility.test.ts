// Accessibility in a real browser: axe-core (WCAG 2.1 A and AA) on every screen in Swedish and
// English, the whole issuance done with the keyboard alone, focus on each new step's heading, the
// live regions, and a full-page screenshot of each screen in both languages.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { formatCardNumber, luhnCheckDigit, parseCardNumber } from '@reservkort/domain';
import type { AxeResults, RunOptions } from 'axe-core';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, reservePins } from './support/portal-page.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_OPTIONS: RunOptions = { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] };

const pnr = (born: string, birthNumber: string) =>
  `${born}${birthNumber}${luhnCheckDigit(`${born.slice(2)}${birthNumber}`)}`;
const ANNA_PNR = pnr('19850412', '987');
/** Bo Berg's order (card …202) was registered by Admin Två, so Admin Fyra may complete it. */
const BO_PNR = pnr('19790923', '988');
const BO_CARD = '9752278900000000202';
/** Nils Utanorder has no order: searching for him is the NO_ORDER error panel. */
const NILS_PNR = pnr('19670130', '991');

/** Polls wait this long: the machine may be busy with other browsers. */
const POLL = { timeout: 10_000 } as const;

type Language = 'sv' | 'en';
const LANGUAGES: readonly Language[] = ['sv', 'en'];

const printed = (card: string): string => {
  const parsed = parseCardNumber(card);
  if (!parsed.ok) throw new Error(`bad card number ${card}`);
  return formatCardNumber(parsed.value);
};

interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: string; readonly summary: string }[];
}

/** axe-core on the whole document; serious and critical violations fail, printed one per node. */
const expectAccessible = async (page: Page, screen: string): Promise<void> => {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async (options): Promise<Violation[]> => {
    const { axe } = window as unknown as {
      axe: { run(context: Document, options: RunOptions): Promise<AxeResults> };
    };
    const result = await axe.run(document, options);
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary ?? '' })),
    }));
  }, AXE_OPTIONS);
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = serious
    .map(
      (v) =>
        `${v.impact} ${v.id}: ${v.help}\n${v.nodes
          .map((n) => `  at ${n.target}\n    ${n.summary.replace(/\n/g, '\n    ')}`)
          .join('\n')}`,
    )
    .join('\n\n');
  expect(
    serious.map((v) => v.id),
    `axe on ${screen}:\n${report}`,
  ).toEqual([]);
};

const setLanguage = async (page: Page, language: Language): Promise<void> => {
  if ((await page.evaluate(() => document.documentElement.lang)) === language) return;
  await page.locator('[data-action="language"]').click();
  await page.waitForFunction((lang) => document.documentElement.lang === lang, language);
};

/**
 * The screen in Swedish and in English: axe on each, and with `shot` a full-page screenshot named
 * `${shot}-sv.png` / `${shot}-en.png`. Ends in Swedish.
 */
const checkScreen = async (page: Page, screen: string, shot?: string): Promise<void> => {
  for (const language of LANGUAGES) {
    await setLanguage(page, language);
    // The language button keeps the focus ring; the screenshot shows the screen, not the button.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await expectAccessible(page, `${screen} (${language})`);
    if (shot) await page.screenshot({ path: join(SCREENSHOTS, `${shot}-${language}.png`), fullPage: true });
  }
  await setLanguage(page, 'sv');
};

const focusedId = (page: Page): Promise<string | null> =>
  page.evaluate(() => (document.activeElement ? document.activeElement.id : null));

/** After a step change the step's heading has the focus. */
const expectFocusOnStepTitle = async (portal: PortalPage, step: number): Promise<void> => {
  await portal.atStep(step);
  await expect.poll(() => focusedId(portal.page), POLL).toBe('step-title');
  expect(await portal.page.evaluate(() => document.activeElement?.tagName)).toBe('H2');
};

const cardIn = (page: Page, reader: 1 | 2): Promise<string | null> =>
  page.locator(`.reader-slots [data-reader="${reader}"] [data-card]`).getAttribute('data-card');

/** Presses Tab (or Shift+Tab) until `target` has the focus, at most `cap` times. */
const tabTo = async (page: Page, target: Locator, { back = false, cap = 150 } = {}): Promise<void> => {
  await target.waitFor();
  for (let pressed = 0; pressed <= cap; pressed++) {
    if (await target.evaluate((element) => element === document.activeElement)) return;
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
  }
  throw new Error(`${String(target)} not reached in ${cap} presses of ${back ? 'Shift+Tab' : 'Tab'}`);
};

/**
 * The agent's PIN windows as they open, one per PIN: each is on the agent's origin with the PIN
 * field focused; `look` may inspect it, then the PIN is typed and Enter pressed (keyboard only).
 */
const typePins = async (
  context: BrowserContext,
  pins: readonly string[],
  trigger: () => Promise<void>,
  look: (dialog: Page, index: number) => Promise<void> = async () => undefined,
): Promise<void> => {
  let next = context.waitForEvent('page', { timeout: 15_000 });
  await trigger();
  for (const [index, pin] of pins.entries()) {
    const dialog = await next;
    if (index + 1 < pins.length) next = context.waitForEvent('page', { timeout: 15_000 });
    await dialog.waitForLoadState();
    // The PIN field is autofocused: the keyboard types straight into it.
    await expect.poll(() => focusedId(dialog), POLL).toBe('pin');
    await look(dialog, index);
    await dialog.keyboard.type(pin);
    await dialog.keyboard.press('Enter');
    await dialog.waitForEvent('close', { timeout: 10_000 });
  }
};

describe('accessibility of the portal in a real browser', () => {
  let h: BrowserHarness;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => h?.close());

  /**
   * A fresh browser profile on the portal, in Swedish (English is the header button's). axe goes in
   * as a script tag, which the portal's Content-Security-Policy (rightly) refuses; the test
   * profile alone bypasses it.
   */
  const open = async (): Promise<PortalPage> => {
    const context = await h.browser.newContext({ bypassCSP: true, locale: 'sv-SE' });
    contexts.push(context);
    await context.addInitScript(() => localStorage.setItem('reservkort.language', 'sv'));
    const page = await context.newPage();
    await page.goto(h.url);
    await page.getByTestId('training-panel').waitFor();
    return new PortalPage(page, context);
  };

  /** Both readers plugged in (an earlier test may have unplugged one). */
  const bothReaders = async (portal: PortalPage): Promise<void> => {
    for (const n of [1, 2] as const) {
      if ((await portal.page.locator(`.reader-slots [data-reader="${n}"].missing`).count()) > 0)
        await portal.plug(n);
    }
  };

  /** Card login of `card` in reader 1, PIN 1 typed into the agent's window. */
  const loginAs = async (portal: PortalPage, card: string): Promise<void> => {
    await bothReaders(portal);
    await portal.insert(card, 1);
    await typePins(portal.context, [DEMO.adminPins.pin1], () =>
      portal.page.locator('[data-control="login"]').click(),
    );
    await portal.page.getByTestId('logged-in').waitFor();
  };

  it('the login screen with its pre-flight and the training panel; a reader unplugged; reader events announced', async () => {
    const portal = await open();
    const { page } = portal;
    await bothReaders(portal);

    // Reader events: a polite live region that gets a new entry when a card goes in.
    const events = page.getByTestId('reader-events');
    expect(await events.getAttribute('aria-live')).toBe('polite');
    const before = await events.locator('li').allTextContents();
    await portal.insert(DEMO.admin2.card, 1);
    await expect
      .poll(() => events.locator('li').first().textContent(), POLL)
      .toContain(`Kort ${printed(DEMO.admin2.card)} isatt i kortläsare 1`);
    expect(await events.locator('li').allTextContents()).not.toEqual(before);

    await page.locator('[data-control="login"]:enabled').waitFor();
    await checkScreen(page, 'the login screen', 'login');

    // The training panel sets the READERS_MISSING scene: reader 2 unplugged, login blocked.
    await page.locator('[data-try="READERS_MISSING"]').click();
    await expect
      .poll(() => page.getByTestId('training-notice').textContent(), POLL)
      .toContain('READERS_MISSING');
    const panel = page.locator('#readers-missing[data-code="READERS_MISSING"]');
    await panel.waitFor();
    expect(await panel.getAttribute('role')).toBe('alert');
    const picture = page.locator('svg.reader-picture');
    expect(await picture.getAttribute('role')).toBe('img');
    expect(await picture.getAttribute('aria-label')).toContain('2');
    expect(await picture.locator('.reader-missing').count()).toBe(1);
    expect(await page.locator('[data-control="login"]').isDisabled()).toBe(true);
    // The panel shows the scene it set: its notice, reader 2 to plug in again.
    await checkScreen(
      page,
      'the login screen with reader 2 unplugged, and the training panel',
      'training-panel',
    );
    await portal.plug(2);
  }, 60_000);

  it('steps 1–7, the PIN dialog windows and the admin portal; focus on each step heading; step 7 announces the countdown', async () => {
    const portal = await open();
    const { page, context } = portal;
    await loginAs(portal, DEMO.admin4.card);

    await expectFocusOnStepTitle(portal, 1);
    await checkScreen(page, 'step 1', 'step-1');

    await portal.control('manage-orders').click();
    await expectFocusOnStepTitle(portal, 2);
    await page.locator('#order-query').fill(BO_PNR);
    await portal.control('search').click();
    await portal.control('select-order').waitFor();
    await checkScreen(page, 'step 2 with the order found', 'step-2');

    await portal.control('select-order').click();
    await expectFocusOnStepTitle(portal, 3);
    await checkScreen(page, 'step 3', 'step-3');

    await typePins(
      context,
      [DEMO.adminPins.pin2],
      () => portal.control('sign').click(),
      async (dialog) => {
        expect(new URL(dialog.url()).origin).toBe(new URL(h.server.agentUrl ?? '').origin);
        await expectAccessible(dialog, 'the PIN dialog window (PIN 2, Swedish)');
      },
    );
    await expectFocusOnStepTitle(portal, 4);
    await portal.insert(BO_CARD, 2);
    await expect.poll(() => portal.control('confirm-handover').isEnabled(), POLL).toBe(true);
    await checkScreen(page, 'step 4', 'step-4');

    await portal.control('confirm-handover').click();
    await expectFocusOnStepTitle(portal, 5);
    await checkScreen(page, 'step 5 with the terms not yet accepted', 'step-5');

    // The box is the server's answer: click, then wait for it (check() would expect it at once).
    await page.locator('#accept-terms').click();
    await expect.poll(() => portal.control('start-download').isEnabled(), POLL).toBe(true);
    const pins = reservePins(BO_CARD);
    await typePins(
      context,
      [pins.pin1, pins.pin2],
      () => portal.control('start-download').click(),
      async (dialog, index) => {
        await expectAccessible(dialog, `the PIN dialog window (PIN ${index + 1})`);
        if (index > 0) return;
        // Step 6 waits on the PIN 1 window: the download's progress is on screen meanwhile.
        await expectFocusOnStepTitle(portal, 6);
        await checkScreen(page, 'step 6', 'step-6');
      },
    );

    await expectFocusOnStepTitle(portal, 7);
    const announcement = page.getByTestId('countdown-announcement');
    expect(await announcement.getAttribute('aria-live')).toMatch(/^(polite|assertive)$/);
    await expect
      .poll(async () => ((await announcement.textContent()) ?? '').trim(), POLL)
      .toMatch(/\d+:\d\d/);
    await checkScreen(page, 'step 7 with the countdown', 'step-7');
    await typePins(context, [pins.pin2], () => portal.control('acknowledge').click());
    await page.getByTestId('completed').waitFor();
    await checkScreen(page, 'step 7 completed');

    // The admin portal with a person found (and the order just used).
    await page.locator('a[href="#/admin"]').click();
    await page.locator('#person-query').fill(BO_PNR);
    await page.locator('[data-action="find-person"]').click();
    await page.getByTestId('person').waitFor();
    await checkScreen(page, 'the admin portal with a person found');
  }, 120_000);

  it('the whole issuance with the keyboard alone, the PINs typed into the agent’s windows', async () => {
    const portal = await open();
    const { page, context } = portal;
    const keys = page.keyboard;
    for (const n of [1, 2] as const) {
      const plug = page.locator(`[data-plug="${n}"]`);
      if ((await plug.count()) === 0) continue;
      await tabTo(page, plug);
      await keys.press('Enter');
      await page.locator(`.reader-slots [data-reader="${n}"].connected`).waitFor();
    }
    const anna = reservePins(DEMO.annaCard);
    // The training panel's buttons are reached with Tab like any other: the hands are simulated,
    // the keyboard is not.
    const insertWithKeys = async (card: string, reader: 1 | 2) => {
      if ((await cardIn(page, reader)) === card) return;
      await tabTo(page, page.locator(`[data-insert="${card}:${reader}"]`));
      await keys.press('Enter');
      await expect.poll(() => cardIn(page, reader), POLL).toBe(card);
    };

    // Login: Admin Två's card into reader 1, then LOGGA IN and PIN 1 in the agent's window.
    await insertWithKeys(DEMO.admin2.card, 1);
    const login = page.locator('[data-control="login"]');
    await expect.poll(() => login.isEnabled(), POLL).toBe(true);
    await tabTo(page, login, { back: true });
    await typePins(context, [DEMO.adminPins.pin1], () => keys.press('Enter'));
    await page.getByTestId('logged-in').waitFor();

    // 1: HANTERA BESTÄLLNINGAR.
    await expectFocusOnStepTitle(portal, 1);
    await tabTo(page, portal.control('manage-orders'));
    await keys.press('Enter');

    // 2: the personal number typed, SÖK pressed (it keeps the focus while it searches); then VÄLJ.
    await expectFocusOnStepTitle(portal, 2);
    await tabTo(page, page.locator('#order-query'));
    await keys.type(ANNA_PNR);
    await tabTo(page, portal.control('search'));
    await keys.press('Enter');
    await portal.control('select-order').waitFor();
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-control'))).toBe('search');
    await tabTo(page, portal.control('select-order'));
    await keys.press('Enter');

    // 3: SIGNERA with PIN 2.
    await expectFocusOnStepTitle(portal, 3);
    expect(await page.getByTestId('review').textContent()).toContain('Anna Andersson');
    await tabTo(page, portal.control('sign'));
    await typePins(context, [DEMO.adminPins.pin2], () => keys.press('Enter'));

    // 4: Anna's card into reader 2, then back to BEKRÄFTA ÖVERLÄMNING.
    await expectFocusOnStepTitle(portal, 4);
    await insertWithKeys(DEMO.annaCard, 2);
    await expect.poll(() => portal.control('confirm-handover').isEnabled(), POLL).toBe(true);
    await tabTo(page, portal.control('confirm-handover'), { back: true });
    await keys.press('Enter');

    // 5: the terms ticked with Space, then STARTA NEDLADDNING with PIN 1 and PIN 2.
    await expectFocusOnStepTitle(portal, 5);
    await tabTo(page, page.locator('#accept-terms'));
    await keys.press('Space');
    await expect.poll(() => portal.control('start-download').isEnabled(), POLL).toBe(true);
    // The box kept the focus while the server took the answer.
    expect(await focusedId(page)).toBe('accept-terms');
    expect(await page.locator('#accept-terms').isChecked()).toBe(true);
    await tabTo(page, portal.control('start-download'));
    await typePins(
      context,
      [anna.pin1, anna.pin2],
      () => keys.press('Enter'),
      async (_dialog, index) => {
        // 6: the download waits on the PIN windows.
        if (index === 0) await expectFocusOnStepTitle(portal, 6);
      },
    );

    // 7: KVITTERA with PIN 2 before the countdown runs out.
    await expectFocusOnStepTitle(portal, 7);
    expect(((await page.getByTestId('countdown-announcement').textContent()) ?? '').trim()).not.toBe('');
    await tabTo(page, portal.control('acknowledge'));
    await typePins(context, [anna.pin2], () => keys.press('Enter'));
    await page.getByTestId('completed').waitFor();
    expect(await portal.step()).toBe('7');
  }, 120_000);

  it('an error panel, the support case dialog, the service desk and a case, the catalogue', async () => {
    const admin = await open();
    await loginAs(admin, DEMO.admin2.card);
    await admin.atStep(1);
    await admin.control('manage-orders').click();
    await admin.atStep(2);
    await admin.page.locator('#order-query').fill(NILS_PNR);
    await admin.control('search').click();
    const panel = admin.page.locator('.error-panel[data-code="NO_ORDER"]');
    await panel.waitFor();
    await checkScreen(admin.page, 'the NO_ORDER error panel', 'error-panel');

    // "Skicka felanmälan": the modal dialog in each language, closed with Escape.
    for (const language of LANGUAGES) {
      await setLanguage(admin.page, language);
      await panel.locator('[data-control="send-support-case"]').click();
      const dialog = admin.page.locator('dialog.support-dialog');
      await dialog.getByTestId('case-fields').waitFor();
      expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
      await expectAccessible(admin.page, `the support case dialog (${language})`);
      await admin.page.screenshot({
        path: join(SCREENSHOTS, `support-case-${language}.png`),
        fullPage: true,
      });
      await admin.page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      // Closed, the focus is back on the button that opened it.
      expect(await admin.page.evaluate(() => document.activeElement?.getAttribute('data-control'))).toBe(
        'send-support-case',
      );
    }
    await setLanguage(admin.page, 'sv');
    const { caseId } = await admin.fileSupportCase('Sent by the accessibility test');
    await admin.page.locator('[data-action="logout"]').click();
    await admin.page.locator('[data-control="login"]').waitFor();

    // The service desk: the queue, the case, the catalogue.
    const desk = await open();
    await loginAs(desk, DEMO.sara.card);
    const row = desk.page.locator(`[data-testid="queue"] tr[data-case="${caseId}"]`);
    await row.waitFor();
    await checkScreen(desk.page, 'the service desk queue', 'service-desk');
    await row.locator('a').click();
    await desk.page.locator(`.case-view[data-case="${caseId}"]`).waitFor();
    await checkScreen(desk.page, 'a support case', 'service-desk-case');
    await desk.page.locator('header a[href="#/catalogue"]').click();
    await desk.page.locator('section.catalogue').waitFor();
    await checkScreen(desk.page, 'the catalogue');
  }, 120_000);
});
