import { PkiError, REVOCATION_REASONS, summariseCertificate } from '@reservkort/pki';
import { getCertificate, listCertificates } from '@reservkort/store';
import type { Command } from 'commander';
import { dataFolder } from '../../config/data-folder.js';
import { openCa, openDataStore } from '../ca-context.js';
import { printRows } from '../output.js';

const normaliseSerial = (serial: string): string => serial.toLowerCase().replace(/^0+(?=.)/, '');

export const registerCertCommands = (program: Command): void => {
  const cert = program.command('cert').description('issued certificates: list, show, revoke');

  cert
    .command('list')
    .description('list issued certificates')
    .option('--status <status>', 'good or revoked')
    .option('--ca <id>', 'only certificates of this CA (loa3, loa2, root)')
    .option('--limit <n>', 'at most this many', '1000')
    .option('--json', 'print JSON')
    .action(
      async (options: { status?: string; ca?: string; limit: string; json?: boolean }, command: Command) => {
        if (options.status !== undefined && options.status !== 'good' && options.status !== 'revoked') {
          throw new Error('--status must be good or revoked');
        }
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1) throw new Error('--limit must be a positive whole number');
        const store = await openDataStore(dataFolder(command.optsWithGlobals().data));
        try {
          const rows = await listCertificates(store.db, {
            ...(options.status ? { status: options.status as 'good' | 'revoked' } : {}),
            ...(options.ca ? { caId: options.ca } : {}),
            limit,
          });
          printRows(
            rows.map((row) => ({
              serial: row.serial,
              ca: row.caId,
              profile: row.profile,
              hsaId: row.hsaId,
              cardNumber: row.cardNumber,
              notAfter: new Date(row.notAfter).toISOString(),
              status: row.revocation ? 'revoked' : 'good',
              reason: row.revocation?.reason ?? null,
            })),
            options.json === true,
          );
        } finally {
          await store.close();
        }
      },
    );

  cert
    .command('show')
    .description('show one certificate')
    .argument('<serial>', 'serial number in hex')
    .option('--pem', 'print the certificate in PEM only')
    .option('--json', 'print JSON')
    .action(async (serial: string, options: { pem?: boolean; json?: boolean }, command: Command) => {
      const store = await openDataStore(dataFolder(command.optsWithGlobals().data));
      try {
        const row = await getCertificate(store.db, normaliseSerial(serial));
        if (row === null) throw new PkiError('CERTIFICATE_NOT_FOUND', `no certificate ${serial}`, { serial });
        if (options.pem) {
          process.stdout.write(
            row.certificatePem.endsWith('\n') ? row.certificatePem : `${row.certificatePem}\n`,
          );
          return;
        }
        const summary = summariseCertificate(row.certificatePem);
        const shown = {
          ...summary,
          ca: row.caId,
          profile: row.profile,
          orderId: row.orderId,
          status: row.revocation ? 'revoked' : 'good',
          revokedAt: row.revocation ? new Date(row.revocation.revokedAt).toISOString() : null,
          reason: row.revocation?.reason ?? null,
        };
        if (options.json) {
          process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
          return;
        }
        for (const [key, value] of Object.entries(shown)) {
          process.stdout.write(
            `${key.padEnd(18)}${Array.isArray(value) ? value.join(', ') : (value ?? '')}\n`,
          );
        }
      } finally {
        await store.close();
      }
    });

  cert
    .command('revoke')
    .description('revoke a certificate; the CRL is re-published and OCSP answers revoked')
    .argument('<serial>', 'serial number in hex')
    .requiredOption('--reason <reason>', `RFC 5280 reason: ${Object.keys(REVOCATION_REASONS).join(', ')}`)
    .action(async (serial: string, options: { reason: string }, command: Command) => {
      const folder = dataFolder(command.optsWithGlobals().data);
      const store = await openDataStore(folder);
      const ca = await openCa(folder, store);
      try {
        const { revokedAt, reason } = await ca.revoke(serial, options.reason, 'ca-operator');
        process.stdout.write(
          `revoked ${normaliseSerial(serial)} (${reason}) at ${new Date(revokedAt).toISOString()}\n`,
        );
      } finally {
        await ca.close();
        await store.close();
      }
    });
};
