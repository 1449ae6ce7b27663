import type { AssuranceLevel } from '../assurance-level.js';
import type { HsaId } from '../identifiers/hsa-id.js';
import type { BranchId, OrganisationTree } from '../organisation/organisation-tree.js';
import { grantsIn, holdsKurIn, type IdAdmin, ROLES } from '../organisation/roles.js';
import { err, ok, type Result } from '../result.js';

/** RFC 5280 CRLReason names, as the certificate authority takes them. */
export type Rfc5280Reason = 'keyCompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation';

/**
 * Why a reserve card's e-ID is revoked (spärras), and the RFC 5280 reason the certificates get:
 * - `card-lost`, `suspected-misuse`: keyCompromise — the keys are out of the holder's control.
 * - `card-damaged`, `no-longer-needed`, `card-locked`: cessationOfOperation — the card is not used again.
 * - `left-organisation`: affiliationChanged — the holder no longer belongs to the organisation.
 * - `superseded`: superseded — replaced by new certificates (förlängning) or the ordinary card; set
 *   by the system when it replaces them, never chosen by a person.
 */
export const SPARR_REASONS = {
  'card-lost': 'keyCompromise',
  'suspected-misuse': 'keyCompromise',
  'card-damaged': 'cessationOfOperation',
  'no-longer-needed': 'cessationOfOperation',
  'card-locked': 'cessationOfOperation',
  'left-organisation': 'affiliationChanged',
  superseded: 'superseded',
} as const satisfies Record<string, Rfc5280Reason>;

export type SparrReason = keyof typeof SPARR_REASONS;

/** Who asks to revoke: the holder (logged in with the card), an administrator, or the service desk. */
export type SparrActor =
  | { readonly kind: 'holder'; readonly hsaId: HsaId }
  | { readonly kind: 'admin'; readonly admin: IdAdmin; readonly assuranceLevel: AssuranceLevel }
  | { readonly kind: 'service-desk'; readonly hsaId: HsaId };

/**
 * The reasons each actor may give. The holder knows whether the card is lost, misused or broken;
 * an administrator and the service desk also know whether the holder left or no longer needs it,
 * and whether the card was locked for good.
 */
export const SPARR_REASONS_FOR: { readonly [K in SparrActor['kind']]: readonly SparrReason[] } = {
  holder: ['card-lost', 'suspected-misuse', 'card-damaged'],
  admin: [
    'card-lost',
    'suspected-misuse',
    'card-damaged',
    'no-longer-needed',
    'card-locked',
    'left-organisation',
  ],
  'service-desk': [
    'card-lost',
    'suspected-misuse',
    'card-damaged',
    'no-longer-needed',
    'card-locked',
    'left-organisation',
  ],
};

/** The e-ID to revoke, as the rules need it. */
export interface RevocableEid {
  readonly holder: HsaId;
  readonly branchId: BranchId;
  readonly protectedIdentity: boolean;
  readonly revoked: boolean;
  /** The serials of the card's certificates. */
  readonly serials: readonly string[];
}

/**
 * Whether an actor may revoke a reserve card's e-ID with a reason, and the RFC 5280 reason if so.
 * The holder revokes only their own e-ID; an administrator needs a role (KRA, RA, ORA or LRA) in
 * the holder's branch, KUR too for a protected identity, and a LoA3 login; the service desk may
 * always. An e-ID already revoked is not revoked again.
 */
export const decideSparr = (
  tree: OrganisationTree,
  actor: SparrActor,
  eid: RevocableEid,
  reason: string,
): Result<Rfc5280Reason> => {
  if (actor.kind === 'holder' && actor.hsaId !== eid.holder) return err('REVOCATION_NOT_PERMITTED');
  if (actor.kind === 'admin') {
    if (actor.assuranceLevel !== 'LoA3') return err('LOA2_LOGIN');
    const held = grantsIn(tree, actor.admin, eid.branchId);
    if (!ROLES.some((role) => held.has(role))) return err('NO_ROLE_IN_BRANCH');
    if (eid.protectedIdentity && !holdsKurIn(tree, actor.admin, eid.branchId))
      return err('PROTECTED_NEEDS_KUR');
  }
  const offered: readonly string[] = SPARR_REASONS_FOR[actor.kind];
  if (!offered.includes(reason)) return err('REVOCATION_REASON_NOT_OFFERED', { reason: reason.slice(0, 40) });
  if (eid.revoked) return err('ALREADY_REVOKED', { serial: eid.serials.join(', ') });
  return ok(SPARR_REASONS[reason as SparrReason]);
};
