// The card agent's loopback API as the page uses it. The agent has no OpenAPI document of its own;
// these types mirror its routes, and the agent's own tests pin the routes down.
import {
  type CardKeyType,
  type CardNumber,
  type ErrorCode,
  type ErrorResponseBody,
  errorResponse,
  isErrorCode,
  type SignedStatement,
} from '@reservkort/domain';

export interface AgentReader {
  readonly id: string;
  readonly name: string;
  readonly card: { readonly cardNumber: CardNumber | null } | null;
}

export interface AgentInfo {
  readonly version: string;
  readonly packaging: string;
  readonly backend: {
    readonly kind: 'virtual' | 'pkcs11';
    readonly library: string;
    readonly manufacturer: string;
  };
}

export interface PinDialogView {
  readonly id: string;
  readonly pin: 'pin1' | 'pin2';
  readonly state: 'waiting' | 'shown' | 'completed' | 'cancelled' | 'not-shown' | 'aborted';
  readonly lastError: { readonly code: string; readonly details: Record<string, unknown> } | null;
}

export interface AgentOperation {
  readonly id: string;
  readonly kind:
    | 'authenticate'
    | 'sign'
    | 'enrol'
    | 'write-certificates'
    | 'clean'
    | 'change-pin'
    | 'unblock-pin'
    | 'renew-keys'
    | 'renew-certificates';
  readonly flowId?: string | null;
  readonly readerId?: string;
  readonly state: 'pending' | 'done' | 'failed';
  readonly result: unknown;
  readonly error: { readonly code: string; readonly details: Record<string, unknown> } | null;
  readonly dialog: PinDialogView | null;
  readonly dialogUrl: string | null;
}

export type FlowAgentEventType =
  | 'key-generation-started'
  | 'keys-generated'
  | 'dialog-shown'
  | 'dialog-completed'
  | 'dialog-cancelled'
  | 'dialog-not-shown'
  | 'certificates-written'
  | 'download-failed';

export interface FlowAgentEvent {
  readonly type: FlowAgentEventType;
  readonly dialog?: 'auth' | 'sign';
  readonly reason?: string;
  readonly at: number;
}

export type AgentEvent =
  | {
      readonly seq: number;
      readonly type: 'reader-plugged' | 'reader-unplugged' | 'card-inserted' | 'card-removed';
      readonly readerId: string;
      readonly cardNumber?: CardNumber | null;
      readonly at: number;
    }
  | { readonly seq: number; readonly type: 'flow'; readonly flowId: string; readonly event: FlowAgentEvent }
  | {
      readonly seq: number;
      readonly type: 'operation';
      readonly operationId: string;
      readonly state: string;
    };

export interface TrainingCard {
  readonly cardNumber: CardNumber;
  readonly label: string | null;
  readonly readerId: string | null;
  readonly locked: boolean;
}

/** A PIN's counter as the card keeps it (never the PIN itself). */
export interface PinCounter {
  readonly triesLeft: number;
  readonly blocked: boolean;
}

export interface CardOnReader {
  readonly cardNumber: CardNumber | null;
  readonly certificates: readonly { readonly key: 'auth' | 'sign'; readonly der: string }[];
  /** The PIN and PUK counters: a blocked PIN is offered its unblocking before anyone types it. */
  readonly pins?: {
    readonly pin1: PinCounter;
    readonly pin2: PinCounter;
    readonly puk: { readonly triesLeft: number; readonly locked: boolean };
  };
}

/** This workstation's card station as its agent keeps it. */
export interface AgentStation {
  readonly stationId: string | null;
  readonly registered: boolean;
  readonly certificate: string | null;
  readonly proposedId: string | null;
  readonly name: string | null;
}

/**
 * What the page may ask the station to sign: only the kind and where (flow or challenge id, the
 * server's nonce, a reader, an event of the agent's own log). The facts are the agent's own.
 */
export type StatementRequest = {
  readonly flowId: string;
  readonly nonce: string;
} & (
  | { readonly kind: 'readers' | 'agent-info' }
  | { readonly kind: 'event'; readonly eventSeq: number }
  | { readonly kind: 'events'; readonly eventSeqs: readonly number[] }
  | { readonly kind: 'card-certificates' | 'card-proof'; readonly reader: 1 | 2 }
  | { readonly kind: 'keys-generated'; readonly reader: 2 }
);

/** Training mode: the station signs with a key no server registered, or spoils its next signature. */
export interface StationSimulation {
  readonly unregisteredStation: boolean;
  readonly forgedStatement: boolean;
}

/** Training mode: virtual cards that answer as a counterfeit card, or as a faulty chip that reports its keys as imported. */
export interface CardFaults {
  readonly counterfeitCard: boolean;
  readonly exportableKeys: boolean;
}

/** Training: PIN 1 blocked, the card locked for good, or every counter full. */
export type TrainingCounters = 'pin1-blocked' | 'card-locked' | 'full';

/** An error answer from the agent (or no answer at all: the agent is not running). */
export class AgentFailure extends Error {
  constructor(
    readonly code: ErrorCode | 'AGENT_UNREACHABLE',
    readonly body: ErrorResponseBody | null,
  ) {
    super(code);
  }

  /** A failure with the details its catalogue text names (a reader, a reason), as an agent answer carries them. */
  static of(code: string, details: Readonly<Record<string, unknown>> = {}): AgentFailure {
    return isErrorCode(code)
      ? new AgentFailure(code, errorResponse(code, details))
      : new AgentFailure('CARD_ERROR', errorResponse('CARD_ERROR', { reason: code }));
  }
}

const EVENT_TYPES = [
  'reader-plugged',
  'reader-unplugged',
  'card-inserted',
  'card-removed',
  'flow',
  'operation',
];

export class AgentClient {
  private token: string | null = null;

  constructor(readonly baseUrl: string) {}

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers['x-agent-session'] = this.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch {
      throw new AgentFailure('AGENT_UNREACHABLE', null);
    }
    const answer: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const error = answer as ErrorResponseBody | null;
      throw new AgentFailure(error?.code ?? 'CARD_ERROR', error);
    }
    return answer as T;
  }

  /** A session of this page with the agent; needed for everything but the info. */
  async connect(): Promise<string> {
    const { token } = await this.request<{ token: string }>('POST', '/v1/sessions');
    this.token = token;
    return token;
  }

  info = () => this.request<AgentInfo>('GET', '/v1/info');
  readers = async () => (await this.request<{ readers: AgentReader[] }>('GET', '/v1/readers')).readers;
  bind = (readerId: string) =>
    this.request<{ cardNumber: CardNumber }>('POST', '/v1/sessions/bind', { readerId });
  card = (readerId: string) => this.request<CardOnReader>('GET', `/v1/readers/${readerId}/card`);
  /** PIN change and PUK unblock: everything is typed in the agent's own dialog window. */
  changePin = (readerId: string, pin: 'pin1' | 'pin2') =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/change-pin`, { pin });
  unblockPin = (readerId: string, pin: 'pin1' | 'pin2') =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/unblock-pin`, { pin });
  authenticate = (readerId: string, challenge: string, flowId?: string) =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/authenticate`, {
      challenge,
      ...(flowId ? { flowId } : {}),
    });
  sign = (readerId: string, data: string, flowId?: string) =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/sign`, {
      data,
      ...(flowId ? { flowId } : {}),
    });
  /** Keys generated on the card, of the type the server named for the flow. */
  enrol = (readerId: string, flowId: string, keySpec: CardKeyType) =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/enrol`, { flowId, keySpec });
  writeCertificates = (readerId: string, flowId: string, auth: string, sign: string) =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/certificates`, { flowId, auth, sign });
  /** Förlängning: new keys beside the old ones, with the card's proof for the extension and nonce. */
  renewKeys = (readerId: string, extensionId: string, nonce: string, keySpec: CardKeyType) =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/renewal/keys`, {
      extensionId,
      nonce,
      keySpec,
    });
  /** Förlängning: the new certificates written, then the old keys and certificates removed. */
  renewCertificates = (readerId: string, auth: string, sign: string) =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/renewal/certificates`, { auth, sign });
  clean = (readerId: string, flowId: string) =>
    this.request<AgentOperation>('POST', `/v1/readers/${readerId}/clean`, { flowId });
  operation = (id: string, waitSeconds: number) =>
    this.request<AgentOperation>('GET', `/v1/operations/${id}?wait=${waitSeconds}`);
  /** A flow's events of the agent's log, in order, each with its seq there. */
  flowEvents = async (flowId: string) =>
    (
      await this.request<{ events: (FlowAgentEvent & { seq: number })[] }>(
        'GET',
        `/v1/flows/${encodeURIComponent(flowId)}/events`,
      )
    ).events;
  /** A flow's card operations, oldest first: what a reloaded page carries on with. */
  flowOperations = async (flowId: string) =>
    (
      await this.request<{ operations: AgentOperation[] }>(
        'GET',
        `/v1/flows/${encodeURIComponent(flowId)}/operations`,
      )
    ).operations;
  /** The agent states that no step-6 work for the flow runs (OPERATION_LOST); the seq of that event, or null. */
  downloadLost = async (flowId: string) =>
    (
      await this.request<{ seq: number | null }>(
        'POST',
        `/v1/flows/${encodeURIComponent(flowId)}/download-lost`,
      )
    ).seq;

  /** Live events (server-sent); the browser reconnects by itself after a drop. */
  events(onEvent: (event: AgentEvent) => void, onState: (open: boolean) => void): () => void {
    if (!this.token) throw new AgentFailure('SESSION_INVALID', null);
    const source = new EventSource(`${this.baseUrl}/v1/events?session=${encodeURIComponent(this.token)}`);
    const listener = (message: MessageEvent<string>) => onEvent(JSON.parse(message.data) as AgentEvent);
    for (const type of EVENT_TYPES) source.addEventListener(type, listener);
    source.onopen = () => onState(true);
    source.onerror = () => onState(false);
    return () => source.close();
  }

  // The card station: its identity, registration, and the statements it signs.
  station = () => this.request<AgentStation>('GET', '/v1/station');
  stationCsr = (name: string) => this.request<{ csr: string }>('POST', '/v1/station/csr', { name });
  installStationCertificate = (certificate: string) =>
    this.request<AgentStation>('POST', '/v1/station/certificate', { certificate });
  statement = (request: StatementRequest) => this.request<SignedStatement>('POST', '/v1/statements', request);
  simulateStation = (change: Partial<StationSimulation>) =>
    this.request<StationSimulation>('POST', '/v1/training/station/simulate', change);
  simulateCardFaults = (change: Partial<CardFaults>) =>
    this.request<CardFaults>('POST', '/v1/training/cards/simulate', change);

  // Training panel (virtual readers and cards only).
  /** Training: a card's PIN counters as a scene wants them (no PIN or PUK is sent). */
  trainingCounters = (cardNumber: string, counters: TrainingCounters) =>
    this.request<{ ok: true }>('POST', '/v1/training/cards/counters', { cardNumber, counters });
  trainingCards = () =>
    this.request<{ cards: TrainingCard[]; readers: AgentReader[] }>('GET', '/v1/training/cards');
  plug = (readerId: string) =>
    this.request<{ readerId: string }>('POST', '/v1/training/readers/plug', { readerId });
  unplug = (readerId: string) =>
    this.request<{ ok: true }>('POST', '/v1/training/readers/unplug', { readerId });
  insert = (readerId: string, cardNumber: string) =>
    this.request<{ ok: true }>('POST', '/v1/training/cards/insert', { readerId, cardNumber });
  remove = (readerId: string) =>
    this.request<{ ok: true }>('POST', '/v1/training/cards/remove', { readerId });
}
