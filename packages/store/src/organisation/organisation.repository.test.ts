import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRANCHES } from '../test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../test-support/test-stores.js';
import { branchesGeneration, listBranches, upsertBranches } from './organisation.repository.js';

describe.each(DIALECTS)('organisation repository on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  it('stores branches given children first, and lists them', async () => {
    await upsertBranches(store.db, [...BRANCHES].reverse());
    expect(await listBranches(store.db)).toEqual([...BRANCHES].sort((a, b) => a.id.localeCompare(b.id)));
  });

  it('renames and moves existing branches and adds new ones', async () => {
    await upsertBranches(store.db, [
      { id: 'ward', parentId: 'clinic', name: 'Avdelningen' },
      { id: 'clinic', parentId: 'other', name: 'Kliniken (ny)' },
    ]);
    const branches = await listBranches(store.db);
    expect(branches).toContainEqual({ id: 'clinic', parentId: 'other', name: 'Kliniken (ny)' });
    expect(branches).toContainEqual({ id: 'ward', parentId: 'clinic', name: 'Avdelningen' });
    expect(branches).toHaveLength(BRANCHES.length + 1);
  });

  it('accepts an empty list', async () => {
    await upsertBranches(store.db, []);
    expect(await listBranches(store.db)).toHaveLength(BRANCHES.length + 1);
  });

  it('writes more branches than fit in one statement', async () => {
    const many = Array.from({ length: 1200 }, (_, i) => ({
      id: `bulk-${String(i).padStart(4, '0')}`,
      parentId: i === 0 ? 'region' : `bulk-${String(i - 1).padStart(4, '0')}`,
      name: `Gren ${i}`,
    }));
    await upsertBranches(store.db, [...many].reverse());
    expect(await listBranches(store.db)).toHaveLength(BRANCHES.length + 1 + many.length);
  });

  it('refuses a branch whose parent is unknown', async () => {
    await expect(
      upsertBranches(store.db, [{ id: 'orphan', parentId: 'nowhere', name: 'x' }]),
    ).rejects.toThrow();
  });
});

describe.each(DIALECTS)('branch reads by key and the count of writes on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
  });
  afterAll(() => store?.dispose());

  it('counts each write of branches, and not a read', async () => {
    const before = await branchesGeneration(store.db);
    await upsertBranches(store.db, BRANCHES);
    const after = await branchesGeneration(store.db);
    expect(after).toBe(before + 1);
    await listBranches(store.db);
    expect(await branchesGeneration(store.db)).toBe(after);
    await upsertBranches(store.db, [{ id: 'renamed', parentId: null, name: 'Ny' }]);
    expect(await branchesGeneration(store.db)).toBe(after + 1);
  });

  it('counts a write made in a transaction only when it commits', async () => {
    const before = await branchesGeneration(store.db);
    await expect(
      store.db.transaction().execute(async (trx) => {
        await upsertBranches(trx, [{ id: 'kept-out', parentId: null, name: 'x' }]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await branchesGeneration(store.db)).toBe(before);
    expect((await listBranches(store.db)).map((b) => b.id)).not.toContain('kept-out');
    await store.db
      .transaction()
      .execute((trx) => upsertBranches(trx, [{ id: 'kept', parentId: null, name: 'y' }]));
    expect(await branchesGeneration(store.db)).toBe(before + 1);
  });

  it('counts a failed write outside a transaction, whose first chunks stay written', async () => {
    const before = await branchesGeneration(store.db);
    await expect(
      upsertBranches(store.db, [{ id: 'orphan', parentId: 'nowhere', name: 'x' }]),
    ).rejects.toThrow();
    expect(await branchesGeneration(store.db)).toBe(before + 1);
  });
});
