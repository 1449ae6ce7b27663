import { registerAgentCommands } from '@reservkort/agent';
import { Command, CommanderError } from 'commander';
import { DataFolderError, dataFolder } from '../config/data-folder.js';
import { EXIT_CONFIG, ServerConfigError } from '../config/server-config.js';
import { registerCaCommands } from './commands/ca.command.js';
import { registerCardCommands } from './commands/card.command.js';
import { registerCertCommands } from './commands/cert.command.js';
import { registerDirectoryCommands } from './commands/directory.command.js';
import { registerMaintenanceCommands } from './commands/maintenance.command.js';
import { registerPkiCommands } from './commands/pki.command.js';
import { registerOpenApiCommand, registerServeCommand } from './commands/serve.command.js';
import { registerStationCommands } from './commands/station.command.js';
import { errorLine } from './output.js';

export const buildProgram = (): Command => {
  const program = new Command('reservkort')
    .description('Reservkort: issuance of LoA3 reserve cards')
    .option('--data <dir>', 'data folder (default: $RESERVKORT_DATA or ./data)')
    .showHelpAfterError()
    .exitOverride();
  registerCaCommands(program);
  registerCertCommands(program);
  registerMaintenanceCommands(program);
  registerPkiCommands(program);
  registerServeCommand(program);
  registerOpenApiCommand(program);
  registerDirectoryCommands(program);
  registerCardCommands(program);
  registerStationCommands(program);
  registerAgentCommands(program, (command) => dataFolder(command.optsWithGlobals().data).root);
  const overrideExits = (command: Command): void => {
    command.exitOverride();
    for (const child of command.commands) overrideExits(child);
  };
  overrideExits(program);
  return program;
};

/** Runs the command line; returns the exit code instead of exiting, so tests can call it. */
export const main = async (argv: readonly string[]): Promise<number> => {
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    // A configuration file's problems are listed all at once, one line each, before the summary.
    if (error instanceof ServerConfigError)
      for (const line of error.lines()) process.stderr.write(`reservkort: ${line}\n`);
    process.stderr.write(`${errorLine(error)}\n`);
    return error instanceof ServerConfigError || error instanceof DataFolderError ? EXIT_CONFIG : 1;
  }
};
