// What the web page does between the card agent and the server, like page.ts, but over any number
// of servers: in-process apps (inject) or real processes (HTTP), chosen per request. Sessions,
// challenges and flows live in the database, so a page may talk to a different server each time.
import { type AgentEvent, CardAgent, type StatementRequest, VirtualBackend } from '@reservkort/agent';
import type { CardNumber, SignedStatement } from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import type { FastifyInstance } from 'fastify';
import { CARD_PINS, completeWithPins, RESERVE_PINS } from './issuance-harness.js';
import { hasStation, readersStatement } from './station-agent.js';
import { openTestStation, registerTestStation, type StationDeps } from './test-station.js';

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

/**
 * The administrator's workstation: two virtual readers and the card agent beside the browser, a
 * registered card station of `ca`, which also issues the bureau keys of the cards put in it.
 */
export interface Workstation {
  readonly cards: VirtualBackend;
  readonly agent: CardAgent;
  readonly agentToken: string;
  readonly ca: CertificateAuthority;
  close(): Promise<void>;
}

export const openWorkstation = async (deps: StationDeps, branchId = 'region'): Promise<Workstation> => {
  const cards = await VirtualBackend.open({ stateFile: null, readers: 2 });
  const agent = new CardAgent({
    backend: cards,
    info: { version: '0.1.0', packaging: 'test' },
    station: await openTestStation(),
  });
  const agentToken = agent.createSession().token;
  await registerTestStation(agent, agentToken, deps, branchId);
  return { cards, agent, agentToken, ca: deps.ca, close: () => agent.close() };
};

/** A virtual reader's slot number from its id. */
const slotOf = (id: string): 1 | 2 | null => (id === 'reader-1' ? 1 : id === 'reader-2' ? 2 : null);

/** The body of a card login. */
export interface LoginRequest {
  readonly challengeId: string;
  readonly certificate: string;
  readonly signature: string;
  readonly readers?: SignedStatement;
  /** The issuance's first flow id reserved with the login. */
  readonly reserveFlow?: boolean;
}

/** A flow id reserved for the logged-in administrator (POST /api/flows/start's answer, or the login's). */
export interface FlowReservation {
  readonly flowId: string;
  readonly stationNonce: string;
}

export class DurablePage {
  private cookie = '';
  private csrf = '';
  private turn = 0;
  flowId = '';
  /** The nonce the station's next statement for this flow must carry, as the server last said. */
  stationNonce = '';
  /** Agent log entries already relayed as statements. */
  private readonly relayed = new Set<number>();
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
    const nonce = answer.body?.stationNonce;
    if (url.startsWith('/api/flows') && typeof nonce === 'string') this.stationNonce = nonce;
    return { status: answer.status, body: answer.body, server: endpoint.name };
  }

  /** A statement from the workstation's station for this flow, with the nonce the server gave last. */
  statement(
    kind: StatementRequest['kind'],
    extra: Partial<Pick<StatementRequest, 'eventSeq' | 'eventSeqs' | 'reader'>> = {},
  ): Promise<SignedStatement> {
    return this.ws.agent.statement(this.ws.agentToken, {
      flowId: this.flowId,
      nonce: this.stationNonce,
      kind,
      ...extra,
    });
  }

  /** Card login: the card in reader 1 signs the server's challenge after PIN 1. */
  async login(cardNumber: CardNumber, reader = 'reader-1'): Promise<ApiAnswer> {
    return this.sendLogin(await this.signedLogin(cardNumber, reader));
  }

  /**
   * What the page sends to log in, ready: the server's challenge signed by the card in `reader`
   * after PIN 1, and at a card station the station's word on the readers.
   */
  async signedLogin(cardNumber: CardNumber, reader = 'reader-1'): Promise<LoginRequest> {
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
    return {
      challengeId: challenge.challengeId,
      certificate: result.certificate,
      signature: result.signature,
      // At a card station the station's word on which reader holds the login card goes too.
      ...(hasStation(agent, agentToken)
        ? {
            readers: await readersStatement(agent, agentToken, challenge.challengeId, challenge.stationNonce),
          }
        : {}),
    };
  }

  /** Sends a login; its session, if it gets one, is the page's from then on. */
  async sendLogin(payload: LoginRequest): Promise<ApiAnswer> {
    const endpoint = this.next();
    const response = await endpoint.send({
      method: 'POST',
      url: '/api/auth/login',
      cookie: '',
      csrf: '',
      payload,
    });
    this.served.push(endpoint.name);
    this.cookie = response.sessionCookie ?? '';
    this.csrf = response.status === 200 ? response.body.csrfToken : '';
    return { status: response.status, body: response.body, server: endpoint.name };
  }

  /** The holder's login with the reserve card in `reader` (PIN 1): the page's session is then the holder's. */
  async holderLogin(reader = 'reader-2'): Promise<ApiAnswer> {
    const { agent, agentToken } = this.ws;
    await agent.bind(agentToken, reader);
    const challenge = (await this.api('POST', '/api/auth/challenge')).body;
    const started = await agent.authenticate(
      agentToken,
      reader,
      Buffer.from(challenge.challenge, 'base64'),
      null,
    );
    const done = await completeWithPins(agent, started, [RESERVE_PINS.pin1]);
    const result = done.result as { signature: string; certificate: string };
    const endpoint = this.next();
    const response = await endpoint.send({
      method: 'POST',
      url: '/api/holder/login',
      cookie: '',
      csrf: '',
      payload: {
        challengeId: challenge.challengeId,
        certificate: result.certificate,
        signature: result.signature,
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

  /** Step 1: a flow id and nonce from the server, the station's readers signed for them, the flow. */
  /** A new flow, on `reserved` (the login's reservation) or on one reserved now. */
  async start(reserved?: FlowReservation): Promise<ApiAnswer> {
    if (reserved === undefined) {
      const answer = await this.api('POST', '/api/flows/start');
      if (answer.status !== 200) return answer;
      return this.start(answer.body);
    }
    this.flowId = reserved.flowId;
    this.stationNonce = reserved.stationNonce;
    const answer = await this.api('POST', '/api/flows', {
      flowId: this.flowId,
      readers: await this.statement('readers'),
    });
    this.flowId = answer.body?.view?.flowId ?? '';
    return answer;
  }

  view(): Promise<ApiAnswer> {
    return this.api('GET', `/api/flows/${this.flowId}`);
  }

  action(type: string, extra: Record<string, unknown> = {}) {
    return this.api('POST', `/api/flows/${this.flowId}/actions`, { type, ...extra });
  }

  /** The agent's event log as a page reconnecting to it would get it. */
  private agentLog(): AgentEvent[] {
    const log: AgentEvent[] = [];
    this.ws.agent.subscribe((event) => log.push(event), 0)();
    return log;
  }

  /** The latest event of the agent's log, not relayed yet, that the described event stands for. */
  findEvent(event: Record<string, unknown>): number | null {
    const matches = this.agentLog().filter((logged) => {
      if (this.relayed.has(logged.seq)) return false;
      if (logged.type === 'flow')
        return (
          logged.flowId === this.flowId &&
          logged.event.type === event.type &&
          (event.dialog === undefined || logged.event.dialog === event.dialog)
        );
      if (logged.type === 'operation' || logged.type !== event.type) return false;
      if (event.reader !== undefined && slotOf(logged.readerId) !== event.reader) return false;
      return !(
        logged.type === 'card-inserted' &&
        event.cardNumber !== undefined &&
        logged.cardNumber !== event.cardNumber
      );
    });
    return matches.at(-1)?.seq ?? null;
  }

  /** Posts the station's statement of one event of the agent's log. */
  async relaySeq(seq: number): Promise<ApiAnswer> {
    this.relayed.add(seq);
    const statement = await this.statement('event', { eventSeq: seq });
    return this.api('POST', `/api/flows/${this.flowId}/agent-events`, { statement });
  }

  /**
   * What the page does with an event from the agent: the station signs it (the card proves itself
   * at handover, and vouches for its keys), and the page posts the statement. A tick is the page's
   * own; an event the agent never saw goes unsigned, as a lying page would send it.
   */
  async relay(event: Record<string, unknown>): Promise<ApiAnswer> {
    if (event.type === 'tick') return this.api('POST', `/api/flows/${this.flowId}/agent-events`, event);
    if (event.type === 'handover-verified') return this.handover();
    if (event.type === 'keys-generated') return this.keys();
    const seq = this.findEvent(event);
    if (seq === null) return this.api('POST', `/api/flows/${this.flowId}/agent-events`, event);
    return this.relaySeq(seq);
  }

  /**
   * Handover: the card in reader 2 proves itself through the station; `confirmed` sends BEKRÄFTA
   * ÖVERLÄMNING with it, as the page does.
   */
  async handover(confirmed = false): Promise<ApiAnswer> {
    const proof = await this.statement('card-proof', { reader: 2 });
    return this.api(
      'POST',
      `/api/flows/${this.flowId}/handover`,
      confirmed ? { proof, confirmed } : { proof },
    );
  }

  /** Keys generated: the station and the card in reader 2 vouch for the keys of this agent's enrolment. */
  async keys(): Promise<ApiAnswer> {
    const statement = await this.statement('keys-generated', { reader: 2 });
    return this.api('POST', `/api/flows/${this.flowId}/keys`, { statement });
  }

  /**
   * Signs a server challenge with a card's signature key (PIN 2) through the agent: the one given
   * with an answer (`offered`), or else one asked for.
   */
  async signChallenge(
    purpose: 'order' | 'acknowledge',
    reader: string,
    pin2: string,
    offered?: { readonly challengeId: string; readonly toBeSigned: string },
  ) {
    const { cards, agent, agentToken } = this.ws;
    const challenge =
      offered ?? (await this.api('POST', `/api/flows/${this.flowId}/signing-challenge`, { purpose })).body;
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
      // SIGNERA carries the readers now, so the server sees a login card that left and came back.
      ...(purpose === 'order' ? { readers: await this.statement('readers') } : {}),
    };
  }

  /** Relays the agent's recorded events of this flow that the server has not seen yet. */
  async relayAgentEvents(seen: { count: number }) {
    const events = this.agentLog().filter(
      (e): e is Extract<AgentEvent, { type: 'flow' }> => e.type === 'flow' && e.flowId === this.flowId,
    );
    const fresh = events.slice(seen.count);
    seen.count += fresh.length;
    let last: ApiAnswer | null = null;
    for (const e of fresh) {
      this.relayed.add(e.seq);
      last = e.event.type === 'keys-generated' ? await this.keys() : await this.relaySeq(e.seq);
    }
    return last;
  }
}
