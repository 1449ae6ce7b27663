// A browser (or an attacker's script) for acceptance tests that need more than Page: real HTTP to
// the listening server with full control of what is sent — with or without the CSRF header, raw
// bytes, any content type, any path — and a card swap in reader 1 for each login.
import { request as httpRequest } from 'node:http';
import type { CardNumber } from '@reservkort/domain';
import { CARD_PINS, completeWithPins, type Harness } from './issuance-harness.js';
import { hasStation, readersStatement } from './station-agent.js';

export interface Answer {
  readonly status: number;
  /** The body parsed as JSON when it is JSON, else the text; null when empty. */
  readonly body: any;
  readonly raw: Buffer;
  readonly contentType: string;
  readonly setCookie: readonly string[];
}

export interface RequestOptions {
  /** A JSON value, serialised with the content type application/json, unless `raw` is given. */
  readonly payload?: unknown;
  /** Bytes or text sent exactly as they are (with `contentType` if given, else none). */
  readonly raw?: string | Buffer;
  readonly contentType?: string;
  /** Send the session's CSRF header (default: yes, when logged in). */
  readonly csrf?: boolean;
  readonly headers?: Record<string, string>;
}

const parse = (raw: Buffer, contentType: string): any => {
  if (raw.length === 0) return null;
  const text = raw.toString('utf8');
  if (!contentType.includes('json')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

/** One HTTP exchange with the server at `baseUrl`; `path` is sent as given (no normalisation). */
export const send = (
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | null,
): Promise<Answer> => {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: body === null ? headers : { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const contentType = String(res.headers['content-type'] ?? '');
          const cookies = res.headers['set-cookie'] ?? [];
          resolve({
            status: res.statusCode ?? 0,
            body: parse(raw, contentType),
            raw,
            contentType,
            setCookie: cookies,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== null) req.write(body);
    req.end();
  });
};

/** Empties a reader of the virtual desk, if it holds a card. */
export const emptyReader = async (h: Harness, reader: string): Promise<void> => {
  const found = (await h.cards.readers()).find((r) => r.id === reader);
  if (found?.card) await h.cards.removeCard(reader);
};

/** Puts a card in a reader of the virtual desk, taking out whatever was there. */
export const cardIn = async (h: Harness, reader: string, cardNumber: CardNumber): Promise<void> => {
  await emptyReader(h, reader);
  await h.cards.insertCard(reader, cardNumber);
};

/** Signs `data` with the signature key (PIN 2) of the card now in `reader`, through the agent. */
export const signWithCard = async (h: Harness, reader: string, data: Buffer) => {
  await h.agent.bind(h.agentToken, reader);
  const started = await h.agent.sign(h.agentToken, reader, data, null);
  const done = await completeWithPins(h.agent, started, [CARD_PINS.pin2]);
  const info = await h.cards.cardInfo(reader);
  const der = info.certificates.find((c) => c.key === 'sign')?.der ?? new Uint8Array();
  return {
    signature: (done.result as { signature: string }).signature,
    certificate: Buffer.from(der).toString('base64'),
  };
};

/** A fresh login body for a card (put in `reader`): the server's challenge signed with PIN 1. */
export const loginBody = async (h: Harness, cardNumber: CardNumber, reader = 'reader-1') => {
  await cardIn(h, reader, cardNumber);
  await h.agent.bind(h.agentToken, reader);
  const challenge = (await send(h.baseUrl, 'POST', '/api/auth/challenge', {}, null)).body;
  const started = await h.agent.authenticate(
    h.agentToken,
    reader,
    Buffer.from(challenge.challenge, 'base64'),
    null,
  );
  const done = await completeWithPins(h.agent, started, [CARD_PINS.pin1]);
  const result = done.result as { signature: string; certificate: string };
  return {
    challengeId: challenge.challengeId as string,
    certificate: result.certificate,
    signature: result.signature,
    // At a card station the page also sends the station's word on which reader holds the card.
    ...(hasStation(h.agent, h.agentToken)
      ? {
          readers: await readersStatement(
            h.agent,
            h.agentToken,
            challenge.challengeId,
            challenge.stationNonce,
          ),
        }
      : {}),
  };
};

/**
 * The body that registers a prepared order (the /orders/prepare answer): the draft signed with the
 * card in `reader` (PIN 2), and the station's statement of its readers for that draft.
 */
export const orderBody = async (
  h: Harness,
  prepared: { readonly challengeId: string; readonly toBeSigned: string; readonly stationNonce: string },
  reader = 'reader-1',
) => {
  const signature = await signWithCard(h, reader, Buffer.from(prepared.toBeSigned, 'base64'));
  return {
    challengeId: prepared.challengeId,
    ...signature,
    readers: await readersStatement(h.agent, h.agentToken, prepared.challengeId, prepared.stationNonce),
  };
};

export class Client {
  cookie = '';
  csrf = '';

  constructor(private readonly h: Harness) {}

  /** Logs in with a card put in `reader` (emptied first); the card stays in the reader. */
  async login(cardNumber: CardNumber, reader = 'reader-1'): Promise<Answer> {
    return this.loginWith(await loginBody(this.h, cardNumber, reader));
  }

  /** Logs in with a login body as given (see loginBody), keeping the session it opens. */
  async loginWith(body: Awaited<ReturnType<typeof loginBody>>): Promise<Answer> {
    const answer = await this.post('/api/auth/login', body);
    const cookie = answer.setCookie.find((c) => c.startsWith('rk_session='));
    this.cookie = answer.status === 200 ? (cookie?.split(';')[0]?.slice('rk_session='.length) ?? '') : '';
    this.csrf = answer.status === 200 ? answer.body.csrfToken : '';
    return answer;
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookie) headers.cookie = `rk_session=${this.cookie}`;
    if (this.csrf && options.csrf !== false) headers['x-csrf-token'] = this.csrf;
    let body: Buffer | null = null;
    if (options.raw !== undefined) {
      body = Buffer.isBuffer(options.raw) ? options.raw : Buffer.from(options.raw, 'utf8');
    } else if (options.payload !== undefined) {
      body = Buffer.from(JSON.stringify(options.payload), 'utf8');
      headers['content-type'] = 'application/json';
    }
    if (options.contentType !== undefined) headers['content-type'] = options.contentType;
    return send(this.h.baseUrl, method, path, headers, body);
  }

  get(path: string, options: RequestOptions = {}) {
    return this.request('GET', path, options);
  }

  post(path: string, payload?: unknown, options: RequestOptions = {}) {
    return this.request('POST', path, payload === undefined ? options : { ...options, payload });
  }

  /**
   * Starts a flow as the page does: a flow id and nonce from the server, the readers signed for
   * them by the harness's station, then the flow. The reservation's answer if it was refused.
   */
  async startFlow(options: RequestOptions = {}): Promise<Answer> {
    const reserved = await this.post('/api/flows/start', undefined, options);
    if (reserved.status !== 200) return reserved;
    const { flowId, stationNonce } = reserved.body as { flowId: string; stationNonce: string };
    const readers = await this.h.agent.statement(this.h.agentToken, {
      flowId,
      nonce: stationNonce,
      kind: 'readers',
    });
    return this.post('/api/flows', { flowId, readers }, options);
  }
}
