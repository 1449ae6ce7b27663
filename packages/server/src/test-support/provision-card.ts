// A virtual card as a card bureau would deliver an administrator's: keys made on the card, CSRs
// signed by them, certificates from the test CA written back (the product's provisionStaffCard).
import type { VirtualBackend } from '@reservkort/agent';
import type { CardNumber, HsaId } from '@reservkort/domain';
import type { CertificateAuthority } from '@reservkort/pki';
import { provisionStaffCard } from '../issuance/staff-card-provisioner.js';

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
  const now = Date.now();
  const issued = await provisionStaffCard({
    cards,
    ca,
    readerId: reader,
    cardNumber: holder.cardNumber,
    pins: CARD_PINS,
    holder: {
      hsaId: holder.hsaId,
      givenName: holder.givenName,
      surname: holder.surname,
      organisation: 'Region Exempel',
    },
    level: holder.level ?? 'LoA3',
    validity: { notBefore: now, notAfter: now + 365 * 86_400_000 },
    actor: 'test',
  });
  await cards.removeCard(reader);
  return { authSerial: issued.auth.serial, signSerial: issued.sign.serial };
};
