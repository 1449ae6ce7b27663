import { randomFillSync } from 'node:crypto';

/** A random source: n cryptographically random bytes. Passed in so serials are testable. */
export type RandomSource = (bytes: number) => Uint8Array;

/** Bytes drawn from the CSPRNG at once; requests up to `POOLED_MAX` are served from them. */
const POOL_BYTES = 4096;
const POOLED_MAX = 64;

/**
 * A random source that draws the CSPRNG's bytes a pool at a time, as Node's own `randomUUID` does:
 * each call into OpenSSL costs about 5 µs of fixed work whatever its size, and an issuance takes a
 * dozen station nonces, serials and ids of 12–16 bytes. Each byte is handed out once, copied out,
 * and zeroed in the pool; a request above `POOLED_MAX` bytes is drawn directly. For values that are
 * made public (serials, nonces, ids): the bytes not handed out yet wait in memory, so secrets
 * (session tokens, keys) are drawn directly, not from here.
 */
export const pooledRandom = (
  fill: (buffer: Uint8Array) => Uint8Array = randomFillSync,
  poolBytes = POOL_BYTES,
): RandomSource => {
  const pool = new Uint8Array(poolBytes);
  let used = poolBytes;
  return (bytes) => {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`cannot draw ${bytes} random bytes`);
    if (bytes > POOLED_MAX || bytes > poolBytes) return fill(new Uint8Array(bytes));
    if (used + bytes > poolBytes) {
      fill(pool);
      used = 0;
    }
    const out = pool.slice(used, used + bytes);
    // What was handed out does not stay behind in the pool.
    pool.fill(0, used, used + bytes);
    used += bytes;
    return out;
  };
};

export const secureRandom: RandomSource = pooledRandom();
