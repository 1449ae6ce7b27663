// The SPEC §4 codes of login and step 2 (Sök på beställningar), each provoked in a real browser
// through the UI and its training panel only: the reason is shown next to the control concerned
// in Swedish, and inside a flow "Skicka felanmälan" files a case with what the flow knows.
import { CATALOGUES, type ErrorCode, luhnCheckDigit } from '@reservkort/domain';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type BrowserHarness, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, reservePins } from './support/portal-page.js';

/** A personal number of the demo data: born (YYYYMMDD), birth number, Luhn check digit. */
const personalNumber = (born: string, birthNumber: string) =>
  `${born}${birthNumber}${luhnCheckDigit(`${born.slice(2)}${birthNumber}`)}`;

const REGION = 'SE2321000016';
const PNR = {
  anna: personalNumber('19850412', '987'),
  bo: personalNumber('19790923', '988'),
  stina: personalNumber('19880607', '989'),
  // A samordningsnummer: the day of birth plus 60.
  samir: personalNumber('19910381', '990'),
  nils: personalNumber('19670130', '991'),
  elsa: personalNumber('19920218', '992'),
} as const;

const HSA = {
  admin1: `${REGION}-ad01`,
  admin2: `${REGION}-ad02`,
  admin3: 'SE5566778899-ad03',
  admin4: `${REGION}-ad04`,
  lena: `${REGION}-ad05`,
  anna: `${REGION}-p001`,
} as const;

/** The Swedish catalogue title of a code, up to its first placeholder (those are filled with details). */
const titleOf = (code: ErrorCode): string => {
  const [fixed = ''] = CATALOGUES.sv.codes[code].title.split('{');
  return fixed.trim();
};

/** The reason shown next to a disabled control: visible, with the code's Swedish title. */
const expectReason = async (page: Page, code: ErrorCode): Promise<Locator> => {
  const reason = page.locator(`.reason[data-reason="${code}"]`).first();
  await reason.waitFor();
  expect(await reason.isVisible()).toBe(true);
  expect(await reason.textContent()).toContain(titleOf(code));
  return reason;
};

/** The error panel of a code (within `scope`): visible, with the code's Swedish title as heading. */
const expectPanel = async (scope: Page | Locator, code: ErrorCode): Promise<Locator> => {
  const panel = scope.locator(`.error-panel[data-code="${code}"]`).first();
  await panel.waitFor();
  expect(await panel.isVisible()).toBe(true);
  expect(await panel.locator('h3').textContent()).toContain(titleOf(code));
  return panel;
};

/** The page's text as the admin sees it, without the trainer's panel (which lists all demo data). */
const portalText = (page: Page): Promise<string> =>
  page.evaluate(() => {
    const body = document.body.cloneNode(true);
    if (!(body instanceof HTMLElement)) return '';
    for (const panel of Array.from(body.querySelectorAll('[data-testid="training-panel"]'))) panel.remove();
    return body.textContent ?? '';
  });

/** What a filed case must carry when the flow found an order, or its search explained one. */
interface KnownOrder {
  readonly admin1: string;
  readonly recipient: string;
  readonly cardNumber: string;
}

/**
 * "Skicka felanmälan" on the screen: the case comes back with an id, and carries the SPEC §5 fields
 * the flow knows: admin 2, the agent's version, a timeline holding the code, and the order if any.
 */
const fileCase = async (
  portal: PortalPage,
  code: ErrorCode,
  admin2: string,
  order: KnownOrder | null,
): Promise<Record<string, string>> => {
  const { fields, caseId } = await portal.fileSupportCase(`Browser test: ${code}`);
  expect(caseId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  expect(fields.admin2).toBe(admin2);
  expect(fields.agent).toMatch(/\d/);
  expect(Number(fields.timeline)).toBeGreaterThan(0);
  expect((fields.codes ?? '').split(', ')).toContain(code);
  if (order === null) {
    expect(fields.recipient).toBe('–');
  } else {
    expect(fields.admin1).toBe(order.admin1);
    expect(fields.recipient).toBe(order.recipient);
    expect((fields.cardNumber ?? '').replace(/\D/g, '')).toBe(order.cardNumber);
  }
  return fields;
};

// Each test logs in with a PIN dialog and files a case; give a busy machine room.
describe('catalogue codes of login and search, in a real browser', { timeout: 60_000 }, () => {
  let h: BrowserHarness;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    // The panel's hands (set a scene, move a card) wait on the agent, which a busy machine slows.
    vi.setConfig({ expect: { poll: { timeout: 15_000 } } });
    h = await startBrowserHarness();
  });
  afterEach(async () => {
    // The readers and cards are the one agent's: each test sets its own scene from the training panel.
    for (const context of contexts.splice(0)) await context.close();
  });
  afterAll(async () => {
    vi.resetConfig();
    await h?.close();
  });

  const open = async (): Promise<PortalPage> => {
    const { page, context } = await h.newPage();
    contexts.push(context);
    // A step that never comes fails with the locator that waited, not as the test's time-out.
    context.setDefaultTimeout(15_000);
    return new PortalPage(page, context);
  };

  /** Sets the code's scene from the training panel, logs in with the card it put in reader 1. */
  const loggedIn = async (code: ErrorCode, pin1: string = DEMO.adminPins.pin1): Promise<PortalPage> => {
    const portal = await open();
    await portal.tryScenario(code);
    await portal.login(pin1);
    await portal.atStep(1);
    return portal;
  };

  /** Step 1 → 2, then a search; resolves when the answer is on screen. */
  const search = async (portal: PortalPage, query: string): Promise<Locator> => {
    await portal.control('manage-orders').click();
    await portal.atStep(2);
    await portal.page.locator('#order-query').fill(query);
    await portal.control('search').click();
    const result = portal.page.getByTestId('search-result');
    await result.locator('.error-panel, [data-testid="review"]').first().waitFor();
    return result;
  };

  it('READERS_MISSING before login: reader 2 unplugged blocks login, says why and shows the readers', async () => {
    const portal = await open();
    const { page } = portal;
    await portal.tryScenario('READERS_MISSING');
    await page.locator('.reader-slots [data-reader="2"].missing').waitFor();

    expect(await portal.control('login').isDisabled()).toBe(true);
    const reason = await expectReason(page, 'READERS_MISSING');
    expect(await reason.getAttribute('id')).toBe(
      await portal.control('login').getAttribute('aria-describedby'),
    );
    const panel = await expectPanel(page, 'READERS_MISSING');
    expect(await panel.textContent()).toContain('Kortläsare 2');
    const picture = page.locator('svg.reader-picture');
    expect(await picture.isVisible()).toBe(true);
    expect(await picture.locator('.reader-missing').count()).toBe(1);
    expect(await picture.getAttribute('aria-label')).toContain('2');

    // Plugged in again, login is allowed.
    await portal.plug(2);
    await expect.poll(() => portal.control('login').isEnabled()).toBe(true);
    expect(await page.locator('.reason[data-reason="READERS_MISSING"]').count()).toBe(0);
  });

  it('READERS_MISSING mid-flow: reader 2 unplugged after login disables "Hantera beställningar"; a case is filed', async () => {
    const portal = await loggedIn('NO_ORDER');
    expect(await portal.control('manage-orders').isEnabled()).toBe(true);

    await portal.unplug(2);
    await expect.poll(() => portal.control('manage-orders').isDisabled()).toBe(true);
    const reason = await expectReason(portal.page, 'READERS_MISSING');
    expect(await reason.textContent()).toContain('2');

    await fileCase(portal, 'READERS_MISSING', HSA.admin2, null);
  });

  it('LOA2_LOGIN: Lena’s LoA2 card may not manage orders; the remedy logs out', async () => {
    const portal = await loggedIn('LOA2_LOGIN');
    const { page } = portal;
    expect(await portal.control('manage-orders').isDisabled()).toBe(true);
    const reason = await expectReason(page, 'LOA2_LOGIN');
    const remedy = reason.locator('[data-remedy="logout-restart"]');
    expect(await remedy.textContent()).toBe(CATALOGUES.sv.controls['logout-restart']);

    await fileCase(portal, 'LOA2_LOGIN', HSA.lena, null);

    await remedy.click();
    await portal.control('login').waitFor();
    expect(await page.getByTestId('logged-in').count()).toBe(0);
  });

  it('NO_ROLE_IN_BRANCH: Admin Tre (another care provider) gets no hit for Anna, and nothing of her', async () => {
    const portal = await loggedIn('NO_ROLE_IN_BRANCH');
    const result = await search(portal, PNR.anna);
    await expectPanel(result, 'NO_ROLE_IN_BRANCH');
    expect(await result.getByTestId('review').count()).toBe(0);
    const text = await portalText(portal.page);
    expect(text).not.toContain('Anna');
    expect(text).not.toContain('Akutkliniken');

    const fields = await fileCase(portal, 'NO_ROLE_IN_BRANCH', HSA.admin3, null);
    expect(fields.cardNumber).toBe('–');
  });

  it('HSA_ID_INCOMPLETE: "p001" asks for the whole HSA-id', async () => {
    const portal = await loggedIn('HSA_ID_INCOMPLETE');
    const result = await search(portal, 'p001');
    const panel = await expectPanel(result, 'HSA_ID_INCOMPLETE');
    expect(await panel.textContent()).toContain('SE2321000016-');
    expect(await result.getByTestId('review').count()).toBe(0);

    await fileCase(portal, 'HSA_ID_INCOMPLETE', HSA.admin2, null);
  });

  it('PNR_FORMAT: ten digits with a hyphen are normalised and Anna’s order is still found', async () => {
    const portal = await loggedIn('PNR_FORMAT');
    const tenDigits = `${PNR.anna.slice(2, 8)}-${PNR.anna.slice(8)}`;
    const result = await search(portal, tenDigits);
    const panel = await expectPanel(result, 'PNR_FORMAT');
    expect(await panel.getAttribute('class')).toContain('severity-notice');
    // The notice names the number as it was made into twelve digits.
    expect((await panel.textContent())?.replace(/\D/g, '')).toContain(PNR.anna);
    const review = result.getByTestId('review');
    await review.waitFor();
    expect(await review.textContent()).toContain('Anna Andersson');
    expect((await review.locator('[data-field="cardNumber"]').textContent())?.replace(/\D/g, '')).toBe(
      DEMO.annaCard,
    );
    expect(await portal.control('select-order').isEnabled()).toBe(true);

    await fileCase(portal, 'PNR_FORMAT', HSA.admin2, {
      admin1: HSA.admin1,
      recipient: HSA.anna,
      cardNumber: DEMO.annaCard,
    });
  });

  it('NO_ORDER: Nils has no order; admin 1 must register one first', async () => {
    const portal = await loggedIn('NO_ORDER');
    const result = await search(portal, PNR.nils);
    await expectPanel(result, 'NO_ORDER');
    expect(await result.getByTestId('review').count()).toBe(0);

    await fileCase(portal, 'NO_ORDER', HSA.admin2, null);
  });

  it('OWN_ORDER: Admin Två registered Bo’s order and may not complete it', async () => {
    const portal = await loggedIn('OWN_ORDER');
    const result = await search(portal, PNR.bo);
    await expectPanel(result, 'OWN_ORDER');
    expect(await result.getByTestId('review').count()).toBe(0);

    // The case names the order the search explained: Bo's, registered by Admin Två.
    await fileCase(portal, 'OWN_ORDER', HSA.admin2, {
      admin1: HSA.admin2,
      recipient: `${REGION}-p002`,
      cardNumber: '9752278900000000202',
    });
  });

  it('PROTECTED_NEEDS_KUR: Admin Fyra (no KUR) is refused Stina, and the page reveals nothing of her', async () => {
    const portal = await loggedIn('PROTECTED_NEEDS_KUR');
    const result = await search(portal, PNR.stina);
    await expectPanel(result, 'PROTECTED_NEEDS_KUR');
    expect(await result.getByTestId('review').count()).toBe(0);
    const secrets = ['Stina', 'Skyddad', 'p003', 'Barn- och ungdomskliniken', '9752278900000000203'];
    const expectNothingOfStina = async () => {
      const text = await portalText(portal.page);
      for (const secret of secrets) expect(text.replace(/\s/g, '')).not.toContain(secret.replace(/\s/g, ''));
    };
    await expectNothingOfStina();

    const fields = await fileCase(portal, 'PROTECTED_NEEDS_KUR', HSA.admin4, null);
    expect(fields.cardNumber).toBe('–');
    expect(JSON.stringify(fields)).not.toContain('Stina');
    await expectNothingOfStina();
  });

  it('NOT_ELIGIBLE: Samir has a samordningsnummer and cannot get a LoA3 reserve card', async () => {
    const portal = await loggedIn('NOT_ELIGIBLE');
    const result = await search(portal, PNR.samir);
    await expectPanel(result, 'NOT_ELIGIBLE');
    expect(await result.getByTestId('review').count()).toBe(0);

    await fileCase(portal, 'NOT_ELIGIBLE', HSA.admin2, null);
  });

  it('ORDER_EXPIRED: Elsa’s order is past its validity', async () => {
    const portal = await loggedIn('ORDER_EXPIRED');
    const result = await search(portal, PNR.elsa);
    await expectPanel(result, 'ORDER_EXPIRED');
    expect(await result.getByTestId('review').count()).toBe(0);

    await fileCase(portal, 'ORDER_EXPIRED', HSA.admin2, {
      admin1: HSA.admin1,
      recipient: `${REGION}-p006`,
      cardNumber: '9752278900000000204',
    });
  });

  // Last: it uses up Anna's order, which PNR_FORMAT needs open.
  it('ORDER_USED: after Anna’s card is issued and acknowledged, a new search for her says the order is used', async () => {
    const portal = await loggedIn('ORDER_USED');
    const { page } = portal;
    const pins = reservePins(DEMO.annaCard);

    await portal.control('manage-orders').click();
    await portal.atStep(2);
    await page.locator('#order-query').fill(PNR.anna);
    await portal.control('search').click();
    await portal.control('select-order').click();
    await portal.atStep(3);
    await portal.signOrder();
    await portal.insert(DEMO.annaCard, 2);
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    // The box shows what the server recorded, so it is clicked and then watched.
    await page.locator('#accept-terms').click();
    await expect.poll(() => page.locator('#accept-terms').isChecked()).toBe(true);
    await expect.poll(() => portal.control('start-download').isEnabled()).toBe(true);
    await portal.enterPins([pins.pin1, pins.pin2], () => portal.control('start-download').click());
    await portal.atStep(7);
    await portal.enterPins([pins.pin2], () => portal.control('acknowledge').click());
    await page.getByTestId('completed').waitFor();

    await page.locator('[data-action="new-issuance"]').click();
    await portal.atStep(1);
    await expect.poll(() => page.locator('section.issuance').getAttribute('data-status')).toBe('active');
    const result = await search(portal, PNR.anna);
    await expectPanel(result, 'ORDER_USED');
    expect(await result.getByTestId('review').count()).toBe(0);

    await fileCase(portal, 'ORDER_USED', HSA.admin2, {
      admin1: HSA.admin1,
      recipient: HSA.anna,
      cardNumber: DEMO.annaCard,
    });
  }, 120_000);
});
