// Signed audit checkpoints through the real command line, on both dialects: with the append-only
// triggers dropped (as someone with the database's owner account could), deleting the newest
// entries or rewriting one and recomputing every later hash passes `audit verify` but not
// `audit verify --checkpoint`; a tampered checkpoint fails its signature; appends after a
// checkpoint are fine.
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { appendAudit, auditHash, getCa, listAudit, openStore, type Store } from '@reservkort/store';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openssl } from '../../../pki/src/test-support/test-ca.js';
import { createTestStore, DIALECTS, type TestStore } from '../../../store/src/test-support/test-stores.js';
import { dataFolder } from '../config/data-folder.js';
import { BIN, childEnv } from '../test-support/durable-fixture.js';
import { main } from './main.js';

const run = promisify(execFile);

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The command as a process of its own, as an operator runs it. */
const spawned = async (env: Record<string, string>, args: readonly string[]): Promise<CliResult> => {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: childEnv(env),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
};

/**
 * The same command line (its parser, actions and exit code) run in this process, which takes a
 * fraction of a second instead of a few: stdout and stderr are captured, the environment set for
 * the call.
 */
const cli = async (env: Record<string, string>, args: readonly string[]): Promise<CliResult> => {
  const saved = process.env;
  process.env = childEnv(env);
  process.exitCode = undefined;
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(['node', 'reservkort', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.env = saved;
    process.exitCode = undefined;
  }
};

const dropAppendOnlyTriggers = async (store: Store): Promise<void> => {
  if (store.dialect === 'postgres') {
    await sql`drop trigger audit_log_append_only on audit_log`.execute(store.db);
  } else {
    await sql`drop trigger audit_log_no_update`.execute(store.db);
    await sql`drop trigger audit_log_no_delete`.execute(store.db);
  }
};

/** A PEM checkpoint with bytes of its DER changed by `change`. */
const tamper = (pem: string, change: (der: Buffer) => void): string => {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  change(der);
  return `-----BEGIN CMS-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END CMS-----\n`;
};

describe.each(DIALECTS)(
  'reservkort audit checkpoint and verify --checkpoint on %s',
  { timeout: 60_000 },
  (dialect) => {
    let dir: string;
    let env: Record<string, string>;
    let database: TestStore | undefined;
    let store: Store;
    let rootPem: string;
    const sizes = { a: 0, b: 0, c: 0 };
    const files = { a: '', b: '', c: '' };

    const append = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        await appendAudit(store.db, {
          at: Date.now(),
          actor: 'SE2321000016-adm1',
          action: 'order.registered',
          subject: `order-${i}`,
          details: { i },
        });
      }
    };
    const verify = (...checkpoints: string[]) =>
      cli(env, ['audit', 'verify', ...checkpoints.flatMap((file) => ['--checkpoint', file])]);
    const checkpoint = async (out?: string): Promise<number> => {
      const result = await cli(env, ['audit', 'checkpoint', ...(out ? ['--out', out] : []), '--json']);
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { size: number }).size;
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'reservkort-audit-cli-'));
      env = { RESERVKORT_DATA: join(dir, 'data') };
      if (dialect === 'postgres') {
        database = await createTestStore('postgres', { migrate: false });
        env.DATABASE_URL = database.url;
      }
      const init = await spawned(env, ['ca', 'init', '--base-url', 'http://127.0.0.1:9']);
      expect(init.code, init.stderr).toBe(0);
      store = await openStore({
        url: env.DATABASE_URL ?? `sqlite:${dataFolder(env.RESERVKORT_DATA).sqliteFile}`,
      });
      rootPem = join(dir, 'root.pem');
      await writeFile(rootPem, (await getCa(store.db, 'root'))?.certificatePem ?? '');
    });

    afterAll(async () => {
      await store?.close();
      await database?.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('signs checkpoints on demand, to a file OpenSSL verifies against the root alone', async () => {
      await append(3);
      files.a = join(dir, 'checkpoint-a.pem');
      sizes.a = await checkpoint(files.a);
      await append(4);
      files.b = join(dir, 'checkpoint-b.pem');
      sizes.b = await checkpoint(files.b);
      await append(4);
      // The default place: the data folder.
      files.c = dataFolder(env.RESERVKORT_DATA).auditCheckpoint;
      const plain = await cli(env, ['audit', 'checkpoint']);
      expect(plain.code, plain.stderr).toBe(0);
      expect(plain.stdout).toMatch(
        /^audit checkpoint: \d+ entries, head [0-9a-f]{64}, signed \S+\nwritten to .*audit-checkpoint\.pem\n$/,
      );
      sizes.c = Number(/(\d+) entries/.exec(plain.stdout)?.[1]);
      // `ca init` wrote entries of its own (the CAs, the CRLs, the checkpoint signer).
      expect(sizes.a).toBeGreaterThan(3);
      expect([sizes.b - sizes.a, sizes.c - sizes.b]).toEqual([4, 4]);

      const verified = await openssl([
        'cms',
        '-verify',
        '-inform',
        'PEM',
        '-in',
        files.c,
        '-CAfile',
        rootPem,
        '-purpose',
        'any',
      ]);
      expect(verified.code, verified.out).toBe(0);
      expect(verified.out).toContain('Verification successful');
      expect(verified.out).toContain(`"size": ${sizes.c},`);
    });

    it('(d) passes with entries appended after the checkpoints', async () => {
      await append(3);
      const result = await verify(files.a, files.b, files.c);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toBe(`audit log intact: ${sizes.c + 3} entries`);
      expect(lines.slice(1)).toHaveLength(3);
      for (const line of lines.slice(1)) expect(line).toContain('the log still holds it');
    });

    it('(c) fails on a tampered checkpoint: its signature', async () => {
      const pem = await readFile(files.c, 'utf8');
      // The note's size changed by one digit: another number of entries than was signed.
      const bigger = join(dir, 'bigger.pem');
      await writeFile(
        bigger,
        tamper(pem, (der) => {
          const text = `"size": ${sizes.c},`;
          const digit = der.indexOf(text) + text.length - 2;
          der[digit] = der[digit] === 0x39 ? 0x30 : (der[digit] ?? 0x30) + 1;
        }),
      );
      // A bit of the signature flipped.
      const flipped = join(dir, 'flipped.pem');
      await writeFile(
        flipped,
        tamper(pem, (der) => {
          der[der.length - 10] = (der[der.length - 10] ?? 0) ^ 0x40;
        }),
      );
      const renamed = join(dir, 'copy.pem');
      await copyFile(files.c, renamed);
      const result = await verify(renamed, bigger, flipped, join(dir, 'absent.pem'));
      expect(result.code).toBe(1);
      const lines = result.stdout.trim().split('\n');
      expect(lines[1]).toContain(`checkpoint ${renamed} (${sizes.c} entries`);
      expect(lines.slice(2)).toEqual([
        `checkpoint ${bigger}: not valid: the note does not match its signature`,
        `checkpoint ${flipped}: not valid: the signature does not verify`,
        `checkpoint ${join(dir, 'absent.pem')}: not valid: cannot read it (ENOENT)`,
      ]);
      expect(
        (
          await openssl([
            'cms',
            '-verify',
            '-inform',
            'PEM',
            '-in',
            bigger,
            '-CAfile',
            rootPem,
            '-purpose',
            'any',
          ])
        ).code,
      ).not.toBe(0);
    });

    it('(a) fails when the newest entries are deleted, naming the missing positions', async () => {
      await dropAppendOnlyTriggers(store);
      const keep = sizes.c - 2;
      await store.db.deleteFrom('audit_log').where('seq', '>', keep).execute();
      // This one as a process of its own: the exit status an operator's script sees.
      const result = await spawned(env, [
        'audit',
        'verify',
        '--checkpoint',
        files.b,
        '--checkpoint',
        files.c,
      ]);
      expect(result.code).toBe(1);
      const [chain, b, c] = result.stdout.trim().split('\n');
      // The chain alone still looks whole.
      expect(chain).toBe(`audit log intact: ${keep} entries`);
      expect(b).toContain('the log still holds it');
      expect(c).toMatch(
        new RegExp(
          `entries ${keep + 1}–${sizes.c} are missing: the log ends at entry ${keep} \\(entry ${sizes.c} should have hash [0-9a-f]{64}\\)$`,
        ),
      );
      // Nor does the publisher sign over the loss: the last checkpoint in its file no longer holds.
      const refused = await cli(env, ['audit', 'checkpoint']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`no longer holds entry ${keep + 1}`);
      expect(refused.stderr).toContain('[AUDIT_LOG_TAMPERED]');
    });

    it('(b) fails when an entry is rewritten and every later hash recomputed, naming where', async () => {
      const target = sizes.a + 2;
      const entries = await listAudit(store.db, { afterSeq: target - 1, limit: 1000 });
      let prevHash = entries[0]?.prevHash ?? '';
      const originalAtB = entries.find((e) => e.seq === sizes.b)?.hash;
      for (const original of entries) {
        const details = original.seq === target ? { ...original.details, rewritten: true } : original.details;
        const hash = auditHash(prevHash, { ...original, details });
        await store.db
          .updateTable('audit_log')
          .set({ details: JSON.stringify(details), prev_hash: prevHash, hash })
          .where('seq', '=', original.seq)
          .execute();
        prevHash = hash;
      }
      const foundAtB = (await listAudit(store.db, { afterSeq: sizes.b - 1, limit: 1 }))[0]?.hash;
      const result = await verify(files.a, files.b);
      expect(result.code).toBe(1);
      const [chain, a, b, range] = result.stdout.trim().split('\n');
      expect(chain).toBe(`audit log intact: ${sizes.c - 2} entries`);
      expect(a).toContain('the log still holds it');
      expect(b).toContain(
        `entry ${sizes.b} has hash ${foundAtB}, expected ${originalAtB}: entry ${sizes.b} or one before it was rewritten`,
      );
      expect(range).toBe(
        `the rewrite lies in entries ${sizes.a + 1}–${sizes.b} (checkpoint ${files.a} still matches up to entry ${sizes.a})`,
      );
      const json = await cli(env, ['audit', 'verify', '--checkpoint', files.b, '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        ok: false,
        chain: { ok: true },
        checkpoints: [
          { ok: false, problem: 'rewritten', seq: sizes.b, headHash: originalAtB, foundHash: foundAtB },
        ],
        rewritten: { from: 1, to: sizes.b, matching: null },
      });
    });
  },
);
