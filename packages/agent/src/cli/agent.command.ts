import { join } from 'node:path';
import type { Command } from 'commander';
import { checkStation, formatDoctor, runDoctor } from '../agent-doctor.js';
import { agentInfo } from '../agent-info.js';
import type { CardBackend } from '../backend/card-backend.js';
import { Pkcs11Backend } from '../backend/pkcs11-backend.js';
import { VirtualBackend } from '../backend/virtual-backend.js';
import { CardAgent } from '../card-agent.js';
import { buildAgentApp } from '../http/agent-app.js';
import { StationIdentity } from '../station/station-identity.js';
import {
  STATION_PIN_ENV,
  type StationTokenOptions,
  stationTokenConfig,
} from '../station/station-token-options.js';

interface BackendOptions extends StationTokenOptions {
  virtual?: boolean;
  readers: string;
  pkcs11Module?: string;
  state?: string;
}

/** The station's key, certificate and counters live beside the agent's card state. */
const openStation = (options: BackendOptions, dataDir: string): StationIdentity =>
  StationIdentity.open(join(dataDir, 'agent', 'station'), { token: stationTokenConfig(options) });

/** Opens the backend the flags name: `--virtual` (training) or `--pkcs11-module PATH` (real cards). */
export const openBackend = async (options: BackendOptions, dataDir: string): Promise<CardBackend> => {
  const readers = Number(options.readers);
  if (!Number.isInteger(readers) || readers < 0 || readers > 8) throw new Error('--readers must be 0–8');
  if (options.pkcs11Module && options.virtual)
    throw new Error('choose --virtual or --pkcs11-module, not both');
  if (options.pkcs11Module) {
    return Pkcs11Backend.open({
      module: options.pkcs11Module,
      stateFile: options.state ?? join(dataDir, 'agent', 'pkcs11-pins.json'),
    });
  }
  if (!options.virtual) throw new Error('choose a backend: --virtual or --pkcs11-module PATH');
  return VirtualBackend.open({
    stateFile: options.state ?? join(dataDir, 'agent', 'virtual-cards.json'),
    readers,
  });
};

const withBackendOptions = (command: Command): Command =>
  command
    .option('--virtual', 'virtual readers and cards (training mode)')
    .option('--readers <n>', 'number of virtual readers on first start', '2')
    .option('--pkcs11-module <path>', "the card vendor's PKCS#11 module")
    .option('--state <file>', 'where the agent keeps card state (virtual cards, PIN counters)')
    .option(
      '--station-pkcs11-module <path>',
      "the PKCS#11 module of the token that keeps the station key (the computer's TPM or HSM token, not the card module)",
    )
    .option('--station-token <label>', 'the label of the token that keeps the station key')
    .option(
      '--station-pin-file <file>',
      `a file (mode 0600) holding the station token's PIN; otherwise ${STATION_PIN_ENV}`,
    );

export const registerAgentCommands = (program: Command, dataDir: (command: Command) => string): void => {
  const agent = withBackendOptions(
    program
      .command('agent')
      .description('the local card agent: readers and cards for the portal page, PIN dialogs, on-card keys')
      .option('--port <n>', 'loopback port', '31443')
      .option('--portal-origin <origin>', 'the only page origin the agent answers', 'http://localhost:3000'),
  ).action(async (options: BackendOptions & { port: string; portalOrigin: string }, command: Command) => {
    const port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0–65535');
    const origin = new URL(options.portalOrigin).origin;
    const data = dataDir(command);
    // The station first: a configured token that is absent or locked stops the agent before it serves.
    const station = openStation(options, data);
    let backend: CardBackend;
    try {
      backend = await openBackend(options, data);
    } catch (error) {
      station.close();
      throw error;
    }
    const card = new CardAgent({ backend, info: agentInfo(), station });
    const app = await buildAgentApp({ agent: card, portalOrigin: origin });
    const address = await app.listen({ port, host: '127.0.0.1' });
    process.stdout.write(`card agent listening on ${address} for ${origin}\n`);
    await new Promise<void>((resolve) => {
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
    });
    await app.close();
    await card.close();
    station.close();
  });

  // The backend flags belong to `agent` and are read from there, wherever they stand on the line.
  agent
    .command('doctor')
    .description('pre-flight check: readers, cards, module and versions (backend flags as for agent)')
    .option('--json', 'print JSON')
    .action(async (options: BackendOptions & { json?: boolean }, command: Command) => {
      const merged = { ...command.parent?.opts(), ...options } as BackendOptions & { json?: boolean };
      const data = dataDir(command);
      const station = checkStation(() => openStation(merged, data));
      const backend = await openBackend(merged, data);
      try {
        const report = await runDoctor(backend, agentInfo(), station);
        process.stdout.write(merged.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
        if (!report.ok) process.exitCode = 3;
      } finally {
        await backend.close();
      }
    });
};
