// The web page as a program, over HTTP: the server's API, the card agent's loopback API with the
// portal's Origin, its event stream, and the PINs typed into the agent's own dialog. Reader 1 and 2
// are numbered by the page's own rule (ReaderNumbers).
import type { CardNumber, ReaderSlot } from '@reservkort/domain';
import { expect } from 'vitest';
import { ReaderNumbers } from '../../packages/web/src/flow/reader-numbers.js';

export interface AgentReader {
  readonly id: string;
  readonly card: { readonly cardNumber: CardNumber | null } | null;
}

export interface Operation {
  readonly id: string;
  readonly state: 'pending' | 'done' | 'failed';
  readonly result: any;
  readonly error: { readonly code: string } | null;
  readonly dialog: { readonly id: string; readonly state: string } | null;
  readonly dialogUrl: string | null;
}

export interface Relayed {
  readonly type: string;
  readonly reader: ReaderSlot;
  readonly cardNumber?: CardNumber | null;
}

/**
 * The web page as a program: workstation.ts, portal-session.ts, issuance-driver.ts and the admin
 * portal's order form, over HTTP. The person at the keyboard types PINs into the agent's dialog.
 */
export class HttpPortal {
  private cookie = '';
  private csrf = '';
  private agentToken = '';
  private readonly numbers = new ReaderNumbers();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly stream = new AbortController();
  /** Per flow, how many of its streamed events were relayed to the server (a page may run several flows). */
  private readonly relayedFlowEvents = new Map<string, number>();
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

  /** A session with the agent and its event stream; `backend` is the card backend it must have. */
  async connect(backend: 'pkcs11' | 'virtual' = 'pkcs11'): Promise<void> {
    this.agentToken = (await this.agentApi('POST', '/v1/sessions')).token;
    expect((await this.agentApi('GET', '/v1/info')).backend.kind).toBe(backend);
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
    // A loop, not expect.poll: set-ups in beforeAll wait for readers too.
    const wanted = JSON.stringify({ ...cards, count: 2 });
    let seen = '';
    for (const until = Date.now() + 10_000; seen !== wanted; ) {
      if (Date.now() > until) throw new Error(`readers: wanted ${wanted}, the agent shows ${seen}`);
      if (seen !== '') await new Promise((resolve) => setTimeout(resolve, 100));
      await this.refresh();
      seen = JSON.stringify({ 1: this.cardIn(1), 2: this.cardIn(2), count: this.readers.length });
    }
    // Whatever the agent reported on the way is relayed by now.
    await this.queue;
  }

  /**
   * Training mode: a virtual card into reader `slot` (null: the reader emptied), as the training
   * panel's buttons do; waits until the agent shows it there.
   */
  async trainingCard(slot: ReaderSlot, cardNumber: CardNumber | null): Promise<void> {
    await this.refresh();
    if (this.cardIn(slot) === cardNumber) return;
    const readerId = this.readerIdOf(slot);
    if (this.cardIn(slot) !== null) await this.agentApi('POST', '/v1/training/cards/remove', { readerId });
    if (cardNumber !== null)
      await this.agentApi('POST', '/v1/training/cards/insert', { readerId, cardNumber });
    for (const until = Date.now() + 10_000; ; ) {
      await this.refresh();
      if (this.cardIn(slot) === cardNumber) break;
      if (Date.now() > until)
        throw new Error(`reader ${slot}: wanted ${cardNumber}, got ${this.cardIn(slot)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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

  // ---- the holder's own pages ----------------------------------------------------------------------

  /** The holder logs in with the reserve card in `slot`: the server's challenge, PIN 1 in the agent's dialog. */
  async holderLogin(pin: string, slot: ReaderSlot = 2): Promise<any> {
    const readerId = this.readerIdOf(slot);
    await this.agentApi('POST', '/v1/sessions/bind', { readerId });
    const challenge = await this.api('POST', '/api/auth/challenge');
    const done = await this.run(
      await this.agentApi('POST', `/v1/readers/${readerId}/authenticate`, { challenge: challenge.challenge }),
      [pin],
    );
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    const me = await this.api('POST', '/api/holder/login', {
      challengeId: challenge.challengeId,
      certificate: done.result.certificate,
      signature: done.result.signature,
    });
    this.csrf = me.csrfToken;
    return me;
  }

  /**
   * Förlängning as the holder's page does it: start, terms, new keys on the card with its proof
   * (PIN 1, then PIN 2 for the signature key's CSR), the certificates, written and the old keys
   * removed, then the acknowledgement with the new signature key (PIN 2). Returns the extension as
   * acknowledged and the new certificates (base64 DER).
   */
  async extend(
    pin1: string,
    pin2: string,
    slot: ReaderSlot = 2,
  ): Promise<{ extension: any; started: any; certificates: { auth: string; sign: string } }> {
    const readerId = this.readerIdOf(slot);
    const started = await this.api('POST', '/api/holder/extension');
    await this.api('POST', `/api/holder/extension/${started.id}/terms`);
    const keys = await this.run(
      await this.agentApi('POST', `/v1/readers/${readerId}/renewal/keys`, {
        extensionId: started.id,
        nonce: started.nonce,
        keySpec: started.cardKeyType,
      }),
      [pin1, pin2],
    );
    expect(keys.state, JSON.stringify(keys.error)).toBe('done');
    const { authCsr, signCsr, ...proof } = keys.result;
    await this.api('POST', `/api/holder/extension/${started.id}/keys`, proof);
    const issued = await this.api('POST', `/api/holder/extension/${started.id}/certificates`, {
      authCsr,
      signCsr,
    });
    const written = await this.run(
      await this.agentApi('POST', `/v1/readers/${readerId}/renewal/certificates`, issued.certificates),
      [],
    );
    expect(written.state, JSON.stringify(written.error)).toBe('done');
    const challenge = await this.api('POST', `/api/holder/extension/${started.id}/acknowledgement-challenge`);
    const { signature } = await this.signOnCard(slot, challenge.toBeSigned, pin2);
    const extension = await this.api('POST', `/api/holder/extension/${started.id}/acknowledge`, {
      challengeId: challenge.challengeId,
      signature,
    });
    return { extension, started, certificates: issued.certificates };
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

  /** BEKRÄFTA ÖVERLÄMNING with the proof of the card in reader 2 (its bureau key, through the station), as the page sends it. */
  async confirmHandover(): Promise<any> {
    const proof = await this.statement('card-proof', { reader: 2 });
    return this.api('POST', `${this.flowPath}/handover`, { proof, confirmed: true });
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
    for (const { seq, event } of streamed.slice(this.relayedFlowEvents.get(flowId) ?? 0)) {
      this.relayedFlowEvents.set(flowId, (this.relayedFlowEvents.get(flowId) ?? 0) + 1);
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

export const enabled = (view: any, id: string): boolean =>
  view.controls.find((c: { id: string; enabled: boolean }) => c.id === id)?.enabled === true;
