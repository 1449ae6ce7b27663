// "Spela upp": Admin Två pulls the reserve card during step 6 (CARD_REMOVED_DURING_DOWNLOAD) and
// reports it, restarts, and at step 4 unplugs reader 2 and plugs it back (ONE_READER_USED) and
// reports that too, then replays the own flow. Servicedesk Sara opens both cases and replays them:
// stepping frame by frame, with the slider and with play, the step bar, both readers with whose card
// is where, step 6's PIN dialogs and the error panel read as they stood. Swedish, then English.
import { join } from 'node:path';
import { CATALOGUES, luhnCheckDigit, type ReplayFrame } from '@reservkort/domain';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UI_TEXTS } from '../packages/web/src/i18n/ui-texts.js';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, reservePins, WAIT } from './support/portal-page.js';
import { checkScreen } from './support/screen-checks.js';

const ANNA = { pnr: `19850412987${luhnCheckDigit('850412987')}`, card: DEMO.annaCard };
const sv = UI_TEXTS.sv;
const en = UI_TEXTS.en;

/** The replay's frames as the server answers them to this page's session. */
const framesOf = (page: Page, path: string): Promise<ReplayFrame[]> =>
  page.evaluate(async (url) => {
    const response = await fetch(url, { credentials: 'same-origin' });
    return ((await response.json()) as { frames: ReplayFrame[] }).frames;
  }, path);

/** What the replay shows at its current frame. */
const shownFrame = async (replay: Locator) => {
  const readers = replay.getByTestId('replay-readers');
  const slot = (n: 1 | 2) => readers.locator(`.reader-slots [data-reader="${n}"]`);
  const reader = async (n: 1 | 2) => ({
    connected: (await slot(n).getAttribute('class')) === 'connected',
    card: (await slot(n).locator('[data-card]').getAttribute('data-card')) ?? '',
    holder: ((await slot(n).locator('.holder').allTextContents())[0] ?? '').replace(/^ – /, ''),
  });
  return {
    frame: Number(await replay.getAttribute('data-frame')),
    event: await replay.getByTestId('replay-sentence').getAttribute('data-event'),
    step: await replay.locator('.step-progress li[aria-current="step"] .number').allTextContents(),
    scene: await replay.locator('.replay-screen').getAttribute('data-scene'),
    codes: await replay
      .locator('.replay-main .error-panel')
      .evaluateAll((panels) => panels.map((panel) => panel.getAttribute('data-code'))),
    reader1: await reader(1),
    reader2: await reader(2),
  };
};

/** Presses "Nästa händelse" until the frame of `event` (the `nth` one from here) is shown. */
const stepTo = async (replay: Locator, event: string, frames: readonly ReplayFrame[], from: number) => {
  const target = frames.findIndex((frame, index) => index >= from && frame.event === event);
  expect(target, `no ${event} after frame ${from}`).toBeGreaterThanOrEqual(0);
  for (let index = Number(await replay.getAttribute('data-frame')); index < target; index++) {
    await replay.locator('[data-action="replay-next"]').click();
    await expect.poll(() => replay.getAttribute('data-frame'), WAIT).toBe(String(index + 1));
    // The counter follows every step.
    expect(await replay.getByTestId('replay-counter').textContent()).toBe(
      `Händelse ${index + 2} av ${frames.length}`,
    );
  }
  return target;
};

const stockholm = (at: number) =>
  `${new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(at))} kl. ${new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Stockholm', hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(new Date(at))} (svensk tid)`;

describe('Spela upp: a case and a flow played back in the screens the administrator saw', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('replays CARD_REMOVED_DURING_DOWNLOAD and ONE_READER_USED for the desk, and the own flow for its administrator', async () => {
    // axe goes in as a script tag, which the portal's content security policy refuses: this test
    // profile alone bypasses it.
    const context = await h.browser.newContext({ bypassCSP: true, locale: 'sv-SE' });
    await context.addInitScript(() => localStorage.setItem('reservkort.language', 'sv'));
    const page = await context.newPage();
    await page.goto(h.url);
    const portal = new PortalPage(page, context);
    const pins = reservePins(ANNA.card);
    const issuance = page.locator('section.issuance');

    // Admin Två: the reserve card is pulled while its keys are made, after the PIN 1 dialog.
    await portal.loginAs(DEMO.admin2.card);
    await portal.toReview(ANNA.pnr);
    await portal.signOrder();
    await portal.handOver(ANNA.card);
    const dialog = await portal.pullCardDuringDownload(pins.pin1, { row: 1, state: 'done' });
    const pulled = issuance.locator('.error-panel[data-code="CARD_REMOVED_DURING_DOWNLOAD"]');
    await dialog.close();
    const removedCase = await portal.fileSupportCase('Kortet drogs ut under nedladdningen.');
    // Back in reader 2 the card is cleaned; then "Starta om utgivningen".
    await portal.enterPins([pins.pin1], () => portal.insert(ANNA.card, 2));
    const firstFlow = await issuance.getAttribute('data-flow');
    await pulled.locator('[data-remedy="restart"]').click();
    await expect.poll(() => issuance.getAttribute('data-flow'), WAIT).not.toBe(firstFlow);

    // The second attempt: at step 4 reader 2 is unplugged and plugged back: ONE_READER_USED.
    await portal.toReview(ANNA.pnr);
    await portal.signOrder();
    await portal.unplug(2);
    await portal.plug(2);
    await issuance.locator('.error-panel[data-code="ONE_READER_USED"]').waitFor(WAIT);
    const oneReaderCase = await portal.fileSupportCase('En läsare kopplades ur.');
    const secondFlow = (await issuance.getAttribute('data-flow')) ?? '';

    // (3) Admin Två replays the own flow from the issuance page: its screens, not the live readers.
    await issuance.locator('a[data-action="replay"]').click();
    const own = page.locator(`section.replay[data-kind="flow"][data-replay="${secondFlow}"]`);
    await own.waitFor(WAIT);
    expect(await page.locator('aside.readers-panel[aria-labelledby="readers-title"]').count()).toBe(0);
    const ownFrames = await framesOf(page, `/api/flows/${secondFlow}/replay`);
    expect(ownFrames.every((frame) => frame.scene !== null)).toBe(true);
    await own.locator('[data-action="replay-slider"]').fill(String(ownFrames.length - 1));
    const ownLast = await shownFrame(own);
    expect(ownLast).toMatchObject({
      frame: ownFrames.length - 1,
      event: 'reader-plugged',
      step: ['4'],
      scene: 'recorded',
      codes: ['ONE_READER_USED'],
      reader1: { connected: true, card: DEMO.admin2.card, holder: sv.replay.roles.admin },
      reader2: { connected: true, card: '', holder: '' },
    });
    // Read-only: no button of the error panel acts.
    expect(await own.locator('.error-panel button').count()).toBe(0);
    await own.screenshot({ path: join(SCREENSHOTS, 'replay-own-flow-sv.png') });
    // axe in both languages, and the whole page.
    await checkScreen(page, 'replay-own-flow-page');
    // By keyboard: the previous-event button, then Enter, moves a frame back.
    await own.locator('[data-action="replay-previous"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => own.getAttribute('data-frame'), WAIT).toBe(String(ownFrames.length - 2));
    await own.locator('a[href="#/issuance"]').click();
    await issuance.waitFor(WAIT);
    expect(await issuance.getAttribute('data-flow')).toBe(secondFlow);
    await page.locator('[data-action="logout"]').click();
    await page.locator('[data-control="login"]').waitFor(WAIT);

    // (1) Sara opens the first case and presses "Spela upp".
    await portal.loginAs(DEMO.sara.card);
    await page.getByTestId('queue').waitFor(WAIT);
    await page.goto(`${h.url}/#/desk/${removedCase.caseId}`);
    const caseView = page.locator(`.case-view[data-case="${removedCase.caseId}"]`);
    await caseView.waitFor(WAIT);
    await caseView.locator('a[data-action="replay"]', { hasText: sv.replay.open }).click();
    const replay = page.locator(`section.replay[data-kind="case"][data-replay="${removedCase.caseId}"]`);
    await replay.waitFor(WAIT);
    const frames = await framesOf(page, `/api/support/cases/${removedCase.caseId}/replay`);
    expect(frames.length).toBeGreaterThan(10);
    expect(await replay.getByTestId('replay-counter').textContent()).toBe(`Händelse 1 av ${frames.length}`);
    expect(await replay.getByTestId('replay-time').textContent()).toBe(stockholm(frames[0]?.at ?? 0));
    const first = await shownFrame(replay);
    expect(first).toMatchObject({ frame: 0, event: 'flow-started', scene: 'recorded', codes: [] });
    expect(first.reader1).toEqual({ connected: true, card: DEMO.admin2.card, holder: sv.replay.roles.admin });

    // The reserve card goes into reader 2 at step 4: reader 1 the admin's card, reader 2 the recipient's.
    const inserted = await stepTo(replay, 'card-inserted', frames, 1);
    expect(await shownFrame(replay)).toMatchObject({
      frame: inserted,
      step: ['4'],
      codes: [],
      reader1: { connected: true, card: DEMO.admin2.card, holder: sv.replay.roles.admin },
      reader2: { connected: true, card: ANNA.card, holder: sv.replay.roles.recipient },
    });
    expect(await replay.getByTestId('replay-sentence').textContent()).toMatch(/läsare 2/i);
    // The PIN 1 dialog shown, then completed, with the card still in reader 2.
    await stepTo(replay, 'dialog-shown', frames, inserted);
    expect(await replay.locator('.download-phases li').nth(1).getAttribute('data-phase-state')).toBe('doing');
    await stepTo(replay, 'dialog-completed', frames, inserted);
    const phases = replay.locator('.download-phases li');
    // PIN 1 done; the keys may still be in the making (the card's pace), nothing issued yet.
    const rowsAt = () =>
      phases.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-phase-state')));
    const afterPin1 = await rowsAt();
    expect(['doing', 'done']).toContain(afterPin1[0]);
    expect(afterPin1.slice(1)).toEqual(['done', 'waiting', 'waiting', 'waiting']);
    expect((await shownFrame(replay)).reader2.holder).toBe(sv.replay.roles.recipient);
    await replay.screenshot({ path: join(SCREENSHOTS, 'replay-card-removed-dialogs-sv.png') });
    // The card leaves reader 2: reader 2 empty, the error panel with its code, read-only.
    const removed = frames.findIndex((frame) => frame.codes.includes('CARD_REMOVED_DURING_DOWNLOAD'));
    await stepTo(replay, frames[removed]?.event ?? 'card-removed', frames, removed);
    const atRemoval = await shownFrame(replay);
    expect(atRemoval).toMatchObject({
      frame: removed,
      step: ['6'],
      codes: ['CARD_REMOVED_DURING_DOWNLOAD'],
      reader1: { connected: true, card: DEMO.admin2.card },
      reader2: { connected: true, card: '', holder: '' },
    });
    const panel = replay.locator('.replay-main .error-panel[data-code="CARD_REMOVED_DURING_DOWNLOAD"]');
    expect(await panel.locator('h3').textContent()).toBe(
      CATALOGUES.sv.codes.CARD_REMOVED_DURING_DOWNLOAD.title,
    );
    expect(await panel.locator('button').count()).toBe(0);
    expect(await panel.getAttribute('role')).toBeNull();
    // Step 6 stopped where it was: PIN 1 done, one row failed (the keys or the PIN 2 dialog, as far
    // as the card had got), and nothing after it reached.
    const stopped = await rowsAt();
    expect(stopped[1]).toBe('done');
    const failedRow = stopped.indexOf('failed');
    expect([0, 2]).toContain(failedRow);
    expect(stopped.filter((state) => state === 'failed')).toHaveLength(1);
    expect(stopped.slice(3)).toEqual(['notStarted', 'notStarted']);
    expect(await replay.getByTestId('replay-time').textContent()).toBe(stockholm(frames[removed]?.at ?? 0));
    await replay.screenshot({ path: join(SCREENSHOTS, 'replay-sv.png') });
    await replay.screenshot({ path: join(SCREENSHOTS, 'replay-card-removed-sv.png') });

    // Back with the slider to the insertion; then play at 4× to the end, where playing stops.
    await replay.locator('[data-action="replay-slider"]').fill(String(inserted));
    expect((await shownFrame(replay)).reader2.card).toBe(ANNA.card);
    await replay.locator('[data-action="replay-speed"]').selectOption('4');
    await replay.locator('[data-action="replay-play"]').click();
    expect(await replay.getAttribute('data-playing')).toBe('true');
    expect(await replay.locator('[data-action="replay-play"]').textContent()).toContain(sv.replay.pause);
    await expect
      .poll(() => replay.getAttribute('data-frame'), { timeout: 60_000 })
      .toBe(String(frames.length - 1));
    await expect.poll(() => replay.getAttribute('data-playing'), WAIT).toBe('false');
    // Keyboard: the slider takes the arrow keys.
    await replay.locator('[data-action="replay-slider"]').focus();
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => replay.getAttribute('data-frame'), WAIT).toBe(String(frames.length - 2));

    // The same frame in English.
    await replay.locator('[data-action="replay-slider"]').fill(String(removed));
    await page.locator('[data-action="language"]').click();
    await expect
      .poll(() => replay.locator('[data-action="replay-next"]').textContent(), WAIT)
      .toContain(en.replay.next);
    expect(await replay.getByTestId('replay-counter').textContent()).toBe(
      `Event ${removed + 1} of ${frames.length}`,
    );
    expect(await replay.getByTestId('replay-time').textContent()).toMatch(
      / at \d\d:\d\d:\d\d \(Swedish time\)$/,
    );
    expect(await panel.locator('h3').textContent()).toBe(
      CATALOGUES.en.codes.CARD_REMOVED_DURING_DOWNLOAD.title,
    );
    expect((await shownFrame(replay)).reader1.holder).toBe(en.replay.roles.admin);
    await replay.screenshot({ path: join(SCREENSHOTS, 'replay-en.png') });
    await page.locator('[data-action="language"]').click();
    await expect
      .poll(() => replay.locator('[data-action="replay-next"]').textContent(), WAIT)
      .toContain(sv.replay.next);

    // (2) The ONE_READER_USED case: the earlier attempt first, then the readers at each step of the second.
    await page.goto(`${h.url}/#/desk/${oneReaderCase.caseId}`);
    const oneView = page.locator(`.case-view[data-case="${oneReaderCase.caseId}"]`);
    await oneView.waitFor(WAIT);
    await oneView.locator('a[data-action="replay"]').click();
    const second = page.locator(`section.replay[data-replay="${oneReaderCase.caseId}"]`);
    await second.waitFor(WAIT);
    const oneFrames = await framesOf(page, `/api/support/cases/${oneReaderCase.caseId}/replay`);
    const start = oneFrames.findIndex((frame) => frame.attempt === 2);
    expect(start).toBeGreaterThan(0);
    await second.locator('[data-action="replay-slider"]').fill(String(start));
    expect(await second.getByTestId('replay-attempt').textContent()).toBe('Försök 2');
    // The restart keeps the login: step 1, the admin's card in reader 1, the recipient's still in 2.
    expect(await shownFrame(second)).toMatchObject({
      event: 'flow-started',
      step: ['1'],
      reader1: { connected: true, card: DEMO.admin2.card, holder: sv.replay.roles.admin },
      reader2: { connected: true, card: ANNA.card, holder: sv.replay.roles.recipient },
    });
    const readersAt = async () => {
      const shown = await shownFrame(second);
      return [shown.step[0], shown.reader1.card, shown.reader2.connected, shown.reader2.card, shown.codes];
    };
    const signed = await stepTo(second, 'signed', oneFrames, start);
    expect(await readersAt()).toEqual(['4', DEMO.admin2.card, true, ANNA.card, []]);
    const unplugged = await stepTo(second, 'reader-unplugged', oneFrames, signed);
    expect(await readersAt()).toEqual(['4', DEMO.admin2.card, false, '', ['READERS_MISSING']]);
    expect(await second.locator('.reader-picture').getAttribute('aria-label')).toContain(
      'Kortläsare 2: Inget kort',
    );
    await second.screenshot({ path: join(SCREENSHOTS, 'replay-one-reader-unplugged-sv.png') });
    await stepTo(second, 'reader-plugged', oneFrames, unplugged);
    expect(await readersAt()).toEqual(['4', DEMO.admin2.card, true, '', ['ONE_READER_USED']]);
    expect(await second.locator('.replay-main .error-panel').getAttribute('data-code')).toBe(
      'ONE_READER_USED',
    );
    await second.screenshot({ path: join(SCREENSHOTS, 'replay-one-reader-sv.png') });
    await checkScreen(page, 'replay-one-reader-page');
    // The case's catalogue entries for every code of both attempts.
    expect(await second.locator('.catalogue-entries dt code').allTextContents()).toEqual(
      expect.arrayContaining(['CARD_REMOVED_DURING_DOWNLOAD', 'READERS_MISSING', 'ONE_READER_USED']),
    );

    // A reload shows the same case's replay again (its address names it). Logged out, nothing of
    // the case is shown; logged back in, the address leads to it again.
    const counter = () => second.getByTestId('replay-counter').textContent();
    await page.reload();
    await second.waitFor(WAIT);
    expect(await counter()).toMatch(new RegExp(` av ${oneFrames.length}$`));
    const address = page.url();
    await page.locator('[data-action="logout"]').click();
    await page.locator('[data-control="login"]').waitFor(WAIT);
    expect(await page.locator('section.replay').count()).toBe(0);
    await portal.loginAs(DEMO.sara.card);
    await page.goto(address);
    await second.waitFor(WAIT);
    expect(await counter()).toMatch(new RegExp(` av ${oneFrames.length}$`));
    await second.locator(`a[href="#/desk/${oneReaderCase.caseId}"]`).click();
    await oneView.waitFor(WAIT);
  }, 240_000);
});
