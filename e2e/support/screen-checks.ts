// The checks every new screen gets in the browser tests: axe (WCAG 2.1 A/AA, serious and critical
// findings) and a full-page screenshot, in Swedish and then English.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { AxeResults } from 'axe-core';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { SCREENSHOTS } from './browser-harness.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export const setLanguage = async (page: Page, language: 'sv' | 'en'): Promise<void> => {
  if ((await page.evaluate(() => document.documentElement.lang)) === language) return;
  await page.locator('[data-action="language"]').click();
  await page.waitForFunction((lang) => document.documentElement.lang === lang, language);
};

export interface ScreenCheckOptions {
  /** axe on each language (default true); a screen the test sets up by hand may have none. */
  readonly axe?: boolean;
  /** The element whose screenshot is taken, a selector (default: the full page). */
  readonly shotOf?: string;
}

/** axe (WCAG 2.1 A/AA) and a screenshot (full page by default), in Swedish and English; ends in Swedish. */
export const checkScreen = async (
  page: Page,
  shot: string,
  options: ScreenCheckOptions = {},
): Promise<void> => {
  for (const language of ['sv', 'en'] as const) {
    await setLanguage(page, language);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    if (options.axe !== false)
      expect(await seriousViolations(page), `axe on ${shot} (${language})`).toEqual([]);
    const path = join(SCREENSHOTS, `${shot}-${language}.png`);
    if (options.shotOf === undefined) await page.screenshot({ path, fullPage: true });
    else await page.locator(options.shotOf).screenshot({ path });
  }
  await setLanguage(page, 'sv');
};

/** axe-core on the whole document: its serious and critical findings, one line each. */
const seriousViolations = async (page: Page): Promise<string[]> => {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const { axe } = window as unknown as {
      axe: { run(context: Document, options: object): Promise<AxeResults> };
    };
    const result = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
};
