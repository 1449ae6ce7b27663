import type { HsaId } from '@reservkort/domain';
import {
  certificateStatusPending,
  consumeChallengePending,
  type Pending,
  pendingAll,
  pendingValue,
  runPending,
} from '@reservkort/store';
import { ApiError } from '../http/api-error.js';
import type { ServerContext } from '../server-context.js';
import {
  cardCertificateClaims,
  type VerifiedCard,
  verifyCardCertificate,
  verifyCardSignature,
} from './card-certificate.js';
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
 * may log in as (administrator or holder) is the caller's question: `alongside` reads what it needs
 * of the holder the certificate names, in the same round trip as the challenge and the certificate's
 * status. Those reads are made before the checks, and their answers are handed back only once every
 * check has passed.
 */
export const verifySignedLogin = async <T = undefined>(
  ctx: ServerContext,
  login: SignedLogin,
  now: number,
  alongside?: (holder: HsaId) => Pending<T>,
): Promise<{ readonly card: VerifiedCard; readonly stationNonce: string; readonly alongside: T }> => {
  const db = ctx.store.db;
  const der = Buffer.from(login.certificate, 'base64');
  const claims = await cardCertificateClaims(ctx.ca, der);
  const holder = claims?.hsaId ?? null;
  const [text, status, extra] = await runPending(
    db,
    pendingAll(
      consumeChallengePending(db, login.challengeId, now),
      claims === null ? pendingValue(null) : certificateStatusPending(db, claims.serial),
      alongside === undefined || holder === null ? pendingValue(undefined) : alongside(holder),
    ),
  );
  const challenge = text === null ? null : readStatement(text, 'login');
  const stationNonce = challenge?.fields.stationNonce;
  if (challenge === null || typeof stationNonce !== 'string')
    throw new ApiError('LOGIN_FAILED', { reason: 'challenge' });
  const card = await verifyCardCertificate(der, 'auth', { ca: ctx.ca, db, now, status });
  if (!verifyCardSignature(card.publicKey, challenge.data, Buffer.from(login.signature, 'base64')))
    throw new ApiError('LOGIN_FAILED', { reason: 'signature' });
  // A verified certificate has a holder, the one its claims named: what was read is of that holder.
  if (alongside !== undefined && (extra === undefined || card.hsaId !== holder))
    throw new ApiError('LOGIN_FAILED', { reason: 'holder' });
  return { card, stationNonce, alongside: extra as T };
};
