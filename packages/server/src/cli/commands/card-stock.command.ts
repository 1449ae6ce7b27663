import { readFile } from 'node:fs/promises';
import { buildOrganisationTree, type DomainError, describeError, formatDate } from '@reservkort/domain';
import { listBranches } from '@reservkort/store';
import type { Command } from 'commander';
import {
  importBatch,
  parseStockCsv,
  STOCK_CSV_COLUMNS,
  StockBatchRefused,
} from '../../card-stock/card-stock.service.js';
import { dataFolder } from '../../config/data-folder.js';
import { openDataStore, systemClock } from '../ca-context.js';
import { printRows } from '../output.js';

/** One problem of a batch, for the operator: its line, its code, and what the catalogue says. */
const problemLine = (problem: DomainError): string => {
  const details = (problem.details ?? {}) as Record<string, string | number | boolean>;
  const where = typeof details.line === 'number' ? `line ${details.line}` : 'file';
  const reason = typeof details.reason === 'string' ? ` (${details.reason})` : '';
  return `${where}: ${problem.code}${reason}: ${describeError({ code: problem.code, details }, 'en').title}`;
};

/** `reservkort card stock import`: a card bureau's batch registered to a card station. */
export const registerCardStockCommands = (card: Command): void => {
  card
    .command('stock')
    .description('card stock per card station: the sealed reserve cards a card bureau delivered')
    .command('import')
    .description(
      `register a batch ("bunt") of sealed cards to a card station, all or nothing: a CSV file with a header naming the columns ${STOCK_CSV_COLUMNS.join(', ')} (physical_expiry may be left out or empty), comma or semicolon separated`,
    )
    .requiredOption('--station <branchId>', 'the card station: a branch of the directory')
    .argument('<file>', 'the batch, a .csv file')
    .option('--json', 'print JSON')
    .action(async (file: string, options: { station: string; json?: boolean }, command: Command) => {
      const text = await readFile(file, 'utf8');
      const store = await openDataStore(dataFolder(command.optsWithGlobals().data));
      try {
        const tree = buildOrganisationTree(await listBranches(store.db));
        if (!tree.ok) throw new Error('the directory’s organisation is not a tree');
        const imported = await importBatch(
          { db: store.db, now: () => systemClock.now() },
          {
            stationId: options.station,
            lines: parseStockCsv(text),
            tree: tree.value,
            actor: 'card-stock-import',
            source: 'cli',
          },
        );
        if (options.json !== true)
          process.stdout.write(
            `batch ${imported.batchId}: ${imported.cards.length} cards registered sealed to station ${options.station}\n`,
          );
        printRows(
          imported.cards.map((c) => ({
            cardNumber: c.cardNumber,
            product: c.product,
            physicalExpiry: formatDate(c.physicalExpiry),
            state: c.state,
          })),
          options.json === true,
        );
      } catch (error) {
        if (!(error instanceof StockBatchRefused)) throw error;
        for (const problem of error.problems) process.stderr.write(`${problemLine(problem)}\n`);
        process.stderr.write(
          `reservkort: ${error.problems.length} problem(s) in ${file}; nothing was imported\n`,
        );
        process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
};
