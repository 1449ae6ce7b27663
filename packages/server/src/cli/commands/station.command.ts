import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  keyStoreRecord,
  STATION_PIN_ENV,
  StationIdentity,
  type StationTokenOptions,
  stationKeyUnavailable,
  stationTokenConfig,
} from '@reservkort/agent';
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
      "register a card agent as a card station of a branch: makes the station key if missing (in the agent's data folder, station/station-key.pem, 0600, or on the station token with --station-pkcs11-module and --station-token), and writes the certificate the CA issues to station/station.pem; run it again to renew",
    )
    .requiredOption('--agent-data <dir>', "the card agent's data folder")
    .requiredOption('--branch <id>', 'the branch the station belongs to, as in the directory')
    .requiredOption('--name <name>', 'a name people recognise, e.g. the desk where it stands')
    .option(
      '--station-pkcs11-module <path>',
      "keep the station key on a PKCS#11 token: the token's module (the computer's TPM or HSM token, not the card module)",
    )
    .option('--station-token <label>', 'the label of the token that keeps the station key')
    .option(
      '--station-pin-file <file>',
      `a file (mode 0600) holding the station token's PIN; otherwise ${STATION_PIN_ENV}`,
    )
    .option('--json', 'print JSON')
    .action(
      async (
        options: StationTokenOptions & { agentData: string; branch: string; name: string; json?: boolean },
        command: Command,
      ) => {
        const agentData = resolve(options.agentData);
        const name = options.name.trim();
        if (name === '' || name.length > 100) throw new Error('--name must be 1–100 characters');
        const token = stationTokenConfig(options);
        const files = stationFiles(agentData);
        // The agent refuses a station whose key moved: a registration must not make one move either.
        if (token === null && keyStoreRecord(files.folder)?.keyStore === 'pkcs11') {
          throw stationKeyUnavailable(
            'key on a token',
            'the station key of this agent is on a token: give --station-pkcs11-module and --station-token',
          );
        }
        const folder = dataFolder(command.optsWithGlobals().data);
        const store = await openDataStore(folder);
        const ca = await openCa(folder, store);
        try {
          const register = async (csr: Uint8Array) =>
            registerStation(
              { db: store.db, ca, now: () => systemClock.now() },
              { csr, name, branchId: options.branch, actor: 'ca-operator' },
            );
          let registered: Awaited<ReturnType<typeof register>>;
          let keyCreated: boolean;
          if (token === null) {
            const key = await ensureStationKey(agentData);
            keyCreated = key.created;
            registered = await register(await stationCsr(key.pem));
            await writeFile(files.certificate, registered.certificate, { mode: 0o644 });
          } else {
            // The key pair is made on the token (if it has none) and signs the request there.
            const identity = StationIdentity.open(files.folder, { token });
            try {
              keyCreated = identity.store.publicKey() === null;
              const { csr } = await identity.csr(name);
              registered = await register(new Uint8Array(Buffer.from(csr, 'base64')));
              identity.installCertificate(registered.certificate);
            } finally {
              identity.close();
            }
          }
          const shown = {
            stationId: registered.stationId,
            serial: registered.serial,
            branch: options.branch,
            renewed: registered.renewed,
            keyCreated,
            keyStore: token === null ? 'file' : 'pkcs11',
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
