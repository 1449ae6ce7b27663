// The station token as the command line names it. The PIN never comes from the command line
// (other users of the computer can read it there): from RESERVKORT_STATION_PIN, or from a file
// only its owner can read.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { stationKeyUnavailable } from './station-key-store.js';
import type { StationTokenConfig } from './station-token-key.js';

export const STATION_PIN_ENV = 'RESERVKORT_STATION_PIN';

export interface StationTokenOptions {
  readonly stationPkcs11Module?: string;
  readonly stationToken?: string;
  readonly stationPinFile?: string;
  /** The card vendor's module, which the station token must not share (see below). */
  readonly pkcs11Module?: string;
}

const readPinFile = (path: string): string => {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (cause) {
    throw stationKeyUnavailable('pin file missing', `the station PIN file ${path} cannot be read`, cause);
  }
  if ((mode & 0o077) !== 0) {
    throw stationKeyUnavailable(
      'pin file open to others',
      `the station PIN file ${path} must be mode 0600 or stricter`,
    );
  }
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
};

/** The configured station token, or null for the key file; errors name the missing piece. */
export const stationTokenConfig = (
  options: StationTokenOptions,
  env: NodeJS.ProcessEnv = process.env,
): StationTokenConfig | null => {
  const { stationPkcs11Module: module, stationToken: tokenLabel } = options;
  if (module === undefined && tokenLabel === undefined) {
    if (options.stationPinFile !== undefined)
      throw new Error('--station-pin-file needs --station-pkcs11-module and --station-token');
    return null;
  }
  if (module === undefined || tokenLabel === undefined)
    throw new Error('--station-pkcs11-module and --station-token go together');
  // The card backend takes every token of its module for a card in a reader: the station's token
  // would show up as one, and the backend's re-initialisations would keep ending its login.
  if (options.pkcs11Module !== undefined && resolve(options.pkcs11Module) === resolve(module))
    throw new Error('the station token needs a module of its own, not the card module (--pkcs11-module)');
  const pin =
    options.stationPinFile !== undefined ? readPinFile(options.stationPinFile) : env[STATION_PIN_ENV];
  if (pin === undefined || pin === '') {
    throw stationKeyUnavailable(
      'pin missing',
      `the station token's PIN is missing: set ${STATION_PIN_ENV} or give --station-pin-file`,
    );
  }
  return { module, tokenLabel, pin };
};
