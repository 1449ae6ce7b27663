import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import { insertCertificate, insertRevocation } from '../certificate/certificate.repository.js';
import { runMigrations } from '../database.js';
import { getFlow, insertFlow } from '../flow/flow.repository.js';
import { MIGRATIONS } from '../migrations/migration.provider.js';
import { aCa, aCertificate, DAY, MINUTE, seedOrganisation, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import {
  activeStationWithKey,
  bindFlowToStation,
  getStation,
  getStationRaisingSeq,
  insertStation,
  listStations,
  listUnheldStationCertificates,
  markStationRevoked,
  type NewStation,
  raiseStationSeq,
  renewStation,
  stationOfFlow,
} from './station.repository.js';

const aStation = (id: string, overrides: Partial<NewStation> = {}): NewStation => ({
  id,
  name: `Station ${id}`,
  branchId: 'clinic',
  certificateSerial: `cert-${id}`,
  spki: `spki-${id}`,
  registeredBy: 'SE2321000016-adm1',
  registeredAt: T0,
  ...overrides,
});

const stationCertificate = (serial: string) =>
  aCertificate(serial, 'loa3', {
    profile: 'station',
    hsaId: null,
    cardNumber: null,
    orderId: null,
    notAfter: T0 + 30 * DAY,
  });

describe.each(DIALECTS)('station repository on %s', (dialect) => {
  let store: TestStore;
  beforeEach(async () => {
    store = await createTestStore(dialect);
    await seedOrganisation(store.db);
    await insertCa(store.db, aCa('loa3'));
    for (const serial of ['cert-st-a', 'cert-st-b', 'cert-st-a2'])
      await insertCertificate(store.db, stationCertificate(serial));
  });
  afterEach(() => store?.dispose());

  it('round-trips a station with its certificate’s expiry and revocation', async () => {
    await insertStation(store.db, aStation('st-a'));
    expect(await getStation(store.db, 'st-a')).toEqual({
      ...aStation('st-a'),
      status: 'active',
      lastSeq: 0,
      certificateNotAfter: T0 + 30 * DAY,
      certificateRevokedAt: null,
    });
    await insertRevocation(store.db, {
      serial: 'cert-st-a',
      revokedAt: T0 + MINUTE,
      reason: 'keyCompromise',
      revokedBy: 'ca-operator',
    });
    expect(await getStation(store.db, 'st-a')).toMatchObject({
      status: 'active',
      certificateRevokedAt: T0 + MINUTE,
    });
    expect(await getStation(store.db, 'st-none')).toBeNull();
  });

  it('refuses an unknown branch, an unknown certificate and a second active station with one key', async () => {
    await expect(insertStation(store.db, aStation('st-x', { branchId: 'nowhere' }))).rejects.toBeDefined();
    await expect(
      insertStation(store.db, aStation('st-x', { certificateSerial: 'none' })),
    ).rejects.toBeDefined();
    await insertStation(store.db, aStation('st-a'));
    await expect(insertStation(store.db, aStation('st-b', { spki: 'spki-st-a' }))).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    // Once the first is revoked, the key may be registered again.
    expect(await markStationRevoked(store.db, 'st-a')).toBe(true);
    expect(await markStationRevoked(store.db, 'st-a')).toBe(false);
    await insertStation(store.db, aStation('st-b', { spki: 'spki-st-a' }));
    expect((await activeStationWithKey(store.db, 'spki-st-a'))?.id).toBe('st-b');
  });

  it('renews an active station onto a new certificate, not a revoked one', async () => {
    await insertStation(store.db, aStation('st-a'));
    const renew = (certificateSerial: string, previousSerial: string) =>
      renewStation(store.db, { id: 'st-a', certificateSerial, name: 'Ny', previousSerial });
    expect(await renew('cert-st-a2', 'cert-st-a')).toBe(true);
    expect(await getStation(store.db, 'st-a')).toMatchObject({ certificateSerial: 'cert-st-a2', name: 'Ny' });
    // A second renewal that read the station before the first: it lost the race.
    expect(await renew('cert-st-a', 'cert-st-a')).toBe(false);
    expect((await getStation(store.db, 'st-a'))?.certificateSerial).toBe('cert-st-a2');
    await markStationRevoked(store.db, 'st-a');
    expect(await renew('cert-st-a', 'cert-st-a2')).toBe(false);
  });

  it('lists the station certificates no station holds and none revokes', async () => {
    // Nothing holds any of the three yet.
    expect(await listUnheldStationCertificates(store.db)).toEqual(['cert-st-a', 'cert-st-a2', 'cert-st-b']);
    await insertStation(store.db, aStation('st-a'));
    await renewStation(store.db, {
      id: 'st-a',
      certificateSerial: 'cert-st-a2',
      name: 'Ny',
      previousSerial: 'cert-st-a',
    });
    await insertRevocation(store.db, {
      serial: 'cert-st-b',
      revokedAt: T0,
      reason: 'superseded',
      revokedBy: 'ca-operator',
    });
    // The renewal's old certificate, not yet revoked.
    expect(await listUnheldStationCertificates(store.db)).toEqual(['cert-st-a']);
  });

  it('lists stations, all or of some branches', async () => {
    await insertStation(store.db, aStation('st-b', { branchId: 'other', name: 'B' }));
    await insertStation(store.db, aStation('st-a', { name: 'A' }));
    expect((await listStations(store.db)).map((s) => s.id)).toEqual(['st-a', 'st-b']);
    expect((await listStations(store.db, { branchIds: ['other'] })).map((s) => s.id)).toEqual(['st-b']);
    expect(await listStations(store.db, { branchIds: [] })).toEqual([]);
  });

  it('raises the sequence number only upwards, and a rolled-back use leaves it as it was', async () => {
    await insertStation(store.db, aStation('st-a'));
    expect(await raiseStationSeq(store.db, 'st-a', 5)).toBe(true);
    expect(await raiseStationSeq(store.db, 'st-a', 5)).toBe(false);
    expect(await raiseStationSeq(store.db, 'st-a', 4)).toBe(false);
    await expect(
      store.db.transaction().execute(async (trx) => {
        expect(await raiseStationSeq(trx, 'st-a', 9)).toBe(true);
        throw new Error('the flow change failed');
      }),
    ).rejects.toThrow('the flow change failed');
    expect((await getStation(store.db, 'st-a'))?.lastSeq).toBe(5);
    const [first, second] = await Promise.all([
      raiseStationSeq(store.db, 'st-a', 6),
      raiseStationSeq(store.db, 'st-a', 6),
    ]);
    expect([first, second].sort()).toEqual([false, true]);
    expect(await raiseStationSeq(store.db, 'st-none', 1)).toBe(false);
  });

  it('reads a station and raises its sequence number in one go, as it was before the raise', async () => {
    await insertStation(store.db, aStation('st-a'));
    const before = await getStation(store.db, 'st-a');
    await store.db.transaction().execute(async (trx) => {
      expect(await getStationRaisingSeq(trx, 'st-a', 5)).toEqual({ station: before, raised: true });
    });
    expect((await getStation(store.db, 'st-a'))?.lastSeq).toBe(5);
    await store.db.transaction().execute(async (trx) => {
      const replayed = await getStationRaisingSeq(trx, 'st-a', 5);
      expect(replayed).toMatchObject({ station: { id: 'st-a', lastSeq: 5 }, raised: false });
    });
    await expect(
      store.db.transaction().execute(async (trx) => {
        expect((await getStationRaisingSeq(trx, 'st-a', 9))?.raised).toBe(true);
        throw new Error('the statement was refused');
      }),
    ).rejects.toThrow('the statement was refused');
    expect((await getStation(store.db, 'st-a'))?.lastSeq).toBe(5);
    const both = await Promise.all(
      [0, 1].map(() =>
        store.db.transaction().execute(async (trx) => (await getStationRaisingSeq(trx, 'st-a', 6))?.raised),
      ),
    );
    expect(both.sort()).toEqual([false, true]);
    await store.db.transaction().execute(async (trx) => {
      expect(await getStationRaisingSeq(trx, 'st-none', 1)).toBeNull();
    });
  });

  it('binds a flow to its station', async () => {
    await insertStation(store.db, aStation('st-a'));
    await insertFlow(store.db, {
      id: 'flow-1',
      orderId: null,
      admin2HsaId: null,
      status: 'active',
      step: 0,
      state: {},
      deadline: null,
      pendingEffects: [],
      createdAt: T0,
    });
    expect(await stationOfFlow(store.db, 'flow-1')).toBeNull();
    expect(await bindFlowToStation(store.db, 'flow-1', 'st-a')).toBe(true);
    expect(await stationOfFlow(store.db, 'flow-1')).toBe('st-a');
    expect((await getFlow(store.db, 'flow-1'))?.id).toBe('flow-1');
    await expect(bindFlowToStation(store.db, 'flow-1', 'st-none')).rejects.toBeDefined();
  });
});

describe.each(DIALECTS)('the stations migration on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('adds the table and a null station to the flows already there', async () => {
    const NAME = '2026-12-03T20-stations';
    store = await createTestStore(dialect, { migrate: false });
    await runMigrations(store.db, Object.fromEntries(Object.entries(MIGRATIONS).filter(([n]) => n < NAME)));
    await store.db
      .insertInto('flows')
      .values({
        id: 'old-flow',
        order_id: null,
        admin2_hsa_id: null,
        status: 'active',
        step: 0,
        state_json: '{}',
        deadline: null,
        created_at: T0,
        updated_at: T0,
      })
      .execute();
    const upTo = Object.fromEntries(Object.entries(MIGRATIONS).filter(([n]) => n <= NAME));
    expect(await runMigrations(store.db, upTo)).toEqual({ applied: [NAME] });
    expect(await stationOfFlow(store.db, 'old-flow')).toBeNull();
    expect(await listStations(store.db)).toEqual([]);
    // The next migration gives the flows already there a station nonce of their own.
    expect(await runMigrations(store.db, MIGRATIONS)).toEqual({
      applied: Object.keys(MIGRATIONS)
        .filter((n) => n > NAME)
        .sort(),
    });
    const flow = await getFlow(store.db, 'old-flow');
    expect(flow?.stationNonce).toMatch(/^[0-9a-f]{32}$/);
    expect(flow).toMatchObject({ stationId: null, loginInsertions: null, cardKeys: null });
  });
});
