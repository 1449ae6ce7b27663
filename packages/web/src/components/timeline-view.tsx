import type { TimelineEntry } from '@reservkort/domain';
import { formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { codeTitle, describeTimeline } from './timeline-prose.js';

const READER_EVENTS = new Set(['reader-plugged', 'reader-unplugged', 'card-inserted', 'card-removed']);

interface TimelineViewProps {
  readonly entries: readonly TimelineEntry[];
  /** The order's reserve card, so the timeline can say whose card each is. */
  readonly reserveCard?: string | null;
  /** The list's accessible name; the flow's timeline by default. */
  readonly label?: string;
}

/** A flow's timeline drawn as a time line: when, which step, what happened in words, which codes. */
export const TimelineView = ({ entries, reserveCard = null, label }: TimelineViewProps) => {
  const { language, t, catalogue } = useLanguage();
  const sentences = describeTimeline(entries, language, reserveCard);
  return (
    <ol className="timeline" aria-label={label ?? t.support.timeline}>
      {entries.map((entry, index) => {
        const kind = entry.codes.length > 0 ? 'code' : READER_EVENTS.has(entry.event) ? 'reader' : 'step';
        return (
          // Entries have no id of their own; their order never changes.
          // biome-ignore lint/suspicious/noArrayIndexKey: the timeline is append-only
          <li key={index} className={`timeline-${kind}`} data-event={entry.event}>
            <time dateTime={new Date(entry.at).toISOString()}>{formatTime(entry.at, language)}</time>
            <span className="timeline-step">
              {entry.step > 0 ? `${entry.step}. ` : ''}
              {catalogue.steps[entry.step]}
            </span>
            <span className="timeline-event">{sentences[index]}</span>
            {entry.codes.map((code) => (
              <span key={code} className="timeline-code-title">
                <a href={`#/catalogue/${code}`} className="code-chip">
                  {code}
                </a>{' '}
                {codeTitle(code, language)}
              </span>
            ))}
          </li>
        );
      })}
    </ol>
  );
};
