import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Where a Reservkort installation keeps its files; every command and the server share it. */
export interface DataFolder {
  readonly root: string;
  readonly sqliteFile: string;
  readonly caKeys: string;
  readonly caSettings: string;
  readonly secrets: string;
  /** The newest signed audit checkpoint, unless configured elsewhere; ship it off this machine. */
  readonly auditCheckpoint: string;
}

export const dataFolder = (dir: string | undefined): DataFolder => {
  const root = resolve(dir ?? process.env.RESERVKORT_DATA ?? 'data');
  return {
    root,
    sqliteFile: join(root, 'reservkort.db'),
    caKeys: join(root, 'ca'),
    caSettings: join(root, 'ca', 'ca.json'),
    secrets: join(root, 'secrets'),
    auditCheckpoint: join(root, 'audit-checkpoint.pem'),
  };
};

/** The data folder may be read or written by others: the start stops, as ssh does for a key. */
export class DataFolderError extends Error {
  override readonly name = 'DataFolderError';
  readonly code = 'DATA_FOLDER_OPEN';
  constructor(
    readonly path: string,
    readonly mode: number,
  ) {
    const octal = mode.toString(8).padStart(4, '0');
    super(
      `permissions ${octal} of the data folder ${path} are too open: it holds the CA keys, secrets and personal data; run chmod 700 ${path}`,
    );
  }
}

/**
 * Creates the data folder for its owner only (0700), or refuses one that group or others may read,
 * write or enter. Everything in it is created 0700 (folders) and 0600 (files) by whoever writes it.
 */
export const prepareDataFolder = async (folder: DataFolder): Promise<void> => {
  await mkdir(folder.root, { recursive: true, mode: 0o700 });
  const { mode } = await stat(folder.root);
  if ((mode & 0o077) !== 0) throw new DataFolderError(folder.root, mode & 0o7777);
};

/**
 * A secret from the environment, else from a file in the data folder's `secrets/`; created with a
 * random value (0600) when `create` is set, so training mode needs no set-up.
 */
export const readSecret = async (
  folder: DataFolder,
  envName: string,
  fileName: string,
  create: boolean,
): Promise<{ value: string; createdAt: string | null } | null> => {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, createdAt: null };
  const path = join(folder.secrets, fileName);
  try {
    return { value: (await readFile(path, 'utf8')).trim(), createdAt: null };
  } catch {
    if (!create) return null;
  }
  await mkdir(folder.secrets, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  await writeFile(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, createdAt: path };
};

/**
 * The database: DATABASE_URL, else `secrets/database-url` (either may hold a password), else the
 * configuration file's URL (never a password), else the SQLite file in the data folder.
 */
export const databaseUrl = async (folder: DataFolder, configured?: string): Promise<string> => {
  const secret = await readSecret(folder, 'DATABASE_URL', 'database-url', false);
  return secret?.value || configured || `sqlite:${folder.sqliteFile}`;
};

export const readJson = async <T>(path: string): Promise<T | null> => {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
};

export const writeJson = async (path: string, value: unknown): Promise<void> => {
  await mkdir(resolve(path, '..'), { recursive: true, mode: 0o700 });
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
};
