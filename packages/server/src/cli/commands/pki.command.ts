import { buildPkiApp, OcspResponder, RevocationWatcher } from '@reservkort/pki';
import { type Command, Option } from 'commander';
import { dataFolder } from '../../config/data-folder.js';
import { OCSP_MAX_AGE_LIMIT_SECONDS } from '../../config/server-config.js';
import { openCa, openDataStore, systemClock } from '../ca-context.js';

export const registerPkiCommands = (program: Command): void => {
  program
    .command('pki')
    .description('the PKI endpoints on their own')
    .command('serve')
    .description('serve CA certificates, CRLs and OCSP (GET /pki/ca/*.pem, /pki/crl/*.crl, POST /ocsp)')
    .option('--port <n>', 'port', '3001')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(
      new Option(
        '--ocsp-max-age <seconds>',
        'how long HTTP caches may keep OCSP answers and CRLs unchecked (default 0: revalidate every use)',
      ).env('RESERVKORT_OCSP_MAX_AGE_SECONDS'),
    )
    .action(async (options: { port: string; host: string; ocspMaxAge?: string }, command: Command) => {
      const port = Number(options.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0–65535');
      const maxAgeSeconds = Number(options.ocspMaxAge ?? 0);
      if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0 || maxAgeSeconds > OCSP_MAX_AGE_LIMIT_SECONDS)
        throw new Error(`--ocsp-max-age must be whole seconds 0–${OCSP_MAX_AGE_LIMIT_SECONDS}`);
      const folder = dataFolder(command.optsWithGlobals().data);
      const store = await openDataStore(folder);
      const ca = await openCa(folder, store);
      const responder = new OcspResponder(ca, store.db, systemClock, { maxAgeSeconds });
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
