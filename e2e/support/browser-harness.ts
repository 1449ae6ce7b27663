// One training-mode server (with its card agent and virtual cards) and headless Chromium, for the
// browser tests. Everything real: the built web UI, the HTTP API, the agent's loopback API, the PIN
// dialog windows. Timings that would make a test wait minutes are shortened through the options.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type RunningServer, startServer } from '../../packages/server/src/server.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the tests write their screenshots (named in the README). */
export const SCREENSHOTS = join(import.meta.dirname, '..', 'screenshots');

export interface BrowserHarness {
  readonly server: RunningServer;
  /** The portal's origin, as the agent knows it. */
  readonly url: string;
  readonly browser: Browser;
  newPage(options?: { language?: 'sv' | 'en' }): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Time to acknowledge (default 10 minutes, as in the product). */
  readonly ackWindowMs?: number;
  /** A clicked button that the agent does not follow up counts as stuck after this (default 30 s). */
  readonly stuckAfterMs?: number;
  /** A PIN dialog not opened within this counts as never shown (default 20 s). */
  readonly dialogShowTimeoutMs?: number;
  /** How long a virtual card takes per key, signature or write (training: 1.5 s). */
  readonly cardOperationMs?: number;
}

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

export const startBrowserHarness = async (options: HarnessOptions = {}): Promise<BrowserHarness> => {
  const data = await mkdtemp(join(tmpdir(), 'reservkort-e2e-'));
  const server = await startServer({
    data,
    port: 0,
    host: '127.0.0.1',
    training: true,
    agentPort: 0,
    cardOperationMs: options.cardOperationMs ?? 150,
    ...(options.dialogShowTimeoutMs ? { dialogShowTimeoutMs: options.dialogShowTimeoutMs } : {}),
    ...(options.ackWindowMs ? { ackWindowMs: options.ackWindowMs } : {}),
    ...(options.stuckAfterMs ? { flow: { stuckAfterMs: options.stuckAfterMs } } : {}),
  });
  const url = server.url.replace('127.0.0.1', 'localhost');
  const browser = await launchChromium();
  await mkdir(SCREENSHOTS, { recursive: true });
  return {
    server,
    url,
    browser,
    newPage: async ({ language = 'sv' } = {}) => {
      const context = await browser.newContext({ locale: language === 'sv' ? 'sv-SE' : 'en-GB' });
      await context.addInitScript((lang) => localStorage.setItem('reservkort.language', lang), language);
      const page = await context.newPage();
      await page.goto(url);
      return { context, page };
    },
    close: async () => {
      await browser.close();
      await server.close();
      await rm(data, { recursive: true, force: true });
    },
  };
};
