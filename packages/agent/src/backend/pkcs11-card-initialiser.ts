// A blank reserve card as a card bureau delivers it, made through PKCS#11 itself: the token
// initialised with the card number as its label and the PUK as its SO PIN (C_InitToken), the user
// PIN set (C_InitPIN), and the card number in a public, read-only data object (C_CreateObject) for modules
// whose labels cannot carry it. What Pkcs11Backend reads back as a card.
import { type CardNumber, parseCardNumber } from '@reservkort/domain';
import { acquireModule, releaseModule, type SharedModule } from '@reservkort/pkcs11';
import type { PKCS11, Template } from 'pkcs11js';
import pkcs11js from 'pkcs11js';
import { AgentError, isAgentError } from '../agent-error.js';
import { type KeyAttributes, PIN_PATTERN, PUK_PATTERN, type ReaderId } from './card-backend.js';
import { CARD_NUMBER_OBJECT_LABEL } from './pkcs11-backend.js';
import { installBureauKey } from './pkcs11-bureau-key.js';
import { ckrCode, ckrName, PIN_SHAPE_CODES } from './pkcs11-errors.js';

/** Which token to initialise: a slot, or the token that has a label now. */
export type CardInitTarget = { readonly slot: string } | { readonly tokenLabel: string };

export interface CardInitOptions {
  /** Path of the card vendor's PKCS#11 module. */
  readonly module: string;
  readonly target: CardInitTarget;
  readonly cardNumber: CardNumber;
  /** The token label; the card number when not given. */
  readonly label?: string;
  /** PIN 1, the token's user PIN (PIN 2 is the same on a one-PIN token). */
  readonly pin: string;
  /** The PUK, the token's SO PIN. */
  readonly puk: string;
  /** Wipe a token that is already initialised (its keys, certificates and card number go). */
  readonly force?: boolean;
  /**
   * Issues the 'card-bureau' certificate for the card's bureau key from its public key (SPKI DER).
   * Given, the bureau key pair is generated on the card and the certificate written next to it.
   */
  readonly certifyBureauKey?: (spki: Uint8Array) => Promise<Uint8Array>;
}

/** The bureau key as written on the card: its certificate and the attributes read back from the token. */
export interface BureauKeyWritten {
  readonly spki: Uint8Array;
  readonly certificate: Uint8Array;
  readonly attributes: KeyAttributes;
}

export interface InitialisedCard {
  readonly cardNumber: CardNumber;
  /** The slot as the agent names it at the time of initialisation. */
  readonly slot: ReaderId;
  readonly slotDescription: string;
  readonly label: string;
  readonly serial: string;
  /** The card number the token held before (only with force), or null. */
  readonly replaced: CardNumber | null;
  /** Whether the token was initialised before (only with force). */
  readonly wasInitialised: boolean;
  /** The bureau key, when `certifyBureauKey` was given. */
  readonly bureauKey: BureauKeyWritten | null;
}

/** The word for "the first slot whose token was never initialised" (a new card; SoftHSM2's free slot). */
export const FREE_SLOT = 'free';

/** PKCS#11 token labels are 32 bytes, blank-padded (v2.40 §3.2, CK_TOKEN_INFO). */
const LABEL_BYTES = 32;

const agentError = (code: AgentError['code'], message: string, details: AgentError['details'] = {}) =>
  new AgentError(code, message, details);

/** CK_SLOT_ID as the agent prints it: `slot-N`, N the unsigned little-endian value in decimal. */
const slotIdOf = (handle: Buffer): ReaderId => {
  let value = 0n;
  for (let i = handle.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(handle[i] ?? 0);
  return `slot-${value}`;
};

/** `slot-N`, `N` or `0xN` as the agent's `slot-N`; null when it is none of these. */
export const normaliseSlotId = (text: string): ReaderId | null => {
  const match = /^(?:slot-)?(\d+|0x[0-9a-f]+)$/i.exec(text.trim());
  return match?.[1] === undefined ? null : `slot-${BigInt(match[1])}`;
};

/** Refuses what would make a card the agent cannot read or the rules do not allow. */
export const checkCardInitOptions = (options: CardInitOptions): void => {
  if (!parseCardNumber(options.cardNumber).ok)
    throw agentError('REQUEST_INVALID', `not a card number: ${options.cardNumber}`, {
      reason: 'card-number',
    });
  if (!PIN_PATTERN.test(options.pin))
    throw agentError('PIN_FORMAT', 'PIN 1 is four to eight digits', { pin: 'pin1' });
  if (!PUK_PATTERN.test(options.puk))
    throw agentError('PIN_FORMAT', 'the PUK is eight digits', { pin: 'puk' });
  const label = options.label ?? options.cardNumber;
  if (label.trim() === '' || Buffer.byteLength(label) > LABEL_BYTES || label !== label.trim()) {
    throw agentError(
      'REQUEST_INVALID',
      `a token label is 1–${LABEL_BYTES} bytes without blanks at the ends`,
      {
        reason: 'label',
      },
    );
  }
  if (
    'slot' in options.target &&
    options.target.slot !== FREE_SLOT &&
    normaliseSlotId(options.target.slot) === null
  ) {
    throw agentError('REQUEST_INVALID', `--slot takes a slot id (e.g. 0, 0x1f, slot-31) or ${FREE_SLOT}`, {
      reason: 'slot',
    });
  }
};

interface Candidate {
  readonly handle: Buffer;
  readonly id: ReaderId;
  readonly description: string;
  readonly token: pkcs11js.TokenInfo | null;
}

const has = (flags: number, flag: number): boolean => (flags & flag) !== 0;
// A slot flag of PKCS#11 v2.40 §3.2 that pkcs11js has at run time but not in its typings.
const CKF_TOKEN_PRESENT = 0x1;

const candidates = (lib: PKCS11): Candidate[] =>
  lib.C_GetSlotList(false).map((handle) => {
    const info = lib.C_GetSlotInfo(handle);
    let token: pkcs11js.TokenInfo | null = null;
    if (has(info.flags, CKF_TOKEN_PRESENT)) {
      try {
        token = lib.C_GetTokenInfo(handle);
      } catch {
        token = null; // an empty reader, or a card the module cannot read: no token to use
      }
    }
    return { handle, id: slotIdOf(handle), description: info.slotDescription.trim(), token };
  });

const choose = (lib: PKCS11, target: CardInitTarget): Candidate & { token: pkcs11js.TokenInfo } => {
  const all = candidates(lib);
  let chosen: Candidate | undefined;
  if ('tokenLabel' in target) {
    const matching = all.filter((c) => c.token?.label.trim() === target.tokenLabel);
    if (matching.length > 1) {
      throw agentError(
        'REQUEST_INVALID',
        `${matching.length} tokens are labelled ${target.tokenLabel}: give --slot`,
        {
          reason: 'label-ambiguous',
        },
      );
    }
    chosen = matching[0];
    if (chosen === undefined)
      throw agentError('CARD_MISSING', `no token labelled ${target.tokenLabel}`, {
        label: target.tokenLabel,
        reader: target.tokenLabel,
      });
  } else if (target.slot === FREE_SLOT) {
    chosen = all.find((c) => c.token !== null && !has(c.token.flags, pkcs11js.CKF_TOKEN_INITIALIZED));
    if (chosen === undefined)
      throw agentError('CARD_MISSING', 'no slot holds a token that was never initialised', {
        reader: FREE_SLOT,
      });
  } else {
    const id = normaliseSlotId(target.slot);
    chosen = all.find((c) => c.id === id);
    if (chosen === undefined) {
      throw agentError(
        'READER_NOT_FOUND',
        `no slot ${target.slot} (there are: ${all.map((c) => c.id).join(', ') || 'none'})`,
        {
          reader: target.slot,
        },
      );
    }
  }
  const token = chosen.token;
  if (token === null) throw agentError('CARD_MISSING', `no card in ${chosen.id}`, { reader: chosen.id });
  return { ...chosen, token };
};

/**
 * The card-number object: public, because the agent reads the number before anyone has typed a
 * PIN, and read-only, because a public object could otherwise be rewritten or deleted in a session
 * without any PIN. Not modifiable and not destroyable (PKCS#11 v2.40): only re-initialising the
 * token with its SO PIN (the PUK) removes it. A module that does not know CKA_DESTROYABLE (older
 * than v2.40) gets the object without it, still not modifiable.
 */
const writeCardNumberObject = (lib: PKCS11, session: Buffer, cardNumber: CardNumber): void => {
  const template: Template = [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
    { type: pkcs11js.CKA_TOKEN, value: true },
    { type: pkcs11js.CKA_PRIVATE, value: false },
    { type: pkcs11js.CKA_MODIFIABLE, value: false },
    { type: pkcs11js.CKA_LABEL, value: CARD_NUMBER_OBJECT_LABEL },
    { type: pkcs11js.CKA_APPLICATION, value: 'reservkort' },
    { type: pkcs11js.CKA_VALUE, value: Buffer.from(cardNumber, 'latin1') },
  ];
  try {
    lib.C_CreateObject(session, [...template, { type: pkcs11js.CKA_DESTROYABLE, value: false }]);
  } catch (error) {
    if (ckrCode(error) !== pkcs11js.CKR_ATTRIBUTE_TYPE_INVALID) throw error;
    lib.C_CreateObject(session, template);
  }
};

/** The card number an initialised token already carries, in its label or its public data object. */
const cardNumberOn = (
  lib: PKCS11,
  candidate: Candidate & { token: pkcs11js.TokenInfo },
): CardNumber | null => {
  const fromLabel = parseCardNumber(candidate.token.label.trim());
  if (fromLabel.ok) return fromLabel.value;
  const session = lib.C_OpenSession(candidate.handle, pkcs11js.CKF_SERIAL_SESSION);
  try {
    lib.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_DATA },
      { type: pkcs11js.CKA_LABEL, value: CARD_NUMBER_OBJECT_LABEL },
    ]);
    const objects = lib.C_FindObjects(session, 8);
    lib.C_FindObjectsFinal(session);
    for (const object of objects) {
      const [value] = lib.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_VALUE }]);
      const parsed = parseCardNumber((value?.value ?? Buffer.alloc(0)).toString('latin1').trim());
      if (parsed.ok) return parsed.value;
    }
    return null;
  } finally {
    lib.C_CloseSession(session);
  }
};

/** What the module said, as the agent's codes: PIN and PUK problems by name, the rest CARD_ERROR. */
const translate = (error: unknown, what: 'puk' | 'pin1' | 'card'): AgentError => {
  if (isAgentError(error)) return error;
  const code = ckrCode(error);
  if (code !== null && PIN_SHAPE_CODES.has(code) && what !== 'card')
    return agentError('PIN_FORMAT', `the module refuses this ${what === 'puk' ? 'PUK' : 'PIN'}`, {
      pin: what,
    });
  if (code === pkcs11js.CKR_PIN_INCORRECT && what === 'puk') {
    return agentError(
      'PUK_INCORRECT',
      'the token has another SO PIN: re-initialising needs the PUK it has now',
    );
  }
  if (code === pkcs11js.CKR_PIN_LOCKED) return agentError('CARD_LOCKED', 'the token is locked');
  if (code === pkcs11js.CKR_FUNCTION_NOT_SUPPORTED) {
    return agentError(
      'CARD_ERROR',
      "the module cannot initialise tokens (CKR_FUNCTION_NOT_SUPPORTED): use the card vendor's personalisation tool",
      { reason: ckrName(error) },
    );
  }
  return agentError('CARD_ERROR', `the token answered ${ckrName(error)}`, { reason: ckrName(error) });
};

const step = <T>(what: 'puk' | 'pin1' | 'card', work: () => T): T => {
  try {
    return work();
  } catch (error) {
    throw translate(error, what);
  }
};

const initialise = async (module: SharedModule, options: CardInitOptions): Promise<InitialisedCard> => {
  const lib = module.lib;
  const chosen = step('card', () => choose(lib, options.target));
  const wasInitialised = has(chosen.token.flags, pkcs11js.CKF_TOKEN_INITIALIZED);
  const replaced = wasInitialised ? step('card', () => cardNumberOn(lib, chosen)) : null;
  if (wasInitialised && options.force !== true) {
    const what = replaced === null ? `token ${chosen.token.label.trim()}` : `card ${replaced}`;
    throw agentError('CARD_ERROR', `${chosen.id} already holds ${what}; --force wipes it`, {
      reason: 'ALREADY_INITIALISED',
      readerId: chosen.id,
      cardNumber: replaced ?? '',
    });
  }
  const label = options.label ?? options.cardNumber;
  step('puk', () => lib.C_InitToken(chosen.handle, options.puk, label.padEnd(LABEL_BYTES, ' ')));
  const session = step('card', () =>
    lib.C_OpenSession(chosen.handle, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION),
  );
  let bureauKey: BureauKeyWritten | null = null;
  try {
    step('puk', () => lib.C_Login(session, pkcs11js.CKU_SO, options.puk));
    step('pin1', () => lib.C_InitPIN(session, options.pin));
    step('card', () => lib.C_Logout(session));
    // A token object of a one-PIN token is written by its user: the PIN just set proves it works.
    step('pin1', () => lib.C_Login(session, pkcs11js.CKU_USER, options.pin));
    step('card', () => writeCardNumberObject(lib, session, options.cardNumber));
    const certify = options.certifyBureauKey;
    if (certify !== undefined)
      bureauKey = await stepAsync('card', () => installBureauKey(lib, session, certify));
  } finally {
    try {
      lib.C_Logout(session);
    } catch {
      // Not logged in after a failure: nothing to undo.
    }
    lib.C_CloseSession(session);
  }
  const token = step('card', () => lib.C_GetTokenInfo(chosen.handle));
  return {
    cardNumber: options.cardNumber,
    slot: chosen.id,
    slotDescription: chosen.description,
    label: token.label.trim(),
    serial: token.serialNumber.trim(),
    replaced,
    wasInitialised,
    bureauKey,
  };
};

/** Like `step`, for work that also calls the CA: only the token's own errors are translated. */
const stepAsync = async <T>(what: 'puk' | 'pin1' | 'card', work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (error) {
    throw ckrCode(error) === null ? error : translate(error, what);
  }
};

/**
 * Initialises the token in a slot as a blank reserve card. Refuses a token that was initialised
 * before unless `force` (it may be somebody's card, or the CA's token); re-initialising needs the
 * token's current SO PIN, which PKCS#11 checks.
 */
export const initialisePkcs11Card = async (options: CardInitOptions): Promise<InitialisedCard> => {
  checkCardInitOptions(options);
  let module: SharedModule;
  try {
    module = acquireModule(options.module);
  } catch (cause) {
    throw new AgentError(
      'CARD_ERROR',
      `PKCS#11 module ${options.module} could not be loaded`,
      { reason: ckrCode(cause) === null ? 'MODULE_LOAD' : ckrName(cause) },
      { cause },
    );
  }
  try {
    return await module.exclusive(() => initialise(module, options));
  } finally {
    releaseModule(module);
  }
};

/**
 * Writes (or replaces) the bureau key on a card that is already initialised, PIN 1 authorising
 * it: for cards made before the card bureau wrote one, and for tests.
 */
export const writePkcs11BureauKey = async (options: {
  readonly module: string;
  readonly target: CardInitTarget;
  readonly pin: string;
  readonly certify: (spki: Uint8Array) => Promise<Uint8Array>;
}): Promise<BureauKeyWritten> => {
  if (!PIN_PATTERN.test(options.pin))
    throw agentError('PIN_FORMAT', 'PIN 1 is four to eight digits', { pin: 'pin1' });
  const module = acquireModule(options.module);
  try {
    return await module.exclusive(async () => {
      const lib = module.lib;
      const chosen = step('card', () => choose(lib, options.target));
      const session = step('card', () =>
        lib.C_OpenSession(chosen.handle, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION),
      );
      try {
        step('pin1', () => lib.C_Login(session, pkcs11js.CKU_USER, options.pin));
        return await stepAsync('card', () => installBureauKey(lib, session, options.certify));
      } finally {
        try {
          lib.C_Logout(session);
        } catch {
          // Not logged in after a failure: nothing to undo.
        }
        lib.C_CloseSession(session);
      }
    });
  } finally {
    releaseModule(module);
  }
};
