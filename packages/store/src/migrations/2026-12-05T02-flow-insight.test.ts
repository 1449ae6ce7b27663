import { afterEach, describe, expect, it } from 'vitest';
import { insertCa } from '../ca/ca.repository.js';
import { insertCertificate } from '../certificate/certificate.repository.js';
import { runMigrations } from '../database.js';
import { getFlow } from '../flow/flow.repository.js';
import { insertOrder } from '../order/order.repository.js';
import { insertPerson } from '../person/person.repository.js';
import { insertStation } from '../station/station.repository.js';
import { insertCase } from '../support/support-case.repository.js';
import { aCa, aCertificate, anOrder, aPerson, seedOrganisation, T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { MIGRATIONS } from './migration.provider.js';

const NAME = '2026-12-05T02-flow-insight';
const BEFORE = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < NAME));
const UP_TO = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name <= NAME));

describe.each(DIALECTS)('the flow insight migration on %s', (dialect) => {
  let store: TestStore | undefined;
  afterEach(async () => {
    await store?.dispose();
    store = undefined;
  });

  it('backfills branch, furthest step, first-raised codes, the reported agent and resolution times', async () => {
    store = await createTestStore(dialect, { migrate: false });
    const db = store.db;
    await runMigrations(db, BEFORE);
    await seedOrganisation(db);
    await insertCa(db, aCa('loa3'));
    await insertCertificate(
      db,
      aCertificate('cert-st', 'loa3', { profile: 'station', hsaId: null, cardNumber: null, orderId: null }),
    );
    await insertStation(db, {
      id: 'st-1',
      name: 'Station 1',
      branchId: 'other',
      certificateSerial: 'cert-st',
      spki: 'spki',
      registeredBy: 'SE2321000016-adm1',
      registeredAt: T0,
    });
    const anna = aPerson('anna1');
    await insertPerson(db, anna);
    await insertOrder(db, anOrder('order-1', anna));
    // Rows as the schema before took them.
    const flow = (id: string, orderId: string | null, timeline: unknown) => ({
      id,
      order_id: orderId,
      admin2_hsa_id: null,
      status: 'aborted',
      step: 6,
      state_json: JSON.stringify({ timeline }),
      deadline: null,
      pending_effects_json: '[]',
      created_at: T0,
      updated_at: T0,
      station_id: 'st-1',
      station_nonce: 'ab'.repeat(16),
    });
    await db
      .insertInto('flows')
      .values([
        flow('with-order', 'order-1', [
          { at: T0, step: 0, event: 'flow-started', codes: [] },
          { at: T0 + 1, step: 6, event: 'x', codes: ['CARD_REMOVED_DURING_DOWNLOAD'] },
          { at: T0 + 2, step: 6, event: 'x', codes: ['CARD_REMOVED_DURING_DOWNLOAD', 'DOWNLOAD_FAILED'] },
        ]),
        flow('station-only', null, [{ at: T0, step: 0, event: 'flow-started', codes: ['READERS_MISSING'] }]),
        flow('unreadable', null, 'not a timeline'),
      ] as never)
      .execute();
    await insertCase(db, {
      id: 'case-1',
      flowId: 'with-order',
      reportedBy: 'SE2321000016-adm2' as never,
      protectedIdentity: false,
      codes: ['DOWNLOAD_FAILED'],
      draft: { agentVersion: '1.4.0', agentPackaging: 'msi' },
      createdAt: T0 + 10,
      stationId: 'st-1',
    });
    await db
      .updateTable('support_cases')
      .set({ status: 'resolved', updated_at: T0 + 500 })
      .execute();

    expect(await runMigrations(db, UP_TO)).toEqual({ applied: [NAME] });

    const facts = await db
      .selectFrom('flows')
      .select(['id', 'branch_id', 'reached_step', 'code_count', 'agent_version', 'agent_packaging'])
      .orderBy('id')
      .execute();
    expect(
      facts.map((f) => ({ ...f, reached_step: Number(f.reached_step), code_count: Number(f.code_count) })),
    ).toEqual([
      {
        id: 'station-only',
        branch_id: 'other',
        reached_step: 0,
        code_count: 1,
        agent_version: null,
        agent_packaging: null,
      },
      {
        id: 'unreadable',
        branch_id: 'other',
        reached_step: 0,
        code_count: 0,
        agent_version: null,
        agent_packaging: null,
      },
      {
        id: 'with-order',
        branch_id: 'clinic',
        reached_step: 6,
        code_count: 2,
        agent_version: '1.4.0',
        agent_packaging: 'msi',
      },
    ]);
    const codes = await db.selectFrom('flow_codes').selectAll().orderBy('flow_id').orderBy('code').execute();
    expect(codes.map((c) => ({ ...c, step: Number(c.step), at: Number(c.at) }))).toEqual([
      { flow_id: 'station-only', code: 'READERS_MISSING', step: 0, at: T0 },
      { flow_id: 'with-order', code: 'CARD_REMOVED_DURING_DOWNLOAD', step: 6, at: T0 + 1 },
      { flow_id: 'with-order', code: 'DOWNLOAD_FAILED', step: 6, at: T0 + 2 },
    ]);
    const resolved = await db.selectFrom('support_cases').select('resolved_at').executeTakeFirst();
    expect(Number(resolved?.resolved_at)).toBe(T0 + 500);
    expect((await getFlow(db, 'with-order'))?.agent).toEqual({ version: '1.4.0', packaging: 'msi' });
  });
});
