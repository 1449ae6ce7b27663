import { isErrorCode } from '../error-code.js';
import { parseCardNumber } from '../identifiers/card-number.js';
import { parseHsaId } from '../identifiers/hsa-id.js';
import { err, ok, type Result } from '../result.js';
import { CARD_OWNERS, type FlowEvent, type FlowEventType, isFlowEventType } from './flow-event.js';

/** The kinds of field an event carries, each with its check. */
type FieldKind =
  | 'reader'
  | 'card'
  | 'card-or-null'
  | 'hsa-id'
  | 'level'
  | 'dialog'
  | 'text'
  | 'boolean'
  | 'serials'
  | 'codes'
  | 'query-kind'
  | 'outcome'
  | 'abort-reason'
  | 'card-refusal'
  | 'flow-order-or-null';

const isCard = (v: unknown): boolean => {
  const parsed = typeof v === 'string' ? parseCardNumber(v) : null;
  return parsed?.ok === true && parsed.value === v;
};
const isHsaId = (v: unknown): boolean => {
  const parsed = typeof v === 'string' ? parseHsaId(v) : null;
  return parsed?.ok === true && parsed.value === v;
};
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const oneOf =
  (...values: readonly unknown[]) =>
  (v: unknown): boolean =>
    values.includes(v);

const CHECKS: { readonly [K in FieldKind]: (v: unknown) => boolean } = {
  reader: oneOf(1, 2),
  card: isCard,
  'card-or-null': (v) => v === null || isCard(v),
  'hsa-id': isHsaId,
  level: oneOf('LoA2', 'LoA3'),
  dialog: oneOf('auth', 'sign'),
  text: (v) => typeof v === 'string' && v.length <= 1000,
  boolean: (v) => typeof v === 'boolean',
  serials: (v) =>
    Array.isArray(v) &&
    v.length <= 10 &&
    v.every((s) => typeof s === 'string' && /^[0-9a-fA-F]{1,40}$/.test(s)),
  codes: (v) => Array.isArray(v) && v.length <= 20 && v.every(isErrorCode),
  'query-kind': oneOf('personal-number', 'hsa-id', 'partial-hsa-id', 'invalid'),
  outcome: oneOf('ok', 'failed'),
  'abort-reason': oneOf('restart', 'logout', 'order-cancelled'),
  'card-refusal': oneOf('CARD_NOT_PROVEN', 'KEYS_NOT_ON_CARD'),
  'flow-order-or-null': (v) =>
    v === null ||
    (isRecord(v) &&
      typeof v.orderId === 'string' &&
      isCard(v.cardNumber) &&
      isHsaId(v.recipientHsaId) &&
      isHsaId(v.admin1HsaId) &&
      typeof v.protectedIdentity === 'boolean'),
};

/** The fields of each event besides `type` and `at`. */
const EVENT_FIELDS: { readonly [T in FlowEventType]: Readonly<Record<string, FieldKind>> } = {
  'reader-plugged': { reader: 'reader' },
  'reader-unplugged': { reader: 'reader' },
  'card-inserted': { reader: 'reader', cardNumber: 'card-or-null' },
  'card-removed': { reader: 'reader' },
  'logged-in': { admin: 'hsa-id', assuranceLevel: 'level', cardNumber: 'card', reader: 'reader' },
  'manage-orders': {},
  searched: { queryKind: 'query-kind', hit: 'flow-order-or-null', codes: 'codes' },
  'order-selected': {},
  signed: { outcome: 'outcome', cardNumber: 'card-or-null' },
  'handover-confirmed': {},
  'handover-verified': { cardNumber: 'card' },
  'terms-accepted': { accepted: 'boolean' },
  'download-requested': {},
  'key-generation-started': {},
  'keys-generated': {},
  'card-refused': { code: 'card-refusal', reason: 'text' },
  'dialog-shown': { dialog: 'dialog' },
  'dialog-completed': { dialog: 'dialog' },
  'dialog-cancelled': { dialog: 'dialog' },
  'dialog-not-shown': { dialog: 'dialog' },
  'issuance-claimed': {},
  'certificates-issued': { serials: 'serials' },
  'certificates-written': {},
  'download-failed': { reason: 'text' },
  acknowledged: { cardNumber: 'card' },
  'deadline-passed': {},
  tick: {},
  aborted: { reason: 'abort-reason' },
};

/**
 * Checks an event that arrived as data (from the page, the agent or a store) field by field.
 * Card numbers and HSA-ids must already be normalised.
 */
export const checkFlowEvent = (value: unknown): Result<FlowEvent> => {
  if (!isRecord(value) || !isFlowEventType(value.type))
    return err('EVENT_OUT_OF_ORDER', { reason: 'unknown-event' });
  if (typeof value.at !== 'number' || !Number.isFinite(value.at)) {
    return err('EVENT_OUT_OF_ORDER', { reason: 'time' });
  }
  for (const [field, kind] of Object.entries(EVENT_FIELDS[value.type])) {
    if (!CHECKS[kind](value[field])) return err('EVENT_OUT_OF_ORDER', { reason: 'field', field });
  }
  // The one optional field: whose card an inserted card is.
  if (value.type === 'card-inserted' && value.owner !== undefined && !oneOf(...CARD_OWNERS)(value.owner))
    return err('EVENT_OUT_OF_ORDER', { reason: 'field', field: 'owner' });
  // Every field has been checked against the event type's shape above.
  return ok(value as FlowEvent);
};
