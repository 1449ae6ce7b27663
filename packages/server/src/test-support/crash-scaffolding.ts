// What every crash test of a real `reservkort serve` sets up and tears down: a temporary folder with
// an initialised data folder in it, and after the file's tests the server processes killed and
// everything else it opened closed (latest first), also when a test failed half-way.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { DataFolder } from '../config/data-folder.js';
import { initDataFolder, type ServerProcess } from './durable-fixture.js';

export interface CrashScaffolding {
  /** Server processes to kill after the tests. */
  readonly processes: ServerProcess[];
  /** What to close after the tests, once the processes are gone (run latest first). */
  readonly cleanups: (() => Promise<void>)[];
  /** A temporary folder (removed after the tests) with a data folder in it, at `data`. */
  tempDataFolder(prefix: string): Promise<{ readonly dir: string; readonly folder: DataFolder }>;
}

/** Call in the describe: registers the clean-up for the file's tests. */
export const crashScaffolding = (): CrashScaffolding => {
  const processes: ServerProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill();
    for (const clean of cleanups.reverse()) await clean().catch(() => undefined);
  });
  return {
    processes,
    cleanups,
    tempDataFolder: async (prefix) => {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      return { dir, folder: await initDataFolder(join(dir, 'data')) };
    },
  };
};
