// What the web page does between the card agent and the server, like page.ts, but over any number
// of servers: in-process apps (inject) or real processes (HTTP), chosen per request. Sessions,
// challenges and flows live in the database, so a page may talk to a different server each time.
import { CardAgent, VirtualBackend } from '@reservkort/agent';
import type { CardNumber } from '@reservkort/domain';
import type { FastifyInstance } from 'fastify';
import { CARD_PINS, completeWithPins } from './issuance-harness.js';
import { hasStation, readersStatement } from './station-agent.js';

export interface ApiAnswer {
  readonly status: number;
  readonly body: any;
  /** Which server answered. */
  readonly server: string;
}

interface Request {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly cookie: string;
  readonly csrf: string;
  readonly payload?: unknown;
}

/** One server as the page reaches it. */
export interface Endpoint {
  readonly name: string;
  send(request: Request): Promise<{ status: number; body: any; sessionCookie: string | null }>;
}

/** An app in this process, reached with inject. */
export const injectEndpoint = (name: string, app: FastifyInstance): Endpoint => ({
  name,
  send: async ({ method, url, cookie, csrf, payload }) => {
    const response = await app.inject({
      method,
      url,
      cookies: cookie ? { rk_session: cookie } : {},
      headers: csrf ? { 'x-csrf-token': csrf } : {},
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return {
      status: response.statusCode,
      body: response.body ? response.json() : null,
      sessionCookie: response.cookies.find((c) => c.name === 'rk_session')?.value ?? null,
    };
  },
});

/**
 * A server process, reached over HTTP at its base URL (or a load balancer in front of several);
 * `observe` sees each response, e.g. to read which server behind the balancer answered.
 */
export const httpEndpoint = (
  name: string,
  baseUrl: string,
  observe?: (response: Response) => void,
): Endpoint => ({
  name,
  send: async ({ method, url, cookie, csrf, payload }) => {
    const headers: Record<string, string> = {};
    if (cookie) headers.cookie = `rk_session=${cookie}`;
    if (csrf) headers['x-csrf-token'] = csrf;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(new URL(url, baseUrl), {
      method,
      headers,
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    observe?.(response);
    const text = await response.text();
    const sessionCookie =
      response.headers
        .getSetCookie()
        .map((c) => /^rk_session=([^;]*)/.exec(c)?.[1])
        .find((c) => c !== undefined) ?? null;
    return { status: response.status, body: text ? JSON.parse(text) : null, sessionCookie };
  },
});

/** The administrator's workstation: two virtual readers and the card agent beside the browser. */
export interface Workstation {
  readonly cards: VirtualBackend;
  readonly agent: CardAgent;
  readonly agentToken: string;
  close(): Promise<void>;
}

export const openWorkstation = async (): Promise<Workstation> => {
  const cards = await VirtualBackend.open({ stateFile: null, readers: 2 });
  const agent = new CardAgent({ backend: cards, info: { version: '0.1.0', packaging: 'test' } });
  return { cards, agent, agentToken: agent.createSession().token, close: () => agent.close() };
};

export class DurablePage {
  private cookie = '';
  private csrf = '';
  private turn = 0;
  flowId = '';
  /** Which server answered each request, in order. */
  readonly served: string[] = [];

  /**
   * Requests go to the endpoints in turn (one endpoint: always that one). `use` pins the next
   * requests to one of them.
   */
  constructor(
    readonly ws: Workstation,
    private endpoints: readonly Endpoint[],
  ) {}

  use(...endpoints: readonly Endpoint[]): this {
    this.endpoints = endpoints;
    this.turn = 0;
    return this;
  }

  private next(): Endpoint {
    const endpoint = this.endpoints[this.turn % this.endpoints.length];
    if (endpoint === undefined) throw new Error('no endpoint');
    this.turn++;
    return endpoint;
  }

  async api(method: 'GET' | 'POST', url: string, payload?: unknown): Promise<ApiAnswer> {
    const endpoint = this.next();
    const answer = await endpoint.send({ method, url, cookie: this.cookie, csrf: this.csrf, payload });
    this.served.push(endpoint.name);
    return { status: answer.status, body: answer.body, server: endpoint.name };
  }

  /** Card login: the card in reader 1 signs the server's challenge after PIN 1. */
  async login(cardNumber: CardNumber, reader = 'reader-1'): Promise<ApiAnswer> {
    const { cards, agent, agentToken } = this.ws;
    await cards.insertCard(reader, cardNumber);
    await agent.bind(agentToken, reader);
    const challenge = (await this.api('POST', '/api/auth/challenge')).body;
    const started = await agent.authenticate(
      agentToken,
      reader,
      Buffer.from(challenge.challenge, 'base64'),
      null,
    );
    const done = await completeWithPins(agent, started, [CARD_PINS.pin1]);
    const result = done.result as { signature: string; certificate: string };
    const endpoint = this.next();
    const response = await endpoint.send({
      method: 'POST',
      url: '/api/auth/login',
      cookie: '',
      csrf: '',
      payload: {
        challengeId: challenge.challengeId,
        certificate: result.certificate,
        signature: result.signature,
        // At a card station the station's word on which reader holds the login card goes too.
        ...(hasStation(agent, agentToken)
          ? {
              readers: await readersStatement(
                agent,
                agentToken,
                challenge.challengeId,
                challenge.stationNonce,
              ),
            }
          : {}),
      },
    });
    this.served.push(endpoint.name);
    this.cookie = response.sessionCookie ?? '';
    this.csrf = response.status === 200 ? response.body.csrfToken : '';
    return { status: response.status, body: response.body, server: endpoint.name };
  }

  async readers() {
    const list = await this.ws.cards.readers();
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

  view(): Promise<ApiAnswer> {
    return this.api('GET', `/api/flows/${this.flowId}`);
  }

  action(type: string, extra: Record<string, unknown> = {}) {
    return this.api('POST', `/api/flows/${this.flowId}/actions`, { type, ...extra });
  }

  relay(event: Record<string, unknown>) {
    return this.api('POST', `/api/flows/${this.flowId}/agent-events`, event);
  }

  /** Signs a server challenge with a card's signature key (PIN 2) through the agent. */
  async signChallenge(purpose: 'order' | 'acknowledge', reader: string, pin2: string) {
    const { cards, agent, agentToken } = this.ws;
    const challenge = (await this.api('POST', `/api/flows/${this.flowId}/signing-challenge`, { purpose }))
      .body;
    const started = await agent.sign(
      agentToken,
      reader,
      Buffer.from(challenge.toBeSigned, 'base64'),
      this.flowId,
    );
    const done = await completeWithPins(agent, started, [pin2]);
    const info = await cards.cardInfo(reader);
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
    const events = this.ws.agent.flowEvents(this.flowId).slice(seen.count);
    seen.count += events.length;
    let last: ApiAnswer | null = null;
    for (const e of events)
      last = await this.relay({ type: e.type, ...(e.dialog ? { dialog: e.dialog } : {}) });
    return last;
  }
}
