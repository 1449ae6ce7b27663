import type { SigningChallenge, SigningChallengeOffer, SigningPurpose } from '../api/views.js';

/**
 * A challenge given with the answer that reached SIGNERA or KVITTERA KORT is used only while this
 * much of its 5 minutes is left, so the PIN dialog keeps most of its time; later, a new one is asked.
 */
export const OFFER_MIN_LEFT_MS = 3 * 60_000;

/** A challenge the server gave, as the page keeps it: for which flow and signature, and its lapse by the page's clock. */
export interface KeptOffer {
  readonly flowId: string;
  readonly purpose: SigningPurpose;
  readonly challenge: SigningChallenge;
  readonly until: number;
}

/**
 * The offer as kept. `serverNow` is the server's time in the same answer (its view's `now`): the
 * lapse is moved onto this page's clock, which may differ from the server's.
 */
export const keptOffer = (
  offer: SigningChallengeOffer,
  flowId: string,
  serverNow: number,
  pageNow: number,
): KeptOffer => ({
  flowId,
  purpose: offer.purpose,
  challenge: { challengeId: offer.challengeId, toBeSigned: offer.toBeSigned },
  until: pageNow + offer.expiresAt - serverNow,
});

/** The kept challenge, if it is for this flow and signature and still leaves the PIN dialog its time. */
export const usableOffer = (
  kept: KeptOffer | null,
  flowId: string,
  purpose: SigningPurpose,
  pageNow: number,
): SigningChallenge | null =>
  kept !== null &&
  kept.flowId === flowId &&
  kept.purpose === purpose &&
  kept.until - pageNow >= OFFER_MIN_LEFT_MS
    ? kept.challenge
    : null;
