import type { Clock } from '@reservkort/domain';

/**
 * Training mode's clock: real time plus an offset the training panel can move forward, so a
 * trainee can jump to an acknowledgement deadline instead of waiting for it. Never used otherwise.
 */
export class TrainingClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly base: () => number = Date.now) {}

  now(): number {
    return this.base() + this.offsetMs;
  }

  /** Moves the clock forward (never back: deadlines already enforced stay enforced). */
  advance(ms: number): number {
    if (ms > 0) this.offsetMs += ms;
    return this.now();
  }

  get offset(): number {
    return this.offsetMs;
  }
}
