import type { SparrReason } from '@reservkort/domain';
import { useCallback, useEffect, useState } from 'react';
import type { EidView, RevocationDone } from '../api/views.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { formatCard } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { EidList } from './eid-list.js';
import { ErrorPanel } from './error-panel.js';

export interface PersonEidsAnswer {
  readonly eids: readonly EidView[];
  readonly reasons: readonly string[];
}

interface PersonEidsProps {
  /** Whose e-IDs: a change reads them again. */
  readonly hsaId: string;
  readonly load: (hsaId: string) => Promise<PersonEidsAnswer>;
  readonly revoke: (hsaId: string, cardNumber: string, reason: SparrReason) => Promise<RevocationDone>;
  /** The first answer, where the person's search already brought it. */
  readonly initial?: PersonEidsAnswer | undefined;
}

/** A person's reserve-card e-IDs on an administrator's or the service desk's person page, with spärr. */
export const PersonEids = ({ hsaId, load, revoke, initial }: PersonEidsProps) => {
  const { t } = useLanguage();
  const [shown, setShown] = useState<PersonEidsAnswer | null>(initial ?? null);
  const [error, setError] = useState<PageError | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);
  const reload = useCallback(async () => {
    setError(null);
    try {
      setShown(await load(hsaId));
    } catch (failure) {
      setShown(null);
      setError(pageErrorOf(failure));
    }
  }, [hsaId, load]);
  useEffect(() => {
    setRevoked(null);
    if (initial === undefined) void reload();
    else setShown(initial);
  }, [initial, reload]);
  const onRevoke = async (eid: EidView, reason: SparrReason) => {
    setRevoked(null);
    setError(null);
    try {
      await revoke(hsaId, eid.cardNumber, reason);
      setRevoked(eid.cardNumber);
    } catch (failure) {
      // Said here, not in the e-ID's form: a refusal such as ALREADY_REVOKED takes the form away.
      setError(pageErrorOf(failure));
    } finally {
      // Whatever the answer, the page shows the status the CA has now.
      const next = await load(hsaId).catch(() => null);
      if (next) setShown(next);
    }
  };
  return (
    <section className="person-eids" aria-labelledby="person-eids-title" data-testid="person-eids">
      <h3 id="person-eids-title">{t.holder.personEids}</h3>
      {revoked ? (
        <p role="status" data-testid="sparr-done">
          {fill(t.holder.sparr.done, { card: formatCard(revoked) })}
        </p>
      ) : null}
      {error ? <ErrorPanel error={error} id="person-eids-error" /> : null}
      {shown ? (
        <EidList eids={shown.eids} reasons={shown.reasons as SparrReason[]} onRevoke={onRevoke} level={4} />
      ) : null}
    </section>
  );
};
