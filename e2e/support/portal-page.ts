// The portal as a person uses it, in Playwright terms: the training panel's hands, card login with
// the PIN typed into the agent's dialog window, the seven steps. Tests read as the guide does.

import type { BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { UI_TEXTS } from '../../packages/web/src/i18n/ui-texts.js';

/** The demo data's cards and PINs (the same as `npm start` prints). */
export const DEMO = {
  admin1: { name: 'Admin Ett', card: '9752278900000000101' },
  admin2: { name: 'Admin Två', card: '9752278900000000102' },
  admin3: { name: 'Admin Tre', card: '9752278900000000103' },
  admin4: { name: 'Admin Fyra', card: '9752278900000000104' },
  lena: { name: 'Lena LoA2', card: '9752278900000000105' },
  sara: { name: 'Sara Servicedesk', card: '9752278900000000106' },
  adminPins: { pin1: '1234', pin2: '5678' },
  /** The reserve card on Anna Andersson's order, and its PIN letter. */
  annaCard: '9752278900000000201',
  spareCard: '9752278900000000299',
} as const;

/** Waits long enough for a busy machine (CI runs the browser tests beside everything else). */
export const WAIT = { timeout: 20_000 } as const;

/** Waits for `target`; a wait that times out fails with `what` and the text `around` shows instead. */
const waitOrSay = (
  target: Locator,
  around: Locator,
  what: string,
  options?: { readonly timeout: number },
): Promise<void> =>
  target.waitFor(options).catch(async (error: unknown) => {
    throw new Error(`${what}; the page showed: ${(await around.textContent()) ?? ''}`, { cause: error });
  });

/** The queue's column headings as the desk reads them, newest first (the default sort). */
export const queueHeadings = (texts: (typeof UI_TEXTS)['sv']): string[] => [
  texts.desk.case.replace(' {id}', ''),
  `${texts.desk.created} ▼`,
  texts.desk.reportedBy,
  texts.support.recipient,
  texts.support.cardNumber,
  texts.support.codes,
  texts.desk.statusColumn,
  texts.desk.assignee,
];

export const reservePins = (card: string) => {
  const tail = card.slice(-3);
  return { pin1: `${tail}1`, pin2: `${tail}2`, puk: `87654${tail}` };
};

export class PortalPage {
  constructor(
    readonly page: Page,
    readonly context: BrowserContext,
  ) {}

  /** Training panel: put a card in a reader (taking out what is there). */
  async insert(cardNumber: string, reader: 1 | 2): Promise<void> {
    const slot = this.page.locator(`.reader-slots [data-reader="${reader}"] [data-card]`);
    if ((await slot.getAttribute('data-card')) === cardNumber) return;
    await this.page.locator(`[data-insert="${cardNumber}:${reader}"]`).click();
    await expect
      .poll(
        () =>
          this.page.locator(`.reader-slots [data-reader="${reader}"] [data-card]`).getAttribute('data-card'),
        WAIT,
      )
      .toBe(cardNumber);
  }

  async remove(reader: 1 | 2): Promise<void> {
    await this.page.locator(`[data-remove="${reader}"]`).click();
    await expect
      .poll(
        () =>
          this.page.locator(`.reader-slots [data-reader="${reader}"] [data-card]`).getAttribute('data-card'),
        WAIT,
      )
      .toBe('');
  }

  async unplug(reader: 1 | 2): Promise<void> {
    await this.page.locator(`[data-unplug="${reader}"]`).click();
    await this.page.locator(`.reader-slots [data-reader="${reader}"].missing`).waitFor();
  }

  async plug(reader: 1 | 2): Promise<void> {
    await this.page.locator(`[data-plug="${reader}"]`).click();
    await this.page.locator(`.reader-slots [data-reader="${reader}"].connected`).waitFor();
  }

  /** Sets a catalogue scenario's scene from the training panel. */
  async tryScenario(code: string): Promise<void> {
    await this.page.locator(`[data-try="${code}"]`).click();
    await expect.poll(() => this.page.getByTestId('training-notice').textContent(), WAIT).toContain(code);
  }

  /** Types PINs into the agent's dialog windows as they open, one window per PIN. */
  async enterPins(pins: readonly string[], trigger: () => Promise<void>): Promise<void> {
    const windows = pins.map(() => this.context.waitForEvent('page', { timeout: 15_000 }));
    // A trigger that fails is the error to report, not the dialog that then never opened.
    for (const window of windows) window.catch(() => undefined);
    await trigger();
    for (const [index, pin] of pins.entries()) {
      const dialog = await windows[index];
      if (dialog === undefined) throw new Error('no dialog');
      if (index + 1 < pins.length)
        windows[index + 1] = this.context.waitForEvent('page', { timeout: 15_000 });
      await dialog.waitForLoadState();
      await dialog.locator('#pin').fill(pin);
      await dialog.locator('#ok').click();
      await dialog.waitForEvent('close', { timeout: 10_000 });
    }
  }

  /** Logga in on the holder's pages; a page that never offers it fails with what it shows instead. */
  async clickHolderLogin(): Promise<void> {
    const button = this.page.locator('[data-control="holder-login"]');
    await waitOrSay(button, this.page.locator('body'), "the holder's login was not offered", WAIT);
    await button.click();
  }

  /** Card login with the card already in reader 1. */
  async login(pin1: string = DEMO.adminPins.pin1): Promise<void> {
    await this.enterPins([pin1], () => this.page.locator('[data-control="login"]').click());
    await this.page.getByTestId('logged-in').waitFor();
  }

  async loginAs(card: string, pin1: string = DEMO.adminPins.pin1): Promise<void> {
    await this.insert(card, 1);
    await this.login(pin1);
  }

  step(): Promise<string | null> {
    return this.page.locator('section.issuance').getAttribute('data-step');
  }

  async atStep(step: number): Promise<void> {
    await expect.poll(() => this.step(), WAIT).toBe(String(step));
  }

  control(id: string) {
    return this.page.locator(`button[data-control="${id}"]`);
  }

  /** Steps 1–3 for Admin Två and Anna: logged in, order found and selected. */
  async toReview(query: string): Promise<void> {
    await this.atStep(1);
    await this.control('manage-orders').click();
    await this.atStep(2);
    await this.page.locator('#order-query').fill(query);
    await this.control('search').click();
    await this.control('select-order').click();
    await this.atStep(3);
  }

  async signOrder(): Promise<void> {
    await this.enterPins([DEMO.adminPins.pin2], () => this.control('sign').click());
    await this.atStep(4);
  }

  /** Step 4: the reserve card in reader 2 and BEKRÄFTA ÖVERLÄMNING; the flow at step 5. */
  async handOver(cardNumber: string): Promise<void> {
    await this.insert(cardNumber, 2);
    await this.control('confirm-handover').click();
    await this.atStep(5);
  }

  /** Step 5: the terms ticked (the box shows what the server holds) and STARTA NEDLADDNING enabled. */
  async acceptTerms(): Promise<void> {
    const box = this.page.locator('#accept-terms');
    await expect.poll(() => box.isEnabled(), WAIT).toBe(true);
    await box.click();
    await expect.poll(() => box.isChecked(), WAIT).toBe(true);
    await expect.poll(() => this.control('start-download').isEnabled(), WAIT).toBe(true);
  }

  /**
   * CARD_REMOVED_DURING_DOWNLOAD from step 5: the terms accepted, the download started, PIN 1 typed
   * into the agent's dialog, and the reserve card taken out of reader 2 once the download's row
   * `when.row` (0: the first key) reads `when.state`. Resolves when the error panel is shown, with
   * the agent's dialog window, still open.
   */
  async pullCardDuringDownload(
    pin1: string,
    when: { readonly row: number; readonly state: 'doing' | 'done' } = { row: 0, state: 'doing' },
  ): Promise<Page> {
    await this.acceptTerms();
    const popup = this.context.waitForEvent('page', { timeout: 15_000 });
    await this.control('start-download').click();
    const dialog = await popup;
    await dialog.waitForLoadState();
    await dialog.locator('#pin').fill(pin1);
    await dialog.locator('#ok').click();
    const row = this.page.locator('.download-phases li').nth(when.row);
    await expect.poll(() => row.getAttribute('data-phase-state'), WAIT).toBe(when.state);
    await this.remove(2);
    await this.page
      .locator('section.issuance .error-panel[data-code="CARD_REMOVED_DURING_DOWNLOAD"]')
      .waitFor(WAIT);
    return dialog;
  }

  /**
   * "Skicka felanmälan" from the error panel or reason on screen: the pre-filled case is shown
   * read-only, a comment is added, and it is sent. Returns the SPEC §5 fields as shown, and the case id.
   */
  async fileSupportCase(
    comment = 'Filed by a browser test',
  ): Promise<{ fields: Record<string, string>; caseId: string }> {
    await this.page.locator('button[data-control="send-support-case"]').first().click();
    const fields = this.page.getByTestId('case-fields');
    await fields.waitFor();
    const shown: Record<string, string> = {};
    for (const field of await fields.locator('dd[data-field]').all()) {
      shown[(await field.getAttribute('data-field')) ?? ''] = ((await field.textContent()) ?? '').trim();
    }
    shown.timeline = String(await this.page.locator('.support-dialog .timeline li').count());
    await this.page.locator('#support-comment').fill(comment);
    await this.page.locator('[data-action="send-case"]').click();
    const sent = this.page.locator('.support-dialog [data-case-id]');
    const refused = this.page.locator('.support-dialog .error-panel');
    // A refusal is shown in the dialog: say which, rather than time out waiting for the id.
    await waitOrSay(
      sent.or(refused).first(),
      this.page.locator('.support-dialog'),
      'no case id after sending',
    );
    if (await refused.isVisible())
      throw new Error(
        `the support case was refused: ${await refused.first().getAttribute('data-code')} ${await refused.first().textContent()}`,
      );
    const caseId = (await sent.getAttribute('data-case-id')) ?? '';
    await this.page.locator('.support-dialog button', { hasText: /Stäng|Close/ }).click();
    return { fields: shown, caseId };
  }
}
