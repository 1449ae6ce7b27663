// PKCS#11 return values as the backend reads them: which mean "the card is gone", and a name for
// everything else so a CARD_ERROR says what the module answered.
import pkcs11js from 'pkcs11js';

/** The CKR_* code of a pkcs11js error, or null for anything that is not a Cryptoki result. */
export const ckrCode = (error: unknown): number | null => {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' && code !== 0 && error.message.startsWith('CKR_') ? code : null;
};

const CKR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(pkcs11js)
    .filter((entry): entry is [string, number] => entry[0].startsWith('CKR_') && typeof entry[1] === 'number')
    .map(([name, value]) => [value, name]),
);

/** "CKR_PIN_INCORRECT" and the like; the hexadecimal value for a vendor code without a name. */
export const ckrName = (error: unknown): string => {
  const code = ckrCode(error);
  if (code === null) return error instanceof Error ? error.name : 'UNKNOWN';
  return CKR_NAMES.get(code) ?? `CKR_0x${code.toString(16).padStart(8, '0')}`;
};

/** Answers that say the token (or its slot) went away, whatever the module thinks of it. */
export const REMOVAL_CODES: ReadonlySet<number> = new Set([
  pkcs11js.CKR_TOKEN_NOT_PRESENT,
  pkcs11js.CKR_DEVICE_REMOVED,
  pkcs11js.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11js.CKR_SESSION_HANDLE_INVALID,
  pkcs11js.CKR_SESSION_CLOSED,
  pkcs11js.CKR_SLOT_ID_INVALID,
]);

/** Wrong-shaped PINs by the module's own rules (e.g. SoftHSM2's minimum of four characters). */
export const PIN_SHAPE_CODES: ReadonlySet<number> = new Set([
  pkcs11js.CKR_PIN_LEN_RANGE,
  pkcs11js.CKR_PIN_INVALID,
]);

/** Attributes a module may not know or refuse in a template (CKA_ALWAYS_AUTHENTICATE on old modules). */
export const TEMPLATE_CODES: ReadonlySet<number> = new Set([
  pkcs11js.CKR_ATTRIBUTE_TYPE_INVALID,
  pkcs11js.CKR_ATTRIBUTE_VALUE_INVALID,
  pkcs11js.CKR_TEMPLATE_INCONSISTENT,
]);
