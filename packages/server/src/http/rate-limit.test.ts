// The unauthenticated login routes are limited per client address: a burst gets 429 RATE_LIMITED
// with Retry-After, the challenges it may leave in the database are bounded, and with Redis two
// servers share one budget (and without it, or while it is away, each server still limits alone).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FLOW_CONFIG } from '@reservkort/domain';
import { OcspResponder } from '@reservkort/pki';
import { countChallenges } from '@reservkort/store';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestCa, realClock, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { buildApp } from '../app.js';
import { DEFAULT_SESSION_SETTINGS } from '../auth/session.js';
import { dataFolder } from '../config/data-folder.js';
import { type RunningServer, startServer } from '../server.js';
import type { ServerContext } from '../server-context.js';
import { initDataFolder } from '../test-support/durable-fixture.js';
import {
  closeRateLimitRedis,
  connectRateLimitRedis,
  DEFAULT_RATE_LIMIT,
  type RateLimitSettings,
  redisAddress,
} from './rate-limit.js';

const REDIS_URL = process.env.RESERVKORT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The keys under a prefix, read and then deleted, so no run leaves counters behind. */
const sharedKeys = async (prefix: string): Promise<string[]> => {
  const redis = new Redis(REDIS_URL);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    return keys;
  } finally {
    await redis.quit();
  }
};

describe('the rate limit on the unauthenticated routes', () => {
  let t: TestCa;
  let ctx: ServerContext;
  const apps: FastifyInstance[] = [];
  const clients: Redis[] = [];

  const appWith = async (rateLimit: RateLimitSettings) => {
    const app = await buildApp(ctx, { rateLimit });
    apps.push(app);
    return app;
  };
  const challenge = (app: FastifyInstance, remoteAddress = '192.0.2.10') =>
    app.inject({ method: 'POST', url: '/api/auth/challenge', remoteAddress });
  /** A Redis client and a key prefix of this test's own, so runs never share counters. */
  const sharedRedis = async () => {
    const { redis, reachable } = await connectRateLimitRedis(REDIS_URL, () => undefined);
    clients.push(redis);
    expect(reachable, `Redis is required at ${REDIS_URL} (RESERVKORT_TEST_REDIS_URL)`).toBe(true);
    return redis;
  };

  beforeAll(async () => {
    t = await createTestCa('sqlite');
    ctx = {
      store: t.store,
      ca: t.ca,
      responder: new OcspResponder(t.ca, t.store.db, realClock),
      clock: realClock,
      sessions: DEFAULT_SESSION_SETTINGS,
      flow: DEFAULT_FLOW_CONFIG,
      agentUrl: null,
      training: false,
    };
  });
  beforeEach(async () => {
    await t.store.db.deleteFrom('login_challenges').execute();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const redis of clients) await closeRateLimitRedis(redis);
    ctx?.responder.close();
    await t?.dispose();
  });

  it('answers a burst of challenges from one address with 429 RATE_LIMITED and Retry-After, so rows stop growing', async () => {
    const app = await appWith({ perMinute: 5, redis: null });
    const answers = [];
    for (let i = 0; i < 40; i++) answers.push(await challenge(app));
    expect(answers.map((a) => a.statusCode)).toEqual([...Array(5).fill(200), ...Array(35).fill(429)]);
    const refused = answers[5];
    expect(refused?.json()).toMatchObject({
      code: 'RATE_LIMITED',
      message: { sv: 'För många försök', en: 'Too many attempts' },
      details: { retryAfterSeconds: expect.any(Number) },
    });
    const retryAfter = Number(refused?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused?.json().details.retryAfterSeconds).toBe(retryAfter);
    // Only what was let through was written.
    expect(await countChallenges(t.store.db)).toBe(5);
    // Another address has its own budget; addresses of one IPv6 /64 are one client.
    expect((await challenge(app, '192.0.2.11')).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await challenge(app, `2001:db8:1:2::${i + 1}`)).statusCode).toBe(200);
    expect((await challenge(app, '2001:db8:1:2:ffff::9')).statusCode).toBe(429);
    expect(await countChallenges(t.store.db)).toBe(11);
  });

  it('limits logins too, on a budget of their own', async () => {
    const app = await appWith({ perMinute: 3, redis: null });
    const body = { challengeId: 'no-such-challenge', certificate: 'AAAA', signature: 'AAAA' };
    const codes = [];
    for (let i = 0; i < 5; i++)
      codes.push((await app.inject({ method: 'POST', url: '/api/auth/login', payload: body })).json().code);
    expect(codes).toEqual(['LOGIN_FAILED', 'LOGIN_FAILED', 'LOGIN_FAILED', 'RATE_LIMITED', 'RATE_LIMITED']);
    // The login budget is its own: challenges are still given out.
    expect((await challenge(app, '127.0.0.1')).statusCode).toBe(200);
  });

  it('leaves the other routes alone', async () => {
    const app = await appWith({ perMinute: 1, redis: null });
    for (let i = 0; i < 5; i++) {
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/pki/ca/root.pem' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/auth/me' })).json().code).toBe('NOT_LOGGED_IN');
    }
  });

  it('uses 60 a minute by default', async () => {
    expect(DEFAULT_RATE_LIMIT).toEqual({ perMinute: 60, redis: null });
    const app = await buildApp(ctx);
    apps.push(app);
    const statuses = [];
    for (let i = 0; i < 61; i++) statuses.push((await challenge(app, '198.51.100.7')).statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(60);
    expect(statuses.at(-1)).toBe(429);
  });

  it('shares one budget between two servers through Redis; in memory each has its own', async () => {
    const nameSpace = `reservkort-test-${randomBytes(6).toString('hex')}-`;
    const a = await appWith({ perMinute: 6, redis: await sharedRedis(), nameSpace });
    const b = await appWith({ perMinute: 6, redis: await sharedRedis(), nameSpace });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push((await challenge(a)).statusCode);
      statuses.push((await challenge(b)).statusCode);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.slice(6).every((s) => s === 429)).toBe(true);
    expect(await countChallenges(t.store.db)).toBe(6);
    expect(await sharedKeys(nameSpace)).toHaveLength(1);

    // The same two servers counting alone let twice as many through.
    await t.store.db.deleteFrom('login_challenges').execute();
    const c = await appWith({ perMinute: 6, redis: null });
    const d = await appWith({ perMinute: 6, redis: null });
    const alone: number[] = [];
    for (let i = 0; i < 8; i++) {
      alone.push((await challenge(c)).statusCode);
      alone.push((await challenge(d)).statusCode);
    }
    expect(alone.filter((s) => s === 200)).toHaveLength(12);
  });

  it('still limits, and never fails a login, while Redis cannot be reached', async () => {
    const messages: string[] = [];
    // A port nothing listens on: every Redis command fails at once.
    const { redis, reachable } = await connectRateLimitRedis(
      'redis://:not-shown@127.0.0.1:1/0',
      (m) => messages.push(m),
      300,
    );
    try {
      expect(reachable).toBe(false);
      const app = await appWith({ perMinute: 4, redis });
      const statuses = [];
      for (let i = 0; i < 6; i++) statuses.push((await challenge(app, '203.0.113.5')).statusCode);
      expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toContain('redis://127.0.0.1:1/0 unreachable');
      expect(messages.join('\n')).not.toContain('not-shown');
    } finally {
      // Closed, it stops trying: no reconnection keeps a stopping server alive.
      let attempts = 0;
      redis.on('connecting', () => attempts++);
      await closeRateLimitRedis(redis);
      // Left open, it would try again within this time (its back-off grows by 50 ms a try).
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(attempts).toBe(0);
    }
  });

  it('shows a Redis address without its password', () => {
    expect(redisAddress('redis://user:secret@redis.internal:6380/2')).toBe('redis://redis.internal:6380/2');
    expect(redisAddress('rediss://redis.internal')).toBe('rediss://redis.internal');
  });
});

describe('reservkort serve with a Redis for the rate limit', () => {
  let dir = '';
  let root = '';
  const running: RunningServer[] = [];
  const redisInEnvironment = process.env.RESERVKORT_REDIS_URL;

  beforeAll(async () => {
    delete process.env.RESERVKORT_REDIS_URL;
    dir = await mkdtemp(join(tmpdir(), 'reservkort-rate-limit-'));
    root = join(dir, 'data');
    await initDataFolder(root);
  });
  afterAll(async () => {
    for (const server of running) await server.close();
    await rm(dir, { recursive: true, force: true });
    if (redisInEnvironment !== undefined) process.env.RESERVKORT_REDIS_URL = redisInEnvironment;
  });

  const serve = async (rateLimit: NonNullable<Parameters<typeof startServer>[0]['rateLimit']>) => {
    const server = await startServer({
      data: root,
      port: 0,
      host: '127.0.0.1',
      training: false,
      agentPort: 0,
      webRoot: null,
      rateLimit,
    });
    running.push(server);
    return server;
  };

  it('shares one budget between two servers, with the URL from the configuration or from secrets/', async () => {
    const redisNameSpace = `reservkort-test-${randomBytes(6).toString('hex')}-`;
    // One server has the URL in its configuration, the other (as with a password) in secrets/redis-url.
    const a = await serve({ perMinute: 4, redisUrl: REDIS_URL, redisNameSpace });
    await writeFile(join(dataFolder(root).secrets, 'redis-url'), `${REDIS_URL}\n`, { mode: 0o600 });
    const b = await serve({ perMinute: 4, redisNameSpace });
    for (const server of [a, b]) expect(server.warnings.join('\n')).not.toContain('rate-limit store');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      for (const server of [a, b])
        statuses.push((await fetch(`${server.url}/api/auth/challenge`, { method: 'POST' })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    const keys = await sharedKeys(redisNameSpace);
    expect(keys.length).toBeGreaterThan(0);
  });

  it('starts with a warning, and limits alone, when Redis does not answer', async () => {
    await rm(join(dataFolder(root).secrets, 'redis-url'), { force: true });
    const alone = await serve({ perMinute: 2, redisUrl: 'redis://127.0.0.1:1/0' });
    expect(alone.warnings.join('\n')).toContain(
      'the rate-limit store redis://127.0.0.1:1/0 does not answer; each server limits alone until it does',
    );
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await fetch(`${alone.url}/api/auth/challenge`, { method: 'POST' })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
