// The X.509 library's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { X509Certificate } from '@peculiar/x509';
import { CRL_CAS, type CrlCaId, PkiError } from '@reservkort/pki';
import { type AuditVerification, getCa, migrateToLatest, openStore, verifyAudit } from '@reservkort/store';
import type { Command } from 'commander';
import {
  AuditCheckpointPublisher,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
} from '../../audit/audit-checkpoint.service.js';
import {
  type CheckpointInput,
  checkCheckpoints,
  describeCheck,
  rewrittenRange,
} from '../../audit/checkpoint-verification.js';
import { databaseUrl, dataFolder, prepareDataFolder } from '../../config/data-folder.js';
import { openCa, openDataStore, systemClock } from '../ca-context.js';

const chainLine = (result: AuditVerification): string =>
  result.ok
    ? `audit log intact: ${result.entries} entries`
    : `audit log broken at entry ${result.firstBadSeq}: ${result.problem}`;

const readCheckpointFile = async (file: string): Promise<CheckpointInput> => {
  try {
    return { file, content: new Uint8Array(await readFile(file)) };
  } catch (error) {
    return { file, unreadable: `cannot read it (${(error as { code?: string }).code ?? String(error)})` };
  }
};

export const registerMaintenanceCommands = (program: Command): void => {
  program
    .command('crl')
    .description('certificate revocation lists')
    .command('publish')
    .description('sign and publish a new full CRL for each issuing CA and the card bureau CA (or one)')
    .option('--ca <id>', `only this CA: ${CRL_CAS.join(', ')}`)
    .action(async (options: { ca?: string }, command: Command) => {
      if (options.ca !== undefined && !(CRL_CAS as readonly string[]).includes(options.ca)) {
        throw new Error(`--ca must be one of ${CRL_CAS.join(', ')}`);
      }
      const folder = dataFolder(command.optsWithGlobals().data);
      const store = await openDataStore(folder);
      const ca = await openCa(folder, store);
      try {
        const ids = options.ca ? [options.ca as CrlCaId] : CRL_CAS;
        for (const id of ids) {
          const der = await ca.publishCrl(id);
          process.stdout.write(`published CRL for ${id} (${der.byteLength} bytes)\n`);
        }
      } finally {
        await ca.close();
        await store.close();
      }
    });

  const audit = program.command('audit').description('the hash-chained audit log and its signed checkpoints');

  audit
    .command('verify')
    .description(
      'check every entry’s hash and link; report the first broken or missing one. With --checkpoint, also check that the log still holds what each signed checkpoint recorded (no entry deleted or rewritten before it)',
    )
    .option(
      '--checkpoint <file>',
      'a checkpoint file (from the server or `audit checkpoint`); repeat for several, e.g. the shipped history',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean; checkpoint: string[] }, command: Command) => {
      const store = await openDataStore(dataFolder(command.optsWithGlobals().data));
      try {
        const result = await verifyAudit(store.db);
        if (options.checkpoint.length === 0) {
          if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
          else process.stdout.write(`${chainLine(result)}\n`);
          if (!result.ok) process.exitCode = 1;
          return;
        }
        const root = await getCa(store.db, 'root');
        if (root === null)
          throw new PkiError(
            'CA_NOT_INITIALISED',
            'no root CA to check checkpoints with: run reservkort ca init',
            {
              ca: 'root',
            },
          );
        // The root in the database is the trust anchor: a database with another root fails every
        // checkpoint's signature, so replacing it cannot make a checkpoint pass.
        const inputs = await Promise.all(options.checkpoint.map(readCheckpointFile));
        const checks = await checkCheckpoints(store.db, new X509Certificate(root.certificatePem), inputs);
        const range = rewrittenRange(checks);
        const ok = result.ok && checks.every((c) => c.ok);
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ ok, chain: result, checkpoints: checks, rewritten: range })}\n`,
          );
        } else {
          const lines = [chainLine(result), ...checks.map(describeCheck)];
          if (range !== null)
            lines.push(
              `the rewrite lies in entries ${range.from}–${range.to}${range.matching ? ` (checkpoint ${range.matching} still matches up to entry ${range.from - 1})` : ''}`,
            );
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        if (!ok) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });

  audit
    .command('checkpoint')
    .description(
      'check the chain since the last checkpoint, sign its length and head hash with the audit signer (made and certified by the root CA on first use), and write the checkpoint file; ship it elsewhere. Check one with: openssl cms -verify -inform PEM -in FILE -CAfile root.pem -purpose any',
    )
    .option('--out <file>', 'where to write it (default: audit-checkpoint.pem in the data folder)')
    .option('--json', 'print JSON')
    .action(async (options: { out?: string; json?: boolean }, command: Command) => {
      const folder = dataFolder(command.optsWithGlobals().data);
      const store = await openDataStore(folder);
      const ca = await openCa(folder, store);
      try {
        const file = resolve(options.out ?? folder.auditCheckpoint);
        const publisher = new AuditCheckpointPublisher(store.db, ca, systemClock, {
          file,
          intervalMs: DEFAULT_CHECKPOINT_INTERVAL_MS,
        });
        const { checkpoint } = await publisher.publish();
        const time = new Date(checkpoint.time).toISOString();
        if (options.json)
          process.stdout.write(
            `${JSON.stringify({ file, log: checkpoint.log, size: checkpoint.size, headHash: checkpoint.headHash, time })}\n`,
          );
        else
          process.stdout.write(
            `audit checkpoint: ${checkpoint.size} entries, head ${checkpoint.headHash}, signed ${time}\nwritten to ${file}\n`,
          );
      } finally {
        await ca.close();
        await store.close();
      }
    });

  program
    .command('db')
    .description('the database')
    .command('migrate')
    .description('apply pending migrations (the server also does this on start-up)')
    .action(async (_options: unknown, command: Command) => {
      const folder = dataFolder(command.optsWithGlobals().data);
      await prepareDataFolder(folder);
      const store = await openStore({ url: await databaseUrl(folder) });
      try {
        const { applied } = await migrateToLatest(store.db);
        process.stdout.write(
          applied.length === 0 ? 'database is up to date\n' : `applied: ${applied.join(', ')}\n`,
        );
      } finally {
        await store.close();
      }
    });
};
