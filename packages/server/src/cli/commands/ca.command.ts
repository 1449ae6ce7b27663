import { ASSURANCE_LEVELS, CARD_KEY_TYPES, type CardKeyType, isCardKeyType } from '@reservkort/domain';
import {
  CertificateAuthority,
  DEFAULT_CA_SETTINGS,
  DEFAULT_POLICY_OIDS,
  isKeySpec,
  KEY_SPECS,
  type KeySpec,
  PkiError,
  summariseCertificate,
} from '@reservkort/pki';
import { appendAudit, listCas } from '@reservkort/store';
import type { Command } from 'commander';
import { dataFolder } from '../../config/data-folder.js';
import { loadServerConfig } from '../../config/server-config.js';
import {
  type CaSettingsFile,
  openDataStore,
  openKeyStore,
  readCaSettings,
  systemClock,
  writeCaSettings,
} from '../ca-context.js';
import { printRows, progress } from '../output.js';

interface InitOptions {
  config?: string;
  keySpec: string;
  cardKeyType: string;
  pkcs11Module?: string;
  pkcs11Token?: string;
  baseUrl: string;
  organisation: string;
  policyLoa3: string;
  policyLoa2: string;
}

export const registerCaCommands = (program: Command): void => {
  const ca = program.command('ca').description('the certificate authority: create and inspect it');

  ca.command('init')
    .description('create the root CA, the LoA3 and LoA2 person CAs and their OCSP signers')
    .option('--key-spec <spec>', `CA key type: ${KEY_SPECS.join(', ')}`, 'ecdsa-p256')
    .option(
      '--card-key-type <type>',
      `key type the LoA3 and LoA2 CAs certify on cards: ${CARD_KEY_TYPES.join(', ')} (change it later with ca card-key-type)`,
      'ecdsa-p256',
    )
    .option('--pkcs11-module <path>', 'keep CA keys on a PKCS#11 token (PIN from RESERVKORT_PKCS11_PIN)')
    .option('--pkcs11-token <label>', 'label of the PKCS#11 token for CA keys')
    .option('--base-url <url>', 'public URL of the PKI endpoints (AIA, CRL DP)', DEFAULT_CA_SETTINGS.baseUrl)
    .option('--organisation <name>', 'organisation name in CA subjects', DEFAULT_CA_SETTINGS.organisation)
    .option('--policy-loa3 <oid>', 'certificate policy OID for LoA3', DEFAULT_POLICY_OIDS.LoA3)
    .option('--policy-loa2 <oid>', 'certificate policy OID for LoA2', DEFAULT_POLICY_OIDS.LoA2)
    .option(
      '--config <file>',
      'the server’s configuration file: its public URL, organisation, policy OIDs, data folder and database (flags win)',
    )
    .action(async (options: InitOptions, command: Command) => {
      // The CA is made with what `serve --config` will use; a flag given on the command line wins.
      const config = options.config === undefined ? {} : await loadServerConfig(options.config);
      const given = (name: keyof InitOptions) => command.getOptionValueSource(name) === 'cli';
      const baseUrl = given('baseUrl') ? options.baseUrl : (config.server?.publicUrl ?? options.baseUrl);
      const organisation = given('organisation')
        ? options.organisation
        : (config.pki?.organisation ?? options.organisation);
      const policyLoa3 = given('policyLoa3')
        ? options.policyLoa3
        : (config.pki?.policyOids?.LoA3 ?? options.policyLoa3);
      const policyLoa2 = given('policyLoa2')
        ? options.policyLoa2
        : (config.pki?.policyOids?.LoA2 ?? options.policyLoa2);
      const folder = dataFolder(
        command.optsWithGlobals().data ?? process.env.RESERVKORT_DATA ?? config.dataFolder,
      );
      if (!isKeySpec(options.keySpec)) throw new Error(`--key-spec must be one of ${KEY_SPECS.join(', ')}`);
      const cardKeyType = options.cardKeyType;
      if (!isCardKeyType(cardKeyType))
        throw new Error(`--card-key-type must be one of ${CARD_KEY_TYPES.join(', ')}`);
      if ((options.pkcs11Module === undefined) !== (options.pkcs11Token === undefined)) {
        throw new Error('--pkcs11-module and --pkcs11-token go together');
      }
      for (const oid of [policyLoa3, policyLoa2]) {
        if (!/^\d+(\.\d+)+$/.test(oid)) throw new Error(`not an OID: ${oid}`);
      }
      if (await readCaSettings(folder)) {
        throw new PkiError('CA_ALREADY_INITIALISED', `a CA already exists in ${folder.root}`, {});
      }
      const file: CaSettingsFile = {
        keyStore:
          options.pkcs11Module && options.pkcs11Token
            ? { kind: 'pkcs11', module: options.pkcs11Module, tokenLabel: options.pkcs11Token }
            : { kind: 'file' },
        keySpec: options.keySpec as KeySpec,
        settings: {
          ...DEFAULT_CA_SETTINGS,
          baseUrl,
          organisation,
          policyOids: { LoA3: policyLoa3, LoA2: policyLoa2 },
          cardKeyTypes: { LoA3: cardKeyType, LoA2: cardKeyType },
        },
      };
      const store = await openDataStore(folder, config.database?.url);
      const { keyStore, createdSecret } = await openKeyStore(folder, file.keyStore, true);
      try {
        if (createdSecret) process.stderr.write(`CA key passphrase generated and kept in ${createdSecret}\n`);
        const authority = await CertificateAuthority.initialise(
          { db: store.db, keyStore, clock: systemClock, settings: file.settings },
          { keySpec: file.keySpec, onProgress: progress },
        );
        await writeCaSettings(folder, file);
        printRows(
          authority.all.map((c) => ({ id: c.id, name: c.name, serial: c.certificate.serialNumber })),
          false,
        );
      } finally {
        await keyStore.close();
        await store.close();
      }
    });

  ca.command('card-key-type')
    .description(
      'show or change the key type a person CA certifies on cards; servers take a change when they start',
    )
    .argument('[type]', `the new key type: ${CARD_KEY_TYPES.join(', ')}`)
    .option('--level <level>', 'the person CA: LoA3 or LoA2 (default both)')
    .option('--json', 'print JSON')
    .action(
      async (type: string | undefined, options: { level?: string; json?: boolean }, command: Command) => {
        const folder = dataFolder(command.optsWithGlobals().data);
        const file = await readCaSettings(folder);
        if (file === null)
          throw new PkiError('CA_NOT_INITIALISED', `no CA in ${folder.root}: run reservkort ca init`, {
            ca: 'root',
          });
        const levels = ASSURANCE_LEVELS.filter(
          (level) => options.level === undefined || options.level === level,
        );
        if (levels.length === 0) throw new Error('--level must be LoA3 or LoA2');
        const current = { ...DEFAULT_CA_SETTINGS.cardKeyTypes, ...file.settings.cardKeyTypes };
        if (type !== undefined) {
          if (!isCardKeyType(type))
            throw new Error(`the key type must be one of ${CARD_KEY_TYPES.join(', ')}`);
          const changed: Record<string, CardKeyType> = { ...current };
          for (const level of levels) changed[level] = type;
          const before = { ...current };
          Object.assign(current, changed);
          await writeCaSettings(folder, { ...file, settings: { ...file.settings, cardKeyTypes: current } });
          const store = await openDataStore(folder);
          try {
            await appendAudit(store.db, {
              at: systemClock.now(),
              actor: 'ca-operator',
              action: 'ca.card-key-type-changed',
              subject: levels.map((level) => level.toLowerCase()).join(','),
              details: { before, after: current },
            });
          } finally {
            await store.close();
          }
        }
        printRows(
          levels.map((level) => ({ ca: level.toLowerCase(), level, cardKeyType: current[level] })),
          options.json === true,
        );
      },
    );

  ca.command('show')
    .description('list the CAs with their certificates’ subjects, validity and policies')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const folder = dataFolder(command.optsWithGlobals().data);
      const store = await openDataStore(folder);
      try {
        const rows = await listCas(store.db);
        if (rows.length === 0)
          throw new PkiError('CA_NOT_INITIALISED', 'no CA: run reservkort ca init', { ca: 'root' });
        printRows(
          rows.map((row) => {
            const cert = summariseCertificate(row.certificatePem);
            return {
              id: row.id,
              role: row.role,
              subject: cert.subject,
              notAfter: cert.notAfter,
              policy: row.policyOid,
              key: row.keyKind,
              crlNumber: row.crlNumber,
            };
          }),
          options.json === true,
        );
      } finally {
        await store.close();
      }
    });
};
