// A card agent over virtual cards, reached through its real HTTP app, for tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CardNumber } from '@reservkort/domain';
import type { FastifyInstance } from 'fastify';
import { VirtualBackend } from '../backend/virtual-backend.js';
import { CardAgent, type OperationView } from '../card-agent.js';
import { buildAgentApp } from '../http/agent-app.js';
import { StationIdentity } from '../station/station-identity.js';
import type { StationTokenConfig } from '../station/station-token-key.js';

export const PORTAL = 'http://localhost:3000';
export const CARD = '9752278900000000100' as CardNumber;
export const PINS = { pin1: '1234', pin2: '5678', puk: '12345678' } as const;

/** What a PIN change or unblock dialog sends: the current PIN or the PUK, and the new PIN twice. */
export interface DialogAttempt {
  readonly pin: string;
  readonly newPin: string;
  readonly repeat: string;
}

export interface AgentFixture {
  readonly backend: VirtualBackend;
  readonly agent: CardAgent;
  readonly app: FastifyInstance;
  /** Every response body the portal side received, to check that no PIN ever comes back. */
  readonly seen: string[];
  /** The agent's station folder (a fresh one unless given). */
  readonly stationDir: string;
  readonly station: StationIdentity;
  call(
    method: 'GET' | 'POST',
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  session(): Promise<string>;
  /**
   * Opens the dialog page and types PINs into it, as a person would: a PIN, or for a PIN change or
   * unblock the current PIN (or the PUK) with the new PIN twice.
   */
  answer(dialogId: string, ...pins: (string | DialogAttempt)[]): Promise<any>;
  waitFor(
    token: string,
    operationId: string,
    predicate: (view: OperationView & { dialogUrl: string | null }) => boolean,
  ): Promise<OperationView & { dialogUrl: string | null }>;
  dispose(): Promise<void>;
}

export const createAgentFixture = async (
  options: {
    dialogShowTimeoutMs?: number;
    dialogAnswerTimeoutMs?: number;
    stationDir?: string;
    /** Keep the station key on this token rather than in the key file. */
    stationToken?: StationTokenConfig;
  } = {},
): Promise<AgentFixture> => {
  const { stationDir: givenDir, stationToken, ...timeouts } = options;
  const ownDir = givenDir === undefined ? await mkdtemp(join(tmpdir(), 'reservkort-station-')) : null;
  const stationDir = givenDir ?? join(ownDir as string, 'station');
  const backend = await VirtualBackend.open({ stateFile: null, readers: 2 });
  await backend.createCard({ cardNumber: CARD, ...PINS });
  await backend.insertCard('reader-2', CARD);
  const station = StationIdentity.open(stationDir, { token: stationToken ?? null });
  const agent = new CardAgent({
    backend,
    info: { version: '0.1.0', packaging: 'test' },
    station,
    ...timeouts,
  });
  const app = await buildAgentApp({ agent, portalOrigin: PORTAL, training: backend });
  const seen: string[] = [];
  const call: AgentFixture['call'] = async (method, url, body, headers = {}) => {
    const response = await app.inject({
      method,
      url,
      headers: { origin: PORTAL, ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    seen.push(response.body);
    let parsed: unknown = response.body;
    try {
      parsed = JSON.parse(response.body);
    } catch {
      // HTML or empty answers stay text.
    }
    return { status: response.statusCode, body: parsed };
  };
  const self = 'http://localhost:80';
  return {
    backend,
    agent,
    app,
    seen,
    stationDir,
    station,
    call,
    session: async () => (await call('POST', '/v1/sessions')).body.token as string,
    answer: async (dialogId, ...pins) => {
      await app.inject({ method: 'GET', url: `/dialog/${dialogId}` });
      let last: unknown = null;
      for (const pin of pins) {
        const response = await app.inject({
          method: 'POST',
          url: `/dialog/${dialogId}/attempt`,
          headers: { origin: self },
          payload: typeof pin === 'string' ? { pin } : pin,
        });
        last = JSON.parse(response.body);
      }
      return last;
    },
    waitFor: async (token, operationId, predicate) => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const view = (
          await call('GET', `/v1/operations/${operationId}`, undefined, { 'x-agent-session': token })
        ).body;
        if (predicate(view)) return view;
        if (Date.now() > deadline)
          throw new Error(`operation never reached the state: ${JSON.stringify(view)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    dispose: async () => {
      await app.close();
      await agent.close();
      station.close();
      if (ownDir !== null) await rm(ownDir, { recursive: true, force: true });
    },
  };
};
