import type { AssuranceLevel } from '../assurance-level.js';
import type { ErrorCode } from '../error-code.js';
import type { SearchQuery } from '../identifiers/search-query.js';
import type { OrganisationTree } from '../organisation/organisation-tree.js';
import { holdsKurIn, type IdAdmin, mayIssueLoa3In } from '../organisation/roles.js';
import { dateOf, type Instant } from '../time.js';
import { closedOrderCode, type Order, orderStateAt } from './order.js';
import { type Person, personEligibility } from './person.js';

/** Who is asking: admin 2 as logged in, and when. */
export interface AccessContext {
  readonly tree: OrganisationTree;
  readonly admin: IdAdmin;
  readonly assuranceLevel: AssuranceLevel;
  readonly now: Instant;
}

export type AccessDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly reasons: readonly ErrorCode[] };

/**
 * Gate codes: when one applies, nothing else is said, because anything more (the order's state,
 * its creator) would tell an admin about a person they may not see.
 */
const gate = (ctx: AccessContext, recipient: Order['recipient']): ErrorCode | null => {
  if (ctx.assuranceLevel !== 'LoA3') return 'LOA2_LOGIN';
  if (!mayIssueLoa3In(ctx.tree, ctx.admin, recipient.branchId)) return 'NO_ROLE_IN_BRANCH';
  if (recipient.protectedIdentity && !holdsKurIn(ctx.tree, ctx.admin, recipient.branchId)) {
    return 'PROTECTED_NEEDS_KUR';
  }
  return null;
};

const orderProblems = (ctx: AccessContext, order: Order): ErrorCode[] => {
  const reasons: ErrorCode[] = [];
  if (order.createdBy === ctx.admin.hsaId) reasons.push('OWN_ORDER');
  const state = orderStateAt(order, ctx.now);
  const closed = closedOrderCode(state);
  if (closed !== null) reasons.push(closed);
  if (state === 'in_progress') reasons.push('ORDER_STATE_CONFLICT');
  return reasons;
};

/** Whether admin 2 may see and complete an order: yes, or exactly why not. */
export const decideOrderAccess = (ctx: AccessContext, order: Order): AccessDecision => {
  const gated = gate(ctx, order.recipient);
  if (gated !== null) return { allowed: false, reasons: [gated] };
  const reasons = orderProblems(ctx, order);
  return reasons.length === 0 ? { allowed: true } : { allowed: false, reasons };
};

/** The person a query matched and their orders, as the store found them. */
export interface SearchMatch {
  readonly person: Person;
  readonly orders: readonly Order[];
}

export type SearchOutcome =
  | {
      readonly kind: 'found';
      readonly person: Person;
      readonly order: Order;
      readonly codes: readonly ErrorCode[];
    }
  | { readonly kind: 'not-found'; readonly codes: readonly ErrorCode[] };

/**
 * Step 2: the diagnosis of a search, after the caller classified the query and looked it up.
 * Notices of the query (PNR_FORMAT) come first; then the one reason there is no hit.
 */
export const diagnoseSearch = (
  query: SearchQuery,
  match: SearchMatch | null,
  ctx: AccessContext,
): SearchOutcome => {
  if (query.kind === 'invalid' || query.kind === 'partial-hsa-id')
    return { kind: 'not-found', codes: query.codes };
  const notices = query.codes;
  const notFound = (...codes: ErrorCode[]): SearchOutcome => ({
    kind: 'not-found',
    codes: [...notices, ...codes],
  });
  if (ctx.assuranceLevel !== 'LoA3') return notFound('LOA2_LOGIN');
  if (match === null) return notFound('NO_ORDER');
  const { person } = match;
  const gated = gate(ctx, {
    hsaId: person.hsaId,
    branchId: person.branchId,
    protectedIdentity: person.protectedIdentity,
  });
  if (gated !== null) return notFound(gated);
  const ineligible = personEligibility(person, dateOf(ctx.now));
  if (ineligible.length > 0) return notFound(...ineligible);
  const newestFirst = [...match.orders].sort((a, b) => b.createdAt - a.createdAt);
  const usable = newestFirst.find((order) => orderProblems(ctx, order).length === 0);
  if (usable) return { kind: 'found', person, order: usable, codes: notices };
  const explained = orderToExplain(ctx, newestFirst);
  if (explained === null) return notFound('NO_ORDER');
  return notFound(...orderProblems(ctx, explained));
};

/** Prefer explaining an open order (e.g. OWN_ORDER) over an old closed one. */
const orderToExplain = (ctx: AccessContext, newestFirst: readonly Order[]): Order | null =>
  newestFirst.find((order) => orderStateAt(order, ctx.now) === 'registered') ?? newestFirst[0] ?? null;

/**
 * The order a search without a hit explained (OWN_ORDER, a used or closed order...), for a support
 * case to name; null when the search explained no order or the admin may not see the person.
 */
export const explainedOrder = (match: SearchMatch | null, ctx: AccessContext): Order | null => {
  if (match === null || ctx.assuranceLevel !== 'LoA3') return null;
  const { person } = match;
  const recipient = {
    hsaId: person.hsaId,
    branchId: person.branchId,
    protectedIdentity: person.protectedIdentity,
  };
  if (gate(ctx, recipient) !== null || personEligibility(person, dateOf(ctx.now)).length > 0) return null;
  const newestFirst = [...match.orders].sort((a, b) => b.createdAt - a.createdAt);
  if (newestFirst.some((order) => orderProblems(ctx, order).length === 0)) return null;
  return orderToExplain(ctx, newestFirst);
};
