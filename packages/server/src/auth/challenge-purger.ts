import { type Database, purgeChallenges } from '@reservkort/store';
import type { Kysely } from 'kysely';

export interface ChallengePurgerOptions {
  /** How often a pass runs (default one minute: challenges live minutes, not seconds). */
  readonly intervalMs?: number;
  /** Rows deleted per statement (default 1000), so no statement holds the database for long. */
  readonly batchSize?: number;
  /** Told about a pass that failed; the next pass tries again. */
  readonly onError?: (error: unknown) => void;
}

/**
 * Deletes expired challenges (login, signing, order drafts). Anyone may ask for a login challenge,
 * so without this the table grows with every unauthenticated call. Several servers may purge the
 * same database: deleting what another already deleted costs nothing.
 */
export class ChallengePurger {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<number> | null = null;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number,
    private readonly options: ChallengePurgerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.batchSize = options.batchSize ?? 1000;
  }

  /** One pass, batch after batch until none is full; returns how many challenges it deleted. */
  async purge(): Promise<number> {
    if (this.current !== null) return 0;
    this.current = this.pass();
    try {
      return await this.current;
    } finally {
      this.current = null;
    }
  }

  private async pass(): Promise<number> {
    const now = this.now();
    let purged = 0;
    for (;;) {
      const deleted = await purgeChallenges(this.db, now, this.batchSize);
      purged += deleted;
      if (deleted < this.batchSize || this.stopped) return purged;
    }
  }

  /** A first pass at once, in the background (a table grown large must not delay the start), then periodically. */
  start(): void {
    this.stopped = false;
    const pass = () => void this.purge().catch((error: unknown) => this.options.onError?.(error));
    pass();
    this.timer = setInterval(pass, this.intervalMs);
    this.timer.unref();
  }

  /** No more passes; resolves when the one under way (if any) has finished its batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.current?.catch(() => undefined);
  }
}
