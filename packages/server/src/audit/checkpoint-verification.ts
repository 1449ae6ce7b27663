import type { X509Certificate } from '@peculiar/x509';
import { readCheckpoint } from '@reservkort/pki';
import { compareWithCheckpoint, type Database } from '@reservkort/store';
import type { Kysely } from 'kysely';

/** A checkpoint file as given to `audit verify --checkpoint`: its bytes, or why it could not be read. */
export type CheckpointInput =
  | { readonly file: string; readonly content: Uint8Array }
  | { readonly file: string; readonly unreadable: string };

interface Covered {
  readonly file: string;
  readonly size: number;
  readonly headHash: string;
  /** When it was signed, ISO 8601. */
  readonly time: string;
}

/** One checkpoint against the database's chain. */
export type CheckpointCheck =
  | (Covered & { readonly ok: true })
  | { readonly file: string; readonly ok: false; readonly problem: 'invalid'; readonly reason: string }
  | (Covered & {
      readonly ok: false;
      readonly problem: 'truncated';
      readonly seq: number;
      readonly entries: number;
    })
  | (Covered & { readonly ok: false; readonly problem: 'missing-entry'; readonly seq: number })
  | (Covered & {
      readonly ok: false;
      readonly problem: 'rewritten';
      readonly seq: number;
      readonly foundHash: string;
    });

/**
 * Checks each checkpoint's signature against the root, then that the chain still holds the entry it
 * ends at with the hash it records. The chain's own links are `verifyAudit`'s business; together
 * they catch a rewrite with every later hash recomputed and the deletion of the newest entries.
 */
export async function checkCheckpoints(
  db: Kysely<Database>,
  root: X509Certificate,
  inputs: readonly CheckpointInput[],
): Promise<CheckpointCheck[]> {
  const checks: CheckpointCheck[] = [];
  for (const input of inputs) {
    if ('unreadable' in input) {
      checks.push({ file: input.file, ok: false, problem: 'invalid', reason: input.unreadable });
      continue;
    }
    const reading = readCheckpoint(input.content, root);
    if (!reading.ok) {
      checks.push({ file: input.file, ok: false, problem: 'invalid', reason: reading.reason });
      continue;
    }
    const { size, headHash, time } = reading.checkpoint;
    const covered = { file: input.file, size, headHash, time: new Date(time).toISOString() };
    const comparison = await compareWithCheckpoint(db, { size, hash: headHash });
    if (comparison.ok) checks.push({ ...covered, ok: true });
    else if (comparison.problem === 'truncated')
      checks.push({
        ...covered,
        ok: false,
        problem: 'truncated',
        seq: comparison.seq,
        entries: comparison.entries,
      });
    else if (comparison.problem === 'missing-entry')
      checks.push({ ...covered, ok: false, problem: 'missing-entry', seq: comparison.seq });
    else
      checks.push({
        ...covered,
        ok: false,
        problem: 'rewritten',
        seq: comparison.seq,
        foundHash: comparison.foundHash,
      });
  }
  return checks;
}

/**
 * Where a rewrite lies, as closely as the checkpoints tell: after the last checkpoint that still
 * matches and at or before the first one that does not. A checkpoint holds only the head hash, so
 * more checkpoints (the shipped history) narrow it further.
 */
export const rewrittenRange = (
  checks: readonly CheckpointCheck[],
): { readonly from: number; readonly to: number; readonly matching: string | null } | null => {
  const rewritten = checks
    .filter((c) => !c.ok && c.problem === 'rewritten')
    .map((c) => ('size' in c ? c.size : 0));
  if (rewritten.length === 0) return null;
  const to = Math.min(...rewritten);
  const below = checks
    .filter((c): c is Covered & { ok: true } => c.ok && c.size < to)
    .sort((a, b) => b.size - a.size)[0];
  return { from: (below?.size ?? 0) + 1, to, matching: below?.file ?? null };
};

/** One line per checkpoint, for people. */
export const describeCheck = (check: CheckpointCheck): string => {
  if (!check.ok && check.problem === 'invalid') return `checkpoint ${check.file}: not valid: ${check.reason}`;
  const head = `checkpoint ${check.file} (${check.size} entries, signed ${check.time})`;
  if (check.ok) return `${head}: the log still holds it (entry ${check.size} has hash ${check.headHash})`;
  switch (check.problem) {
    case 'truncated':
      return `${head}: entries ${check.seq}–${check.size} are missing: the log ends at entry ${check.entries} (entry ${check.size} should have hash ${check.headHash})`;
    case 'missing-entry':
      return `${head}: entry ${check.seq} is missing (expected hash ${check.headHash})`;
    case 'rewritten':
      return `${head}: entry ${check.seq} has hash ${check.foundHash}, expected ${check.headHash}: entry ${check.seq} or one before it was rewritten`;
  }
};
