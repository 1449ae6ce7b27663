import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import { insertCertificate, insertRevocation } from '../certificate/certificate.repository.js';
import { getFlow, insertFlow } from '../flow/flow.repository.js';
import { insertStation } from '../station/station.repository.js';
import {
  aCa,
  aCertificate,
  card,
  DAY,
  hsa,
  MINUTE,
  seedOrganisation,
  T0,
} from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  consumeChallenge,
  countChallenges,
  insertChallenge,
  purgeChallenges,
} from './login-challenge.repository.js';
import {
  endSession,
  endSessionsOfRevokedCertificates,
  getSession,
  getSessionWithFlow,
  insertSession,
  markLoginCardRemoved,
  type NewSession,
  purgeExpiredSessions,
  touchSession,
} from './session.repository.js';

const HOUR = 60 * MINUTE;

const aSession = (id: string, overrides: Partial<NewSession> = {}): NewSession => ({
  id,
  adminHsaId: hsa('adm2'),
  certificateSerial: '5f3a',
  cardNumber: card(7),
  assuranceLevel: 'LoA3',
  csrfToken: `csrf-${id}`,
  createdAt: T0,
  expiresAt: T0 + 8 * HOUR,
  station: null,
  ...overrides,
});

describe.each(DIALECTS)('session repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  it('round-trips a session, last seen at its creation', async () => {
    const session = aSession('hash-1');
    await insertSession(store.db, session);
    const stored = await getSession(store.db, 'hash-1');
    expect(stored).toEqual({
      ...session,
      lastSeenAt: T0,
      loginCardRemovedAt: null,
      endedAt: null,
      certificateRevokedAt: null,
      role: 'admin',
    });
    expect(typeof stored?.expiresAt).toBe('number');
    // A holder's session says so; every other is an administrator's.
    await insertSession(store.db, { ...session, id: 'hash-holder', role: 'holder' });
    expect((await getSession(store.db, 'hash-holder'))?.role).toBe('holder');
    await store.db.deleteFrom('sessions').where('id', '=', 'hash-holder').execute();
    expect(await getSession(store.db, 'no-such-session')).toBeNull();
    await expect(insertSession(store.db, session)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('reads a session with a flow in one statement: the same as each read alone', async () => {
    await insertSession(store.db, aSession('hash-with-flow'));
    const state = { flowId: 'flow-with-session', step: 1, timeline: [{ step: 1, at: T0, codes: ['X'] }] };
    await insertFlow(store.db, {
      id: 'flow-with-session',
      orderId: null,
      admin2HsaId: hsa('adm2'),
      status: 'active',
      step: 1,
      state,
      deadline: T0 + HOUR,
      pendingEffects: [{ type: 'revoke-certificates', serials: ['ab'] }],
      createdAt: T0,
      stationNonce: 'n'.repeat(32),
      loginInsertions: 3,
      agent: { version: '1.2.3', packaging: 'deb' },
    });
    expect(await getSessionWithFlow(store.db, 'hash-with-flow', 'flow-with-session')).toEqual({
      session: await getSession(store.db, 'hash-with-flow'),
      flow: await getFlow(store.db, 'flow-with-session'),
    });
    expect(await getSessionWithFlow(store.db, 'hash-with-flow', 'no-such-flow')).toEqual({
      session: await getSession(store.db, 'hash-with-flow'),
      flow: null,
    });
    expect(await getSessionWithFlow(store.db, 'no-such-session', 'flow-with-session')).toEqual({
      session: null,
      flow: null,
    });
    // The later tests count the sessions.
    await store.db.deleteFrom('sessions').where('id', '=', 'hash-with-flow').execute();
  });

  it('leaves a flow state it is given at the current version unread, and reads one that moved on', async () => {
    await insertSession(store.db, aSession('hash-known'));
    const state = { flowId: 'flow-known', step: 1, timeline: [] };
    await insertFlow(store.db, {
      id: 'flow-known',
      orderId: null,
      admin2HsaId: hsa('adm2'),
      status: 'active',
      step: 1,
      state,
      deadline: null,
      pendingEffects: [],
      createdAt: T0,
    });
    const read = await getSessionWithFlow(store.db, 'hash-known', 'flow-known');
    const version = read.flow?.version ?? -1;
    // The object given, not a parse of the column: the column was not read.
    const held = { flowId: 'flow-known', step: 1, timeline: [], held: true };
    const known = await getSessionWithFlow(store.db, 'hash-known', 'flow-known', { version, state: held });
    expect(known.flow?.state).toBe(held);
    expect({ ...known.flow, state: null }).toEqual({ ...read.flow, state: null });
    expect((await getFlow(store.db, 'flow-known', { version, state: held }))?.state).toBe(held);
    // A state held at another version is not used: the column is read.
    const stale = await getSessionWithFlow(store.db, 'hash-known', 'flow-known', {
      version: version - 1,
      state: held,
    });
    expect(stale.flow?.state).toEqual(state);
    expect((await getFlow(store.db, 'flow-known', { version: version + 1, state: held }))?.state).toEqual(
      state,
    );
    await store.db.deleteFrom('sessions').where('id', '=', 'hash-known').execute();
  });

  it('records activity, never moving it back, and not on an ended or unknown session', async () => {
    await insertSession(store.db, aSession('hash-touch'));
    expect(await touchSession(store.db, 'hash-touch', T0 + 2 * MINUTE)).toBe(true);
    // A request that started earlier but finished later does not move it back.
    expect(await touchSession(store.db, 'hash-touch', T0 + MINUTE)).toBe(true);
    expect(await getSession(store.db, 'hash-touch')).toMatchObject({ lastSeenAt: T0 + 2 * MINUTE });
    expect(await touchSession(store.db, 'no-such-session', T0)).toBe(false);
    expect(await endSession(store.db, 'hash-touch', T0 + 3 * MINUTE)).toBe(true);
    expect(await touchSession(store.db, 'hash-touch', T0 + 4 * MINUTE)).toBe(false);
  });

  it('keeps the first removal of the login card', async () => {
    await insertSession(store.db, aSession('hash-card'));
    expect(await markLoginCardRemoved(store.db, 'hash-card', T0 + MINUTE)).toBe(T0 + MINUTE);
    expect(await markLoginCardRemoved(store.db, 'hash-card', T0 + 2 * MINUTE)).toBe(T0 + MINUTE);
    expect(await getSession(store.db, 'hash-card')).toMatchObject({ loginCardRemovedAt: T0 + MINUTE });
    expect(await markLoginCardRemoved(store.db, 'no-such-session', T0)).toBeNull();
  });

  it('ends a session once, keeping the first end', async () => {
    await insertSession(store.db, aSession('hash-end'));
    expect(await endSession(store.db, 'hash-end', T0 + MINUTE)).toBe(true);
    expect(await endSession(store.db, 'hash-end', T0 + 2 * MINUTE)).toBe(false);
    expect(await getSession(store.db, 'hash-end')).toMatchObject({ endedAt: T0 + MINUTE });
    expect(await endSession(store.db, 'no-such-session', T0)).toBe(false);
  });

  it('purges the sessions expired or ended by now', async () => {
    const now = T0 + 10 * HOUR;
    await insertSession(store.db, aSession('hash-live', { createdAt: now - HOUR, expiresAt: now + HOUR }));
    await insertSession(
      store.db,
      aSession('hash-ended-later', { createdAt: now - HOUR, expiresAt: now + HOUR }),
    );
    await endSession(store.db, 'hash-ended-later', now + 1);
    // Everything from the earlier tests expired at T0 + 8h or was ended.
    expect(await purgeExpiredSessions(store.db, now)).toBe(4);
    expect(await getSession(store.db, 'hash-1')).toBeNull();
    expect(await getSession(store.db, 'hash-live')).not.toBeNull();
    expect(await getSession(store.db, 'hash-ended-later')).not.toBeNull();
    expect(await purgeExpiredSessions(store.db, now)).toBe(0);
  });
});

describe.each(DIALECTS)('a session logged in at a card station on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
    await insertCa(store.db, aCa('loa3'));
    await insertCertificate(
      store.db,
      aCertificate('cert-st-1', 'loa3', {
        profile: 'station',
        hsaId: null,
        cardNumber: null,
        orderId: null,
        notAfter: T0 + 30 * DAY,
      }),
    );
    await insertStation(store.db, {
      id: 'st-disk-0001',
      name: 'Disk 1',
      branchId: 'clinic',
      certificateSerial: 'cert-st-1',
      spki: 'spki-1',
      registeredBy: 'ca-operator',
      registeredAt: T0,
    });
  });
  afterAll(() => store?.dispose());

  it('keeps the station, the login reader and its insertion counter', async () => {
    const station = { stationId: 'st-disk-0001', reader: 2 as const, insertions: 2 ** 40 + 3 };
    await insertSession(store.db, aSession('hash-st', { station }));
    expect(await getSession(store.db, 'hash-st')).toMatchObject({ station });
    await insertSession(store.db, aSession('hash-nost'));
    expect(await getSession(store.db, 'hash-nost')).toMatchObject({ station: null });
  });

  it('refuses a station that is not registered', async () => {
    await expect(
      insertSession(
        store.db,
        aSession('hash-stranger', { station: { stationId: 'st-unknown-01', reader: 1, insertions: 1 } }),
      ),
    ).rejects.toThrow();
    expect(await getSession(store.db, 'hash-stranger')).toBeNull();
  });
});

describe.each(DIALECTS)('sessions of revoked login certificates on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await insertCa(store.db, aCa('root', { role: 'root' }));
    await insertCa(store.db, aCa('loa3', { issuerId: 'root' }));
    for (const serial of ['5f3a', '5f3b']) await insertCertificate(store.db, aCertificate(serial, 'loa3'));
  });
  afterAll(() => store?.dispose());

  it('read with the revocation of their certificate, and all end together once it is revoked', async () => {
    await insertSession(store.db, aSession('hash-a1'));
    await insertSession(store.db, aSession('hash-a2', { createdAt: T0 + MINUTE }));
    await insertSession(store.db, aSession('hash-other', { certificateSerial: '5f3b' }));
    await insertSession(store.db, aSession('hash-gone'));
    await endSession(store.db, 'hash-gone', T0 + MINUTE);
    expect(await getSession(store.db, 'hash-a1')).toMatchObject({ certificateRevokedAt: null });
    expect(await endSessionsOfRevokedCertificates(store.db, T0 + 2 * MINUTE)).toBe(0);

    await insertRevocation(store.db, {
      serial: '5f3a',
      revokedAt: T0 + 3 * MINUTE,
      reason: 'keyCompromise',
      revokedBy: 'cli',
    });
    expect(await getSession(store.db, 'hash-a1')).toMatchObject({
      certificateRevokedAt: T0 + 3 * MINUTE,
      endedAt: null,
    });
    expect(await endSessionsOfRevokedCertificates(store.db, T0 + 4 * MINUTE)).toBe(2);
    expect(await endSessionsOfRevokedCertificates(store.db, T0 + 5 * MINUTE)).toBe(0);
    for (const id of ['hash-a1', 'hash-a2'])
      expect(await getSession(store.db, id)).toMatchObject({ endedAt: T0 + 4 * MINUTE });
    // An earlier logout keeps its time; a session of another certificate goes on.
    expect(await getSession(store.db, 'hash-gone')).toMatchObject({ endedAt: T0 + MINUTE });
    expect(await getSession(store.db, 'hash-other')).toMatchObject({
      endedAt: null,
      certificateRevokedAt: null,
    });
  });
});

describe.each(DIALECTS)('login challenge repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  it('hands a challenge out once only', async () => {
    await insertChallenge(store.db, { id: 'ch-1', challenge: 'AAEC', createdAt: T0, expiresAt: T0 + MINUTE });
    expect(await consumeChallenge(store.db, 'ch-1', T0 + 1)).toBe('AAEC');
    expect(await consumeChallenge(store.db, 'ch-1', T0 + 2)).toBeNull();
    expect(await consumeChallenge(store.db, 'no-such-challenge', T0)).toBeNull();
  });

  it('gives out one of two concurrent consumptions', async () => {
    await insertChallenge(store.db, {
      id: 'ch-race',
      challenge: 'AQ==',
      createdAt: T0,
      expiresAt: T0 + MINUTE,
    });
    const results = await Promise.all([
      consumeChallenge(store.db, 'ch-race', T0 + 1),
      consumeChallenge(store.db, 'ch-race', T0 + 1),
    ]);
    expect(results.filter((r) => r !== null)).toEqual(['AQ==']);
  });

  it('refuses an expired challenge, expiry instant included', async () => {
    await insertChallenge(store.db, {
      id: 'ch-old',
      challenge: 'Ag==',
      createdAt: T0,
      expiresAt: T0 + MINUTE,
    });
    expect(await consumeChallenge(store.db, 'ch-old', T0 + MINUTE)).toBeNull();
    expect(await consumeChallenge(store.db, 'ch-old', T0 + 2 * MINUTE)).toBeNull();
  });

  it('refuses a duplicate id as a CONFLICT', async () => {
    await expect(
      insertChallenge(store.db, { id: 'ch-1', challenge: 'x', createdAt: T0, expiresAt: T0 + MINUTE }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('purges the expired challenges, used or not, and keeps the live ones', async () => {
    await insertChallenge(store.db, {
      id: 'ch-fresh',
      challenge: 'Aw==',
      createdAt: T0,
      expiresAt: T0 + 10 * MINUTE,
    });
    // ch-1 and ch-race used, ch-old unused: all three expired; ch-fresh still usable.
    expect(await countChallenges(store.db)).toBe(4);
    expect(await purgeChallenges(store.db, T0 + 2 * MINUTE)).toBe(3);
    expect(await consumeChallenge(store.db, 'ch-fresh', T0 + 3 * MINUTE)).toBe('Aw==');
    // Used, but not yet expired: it goes at its expiry (a second use is refused all the same).
    expect(await purgeChallenges(store.db, T0 + 3 * MINUTE)).toBe(0);
    expect(await consumeChallenge(store.db, 'ch-fresh', T0 + 4 * MINUTE)).toBeNull();
    expect(await purgeChallenges(store.db, T0 + 10 * MINUTE)).toBe(1);
    expect(await countChallenges(store.db)).toBe(0);
  });

  it('purges in batches of the given size', async () => {
    for (let i = 0; i < 7; i++)
      await insertChallenge(store.db, { id: `ch-b${i}`, challenge: 'x', createdAt: T0, expiresAt: T0 + i });
    expect(await purgeChallenges(store.db, T0 + 10, 3)).toBe(3);
    expect(await purgeChallenges(store.db, T0 + 10, 3)).toBe(3);
    expect(await purgeChallenges(store.db, T0 + 10, 3)).toBe(1);
    expect(await countChallenges(store.db)).toBe(0);
  });
});

// PostgreSQL's planner picks a sequential scan for a small table, whatever the indexes: the plan is
// asserted where it is stable.
describe('the challenge purge on sqlite', () => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore('sqlite');
  });
  afterAll(() => store?.dispose());

  it('finds the expired challenges through the index on expires_at', async () => {
    // The statement purgeChallenges runs, caught on its way to the database, as SQLite plans it.
    const statements: CompiledQuery[] = [];
    const executor = store.db.getExecutor();
    const watched = store.db.withPlugin({
      transformQuery: ({ node, queryId }) => {
        statements.push(executor.compileQuery(node, queryId));
        return node;
      },
      transformResult: async ({ result }) => result,
    });
    await purgeChallenges(watched, T0, 10);
    const [purge] = statements;
    expect(purge?.sql).toMatch(/^delete from "login_challenges"/);
    const plan = await store.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${purge?.sql}`, [...(purge?.parameters ?? [])]),
    );
    const details = plan.rows.map((r) => r.detail).join('\n');
    expect(details).toContain(
      'SEARCH login_challenges USING INDEX login_challenges_expires_at_idx (expires_at<?)',
    );
    expect(details).not.toMatch(/SCAN login_challenges/);
  });
});
