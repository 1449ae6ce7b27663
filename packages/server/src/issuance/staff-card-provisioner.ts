// A staff member's card as the card bureau and the CA operator make it, whatever the card is made
// of (a PKCS#11 token, or a virtual card in training): both key pairs generated on the card, a CSR
// for each signed by that key, the certificates issued by the CA of the card's assurance level and
// written back next to their keys. Training's seed, the tests and `reservkort card issue-admin` share it.
import { buildCsr, type CardBackend, type CardKeySpec, type KeySlot, type ReaderId } from '@reservkort/agent';
import type { AssuranceLevel, CardNumber } from '@reservkort/domain';
import type { CertificateAuthority, Holder, IssuedCertificate } from '@reservkort/pki';

export interface StaffCardRequest {
  readonly cards: CardBackend;
  readonly ca: CertificateAuthority;
  /** The reader the card is in; the card must be `cardNumber`, or the backend refuses (CARD_REMOVED). */
  readonly readerId: ReaderId;
  readonly cardNumber: CardNumber;
  /** PIN 1 authorises key generation, writing and the authentication key; PIN 2 the signature key. */
  readonly pins: { readonly pin1: string; readonly pin2: string };
  readonly holder: Holder;
  readonly level: AssuranceLevel;
  readonly validity: { readonly notBefore: number; readonly notAfter: number };
  /** Who the audit log names as the issuer. */
  readonly actor: string;
  /** Default: the key type the CA of `level` certifies on cards (its setting). */
  readonly keySpec?: CardKeySpec;
}

export type StaffCardCertificates = { readonly [K in KeySlot]: IssuedCertificate };

const PROFILE = { auth: 'card-auth', sign: 'card-sign' } as const;

export const provisionStaffCard = async (request: StaffCardRequest): Promise<StaffCardCertificates> => {
  const { cards, ca, readerId, cardNumber, pins } = request;
  const caId = request.level === 'LoA2' ? 'loa2' : 'loa3';
  const keySpec = request.keySpec ?? ca.cardKeyType(caId);
  const issue = async (key: KeySlot): Promise<IssuedCertificate> => {
    const generated = await cards.generateKey(readerId, cardNumber, key, pins.pin1, keySpec);
    // The CSR proves possession; the CA takes the subject from the holder, not from the request.
    const csr = await buildCsr(generated.spki, keySpec, `CN=${cardNumber}`, (tbs) =>
      cards.sign(readerId, cardNumber, key, key === 'auth' ? pins.pin1 : pins.pin2, tbs),
    );
    return ca.issue({
      caId,
      profile: PROFILE[key],
      csr: new Uint8Array(csr.rawData),
      holder: request.holder,
      cardNumber,
      validity: request.validity,
      orderId: null,
      actor: request.actor,
    });
  };
  // Both keys first, then both certificates: a card left half-made by a failure has no certificate.
  const auth = await issue('auth');
  const sign = await issue('sign');
  for (const [key, issued] of [
    ['auth', auth],
    ['sign', sign],
  ] as const) {
    await cards.writeCertificate(
      readerId,
      cardNumber,
      key,
      pins.pin1,
      new Uint8Array(issued.certificate.rawData),
    );
  }
  return { auth, sign };
};
