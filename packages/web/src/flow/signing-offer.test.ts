import { describe, expect, it } from 'vitest';
import { keptOffer, OFFER_MIN_LEFT_MS, usableOffer } from './signing-offer.js';

const FIVE_MINUTES = 5 * 60_000;
const offer = {
  purpose: 'order',
  challengeId: 'c1',
  toBeSigned: 'AAAA',
  expiresAt: 1_000_000 + FIVE_MINUTES,
} as const;

describe('the signing challenge given with an answer', () => {
  it('lapses on the page’s clock as long after the answer as on the server’s', () => {
    // The page's clock is 40 s behind the server's.
    const kept = keptOffer(offer, 'flow-1', 1_000_000, 960_000);
    expect(kept.until).toBe(960_000 + FIVE_MINUTES);
    expect(kept.challenge).toEqual({ challengeId: 'c1', toBeSigned: 'AAAA' });
  });

  it('is used for its flow and signature while most of its time is left, and not after', () => {
    const kept = keptOffer(offer, 'flow-1', 1_000_000, 1_000_000);
    const latest = kept.until - OFFER_MIN_LEFT_MS;
    expect(usableOffer(kept, 'flow-1', 'order', 1_000_000)).toEqual(kept.challenge);
    expect(usableOffer(kept, 'flow-1', 'order', latest)).toEqual(kept.challenge);
    expect(usableOffer(kept, 'flow-1', 'order', latest + 1)).toBeNull();
    expect(usableOffer(kept, 'flow-2', 'order', 1_000_000)).toBeNull();
    expect(usableOffer(kept, 'flow-1', 'acknowledge', 1_000_000)).toBeNull();
    expect(usableOffer(null, 'flow-1', 'order', 1_000_000)).toBeNull();
  });
});
