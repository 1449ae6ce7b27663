import { buildPkiApp, OcspResponder, RevocationWatcher } from '@reservkort/pki';
import type { Command } from 'commander';
import { dataFolder } from '../../config/data-folder.js';
import { openCa, openDataStore, systemClock } from '../ca-context.js';

export const registerPkiCommands = (program: Command): void => {
  program
    .command('pki')
    .description('the PKI endpoints on their own')
    .command('serve')
    .description('serve CA certificates, CRLs and OCSP (GET /pki/ca/*.pem, /pki/crl/*.crl, POST /ocsp)')
    .option('--port <n>', 'port', '3001')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .action(async (options: { port: string; host: string }, command: Command) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0–65535');
      const folder = dataFolder(command.optsWithGlobals().data);
      const store = await openDataStore(folder);
      const ca = await openCa(folder, store);
      const responder = new OcspResponder(ca, store.db, systemClock);
      const watcher = new RevocationWatcher(store.db, () => responder.invalidate());
      await watcher.start();
      const app = await buildPkiApp(ca, responder);
      const address = await app.listen({ port, host: options.host });
      process.stdout.write(`PKI listening on ${address}\n`);
      await new Promise<void>((resolve) => {
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
      });
      await app.close();
      watcher.stop();
      responder.close();
      await ca.close();
      await store.close();
    });
};
