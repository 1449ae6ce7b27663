// Production mode end to end on PKCS#11: SoftHSM2 tokens stand in for the two administrators' cards
// and the reserve card. Everything is made with the product's own commands (ca init, directory
// import, card init, card issue-admin), `reservkort serve` runs without training mode and
// `reservkort agent --pkcs11-module` beside it, both as processes. The test then does what the web
// page does, over HTTP: the server's API, the agent's loopback API with the portal's Origin, its
// event stream, and the PINs typed into the agent's own dialog. Reader 1 and 2 are numbered by the
// page's own rule (ReaderNumbers). Finally pkcs11-tool and OpenSSL look at the reserve card.
import 'reflect-metadata';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { X509Certificate } from '@peculiar/x509';
import { type CardNumber, luhnCheckDigit, type ReaderSlot } from '@reservkort/domain';
import { CardNumberExtension, registerExtensions } from '@reservkort/pki';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeCardToken, restoreCardToken } from '../packages/agent/src/test-support/softhsm-cards.js';
import { createSoftHsm, pkcs11Tool, type SoftHsm } from '../packages/pki/src/test-support/softhsm.js';
import { ReaderNumbers } from '../packages/web/src/flow/reader-numbers.js';

const run = promisify(execFile);
const BIN = new URL('../packages/server/bin/reservkort.js', import.meta.url).pathname;

const ADMIN1 = { hsaId: 'SE2321000016-pa01', card: '9752278900000001015' as CardNumber, pin: '135790' };
const ADMIN2 = { hsaId: 'SE2321000016-pa02', card: '9752278900000001023' as CardNumber, pin: '975310' };
const RESERVE = { card: '9752278900000001031' as CardNumber, pin: '246802', puk: '80246802' };
const ADMIN_PUK = '13572468';
const RECIPIENT = {
  hsaId: 'SE2321000016-pa11',
  pnr: `19780615789${luhnCheckDigit('780615789')}`,
  givenName: 'Petra',
  surname: 'Pkcs',
};

/** A child's environment: SoftHSM2's token directory, and nothing of ours that names a database or CA. */
const childEnv = (hsm: SoftHsm, extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, SOFTHSM2_CONF: join(hsm.dir, 'softhsm2.conf') };
  for (const name of [
    'DATABASE_URL',
    'RESERVKORT_DATA',
    'RESERVKORT_CA_PASSPHRASE',
    'RESERVKORT_CARD_PIN',
    'RESERVKORT_CARD_PIN2',
    'RESERVKORT_CARD_PUK',
    'PORT',
    'NODE_OPTIONS',
  ])
    delete env[name];
  return { ...env, ...extra };
};

/** Starts a long-running command; resolves with the first match of `ready` in its output. */
const startProcess = (
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no start\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited ${code}\n${output}`));
    });
  });

const stop = async (child: ChildProcess | undefined): Promise<void> => {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
};

interface AgentReader {
  readonly id: string;
  readonly card: { readonly cardNumber: CardNumber | null } | null;
}

interface Operation {
  readonly id: string;
  readonly state: 'pending' | 'done' | 'failed';
  readonly result: any;
  readonly error: { readonly code: string } | null;
  readonly dialog: { readonly id: string; readonly state: string } | null;
  readonly dialogUrl: string | null;
}

interface Relayed {
  readonly type: string;
  readonly reader: ReaderSlot;
  readonly cardNumber?: CardNumber | null;
}

/**
 * The web page as a program: workstation.ts, portal-session.ts, issuance-driver.ts and the admin
 * portal's order form, over HTTP. The person at the keyboard types PINs into the agent's dialog.
 */
class PortalPage {
  private cookie = '';
  private csrf = '';
  private agentToken = '';
  private readonly numbers = new ReaderNumbers();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stream = new AbortController();
  private relayedFlowEvents = 0;
  /** The agent's flow events as its event stream brought them, with their seq (what a statement names). */
  private readonly flowEvents: { seq: number; flowId: string; event: { type: string; dialog?: string } }[] =
    [];
  /** The nonce the station's next statement for the flow must carry, as the server last said. */
  private stationNonce = '';
  /** The card key type every flow answer names: what the page asks the agent to generate. */
  private cardKeyType = 'ecdsa-p256';
  readers: readonly AgentReader[] = [];
  flow: any = null;
  readonly relayed: Relayed[] = [];
  readonly failures: unknown[] = [];

  constructor(
    readonly server: string,
    readonly agent: string,
    readonly origin: string,
  ) {}

  async api(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<any> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = `rk_session=${this.cookie}`;
    if (this.csrf) headers['x-csrf-token'] = this.csrf;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.server}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    const cookie = response.headers
      .getSetCookie()
      .map((c) => /^rk_session=([^;]*)/.exec(c)?.[1])
      .find((c) => c !== undefined);
    if (cookie !== undefined) this.cookie = cookie;
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    if (body?.view?.flowId) this.flow = body;
    if (path.startsWith('/api/flows') && typeof body?.stationNonce === 'string')
      this.stationNonce = body.stationNonce;
    if (path.startsWith('/api/flows') && typeof body?.cardKeyType === 'string')
      this.cardKeyType = body.cardKeyType;
    return body;
  }

  /** A statement of the workstation's station for the flow, with the nonce the server gave last. */
  private statement(
    kind: string,
    extra: Record<string, unknown> = {},
    flowId = this.flow?.view.flowId,
  ): Promise<any> {
    return this.agentApi('POST', '/v1/statements', { flowId, nonce: this.stationNonce, kind, ...extra });
  }

  private async agentApi(method: 'GET' | 'POST', path: string, payload?: unknown): Promise<any> {
    const headers: Record<string, string> = { origin: this.origin };
    if (this.agentToken) headers['x-agent-session'] = this.agentToken;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.agent}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`agent ${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text);
  }

  // ---- the workstation: readers, numbers, events --------------------------------------------------

  async connect(): Promise<void> {
    this.agentToken = (await this.agentApi('POST', '/v1/sessions')).token;
    expect((await this.agentApi('GET', '/v1/info')).backend.kind).toBe('pkcs11');
    await this.refresh();
    await new Promise<void>((opened) => void this.listen(opened));
  }

  close(): void {
    this.stream.abort();
  }

  async refresh(): Promise<void> {
    this.readers = (await this.agentApi('GET', '/v1/readers')).readers;
    this.numbers.update(this.readers.map((r) => r.id));
  }

  readerIdOf(slot: ReaderSlot): string {
    const reader = this.readers.find((r) => this.numbers.slotOf(r.id) === slot);
    if (reader === undefined) throw new Error(`no reader ${slot} in ${JSON.stringify(this.readers)}`);
    return reader.id;
  }

  cardIn(slot: ReaderSlot): CardNumber | null {
    return this.readers.find((r) => this.numbers.slotOf(r.id) === slot)?.card?.cardNumber ?? null;
  }

  /** Waits until the agent shows `cards` in reader 1 and 2 (null: the reader is there, empty). */
  async untilReaders(cards: { readonly 1: CardNumber | null; readonly 2: CardNumber | null }): Promise<void> {
    await expect
      .poll(
        async () => {
          await this.refresh();
          return { 1: this.cardIn(1), 2: this.cardIn(2), count: this.readers.length };
        },
        { timeout: 10_000, interval: 100 },
      )
      .toEqual({ ...cards, count: 2 });
    // Whatever the agent reported on the way is relayed by now.
    await this.queue;
  }

  flowReaders() {
    const one = (slot: ReaderSlot) => {
      const reader = this.readers.find((r) => this.numbers.slotOf(r.id) === slot);
      return { connected: reader !== undefined, card: reader?.card ?? null };
    };
    return { 1: one(1), 2: one(2) };
  }

  /** The agent's server-sent events, handled one at a time as the page does. */
  private async listen(opened: () => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      const response = await fetch(`${this.agent}/v1/events?session=${encodeURIComponent(this.agentToken)}`, {
        headers: { origin: this.origin },
        signal: this.stream.signal,
      });
      const reader = response.body?.getReader();
      for (;;) {
        const chunk = await reader?.read();
        if (chunk === undefined || chunk.done) break;
        // The agent's first words ("retry: …") say the subscription stands: its readers are watched.
        opened();
        buffered += decoder.decode(chunk.value, { stream: true });
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const data = block
            .split('\n')
            .find((line) => line.startsWith('data: '))
            ?.slice(6);
          if (data === undefined) continue;
          const event = JSON.parse(data);
          this.queue = this.queue.then(() => this.onAgentEvent(event)).catch((e) => this.failures.push(e));
        }
      }
    } catch (error) {
      if (!this.stream.signal.aborted) this.failures.push(error);
    } finally {
      // No waiting for a stream that failed: the failure is reported at the end.
      opened();
    }
  }

  /** workstation.ts + issuance-driver.ts: reader events go to the flow as reader 1 or 2. */
  private async onAgentEvent(event: {
    seq: number;
    type: string;
    readerId?: string;
    cardNumber?: CardNumber | null;
    flowId?: string;
    event?: { type: string; dialog?: string };
  }) {
    if (event.type === 'flow' && event.flowId !== undefined && event.event !== undefined) {
      this.flowEvents.push({ seq: event.seq, flowId: event.flowId, event: event.event });
      return;
    }
    if (event.readerId === undefined) return;
    await this.refresh();
    const reader = this.numbers.slotOf(event.readerId);
    if (reader === null || this.flow?.view.status !== 'active') return;
    const relayed: Relayed =
      event.type === 'card-inserted'
        ? { type: event.type, reader, cardNumber: event.cardNumber ?? null }
        : { type: event.type, reader };
    // The station signs its own observation; the page only carries it.
    const statement = await this.statement('event', { eventSeq: event.seq });
    await this.api('POST', `/api/flows/${this.flow.view.flowId}/agent-events`, { statement });
    this.relayed.push(relayed);
  }

  // ---- card operations with the agent's PIN dialog ---------------------------------------------------

  /** Runs an operation to its end; each PIN dialog is opened and the next PIN typed into it. */
  private async run(start: Operation, pins: readonly string[]): Promise<Operation> {
    const typed = [...pins];
    const seen = new Set<string>();
    let view = start;
    while (view.state === 'pending') {
      if (view.dialog?.state === 'waiting' && view.dialogUrl && !seen.has(view.dialog.id)) {
        seen.add(view.dialog.id);
        const page = await fetch(`${view.dialogUrl}?lang=sv`);
        expect(page.status).toBe(200);
        const pin = typed.shift();
        if (pin === undefined) throw new Error(`an unexpected PIN dialog: ${JSON.stringify(view)}`);
        // The dialog page posts from the agent's own origin; the portal never sees the PIN.
        const attempt = await fetch(`${view.dialogUrl}/attempt`, {
          method: 'POST',
          headers: { origin: new URL(view.dialogUrl).origin, 'content-type': 'application/json' },
          body: JSON.stringify({ pin }),
        });
        expect(attempt.status).toBe(200);
      }
      view = await this.agentApi('GET', `/v1/operations/${view.id}?wait=1`);
    }
    expect(typed, 'every PIN was asked for').toEqual([]);
    return view;
  }

  private async signOnCard(slot: ReaderSlot, toBeSigned: string, pin: string, flowId?: string) {
    const readerId = this.readerIdOf(slot);
    await this.agentApi('POST', '/v1/sessions/bind', { readerId });
    const done = await this.run(
      await this.agentApi('POST', `/v1/readers/${readerId}/sign`, {
        data: toBeSigned,
        ...(flowId ? { flowId } : {}),
      }),
      [pin],
    );
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    const card = await this.agentApi('GET', `/v1/readers/${readerId}/card`);
    const certificate = card.certificates.find((c: { key: string }) => c.key === 'sign')?.der as string;
    return { signature: done.result.signature as string, certificate };
  }

  // ---- portal session ------------------------------------------------------------------------------

  /** Card login with the card in reader 1: the server's challenge, PIN 1 in the agent's dialog. */
  async login(pin: string): Promise<any> {
    const readerId = this.readerIdOf(1);
    await this.agentApi('POST', '/v1/sessions/bind', { readerId });
    const challenge = await this.api('POST', '/api/auth/challenge');
    const done = await this.run(
      await this.agentApi('POST', `/v1/readers/${readerId}/authenticate`, { challenge: challenge.challenge }),
      [pin],
    );
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    const me = await this.api('POST', '/api/auth/login', {
      challengeId: challenge.challengeId,
      certificate: done.result.certificate,
      signature: done.result.signature,
      readers: await this.readersStatement(challenge.challengeId, challenge.stationNonce),
    });
    this.csrf = me.csrfToken;
    return me;
  }

  /** The card station's signed statement of its readers, for a challenge and the nonce given with it. */
  private readersStatement(challengeId: string, nonce: string): Promise<any> {
    return this.agentApi('POST', '/v1/statements', { flowId: challengeId, nonce, kind: 'readers' });
  }

  async logout(): Promise<void> {
    await this.api('POST', '/api/auth/logout');
    this.cookie = '';
    this.csrf = '';
    this.flow = null;
  }

  /** Beställ reservkort: find the person, register the order, sign it with PIN 2 on the card in reader 1. */
  async registerOrder(pnr: string, cardNumber: CardNumber, pin2: string): Promise<any> {
    const found = await this.api('GET', `/api/admin/persons?query=${encodeURIComponent(pnr)}`);
    const now = Date.now();
    const challenge = await this.api('POST', '/api/admin/orders/prepare', {
      personHsaId: found.person.hsaId,
      cardNumber,
      validity: { notBefore: now, notAfter: now + 7 * 86_400_000 },
      idDocument: 'swedish-passport',
    });
    const signed = await this.signOnCard(1, challenge.toBeSigned, pin2);
    return this.api('POST', '/api/admin/orders', {
      challengeId: challenge.challengeId,
      ...signed,
      // The station's word that the login card never left reader 1 since login.
      readers: await this.readersStatement(challenge.challengeId, challenge.stationNonce),
    });
  }

  // ---- the issuance flow ---------------------------------------------------------------------------

  private get flowPath(): string {
    return `/api/flows/${this.flow.view.flowId}`;
  }

  /** A flow id and nonce from the server, the station's readers signed for them, the flow. */
  async start(): Promise<any> {
    await this.refresh();
    const { flowId, stationNonce } = await this.api('POST', '/api/flows/start');
    this.stationNonce = stationNonce;
    const readers = await this.statement('readers', {}, flowId);
    return this.api('POST', '/api/flows', { flowId, readers });
  }

  action(type: string, extra: Record<string, unknown> = {}): Promise<any> {
    return this.api('POST', `${this.flowPath}/actions`, { type, ...extra });
  }

  relay(event: Record<string, unknown>): Promise<any> {
    return this.api('POST', `${this.flowPath}/agent-events`, event);
  }

  async search(query: string): Promise<any> {
    return this.api('POST', `${this.flowPath}/search`, { query });
  }

  /** SIGNERA (reader 1, PIN 2) or KVITTERA KORT (reader 2, the new card's PIN 2). */
  async signFlow(purpose: 'order' | 'acknowledge', pin2: string): Promise<any> {
    const challenge = await this.api('POST', `${this.flowPath}/signing-challenge`, { purpose });
    const slot = purpose === 'order' ? 1 : 2;
    const signed = await this.signOnCard(slot, challenge.toBeSigned, pin2, this.flow.view.flowId);
    if (purpose === 'order')
      return this.api('POST', `${this.flowPath}/sign`, {
        challengeId: challenge.challengeId,
        ...signed,
        readers: await this.statement('readers'),
      });
    return this.api('POST', `${this.flowPath}/acknowledge`, {
      challengeId: challenge.challengeId,
      signature: signed.signature,
    });
  }

  /** BEKRÄFTA ÖVERLÄMNING: then the card in reader 2 proves itself with its bureau key, through the station. */
  async confirmHandover(): Promise<any> {
    await this.action('handover-confirmed');
    const proof = await this.statement('card-proof', { reader: 2 });
    return this.api('POST', `${this.flowPath}/handover`, { proof });
  }

  /** STARTA NEDLADDNING: keys on the card (PIN 1, PIN 2), CSRs, /certificates, written to the card. */
  async download(
    pin1: string,
    pin2: string,
  ): Promise<{ after: any; certificates: { auth: string; sign: string } }> {
    await this.action('download-requested');
    const flowId = this.flow.view.flowId as string;
    const readerId = this.readerIdOf(2);
    await this.agentApi('POST', '/v1/sessions/bind', { readerId });
    const enrolled = await this.run(
      await this.agentApi('POST', `/v1/readers/${readerId}/enrol`, { flowId, keySpec: this.cardKeyType }),
      [pin1, pin2],
    );
    expect(enrolled.state, JSON.stringify(enrolled.error)).toBe('done');
    await this.syncAgentEvents(flowId);
    expect(this.flow.view.step).toBe(6);
    const issued = await this.api('POST', `${this.flowPath}/certificates`, {
      authCsr: enrolled.result.authCsr,
      signCsr: enrolled.result.signCsr,
    });
    const written = await this.run(
      await this.agentApi('POST', `/v1/readers/${readerId}/certificates`, {
        flowId,
        auth: issued.certificates.auth,
        sign: issued.certificates.sign,
      }),
      [],
    );
    expect(written.state, JSON.stringify(written.error)).toBe('done');
    await this.syncAgentEvents(flowId);
    return { after: this.flow, certificates: issued.certificates };
  }

  /**
   * The agent's step-6 events of the flow that the server has not seen (dialogs only while
   * downloading), each as the station's statement; the keys through /keys, vouched for by the card.
   */
  private async syncAgentEvents(flowId: string): Promise<void> {
    const { events } = await this.agentApi('GET', `/v1/flows/${flowId}/events`);
    // The event stream brings each with its seq; wait until it has brought them all.
    await expect
      .poll(() => this.flowEvents.filter((e) => e.flowId === flowId).length, { timeout: 5000 })
      .toBeGreaterThanOrEqual(events.length);
    const streamed = this.flowEvents.filter((e) => e.flowId === flowId);
    for (const { seq, event } of streamed.slice(this.relayedFlowEvents)) {
      this.relayedFlowEvents++;
      if (event.dialog && this.flow.view.download === null) continue;
      if (event.type === 'keys-generated') {
        const statement = await this.statement('keys-generated', { reader: 2 });
        await this.api('POST', `${this.flowPath}/keys`, { statement });
        continue;
      }
      const statement = await this.statement('event', { eventSeq: seq });
      await this.api('POST', `${this.flowPath}/agent-events`, { statement });
    }
  }
}

const enabled = (view: any, id: string): boolean =>
  view.controls.find((c: { id: string; enabled: boolean }) => c.id === id)?.enabled === true;

// Processes take a few seconds each to start (TypeScript through tsx): the whole run stays within this.
describe('production mode on PKCS#11 cards (SoftHSM2)', { timeout: 180_000 }, () => {
  let hsm: SoftHsm;
  let data: string;
  let workstation: string;
  let server: ChildProcess | undefined;
  let agent: ChildProcess | undefined;
  let page: PortalPage | undefined;
  let serverUrl = '';
  let agentUrl = '';

  const cli = async (args: readonly string[], extra: Record<string, string> = {}): Promise<string> => {
    try {
      const { stdout } = await run(process.execPath, [BIN, '--data', data, ...args], {
        env: childEnv(hsm, extra),
        timeout: 90_000,
      });
      return stdout;
    } catch (error) {
      const failed = error as { stderr?: string; stdout?: string };
      throw new Error(`reservkort ${args.join(' ')}: ${failed.stderr ?? ''}${failed.stdout ?? ''}`);
    }
  };
  const tool = (args: readonly string[]) => pkcs11Tool(hsm, args);

  beforeAll(async () => {
    hsm = await createSoftHsm();
    data = await mkdtemp(join(tmpdir(), 'reservkort-pkcs11-flow-'));
    workstation = join(data, 'workstation');
  }, 30_000);

  afterAll(async () => {
    page?.close();
    await stop(agent);
    await stop(server);
    await hsm?.dispose();
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('admin 1 orders, admin 2 issues onto the reserve card, the recipient acknowledges; the card holds what the CA issued', async () => {
    // ---- the CA operator and the card bureau, with the product's commands -----------------------------
    // Cards with RSA-2048 keys, as real SITHS cards carry: the CA's setting, followed by every card.
    await cli([
      'ca',
      'init',
      '--base-url',
      'http://127.0.0.1:9',
      '--organisation',
      'Region Exempel CA',
      '--card-key-type',
      'rsa-2048',
    ]);
    const directory = join(data, 'directory.json');
    await writeFile(
      directory,
      JSON.stringify({
        branches: [
          { id: 'region', parentId: null, name: 'Region Exempel' },
          { id: 'hospital', parentId: 'region', name: 'Sjukhuset' },
          { id: 'clinic', parentId: 'hospital', name: 'Kliniken' },
        ],
        persons: [
          { ...RECIPIENT, personalNumber: RECIPIENT.pnr, branchId: 'clinic', protectedIdentity: false },
        ],
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
    // The server starts while the cards are made: it only reads the CA and the database.
    const serving = startProcess(
      ['--data', data, 'serve', '--port', '0'],
      childEnv(hsm),
      /(https?:\/\/[^\s/]+)\/api\/docs/,
    );
    // Awaited below; a start that fails meanwhile is reported there, not as an unhandled rejection.
    serving.catch(() => undefined);

    const module = ['--pkcs11-module', hsm.module];
    for (const admin of [ADMIN1, ADMIN2]) {
      await cli(['card', 'init', ...module, '--slot', 'free', '--card-number', admin.card], {
        RESERVKORT_CARD_PIN: admin.pin,
        RESERVKORT_CARD_PUK: ADMIN_PUK,
      });
      const issued = JSON.parse(
        await cli(
          ['card', 'issue-admin', ...module, '--card-number', admin.card, '--hsa-id', admin.hsaId, '--json'],
          {
            RESERVKORT_CARD_PIN: admin.pin,
          },
        ),
      );
      expect(issued).toHaveLength(2);
    }
    // The reserve card's PIN letter as a file, as a card bureau's run would have it.
    const letter = join(data, 'reserve-pins');
    await writeFile(letter, `pin=${RESERVE.pin}\npuk=${RESERVE.puk}\n`, { mode: 0o600 });
    await cli([
      'card',
      'init',
      ...module,
      '--slot',
      'free',
      '--card-number',
      RESERVE.card,
      '--pins-file',
      letter,
    ]);

    const started = await serving;
    server = started.child;
    serverUrl = started.match[1] ?? '';
    const portalOrigin = new URL(serverUrl).origin;
    expect((await (await fetch(`${serverUrl}/health`)).json()).training).not.toBe(true);

    // The workstation is registered as a card station of the region before its agent starts.
    const registered = JSON.parse(
      await cli([
        'station',
        'register',
        '--agent-data',
        join(workstation, 'agent'),
        '--branch',
        'region',
        '--name',
        'Kortdisken',
        '--json',
      ]),
    );
    expect(registered.stationId).toMatch(/^st-/);
    // The workstation: only admin 1's card is in when the agent starts (the others are out).
    await removeCardToken(hsm, ADMIN2.card);
    await removeCardToken(hsm, RESERVE.card);
    const agentStarted = await startProcess(
      ['--data', workstation, 'agent', ...module, '--port', '0', '--portal-origin', portalOrigin],
      childEnv(hsm),
      /card agent listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    agent = agentStarted.child;
    agentUrl = agentStarted.match[1] ?? '';
    page = new PortalPage(serverUrl, agentUrl, portalOrigin);
    const p = page;
    await p.connect();
    // A sealed reserve card goes into the second reader: readers keep their numbers from here on.
    await restoreCardToken(hsm, RESERVE.card);
    await p.untilReaders({ 1: ADMIN1.card, 2: RESERVE.card });

    // ---- admin 1: the admin portal ------------------------------------------------------------------
    const me1 = await p.login(ADMIN1.pin);
    expect(me1).toMatchObject({ hsaId: ADMIN1.hsaId, cardNumber: ADMIN1.card, assuranceLevel: 'LoA3' });
    const order = await p.registerOrder(RECIPIENT.pnr, RESERVE.card, ADMIN1.pin);
    expect(order).toMatchObject({ cardNumber: RESERVE.card, state: 'registered' });
    await p.logout();

    // Admin 1's card out, admin 2's card into reader 1; the reserve card out of reader 2 for now.
    await removeCardToken(hsm, ADMIN1.card);
    await restoreCardToken(hsm, ADMIN2.card);
    await p.untilReaders({ 1: ADMIN2.card, 2: RESERVE.card });
    await removeCardToken(hsm, RESERVE.card);
    await p.untilReaders({ 1: ADMIN2.card, 2: null });

    // ---- admin 2: steps 1–3 ---------------------------------------------------------------------------
    const me2 = await p.login(ADMIN2.pin);
    expect(me2).toMatchObject({ hsaId: ADMIN2.hsaId, cardNumber: ADMIN2.card, assuranceLevel: 'LoA3' });
    const step1 = await p.start();
    expect(step1.view.step).toBe(1);
    expect(enabled(step1.view, 'manage-orders')).toBe(true);
    expect((await p.action('manage-orders')).view.step).toBe(2);
    const found = await p.search(RECIPIENT.pnr);
    expect(found.review).toMatchObject({ name: 'Petra Pkcs', cardNumber: RESERVE.card });
    expect((await p.action('order-selected')).view.step).toBe(3);
    const signed = await p.signFlow('order', ADMIN2.pin);
    expect(signed.view.step, JSON.stringify(signed.raised)).toBe(4);

    // ---- the recipient: the reserve card into reader 2, steps 4–7 ---------------------------------------
    await restoreCardToken(hsm, RESERVE.card);
    await p.untilReaders({ 1: ADMIN2.card, 2: RESERVE.card });
    // The page hears it from the agent's event stream and tells the flow: card inserted in reader 2.
    await expect
      .poll(() => p.relayed, { timeout: 5000 })
      .toContainEqual({ type: 'card-inserted', reader: 2, cardNumber: RESERVE.card });
    expect(enabled(p.flow.view, 'confirm-handover'), JSON.stringify(p.flow.view.controls)).toBe(true);
    expect((await p.confirmHandover()).view.step).toBe(5);
    await p.action('terms-accepted', { accepted: true });
    // A one-PIN token: PIN 2 is PIN 1 given again for the signature key.
    const { after, certificates } = await p.download(RESERVE.pin, RESERVE.pin);
    expect(after.view.step, JSON.stringify(after.view)).toBe(7);
    expect(after.view.issuedSerials).toHaveLength(2);
    const acknowledged = await p.signFlow('acknowledge', RESERVE.pin);
    expect(acknowledged.view.status, JSON.stringify(acknowledged.raised)).toBe('completed');
    expect(p.failures).toEqual([]);

    // ---- the reserve card, looked at by pkcs11-tool and OpenSSL ---------------------------------------
    const listing = await tool([
      '--token-label',
      RESERVE.card,
      '--login',
      '--pin',
      RESERVE.pin,
      '--list-objects',
    ]);
    const blocks = listing.split(/\n(?=\S)/);
    const privateKeys = blocks.filter((b) => b.startsWith('Private Key Object'));
    // The recipient's two keys, and the card bureau key that card init wrote.
    expect(privateKeys).toHaveLength(3);
    expect(privateKeys.filter((b) => /label:\s+card-auth/.test(b))).toHaveLength(1);
    for (const block of privateKeys) {
      expect(block).toMatch(/Access:.*\bsensitive\b/);
      expect(block).toMatch(/Access:.*never extractable/);
      expect(block).not.toMatch(/Access:[^\n]*(?<!never )extractable/);
    }
    expect(blocks.filter((b) => b.startsWith('Certificate Object'))).toHaveLength(3);

    const dir = join(data, 'check');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'root.pem'), await (await fetch(`${serverUrl}/pki/ca/root.pem`)).text());
    await writeFile(join(dir, 'loa3.pem'), await (await fetch(`${serverUrl}/pki/ca/loa3.pem`)).text());
    registerExtensions();
    const onCard: string[] = [];
    for (const [key, id] of [
      ['auth', '01'],
      ['sign', '02'],
    ] as const) {
      const der = join(dir, `${key}.der`);
      const pem = join(dir, `${key}.pem`);
      await tool([
        '--token-label',
        RESERVE.card,
        '--read-object',
        '--type',
        'cert',
        '--id',
        id,
        '--output-file',
        der,
      ]);
      await run('openssl', ['x509', '-inform', 'DER', '-in', der, '-out', pem]);
      const verified = await run('openssl', [
        'verify',
        '-CAfile',
        join(dir, 'root.pem'),
        '-untrusted',
        join(dir, 'loa3.pem'),
        pem,
      ]);
      expect(verified.stdout.trim()).toBe(`${pem}: OK`);
      const text = (await run('openssl', ['x509', '-in', pem, '-noout', '-text'])).stdout;
      expect(text).toContain('1.2.752.34.2.1');
      expect(text).toContain(RESERVE.card);
      expect(text).toContain('Public-Key: (2048 bit)');
      expect(text).toMatch(
        key === 'auth'
          ? /Key Usage: critical\s+Digital Signature, Key Encipherment\n/
          : /Key Usage: critical\s+Non Repudiation\n/,
      );
      const certificate = new X509Certificate(await readFile(der));
      expect(certificate.getExtension(CardNumberExtension)?.cardNumber).toBe(order.cardNumber);
      expect(certificate.subjectName.getField('2.5.4.5')).toEqual([RECIPIENT.hsaId]);
      onCard.push(Buffer.from(certificate.rawData).toString('base64'));
    }
    // What the card holds is what the CA issued in the flow.
    expect(onCard).toEqual([certificates.auth, certificates.sign]);

    // And the card bureau's certificate, which the flow left alone, chains to the root through the bureau CA.
    await writeFile(join(dir, 'bureau.pem'), await (await fetch(`${serverUrl}/pki/ca/bureau.pem`)).text());
    const bureauDer = join(dir, 'card-bureau.der');
    const bureauPem = join(dir, 'card-bureau.pem');
    await tool([
      '--token-label',
      RESERVE.card,
      '--read-object',
      '--type',
      'cert',
      '--id',
      '03',
      '--output-file',
      bureauDer,
    ]);
    await run('openssl', ['x509', '-inform', 'DER', '-in', bureauDer, '-out', bureauPem]);
    const bureauVerified = await run('openssl', [
      'verify',
      '-CAfile',
      join(dir, 'root.pem'),
      '-untrusted',
      join(dir, 'bureau.pem'),
      bureauPem,
    ]);
    expect(bureauVerified.stdout.trim()).toBe(`${bureauPem}: OK`);
    expect((await run('openssl', ['x509', '-in', bureauPem, '-noout', '-subject'])).stdout).toContain(
      `serialNumber = ${RESERVE.card}`,
    );
  });
});
