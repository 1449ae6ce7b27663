import pino, { type DestinationStream } from 'pino';

/** Longest a log line waits in the buffer before it is written. */
export const LOG_FLUSH_INTERVAL_MS = 200;
/** Bytes gathered before a write. */
const LOG_BUFFER_BYTES = 8 * 1024;

export interface LogDestination {
  readonly stream: DestinationStream;
  /** Writes what is still buffered, synchronously. */
  close(): void;
}

/**
 * Standard output for the server's log, written in batches rather than with one synchronous write
 * per request: each write to a pipe or a journal is a system call on the request's path. A line
 * waits at most LOG_FLUSH_INTERVAL_MS. At exit, an uncaught error's included, the buffer is written
 * synchronously, so only a process killed outright loses its last lines; the audit log in the
 * database, not this log, is the record of what happened.
 *
 * The flush timer runs only while a line waits: the destination's own periodic flush writes every
 * interval, buffered lines or not, so an idle server woke five times a second to write nothing.
 * After a flush it looks again an interval later, until all is written: lines that came while an
 * earlier write was still under way are not in that write, and a flush does nothing while one is.
 */
export const bufferedStdout = (fd = 1): LogDestination => {
  const destination = pino.destination({ dest: fd, sync: false, minLength: LOG_BUFFER_BYTES });
  /** Bytes handed to the destination and not yet written. */
  let waiting = 0;
  destination.on('write', (written: number) => {
    waiting -= written;
  });
  let flushing: NodeJS.Timeout | undefined;
  const flush = () => {
    flushing = undefined;
    if (waiting <= 0) return;
    try {
      destination.flush();
    } catch {
      // Closed at exit: nothing more can be written.
      return;
    }
    flushing = setTimeout(flush, LOG_FLUSH_INTERVAL_MS).unref();
  };
  return {
    stream: {
      write: (line: string) => {
        waiting += Buffer.byteLength(line);
        destination.write(line);
        flushing ??= setTimeout(flush, LOG_FLUSH_INTERVAL_MS).unref();
      },
    },
    close: () => {
      clearTimeout(flushing);
      flushing = undefined;
      try {
        destination.flushSync();
      } catch {
        // Already closed (at exit) or its reader gone: nothing more can be written.
      }
    },
  };
};
