import { consumeChallenge } from '@reservkort/store';
import { ApiError } from '../http/api-error.js';
import type { ServerContext } from '../server-context.js';
import { type VerifiedCard, verifyCardCertificate, verifyCardSignature } from './card-certificate.js';
import { readStatement } from './signing-challenge.js';

/** What a login request carries: the one-time challenge it answers, the card's certificate and signature. */
export interface SignedLogin {
  readonly challengeId: string;
  /** Base64 DER of the card's authentication certificate. */
  readonly certificate: string;
  /** Base64 signature of the challenge by that certificate's key. */
  readonly signature: string;
}

/**
 * The card behind a login: the challenge used once and unexpired, the authentication certificate
 * verified (chain, validity, revocation, policy), and the challenge signed by its key. Whom the card
 * may log in as (administrator or holder) is the caller's question.
 */
export const verifySignedLogin = async (
  ctx: ServerContext,
  login: SignedLogin,
  now: number,
): Promise<{ readonly card: VerifiedCard; readonly stationNonce: string }> => {
  const text = await consumeChallenge(ctx.store.db, login.challengeId, now);
  const challenge = text === null ? null : readStatement(text, 'login');
  const stationNonce = challenge?.fields.stationNonce;
  if (challenge === null || typeof stationNonce !== 'string')
    throw new ApiError('LOGIN_FAILED', { reason: 'challenge' });
  const card = await verifyCardCertificate(Buffer.from(login.certificate, 'base64'), 'auth', {
    ca: ctx.ca,
    db: ctx.store.db,
    now,
  });
  if (!verifyCardSignature(card.publicKey, challenge.data, Buffer.from(login.signature, 'base64')))
    throw new ApiError('LOGIN_FAILED', { reason: 'signature' });
  return { card, stationNonce };
};
