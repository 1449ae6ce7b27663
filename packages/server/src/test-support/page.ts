// What the web page does between the card agent and the server, written out for tests.
import type { CardNumber } from '@reservkort/domain';
import { CARD_PINS, completeWithPins, type Harness } from './issuance-harness.js';

export interface ApiAnswer {
  readonly status: number;
  readonly body: any;
}

export class Page {
  private cookie = '';
  private csrf = '';
  flowId = '';

  constructor(private readonly h: Harness) {}

  /** A real HTTP request to the listening server, with the session cookie and CSRF header a browser page sends. */
  async api(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<ApiAnswer> {
    const headers: Record<string, string> = {};
    if (this.cookie) headers.cookie = `rk_session=${this.cookie}`;
    if (this.csrf) headers['x-csrf-token'] = this.csrf;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.h.baseUrl}${url}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  /** Card login: the card in reader 1 signs the server's challenge after PIN 1. */
  async login(cardNumber: CardNumber, reader = 'reader-1'): Promise<ApiAnswer> {
    await this.h.cards.insertCard(reader, cardNumber);
    // A login page connects the agent to the card it logs in with.
    await this.h.agent.bind(this.h.agentToken, reader);
    const challenge = (await this.api('POST', '/api/auth/challenge')).body;
    const started = await this.h.agent.authenticate(
      this.h.agentToken,
      reader,
      Buffer.from(challenge.challenge, 'base64'),
      null,
    );
    const done = await completeWithPins(this.h.agent, started, [CARD_PINS.pin1]);
    const result = done.result as { signature: string; certificate: string };
    const response = await this.h.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: {
        challengeId: challenge.challengeId,
        certificate: result.certificate,
        signature: result.signature,
      },
    });
    this.cookie = response.cookies.find((c) => c.name === 'rk_session')?.value ?? '';
    this.csrf = response.statusCode === 200 ? response.json().csrfToken : '';
    return { status: response.statusCode, body: response.json() };
  }

  async readers() {
    const list = await this.h.cards.readers();
    const slot = (id: string) => {
      const reader = list.find((r) => r.id === id);
      return { connected: reader !== undefined, card: reader?.card ?? null };
    };
    return { 1: slot('reader-1'), 2: slot('reader-2') };
  }

  async start(): Promise<ApiAnswer> {
    const answer = await this.api('POST', '/api/flows', { readers: await this.readers() });
    this.flowId = answer.body?.view?.flowId ?? '';
    return answer;
  }

  action(type: string, extra: Record<string, unknown> = {}) {
    return this.api('POST', `/api/flows/${this.flowId}/actions`, { type, ...extra });
  }

  relay(event: Record<string, unknown>) {
    return this.api('POST', `/api/flows/${this.flowId}/agent-events`, event);
  }

  /** Signs a server challenge with a card's signature key (PIN 2) through the agent. */
  async signChallenge(purpose: 'order' | 'acknowledge', reader: string, pin2: string) {
    const challenge = (await this.api('POST', `/api/flows/${this.flowId}/signing-challenge`, { purpose }))
      .body;
    const started = await this.h.agent.sign(
      this.h.agentToken,
      reader,
      Buffer.from(challenge.toBeSigned, 'base64'),
      this.flowId,
    );
    const done = await completeWithPins(this.h.agent, started, [pin2]);
    const info = await this.h.cards.cardInfo(reader);
    const certificate = Buffer.from(
      info.certificates.find((c) => c.key === 'sign')?.der ?? new Uint8Array(),
    ).toString('base64');
    return {
      challengeId: challenge.challengeId as string,
      signature: (done.result as { signature: string }).signature,
      certificate,
    };
  }

  /** Relays the agent's recorded events of this flow that the server has not seen yet. */
  async relayAgentEvents(seen: { count: number }) {
    const events = this.h.agent.flowEvents(this.flowId).slice(seen.count);
    seen.count += events.length;
    let last: ApiAnswer | null = null;
    for (const e of events)
      last = await this.relay({ type: e.type, ...(e.dialog ? { dialog: e.dialog } : {}) });
    return last;
  }
}
