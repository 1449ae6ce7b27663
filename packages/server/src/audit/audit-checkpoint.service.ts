import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Clock, ErrorCode, ErrorDetails } from '@reservkort/domain';
import {
  type AuditCheckpoint,
  auditLogId,
  type CertificateAuthority,
  readCheckpoint,
  signCheckpoint,
} from '@reservkort/pki';
import { auditHead, compareWithCheckpoint, type Database, verifyAudit } from '@reservkort/store';
import type { Kysely } from 'kysely';

/** Every 15 minutes by default: the most a deletion of the newest entries can go unseen. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 15 * 60_000;

export interface CheckpointSettings {
  /** Where each new checkpoint is written (replacing the last, atomically); null keeps it in memory. */
  readonly file: string | null;
  readonly intervalMs: number;
}

export interface PublishedCheckpoint {
  readonly checkpoint: AuditCheckpoint;
  /** The signed checkpoint as written and served: CMS SignedData in PEM. */
  readonly pem: string;
}

/** Publishing refused: the last checkpoint is not valid, or the chain no longer holds what it signed. */
export class AuditCheckpointError extends Error {
  override readonly name = 'AuditCheckpointError';
  constructor(
    readonly code: Extract<ErrorCode, 'AUDIT_CHECKPOINT_INVALID' | 'AUDIT_LOG_TAMPERED'>,
    message: string,
    readonly details: ErrorDetails,
  ) {
    super(message);
  }
}

const isMissing = (error: unknown): boolean => (error as { code?: unknown })?.code === 'ENOENT';

/** Writes through a temporary file and a rename, so whoever ships the file never reads half of one. */
const writeAtomically = async (file: string, text: string): Promise<void> => {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text, { mode: 0o600, flag: 'wx' });
    await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
};

/**
 * Publishes signed checkpoints of the audit log (its length and head hash), as a Certificate
 * Transparency log publishes signed tree heads. Before signing it checks the chain since the last
 * checkpoint it knows (its own, else the one in the file): a log that lost or changed entries the
 * last checkpoint covers gets no new checkpoint, so truncation cannot be laundered into a fresh
 * signature. Runs on demand (`reservkort audit checkpoint`) and in the server at an interval.
 */
export class AuditCheckpointPublisher {
  private last: PublishedCheckpoint | null = null;
  private inFlight: Promise<PublishedCheckpoint> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Failed publications since the last one that succeeded (a metric; alert when above zero). */
  consecutiveFailures = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ca: CertificateAuthority,
    private readonly clock: Clock,
    readonly settings: CheckpointSettings,
  ) {}

  /** The newest checkpoint this publisher signed, if any. */
  get latest(): PublishedCheckpoint | null {
    return this.last;
  }

  /** Checks the chain, signs its head and writes the file; one at a time. */
  publish(): Promise<PublishedCheckpoint> {
    this.inFlight ??= this.publishOnce()
      .then(
        (published) => {
          this.consecutiveFailures = 0;
          return published;
        },
        (error: unknown) => {
          this.consecutiveFailures += 1;
          throw error;
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  /** Publishes every `intervalMs`; a failure goes to `onFailure` (the server logs it) and is retried. */
  start(onFailure: (error: unknown) => void): void {
    this.timer = setInterval(() => void this.publish().catch(onFailure), this.settings.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async publishOnce(): Promise<PublishedCheckpoint> {
    const root = this.ca.ca('root').certificate;
    const log = auditLogId(root);
    // Made (and its creation recorded in the log) before the head is read, so the first
    // checkpoint already covers that entry.
    const signer = await this.ca.auditSigner();
    const base = this.last?.checkpoint ?? (await this.fromFile());
    // The head is read before the comparison: entries cut from the end after it then fail the
    // comparison or the walk below. Read after the comparison, a head the cut had already
    // shortened would be signed, and the truncation laundered into a fresh checkpoint.
    const head = await auditHead(this.db);
    if (base !== null) {
      const comparison = await compareWithCheckpoint(this.db, { size: base.size, hash: base.headHash });
      if (!comparison.ok) {
        throw new AuditCheckpointError(
          'AUDIT_LOG_TAMPERED',
          `the audit log no longer holds entry ${comparison.seq} as the last checkpoint (${base.size} entries) recorded it: ${comparison.problem}`,
          { seq: comparison.seq, file: this.settings.file ?? '-', problem: comparison.problem },
        );
      }
    }
    // The walk reaches at least the head just read: entries appended meanwhile are checked next time.
    const after = base === null ? undefined : { size: base.size, hash: base.headHash };
    const chain = await verifyAudit(this.db, after ? { after } : {});
    if (!chain.ok) {
      throw new AuditCheckpointError(
        'AUDIT_LOG_TAMPERED',
        `the audit log is broken at entry ${chain.firstBadSeq} (${chain.problem})`,
        { seq: chain.firstBadSeq, file: this.settings.file ?? '-', problem: chain.problem },
      );
    }
    // A cut while this pass ran: the walk ended before the head it read, or that head is shorter
    // than the last checkpoint.
    if (chain.entries < head.size || (base !== null && head.size < base.size)) {
      const seq = Math.min(chain.entries, head.size) + 1;
      throw new AuditCheckpointError(
        'AUDIT_LOG_TAMPERED',
        `the audit log lost entries from ${seq} on while a checkpoint was being made: truncated`,
        { seq, file: this.settings.file ?? '-', problem: 'truncated' },
      );
    }
    const checkpoint: AuditCheckpoint = { log, size: head.size, headHash: head.hash, time: this.clock.now() };
    const pem = await signCheckpoint(signer, checkpoint);
    if (this.settings.file !== null) await writeAtomically(this.settings.file, pem);
    this.last = { checkpoint, pem };
    return this.last;
  }

  /** The checkpoint in the file, if there is one; a file that does not verify stops publishing. */
  private async fromFile(): Promise<AuditCheckpoint | null> {
    const file = this.settings.file;
    if (file === null) return null;
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    const reading = readCheckpoint(new Uint8Array(content), this.ca.ca('root').certificate);
    if (!reading.ok) {
      throw new AuditCheckpointError(
        'AUDIT_CHECKPOINT_INVALID',
        `${file} is not a valid checkpoint (${reading.reason}): restore it from the shipped copy, or move it away`,
        { file, reason: reading.reason },
      );
    }
    return reading.checkpoint;
  }
}
