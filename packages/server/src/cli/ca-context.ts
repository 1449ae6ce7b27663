import type { Clock } from '@reservkort/domain';
import {
  type CaKeyStore,
  type CaSettings,
  CertificateAuthority,
  DEFAULT_CA_SETTINGS,
  FileKeyStore,
  type KeySpec,
  Pkcs11KeyStore,
  PkiError,
} from '@reservkort/pki';
import { migrateToLatest, openStore, type Store, type StoreConfig } from '@reservkort/store';
import {
  type DataFolder,
  databaseUrl,
  prepareDataFolder,
  readJson,
  readSecret,
  writeJson,
} from '../config/data-folder.js';

/** What `ca init` chose, kept in the data folder (no secrets) so later commands open the same CA. */
export interface CaSettingsFile {
  readonly keyStore:
    | { readonly kind: 'file' }
    | { readonly kind: 'pkcs11'; readonly module: string; readonly tokenLabel: string };
  readonly keySpec: KeySpec;
  readonly settings: CaSettings;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Opens the store of a data folder (or the configured database) and brings its schema up to date;
 * refuses a data folder others may read.
 */
export const openDataStore = async (
  folder: DataFolder,
  configuredUrl?: string,
  options: Pick<StoreConfig, 'backgroundCheckpoints'> = {},
): Promise<Store> => {
  await prepareDataFolder(folder);
  const store = await openStore({ url: await databaseUrl(folder, configuredUrl), ...options });
  await migrateToLatest(store.db);
  return store;
};

/** The key store a settings file describes, with its secret from the environment or `secrets/`. */
export const openKeyStore = async (
  folder: DataFolder,
  keyStore: CaSettingsFile['keyStore'],
  create: boolean,
): Promise<{ keyStore: CaKeyStore; createdSecret: string | null }> => {
  if (keyStore.kind === 'pkcs11') {
    const pin = await readSecret(folder, 'RESERVKORT_PKCS11_PIN', 'pkcs11-pin', false);
    if (pin === null) {
      throw new PkiError('CA_KEY_UNAVAILABLE', 'set RESERVKORT_PKCS11_PIN to the CA token PIN', {
        ca: keyStore.tokenLabel,
        reason: 'no PIN',
      });
    }
    return { keyStore: Pkcs11KeyStore.open({ ...keyStore, pin: pin.value }), createdSecret: null };
  }
  const passphrase = await readSecret(folder, 'RESERVKORT_CA_PASSPHRASE', 'ca-passphrase', create);
  if (passphrase === null) {
    throw new PkiError(
      'CA_KEY_UNAVAILABLE',
      'set RESERVKORT_CA_PASSPHRASE or restore secrets/ca-passphrase',
      {
        ca: 'root',
        reason: 'no passphrase',
      },
    );
  }
  return { keyStore: new FileKeyStore(folder.caKeys, passphrase.value), createdSecret: passphrase.createdAt };
};

export const readCaSettings = (folder: DataFolder): Promise<CaSettingsFile | null> =>
  readJson<CaSettingsFile>(folder.caSettings);

export const writeCaSettings = (folder: DataFolder, settings: CaSettingsFile): Promise<void> =>
  writeJson(folder.caSettings, settings);

/** Opens the CA of a data folder: settings, keys, store. */
export const openCa = async (
  folder: DataFolder,
  store: Store,
  clock: Clock = systemClock,
): Promise<CertificateAuthority> => {
  const file = await readCaSettings(folder);
  if (file === null)
    throw new PkiError('CA_NOT_INITIALISED', `no CA in ${folder.root}: run reservkort ca init`, {
      ca: 'root',
    });
  const { keyStore } = await openKeyStore(folder, file.keyStore, false);
  return CertificateAuthority.open({
    db: store.db,
    keyStore,
    clock,
    settings: { ...DEFAULT_CA_SETTINGS, ...file.settings },
  });
};
