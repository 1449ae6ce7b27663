import { ISSUING_CAS, type IssuingCaId } from '@reservkort/pki';
import { migrateToLatest, openStore, verifyAudit } from '@reservkort/store';
import type { Command } from 'commander';
import { databaseUrl, dataFolder, prepareDataFolder } from '../../config/data-folder.js';
import { openCa, openDataStore } from '../ca-context.js';

export const registerMaintenanceCommands = (program: Command): void => {
  program
    .command('crl')
    .description('certificate revocation lists')
    .command('publish')
    .description('sign and publish a new full CRL for each issuing CA (or one)')
    .option('--ca <id>', `only this CA: ${ISSUING_CAS.join(', ')}`)
    .action(async (options: { ca?: string }, command: Command) => {
      if (options.ca !== undefined && !(ISSUING_CAS as readonly string[]).includes(options.ca)) {
        throw new Error(`--ca must be one of ${ISSUING_CAS.join(', ')}`);
      }
      const folder = dataFolder(command.optsWithGlobals().data);
      const store = await openDataStore(folder);
      const ca = await openCa(folder, store);
      try {
        const ids = options.ca ? [options.ca as IssuingCaId] : ISSUING_CAS;
        for (const id of ids) {
          const der = await ca.publishCrl(id);
          process.stdout.write(`published CRL for ${id} (${der.byteLength} bytes)\n`);
        }
      } finally {
        await ca.close();
        await store.close();
      }
    });

  program
    .command('audit')
    .description('the hash-chained audit log')
    .command('verify')
    .description('check every entry’s hash and link; report the first broken or missing one')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const store = await openDataStore(dataFolder(command.optsWithGlobals().data));
      try {
        const result = await verifyAudit(store.db);
        if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else if (result.ok) process.stdout.write(`audit log intact: ${result.entries} entries\n`);
        else process.stdout.write(`audit log broken at entry ${result.firstBadSeq}: ${result.problem}\n`);
        if (!result.ok) process.exitCode = 1;
      } finally {
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
