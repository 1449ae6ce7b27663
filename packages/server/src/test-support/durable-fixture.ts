// A data folder that a real `reservkort serve` can open (database, CA keys, ca.json, passphrase),
// the people and orders of an issuance in it, and server processes started and killed on it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  buildOrganisationTree,
  type CardNumber,
  type Clock,
  dateOf,
  type HsaId,
  luhnCheckDigit,
  parsePersonalNumber,
  registerOrder,
} from '@reservkort/domain';
import { CertificateAuthority, DEFAULT_CA_SETTINGS, FileKeyStore } from '@reservkort/pki';
import {
  type Database,
  getAdmin,
  grantRole,
  insertAdmin,
  insertOrder,
  insertPerson,
  upsertBranches,
} from '@reservkort/store';
import type { Kysely } from 'kysely';
import { makeCsr } from '../../../pki/src/test-support/test-ca.js';
import { readCaSettings } from '../cli/ca-context.js';
import { type DataFolder, dataFolder } from '../config/data-folder.js';
import type { Workstation } from './durable-page.js';
import {
  ADMIN1,
  ADMIN1_CARD,
  ADMIN2,
  ADMIN2_CARD,
  ANNA,
  ANNA_PNR,
  RESERVE_CARD,
  RESERVE_PINS,
} from './issuance-harness.js';
import { provisionCard } from './provision-card.js';
import { giveTestBureauKeys } from './test-station.js';
import { stockTestCards } from './test-stock.js';

const run = promisify(execFile);
export const BIN = new URL('../../bin/reservkort.js', import.meta.url).pathname;

/** A second issuing administrator: KRA in the recipients' own branch, not the creator of any order. */
export const ADMIN3 = 'SE2321000016-adm3' as HsaId;
export const ADMIN3_CARD = '9752278900000000003' as CardNumber;

export interface Recipient {
  readonly hsaId: HsaId;
  readonly pnr: string;
  readonly givenName: string;
  readonly surname: string;
  readonly orderId: string;
  readonly reserveCard: CardNumber;
}

const pnr = (yymmdd: string, serial: string) => `19${yymmdd}${serial}${luhnCheckDigit(`${yymmdd}${serial}`)}`;

export const RECIPIENTS = {
  anna: {
    hsaId: ANNA,
    pnr: ANNA_PNR,
    givenName: 'Anna',
    surname: 'Andersson',
    orderId: 'order-anna',
    reserveCard: RESERVE_CARD,
  },
  bertil: {
    hsaId: 'SE2321000016-bert' as HsaId,
    pnr: pnr('750505', '456'),
    givenName: 'Bertil',
    surname: 'Berg',
    orderId: 'order-bertil',
    reserveCard: '9752278900000000101' as CardNumber,
  },
  cecilia: {
    hsaId: 'SE2321000016-ceci' as HsaId,
    pnr: pnr('880808', '246'),
    givenName: 'Cecilia',
    surname: 'Carlsson',
    orderId: 'order-cecilia',
    reserveCard: '9752278900000000102' as CardNumber,
  },
} satisfies Record<string, Recipient>;

/**
 * `reservkort audit verify` on a data folder, as the operator runs it with the server stopped: what
 * it printed. Fails the test unless the log is intact.
 */
export const auditVerifiedOffline = async (root: string): Promise<string> => {
  const { stdout } = await run(process.execPath, [BIN, '--data', root, 'audit', 'verify'], {
    env: childEnv(),
    timeout: 60_000,
  });
  if (!/audit log intact: \d+ entries/.test(stdout)) throw new Error(`audit verify: ${stdout}`);
  return stdout;
};

/** Environment for a child process: nothing from ours that would point it at another database or CA. */
export const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'DATABASE_URL',
    'RESERVKORT_DATA',
    'RESERVKORT_CA_PASSPHRASE',
    'RESERVKORT_OPERATIONS_TOKEN',
    'RESERVKORT_REDIS_URL',
    'PORT',
    'NODE_OPTIONS',
  ])
    delete env[name];
  return { ...env, ...extra };
};

/** `reservkort ca init` on a new data folder (PostgreSQL when databaseUrl is given, else its SQLite file). */
export const initDataFolder = async (root: string, databaseUrl?: string): Promise<DataFolder> => {
  await run(
    process.execPath,
    [BIN, '--data', root, 'ca', 'init', '--base-url', 'http://127.0.0.1:9', '--organisation', 'Durable'],
    { env: childEnv(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), timeout: 60_000 },
  );
  return dataFolder(root);
};

/** The data folder's CA in this process: the keys in `ca/`, the passphrase from `secrets/`. */
export const openFolderCa = async (
  folder: DataFolder,
  db: Kysely<Database>,
  clock: Clock,
): Promise<CertificateAuthority> => {
  const file = await readCaSettings(folder);
  if (file === null) throw new Error(`no ca.json in ${folder.root}`);
  const passphrase = (await readFile(join(folder.secrets, 'ca-passphrase'), 'utf8')).trim();
  return CertificateAuthority.open({
    db,
    keyStore: new FileKeyStore(folder.caKeys, passphrase),
    clock,
    settings: { ...DEFAULT_CA_SETTINGS, ...file.settings },
  });
};

const BRANCHES = [
  { id: 'region', parentId: null, name: 'Region Exempel' },
  { id: 'hospital', parentId: 'region', name: 'Sjukhuset' },
  { id: 'clinic', parentId: 'hospital', name: 'Kliniken' },
];

/**
 * The directory as the issuance harness has it, plus ADMIN3 (KRA in the clinic): admin 1 creates
 * the orders; admins 2 and 3 may issue them. Admin 1's card is made (its signature is on the orders).
 */
export const seedDirectory = async (
  db: Kysely<Database>,
  ca: CertificateAuthority,
  recipients: readonly Recipient[],
): Promise<void> => {
  const now = Date.now();
  await upsertBranches(db, BRANCHES);
  await insertAdmin(db, { hsaId: ADMIN1, givenName: 'Admin', surname: 'Ett', createdAt: now });
  await grantRole(db, { adminHsaId: ADMIN1, role: 'KRA', branchId: 'hospital' });
  await insertAdmin(db, { hsaId: ADMIN2, givenName: 'Admin', surname: 'Två', createdAt: now });
  await grantRole(db, { adminHsaId: ADMIN2, role: 'RA', branchId: 'region' });
  await grantRole(db, { adminHsaId: ADMIN2, role: 'KUR', branchId: 'region' });
  await insertAdmin(db, { hsaId: ADMIN3, givenName: 'Admin', surname: 'Tre', createdAt: now });
  await grantRole(db, { adminHsaId: ADMIN3, role: 'KRA', branchId: 'clinic' });

  // Admin 1's card signature key signed the orders; a certificate like the card's stands for it.
  const signCert = await ca.issue({
    caId: 'loa3',
    profile: 'card-sign',
    csr: (await makeCsr()).pem,
    holder: { hsaId: ADMIN1, givenName: 'Admin', surname: 'Ett', organisation: 'Region Exempel' },
    cardNumber: ADMIN1_CARD,
    validity: { notBefore: now, notAfter: now + 365 * 86_400_000 },
    orderId: null,
    actor: 'test',
  });
  const admin1 = await getAdmin(db, ADMIN1);
  const tree = buildOrganisationTree(BRANCHES);
  if (!tree.ok || admin1 === null) throw new Error('fixture directory');
  for (const r of recipients) {
    const parsed = parsePersonalNumber(r.pnr, dateOf(now));
    if (!parsed.ok) throw new Error(`fixture personnummer ${r.pnr}`);
    const person = {
      hsaId: r.hsaId,
      personalNumber: parsed.value.personalNumber,
      givenName: r.givenName,
      surname: r.surname,
      branchId: 'clinic',
      protectedIdentity: false,
      createdAt: now,
    };
    await insertPerson(db, person);
    const order = registerOrder({
      id: r.orderId,
      person,
      cardNumber: r.reserveCard,
      validity: { notBefore: now, notAfter: now + 7 * 86_400_000 },
      idDocument: 'swedish-driving-licence',
      admin: { hsaId: admin1.hsaId, grants: admin1.grants },
      signature: {
        signedBy: ADMIN1,
        signedAt: now,
        assuranceLevel: 'LoA3',
        certificateSerial: signCert.serial,
      },
      product: { name: 'SITHS reservkort', maxValidityDays: 14 },
      tree: tree.value,
      now,
      cardHolder: () => null,
    });
    if (!order.ok) throw new Error(`fixture order: ${JSON.stringify(order.error)}`);
    await insertOrder(db, order.value);
  }
  // The recipients' reserve cards, sealed in the stock of the workstation's station (`region`).
  await stockTestCards(
    db,
    recipients.map((r) => r.reserveCard),
    'region',
    now,
  );
};

const ADMIN_NAMES: Record<string, { card: CardNumber; surname: string }> = {
  [ADMIN2]: { card: ADMIN2_CARD, surname: 'Två' },
  [ADMIN3]: { card: ADMIN3_CARD, surname: 'Tre' },
};

/** An administrator's login card (keys on the card, certificates from the data folder's CA). */
export const provisionAdminCard = async (
  ws: Workstation,
  ca: CertificateAuthority,
  admin: HsaId,
): Promise<CardNumber> => {
  const known = ADMIN_NAMES[admin];
  if (known === undefined) throw new Error(`no card for ${admin}`);
  await provisionCard(ws.cards, ca, {
    hsaId: admin,
    givenName: 'Admin',
    surname: known.surname,
    cardNumber: known.card,
  });
  return known.card;
};

/** A blank reserve card at the workstation, with the PINs the recipient chooses. */
export const addReserveCard = async (ws: Workstation, recipient: Recipient): Promise<void> => {
  await ws.cards.createCard({ cardNumber: recipient.reserveCard, ...RESERVE_PINS });
  await giveTestBureauKeys(ws.cards, ws.ca);
};

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** When the process was spawned and when it first answered, by this process's clock. */
  readonly spawnedAt: number;
  readonly readyAt: number;
  output(): string;
  /** SIGKILL: no shutdown, no cleanup; resolves once the process is gone. */
  kill(): Promise<NodeJS.Signals | null>;
  /** SIGTERM, the orderly stop; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

/**
 * `reservkort --data ROOT serve --port 0 [serveArgs…]` as a child process; resolves when it printed
 * its URL and GET /health answered 200.
 */
export const startServerProcess = async (
  root: string,
  databaseUrl?: string,
  timeoutMs = 30_000,
  serveArgs: readonly string[] = [],
): Promise<ServerProcess> => {
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [BIN, '--data', root, 'serve', '--port', '0', ...serveArgs], {
    env: childEnv(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const gone = exited(child);
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return (await gone).signal;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), timeoutMs);
      const look = () => {
        const match = /på (http:\/\/localhost:\d+)/.exec(out);
        if (match?.[1]) {
          clearTimeout(timer);
          child.stdout?.off('data', look);
          resolve(match[1].replace('localhost', '127.0.0.1'));
        }
      };
      child.stdout?.on('data', look);
      void gone.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`server exited (${code ?? signal}) before listening:\n${out}`));
      });
    });
    const health = await fetch(`${url}/health`);
    if (health.status !== 200) throw new Error(`GET /health: ${health.status}`);
    const readyAt = Date.now();
    return {
      url,
      child,
      spawnedAt,
      readyAt,
      output: () => out,
      kill,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        return (await gone).code;
      },
    };
  } catch (error) {
    await kill();
    throw error;
  }
};
