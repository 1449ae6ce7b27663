import type { CardNumber } from '@reservkort/domain';
import type { ReaderSlotView } from '../flow/replay-player.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';
import { ReaderSlots } from './reader-slots.js';

interface ReadersPanelProps {
  readonly ws: Workstation;
  /** Whose a card is, where the page knows (the login card, the order's card, the training cards). */
  readonly whose: (cardNumber: CardNumber | null) => string | null;
  /**
   * Name each reader's part in an issuance; off where no issuance runs (a holder's own pages, where
   * reader 1 holds no administrator's card).
   */
  readonly roles?: boolean;
}

/** A workstation's reader as plain state: connected when the agent sees it, the card and whose it is. */
const slotOf = (ws: Workstation, n: 1 | 2, whose: ReadersPanelProps['whose']): ReaderSlotView => {
  const slot = ws.slot(n);
  return {
    connected: slot.readerId !== null,
    card: slot.card ? { cardNumber: slot.card.cardNumber, holder: whose(slot.card.cardNumber) } : null,
  };
};

/** Reader 1 and reader 2, the card in each, and the events as they happen (announced politely). */
export const ReadersPanel = ({ ws, whose, roles = true }: ReadersPanelProps) => {
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
      <ReaderSlots
        readers={{
          1: slotOf(ws, 1, whose),
          2: slotOf(ws, 2, whose),
        }}
        roles={roles}
      />
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
