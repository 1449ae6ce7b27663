import { describe, expect, it } from 'vitest';
import { TrainingClock } from './training-clock.js';

describe('the training clock', () => {
  it('is real time plus what the panel moved it, and never goes back', () => {
    let base = 1_000;
    const clock = new TrainingClock(() => base);
    expect(clock.now()).toBe(1_000);
    expect(clock.advance(60_000)).toBe(61_000);
    base = 2_000;
    expect(clock.now()).toBe(62_000);
    clock.advance(-10_000);
    clock.advance(0);
    expect(clock.offset).toBe(60_000);
  });
});
