import type { AssuranceLevel } from '../assurance-level.js';
import type { ErrorCode } from '../error-code.js';
import type { CardNumber } from '../identifiers/card-number.js';
import type { HsaId } from '../identifiers/hsa-id.js';
import type { SearchQuery } from '../identifiers/search-query.js';
import type { Instant } from '../time.js';

/** Which physical reader: 1 and 2 as the agent numbers its slots. */
export type ReaderSlot = 1 | 2;

/** What the flow keeps of the order it works on: no name, no personnummer. */
export interface FlowOrder {
  readonly orderId: string;
  readonly cardNumber: CardNumber;
  readonly recipientHsaId: HsaId;
  readonly admin1HsaId: HsaId;
  readonly protectedIdentity: boolean;
}

export type PinDialog = 'auth' | 'sign';

/** Why the server refused what a card said of itself through the station: not a genuine card, or not card keys. */
export type CardRefusal = 'CARD_NOT_PROVEN' | 'KEYS_NOT_ON_CARD';

/**
 * Whose card a card is, as far as the server knows it (the domain only passes it on): on an
 * earlier order (the previous recipient's, issued or not), the logged-in administrator's own
 * card, another staff member's card, or a card the system does not know.
 */
export const CARD_OWNERS = ['previous-recipient', 'own-login-card', 'staff-card', 'unknown'] as const;

export type CardOwner = (typeof CARD_OWNERS)[number];

/** Why a flow was ended by a person rather than by the rules; `order-cancelled` by the admin portal. */
export type AbortReason = 'restart' | 'logout' | 'order-cancelled';

/**
 * Everything that can happen to an issuance flow. Card and reader events come from the agent;
 * clicks from the page (checked by the server); `tick` and `deadline-passed` from the clock.
 */
export type FlowEvent = { readonly at: Instant } & (
  | { readonly type: 'reader-plugged'; readonly reader: ReaderSlot }
  | { readonly type: 'reader-unplugged'; readonly reader: ReaderSlot }
  /**
   * `cardNumber` is null when the agent could not read a card number from the token; `owner` is
   * the server's word on whose card it is (never the station's).
   */
  | {
      readonly type: 'card-inserted';
      readonly reader: ReaderSlot;
      readonly cardNumber: CardNumber | null;
      readonly owner?: CardOwner;
    }
  | { readonly type: 'card-removed'; readonly reader: ReaderSlot }
  | {
      readonly type: 'logged-in';
      readonly admin: HsaId;
      readonly assuranceLevel: AssuranceLevel;
      readonly cardNumber: CardNumber;
      readonly reader: ReaderSlot;
    }
  | { readonly type: 'manage-orders' }
  /** A step-2 search, diagnosed by `diagnoseSearch`: a hit, or the codes that explain none. */
  | {
      readonly type: 'searched';
      readonly queryKind: SearchQuery['kind'];
      readonly hit: FlowOrder | null;
      readonly codes: readonly ErrorCode[];
    }
  | { readonly type: 'order-selected' }
  /** SIGNERA, after the agent signed with `cardNumber`'s key (`ok`) or failed to (`failed`). */
  | { readonly type: 'signed'; readonly outcome: 'ok' | 'failed'; readonly cardNumber: CardNumber | null }
  /** BEKRÄFTA ÖVERLÄMNING clicked; the agent then re-reads the card (`handover-verified`). */
  | { readonly type: 'handover-confirmed' }
  | { readonly type: 'handover-verified'; readonly cardNumber: CardNumber }
  | { readonly type: 'terms-accepted'; readonly accepted: boolean }
  /** STARTA NEDLADDNING clicked; the agent answers with `key-generation-started`. */
  | { readonly type: 'download-requested' }
  | { readonly type: 'key-generation-started' }
  | { readonly type: 'keys-generated' }
  /**
   * The server refused the card's proof at the handover, or the keys it vouched for at the download,
   * on its own checks of a genuine station statement: the flow cannot go on with that card.
   */
  | { readonly type: 'card-refused'; readonly code: CardRefusal; readonly reason: string }
  | { readonly type: 'dialog-shown'; readonly dialog: PinDialog }
  | { readonly type: 'dialog-completed'; readonly dialog: PinDialog }
  | { readonly type: 'dialog-cancelled'; readonly dialog: PinDialog }
  /** The agent reports a dialog it could not show (e.g. no desktop session). */
  | { readonly type: 'dialog-not-shown'; readonly dialog: PinDialog }
  /** The server claims the issuance before signing anything: one claim per flow. */
  | { readonly type: 'issuance-claimed' }
  | { readonly type: 'certificates-issued'; readonly serials: readonly string[] }
  | { readonly type: 'certificates-written' }
  | { readonly type: 'download-failed'; readonly reason: string }
  /** KVITTERA KORT, signed with the new signature key on `cardNumber`. */
  | { readonly type: 'acknowledged'; readonly cardNumber: CardNumber }
  | { readonly type: 'deadline-passed' }
  | { readonly type: 'tick' }
  | { readonly type: 'aborted'; readonly reason: AbortReason }
);

export type FlowEventType = FlowEvent['type'];

/** Every event type, for checking events that arrive as data. */
export const FLOW_EVENT_TYPES = [
  'reader-plugged',
  'reader-unplugged',
  'card-inserted',
  'card-removed',
  'logged-in',
  'manage-orders',
  'searched',
  'order-selected',
  'signed',
  'handover-confirmed',
  'handover-verified',
  'terms-accepted',
  'download-requested',
  'key-generation-started',
  'keys-generated',
  'card-refused',
  'dialog-shown',
  'dialog-completed',
  'dialog-cancelled',
  'dialog-not-shown',
  'issuance-claimed',
  'certificates-issued',
  'certificates-written',
  'download-failed',
  'acknowledged',
  'deadline-passed',
  'tick',
  'aborted',
] as const satisfies readonly FlowEventType[];

// A compile-time check that the list above names every event type.
type MissingEventType = Exclude<FlowEventType, (typeof FLOW_EVENT_TYPES)[number]>;
export const ALL_EVENT_TYPES_LISTED: MissingEventType extends never ? true : never = true;

const eventTypes: ReadonlySet<string> = new Set(FLOW_EVENT_TYPES);

export const isFlowEventType = (value: unknown): value is FlowEventType =>
  typeof value === 'string' && eventTypes.has(value);
