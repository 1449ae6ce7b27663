import { AgentError } from '../agent-error.js';

export type AttemptResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: AgentError; readonly final: boolean };

interface PendingAttempt {
  readonly pin: string;
  /** For a PIN change or unblock: the new PIN, already typed twice alike in the dialog. */
  readonly newPin?: string;
  readonly report: (result: AttemptResult) => void;
}

/**
 * Carries PINs from the dialog page to the waiting operation, one attempt at a time, and the
 * outcome of each attempt back to the page (so "wrong PIN, 2 tries left" shows where it was typed).
 * PINs pass through memory only; nothing here stores or logs them.
 */
export class PinChannel {
  private queued: PendingAttempt | null = null;
  private waiting: ((attempt: PendingAttempt) => void) | null = null;
  private closedWith: AgentError | null = null;
  private rejectWaiting: ((error: AgentError) => void) | null = null;

  /** The operation side: wait for the next PIN typed in the dialog. */
  next(): Promise<PendingAttempt> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const queued = this.queued;
    if (queued) {
      this.queued = null;
      return Promise.resolve(queued);
    }
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.rejectWaiting = reject;
    });
  }

  /** The page side: hand over a PIN and learn how the attempt went. */
  submit(pin: string, newPin?: string): Promise<AttemptResult> {
    if (this.closedWith) return Promise.resolve({ ok: false, error: this.closedWith, final: true });
    if (this.queued) {
      // A second PIN while the first is still being checked: the page waits for the first answer.
      const busy = new AgentError('CARD_ERROR', 'a PIN is already being checked', { reason: 'busy' });
      return Promise.resolve({ ok: false, error: busy, final: false });
    }
    return new Promise((report) => {
      const attempt = newPin === undefined ? { pin, report } : { pin, newPin, report };
      const waiting = this.waiting;
      if (waiting) {
        this.waiting = null;
        this.rejectWaiting = null;
        waiting(attempt);
      } else {
        this.queued = attempt;
      }
    });
  }

  /** Ends the channel: the waiting operation and any queued attempt get `error`. */
  close(error: AgentError): void {
    if (this.closedWith) return;
    this.closedWith = error;
    this.rejectWaiting?.(error);
    this.waiting = null;
    this.rejectWaiting = null;
    this.queued?.report({ ok: false, error, final: true });
    this.queued = null;
  }

  get closed(): boolean {
    return this.closedWith !== null;
  }
}
