// What the web page needs from the server beyond the API: its configuration, the built bundle with
// a content security policy that names the card agent, the training panel's routes, and the
// support case preview with the certificates the agent read off the card.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listCases } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../test-support/acceptance-client.js';
import {
  ADMIN1_CARD,
  ADMIN2,
  ADMIN2_CARD,
  createIssuanceHarness,
  type Harness,
} from '../test-support/issuance-harness.js';
import { flowStationNonce } from '../test-support/station-agent.js';
import { TrainingClock } from '../training/training-clock.js';
import type { TrainingSummary } from '../training/training-summary.js';
import { DEFAULT_AGENT_URL } from './web.routes.js';

const SUMMARY: TrainingSummary = {
  admins: [],
  reserveCards: [],
  persons: [
    { name: 'Anna Andersson', hsaId: 'SE2321000016-anna', personalNumber: '19800101-1234', note: '' },
  ],
  scenarios: ['Hela flödet'],
};

describe('the web page’s routes', () => {
  let h: Harness;
  let bare: Harness;
  let webRoot = '';
  const clock = new TrainingClock();

  beforeAll(async () => {
    webRoot = await mkdtemp(join(tmpdir(), 'reservkort-web-'));
    await mkdir(join(webRoot, 'assets'));
    await writeFile(
      join(webRoot, 'index.html'),
      '<!doctype html><title>Reservkort</title><div id="root"></div>',
    );
    await writeFile(join(webRoot, 'assets', 'index-abc.js'), 'console.log(1)');
    await writeFile(join(webRoot, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    h = await createIssuanceHarness({}, () => ({
      clock,
      training: true,
      agentUrl: 'http://127.0.0.1:31999',
      trainingKit: { summary: SUMMARY, clock },
      webRoot,
    }));
    bare = await createIssuanceHarness();
  });
  afterAll(async () => {
    await h?.dispose();
    await bare?.dispose();
    await rm(webRoot, { recursive: true, force: true });
  });

  it('tells the page where the card agent is, and serves the bundle under a policy that allows only it', async () => {
    const anonymous = new Client(h);
    const config = await anonymous.get('/api/config');
    expect(config.body).toEqual({ training: true, agentUrl: 'http://127.0.0.1:31999', version: '0.1.0' });
    // A context without a configured public address names none (startServer always has one).
    expect(config.body).not.toHaveProperty('portalUrl');
    const page = await anonymous.get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="root">');
    const policy = page.raw.length > 0 ? (await fetch(`${h.baseUrl}/`)).headers : null;
    expect(policy?.get('content-security-policy')).toContain("connect-src 'self' http://127.0.0.1:31999");
    expect(policy?.get('content-security-policy')).toContain("script-src 'self'");
    expect(policy?.get('cache-control')).toBe('no-cache');
    const asset = await fetch(`${h.baseUrl}/assets/index-abc.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // The product's icon, also where browsers look for it by default.
    const icon = await fetch(`${h.baseUrl}/favicon.ico`);
    expect([icon.status, icon.redirected, icon.headers.get('content-type')]).toEqual([
      200,
      true,
      'image/svg+xml',
    ]);
    // Unknown API paths are still the catalogue's 404, not the page.
    expect((await anonymous.get('/api/nowhere')).body).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('outside training mode: the default agent address, no training routes, and a hint when the bundle is missing', async () => {
    const anonymous = new Client(bare);
    expect((await anonymous.get('/api/config')).body).toEqual({
      training: false,
      agentUrl: DEFAULT_AGENT_URL,
      version: '0.1.0',
    });
    expect((await anonymous.get('/api/training/demo')).status).toBe(404);
    const page = await anonymous.get('/');
    expect(page.body).toContain('npm run build -w @reservkort/web');
  });

  it('training: the demo data for the panel; the clock moves forward only for a logged-in caller, never back', async () => {
    const anonymous = new Client(h);
    expect((await anonymous.get('/api/training/demo')).body).toEqual(SUMMARY);
    expect((await anonymous.post('/api/training/clock', { advanceMs: 1000 })).body.code).toBe(
      'NOT_LOGGED_IN',
    );

    const admin = new Client(h);
    expect((await admin.login(ADMIN2_CARD)).status).toBe(200);
    const before = clock.offset;
    const moved = await admin.post('/api/training/clock', { advanceMs: 60_000 });
    expect(moved.status).toBe(200);
    expect(moved.body.offsetMs).toBe(before + 60_000);
    expect((await admin.post('/api/training/clock', { advanceMs: -5 })).body.code).toBe('REQUEST_INVALID');
    expect(clock.offset).toBe(before + 60_000);

    // A flow without a deadline has nothing to jump to; someone else's flow is not theirs to move.
    const started = await admin.startFlow();
    const flowId = started.body.view.flowId as string;
    expect((await admin.post('/api/training/clock', { toDeadlineOf: flowId })).body.code).toBe(
      'EVENT_OUT_OF_ORDER',
    );
    const other = new Client(h);
    expect((await other.login(ADMIN1_CARD)).status).toBe(200);
    expect((await other.post('/api/training/clock', { toDeadlineOf: flowId })).body.code).toBe(
      'ACCESS_DENIED',
    );
    // The förlängning's deadline is the holder's to jump to: an administrator's session is not one.
    const offset = clock.offset;
    expect((await admin.post('/api/training/clock', { toExtensionDeadline: true })).body.code).toBe(
      'NOT_LOGGED_IN',
    );
    expect((await anonymous.post('/api/training/clock', { toExtensionDeadline: true })).body.code).toBe(
      'NOT_LOGGED_IN',
    );
    expect(clock.offset).toBe(offset);
  });

  it('the support case preview reads the certificates the station read off the card, and refuses a forged statement', async () => {
    const admin = new Client(h);
    expect((await admin.login(ADMIN2_CARD)).status).toBe(200);
    const started = await admin.startFlow();
    const flowId = started.body.view.flowId as string;
    const nonce = await flowStationNonce(h, flowId);
    const statements = [
      await h.agent.statement(h.agentToken, { flowId, nonce, kind: 'agent-info' }),
      await h.agent.statement(h.agentToken, { flowId, nonce, kind: 'card-certificates', reader: 1 }),
    ];
    const preview = await admin.post('/api/support/cases/preview', { flowId, statements });
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.case.certificates).toHaveLength(2);
    expect(preview.body.case.certificates[0].subject).toContain('Admin');
    expect(preview.body.case.agentVersion).toBe('0.1.0');
    expect(preview.body.case.admin2HsaId).toBe(ADMIN2);
    // The preview files nothing.
    expect(await listCases(h.ctx.store.db, { limit: 10 })).toEqual([]);
    h.agent.simulateStation({ forgedStatement: true });
    const forged = await h.agent.statement(h.agentToken, {
      flowId,
      nonce,
      kind: 'card-certificates',
      reader: 1,
    });
    const bad = await admin.post('/api/support/cases/preview', { flowId, statements: [forged] });
    expect(bad.body).toMatchObject({ code: 'STATEMENT_INVALID', details: { reason: 'signature' } });
  });
});
