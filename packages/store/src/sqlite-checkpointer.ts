import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the WAL is copied into the database file when checkpoints run in the background. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;

export interface Checkpointer {
  /** Ends the worker and its connection; calling it again waits for the same end. */
  stop(): Promise<void>;
}

/**
 * The worker's code: its own connection to the file, a PASSIVE checkpoint at each interval. Plain
 * CommonJS, so that it runs without the TypeScript loader the application may be started with.
 * A PASSIVE checkpoint never waits for readers or writers and takes no write lock: the
 * application's connection commits on while it runs. With synchronous = NORMAL it syncs the WAL
 * before copying and the database file after, as the automatic checkpoint it replaces does.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
// This connection only checkpoints: it must never start one of its own on closing early either.
db.pragma('wal_autocheckpoint = 0');
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy (another process checkpointing) or briefly unavailable: the next interval tries again.
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');
`;

/**
 * Copies the WAL of a SQLite file into the database in a worker thread, so that a checkpoint (a
 * write of many pages and two fsyncs) never runs inside a request's commit on the event loop.
 * Resolves once the worker's connection is open; `onExit` is told if the worker ends unasked,
 * so the caller can turn its own automatic checkpoints back on.
 */
export const startCheckpointer = async (
  path: string,
  onExit: () => void,
  intervalMs = DEFAULT_CHECKPOINT_INTERVAL_MS,
): Promise<Checkpointer> => {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs } });
  // The worker must not keep a process alive that has nothing else to do.
  worker.unref();
  let stopping: Promise<void> | undefined;
  let exited = false;
  await new Promise<void>((resolve, reject) => {
    const failed = (error: unknown) => reject(error instanceof Error ? error : new Error(String(error)));
    worker.once('message', () => {
      worker.off('error', failed);
      worker.off('exit', failed);
      resolve();
    });
    worker.once('error', failed);
    worker.once('exit', failed);
  });
  worker.on('error', () => undefined);
  const ended = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      if (stopping === undefined) onExit();
      resolve();
    }),
  );
  return {
    stop: () => {
      if (stopping === undefined) {
        // Held by the worker again until it has ended: a process closing its store waits for it,
        // instead of finding nothing left to do and exiting in the middle of its shutdown.
        worker.ref();
        if (!exited) worker.postMessage('stop');
        stopping = ended;
      }
      return stopping;
    },
  };
};
