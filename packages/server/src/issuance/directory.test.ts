import { upsertBranches } from '@reservkort/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRANCHES } from '../../../store/src/test-support/store-fixtures.js';
import { createTestStore, DIALECTS, type TestStore } from '../../../store/src/test-support/test-stores.js';
import { DirectoryCache } from './directory.js';

describe.each(DIALECTS)('the organisation tree cache on %s', (dialect) => {
  let store: TestStore;
  beforeAll(async () => {
    store = await createTestStore(dialect);
    await upsertBranches(store.db, BRANCHES);
  });
  afterAll(() => store?.dispose());

  /** Lets the check started behind a served tree finish. */
  const settle = (cache: DirectoryCache, now: number) => cache.organisation(now).then(() => undefined);
  const until = async (done: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await done()); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it('builds the tree once and keeps it while the branches are unchanged', async () => {
    const cache = new DirectoryCache(store.db, 1_000);
    const first = await cache.organisation(0);
    expect(first.branches.get('clinic')?.name).toBe('Kliniken');
    expect(cache.buildCount).toBe(1);
    // Checked again at each expiry, never read again: the same tree.
    for (const now of [1_000, 2_500, 10_000]) {
      expect(await cache.organisation(now)).toBe(first);
      await settle(cache, now);
    }
    expect(cache.buildCount).toBe(1);
  });

  it('reads the tree again after a write to the branches, at the next check', async () => {
    const cache = new DirectoryCache(store.db, 1_000);
    const first = await cache.organisation(0);
    await upsertBranches(store.db, [{ id: 'ward', parentId: 'clinic', name: 'Avdelningen' }]);
    // Within the time to live nothing is asked.
    expect(await cache.organisation(500)).toBe(first);
    // At expiry the old tree is served while the new one is read behind it.
    expect(await cache.organisation(1_000)).toBe(first);
    await until(async () => (await cache.organisation(1_001)).branches.has('ward'));
    expect((await cache.organisation(1_001)).branches.get('ward')?.parentId).toBe('clinic');
    expect(cache.buildCount).toBe(2);
  });

  it('builds again after invalidate()', async () => {
    const cache = new DirectoryCache(store.db, 1_000);
    await cache.organisation(0);
    cache.invalidate();
    await cache.organisation(1);
    expect(cache.buildCount).toBe(2);
  });
});
