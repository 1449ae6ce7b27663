// Round trips to PostgreSQL counted where they start: the writes to its sockets in this process.
import { Socket } from 'node:net';

/**
 * The writes to PostgreSQL's sockets (each a round trip's request) while `run` runs, per socket: a
 * request's transaction keeps to one connection.
 */
export const writesToPostgres = async <T>(
  run: () => Promise<T>,
): Promise<{ result: T; writes: number[] }> => {
  const counts = new Map<Socket, number>();
  const proto = Socket.prototype as Socket & { __counted?: boolean };
  const write = proto.write;
  const uncork = proto.uncork;
  const count = (socket: Socket) => {
    if (socket.remotePort === 5432) counts.set(socket, (counts.get(socket) ?? 0) + 1);
  };
  // Corked writes reach the socket together, in one write, when it is uncorked.
  proto.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
    if (this.writableCorked === 0) count(this);
    return write.apply(this, args);
  } as Socket['write'];
  proto.uncork = function (this: Socket) {
    if (this.writableCorked === 1 && this.writableLength > 0) count(this);
    uncork.call(this);
  };
  try {
    const result = await run();
    return { result, writes: [...counts.values()] };
  } finally {
    proto.write = write;
    proto.uncork = uncork;
  }
};
