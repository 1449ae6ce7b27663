import type { CardNumber } from '@reservkort/domain';
import type { Workstation } from '../flow/workstation.js';
import { formatCard, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';

interface ReadersPanelProps {
  readonly ws: Workstation;
  /** Whose a card is, where the page knows (the login card, the order's card, the training cards). */
  readonly whose: (cardNumber: CardNumber | null) => string | null;
}

/** Reader 1 and reader 2, the card in each, and the events as they happen (announced politely). */
export const ReadersPanel = ({ ws, whose }: ReadersPanelProps) => {
  useSubscription(ws);
  const { language, t } = useLanguage();
  return (
    <aside className="readers-panel" aria-labelledby="readers-title">
      <h2 id="readers-title">{t.readers.title}</h2>
      <p className="agent-line">
        {ws.info
          ? fill(t.agent.version, { version: ws.info.version, packaging: ws.info.packaging })
          : t.agent.title}
        {' · '}
        <span className={ws.live ? 'live' : 'not-live'}>{ws.live ? t.agent.live : t.agent.reconnecting}</span>
      </p>
      <ul className="reader-slots">
        {([1, 2] as const).map((n) => {
          const slot = ws.slot(n);
          const holder = slot.card ? whose(slot.card.cardNumber) : null;
          return (
            <li key={n} data-reader={n} className={slot.readerId ? 'connected' : 'missing'}>
              <strong>{fill(t.readers.reader, { n })}</strong>{' '}
              <span className="role">({n === 1 ? t.readers.role1 : t.readers.role2})</span>
              <div data-state>{slot.readerId ? t.readers.connected : t.readers.missing}</div>
              <div data-card={slot.card?.cardNumber ?? ''}>
                {slot.readerId === null
                  ? null
                  : slot.card === null
                    ? t.readers.empty
                    : slot.card.cardNumber === null
                      ? t.readers.unreadable
                      : fill(t.readers.card, { card: formatCard(slot.card.cardNumber) })}
                {holder ? <span className="holder"> – {holder}</span> : null}
              </div>
            </li>
          );
        })}
      </ul>
      <h3>{t.readers.events}</h3>
      {ws.log.length === 0 ? <p className="no-events">{t.readers.noEvents}</p> : null}
      <ol className="reader-events" aria-live="polite" aria-relevant="additions" data-testid="reader-events">
        {ws.log.slice(0, 8).map((entry) => (
          <li key={entry.seq}>
            <time>{formatTime(entry.at, language)}</time>{' '}
            {fill(t.readers.event[entry.type], { n: entry.slot ?? '?', card: formatCard(entry.cardNumber) })}
          </li>
        ))}
      </ol>
    </aside>
  );
};
