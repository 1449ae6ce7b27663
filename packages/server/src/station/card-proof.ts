// What a reserve card proves through a station's statement: that it is a genuine card with this
// number (its bureau certificate, issued by the bureau CA, valid, not revoked) and that its bureau
// key signed exactly the bytes of this flow step. The station only carries the card's signature.
import { verify } from 'node:crypto';
import {
  type CardKeyFact,
  type CardNumber,
  cardKeysBytes,
  cardProofBytes,
  type Instant,
} from '@reservkort/domain';
import {
  type BureauRecord,
  bureauRecordPending,
  type CertificateAuthority,
  verifyBureauCertificate,
} from '@reservkort/pki';
import { type Pending, pendingValue } from '@reservkort/store';
import { ApiError } from '../http/api-error.js';

const notProven = (reason: string): ApiError => new ApiError('CARD_NOT_PROVEN', { reason });

/** A card's statement fields: the card number it claims, its bureau certificate and its signature. */
interface CardClaim {
  readonly cardNumber: CardNumber;
  /** Base64 DER. */
  readonly bureauCertificate: string;
  /** Base64, raw r‖s. */
  readonly cardSignature: string;
}

/** A flow step a card's statement is for; `record`: its bureau certificate's, read beforehand. */
interface CardStep {
  readonly flowId: string;
  readonly nonce: string;
  readonly now: Instant;
  readonly record?: BureauRecord | undefined;
}

/**
 * The read of the record of the bureau certificate a statement's body claims, to send with the
 * station's (see previewStatement) and pass on as the step's `record`; nothing to read for a body
 * without one, which the checks then refuse.
 */
export const cardRecordPending = async (
  ca: CertificateAuthority,
  body: unknown,
): Promise<Pending<BureauRecord | undefined>> => {
  const certificate = (body as Partial<CardClaim> | null)?.bureauCertificate;
  const read =
    typeof certificate === 'string'
      ? await bureauRecordPending(ca, Buffer.from(certificate, 'base64'))
      : null;
  return read ?? pendingValue(undefined);
};

/**
 * Checks the bureau certificate, that it names the claimed card number, and the card's signature
 * over `signed` with the certificate's key; CARD_NOT_PROVEN naming the first check that failed.
 */
const proveCard = async (
  ca: CertificateAuthority,
  claim: CardClaim,
  signed: Uint8Array,
  step: CardStep,
): Promise<void> => {
  const checked = await verifyBureauCertificate(
    ca,
    Buffer.from(claim.bureauCertificate, 'base64'),
    step.now,
    step.record,
  );
  if (!checked.ok) throw notProven(`certificate ${checked.reason}`);
  if (checked.value.cardNumber !== claim.cardNumber) throw notProven('card number');
  const signature = Buffer.from(claim.cardSignature, 'base64');
  let valid = false;
  try {
    valid =
      signature.length === 64 &&
      verify('sha256', signed, { key: checked.value.key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    valid = false;
  }
  if (!valid) throw notProven('card signature');
};

/** Handover: the card in the reader proves it is `claim.cardNumber`, for this flow and nonce. */
export const verifyCardProof = (ca: CertificateAuthority, claim: CardClaim, step: CardStep): Promise<void> =>
  proveCard(
    ca,
    claim,
    cardProofBytes({ flowId: step.flowId, nonce: step.nonce, cardNumber: claim.cardNumber }),
    step,
  );

/**
 * Keys generated: the card vouches for both public keys, for this flow and nonce; then every key
 * attribute read back must say the private key was made on the card and can never leave it, and
 * the two keys must differ.
 */
export const verifyCardKeys = async (
  ca: CertificateAuthority,
  claim: CardClaim & { readonly keys: { readonly auth: CardKeyFact; readonly sign: CardKeyFact } },
  step: CardStep,
): Promise<void> => {
  const { auth, sign } = claim.keys;
  await proveCard(
    ca,
    claim,
    cardKeysBytes({
      flowId: step.flowId,
      nonce: step.nonce,
      cardNumber: claim.cardNumber,
      authSpki: auth.spki,
      signSpki: sign.spki,
    }),
    step,
  );
  for (const key of [auth, sign]) {
    if (!key.local || !key.sensitive || !key.neverExtractable)
      throw new ApiError('KEYS_NOT_ON_CARD', { reason: 'attributes' });
  }
  if (auth.spki === sign.spki) throw new ApiError('CSR_SAME_KEY');
};
