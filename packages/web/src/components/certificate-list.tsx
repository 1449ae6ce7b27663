import type { CertificateOnCard } from '@reservkort/domain';
import type { CertificateStatusNow } from '../api/views.js';
import { formatDate, formatEndDate, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';

interface CertificateListProps {
  readonly certificates: readonly CertificateOnCard[];
  /** Each certificate's status now, from the CA; left out where no one asked the CA (the reporter's dialog). */
  readonly statuses?: readonly CertificateStatusNow[];
}

/** The certificates read off a card, in full: subject, issuer, serial, validity, key usage, policy, status. */
export const CertificateList = ({ certificates, statuses }: CertificateListProps) => {
  const { language, t } = useLanguage();
  const labels = t.support.certificate;
  if (certificates.length === 0) return <>{t.support.noCertificates}</>;
  const statusOf = (serial: string): string | null => {
    const known = statuses?.find((s) => s.serial === serial);
    if (known === undefined) return null;
    if (known.status !== 'revoked') return labels.statuses[known.status];
    return fill(labels.statuses.revoked, {
      time: `${formatDate(known.revokedAt, language)} ${formatTime(known.revokedAt, language)}`,
      reason: labels.reasons[known.reason] ?? known.reason,
    });
  };
  return (
    <ul className="certificates">
      {certificates.map((cert) => {
        const status = statusOf(cert.serial);
        const revoked = statuses?.find((s) => s.serial === cert.serial)?.status;
        return (
          <li key={cert.serial} data-serial={cert.serial}>
            <div>
              {labels.subject}: {cert.subject}
            </div>
            <div>
              {labels.issuer}: {cert.issuer}
            </div>
            <div>
              {labels.serial}: {cert.serial}
            </div>
            <div>
              {labels.validity}: {formatDate(Date.parse(cert.notBefore), language)} –{' '}
              {formatEndDate(Date.parse(cert.notAfter), language)}
            </div>
            <div>
              {labels.keyUsage}: {cert.keyUsage.join(', ')}
            </div>
            <div>
              {labels.policy}: {cert.policies.join(', ')}
            </div>
            {status === null ? null : (
              <div className={`certificate-status certificate-${revoked}`} data-status={revoked}>
                {labels.statusNow}: {status}
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
};
