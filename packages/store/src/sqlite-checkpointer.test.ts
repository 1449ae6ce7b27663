import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCheckpointer } from './sqlite-checkpointer.js';

describe('startCheckpointer', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'reservkort-checkpointer-'));
  });
  afterAll(() => rm(folder, { recursive: true, force: true }));

  it('refuses a file that is not there, so the caller keeps its own checkpoints', async () => {
    await expect(startCheckpointer(join(folder, 'missing.db'), () => undefined)).rejects.toThrow();
  });

  it('copies committed frames into the file while the writer goes on, and stops when asked', async () => {
    const path = join(folder, 'wal.db');
    const db = new SqliteDatabase(path);
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    let ended = 0;
    const checkpointer = await startCheckpointer(path, () => ended++, 50);
    try {
      db.exec('create table t (x text)');
      const insert = db.prepare('insert into t (x) values (?)');
      for (let i = 0; i < 200; i++) insert.run('x'.repeat(4000));
      // The database file grows only by a checkpoint: this connection runs none.
      const deadline = Date.now() + 5000;
      while (statSync(path).size < 800_000 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(statSync(path).size).toBeGreaterThanOrEqual(800_000);
      expect((db.prepare('select count(*) as n from t').get() as { n: number }).n).toBe(200);
    } finally {
      await checkpointer.stop();
      await checkpointer.stop();
      db.close();
    }
    // Stopped on request: not reported as ended unasked.
    expect(ended).toBe(0);
  });
});
