import type { SupportCaseAttempt } from '@reservkort/domain';
import { formatDate, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { TimelineView } from './timeline-view.js';

interface CaseAttemptsProps {
  readonly attempts: readonly SupportCaseAttempt[];
  readonly reserveCard: string | null;
  /** With each attempt's timeline (the desk's case page); without, a line per attempt. */
  readonly withTimelines: boolean;
}

/** The earlier attempts at the order, oldest first: when, by whom, how it ended, which codes. */
export const CaseAttempts = ({ attempts, reserveCard, withTimelines }: CaseAttemptsProps) => {
  const { language, t, catalogue } = useLanguage();
  if (attempts.length === 0) return null;
  return (
    <section className="case-attempts" aria-labelledby="case-attempts-title">
      <h3 id="case-attempts-title">{t.support.attempts}</h3>
      <ol>
        {attempts.map((attempt, index) => {
          const n = index + 1;
          const summary = fill(t.support.attempt, {
            n,
            date: formatDate(attempt.startedAt, language),
            time: formatTime(attempt.startedAt, language),
            admin: attempt.admin2HsaId ?? '–',
            outcome: t.support.attemptOutcomes[attempt.status],
            step: `${attempt.step} (${catalogue.steps[attempt.step]})`,
          });
          return (
            <li key={attempt.flowId} data-attempt={attempt.flowId}>
              <p>
                {summary}{' '}
                {attempt.codes.map((code) => (
                  <span key={code}>
                    <a href={`#/catalogue/${code}`} className="code-chip">
                      {code}
                    </a>{' '}
                  </span>
                ))}
              </p>
              {withTimelines ? (
                <details>
                  <summary>{fill(t.support.attemptTimeline, { n })}</summary>
                  <TimelineView
                    entries={attempt.timeline}
                    reserveCard={reserveCard}
                    label={fill(t.support.attemptTimeline, { n })}
                  />
                </details>
              ) : null}
            </li>
          );
        })}
      </ol>
    </section>
  );
};
