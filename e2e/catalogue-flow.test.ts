// The catalogue's codes of steps 3–7 (SPEC §4), each provoked through the UI and its training panel
// only: the reason or error panel shows the catalogue's Swedish title and remedy, and "Skicka
// felanmälan" files a case with the SPEC §5 fields filled in.
import {
  CATALOGUES,
  CODE_INFO,
  type ErrorCode,
  formatCardNumber,
  luhnCheckDigit,
  parseCardNumber,
} from '@reservkort/domain';
import type { BrowserContext, Locator } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, startBrowserHarness } from './support/browser-harness.js';
import { cardInReader2, judgeCardCertificates } from './support/card-checks.js';
import { DEMO, PortalPage, reservePins } from './support/portal-page.js';

interface Order {
  readonly pnr: string;
  readonly hsaId: string;
  readonly card: string;
  /** Who registered the order (admin 1). */
  readonly admin1: string;
}
interface Admin {
  readonly card: string;
  readonly hsaId: string;
}

/** Anna Andersson's order, registered by Admin Ett: Admin Två or Admin Fyra completes it. */
const ANNA: Order = {
  pnr: `19850412987${luhnCheckDigit('850412987')}`,
  hsaId: 'SE2321000016-p001',
  card: DEMO.annaCard,
  admin1: 'SE2321000016-ad01',
};
/** Bo Berg's order, registered by Admin Två: Admin Fyra completes it. */
const BO: Order = {
  pnr: `19790923988${luhnCheckDigit('790923988')}`,
  hsaId: 'SE2321000016-p002',
  card: '9752278900000000202',
  admin1: 'SE2321000016-ad02',
};
const ADMIN_TVA: Admin = { card: DEMO.admin2.card, hsaId: 'SE2321000016-ad02' };
const ADMIN_FYRA: Admin = { card: DEMO.admin4.card, hsaId: 'SE2321000016-ad04' };

/** Generous: the flow waits on a browser, a card agent, virtual cards and popups, on a busy machine. */
const WAIT = { timeout: 20_000 };
const TEST_MS = 120_000;
/** The catalogue's Swedish title up to its first placeholder (titles may hold `{details}`). */
const titleOf = (code: ErrorCode): string => CATALOGUES.sv.codes[code].title.split('{')[0]?.trim() ?? '';
const label = (control: 'restart' | 'logout-restart' | 'sign'): string => CATALOGUES.sv.controls[control];
const grouped = (card: string): string => {
  const parsed = parseCardNumber(card);
  if (!parsed.ok) throw new Error(`not a card number: ${card}`);
  return formatCardNumber(parsed.value);
};

const keysOnCard = async (h: BrowserHarness, card: string) => {
  const onCard = await cardInReader2(h);
  expect(onCard.cardNumber).toBe(card);
  return onCard.keys;
};

/** Each test's browser contexts, closed after it so an old page never reacts to the next test's cards. */
const contexts: BrowserContext[] = [];
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
});

const openPortal = async (h: BrowserHarness): Promise<PortalPage> => {
  const { page, context } = await h.newPage();
  contexts.push(context);
  await page.getByTestId('training-panel').waitFor();
  return new PortalPage(page, context);
};

/** Training panel: both readers plugged in and empty, whatever the previous test left. */
const clearDesk = async (portal: PortalPage): Promise<void> => {
  for (const n of [1, 2] as const) {
    if ((await portal.page.locator(`[data-plug="${n}"]`).count()) > 0) await portal.plug(n);
    if ((await portal.page.locator(`[data-remove="${n}"]`).count()) > 0) await portal.remove(n);
  }
};

/** Logged in as `admin`, the order found, reviewed and selected: step 3. */
const toStep3 = async (h: BrowserHarness, admin: Admin, order: Order): Promise<PortalPage> => {
  const portal = await openPortal(h);
  await clearDesk(portal);
  await portal.loginAs(admin.card);
  await portal.toReview(order.pnr);
  return portal;
};

const toStep4 = async (h: BrowserHarness, admin: Admin, order: Order): Promise<PortalPage> => {
  const portal = await toStep3(h, admin, order);
  await portal.signOrder();
  return portal;
};

const toStep5 = async (h: BrowserHarness, admin: Admin, order: Order): Promise<PortalPage> => {
  const portal = await toStep4(h, admin, order);
  await portal.insert(order.card, 2);
  await portal.control('confirm-handover').click();
  await portal.atStep(5);
  return portal;
};

/** The reason shown next to a disabled control, with the catalogue's title. */
const expectReason = async (portal: PortalPage, code: ErrorCode): Promise<Locator> => {
  const reason = portal.page.locator(`.reason[data-reason="${code}"]`);
  await expect.poll(() => reason.isVisible(), WAIT).toBe(true);
  expect(await reason.textContent()).toContain(titleOf(code));
  return reason;
};

/** No other error on the screen: every panel and reason shown is about `code`. */
const expectOnlyCode = async (portal: PortalPage, code: ErrorCode): Promise<void> => {
  const shown = portal.page
    .locator('section.issuance')
    .locator('.error-panel[data-code], .reason[data-reason]');
  const codes = await shown.evaluateAll((elements) =>
    elements.map((e) => e.getAttribute('data-code') ?? e.getAttribute('data-reason')),
  );
  expect(new Set(codes)).toEqual(new Set([code]));
};

/** The error panel of a code, with the catalogue's title as its heading. */
const expectPanel = async (portal: PortalPage, code: ErrorCode): Promise<Locator> => {
  const panel = portal.page.locator(`section.issuance .error-panel[data-code="${code}"]`);
  await expect.poll(() => panel.isVisible(), WAIT).toBe(true);
  expect(await panel.locator('h3').textContent()).toContain(titleOf(code));
  await expectOnlyCode(portal, code);
  return panel;
};

const expectRemedy = async (
  where: Locator,
  remedy: 'restart' | 'logout-restart' | 'sign',
): Promise<Locator> => {
  const button = where.locator(`[data-remedy="${remedy}"]`);
  await expect.poll(() => button.isVisible(), WAIT).toBe(true);
  expect(((await button.textContent()) ?? '').trim()).toBe(label(remedy));
  return button;
};

/** "Skicka felanmälan": the SPEC §5 fields filled in from the flow, and a case id back. */
const expectSupportCase = async (
  portal: PortalPage,
  code: ErrorCode,
  who: { admin: Admin; order: Order },
  raised: ErrorCode = code,
): Promise<Record<string, string>> => {
  expect(CODE_INFO[code].supportCase).toBe(true);
  await expectOnlyCode(portal, code);
  const { fields, caseId } = await portal.fileSupportCase(`${code}: filed by the catalogue browser test`);
  expect(caseId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  expect(fields.admin1).toBe(who.order.admin1);
  expect(fields.admin2).toBe(who.admin.hsaId);
  expect(fields.recipient).toBe(who.order.hsaId);
  expect(fields.cardNumber).toBe(grouped(who.order.card));
  expect(fields.agent).toMatch(/\d+\.\d+/);
  expect(fields.codes?.split(', ')).toContain(raised);
  expect(Number(fields.timeline)).toBeGreaterThan(0);
  return fields;
};

/** Starta om utgivningen: a new flow at step 1, with the same login. */
const restartFrom = async (portal: PortalPage, button: Locator): Promise<void> => {
  const before = await portal.page.locator('section.issuance').getAttribute('data-flow');
  await button.click();
  await expect
    .poll(() => portal.page.locator('section.issuance').getAttribute('data-flow'), WAIT)
    .not.toBe(before);
  await portal.atStep(1);
  await expect.poll(() => portal.control('manage-orders').isEnabled(), WAIT).toBe(true);
};

describe('steps 3–7 with the training defaults', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it(
    'CARD_REINSERTED: the login card out and back at step 3 disables SIGNERA with the time; logging out starts over',
    async () => {
      const portal = await toStep3(h, ADMIN_TVA, ANNA);
      await expect.poll(() => portal.control('sign').isEnabled(), WAIT).toBe(true);
      await portal.remove(1);
      await portal.insert(ADMIN_TVA.card, 1);
      const reason = await expectReason(portal, 'CARD_REINSERTED');
      expect(await portal.control('sign').isDisabled()).toBe(true);
      // The explanation names the time the card left, as a time of day.
      expect(await reason.textContent()).toMatch(/kl\. \d{2}:\d{2}:\d{2}/);
      // The case can still be filed from the reason, before logging out ends the flow.
      await expectSupportCase(portal, 'CARD_REINSERTED', { admin: ADMIN_TVA, order: ANNA });
      const remedy = await expectRemedy(reason, 'logout-restart');
      await remedy.click();
      await portal.page.locator('[data-control="login"]').waitFor();
      expect(await portal.page.getByTestId('logged-in').count()).toBe(0);
    },
    TEST_MS,
  );

  it(
    'SIGN_FAILED: a cancelled PIN dialog fails the signature, the retry is offered; a second failure is a fault',
    async () => {
      const portal = await toStep3(h, ADMIN_TVA, ANNA);
      const cancelIn = async (trigger: () => Promise<void>) => {
        const popup = portal.context.waitForEvent('page', { timeout: 15_000 });
        await trigger();
        const dialog = await popup;
        await dialog.waitForLoadState();
        const closed = dialog.waitForEvent('close', { timeout: 10_000 });
        await dialog.locator('#cancel').click();
        await closed;
      };
      await cancelIn(() => portal.control('sign').click());
      // The first failure: reported, SIGNERA offered again, the flow still at step 3.
      const first = await expectPanel(portal, 'SIGN_FAILED');
      expect(await first.textContent()).toContain('försök 1');
      expect(await portal.step()).toBe('3');
      await cancelIn(async () => (await expectRemedy(first, 'sign')).click());
      // The second: a fault that stops the flow, with restart and a support case.
      await expect
        .poll(() => portal.page.locator('#flow-fault').getAttribute('data-code'), WAIT)
        .toBe('SIGN_FAILED');
      const fault = await expectPanel(portal, 'SIGN_FAILED');
      expect(await fault.textContent()).toContain('försök 2');
      expect(await portal.control('sign').isDisabled()).toBe(true);
      await expectSupportCase(portal, 'SIGN_FAILED', { admin: ADMIN_TVA, order: ANNA });
      await restartFrom(portal, await expectRemedy(fault, 'restart'));
    },
    TEST_MS,
  );

  it(
    'WRONG_CARD: the spare card in reader 2 at step 4 shows both card numbers side by side',
    async () => {
      const portal = await toStep4(h, ADMIN_TVA, ANNA);
      await portal.insert(DEMO.spareCard, 2);
      const reason = await expectReason(portal, 'WRONG_CARD');
      expect(await portal.control('confirm-handover').isDisabled()).toBe(true);
      expect(await reason.textContent()).toContain(grouped(DEMO.spareCard));
      const expected = portal.page.getByTestId('expected-card');
      const actual = portal.page.getByTestId('actual-card');
      expect(await expected.textContent()).toBe(grouped(ANNA.card));
      await expect.poll(() => actual.textContent(), WAIT).toBe(grouped(DEMO.spareCard));
      expect(grouped(DEMO.spareCard)).toMatch(/^\d{4}( \d{1,4})+$/);
      // Side by side: the same row, the card in the reader to the right of the expected one.
      const [left, right] = [await expected.boundingBox(), await actual.boundingBox()];
      expect(left && right && right.x > left.x && Math.abs(right.y - left.y) < 5).toBe(true);
      // A blocking code: no remedy control (the right card is the remedy); a case can be filed.
      expect(await reason.locator('[data-remedy]').count()).toBe(0);
      await expectSupportCase(portal, 'WRONG_CARD', { admin: ADMIN_TVA, order: ANNA });
      // The right card clears it; logging out ends the flow and hands the order back.
      await portal.insert(ANNA.card, 2);
      await expect.poll(() => portal.control('confirm-handover').isEnabled(), WAIT).toBe(true);
      expect(await portal.page.locator('.reason[data-reason="WRONG_CARD"]').count()).toBe(0);
      await portal.page.locator('[data-action="logout"]').click();
      await portal.page.locator('[data-control="login"]').waitFor();
    },
    TEST_MS,
  );

  it(
    'ONE_READER_USED: reader 2 unplugged and plugged back at step 4 stops the handover; restart starts over',
    async () => {
      const portal = await toStep4(h, ADMIN_TVA, ANNA);
      await portal.unplug(2);
      await expectReason(portal, 'READERS_MISSING');
      // Back after the gap: the reader log's answer is "no", and the flow stops with a fault.
      await portal.plug(2);
      const fault = await expectPanel(portal, 'ONE_READER_USED');
      await portal.insert(ANNA.card, 2);
      await expectReason(portal, 'ONE_READER_USED');
      expect(await portal.control('confirm-handover').isDisabled()).toBe(true);
      const fields = await expectSupportCase(portal, 'ONE_READER_USED', { admin: ADMIN_TVA, order: ANNA });
      expect(fields.twoReaders).toBe('Nej');
      await restartFrom(portal, await expectRemedy(fault, 'restart'));
    },
    TEST_MS,
  );

  it(
    'PIN_BLOCKED: a wrong PIN 1 three times blocks the PIN in the dialog; the download stops and says so',
    async () => {
      const portal = await toStep5(h, ADMIN_FYRA, BO);
      await portal.acceptTerms();
      const popup = portal.context.waitForEvent('page', { timeout: 15_000 });
      await portal.control('start-download').click();
      const dialog = await popup;
      await dialog.waitForLoadState();
      const status = dialog.locator('#status');
      for (const left of [2, 1]) {
        await dialog.locator('#pin').fill('9999');
        await dialog.locator('#ok').click();
        await expect.poll(() => status.textContent(), WAIT).toContain(`${left} försök kvar`);
      }
      await dialog.locator('#pin').fill('9999');
      await dialog.locator('#ok').click();
      await expect.poll(() => status.textContent(), WAIT).toContain('spärrad');
      expect(dialog.isClosed()).toBe(false);
      const fault = await expectPanel(portal, 'PIN_BLOCKED');
      expect(await fault.textContent()).toContain('PUK');
      await dialog.close();
      const fields = await expectSupportCase(portal, 'PIN_BLOCKED', { admin: ADMIN_FYRA, order: BO });
      expect(fields.certificates).toBe('Inga certifikat på kortet.');
      await restartFrom(portal, await expectRemedy(fault, 'restart'));
    },
    TEST_MS,
  );

  it(
    'ACK_TIMEOUT: the deadline passes at step 7; both certificates are revoked (OCSP agrees); restart starts over',
    async () => {
      const portal = await toStep5(h, ADMIN_TVA, ANNA);
      const pins = reservePins(ANNA.card);
      await portal.acceptTerms();
      await portal.enterPins([pins.pin1, pins.pin2], () => portal.control('start-download').click());
      await portal.atStep(7);
      const countdown = portal.page.locator('.countdown');
      await countdown.waitFor();
      expect(Number(await countdown.getAttribute('data-remaining'))).toBeGreaterThan(60);
      await portal.page.locator('[data-action="jump-to-deadline"]').click();
      const revoked = portal.page.getByTestId('revoked');
      await expect.poll(() => revoked.isVisible(), WAIT).toBe(true);
      expect(await portal.page.locator('section.issuance').getAttribute('data-status')).toBe(
        'ack-timeout-revoked',
      );
      const panel = await expectPanel(portal, 'ACK_TIMEOUT');
      // The certificates are still on the card: the case lists them, and they are the revoked ones.
      const fields = await expectSupportCase(portal, 'ACK_TIMEOUT', { admin: ADMIN_TVA, order: ANNA });
      const serials = [...(fields.certificates ?? '').matchAll(/Serienummer: ([0-9a-f]+)/gi)].map((m) =>
        (m[1] ?? '').toLowerCase(),
      );
      expect(serials).toHaveLength(2);
      const shown = ((await revoked.textContent()) ?? '').toLowerCase();
      for (const serial of serials) expect(shown).toContain(serial);
      // OCSP agrees: every certificate on the card is revoked now.
      for (const verdict of await judgeCardCertificates(h, ANNA.card)) expect(verdict.ocsp).toBe('revoked');
      await restartFrom(portal, await expectRemedy(panel, 'restart'));
    },
    TEST_MS,
  );
});

describe('a card agent that does not answer a lit button', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    // Stuck after 3 s instead of 30; long enough for a busy machine to confirm a healthy handover.
    h = await startBrowserHarness({ stuckAfterMs: 3000 });
  });
  afterAll(async () => h?.close());

  const silence = async (portal: PortalPage) => {
    const box = portal.page.locator('[data-simulate="silent-agent"]');
    await box.check();
    expect(await box.isChecked()).toBe(true);
  };

  it(
    'HANDOVER_STUCK: BEKRÄFTA ÖVERLÄMNING that the agent never follows up is a fault; restart starts over',
    async () => {
      const portal = await toStep4(h, ADMIN_TVA, ANNA);
      await portal.insert(ANNA.card, 2);
      await expect.poll(() => portal.control('confirm-handover').isEnabled(), WAIT).toBe(true);
      await silence(portal);
      await portal.control('confirm-handover').click();
      const fault = await expectPanel(portal, 'HANDOVER_STUCK');
      expect(await portal.step()).toBe('4');
      const fields = await expectSupportCase(portal, 'HANDOVER_STUCK', { admin: ADMIN_TVA, order: ANNA });
      expect(fields.twoReaders).toBe('Ja');
      await restartFrom(portal, await expectRemedy(fault, 'restart'));
    },
    TEST_MS,
  );

  it(
    'DOWNLOAD_START_STUCK: STARTA NEDLADDNING without key generation is a fault; restart starts over',
    async () => {
      const portal = await toStep5(h, ADMIN_TVA, ANNA);
      await portal.acceptTerms();
      await silence(portal);
      await portal.control('start-download').click();
      const fault = await expectPanel(portal, 'DOWNLOAD_START_STUCK');
      expect(await portal.step()).toBe('5');
      const fields = await expectSupportCase(portal, 'DOWNLOAD_START_STUCK', {
        admin: ADMIN_TVA,
        order: ANNA,
      });
      expect(fields.certificates).toBe('Inga certifikat på kortet.');
      await restartFrom(portal, await expectRemedy(fault, 'restart'));
    },
    TEST_MS,
  );
});

describe('PIN dialogs that never show, and a card pulled out during key generation', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    // A dialog not shown within 4 s counts as never shown; a card takes 1.5 s per key, as in training.
    h = await startBrowserHarness({ dialogShowTimeoutMs: 4000, cardOperationMs: 1500 });
  });
  afterAll(async () => h?.close());

  it(
    'AUTH_DIALOG_NOT_SHOWN: the PIN 1 dialog never opens at step 6; restart starts over',
    async () => {
      const portal = await toStep5(h, ADMIN_TVA, ANNA);
      await portal.acceptTerms();
      await portal.page.locator('[data-simulate="unopened-pin1"]').check();
      await portal.control('start-download').click();
      await portal.atStep(6);
      const fault = await expectPanel(portal, 'AUTH_DIALOG_NOT_SHOWN');
      expect(portal.context.pages()).toHaveLength(1);
      await expectSupportCase(portal, 'AUTH_DIALOG_NOT_SHOWN', { admin: ADMIN_TVA, order: ANNA });
      await restartFrom(portal, await expectRemedy(fault, 'restart'));
    },
    TEST_MS,
  );

  it(
    'SIGN_DIALOG_NOT_SHOWN: keys are made after PIN 1, then the PIN 2 dialog never opens; restart starts over',
    async () => {
      const portal = await toStep5(h, ADMIN_FYRA, BO);
      await portal.acceptTerms();
      await portal.page.locator('[data-simulate="unopened-pin2"]').check();
      await portal.enterPins([reservePins(BO.card).pin1], () => portal.control('start-download').click());
      const fault = await expectPanel(portal, 'SIGN_DIALOG_NOT_SHOWN');
      expect(await portal.step()).toBe('6');
      expect(portal.context.pages()).toHaveLength(1);
      await expectSupportCase(portal, 'SIGN_DIALOG_NOT_SHOWN', { admin: ADMIN_FYRA, order: BO });
      await restartFrom(portal, await expectRemedy(fault, 'restart'));
    },
    TEST_MS,
  );

  it(
    'CARD_REMOVED_DURING_DOWNLOAD: the reserve card out while keys are made; the card is cleaned when it is back',
    async () => {
      const portal = await toStep5(h, ADMIN_TVA, ANNA);
      const pins = reservePins(ANNA.card);
      // PIN 1 accepted, the keys under way (1.5 s each): out comes the card.
      const dialog = await portal.pullCardDuringDownload(pins.pin1);
      const fault = await expectPanel(portal, 'CARD_REMOVED_DURING_DOWNLOAD');
      await expect.poll(() => dialog.locator('#status').textContent(), WAIT).toContain('Kortet togs ut');
      await dialog.close();
      const fields = await expectSupportCase(portal, 'CARD_REMOVED_DURING_DOWNLOAD', {
        admin: ADMIN_TVA,
        order: ANNA,
      });
      expect(fields.certificates).toBe('Inga certifikat på kortet.');
      // Back in reader 2, the card is cleaned of the attempt's keys (PIN 1 asked again).
      await portal.enterPins([pins.pin1], () => portal.insert(ANNA.card, 2));
      await expect.poll(() => keysOnCard(h, ANNA.card), WAIT).toEqual({ auth: false, sign: false });
      await restartFrom(portal, await expectRemedy(fault, 'restart'));
    },
    TEST_MS,
  );
});
