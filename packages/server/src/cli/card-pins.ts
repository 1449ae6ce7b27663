// A card's PINs for the card commands: from the environment or a file, never from the command
// line, where every user of the machine can read them (ps, /proc/PID/cmdline, shell history).
import { readFile, stat } from 'node:fs/promises';
import { PIN_PATTERN, PUK_PATTERN } from '@reservkort/agent';
import { type Command, Option } from 'commander';
import { CliError } from './cli-error.js';

export const PIN_ENV = {
  pin1: 'RESERVKORT_CARD_PIN',
  pin2: 'RESERVKORT_CARD_PIN2',
  puk: 'RESERVKORT_CARD_PUK',
} as const;

export type PinName = keyof typeof PIN_ENV;

export interface CardPins {
  readonly pin1: string;
  /** PIN 2; on a PKCS#11 token with one user PIN it is PIN 1 given again. */
  readonly pin2: string;
  readonly puk: string | null;
}

/** Names a pins file may use for each PIN (one `name=value` a line, `#` comments). */
const FILE_NAMES: Readonly<Record<string, PinName>> = { pin: 'pin1', pin1: 'pin1', pin2: 'pin2', puk: 'puk' };

/** Options that would put a PIN on the command line: accepted by the parser only to be refused. */
const ARGV_PIN_OPTIONS = ['--pin <pin>', '--pin1 <pin>', '--pin2 <pin>', '--puk <puk>', '--so-pin <pin>'];

export const refusePinsOnCommandLine = (command: Command): Command => {
  for (const flags of ARGV_PIN_OPTIONS) command.addOption(new Option(flags).hideHelp());
  return command;
};

export const assertNoPinsOnCommandLine = (options: Record<string, unknown>): void => {
  const given = ['pin', 'pin1', 'pin2', 'puk', 'soPin'].filter((name) => options[name] !== undefined);
  if (given.length === 0) return;
  throw new CliError(
    'REQUEST_INVALID',
    `PINs are never read from the command line, where ps shows them: set ${PIN_ENV.pin1} and ${PIN_ENV.puk}, or give --pins-file`,
    { reason: 'pin-on-command-line' },
  );
};

const parsePinsFile = async (path: string): Promise<Partial<Record<PinName, string>>> => {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch {
    throw new CliError('REQUEST_INVALID', `no pins file ${path}`, { reason: 'pins-file' });
  }
  if ((mode & 0o077) !== 0) {
    throw new CliError('REQUEST_INVALID', `${path} may be read by others: chmod 600 ${path}`, {
      reason: 'pins-file-mode',
    });
  }
  const found: Partial<Record<PinName, string>> = {};
  const lines = (await readFile(path, 'utf8')).split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z0-9_]+)\s*[=:]\s*(\S*)$/.exec(line);
    const name = match?.[1] === undefined ? undefined : FILE_NAMES[match[1].toLowerCase()];
    // The line itself is never echoed: it may hold a PIN.
    if (match === null || name === undefined) {
      throw new CliError('REQUEST_INVALID', `${path} line ${index + 1}: expected pin=…, pin2=… or puk=…`, {
        reason: 'pins-file',
      });
    }
    found[name] = match[2] ?? '';
  }
  return found;
};

/**
 * The PINs from `--pins-file` when given, else from the environment, checked against the card
 * rules: PIN 1 (and PIN 2) four to eight digits, the PUK eight digits. The PUK is only asked for
 * where the command needs it.
 */
export const readCardPins = async (pinsFile: string | undefined, needPuk: boolean): Promise<CardPins> => {
  const source = pinsFile === undefined ? null : await parsePinsFile(pinsFile);
  const value = (name: PinName): string | undefined => {
    const found = source === null ? process.env[PIN_ENV[name]] : source[name];
    return found === undefined || found === '' ? undefined : found;
  };
  const where = (name: PinName) =>
    source === null ? `set ${PIN_ENV[name]}` : `add ${name === 'pin1' ? 'pin' : name}=… to ${pinsFile}`;
  const pin1 = value('pin1');
  if (pin1 === undefined)
    throw new CliError('REQUEST_INVALID', `no PIN 1: ${where('pin1')}`, { reason: 'pin-missing' });
  if (!PIN_PATTERN.test(pin1))
    throw new CliError('PIN_FORMAT', 'PIN 1 is four to eight digits', { pin: 'pin1' });
  const pin2 = value('pin2') ?? pin1;
  if (!PIN_PATTERN.test(pin2))
    throw new CliError('PIN_FORMAT', 'PIN 2 is four to eight digits', { pin: 'pin2' });
  const puk = value('puk') ?? null;
  if (needPuk && puk === null)
    throw new CliError('REQUEST_INVALID', `no PUK: ${where('puk')}`, { reason: 'puk-missing' });
  if (puk !== null && !PUK_PATTERN.test(puk))
    throw new CliError('PIN_FORMAT', 'the PUK is eight digits', { pin: 'puk' });
  return { pin1, pin2, puk };
};
