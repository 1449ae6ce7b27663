import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Command } from 'commander';
import { dataFolder } from '../../config/data-folder.js';
import { formatDirectoryProblem, importDirectory, parseDirectory } from '../../directory/directory-import.js';
import { openDataStore, systemClock } from '../ca-context.js';

export const registerDirectoryCommands = (program: Command): void => {
  program
    .command('directory')
    .description('the directory of organisations, persons and administrators')
    .command('import')
    .description(
      'load organisations, persons and roles from JSON or CSV (format: see src/directory/directory-import.ts); all or nothing',
    )
    .argument('<file>', 'a .json or .csv file')
    .option('--format <format>', 'json or csv (default: from the file name)')
    .action(async (file: string, options: { format?: string }, command: Command) => {
      const format = options.format ?? (extname(file).toLowerCase() === '.csv' ? 'csv' : 'json');
      if (format !== 'json' && format !== 'csv') throw new Error('--format must be json or csv');
      const text = await readFile(file, 'utf8');
      const parsed = await parseDirectory(text, format, { now: systemClock.now() });
      if (!parsed.ok) {
        for (const problem of parsed.problems) process.stderr.write(`${formatDirectoryProblem(problem)}\n`);
        process.stderr.write(
          `reservkort: ${parsed.problems.length} problem(s) in ${file}; nothing was imported\n`,
        );
        process.exitCode = 1;
        return;
      }
      const store = await openDataStore(dataFolder(command.optsWithGlobals().data));
      try {
        const counts = await importDirectory(store.db, parsed.directory, {
          now: systemClock.now(),
          actor: 'directory-import',
        });
        process.stdout.write(
          `imported ${counts.branches} branches, ${counts.persons} persons, ${counts.admins} administrators, ${counts.roles} roles\n`,
        );
      } finally {
        await store.close();
      }
    });
};
