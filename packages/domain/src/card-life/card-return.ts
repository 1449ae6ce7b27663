import type { AssuranceLevel } from '../assurance-level.js';
import type { OrganisationTree } from '../organisation/organisation-tree.js';
import { grantsIn, type IdAdmin, ROLES } from '../organisation/roles.js';
import { err, ok, type Result } from '../result.js';
import type { Instant } from '../time.js';
import { type StockCard, transitionStockCard } from './card-stock.js';
import type { Rfc5280Reason } from './revocation.js';

/**
 * Why a reserve card comes back: the holder's ordinary card is back and carries its own e-ID (the
 * reserve card's e-ID is superseded), or the card is simply no longer needed (its e-ID ceases).
 */
export type ReturnCause = 'ordinary-card-back' | 'no-longer-needed';

export const RETURN_REVOCATION_REASONS: { readonly [C in ReturnCause]: Rfc5280Reason } = {
  'ordinary-card-back': 'superseded',
  'no-longer-needed': 'cessationOfOperation',
};

export interface ReturnInput {
  readonly tree: OrganisationTree;
  readonly admin: IdAdmin;
  readonly assuranceLevel: AssuranceLevel;
  readonly card: StockCard;
  readonly cause: ReturnCause;
  /** The serials of the card's certificates that are not yet revoked. */
  readonly unrevokedSerials: readonly string[];
  readonly now: Instant;
}

/** What recording a return decides: the card, destroyed, and the certificates to revoke. */
export interface ReturnOutcome {
  readonly returned: StockCard;
  readonly destroyed: StockCard;
  readonly revoke: { readonly serials: readonly string[]; readonly reason: Rfc5280Reason };
}

/**
 * Return and destruction. When the card comes back, an administrator with a role (KRA, RA, ORA or
 * LRA) at the card's station and a LoA3 login records the return: the card's e-ID is revoked
 * (superseded when the ordinary card is back, cessationOfOperation otherwise), and the card passes
 * through returned to destroyed. A destroyed card is never usable again: it cannot be ordered,
 * issued, returned or extended.
 */
export const recordReturn = (input: ReturnInput): Result<ReturnOutcome> => {
  const { card, now } = input;
  if (input.assuranceLevel !== 'LoA3') return err('LOA2_LOGIN');
  const held = grantsIn(input.tree, input.admin, card.stationId);
  if (!ROLES.some((role) => held.has(role))) return err('NO_ROLE_IN_BRANCH');
  const returned = transitionStockCard(card, { type: 'return', at: now });
  if (!returned.ok) return returned;
  const destroyed = transitionStockCard(returned.value, { type: 'destroy', at: now });
  if (!destroyed.ok) return destroyed;
  return ok({
    returned: returned.value,
    destroyed: destroyed.value,
    revoke: { serials: input.unrevokedSerials, reason: RETURN_REVOCATION_REASONS[input.cause] },
  });
};
