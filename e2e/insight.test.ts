// "Insikter" as the service desk and an administrator read it. Three flows are made over HTTP on the
// training server first, as the page makes them: Anna's reserve card issued and acknowledged (Admin
// Fyra, completed), Admin Två searching for Bo Berg's order (OWN_ORDER, his own) and Admin Fyra
// searching for Elsa's expired order (ORDER_EXPIRED). Sara of the service desk reads the figures as
// tables and as charts, follows a number and a bar to the flows behind them, narrows by code in a
// link that reproduces the view, and downloads the CSV; Admin Ett, with roles in one hospital only,
// sees that branch's flows and no others.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CATALOGUES, type CardNumber, luhnCheckDigit } from '@reservkort/domain';
import type { AxeResults } from 'axe-core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INSIGHT_TEXTS } from '../packages/web/src/i18n/insight-texts.js';
import { UI_TEXTS } from '../packages/web/src/i18n/ui-texts.js';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { HttpPortal } from './support/http-portal.js';
import { DEMO, PortalPage, WAIT } from './support/portal-page.js';
import { setLanguage } from './support/screen-checks.js';
import { issueOverHttp } from './support/training-issuance.js';

const pnr = (born: string, birthNumber: string) =>
  `${born}${birthNumber}${luhnCheckDigit(`${born.slice(2)}${birthNumber}`)}`;
const ANNA_PNR = pnr('19850412', '987');
const BO_PNR = pnr('19790923', '988');
const ELSA_PNR = pnr('19920218', '992');

/** Today in Swedish time, as the server counts days and the Swedish page writes them. */
const today = (): string =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm' }).format(new Date());

/**
 * OWN_ORDER and ORDER_EXPIRED at step 2, each in a flow of its own; Admin Två reports OWN_ORDER
 * ("Skicka felanmälan") and Sara resolves that case. Returns the case's id.
 */
const searchFlows = async (h: BrowserHarness): Promise<string> => {
  const p = new HttpPortal(h.server.url, h.server.agentUrl ?? '', h.url);
  await p.connect('virtual');
  let caseId = '';
  try {
    await p.trainingCard(2, null);
    for (const [card, query, code] of [
      [DEMO.admin2.card, BO_PNR, 'OWN_ORDER'],
      [DEMO.admin4.card, ELSA_PNR, 'ORDER_EXPIRED'],
    ] as const) {
      await p.trainingCard(1, card as CardNumber);
      await p.login(DEMO.adminPins.pin1);
      await p.start();
      await p.action('manage-orders');
      expect((await p.search(query)).raised).toEqual([code]);
      if (code === 'OWN_ORDER') {
        const filed = await p.api('POST', '/api/support/cases', {
          flowId: p.flow.view.flowId,
          comment: 'Bo Berg: my own order.',
        });
        caseId = filed.id;
      }
      await p.logout();
    }
    await p.trainingCard(1, DEMO.sara.card as CardNumber);
    await p.login(DEMO.adminPins.pin1);
    expect((await p.api('POST', `/api/support/cases/${caseId}/resolve`)).status).toBe('resolved');
    await p.logout();
    await p.trainingCard(1, null);
  } finally {
    p.close();
  }
  return caseId;
};

/** A figure's table as text: each row's header cells then its data cells. */
const tableOf = (page: Page, figure: string): Promise<string[][]> =>
  page
    .locator(`section[data-figure="${figure}"] table tbody tr`)
    .evaluateAll((rows) =>
      rows.map((row) =>
        Array.from(row.querySelectorAll('th, td'), (cell) => (cell.textContent ?? '').trim()),
      ),
    );

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe (WCAG 2.1 A/AA, serious and critical) and a screenshot of the page's main part, in Swedish and
 * English. axe comes in through the debugging protocol: the page keeps its content security policy,
 * which an injected script tag would break.
 */
const checkInsight = async (page: Page, shot: string): Promise<void> => {
  for (const language of ['sv', 'en'] as const) {
    await setLanguage(page, language);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const { axe } = window as unknown as {
        axe: { run(context: Document, options: object): Promise<AxeResults> };
      };
      const result = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
    });
    expect(violations, `axe on ${shot} (${language})`).toEqual([]);
    await page.locator('main').screenshot({ path: join(SCREENSHOTS, `${shot}-${language}.png`) });
  }
  await setLanguage(page, 'sv');
};

/** A day as the English page writes it: 05/12/2026. */
const enDay = (day: string): string => day.split('-').reverse().join('/');

const openInsight = async (page: Page, query = ''): Promise<void> => {
  await page.evaluate((hash) => {
    window.location.hash = hash;
  }, `#/insight${query}`);
  await page
    .locator('section.insight [data-figure="perDay"], [data-testid="insight-empty"]')
    .first()
    .waitFor(WAIT);
};

describe('the insight page', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  let caseId = '';
  // expect.poll lives in tests only: the flows are made by the first test, the pages read them after.
  it('three flows: one issuance completed, OWN_ORDER (reported, resolved) and ORDER_EXPIRED', async () => {
    await issueOverHttp(h, [{ pnr: ANNA_PNR, card: DEMO.annaCard }]);
    caseId = await searchFlows(h);
    expect(caseId).not.toBe('');
  }, 240_000);

  it('the service desk reads the figures as tables and charts, follows them to their flows, and downloads them', async () => {
    const { page, context } = await h.newPage();
    // The charts draw under the page's content security policy: nothing refused, nothing thrown.
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));
    const portal = new PortalPage(page, context);
    await portal.loginAs(DEMO.sara.card);
    // Close the training panel: the page's own width, as a desk sees it.
    await page.locator('button', { hasText: UI_TEXTS.sv.training.close }).click();
    await page.locator('nav a[href="#/insight"]', { hasText: UI_TEXTS.sv.app.nav.insight }).click();
    await page.locator('section.insight [data-figure="perDay"]').waitFor(WAIT);

    // Table view: the numbers of the three flows.
    await page.locator('[data-action="all-tables"]').click();
    await page.locator('section[data-figure="perDay"][data-view="table"] table').waitFor(WAIT);
    expect(page.url()).toContain('view=table');
    const days = await tableOf(page, 'perDay');
    expect(days.length).toBeGreaterThanOrEqual(28);
    expect(days.find((row) => row[0] === today())).toEqual([today(), '3', '1', '2']);
    expect(await tableOf(page, 'byCode')).toEqual([
      ['ORDER_EXPIRED', CATALOGUES.sv.codes.ORDER_EXPIRED.title, '1'],
      ['OWN_ORDER', CATALOGUES.sv.codes.OWN_ORDER.title, '1'],
    ]);
    expect(await tableOf(page, 'byStep')).toEqual([[`2 – ${CATALOGUES.sv.steps[2]}`, '2']]);
    expect(await tableOf(page, 'byStation')).toEqual([['Övningsstation', '3', '2', '66,7\u00a0%']]);
    expect(await tableOf(page, 'ackTimeout')).toEqual([['1', '0', '0\u00a0%']]);
    // One case resolved, a moment after it was filed.
    expect(await tableOf(page, 'caseResolution')).toEqual([['1', 'under 1 min', 'under 1 min']]);
    for (const table of await page.locator('section.insight-figure table').all()) {
      expect(await table.locator('caption').textContent()).not.toBe('');
      expect(await table.locator('thead th[scope="col"]').count()).toBeGreaterThan(0);
    }
    await checkInsight(page, 'insight-table');

    // A number's link: the flows behind OWN_ORDER, with a link to each one's replay.
    await page
      .locator('section[data-figure="byCode"] tbody tr', { hasText: 'OWN_ORDER' })
      .locator('a')
      .click();
    const list = page.getByTestId('insight-list');
    await list.locator('tbody tr').first().waitFor(WAIT);
    expect(new URL(page.url()).hash).toContain('figure=byCode&key=OWN_ORDER&outcome=failed');
    const flows = list.locator('tbody tr');
    expect(await flows.count()).toBe(1);
    const flowId = (await flows.first().getAttribute('data-flow')) ?? '';
    const cells = await flows.first().locator('th, td').allTextContents();
    expect(cells[0]).toMatch(new RegExp(`^${today()} \\d\\d:\\d\\d:\\d\\d$`));
    expect(cells[2]).toBe('2');
    expect(cells[3]).toContain('OWN_ORDER');
    expect(cells[3]).toContain(CATALOGUES.sv.codes.OWN_ORDER.title);
    expect(cells[4]).toBe('Övningsstation');
    expect(await flows.first().locator(`a[href="#/replay/flow/${flowId}"]`).count()).toBe(1);
    expect(await flows.first().locator(`a[href="#/desk/${caseId}"]`).textContent()).toBe(`Ärende ${caseId}`);
    await checkInsight(page, 'insight-flows');
    // The resolved cases behind the resolution times, each linked to the service desk.
    await page.locator('section[data-figure="caseResolution"] tbody a').click();
    await list.getByTestId('insight-cases').waitFor(WAIT);
    expect(await list.locator(`tbody tr[data-case="${caseId}"] a[href="#/desk/${caseId}"]`).count()).toBe(1);
    expect(await list.locator('tbody tr td').last().textContent()).toContain('OWN_ORDER');
    await list.locator('[data-action="close-list"]').click();
    await expect.poll(() => list.count(), WAIT).toBe(0);

    // Chart view: every figure with numbers is a chart with a name and a summary sentence.
    await page.locator('[data-action="all-tables"]').click();
    await page.locator('section[data-figure="byCode"] .insight-plot canvas').waitFor(WAIT);
    const charts = page.locator('section.insight-figure[data-view="chart"] [role="img"]');
    expect(await charts.count()).toBe(7);
    for (const chart of await charts.all()) {
      expect(await chart.getAttribute('aria-label')).toMatch(/^Diagram: /);
      const summary = await chart.getAttribute('aria-describedby');
      expect((await page.locator(`[id="${summary}"]`).textContent())?.length).toBeGreaterThan(10);
    }
    await checkInsight(page, 'insight');

    // A bar: the first of byCode (ORDER_EXPIRED) opens its flows.
    const over = page.locator('section[data-figure="byCode"] .u-over');
    const box = await over.boundingBox();
    if (box === null) throw new Error('no chart');
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height - 4);
    await page.mouse.click(box.x + box.width * 0.25, box.y + box.height - 4);
    await expect.poll(() => new URL(page.url()).hash, WAIT).toContain('figure=byCode&key=ORDER_EXPIRED');
    await list.locator('tbody tr').first().waitFor(WAIT);
    expect(await list.locator('tbody tr').count()).toBe(1);
    expect(await list.locator('tbody tr td').nth(2).textContent()).toContain('ORDER_EXPIRED');

    // A code as filter: in the address, so a link (here: a reload) reproduces the view.
    await page.locator('#insight-code').selectOption('OWN_ORDER');
    await page.locator('[data-action="apply-insight"]').click();
    await expect.poll(() => new URL(page.url()).hash, WAIT).toContain('code=OWN_ORDER');
    expect(new URL(page.url()).hash).not.toContain('figure=');
    await page.reload();
    await page.locator('section.insight [data-figure="perDay"]').waitFor(WAIT);
    expect(await page.locator('#insight-code').inputValue()).toBe('OWN_ORDER');
    await page.locator('[data-action="all-tables"]').click();
    await page.locator('section[data-figure="byCode"] table').waitFor(WAIT);
    expect(await tableOf(page, 'byCode')).toEqual([['OWN_ORDER', CATALOGUES.sv.codes.OWN_ORDER.title, '1']]);
    expect((await tableOf(page, 'perDay')).find((row) => row[0] === today())).toEqual([
      today(),
      '3',
      '1',
      '1',
    ]);

    // CSV: the numbers shown, with the filter.
    const download = page.waitForEvent('download');
    await page.locator('[data-action="export-csv"]').click();
    const file = await (await download).path();
    const csv = (await readFile(file, 'utf8')).split('\r\n');
    expect(csv[0]).toBe('figure,key,label,started,completed,failed,flows,rate,medianMs,p90Ms');
    expect(csv).toContain('filter,code,OWN_ORDER,,,,,,,');
    expect(csv).toContain(`perDay,${today()},,3,1,1,,,,`);
    expect(csv).toContain('byCode,OWN_ORDER,,,,,1,,,');
    expect(csv).toContain('ackTimeout,,,,,0,1,0,,');
    expect(errors).toEqual([]);
    await context.close();
  }, 300_000);

  it('an administrator sees the flows of the branches they have a role in, and nothing of others', async () => {
    const { page, context } = await h.newPage({ language: 'en' });
    const portal = new PortalPage(page, context);
    // Admin Ett: roles in Centrallasarettet, where the training station stands and Anna works.
    // Logged in on the insight page, so no issuance flow is started for the login.
    await page.evaluate(() => {
      window.location.hash = '#/insight?view=table';
    });
    await portal.loginAs(DEMO.admin1.card);
    await openInsight(page, '?view=table');
    const branches = await page.locator('#insight-branch option').allTextContents();
    expect(branches).toEqual(expect.arrayContaining(['Centrallasarettet', 'Akutkliniken']));
    expect(branches).not.toContain('Medicinkliniken');
    expect(branches).not.toContain('Region Exempel');
    expect((await tableOf(page, 'perDay')).find((row) => row[0] === enDay(today()))).toEqual([
      enDay(today()),
      '3',
      '1',
      '2',
    ]);
    expect((await tableOf(page, 'byCode')).map((row) => row[0])).toEqual(['ORDER_EXPIRED', 'OWN_ORDER']);

    // Admin Tre: a role at the other care provider only; none of these flows are theirs.
    await page.locator('[data-action="logout"]').click();
    await page.evaluate(() => {
      window.location.hash = '#/insight';
    });
    await portal.loginAs(DEMO.admin3.card);
    await openInsight(page);
    const empty = page.getByTestId('insight-empty');
    await empty.waitFor(WAIT);
    expect(await empty.textContent()).toMatch(/^No issuance flows started in the period /);
    expect(await page.locator('section.insight-figure, section.insight canvas').count()).toBe(0);
    expect(await page.locator('#insight-branch option').allTextContents()).toEqual([
      INSIGHT_TEXTS.en.all,
      'Privatkliniken Söder',
      'Vårdbolaget Annan AB',
    ]);
    await checkInsight(page, 'insight-empty');
    await context.close();
  }, 180_000);
});
