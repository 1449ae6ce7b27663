// The card agent's PIN change and PUK unblock dialogs in Chromium: the agent's own page on its own
// origin, typed into as a person would. The form checks in the page (lengths, the two new PINs
// alike), the card's answers (wrong PIN, wrong PUK with tries left), axe, and screenshots in both
// languages. The portal has no screens for these yet, so the page starts the operations itself
// through the agent's API, as the portal will.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AxeResults, RunOptions } from 'axe-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentFixture,
  CARD,
  createAgentFixture,
  PINS,
  PORTAL,
} from '../packages/agent/src/test-support/agent-fixture.js';
import { launchChromium, SCREENSHOTS } from './support/browser-harness.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AXE_OPTIONS: RunOptions = { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] };
const POLL = { timeout: 10_000 } as const;

const expectAccessible = async (page: Page, screen: string): Promise<void> => {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const serious = await page.evaluate(async (options): Promise<string[]> => {
    const { axe } = window as unknown as {
      axe: { run(context: Document, options: RunOptions): Promise<AxeResults> };
    };
    const result = await axe.run(document, options);
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, AXE_OPTIONS);
  expect(serious, `axe on ${screen}`).toEqual([]);
};

describe('PIN change and PUK unblock dialogs of the card agent (Chromium)', () => {
  let f: AgentFixture;
  let browser: Browser;
  let agentUrl: string;
  let token: string;

  beforeAll(async () => {
    f = await createAgentFixture();
    const address = await f.app.listen({ port: 0, host: '127.0.0.1' });
    agentUrl = address.replace('127.0.0.1', 'localhost');
    token = await f.session();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await f?.dispose();
  });

  /** Starts the operation as the portal does and opens its dialog window in a language. */
  const openDialog = async (
    what: 'change-pin' | 'unblock-pin',
    pin: 'pin1' | 'pin2',
    language: 'sv' | 'en',
  ) => {
    const started = await f.call(
      'POST',
      `/v1/readers/reader-2/${what}`,
      { pin },
      { 'x-agent-session': token },
    );
    expect(started.status).toBe(202);
    // Axe is injected into the page, which the dialog's CSP would otherwise (rightly) refuse.
    const context = await browser.newContext({ locale: language, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${agentUrl}/dialog/${started.body.dialog.id}?lang=${language}`);
    return { page, operationId: started.body.id as string, close: () => context.close() };
  };
  const type = async (page: Page, first: string, newPin: string, repeat: string) => {
    await page.fill('#pin', first);
    await page.fill('#new-pin', newPin);
    await page.fill('#repeat-pin', repeat);
    await page.click('#ok');
  };
  const status = (page: Page) => page.locator('#status');

  it('changes PIN 1, with the form checked in the dialog and a wrong current PIN counted (sv, en)', async () => {
    const sv = await openDialog('change-pin', 'pin1', 'sv');
    await expect.poll(() => sv.page.title()).toContain('Byt PIN 1');
    await expectAccessible(sv.page, 'change PIN, sv');
    await sv.page.screenshot({ path: join(SCREENSHOTS, 'agent-change-pin-sv.png') });

    await type(sv.page, PINS.pin1, '24681357', '24681358');
    await expect
      .poll(() => status(sv.page).textContent(), POLL)
      .toContain('De två nya PIN-koderna är inte lika');
    await type(sv.page, PINS.pin1, '12', '12');
    await expect
      .poll(() => status(sv.page).textContent(), POLL)
      .toContain('Den nya PIN-koden ska vara 4–8 siffror');
    // Neither slip reached the card.
    expect((await f.backend.cardInfo('reader-2')).pins.pin1.triesLeft).toBe(3);
    await type(sv.page, '0000', '24681357', '24681357');
    await expect.poll(() => status(sv.page).textContent(), POLL).toBe('Fel PIN-kod. 2 försök kvar.');
    await sv.page.screenshot({ path: join(SCREENSHOTS, 'agent-change-pin-wrong-sv.png') });
    await type(sv.page, PINS.pin1, '24681357', '24681357');
    await expect.poll(() => f.agent.operation(sv.operationId).state, POLL).toBe('done');
    await sv.close();

    const en = await openDialog('change-pin', 'pin1', 'en');
    await expect.poll(() => en.page.title()).toContain('Change PIN 1');
    await expectAccessible(en.page, 'change PIN, en');
    await type(en.page, '0000', '13572468', '13572468');
    await expect.poll(() => status(en.page).textContent(), POLL).toBe('Wrong PIN. Tries left: 2.');
    await en.page.screenshot({ path: join(SCREENSHOTS, 'agent-change-pin-wrong-en.png') });
    await type(en.page, '24681357', '13572468', '13572468');
    await expect.poll(() => f.agent.operation(en.operationId).state, POLL).toBe('done');
    await en.close();
    await f.backend.generateKey('reader-2', CARD, 'auth', '13572468', 'ecdsa-p256');
  });

  it('unblocks a blocked PIN 2 with the PUK: a wrong PUK shows the tries left (sv, en)', async () => {
    for (let i = 0; i < 3; i++)
      await f.backend.changePin('reader-2', CARD, 'pin2', '0000', '4321').catch(() => undefined);
    expect((await f.backend.cardInfo('reader-2')).pins.pin2.blocked).toBe(true);

    const en = await openDialog('unblock-pin', 'pin2', 'en');
    await expect.poll(() => en.page.title()).toContain('Unblock PIN 2');
    await expectAccessible(en.page, 'unblock PIN, en');
    await en.page.screenshot({ path: join(SCREENSHOTS, 'agent-unblock-pin-en.png') });
    await type(en.page, '1234', '86427531', '86427531');
    await expect.poll(() => status(en.page).textContent(), POLL).toBe('The PUK must be 8 digits.');
    await type(en.page, '00000000', '86427531', '86427531');
    await expect
      .poll(() => status(en.page).textContent(), POLL)
      .toBe('Wrong PUK. Tries left before the card is locked for good: 10.');
    await en.page.screenshot({ path: join(SCREENSHOTS, 'agent-unblock-pin-wrong-en.png') });
    await en.close();

    const sv = await openDialog('unblock-pin', 'pin2', 'sv');
    await expect.poll(() => sv.page.title()).toContain('Lås upp PIN 2');
    await expectAccessible(sv.page, 'unblock PIN, sv');
    await type(sv.page, '00000000', '86427531', '86427531');
    await expect
      .poll(() => status(sv.page).textContent(), POLL)
      .toBe('Fel PUK-kod. 9 försök kvar innan kortet låses för gott.');
    await sv.page.screenshot({ path: join(SCREENSHOTS, 'agent-unblock-pin-wrong-sv.png') });
    await type(sv.page, PINS.puk, '86427531', '86427531');
    await expect.poll(() => f.agent.operation(sv.operationId).state, POLL).toBe('done');
    await sv.close();
    expect((await f.backend.cardInfo('reader-2')).pins.pin2).toEqual({ triesLeft: 3, blocked: false });
    // The PUK and the PINs went to the agent's own origin only; the portal origin saw none of them.
    expect(PORTAL).not.toBe(agentUrl);
    for (const body of f.seen)
      for (const secret of [PINS.puk, '86427531', '13572468']) expect(body).not.toContain(secret);
  });
});
