import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { T0 } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { insertFlow } from './flow.repository.js';
import { getFlowStationNonce, rotateFlowStationNonce } from './flow-station.repository.js';

describe.each(DIALECTS)('a flow’s station nonce on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await insertFlow(store.db, {
      id: 'flow-n',
      orderId: null,
      admin2HsaId: null,
      status: 'active',
      step: 1,
      state: {},
      deadline: null,
      pendingEffects: [],
      createdAt: T0,
    });
  });
  afterAll(() => store?.dispose());

  it('is null until set, then the last one set; an unknown flow has none', async () => {
    expect(await getFlowStationNonce(store.db, 'flow-n')).toBeNull();
    expect(await rotateFlowStationNonce(store.db, 'flow-n', 'a'.repeat(32))).toBe(true);
    expect(await getFlowStationNonce(store.db, 'flow-n')).toBe('a'.repeat(32));
    expect(await rotateFlowStationNonce(store.db, 'flow-n', 'b'.repeat(32))).toBe(true);
    expect(await getFlowStationNonce(store.db, 'flow-n')).toBe('b'.repeat(32));
    expect(await rotateFlowStationNonce(store.db, 'no-such-flow', 'c'.repeat(32))).toBe(false);
    expect(await getFlowStationNonce(store.db, 'no-such-flow')).toBeNull();
  });

  it('keeps the old nonce when the transaction that rotated it rolls back', async () => {
    await expect(
      store.db.transaction().execute(async (trx) => {
        await rotateFlowStationNonce(trx, 'flow-n', 'd'.repeat(32));
        throw new Error('the statement was not applied');
      }),
    ).rejects.toThrow('the statement was not applied');
    expect(await getFlowStationNonce(store.db, 'flow-n')).toBe('b'.repeat(32));
  });
});
