import type { TimelineEntry } from '@reservkort/domain';
import { formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';

const READER_EVENTS = new Set(['reader-plugged', 'reader-unplugged', 'card-inserted', 'card-removed']);

/** A flow's timeline drawn as a time line: when, which step, what happened, which codes. */
export const TimelineView = ({ entries }: { readonly entries: readonly TimelineEntry[] }) => {
  const { language, t, catalogue } = useLanguage();
  return (
    <ol className="timeline" aria-label={t.support.timeline}>
      {entries.map((entry, index) => {
        const kind = entry.codes.length > 0 ? 'code' : READER_EVENTS.has(entry.event) ? 'reader' : 'step';
        const details = entry.details
          ? Object.entries(entry.details)
              .map(([key, value]) => `${key}: ${String(value)}`)
              .join(', ')
          : '';
        return (
          // Entries have no id of their own; their order never changes.
          // biome-ignore lint/suspicious/noArrayIndexKey: the timeline is append-only
          <li key={index} className={`timeline-${kind}`} data-event={entry.event}>
            <time>{formatTime(entry.at, language)}</time>
            <span className="timeline-step">
              {entry.step > 0 ? `${entry.step}. ` : ''}
              {catalogue.steps[entry.step]}
            </span>
            <span className="timeline-event">{entry.event}</span>
            {entry.codes.map((code) => (
              <a key={code} href={`#/catalogue/${code}`} className="code-chip">
                {code}
              </a>
            ))}
            {details ? <span className="timeline-details">{details}</span> : null}
          </li>
        );
      })}
    </ol>
  );
};
