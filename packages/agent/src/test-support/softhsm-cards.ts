// SoftHSM2 tokens made to look like the reserve cards a card bureau delivers: the card number in
// the label and in a 'card-number' data object, the PIN and the PUK (the SO PIN) from the envelope.
// And a card taken out of its reader and put back, which SoftHSM2 has no notion of.
//
// What SoftHSM2 (2.6) does when a token directory moves away, found by experiment: the module keeps
// the token list it read at C_Initialize, and C_GetSlotList does not re-scan it. The slot of a
// removed token stays listed (CKF_TOKEN_PRESENT still set) but C_GetTokenInfo, C_Login and object
// searches answer CKR_GENERAL_ERROR, and a new session on it CKR_TOKEN_NOT_RECOGNIZED. Putting the
// directory back does not heal the slot: it keeps answering CKR_GENERAL_ERROR until C_Finalize +
// C_Initialize, after which the token is back in a slot with the same id (SoftHSM2 derives slot ids
// from token serials). After a re-initialisation without the directory the slot is gone. The
// backend therefore re-initialises the module when a token answers like that, or while a card it
// saw go away is still away (see Pkcs11Backend.scan).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pkcs11Tool, type SoftHsm } from '../../../pki/src/test-support/softhsm.js';
import { CARD_NUMBER_OBJECT_LABEL } from '../backend/pkcs11-backend.js';

const run = promisify(execFile);

export interface CardTokenOptions {
  readonly cardNumber: string;
  readonly pin1: string;
  /** Becomes the token's SO PIN. */
  readonly puk: string;
  /** The token label; the card number when not given (labels hold 32 characters, numbers 19). */
  readonly label?: string;
  /** Write the 'card-number' data object too (default true). */
  readonly numberObject?: boolean;
}

export interface CardToken {
  readonly cardNumber: string;
  readonly label: string;
  /** The token's directory name under the SoftHSM2 token directory. */
  readonly directory: string;
}

const tokenDir = (hsm: SoftHsm): string => join(hsm.dir, 'tokens');
const removedDir = (hsm: SoftHsm): string => join(hsm.dir, 'removed');
const softHsmEnv = (hsm: SoftHsm) => ({ ...process.env, SOFTHSM2_CONF: join(hsm.dir, 'softhsm2.conf') });

/** Initialises a token as a card: `softhsm2-util --init-token --free`, then the number object. */
export const createCardToken = async (hsm: SoftHsm, options: CardTokenOptions): Promise<CardToken> => {
  const label = options.label ?? options.cardNumber;
  const before = new Set(await readdir(tokenDir(hsm)));
  await run(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', options.puk, '--pin', options.pin1],
    { env: softHsmEnv(hsm) },
  );
  const directory = (await readdir(tokenDir(hsm))).find((name) => !before.has(name));
  if (directory === undefined) throw new Error(`softhsm2-util made no token directory for ${label}`);
  if (options.numberObject ?? true) {
    const scratch = await mkdtemp(join(tmpdir(), 'reservkort-card-'));
    try {
      const file = join(scratch, 'card-number');
      await writeFile(file, options.cardNumber);
      // Public (no --private), so that the number reads without a PIN, as the agent needs it.
      await pkcs11Tool(hsm, [
        '--token-label',
        label,
        '--login',
        '--pin',
        options.pin1,
        '--write-object',
        file,
        '--type',
        'data',
        '--label',
        CARD_NUMBER_OBJECT_LABEL,
      ]);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return { cardNumber: options.cardNumber, label, directory };
};

/** The token directory (under `parent`) whose files carry the card number (label or data object). */
const findTokenDirectory = async (parent: string, cardNumber: string): Promise<string | null> => {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return null;
  }
  for (const name of names) {
    let files: string[];
    try {
      files = await readdir(join(parent, name));
    } catch {
      continue;
    }
    for (const file of files) {
      // Public attributes are stored in the clear, so the number is found as it is.
      if ((await readFile(join(parent, name, file))).includes(cardNumber)) return name;
    }
  }
  return null;
};

/** Takes the card out: its token directory moves out of SoftHSM2's token directory. */
export const removeCardToken = async (hsm: SoftHsm, cardNumber: string): Promise<void> => {
  const name = await findTokenDirectory(tokenDir(hsm), cardNumber);
  if (name === null) throw new Error(`no token for card ${cardNumber} in ${tokenDir(hsm)}`);
  await mkdir(removedDir(hsm), { recursive: true });
  await rename(join(tokenDir(hsm), name), join(removedDir(hsm), name));
};

/** Puts the card back where `removeCardToken` took it from. */
export const restoreCardToken = async (hsm: SoftHsm, cardNumber: string): Promise<void> => {
  const name = await findTokenDirectory(removedDir(hsm), cardNumber);
  if (name === null) throw new Error(`card ${cardNumber} was not taken out`);
  await rename(join(removedDir(hsm), name), join(tokenDir(hsm), name));
};
