// What the service desk reads, after a person's ordinary moves: on the login screen reader 2 is
// missing and the station's report is filed before anyone logs in; Admin Två runs into OWN_ORDER on
// Bo Berg's order and reports it; then on Anna's order pulls the reserve card during step 6
// (CARD_REMOVED_DURING_DOWNLOAD), restarts, gets as far as step 7 and lets the acknowledgement time
// run out (ACK_TIMEOUT), and reports that. Servicedesk Sara finds the case in the queue by the card
// number under the id the reporter was shown, sorts the queue, and reads the case: the timeline in
// words, the attempt before the restart with its code, the certificates in full, revoked now.
// Swedish first, then the same pages in English.
import { join } from 'node:path';
import { CATALOGUES, formatCardNumber, luhnCheckDigit, parseCardNumber } from '@reservkort/domain';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TIMELINE_TEXTS } from '../packages/web/src/i18n/timeline-texts.js';
import { UI_TEXTS } from '../packages/web/src/i18n/ui-texts.js';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, queueHeadings, reservePins, WAIT } from './support/portal-page.js';

const ANNA = {
  pnr: `19850412987${luhnCheckDigit('850412987')}`,
  hsaId: 'SE2321000016-p001',
  card: DEMO.annaCard,
  admin1: 'SE2321000016-ad01',
};
/** Bo Berg's order was registered by Admin Två: Admin Två searching for him gets OWN_ORDER. */
const BO = {
  pnr: `19790923988${luhnCheckDigit('790923988')}`,
  hsaId: 'SE2321000016-p002',
  card: '9752278900000000202',
};
const ADMIN_TVA = 'SE2321000016-ad02';
const sv = UI_TEXTS.sv;
const en = UI_TEXTS.en;

const grouped = (card: string): string => {
  const parsed = parseCardNumber(card);
  if (!parsed.ok) throw new Error(`not a card number: ${card}`);
  return formatCardNumber(parsed.value);
};

/** No sentence of a timeline shows a detail's key, an event's key or a millisecond time. */
const expectProse = async (timeline: Locator) => {
  const sentences = await timeline.locator('.timeline-event').allTextContents();
  expect(sentences.length).toBeGreaterThan(5);
  for (const sentence of sentences) {
    expect(sentence).not.toMatch(/\b(reader[12]|card[12]|deadline|removedAt|cardNumber)\s*:/);
    expect(sentence).not.toMatch(/\b1\d{12}\b/);
    expect(sentence).not.toMatch(/\b(flow-started|card-removed|card-inserted|certificates-written)\b/);
    expect(sentence).not.toMatch(/[{}]|\b(true|false|undefined)\b/);
  }
  return sentences;
};

/** The queue's case ids, top to bottom. */
const rowIds = (page: Page) =>
  page
    .getByTestId('queue')
    .locator('tbody tr')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-case') ?? ''));

/** Waits for the queue's next answer from the server while `act` changes what it asks. */
const queueAnswer = async (page: Page, act: () => Promise<void>): Promise<URL> => {
  const answered = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/api/support/cases' && r.request().method() === 'GET',
  );
  await act();
  return new URL((await answered).url());
};

describe('the service desk reads a case that covers the order', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('READERS_MISSING before login, OWN_ORDER and a restarted issuance are reported; Sara searches, sorts and reads them in Swedish and English', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    const pins = reservePins(ANNA.card);

    // READERS_MISSING on the login screen: no one logged in, yet "Skicka felanmälan" files a case
    // with what the card station signs: its agent's version, its readers.
    await portal.insert(DEMO.admin2.card, 1);
    await portal.unplug(2);
    await page.locator('#readers-missing').waitFor(WAIT);
    const unplugged = await portal.fileSupportCase('Reader 2 is not found.');
    expect(unplugged.fields.codes).toBe('READERS_MISSING');
    expect(unplugged.fields.agent).toMatch(/^\d+\.\d+\.\d+ \(.+\)$/);
    expect(unplugged.fields.twoReaders).toBe(sv.support.no);
    expect(unplugged.fields.admin2).toBe('–');
    await portal.plug(2);

    // OWN_ORDER: the case names admin 1, the recipient and the card of the order the search explained.
    await portal.loginAs(DEMO.admin2.card);
    await portal.atStep(1);
    await portal.control('manage-orders').click();
    await portal.atStep(2);
    await page.locator('#order-query').fill(BO.pnr);
    await portal.control('search').click();
    await page.locator('.error-panel[data-code="OWN_ORDER"]').waitFor(WAIT);
    const own = await portal.fileSupportCase('Bo Berg: my own order.');
    expect(own.fields.admin1).toBe(ADMIN_TVA);
    expect(own.fields.recipient).toBe(BO.hsaId);
    expect(own.fields.cardNumber).toBe(grouped(BO.card));

    // Anna's order in the same flow; the reserve card is pulled while its keys are made.
    await page.locator('#order-query').fill(ANNA.pnr);
    await portal.control('search').click();
    await portal.control('select-order').click();
    await portal.atStep(3);
    await portal.signOrder();
    await portal.insert(ANNA.card, 2);
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    const dialog = await portal.pullCardDuringDownload(pins.pin1);
    const pulled = page.locator('section.issuance .error-panel[data-code="CARD_REMOVED_DURING_DOWNLOAD"]');
    await dialog.close();
    // Back in reader 2, the card is cleaned of the attempt's keys; then "Starta om utgivningen".
    await portal.enterPins([pins.pin1], () => portal.insert(ANNA.card, 2));
    const before = await page.locator('section.issuance').getAttribute('data-flow');
    await pulled.locator('[data-remedy="restart"]').click();
    await expect
      .poll(() => page.locator('section.issuance').getAttribute('data-flow'), WAIT)
      .not.toBe(before);

    // The second attempt reaches step 7; the acknowledgement time runs out: ACK_TIMEOUT, certificates revoked.
    await portal.toReview(ANNA.pnr);
    await portal.signOrder();
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    await portal.acceptTerms();
    await portal.enterPins([pins.pin1, pins.pin2], () => portal.control('start-download').click());
    await portal.atStep(7);
    await page.locator('[data-action="jump-to-deadline"]').click();
    await page.locator('section.issuance .error-panel[data-code="ACK_TIMEOUT"]').waitFor(WAIT);

    // The reporter's dialog: both attempts' codes, the earlier attempt, the timeline in words.
    await page.locator('button[data-control="send-support-case"]').first().click();
    const reporterDialog = page.locator('.support-dialog');
    await reporterDialog.getByTestId('case-fields').waitFor();
    const codes = (await reporterDialog.locator('[data-field="codes"]').textContent()) ?? '';
    expect(codes.split(', ')).toEqual(
      expect.arrayContaining(['CARD_REMOVED_DURING_DOWNLOAD', 'ACK_TIMEOUT']),
    );
    const earlier = reporterDialog.locator('.case-attempts > ol > li');
    expect(await earlier.count()).toBe(1);
    expect(await earlier.locator('a.code-chip').allTextContents()).toContain('CARD_REMOVED_DURING_DOWNLOAD');
    const reporterLines = await expectProse(reporterDialog.locator('ol.timeline'));
    expect(reporterLines.some((line) => /^Tiden för att kvittera kortet gick ut\./.test(line))).toBe(true);
    // A tall window, so the dialog shows the whole timeline at once.
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 1280, height: 2600 });
    await reporterDialog
      .locator('ol.timeline')
      .screenshot({ path: join(SCREENSHOTS, 'desk-view-reporter-timeline-sv.png') });
    if (viewport) await page.setViewportSize(viewport);
    await page.locator('#support-comment').fill('Second attempt: the recipient left before acknowledging.');
    await page.locator('[data-action="send-case"]').click();
    const sent = reporterDialog.locator('[data-case-id]');
    await sent.waitFor();
    const caseId = (await sent.getAttribute('data-case-id')) ?? '';
    // The reporter is told the whole id: the very id the queue shows.
    expect(await sent.textContent()).toContain(caseId);
    await reporterDialog.locator('button', { hasText: sv.support.cancel }).click();
    await page.locator('[data-action="logout"]').click();
    await page.locator('[data-control="login"]').waitFor();

    // Sara: the queue, with the same case id, searched by the card number as printed on the card.
    await portal.loginAs(DEMO.sara.card);
    const queue = page.getByTestId('queue');
    const row = queue.locator(`tr[data-case="${caseId}"]`);
    await row.waitFor(WAIT);
    expect(await queue.locator('thead th').allTextContents()).toEqual(queueHeadings(sv));
    const cells = await row.locator('td').allTextContents();
    expect(cells[0]).toBe(caseId);
    expect(cells[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(cells.slice(2, 5)).toEqual([ADMIN_TVA, ANNA.hsaId, grouped(ANNA.card)]);
    expect(await row.locator('td.codes > span').allTextContents()).toEqual([
      'OWN_ORDER',
      'CARD_REMOVED_DURING_DOWNLOAD',
      'ACK_TIMEOUT',
    ]);
    const searched = await queueAnswer(page, async () => {
      await page.locator('#queue-search').fill(grouped(ANNA.card));
      await page.locator('[data-action="search-queue"]').click();
    });
    expect(searched.searchParams.get('q')).toBe(grouped(ANNA.card));
    await expect.poll(() => rowIds(page), WAIT).toEqual([caseId]);
    await queueAnswer(page, async () => {
      await page.locator('#queue-search').fill('');
      await page.locator('[data-action="search-queue"]').click();
    });
    await expect.poll(async () => (await rowIds(page)).length, WAIT).toBeGreaterThan(1);
    // Sorted by card number, ascending: Anna's card (…201) before Bo's (…202), on the server.
    const sorted = await queueAnswer(page, () =>
      queue.locator('th[data-column="cardNumber"] button').click(),
    );
    expect([sorted.searchParams.get('sort'), sorted.searchParams.get('direction')]).toEqual([
      'cardNumber',
      'asc',
    ]);
    await expect.poll(() => rowIds(page), WAIT).toEqual(expect.arrayContaining([caseId, own.caseId]));
    const order = await rowIds(page);
    expect(order.indexOf(caseId)).toBeLessThan(order.indexOf(own.caseId));
    expect(await queue.locator('th[data-column="cardNumber"]').getAttribute('aria-sort')).toBe('ascending');
    await page
      .locator('section.service-desk')
      .screenshot({ path: join(SCREENSHOTS, 'desk-view-queue-sv.png') });

    // The case filed before login, reported by the card station.
    const stationRow = queue.locator(`tr[data-case="${unplugged.caseId}"]`);
    expect((await stationRow.locator('td').allTextContents())[2]).toMatch(
      /^Kortstation st-\S+ \(före inloggning\)$/,
    );
    expect(await stationRow.locator('td.codes > span').allTextContents()).toEqual(['READERS_MISSING']);

    // The case page: the full id, every code, the certificates in full and revoked now.
    await row.locator('a').click();
    const view = page.locator(`.case-view[data-case="${caseId}"]`);
    await view.waitFor(WAIT);
    expect(await view.locator('h2').textContent()).toContain(caseId);
    const certificates = view.locator('[data-field="certificates"] li');
    expect(await certificates.count()).toBe(2);
    for (const certificate of await certificates.all()) {
      const text = (await certificate.textContent()) ?? '';
      for (const label of ['issuer', 'serial', 'validity', 'keyUsage', 'policy'] as const)
        expect(text).toContain(`${sv.support.certificate[label]}:`);
      expect(await certificate.locator('.certificate-status').getAttribute('data-status')).toBe('revoked');
      expect(text).toContain(`${sv.support.certificate.statusNow}: Spärrat`);
    }
    // The timeline in words: the reserve card, whose it is, and the deadline as a local time.
    const timeline = view.locator('ol.timeline').first();
    const lines = await expectProse(timeline);
    expect(lines).toContain(
      `${TIMELINE_TEXTS.sv.events['flow-started']} Läsare 1: ansluten, med kort, läsare 2: ansluten, med kort.`,
    );
    expect(
      lines.some((line) =>
        /^Certifikaten skrevs till reservkortet\. Kvittera senast \d\d:\d\d\.$/.test(line),
      ),
    ).toBe(true);
    expect(await timeline.locator('.timeline-code-title').allTextContents()).toContain(
      `ACK_TIMEOUT ${CATALOGUES.sv.codes.ACK_TIMEOUT.title}`,
    );
    // The attempt before the restart, its code, and its own timeline: the card pulled from reader 2.
    const attempt = view.locator('.case-attempts > ol > li');
    expect(await attempt.count()).toBe(1);
    expect(await attempt.locator('p').textContent()).toMatch(
      /^Försök 1, påbörjat .* av SE2321000016-ad02: avbrutet, nådde steg 6 \(Hämta nytt certifikat\)\./,
    );
    await attempt.locator('summary').click();
    const attemptLines = await expectProse(attempt.locator('ol.timeline'));
    expect(attemptLines).toContain(
      `Reservkortet ${grouped(ANNA.card)} (till kortmottagaren) togs ut ur läsare 2. Reservkortet rensades.`,
    );
    // The catalogue entries read with the values the codes were raised with: the deadline, not a dash.
    const entries = (await view.locator('.catalogue-entries').textContent()) ?? '';
    expect(entries).toContain('ACK_TIMEOUT');
    expect(entries).not.toMatch(/\s–[.,]/);
    await view.screenshot({ path: join(SCREENSHOTS, 'desk-view-case-sv.png') });
    await timeline.screenshot({ path: join(SCREENSHOTS, 'desk-view-timeline-sv.png') });

    // The same in English.
    await page.locator('[data-action="language"]').click();
    await expect.poll(() => view.locator('h3').first().textContent(), WAIT).toBe(en.desk.timeline);
    const english = await expectProse(timeline);
    expect(english).toContain(
      `${TIMELINE_TEXTS.en.events['flow-started']} Reader 1: connected, with a card, reader 2: connected, with a card.`,
    );
    expect(await attempt.locator('ol.timeline .timeline-event').allTextContents()).toContain(
      `The reserve card ${grouped(ANNA.card)} (for the recipient) was removed from reader 2. The reserve card was cleaned.`,
    );
    expect(await certificates.first().textContent()).toContain(
      `${en.support.certificate.statusNow}: Revoked`,
    );
    await view.screenshot({ path: join(SCREENSHOTS, 'desk-view-case-en.png') });
    await timeline.screenshot({ path: join(SCREENSHOTS, 'desk-view-timeline-en.png') });
    await view.locator('a[href="#/desk"]').click();
    await queue.waitFor(WAIT);
    await expect
      .poll(() => queue.locator('thead th').first().textContent(), WAIT)
      .toBe(en.desk.case.replace(' {id}', ''));
    await row.waitFor(WAIT);
    await page
      .locator('section.service-desk')
      .screenshot({ path: join(SCREENSHOTS, 'desk-view-queue-en.png') });

    // The OWN_ORDER case on the desk's page: admin 1, recipient and card number filled in.
    await queue.locator(`tr[data-case="${own.caseId}"] a`).click();
    const ownView = page.locator(`.case-view[data-case="${own.caseId}"]`);
    await ownView.waitFor(WAIT);
    const fields = await ownView.locator('dl.case-fields').textContent();
    expect(fields).toContain(BO.hsaId);
    expect(fields).toContain(grouped(BO.card));
    // Bo's card as the training station's stock has it: its product and last physical day.
    expect(fields).toMatch(
      /(Kortprodukt|Card product) 573, (fysiskt giltigt till och med|physically usable through) \d{4}-\d\d-\d\d/,
    );
  }, 180_000);
});
