// /metrics and the API description (/api/docs, /api/docs/json) are for operators: open by default in
// training mode only; otherwise a bearer token (from the environment or the data folder's secrets/),
// and/or a listener of their own where the main port no longer serves them.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FLOW_CONFIG } from '@reservkort/domain';
import { OcspResponder } from '@reservkort/pki';
import { countChallenges, insertChallenge, openStore } from '@reservkort/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, realClock, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { buildApp } from '../app.js';
import { DEFAULT_SESSION_SETTINGS } from '../auth/session.js';
import { openApiDocument } from '../cli/commands/serve.command.js';
import { dataFolder } from '../config/data-folder.js';
import { type RunningServer, startServer } from '../server.js';
import type { ServerContext } from '../server-context.js';
import { initDataFolder } from '../test-support/durable-fixture.js';
import { listenOperations, OPERATIONS_TOKEN_ENV, type OperationsAccess } from './operations-access.js';

const TOKEN = 'the-operations-token-of-this-test';
const OPERATORS_ROUTES = ['/metrics', '/api/docs/json', '/api/docs', '/api/docs/static/index.html'];

describe('the operators’ routes', () => {
  let t: TestCa;
  const apps: FastifyInstance[] = [];
  const context = (training: boolean): ServerContext => ({
    store: t.store,
    ca: t.ca,
    responder: new OcspResponder(t.ca, t.store.db, realClock),
    clock: realClock,
    sessions: DEFAULT_SESSION_SETTINGS,
    flow: DEFAULT_FLOW_CONFIG,
    agentUrl: null,
    training,
  });
  const appWith = async (training: boolean, operations?: OperationsAccess) => {
    const app = await buildApp(context(training), operations ? { operations } : {});
    apps.push(app);
    return app;
  };
  const get = (app: FastifyInstance, url: string, authorization?: string) =>
    app.inject({ method: 'GET', url, ...(authorization ? { headers: { authorization } } : {}) });

  beforeAll(async () => {
    t = await createTestCa('sqlite');
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await t?.dispose();
  });

  it('are open in training mode', async () => {
    const app = await appWith(true);
    expect((await get(app, '/metrics')).body).toContain('reservkort_http_requests_total');
    expect((await get(app, '/api/docs/json')).json().paths).toHaveProperty('/api/auth/login');
    for (const url of ['/api/docs', '/api/docs/static/index.html'])
      expect((await get(app, url)).statusCode, url).toBeLessThan(400);
  });

  it('are closed by default outside training mode, with 401 OPERATIONS_TOKEN_REQUIRED', async () => {
    const app = await appWith(false);
    for (const url of OPERATORS_ROUTES) {
      const answer = await get(app, url, `Bearer ${TOKEN}`);
      expect(answer.statusCode, url).toBe(401);
      expect(answer.json(), url).toMatchObject({
        code: 'OPERATIONS_TOKEN_REQUIRED',
        message: { sv: expect.any(String), en: expect.any(String) },
        details: { reason: 'no token configured' },
      });
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="reservkort-operations"');
      expect(answer.body).not.toContain('reservkort_http_requests_total');
    }
    // Everything else is as before.
    expect((await get(app, '/health')).statusCode).toBe(200);
    expect((await get(app, '/pki/ca/root.pem')).statusCode).toBe(200);
  });

  it('let the token in, and only the token', async () => {
    const app = await appWith(false, { mode: 'token', token: TOKEN, separateListener: false });
    for (const url of OPERATORS_ROUTES) {
      expect((await get(app, url)).json(), url).toMatchObject({
        code: 'OPERATIONS_TOKEN_REQUIRED',
        details: { reason: 'no token sent' },
      });
      for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN])
        expect((await get(app, url, wrong)).statusCode, `${url} ${wrong}`).toBe(401);
      expect((await get(app, url, `Bearer ${TOKEN}x`)).json().details).toEqual({ reason: 'wrong token' });
      const allowed = await get(app, url, `bearer ${TOKEN}`);
      expect(allowed.statusCode, url).toBeLessThan(400);
      expect(allowed.headers['www-authenticate']).toBeUndefined();
    }
    expect((await get(app, '/metrics', `Bearer ${TOKEN}`)).body).toContain('reservkort_http_requests_total');
    expect((await get(app, '/api/docs/json', `Bearer ${TOKEN}`)).json().paths).toHaveProperty('/metrics');
  });

  it('move to a listener of their own, which serves nothing else', async () => {
    const app = await appWith(false, { mode: 'open', token: null, separateListener: true });
    const main = await app.listen({ port: 0, host: '127.0.0.1' });
    const listener = await listenOperations(app, '127.0.0.1', 0);
    try {
      expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${listener.url}/metrics`)).text()).toContain(
        'reservkort_http_requests_total',
      );
      expect((await (await fetch(`${listener.url}/api/docs/json`)).json()).paths).toHaveProperty('/health');
      for (const url of OPERATORS_ROUTES) {
        const answer = await fetch(`${main}${url}`);
        expect(answer.status, url).toBe(404);
        expect((await answer.json()).code).toBe('NOT_FOUND');
      }
      expect((await fetch(`${main}/health`)).status).toBe(200);
      for (const [method, url] of [
        ['GET', '/health'],
        ['POST', '/api/auth/challenge'],
        ['GET', '/pki/ca/root.pem'],
        ['GET', '/nowhere'],
      ] as const) {
        const answer = await fetch(`${listener.url}${url}`, { method });
        expect(answer.status, url).toBe(404);
      }
      expect(await countChallenges(t.store.db)).toBe(0);
    } finally {
      await listener.close();
    }
  });

  it('on their own listener still ask for the token where it is required', async () => {
    const app = await appWith(false, { mode: 'token', token: TOKEN, separateListener: true });
    const listener = await listenOperations(app, '127.0.0.1', 0);
    try {
      expect((await fetch(`${listener.url}/metrics`)).status).toBe(401);
      const allowed = await fetch(`${listener.url}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(allowed.status).toBe(200);
    } finally {
      await listener.close();
    }
  });

  it('leave `reservkort openapi` working: the document comes from the app, not over HTTP', async () => {
    const document = (await openApiDocument()) as { paths: Record<string, Record<string, unknown>> };
    expect(document.paths).toHaveProperty('/metrics');
    expect(document.paths['/api/auth/challenge']?.post).toMatchObject({
      responses: { 429: expect.anything() },
    });
  });
});

describe('reservkort serve, outside training mode', () => {
  let dir = '';
  let root = '';
  let running: RunningServer | null = null;
  const tokenInEnvironment = process.env[OPERATIONS_TOKEN_ENV];

  beforeAll(async () => {
    // Only the data folder's secrets/ may say here.
    delete process.env[OPERATIONS_TOKEN_ENV];
    dir = await mkdtemp(join(tmpdir(), 'reservkort-operations-'));
    root = join(dir, 'data');
    await initDataFolder(root);
  });
  afterAll(async () => {
    await running?.close();
    await rm(dir, { recursive: true, force: true });
    if (tokenInEnvironment !== undefined) process.env[OPERATIONS_TOKEN_ENV] = tokenInEnvironment;
  });

  const serve = (operations?: { access?: 'open' | 'token'; port?: number }) =>
    startServer({
      data: root,
      port: 0,
      host: '127.0.0.1',
      training: false,
      agentPort: 0,
      webRoot: null,
      ...(operations ? { operations } : {}),
    });

  it('warns when no one can read /metrics, and answers 401 there', async () => {
    running = await serve();
    expect(running.operationsUrl).toBeNull();
    expect(running.warnings.join('\n')).toContain(
      `/metrics and /api/docs answer 401 to everyone: set ${OPERATIONS_TOKEN_ENV}`,
    );
    expect((await fetch(`${running.url}/metrics`)).status).toBe(401);
    await running.close();
    running = null;
  });

  it('reads the token from secrets/, serves the operators’ routes on their own port, and purges expired challenges', async () => {
    const folder = dataFolder(root);
    await writeFile(join(folder.secrets, 'operations-token'), `${TOKEN}\n`, { mode: 0o600 });
    // An expired challenge left behind by an earlier run: the first purge pass, at start, removes it.
    const store = await openStore({ url: `sqlite:${folder.sqliteFile}` });
    await insertChallenge(store.db, { id: 'left-behind', challenge: 'AA==', createdAt: 1, expiresAt: 2 });
    await store.close();
    running = await serve({ port: 0 });
    expect(running.warnings.join('\n')).not.toContain('/metrics');
    expect(running.operationsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.operationsUrl).not.toBe(running.url);
    const bearer = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${running.url}/metrics`, { headers: bearer })).status).toBe(404);
    expect((await fetch(`${running.operationsUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${running.operationsUrl}/metrics`, { headers: bearer })).status).toBe(200);
    expect((await fetch(`${running.operationsUrl}/api/docs/json`, { headers: bearer })).status).toBe(200);
    const reader = await openStore({ url: `sqlite:${folder.sqliteFile}` });
    try {
      await expect.poll(() => countChallenges(reader.db), { timeout: 5000 }).toBe(0);
    } finally {
      await reader.close();
    }
  });
});
