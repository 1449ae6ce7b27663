// What every crash test of a real `reservkort serve` sets up and tears down: a temporary folder with
// an initialised data folder in it, a server process on it that a page talks to and that is killed
// and restarted, and after the file's tests the server processes killed and everything else it
// opened closed (latest first), also when a test failed half-way.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertificateAuthority } from '@reservkort/pki';
import { openStore, type Store } from '@reservkort/store';
import { afterAll, expect } from 'vitest';
import { systemClock } from '../cli/ca-context.js';
import type { DataFolder } from '../config/data-folder.js';
import {
  initDataFolder,
  openFolderCa,
  provisionAdminCard,
  type Recipient,
  type ServerProcess,
  seedDirectory,
  startServerProcess,
} from './durable-fixture.js';
import {
  type ApiAnswer,
  DurablePage,
  httpEndpoint,
  openWorkstation,
  type Workstation,
} from './durable-page.js';
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
  /**
   * Closes the set-up's store and CA, and starts a server process on the data folder with a page
   * of the workstation talking to it; the test reads the database through a store of its own.
   */
  served(seeded: SeededWorkstation): Promise<Served>;
}

/** One server process at a time on a data folder, and the page that talks to it. */
export interface Served {
  /** The test's own connection to the folder's database, to look at what a request left. */
  readonly store: Store;
  readonly page: DurablePage;
  /** The process serving the page now. */
  readonly server: ServerProcess;
  /** SIGKILL of the serving process (checked to be the signal it died of). */
  kill(): Promise<void>;
  /** Another process on the folder, now serving the page. */
  restart(): Promise<ServerProcess>;
  /**
   * Sends a request, kills the server `afterMs` into it and starts another: the answer if one
   * came before the kill, else the error the page saw.
   */
  killedInto(send: () => Promise<ApiAnswer>, afterMs: number): Promise<ApiAnswer | Error>;
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
  const served = async ({ folder, sqliteUrl, setup, ca, ws }: SeededWorkstation): Promise<Served> => {
    await ca.close();
    await setup.close();
    const store = await openStore({ url: sqliteUrl });
    cleanups.push(() => store.close());
    const page = new DurablePage(ws, []);
    let server: ServerProcess | null = null;
    const restart = async () => {
      const started = await startServerProcess(folder.root);
      processes.push(started);
      page.use(httpEndpoint(`server-${processes.length - 1}`, started.url));
      server = started;
      return started;
    };
    await restart();
    const serving = (): ServerProcess => {
      if (server === null) throw new Error('no server process started');
      return server;
    };
    const kill = async () => {
      expect(await serving().kill()).toBe('SIGKILL');
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
    return {
      store,
      page,
      get server() {
        return serving();
      },
      kill,
      restart,
      killedInto: async (send, afterMs) => {
        const sent = send().catch((error: Error) => error);
        await sleep(afterMs);
        await kill();
        const answer = await sent;
        await restart();
        return answer;
      },
    };
  };
  return {
    processes,
    cleanups,
    tempDataFolder,
    served,
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
