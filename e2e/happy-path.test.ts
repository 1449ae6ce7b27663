// The whole issuance through the UI only: admin 1 registers and signs an order; admin 2 logs in and
// issues; the recipient accepts, downloads and acknowledges. Then the card and OCSP are checked.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { luhnCheckDigit } from '@reservkort/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BrowserHarness, SCREENSHOTS, startBrowserHarness } from './support/browser-harness.js';
import { DEMO, PortalPage, reservePins } from './support/portal-page.js';

const run = promisify(execFile);
/** Nils Utanorder (Medicinkliniken) has no order until admin 1 registers one. */
const NILS_PNR = `19670130991${luhnCheckDigit('670130991')}`;
const pem = (der: string) =>
  `-----BEGIN CERTIFICATE-----\n${der.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;

describe('the happy path in a real browser', () => {
  let h: BrowserHarness;
  beforeAll(async () => {
    h = await startBrowserHarness();
  });
  afterAll(async () => h?.close());

  it('admin 1 orders, admin 2 issues, the recipient acknowledges; the card holds both certificates and OCSP says good', async () => {
    const { page, context } = await h.newPage();
    const portal = new PortalPage(page, context);
    const card = DEMO.spareCard;
    const pins = reservePins(card);

    // Admin 1 (Admin Två, RA in the region) registers an order for Nils with the sealed spare card.
    await portal.loginAs(DEMO.admin2.card);
    await page.locator('a[href="#/admin"]').click();
    await page.locator('#person-query').fill(NILS_PNR);
    await page.locator('[data-action="find-person"]').click();
    await page.getByTestId('person').waitFor();
    await page.locator('#order-card').fill(card);
    await page.locator('#order-document').selectOption('swedish-passport');
    await portal.enterPins([DEMO.adminPins.pin2], () => page.locator('[data-action="sign-order"]').click());
    await page.locator('[data-testid="orders"] [data-state="registered"]').waitFor();
    await page.locator('[data-action="logout"]').click();

    // Admin 2 (Admin Fyra) logs in with the card in reader 1, finds, reviews and signs the order.
    await portal.loginAs(DEMO.admin4.card);
    await portal.toReview(NILS_PNR);
    await expect(page.getByTestId('review').textContent()).resolves.toContain('Nils Utanorder');
    await portal.signOrder();

    // The recipient: the reserve card in reader 2, BEKRÄFTA ÖVERLÄMNING, the terms, STARTA NEDLADDNING.
    await portal.insert(card, 2);
    await portal.control('confirm-handover').click();
    await portal.atStep(5);
    await page.locator('#accept-terms').check();
    await expect.poll(() => portal.control('start-download').isEnabled()).toBe(true);
    await portal.enterPins([pins.pin1, pins.pin2], () => portal.control('start-download').click());
    await portal.atStep(7);
    await page.locator('.countdown').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'happy-step7-countdown-sv.png') });
    await portal.enterPins([pins.pin2], () => portal.control('acknowledge').click());
    await page.getByTestId('completed').waitFor();
    const serials = (await page.getByTestId('completed').textContent()) ?? '';

    // The card holds both certificates: read back through the agent, judged by OpenSSL.
    const agent = h.server.agentUrl ?? '';
    const headers = { origin: h.url };
    const { token } = (await (await fetch(`${agent}/v1/sessions`, { method: 'POST', headers })).json()) as {
      token: string;
    };
    const onCard = (await (
      await fetch(`${agent}/v1/readers/reader-2/card`, { headers: { ...headers, 'x-agent-session': token } })
    ).json()) as {
      cardNumber: string;
      keys: { auth: boolean; sign: boolean };
      certificates: { der: string }[];
    };
    expect(onCard.cardNumber, JSON.stringify(onCard)).toBe(card);
    expect(onCard.keys).toEqual({ auth: true, sign: true });
    expect(onCard.certificates).toHaveLength(2);

    const dir = await mkdtemp(join(tmpdir(), 'reservkort-e2e-ocsp-'));
    const fetchPem = async (name: string) => {
      const file = join(dir, `${name}.pem`);
      await writeFile(file, await (await fetch(`${h.server.url}/pki/ca/${name}.pem`)).text());
      return file;
    };
    const [root, loa3] = [await fetchPem('root'), await fetchPem('loa3')];
    for (const [index, certificate] of onCard.certificates.entries()) {
      const file = join(dir, `card-${index}.pem`);
      await writeFile(file, pem(certificate.der));
      const verify = await run('openssl', ['verify', '-CAfile', root, '-untrusted', loa3, file]);
      expect(verify.stdout).toContain(': OK');
      const ocsp = await run('openssl', [
        'ocsp',
        '-url',
        `${h.server.url}/ocsp`,
        '-issuer',
        loa3,
        '-cert',
        file,
        '-CAfile',
        root,
        '-no_nonce',
      ]);
      const said = `${ocsp.stdout}${ocsp.stderr}`;
      expect(said).toContain('Response verify OK');
      expect(said).toContain(`${file}: good`);
      const serial = (await run('openssl', ['x509', '-in', file, '-noout', '-serial'])).stdout
        .trim()
        .replace('serial=', '')
        .toLowerCase();
      expect(serials.toLowerCase()).toContain(serial.replace(/^0+/, ''));
    }
  }, 180_000);
});
