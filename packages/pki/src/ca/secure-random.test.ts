import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pooledRandom, secureRandom } from './secure-random.js';

describe('pooledRandom', () => {
  it('hands out each drawn byte once, in order, and draws again when the pool runs out', () => {
    let draws = 0;
    let next = 0;
    // A counting source, so the bytes handed out can be traced back to where they were drawn.
    const fill = (buffer: Uint8Array): Uint8Array => {
      draws += 1;
      for (let i = 0; i < buffer.length; i++) buffer[i] = next++ % 256;
      return buffer;
    };
    const random = pooledRandom(fill, 32);
    expect([...random(16)]).toEqual([...Array(16).keys()]);
    expect([...random(16)]).toEqual([...Array(16).keys()].map((i) => i + 16));
    expect(draws).toBe(1);
    // 20 more do not fit in what is left (nothing): a fresh pool.
    expect([...random(20)]).toEqual([...Array(20).keys()].map((i) => i + 32));
    expect(draws).toBe(2);
    // 16 do not fit in the 12 left: the rest is dropped, not handed out twice.
    expect([...random(16)]).toEqual([...Array(16).keys()].map((i) => i + 64));
    expect(draws).toBe(3);
  });

  it('copies out, and leaves no handed-out byte behind in the pool', () => {
    let pool: Uint8Array | undefined;
    const fill = (buffer: Uint8Array): Uint8Array => {
      pool = buffer;
      return randomFillSync(buffer.fill(0xff));
    };
    const random = pooledRandom(fill, 64);
    const first = random(16);
    const second = random(16);
    expect(first.buffer).not.toBe(pool?.buffer);
    expect(second.buffer).not.toBe(first.buffer);
    // The bytes handed out are zeroed where they were drawn; the rest still waits.
    expect([...(pool?.subarray(0, 32) ?? [])]).toEqual(Array(32).fill(0));
    expect((pool?.subarray(32) ?? []).some((b) => b !== 0)).toBe(true);
    const kept = [...second];
    first.fill(7);
    expect([...second]).toEqual(kept);
  });

  it('draws requests above the pooled size directly, and refuses sizes that are not counts', () => {
    let sizes: number[] = [];
    const fill = (buffer: Uint8Array): Uint8Array => {
      sizes.push(buffer.length);
      return buffer;
    };
    const random = pooledRandom(fill, 128);
    expect(random(100).length).toBe(100);
    expect(sizes).toEqual([100]);
    sizes = [];
    // Nothing asked, nothing drawn.
    expect(random(0).length).toBe(0);
    expect(sizes).toEqual([]);
    expect(() => random(-1)).toThrow(RangeError);
    expect(() => random(1.5)).toThrow(RangeError);
  });

  it('gives the process-wide source distinct values of the asked size', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const bytes = secureRandom(16);
      expect(bytes.length).toBe(16);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(seen.size).toBe(1000);
  });
});
