import type { AssuranceLevel } from '../assurance-level.js';
import type { ErrorCode } from '../error-code.js';
import { type CardNumber, parseCardNumber } from '../identifiers/card-number.js';
import type { HsaId } from '../identifiers/hsa-id.js';
import type { BranchId, OrganisationTree } from '../organisation/organisation-tree.js';
import { holdsKurIn, type IdAdmin, mayIssueLoa3In } from '../organisation/roles.js';
import { type DomainError, err, ok, type Result } from '../result.js';
import { DAY, dateOf, type Instant, MINUTE } from '../time.js';
import { type IdDocument, isIdDocument } from './id-document.js';
import { type Person, recipientEligibility } from './person.js';

export type OrderState = 'registered' | 'in_progress' | 'completed' | 'expired' | 'cancelled';

/** The validity the certificates will get; bounded by the card product. */
export interface Validity {
  readonly notBefore: Instant;
  readonly notAfter: Instant;
}

/** A card product (reserve card type) and the longest validity it may be given. */
export interface CardProduct {
  readonly name: string;
  readonly maxValidityDays: number;
}

/** Admin 1's card signature over the order, already verified by the caller. */
export interface OrderSignature {
  readonly signedBy: HsaId;
  readonly signedAt: Instant;
  readonly assuranceLevel: AssuranceLevel;
  readonly certificateSerial: string;
}

/** What an order keeps of its recipient: enough to decide access without the person record. */
export interface OrderRecipient {
  readonly hsaId: HsaId;
  readonly branchId: BranchId;
  readonly protectedIdentity: boolean;
}

/** Underlag/beställning: registered by admin 1, completed by admin 2. */
export interface Order {
  readonly id: string;
  readonly recipient: OrderRecipient;
  readonly cardNumber: CardNumber;
  readonly validity: Validity;
  readonly idDocument: IdDocument;
  readonly createdBy: HsaId;
  readonly createdAt: Instant;
  readonly signature: OrderSignature;
  readonly state: OrderState;
  readonly stateChangedAt: Instant;
}

export interface RegisterOrderInput {
  readonly id: string;
  readonly person: Person;
  readonly cardNumber: string;
  readonly validity: Validity;
  readonly idDocument: string;
  readonly admin: IdAdmin;
  readonly signature: OrderSignature | null;
  readonly product: CardProduct;
  readonly tree: OrganisationTree;
  readonly now: Instant;
  /** Whom a card number has already been ordered for or issued to, if anyone. */
  readonly cardHolder: (cardNumber: CardNumber) => HsaId | null;
}

/** Clock skew tolerated between admin 1's computer and the server for the start of validity. */
const VALIDITY_START_SKEW = 5 * MINUTE;

const validityProblems = (validity: Validity, product: CardProduct, now: Instant): DomainError[] => {
  const { notBefore, notAfter } = validity;
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter) || notAfter <= notBefore) {
    return [{ code: 'VALIDITY_INVALID', details: { reason: 'order' } }];
  }
  if (notBefore < now - VALIDITY_START_SKEW || notAfter <= now) {
    return [{ code: 'VALIDITY_INVALID', details: { reason: 'past' } }];
  }
  if (notAfter - notBefore > product.maxValidityDays * DAY) {
    return [{ code: 'VALIDITY_TOO_LONG', details: { maxDays: product.maxValidityDays } }];
  }
  return [];
};

/**
 * Admin 1 registers an order. Every problem is reported at once, so a form can mark all fields;
 * a protected recipient the admin may not see yields only PROTECTED_NEEDS_KUR.
 */
export const registerOrder = (input: RegisterOrderInput): Result<Order, readonly DomainError[]> => {
  const { person, admin, tree, now } = input;
  const branch = person.branchId;
  if (!tree.branches.has(branch)) return { ok: false, error: [{ code: 'BRANCH_UNKNOWN' }] };
  if (person.protectedIdentity && !holdsKurIn(tree, admin, branch)) {
    return { ok: false, error: [{ code: 'PROTECTED_NEEDS_KUR' }] };
  }
  const problems: DomainError[] = [];
  if (!mayIssueLoa3In(tree, admin, branch)) problems.push({ code: 'NO_ROLE_IN_BRANCH' });

  const signature = input.signature;
  if (signature === null || signature.signedBy !== admin.hsaId) {
    problems.push({ code: 'ORDER_NOT_SIGNED' });
  } else if (signature.assuranceLevel !== 'LoA3') {
    problems.push({ code: 'LOA2_LOGIN' });
  }

  const card = parseCardNumber(input.cardNumber);
  if (!card.ok) {
    problems.push(card.error);
  } else {
    const holder = input.cardHolder(card.value);
    if (holder !== null && holder !== person.hsaId) problems.push({ code: 'CARD_NUMBER_TAKEN' });
  }

  problems.push(...validityProblems(input.validity, input.product, now));

  const idDocument = input.idDocument;
  if (!isIdDocument(idDocument)) {
    problems.push({ code: 'ID_DOCUMENT_NOT_LOA3', details: { reason: 'unknown' } });
  } else {
    for (const code of recipientEligibility(person, idDocument, dateOf(now))) problems.push({ code });
  }

  if (problems.length > 0 || !card.ok || !isIdDocument(idDocument) || signature === null) {
    return { ok: false, error: problems };
  }
  return ok({
    id: input.id,
    recipient: { hsaId: person.hsaId, branchId: branch, protectedIdentity: person.protectedIdentity },
    cardNumber: card.value,
    validity: input.validity,
    idDocument,
    createdBy: admin.hsaId,
    createdAt: now,
    signature,
    state: 'registered',
    stateChangedAt: now,
  });
};

/** What can happen to an order. `release` puts it back after an aborted or timed-out flow. */
export type OrderEvent =
  | { readonly type: 'start'; readonly at: Instant }
  | { readonly type: 'complete'; readonly at: Instant }
  | { readonly type: 'release'; readonly at: Instant }
  | { readonly type: 'cancel'; readonly at: Instant }
  | { readonly type: 'expire'; readonly at: Instant };

const ORDER_TRANSITIONS: { readonly [E in OrderEvent['type']]: Partial<Record<OrderState, OrderState>> } = {
  start: { registered: 'in_progress' },
  complete: { in_progress: 'completed' },
  release: { in_progress: 'registered' },
  cancel: { registered: 'cancelled', in_progress: 'cancelled' },
  expire: { registered: 'expired' },
};

/** The code that explains why an order in a given state cannot be used. */
export const closedOrderCode = (state: OrderState): ErrorCode | null =>
  state === 'completed'
    ? 'ORDER_USED'
    : state === 'expired'
      ? 'ORDER_EXPIRED'
      : state === 'cancelled'
        ? 'ORDER_CANCELLED'
        : null;

/** The state an order is in at `now`: an unused order past its validity has expired. */
export const orderStateAt = (order: Order, now: Instant): OrderState =>
  order.state === 'registered' && now >= order.validity.notAfter ? 'expired' : order.state;

export const transitionOrder = (order: Order, event: OrderEvent): Result<Order> => {
  // Expiring records what time already implies, so it starts from the stored state.
  const current = event.type === 'expire' ? order.state : orderStateAt(order, event.at);
  if (event.type === 'start' && current !== 'registered') {
    return err(closedOrderCode(current) ?? 'ORDER_STATE_CONFLICT', { state: current });
  }
  const next = ORDER_TRANSITIONS[event.type][current];
  if (next === undefined) return err('ORDER_STATE_CONFLICT', { state: current, event: event.type });
  return ok({ ...order, state: next, stateChangedAt: event.at });
};
