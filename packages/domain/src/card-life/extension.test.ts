import { describe, expect, it } from 'vitest';
import { DAY, type ExtendableEid, endOfDay, extensionValidity } from '../index.js';
import { T0, unwrap } from '../test-support/fixtures.js';

/** Certificates issued at T0 (2026-11-29) for the order's 14 days, on a card usable through 2030-03-14. */
const eid: ExtendableEid = {
  current: { notBefore: T0, notAfter: T0 + 14 * DAY },
  ordered: { notBefore: T0, notAfter: T0 + 14 * DAY },
  physicalExpiry: { year: 2030, month: 3, day: 14 },
  revoked: false,
  extendedAt: null,
};

describe('förlängning', () => {
  it("gives new certificates from now for the order's original length", () => {
    const now = T0 + 10 * DAY;
    expect(unwrap(extensionValidity(eid, now))).toEqual({ notBefore: now, notAfter: now + 14 * DAY });
  });

  it('is allowed up to the last moment of validity, and not at it', () => {
    const last = eid.current.notAfter - 1;
    expect(extensionValidity(eid, last).ok).toBe(true);
    expect(extensionValidity(eid, eid.current.notAfter)).toEqual({
      ok: false,
      error: { code: 'EXTENSION_TOO_LATE', details: { expiredOn: '2026-12-13' } },
    });
  });

  it("never reaches past the end of the card's last physical day", () => {
    const nearEnd = { ...eid, physicalExpiry: { year: 2026, month: 12, day: 20 } };
    const now = T0 + 10 * DAY;
    expect(unwrap(extensionValidity(nearEnd, now))).toEqual({
      notBefore: now,
      notAfter: endOfDay({ year: 2026, month: 12, day: 20 }),
    });
  });

  it('is refused on a card with no physical life left', () => {
    const worn = { ...eid, physicalExpiry: { year: 2026, month: 11, day: 28 } };
    expect(extensionValidity(worn, T0 + DAY)).toEqual({
      ok: false,
      error: { code: 'CARD_PAST_PHYSICAL_EXPIRY', details: { physicalExpiry: '2026-11-28' } },
    });
  });

  it('is made once per card: a second attempt names the day of the first', () => {
    expect(extensionValidity({ ...eid, extendedAt: T0 + DAY }, T0 + 2 * DAY)).toEqual({
      ok: false,
      error: { code: 'EXTENSION_ALREADY_USED', details: { extendedOn: '2026-11-30' } },
    });
  });

  it('is refused on a revoked card, before anything else', () => {
    const revoked = { ...eid, revoked: true, extendedAt: T0 };
    expect(extensionValidity(revoked, T0 + 30 * DAY)).toEqual({
      ok: false,
      error: { code: 'EXTENSION_CARD_REVOKED' },
    });
  });
});
