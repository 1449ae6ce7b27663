import type { Validity } from '../order/order.js';
import { err, ok, type Result } from '../result.js';
import { type CalendarDate, dateOf, endDateOf, endOfDay, formatDate, type Instant } from '../time.js';

/** What the rules need to know of a reserve card's e-ID to extend it. */
export interface ExtendableEid {
  /** The validity of the certificates on the card now (both share it). */
  readonly current: Validity;
  /** The validity the order gave the first certificates: its length bounds every extension. */
  readonly ordered: Validity;
  /** The last day the card may be used physically (see `physicalExpiryOf`). */
  readonly physicalExpiry: CalendarDate;
  /** Whether the card's certificates were revoked (spärrade). */
  readonly revoked: boolean;
  /** When the card's one extension was made, or null if it has not been. */
  readonly extendedAt: Instant | null;
}

/**
 * Förlängning. The holder may extend a reserve card's e-ID once, while its certificates are still
 * valid and not revoked, by fetching new certificates with new keys made on the card. The new
 * certificates are valid from the moment they are issued for at most as long as the order gave
 * the first ones (its original length, counted from `notBefore` to `notAfter`), and never past the
 * end of the card's last physical day. A card that has already been extended, whose certificates
 * have expired, or that is revoked cannot be extended; nor a card with no physical life left.
 */
export const extensionValidity = (eid: ExtendableEid, now: Instant): Result<Validity> => {
  if (eid.revoked) return err('EXTENSION_CARD_REVOKED');
  if (eid.extendedAt !== null) {
    return err('EXTENSION_ALREADY_USED', { extendedOn: formatDate(dateOf(eid.extendedAt)) });
  }
  if (now >= eid.current.notAfter) {
    return err('EXTENSION_TOO_LATE', { expiredOn: formatDate(endDateOf(eid.current.notAfter)) });
  }
  const length = eid.ordered.notAfter - eid.ordered.notBefore;
  const lastPhysical = endOfDay(eid.physicalExpiry);
  const notAfter = Math.min(now + length, lastPhysical);
  if (notAfter <= now) {
    return err('CARD_PAST_PHYSICAL_EXPIRY', { physicalExpiry: formatDate(eid.physicalExpiry) });
  }
  return ok({ notBefore: now, notAfter });
};
