import { type Database, revocationEpoch } from '@reservkort/store';
import type { Kysely } from 'kysely';

/**
 * Notices revocations made by another process (the CLI, another server) through one cheap query,
 * so cached OCSP answers never outlive a status change by more than one poll interval.
 */
export class RevocationWatcher {
  private timer: NodeJS.Timeout | null = null;
  private epoch = -1;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly onChange: () => void,
    private readonly intervalMs = 200,
  ) {}

  async start(): Promise<void> {
    this.epoch = await revocationEpoch(this.db);
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  /** One poll; also callable directly. Errors are ignored: the next poll tries again. */
  async check(): Promise<void> {
    try {
      const epoch = await revocationEpoch(this.db);
      if (epoch !== this.epoch) {
        this.epoch = epoch;
        this.onChange();
      }
    } catch {
      // The database being briefly away must not stop the responder; the next poll retries.
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
