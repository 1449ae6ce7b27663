import type { SparrReason } from '@reservkort/domain';
import { type ReactNode, useId, useState } from 'react';
import type { EidView } from '../api/views.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { formatCard, formatDate, formatEndDate, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { ErrorPanel } from './error-panel.js';

interface EidListProps {
  readonly eids: readonly EidView[];
  /** The reasons this reader may give for a spärr; none: no spärr offered. */
  readonly reasons?: readonly SparrReason[];
  readonly onRevoke?: ((eid: EidView, reason: SparrReason) => Promise<void>) | undefined;
  /** Further actions on a valid e-ID (the holder's förlängning), drawn in their own section. */
  readonly actions?: ((eid: EidView) => ReactNode) | undefined;
  /** The heading level of each e-ID. */
  readonly level?: 3 | 4;
  /**
   * A förlängning just replaced these certificates: what was read before is no longer their status,
   * and no spärr is offered for them.
   */
  readonly superseded?: boolean;
}

/**
 * A person's reserve-card e-IDs: the card number in groups, the days left, and both certificates
 * with issuer, serial, validity and their status at the CA now; with spärr when the reader may.
 */
export const EidList = ({
  eids,
  reasons = [],
  onRevoke,
  actions,
  level = 3,
  superseded = false,
}: EidListProps) => {
  const { t } = useLanguage();
  if (eids.length === 0) return <p data-testid="no-eids">{t.holder.none}</p>;
  return (
    <ul className="eids">
      {eids.map((eid) => (
        <li
          key={eid.certificates[0]?.serial ?? `${eid.cardNumber}/${eid.orderId}`}
          data-card={eid.cardNumber}
          data-status={eid.status}
        >
          <Eid
            eid={eid}
            reasons={superseded ? [] : reasons}
            onRevoke={onRevoke}
            actions={actions}
            level={level}
            superseded={superseded}
          />
        </li>
      ))}
    </ul>
  );
};

const Eid = ({
  eid,
  reasons,
  onRevoke,
  actions,
  level,
  superseded,
}: Required<Pick<EidListProps, 'reasons' | 'level' | 'superseded'>> &
  Omit<EidListProps, 'eids' | 'reasons' | 'level'> & {
    readonly eid: EidView;
  }) => {
  const { language, t } = useLanguage();
  const H = level === 3 ? 'h3' : 'h4';
  const Sub = level === 3 ? 'h4' : 'h5';
  const time = (at: number) => `${formatDate(at, language)} ${formatTime(at, language)}`;
  const reasonText = (reason: string) => t.support.certificate.reasons[reason] ?? reason;
  const days =
    eid.status !== 'good'
      ? null
      : eid.daysLeft === 1
        ? t.holder.lastDay
        : fill(t.holder.daysLeft, { days: eid.daysLeft });
  return (
    <article className="eid" aria-label={fill(t.holder.eid, { card: formatCard(eid.cardNumber) })}>
      <H>{fill(t.holder.eid, { card: formatCard(eid.cardNumber) })}</H>
      {superseded ? (
        <p className="eid-summary" data-testid="eid-superseded" role="status">
          {t.holder.superseded}
        </p>
      ) : (
        <p className="eid-summary">
          <span className={`eid-status eid-${eid.status}`} data-testid="eid-status">
            {t.holder.statusLabel}: {t.holder.status[eid.status]}
          </span>
          {days === null ? null : (
            <>
              {' · '}
              <strong data-testid="days-left">{days}</strong>
            </>
          )}
        </p>
      )}
      <ul className="certificates">
        {eid.certificates.map((cert) => (
          <li key={cert.serial} data-serial={cert.serial} data-use={cert.use}>
            <Sub>{t.holder.uses[cert.use]}</Sub>
            <dl>
              <dt>{t.support.certificate.issuer}</dt>
              <dd>{cert.issuer}</dd>
              <dt>{t.support.certificate.serial}</dt>
              <dd className="serial">{cert.serial}</dd>
              <dt>{t.holder.validity}</dt>
              <dd>
                {formatDate(cert.notBefore, language)} – {formatEndDate(cert.notAfter, language)}
              </dd>
              {superseded ? null : (
                <>
                  <dt>{t.holder.statusNow}</dt>
                  <dd className={`certificate-status certificate-${cert.status}`} data-status={cert.status}>
                    {cert.revocation
                      ? fill(t.holder.revokedAt, {
                          time: time(cert.revocation.revokedAt),
                          reason: reasonText(cert.revocation.reason),
                        })
                      : t.holder.status[cert.status]}
                  </dd>
                </>
              )}
            </dl>
          </li>
        ))}
      </ul>
      {eid.status === 'good' && actions ? <div className="eid-actions">{actions(eid)}</div> : null}
      {eid.status !== 'revoked' && onRevoke && reasons.length > 0 ? (
        <SparrForm eid={eid} reasons={reasons} onRevoke={onRevoke} level={level} />
      ) : null}
    </article>
  );
};

/** The spärr: a reason the reader may give, a confirmation that it cannot be undone, then the action. */
const SparrForm = ({
  eid,
  reasons,
  onRevoke,
  level,
}: {
  readonly eid: EidView;
  readonly reasons: readonly SparrReason[];
  readonly onRevoke: (eid: EidView, reason: SparrReason) => Promise<void>;
  readonly level: 3 | 4;
}) => {
  const { t } = useLanguage();
  const id = useId();
  const Sub = level === 3 ? 'h4' : 'h5';
  const [reason, setReason] = useState<SparrReason | null>(null);
  const [confirmed, setConfirmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<PageError | null>(null);
  const submit = async () => {
    if (reason === null) return;
    setBusy(true);
    setError(null);
    try {
      await onRevoke(eid, reason);
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="sparr" aria-labelledby={`${id}-title`} data-testid="sparr">
      <Sub id={`${id}-title`}>{t.holder.sparr.title}</Sub>
      <p>{t.holder.sparr.intro}</p>
      <fieldset>
        <legend>{t.holder.sparr.reason}</legend>
        {reasons.map((r) => (
          <label key={r} className="choice">
            <input
              type="radio"
              name={`${id}-reason`}
              value={r}
              checked={reason === r}
              onChange={() => setReason(r)}
              data-reason={r}
            />{' '}
            {t.holder.sparr.reasons[r as keyof typeof t.holder.sparr.reasons] ?? r}
          </label>
        ))}
      </fieldset>
      <label className="choice">
        <input
          type="checkbox"
          checked={confirmed}
          onChange={(event) => setConfirmed(event.target.checked)}
          data-action="confirm-sparr"
        />{' '}
        {t.holder.sparr.confirm}
      </label>
      <div className="control">
        <button
          type="button"
          className="danger"
          data-control="sparr"
          disabled={busy || reason === null || !confirmed}
          onClick={() => void submit()}
        >
          {busy ? t.holder.sparr.working : t.holder.sparr.button}
        </button>
      </div>
      {error ? <ErrorPanel error={error} id={`${id}-error`} /> : null}
    </section>
  );
};
