import { useEffect, useRef, useState } from 'react';
import type { SupportCasePreview, SupportCaseShown } from '../api/views.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { formatCard } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { CaseAttempts } from './case-attempts.js';
import { CertificateList } from './certificate-list.js';
import { ErrorPanel } from './error-panel.js';
import { TimelineView } from './timeline-view.js';

interface SupportCaseDialogProps {
  /**
   * The pre-filled case and sending it: the agent's version and the card's certificates come only
   * as the card station's statements (none when the agent is no station: the case then says so).
   */
  readonly preview: () => Promise<SupportCasePreview>;
  /** Sends the case; answers at least the case's id, which the reporter is shown. */
  readonly send: (comment: string) => Promise<Pick<SupportCaseShown, 'id'>>;
  readonly onClose: () => void;
}

/** "Skicka felanmälan": the pre-filled case shown read-only, a comment box, and send. */
export const SupportCaseDialog = ({ preview: load, send: deliver, onClose }: SupportCaseDialogProps) => {
  const { t } = useLanguage();
  const dialog = useRef<HTMLDialogElement>(null);
  const [preview, setPreview] = useState<SupportCasePreview | null>(null);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<PageError | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    dialog.current?.showModal();
    let cancelled = false;
    void (async () => {
      try {
        const shown = await load();
        if (!cancelled) setPreview(shown);
      } catch (failure) {
        if (!cancelled) setError(pageErrorOf(failure));
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [load]);

  const send = async () => {
    if (preview === null) return;
    setSending(true);
    setError(null);
    try {
      const created = await deliver(comment);
      setSent(created.id);
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setSending(false);
    }
  };

  const c = preview?.case;
  const value = (text: string | null) => text ?? '–';
  return (
    <dialog ref={dialog} className="support-dialog" aria-labelledby="support-title" onClose={onClose}>
      <h2 id="support-title">{t.support.title}</h2>
      {sent ? (
        <p role="status" data-case-id={sent}>
          {fill(t.support.sent, { id: sent })}
        </p>
      ) : (
        <p>{t.support.intro}</p>
      )}
      {error ? <ErrorPanel error={error} /> : null}
      {c ? (
        <form
          method="dialog"
          onSubmit={(event) => {
            event.preventDefault();
            void send();
          }}
        >
          <dl className="case-fields" data-testid="case-fields">
            <dt>{t.support.admin1}</dt>
            <dd data-field="admin1">{value(c.admin1HsaId)}</dd>
            <dt>{t.support.admin2}</dt>
            <dd data-field="admin2">{value(c.admin2HsaId)}</dd>
            <dt>{t.support.recipient}</dt>
            <dd data-field="recipient">{value(c.recipientHsaId)}</dd>
            <dt>{t.support.cardNumber}</dt>
            <dd data-field="cardNumber">{formatCard(c.cardNumber)}</dd>
            <dt>{t.support.cardStockLabel}</dt>
            <dd data-field="cardStock">
              {c.cardStock
                ? t.support.cardStock
                    .replace('{product}', c.cardStock.product)
                    .replace('{expiry}', c.cardStock.physicalExpiry)
                : '–'}
            </dd>
            <dt>{t.support.agent}</dt>
            <dd data-field="agent">
              {c.agentVersion ? `${c.agentVersion} (${value(c.agentPackaging)})` : '–'}
            </dd>
            <dt>{t.support.twoReaders}</dt>
            <dd data-field="twoReaders">{c.readers.throughout ? t.support.yes : t.support.no}</dd>
            <dt>{t.support.codes}</dt>
            <dd data-field="codes">{c.codes.join(', ') || '–'}</dd>
            <dt>{t.support.certificates}</dt>
            <dd data-field="certificates">
              <CertificateList certificates={c.certificates} />
            </dd>
          </dl>
          <h3>{t.support.timeline}</h3>
          <TimelineView entries={c.timeline} reserveCard={c.cardNumber} />
          <CaseAttempts attempts={c.attempts ?? []} reserveCard={c.cardNumber} withTimelines={false} />
          {sent ? null : (
            <>
              <label htmlFor="support-comment">{t.support.comment}</label>
              <textarea
                id="support-comment"
                maxLength={4000}
                rows={3}
                value={comment}
                onChange={(event) => setComment(event.target.value)}
              />
            </>
          )}
          <div className="actions">
            {sent ? null : (
              <button type="submit" className="primary" disabled={sending} data-action="send-case">
                {t.support.send}
              </button>
            )}
            <button type="button" onClick={() => dialog.current?.close()}>
              {t.support.cancel}
            </button>
          </div>
        </form>
      ) : error ? (
        <button type="button" onClick={() => dialog.current?.close()}>
          {t.support.cancel}
        </button>
      ) : (
        <p aria-busy="true">{t.app.loading}</p>
      )}
    </dialog>
  );
};
