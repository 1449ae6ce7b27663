// What every crash test of a real `reservkort serve` sets up and tears down: a temporary folder with
// an initialised data folder in it, and after the file's tests the server processes killed and
// everything else it opened closed (latest first), also when a test failed half-way.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '@reservkort/pki';
import { openStore, type Store } from '@reservkort/store';
import { afterAll } from 'vitest';
import { systemClock } from '../cli/ca-context.js';
import type { DataFolder } from '../config/data-folder.js';
import {
  initDataFolder,
  openFolderCa,
  provisionAdminCard,
  type Recipient,
  type ServerProcess,
  seedDirectory,
} from './durable-fixture.js';
import { openWorkstation, type Workstation } from './durable-page.js';
import { ADMIN2 } from './issuance-harness.js';

export interface CrashScaffolding {
  /** Server processes to kill after the tests. */
  readonly processes: ServerProcess[];
  /** What to close after the tests, once the processes are gone (run latest first). */
  readonly cleanups: (() => Promise<void>)[];
  /** A temporary folder (removed after the tests) with a data folder in it, at `data`. */
  tempDataFolder(prefix: string): Promise<{ readonly dir: string; readonly folder: DataFolder }>;
  /**
   * tempDataFolder, its directory seeded with `recipients`, and a workstation (closed after the
   * tests) with admin 2's card in it; the store and the CA stay open for the test's own set-up.
   */
  seededWorkstation(prefix: string, recipients: readonly Recipient[]): Promise<SeededWorkstation>;
}

export interface SeededWorkstation {
  readonly folder: DataFolder;
  readonly sqliteUrl: string;
  readonly setup: Store;
  readonly ca: CertificateAuthority;
  readonly ws: Workstation;
}

/** Call in the describe: registers the clean-up for the file's tests. */
export const crashScaffolding = (): CrashScaffolding => {
  const processes: ServerProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const p of processes) await p.kill();
    for (const clean of cleanups.reverse()) await clean().catch(() => undefined);
  });
  const tempDataFolder = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return { dir, folder: await initDataFolder(join(dir, 'data')) };
  };
  return {
    processes,
    cleanups,
    tempDataFolder,
    seededWorkstation: async (prefix, recipients) => {
      const { folder } = await tempDataFolder(prefix);
      const sqliteUrl = `sqlite:${folder.sqliteFile}`;
      const setup = await openStore({ url: sqliteUrl });
      const ca = await openFolderCa(folder, setup.db, systemClock);
      await seedDirectory(setup.db, ca, recipients);
      const ws = await openWorkstation({ db: setup.db, ca });
      cleanups.push(() => ws.close());
      await provisionAdminCard(ws, ca, ADMIN2);
      return { folder, sqliteUrl, setup, ca, ws };
    },
  };
};
