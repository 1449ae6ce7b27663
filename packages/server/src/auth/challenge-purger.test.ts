// Expired challenges are deleted, in batches, by one pass at start and then periodically; together
// with the rate limit this keeps what unauthenticated callers can store bounded.
import { DEFAULT_FLOW_CONFIG } from '@reservkort/domain';
import { OcspResponder } from '@reservkort/pki';
import { countChallenges, insertChallenge } from '@reservkort/store';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../../../pki/src/test-support/test-ca.js';
import { DIALECTS } from '../../../store/src/test-support/test-stores.js';
import { buildApp } from '../app.js';
import { ChallengePurger } from './challenge-purger.js';
import { DEFAULT_SESSION_SETTINGS } from './session.js';

const MINUTE = 60_000;

describe.each(DIALECTS)('purging expired challenges on %s', (dialect) => {
  let t: TestCa;
  let app: FastifyInstance;
  let offset = 0;
  const clock = { now: () => Date.now() + offset };

  beforeAll(async () => {
    t = await createTestCa(dialect);
    app = await buildApp(
      {
        store: t.store,
        ca: t.ca,
        responder: new OcspResponder(t.ca, t.store.db, clock),
        clock,
        sessions: DEFAULT_SESSION_SETTINGS,
        flow: DEFAULT_FLOW_CONFIG,
        agentUrl: null,
        training: false,
      },
      { rateLimit: { perMinute: 4, redis: null } },
    );
  });
  afterAll(async () => {
    await app?.close();
    await t?.dispose();
  });

  it('keeps what many clients leave behind bounded: at most the limit each, and nothing once expired', async () => {
    const purger = new ChallengePurger(t.store.db, clock.now, { batchSize: 7 });
    // Twenty addresses, each trying far more than its budget.
    for (let client = 0; client < 20; client++)
      for (let i = 0; i < 10; i++)
        await app.inject({ method: 'POST', url: '/api/auth/challenge', remoteAddress: `10.1.0.${client}` });
    expect(await countChallenges(t.store.db)).toBe(20 * 4);
    // Login challenges live two minutes: nothing is due before.
    expect(await purger.purge()).toBe(0);
    offset += 2 * MINUTE;
    // Eighty rows in batches of seven: the pass goes on until a batch is not full.
    expect(await purger.purge()).toBe(80);
    expect(await countChallenges(t.store.db)).toBe(0);
  });

  it('purges only the expired, used or not', async () => {
    const now = clock.now();
    for (const [id, expiresAt] of [
      ['gone-1', now - 1],
      ['gone-2', now],
      ['live', now + MINUTE],
    ] as const)
      await insertChallenge(t.store.db, { id, challenge: 'AA==', createdAt: now - MINUTE, expiresAt });
    expect(await new ChallengePurger(t.store.db, clock.now).purge()).toBe(2);
    expect(await countChallenges(t.store.db)).toBe(1);
    offset += MINUTE;
    expect(await new ChallengePurger(t.store.db, clock.now).purge()).toBe(1);
  });

  it('runs a pass at start, then one per interval, and reports a failed pass', async () => {
    const now = clock.now();
    await insertChallenge(t.store.db, { id: 'at-start', challenge: 'AA==', createdAt: now, expiresAt: now });
    const errors: unknown[] = [];
    const purger = new ChallengePurger(t.store.db, clock.now, {
      intervalMs: 20,
      onError: (e) => errors.push(e),
    });
    purger.start();
    try {
      await expect.poll(() => countChallenges(t.store.db), { timeout: 2000, interval: 10 }).toBe(0);
      await insertChallenge(t.store.db, { id: 'later', challenge: 'AA==', createdAt: now, expiresAt: now });
      await expect.poll(() => countChallenges(t.store.db), { timeout: 2000, interval: 10 }).toBe(0);
    } finally {
      await purger.stop();
    }
    expect(errors).toEqual([]);
    // A pass that fails (here: a clock that throws) is reported, and the timer keeps going.
    const failing = new ChallengePurger(
      t.store.db,
      () => {
        throw new Error('clock unavailable');
      },
      { intervalMs: 20, onError: (e) => errors.push(e) },
    );
    failing.start();
    await expect.poll(() => errors.length, { timeout: 2000, interval: 10 }).toBeGreaterThanOrEqual(2);
    await failing.stop();
    expect(String(errors[0])).toContain('clock unavailable');
  });
});
