import type { ReaderSlotView } from '../flow/replay-player.js';
import { formatCard } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';

/**
 * Reader 1 and reader 2 with the card in each and whose it is, from plain reader states: the live
 * panel passes the workstation's readers, a replay the recorded ones.
 */
export const ReaderSlots = ({
  readers,
  roles = true,
}: {
  readonly readers: { readonly [R in 1 | 2]: ReaderSlotView };
  /** Name each reader's part in an issuance (the administrator's card, the reserve card). */
  readonly roles?: boolean;
}) => {
  const { t } = useLanguage();
  return (
    <ul className="reader-slots">
      {([1, 2] as const).map((n) => {
        const slot = readers[n];
        return (
          <li key={n} data-reader={n} className={slot.connected ? 'connected' : 'missing'}>
            <strong>{fill(t.readers.reader, { n })}</strong>{' '}
            {roles ? <span className="role">({n === 1 ? t.readers.role1 : t.readers.role2})</span> : null}
            <div data-state>{slot.connected ? t.readers.connected : t.readers.missing}</div>
            <div data-card={slot.card?.cardNumber ?? ''}>
              {!slot.connected
                ? null
                : slot.card === null
                  ? t.readers.empty
                  : slot.card.cardNumber === null
                    ? t.readers.unreadable
                    : fill(t.readers.card, { card: formatCard(slot.card.cardNumber) })}
              {slot.card?.holder ? <span className="holder"> – {slot.card.holder}</span> : null}
            </div>
          </li>
        );
      })}
    </ul>
  );
};
