// A region in production mode on PKCS#11, made with the product's own commands: SoftHSM2 tokens
// stand in for the two administrators' cards and the reserve cards (ca init, directory import, card
// init, card issue-admin, station register), `reservkort serve` runs without training mode and
// `reservkort agent --pkcs11-module` beside it, both as processes. Reserve cards are then issued as
// the web page does it, over HTTP (HttpPortal): admin 1 orders, admin 2 walks the seven steps, the
// recipient takes the card.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CardNumber, luhnCheckDigit } from '@reservkort/domain';
import { afterAll, beforeAll, expect } from 'vitest';
import { removeCardToken, restoreCardToken } from '../../packages/agent/src/test-support/softhsm-cards.js';
import { createSoftHsm, pkcs11Tool, type SoftHsm } from '../../packages/pki/src/test-support/softhsm.js';
import { enabled, HttpPortal } from './http-portal.js';
import { freePort } from './nginx.js';
import {
  childEnv,
  reservkortCli,
  type StartedProcess,
  startProcess,
  stopProcess,
} from './reservkort-process.js';

export const ADMIN1 = {
  hsaId: 'SE2321000016-pa01',
  card: '9752278900000001015' as CardNumber,
  pin: '135790',
};
export const ADMIN2 = {
  hsaId: 'SE2321000016-pa02',
  card: '9752278900000001023' as CardNumber,
  pin: '975310',
};
const ADMIN_PUK = '13572468';

export interface Recipient {
  readonly hsaId: string;
  readonly pnr: string;
  readonly givenName: string;
  readonly surname: string;
}

/** A sealed reserve card from the card bureau, and the person it is ordered for. */
export interface ReserveCard {
  readonly card: CardNumber;
  /** One PIN for both keys (PIN 2 is PIN 1 given again), as on a one-PIN token. */
  readonly pin: string;
  readonly puk: string;
  readonly recipient: Recipient;
}

/** A recipient of the clinic; `n` (0–9) makes the HSA-id, personal number and card number unique. */
export const reserveCard = (n: number, givenName: string, surname: string): ReserveCard => {
  const digits = `78061578${n}`;
  const cardBody = `975227890000000${300 + n}`;
  return {
    card: `${cardBody}${luhnCheckDigit(cardBody)}` as CardNumber,
    pin: `24680${n}`,
    puk: `8024680${n}`,
    recipient: {
      hsaId: `SE2321000016-pa1${n}`,
      pnr: `19${digits}${luhnCheckDigit(digits)}`,
      givenName,
      surname,
    },
  };
};

export interface IssuedReserveCard {
  /** The flow's view at its end (step 7, acknowledged or waiting for the acknowledgement). */
  readonly after: any;
  /** The certificates the CA issued in the flow, base64 DER. */
  readonly certificates: { readonly auth: string; readonly sign: string };
}

export interface SiteOptions {
  /** Extra flags of `reservkort serve` (an acknowledgement window, say). */
  readonly serveArgs?: readonly string[];
  /** Extra flags of `reservkort ca init`. */
  readonly caInitArgs?: readonly string[];
}

/**
 * The site's processes and folders. Made empty and filled by `open`, so that `close` (in afterAll)
 * stops whatever was started, also when `open` failed half-way.
 */
export class ProductionSite {
  server: StartedProcess | undefined;
  agent: StartedProcess | undefined;
  page: HttpPortal | undefined;
  serverUrl = '';
  /** The public base URL the CA put into the certificates (AIA, CRL DP): the server itself. */
  baseUrl = '';
  readonly cli: (args: readonly string[], extra?: Record<string, string>) => Promise<string>;
  readonly workstation: string;

  constructor(
    readonly hsm: SoftHsm,
    readonly data: string,
    readonly reserves: readonly ReserveCard[],
  ) {
    this.cli = reservkortCli(data, hsm);
    this.workstation = join(data, 'workstation');
  }

  tool(args: readonly string[]): Promise<string> {
    return pkcs11Tool(this.hsm, args);
  }

  get portal(): HttpPortal {
    if (this.page === undefined) throw new Error('the site is not open');
    return this.page;
  }

  /**
   * The CA operator and the card bureau at work; the server, and the workstation's agent with admin
   * 1's card in reader 1 and the first reserve card in reader 2 (the other reserve cards are out).
   */
  async open(options: SiteOptions = {}): Promise<void> {
    const { cli } = this;
    // The server listens where the CA says its PKI is, so that relying parties reach its OCSP and CRLs.
    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    await cli([
      'ca',
      'init',
      '--base-url',
      this.baseUrl,
      '--organisation',
      'Region Exempel CA',
      ...(options.caInitArgs ?? []),
    ]);
    const directory = join(this.data, 'directory.json');
    await writeFile(
      directory,
      JSON.stringify({
        branches: [
          { id: 'region', parentId: null, name: 'Region Exempel' },
          { id: 'hospital', parentId: 'region', name: 'Sjukhuset' },
          { id: 'clinic', parentId: 'hospital', name: 'Kliniken' },
        ],
        persons: this.reserves.map(({ recipient }) => ({
          hsaId: recipient.hsaId,
          givenName: recipient.givenName,
          surname: recipient.surname,
          personalNumber: recipient.pnr,
          branchId: 'clinic',
          protectedIdentity: false,
        })),
        admins: [
          {
            hsaId: ADMIN1.hsaId,
            givenName: 'Admin',
            surname: 'Ett',
            roles: [{ role: 'KRA', branchId: 'hospital' }],
          },
          {
            hsaId: ADMIN2.hsaId,
            givenName: 'Admin',
            surname: 'Två',
            roles: [
              { role: 'RA', branchId: 'region' },
              { role: 'KUR', branchId: 'region' },
            ],
          },
        ],
      }),
    );
    expect(await cli(['directory', 'import', directory])).toContain('2 administrators');
    // The reserve cards arrive sealed in a batch from the card bureau, registered to the card
    // station of the region where admin 1 orders them.
    const batch = join(this.data, 'batch.csv');
    await writeFile(
      batch,
      [
        'card_number,product,manufactured',
        ...this.reserves.map(({ card }) => `${card},573,2026-03-15`),
        '',
      ].join('\n'),
    );
    expect(await cli(['card', 'stock', 'import', '--station', 'region', batch])).toContain(
      `${this.reserves.length} cards registered sealed to station region`,
    );
    // The server starts while the cards are made: it only reads the CA and the database.
    const serving = startProcess(
      ['--data', this.data, 'serve', '--port', String(port), ...(options.serveArgs ?? [])],
      childEnv(this.hsm),
      /(https?:\/\/[^\s/]+)\/api\/docs/,
    );
    // Kept at once, so that close() stops it even if what follows fails.
    serving.then(
      (started) => {
        this.server = started;
      },
      () => undefined,
    );

    const module = ['--pkcs11-module', this.hsm.module];
    for (const admin of [ADMIN1, ADMIN2]) {
      await cli(['card', 'init', ...module, '--slot', 'free', '--card-number', admin.card], {
        RESERVKORT_CARD_PIN: admin.pin,
        RESERVKORT_CARD_PUK: ADMIN_PUK,
      });
      const issued = JSON.parse(
        await cli(
          ['card', 'issue-admin', ...module, '--card-number', admin.card, '--hsa-id', admin.hsaId, '--json'],
          { RESERVKORT_CARD_PIN: admin.pin },
        ),
      );
      expect(issued).toHaveLength(2);
    }
    for (const reserve of this.reserves) {
      // The reserve card's PIN letter as a file, as a card bureau's run would have it.
      const letter = join(this.data, `pins-${reserve.card}`);
      await writeFile(letter, `pin=${reserve.pin}\npuk=${reserve.puk}\n`, { mode: 0o600 });
      await cli([
        'card',
        'init',
        ...module,
        '--slot',
        'free',
        '--card-number',
        reserve.card,
        '--pins-file',
        letter,
      ]);
    }

    const started = await serving;
    this.server = started;
    this.serverUrl = started.match[1] ?? '';
    const portalOrigin = new URL(this.serverUrl).origin;
    expect((await (await fetch(`${this.serverUrl}/health`)).json()).training).not.toBe(true);

    // The workstation is registered as a card station of the region before its agent starts.
    const registered = JSON.parse(
      await cli([
        'station',
        'register',
        '--agent-data',
        join(this.workstation, 'agent'),
        '--branch',
        'region',
        '--name',
        'Kortdisken',
        '--json',
      ]),
    );
    expect(registered.stationId).toMatch(/^st-/);
    // The workstation: only admin 1's card is in when the agent starts (the others are out).
    await removeCardToken(this.hsm, ADMIN2.card);
    for (const reserve of this.reserves) await removeCardToken(this.hsm, reserve.card);
    this.agent = await startProcess(
      ['--data', this.workstation, 'agent', ...module, '--port', '0', '--portal-origin', portalOrigin],
      childEnv(this.hsm),
      /card agent listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    const agentUrl = this.agent.match[1] ?? '';
    this.page = new HttpPortal(this.serverUrl, agentUrl, portalOrigin);
    await this.page.connect();
    // A sealed reserve card goes into the second reader: readers keep their numbers from here on.
    const [first] = this.reserves;
    if (first === undefined) throw new Error('a site needs a reserve card');
    await restoreCardToken(this.hsm, first.card);
    await this.page.untilReaders({ 1: ADMIN1.card, 2: first.card });
  }

  /**
   * Admin 1 logs in and orders every reserve card; then admin 2's card replaces admin 1's in reader
   * 1, reader 2 is emptied and admin 2 logs in. Returns the orders.
   */
  async orderAll(): Promise<any[]> {
    const p = this.portal;
    const me1 = await p.login(ADMIN1.pin);
    expect(me1).toMatchObject({ hsaId: ADMIN1.hsaId, cardNumber: ADMIN1.card, assuranceLevel: 'LoA3' });
    const orders: any[] = [];
    for (const reserve of this.reserves) {
      const order = await p.registerOrder(reserve.recipient.pnr, reserve.card, ADMIN1.pin);
      expect(order).toMatchObject({ cardNumber: reserve.card, state: 'registered' });
      orders.push(order);
    }
    await p.logout();

    // Admin 1's card out, admin 2's card into reader 1; the reserve card out of reader 2 for now.
    const [first] = this.reserves;
    if (first === undefined) throw new Error('a site needs a reserve card');
    await removeCardToken(this.hsm, ADMIN1.card);
    await restoreCardToken(this.hsm, ADMIN2.card);
    await p.untilReaders({ 1: ADMIN2.card, 2: first.card });
    await removeCardToken(this.hsm, first.card);
    await p.untilReaders({ 1: ADMIN2.card, 2: null });

    const me2 = await p.login(ADMIN2.pin);
    expect(me2).toMatchObject({ hsaId: ADMIN2.hsaId, cardNumber: ADMIN2.card, assuranceLevel: 'LoA3' });
    return orders;
  }

  /**
   * Admin 2 (logged in, reader 2 empty) walks steps 1–3 for the reserve card's order; the card goes
   * into reader 2 and the recipient takes it through steps 4–7, and acknowledges it if told to.
   */
  async issue(reserve: ReserveCard, acknowledge: boolean): Promise<IssuedReserveCard> {
    const p = this.portal;
    const step1 = await p.start();
    expect(step1.view.step).toBe(1);
    expect(enabled(step1.view, 'manage-orders')).toBe(true);
    expect((await p.action('manage-orders')).view.step).toBe(2);
    const found = await p.search(reserve.recipient.pnr);
    expect(found.review).toMatchObject({
      name: `${reserve.recipient.givenName} ${reserve.recipient.surname}`,
      cardNumber: reserve.card,
    });
    expect((await p.action('order-selected')).view.step).toBe(3);
    const signed = await p.signFlow('order', ADMIN2.pin);
    expect(signed.view.step, JSON.stringify(signed.raised)).toBe(4);

    // ---- the recipient: the reserve card into reader 2, steps 4–7 ---------------------------------------
    await restoreCardToken(this.hsm, reserve.card);
    await p.untilReaders({ 1: ADMIN2.card, 2: reserve.card });
    // The page hears it from the agent's event stream and tells the flow: card inserted in reader 2.
    await expect
      .poll(() => p.relayed, { timeout: 5000 })
      .toContainEqual({ type: 'card-inserted', reader: 2, cardNumber: reserve.card });
    expect(enabled(p.flow.view, 'confirm-handover'), JSON.stringify(p.flow.view.controls)).toBe(true);
    expect((await p.confirmHandover()).view.step).toBe(5);
    await p.action('terms-accepted', { accepted: true });
    // A one-PIN token: PIN 2 is PIN 1 given again for the signature key.
    const { after, certificates } = await p.download(reserve.pin, reserve.pin);
    expect(after.view.step, JSON.stringify(after.view)).toBe(7);
    expect(after.view.issuedSerials).toHaveLength(2);
    if (!acknowledge) return { after, certificates };
    const acknowledged = await p.signFlow('acknowledge', reserve.pin);
    expect(acknowledged.view.status, JSON.stringify(acknowledged.raised)).toBe('completed');
    expect(p.failures).toEqual([]);
    return { after: acknowledged, certificates };
  }

  /** The card in reader 2 taken out; the reader stays, empty. */
  async takeOut(reserve: ReserveCard): Promise<void> {
    await removeCardToken(this.hsm, reserve.card);
    await this.portal.untilReaders({ 1: ADMIN2.card, 2: null });
  }

  /** Stops the agent and the server (each that was started). */
  async close(): Promise<void> {
    this.page?.close();
    await stopProcess(this.agent?.child);
    await stopProcess(this.server?.child);
  }
}

export interface ProductionSiteFixture {
  /** The site's data folder (its CA, database and the workstation's agent). */
  readonly data: string;
  /** Opens a site with these reserve cards; it is closed after the file's tests. */
  open(reserves: readonly ReserveCard[], options?: SiteOptions): Promise<ProductionSite>;
}

/**
 * A SoftHSM2 token directory and a data folder made before a file's tests (in its describe), and
 * after them the site opened on them closed, the tokens and the folder removed.
 */
export const productionSiteFixture = (name: string): ProductionSiteFixture => {
  let hsm: SoftHsm | undefined;
  let data = '';
  let site: ProductionSite | undefined;
  beforeAll(async () => {
    hsm = await createSoftHsm();
    data = await mkdtemp(join(tmpdir(), `reservkort-${name}-`));
  }, 30_000);
  afterAll(async () => {
    await site?.close();
    await hsm?.dispose();
    if (data) await rm(data, { recursive: true, force: true });
  });
  return {
    get data() {
      return data;
    },
    open: async (reserves, options = {}) => {
      if (hsm === undefined) throw new Error('the SoftHSM2 tokens are not made yet');
      site = new ProductionSite(hsm, data, reserves);
      await site.open(options);
      return site;
    },
  };
};
