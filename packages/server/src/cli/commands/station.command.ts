import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { listStations } from '@reservkort/store';
import type { Command } from 'commander';
import { dataFolder } from '../../config/data-folder.js';
import { registerStation, stationView } from '../../station/station.service.js';
import { ensureStationKey, stationCsr, stationFiles } from '../../station/station-key.js';
import { openCa, openDataStore, systemClock } from '../ca-context.js';
import { printRows } from '../output.js';

export const registerStationCommands = (program: Command): void => {
  const station = program
    .command('station')
    .description('card stations: the card agents whose signed statements the server believes');

  station
    .command('register')
    .description(
      "register a card agent as a card station of a branch: makes the station key in the agent's data folder if missing (station/station-key.pem, 0600), and writes the certificate the CA issues to station/station.pem; run it again to renew",
    )
    .requiredOption('--agent-data <dir>', "the card agent's data folder")
    .requiredOption('--branch <id>', 'the branch the station belongs to, as in the directory')
    .requiredOption('--name <name>', 'a name people recognise, e.g. the desk where it stands')
    .option('--json', 'print JSON')
    .action(
      async (
        options: { agentData: string; branch: string; name: string; json?: boolean },
        command: Command,
      ) => {
        const agentData = resolve(options.agentData);
        const name = options.name.trim();
        if (name === '' || name.length > 100) throw new Error('--name must be 1–100 characters');
        const folder = dataFolder(command.optsWithGlobals().data);
        const store = await openDataStore(folder);
        const ca = await openCa(folder, store);
        try {
          const key = await ensureStationKey(agentData);
          const registered = await registerStation(
            { db: store.db, ca, now: () => systemClock.now() },
            { csr: await stationCsr(key.pem), name, branchId: options.branch, actor: 'ca-operator' },
          );
          const files = stationFiles(agentData);
          await writeFile(files.certificate, registered.certificate, { mode: 0o644 });
          const shown = {
            stationId: registered.stationId,
            serial: registered.serial,
            branch: options.branch,
            renewed: registered.renewed,
            keyCreated: key.created,
            certificate: files.certificate,
          };
          if (options.json) process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
          else
            process.stdout.write(
              `${registered.renewed ? 'renewed' : 'registered'} station ${registered.stationId} ` +
                `(certificate ${registered.serial}) in ${options.branch}; written to ${files.certificate}\n`,
            );
        } finally {
          await ca.close();
          await store.close();
        }
      },
    );

  station
    .command('list')
    .description('list the card stations with their status (active, revoked or expired)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const store = await openDataStore(dataFolder(command.optsWithGlobals().data));
      try {
        const now = systemClock.now();
        printRows(
          (await listStations(store.db)).map((s) => {
            const view = stationView(s, now);
            return {
              id: view.id,
              name: view.name,
              branch: view.branchId,
              status: view.status,
              serial: view.certificateSerial,
              notAfter: new Date(view.certificateNotAfter).toISOString(),
              registeredBy: view.registeredBy,
              lastSeq: view.lastSeq,
            };
          }),
          options.json === true,
        );
      } finally {
        await store.close();
      }
    });
};
