// A virtual card as a card bureau would deliver an administrator's: keys made on the card, CSRs
// signed by them, certificates from the test CA written back.
import { buildCsr, type VirtualBackend } from '@reservkort/agent';
import type { CardNumber, HsaId } from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';

export const CARD_PINS = { pin1: '1234', pin2: '5678', puk: '12345678' } as const;

export const provisionCard = async (
  cards: VirtualBackend,
  ca: CertificateAuthority,
  holder: {
    hsaId: HsaId;
    givenName: string;
    surname: string;
    cardNumber: CardNumber;
    level?: 'LoA3' | 'LoA2';
  },
  reader = 'reader-1',
): Promise<{ authSerial: string; signSerial: string }> => {
  await cards.createCard({ cardNumber: holder.cardNumber, ...CARD_PINS });
  await cards.insertCard(reader, holder.cardNumber);
  const serials: string[] = [];
  for (const key of ['auth', 'sign'] as const) {
    const generated = await cards.generateKey(reader, holder.cardNumber, key, CARD_PINS.pin1, 'ecdsa-p256');
    const csr = await buildCsr(generated.spki, 'ecdsa-p256', `CN=${holder.cardNumber}`, (tbs) =>
      cards.sign(reader, holder.cardNumber, key, key === 'auth' ? CARD_PINS.pin1 : CARD_PINS.pin2, tbs),
    );
    const now = Date.now();
    const issued = await ca.issue({
      caId: holder.level === 'LoA2' ? 'loa2' : 'loa3',
      profile: key === 'auth' ? 'card-auth' : 'card-sign',
      csr: csr.toString('pem'),
      holder: {
        hsaId: holder.hsaId,
        givenName: holder.givenName,
        surname: holder.surname,
        organisation: 'Region Exempel',
      },
      cardNumber: holder.cardNumber,
      validity: { notBefore: now, notAfter: now + 365 * 86_400_000 },
      orderId: null,
      actor: 'test',
    });
    await cards.writeCertificate(
      reader,
      holder.cardNumber,
      key,
      CARD_PINS.pin1,
      new Uint8Array(issued.certificate.rawData),
    );
    serials.push(issued.serial);
  }
  await cards.removeCard(reader);
  return { authSerial: serials[0] ?? '', signSerial: serials[1] ?? '' };
};
