// The support case from end to end in a real browser: an administrator runs into NO_ORDER and
// sends "Skicka felanmälan"; Sara Servicedesk finds the case in the queue, reads the SPEC §5
// fields, the timeline drawn as a time line and the catalogue entry, then assigns, comments and
// resolves it; the queue's status filter shows each case where it belongs.
import { CATALOGUES, describeError, luhnCheckDigit } from '@reservkort/domain';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_TEXTS } from '../packages/web/src/i18n/ui-texts.js';
import { type BrowserHarness, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, queueHeadings } from './support/portal-page.js';

/** Nils Utanorder (Medicinkliniken) has no order: searching for him raises NO_ORDER. */
const NILS_PNR = `19670130991${luhnCheckDigit('670130991')}`;
const ADMIN_TVA_HSA = 'SE2321000016-ad02';
const SARA_HSA = 'SE2321000016-sd01';
const sv = UI_TEXTS.sv;
/** Polls wait this long: the machine may be busy with other browsers. */
const POLL = { timeout: 10_000 } as const;

/** A `dl` as label → value, the texts as shown. */
const definitions = async (page: Page, selector: string): Promise<Record<string, string>> =>
  page.locator(selector).evaluate((list) => {
    const shown: Record<string, string> = {};
    for (const term of Array.from(list.querySelectorAll(':scope > dt'))) {
      const value = term.nextElementSibling;
      if (value?.tagName === 'DD') shown[(term.textContent ?? '').trim()] = (value.textContent ?? '').trim();
    }
    return shown;
  });

describe('the service desk works a support case', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('an admin files NO_ORDER; Sara finds it, reads it, assigns, comments, resolves; the filter sorts the queue', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);

    // Admin Två logs in, puts the spare reserve card in reader 2 (a card event for the timeline)
    // and searches for Nils: NO_ORDER, with "Skicka felanmälan" on the error panel.
    await portal.insert(DEMO.admin2.card, 1);
    await portal.login();
    await portal.atStep(1);
    await portal.control('manage-orders').click();
    await portal.atStep(2);
    await portal.insert(DEMO.spareCard, 2);
    await page.locator('#order-query').fill(NILS_PNR);
    await portal.control('search').click();
    await page.locator('.error-panel[data-code="NO_ORDER"]').waitFor();
    const filed = await portal.fileSupportCase('Nils says his order was registered yesterday.');
    expect(filed.fields.admin2).toBe(ADMIN_TVA_HSA);
    expect(filed.fields.codes).toContain('NO_ORDER');
    // A second case on the same flow stays open while the first is resolved: the filter tells them apart.
    const second = await portal.fileSupportCase('Second report of the same search.');
    expect(second.caseId).not.toBe(filed.caseId);
    await page.locator('[data-action="logout"]').click();
    await page.locator('[data-control="login"]').waitFor();

    // Sara Servicedesk logs in with her card: the queue is her start page.
    await portal.insert(DEMO.sara.card, 1);
    await portal.login(DEMO.adminPins.pin1);
    const queue = page.getByTestId('queue');
    const row = queue.locator(`tr[data-case="${filed.caseId}"]`);
    await row.waitFor();
    expect(await queue.locator(`tr[data-case="${second.caseId}"]`).count()).toBe(1);
    expect(await queue.locator('thead th').allTextContents()).toEqual(queueHeadings(sv));
    const cells = await row.locator('td').allTextContents();
    // The whole id, as the reporter was told it.
    expect(cells[0]).toBe(filed.caseId);
    expect(cells[2]).toBe(ADMIN_TVA_HSA);
    expect(await row.locator('td.codes > span').allTextContents()).toEqual(['NO_ORDER']);
    expect(cells[6]).toBe(sv.desk.status.open);
    expect(cells[7]).toBe('–');

    // The case: SPEC §5's fields as the admin's dialog showed them, and who reported it when.
    await row.locator('a').click();
    const view = page.locator(`.case-view[data-case="${filed.caseId}"]`);
    await view.waitFor();
    expect(await view.getAttribute('data-status')).toBe('open');
    const fields = await definitions(page, '.case-view dl.case-fields');
    expect(fields[sv.desk.reportedBy]).toContain(ADMIN_TVA_HSA);
    expect(fields[sv.desk.assignee]).toBe('–');
    expect(fields[sv.support.admin1]).toBe(filed.fields.admin1);
    expect(fields[sv.support.admin2]).toBe(ADMIN_TVA_HSA);
    expect(fields[sv.support.recipient]).toBe(filed.fields.recipient);
    expect(fields[sv.support.cardNumber]).toBe(filed.fields.cardNumber);
    // NO_ORDER: no order, so no card whose product and physical expiry the stock could name.
    expect(fields[sv.support.cardStockLabel]).toBe('–');
    expect(fields[sv.support.agent]).toBe(filed.fields.agent);
    expect(fields[sv.support.agent]).toMatch(/^\d+\.\d+\.\d+ \(.+\)$/);
    expect(fields[sv.support.twoReaders]).toBe(sv.support.yes);
    expect(fields[sv.support.certificates]).toBe(sv.support.noCertificates);
    expect(fields[sv.desk.reporterComment]).toBe('Nils says his order was registered yesterday.');

    // The timeline drawn as a time line: steps, the card put in reader 2, the code as a chip.
    const timeline = view.locator('ol.timeline');
    const entries = timeline.locator('li');
    expect(await entries.count()).toBe(Number(filed.fields.timeline));
    expect(await entries.first().locator('time').textContent()).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(await timeline.locator('li.timeline-step').count()).toBeGreaterThan(0);
    expect(await timeline.locator('.timeline-step').allTextContents()).toContain(
      `2. ${CATALOGUES.sv.steps[2]}`,
    );
    const cardEvent = timeline.locator('li.timeline-reader[data-event="card-inserted"]');
    expect(await cardEvent.count()).toBeGreaterThan(0);
    const coded = timeline.locator('li.timeline-code');
    expect(await coded.locator('a.code-chip').allTextContents()).toContain('NO_ORDER');
    expect(await coded.locator('a.code-chip', { hasText: 'NO_ORDER' }).first().getAttribute('href')).toBe(
      '#/catalogue/NO_ORDER',
    );
    // The line and its dots are drawn: a border on the list, a dot before each entry.
    expect(await timeline.evaluate((list) => getComputedStyle(list).borderLeftStyle)).toBe('solid');
    expect(await coded.first().evaluate((entry) => getComputedStyle(entry, '::before').borderRadius)).toBe(
      '50%',
    );

    // The catalogue entry for the code.
    const described = describeError({ code: 'NO_ORDER' }, 'sv');
    const entry = view.locator('.catalogue-entries #entry-NO_ORDER');
    expect(await entry.locator('dt').textContent()).toContain(described.title);
    expect(await entry.locator('dd').textContent()).toContain(described.explanation);

    // Assign to herself, comment, resolve.
    await view.locator('[data-action="assign"]').click();
    await page.locator('.case-view[data-status="assigned"]').waitFor();
    expect((await definitions(page, '.case-view dl.case-fields'))[sv.desk.assignee]).toContain(SARA_HSA);
    expect(await view.locator('[data-action="assign"]').isDisabled()).toBe(true);

    expect(await view.locator('[data-action="comment"]').isDisabled()).toBe(true);
    await page.locator('#case-comment').fill('Checked the directory: no order was ever registered.');
    await view.locator('[data-action="comment"]').click();
    await view.locator('.comments li', { hasText: 'no order was ever registered' }).waitFor();
    expect(await view.locator('.comments li').first().textContent()).toContain(SARA_HSA);
    expect(await page.locator('#case-comment').inputValue()).toBe('');

    await view.locator('[data-action="resolve"]').click();
    await page.locator('.case-view[data-status="resolved"]').waitFor();
    expect(await view.locator('[data-action="resolve"]').isDisabled()).toBe(true);
    expect(await view.locator('h2').textContent()).toContain(sv.desk.status.resolved);

    // Back in the queue, the status filter.
    await view.locator('a[href="#/desk"]').click();
    await row.waitFor();
    // The queue is read again on the way back: its row shows the new status once that answer is in.
    await expect
      .poll(async () => (await row.locator('td').allTextContents())[6], { timeout: 15_000 })
      .toBe(sv.desk.status.resolved);
    const filter = page.locator('#status-filter');
    const rowIds = () =>
      queue.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-case') ?? ''));
    /** Picks a status; the server answers the filtered list, and the table shows that list. */
    const shownCases = async (status: 'all' | 'open' | 'assigned' | 'resolved'): Promise<string[]> => {
      const answered = page.waitForResponse(
        (r) => new URL(r.url()).pathname === '/api/support/cases' && r.request().method() === 'GET',
      );
      await filter.selectOption(status);
      const response = await answered;
      expect(new URL(response.url()).searchParams.get('status')).toBe(status === 'all' ? null : status);
      const { cases } = (await response.json()) as { cases: { id: string; status: string }[] };
      if (status !== 'all') expect(cases.every((c) => c.status === status)).toBe(true);
      const ids = cases.map((c) => c.id);
      await expect.poll(rowIds, POLL).toEqual(ids);
      return ids;
    };
    const resolved = await shownCases('resolved');
    expect(resolved).toContain(filed.caseId);
    expect(resolved).not.toContain(second.caseId);
    const open = await shownCases('open');
    expect(open).toContain(second.caseId);
    expect(open).not.toContain(filed.caseId);
    const assigned = await shownCases('assigned');
    expect(assigned).not.toContain(filed.caseId);
    expect(assigned).not.toContain(second.caseId);
    const all = await shownCases('all');
    expect(all).toEqual(expect.arrayContaining([filed.caseId, second.caseId]));
  }, 120_000);
});
