import { type FormEvent, useCallback, useState } from 'react';
import { answer, client } from '../api/server-client.js';
import type { RevocationDone } from '../api/views.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PersonEids, type PersonEidsAnswer } from '../components/person-eids.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { useLanguage } from '../i18n/language.js';

interface DeskPerson extends PersonEidsAnswer {
  readonly person: {
    readonly hsaId: string;
    readonly name: string;
    readonly organisation: string;
    readonly protectedIdentity: boolean;
  };
}

const find = (query: string) =>
  answer<DeskPerson>(client.GET('/api/support/persons', { params: { query: { query } } }));

const revokeEid = (hsaId: string, cardNumber: string, reason: string) =>
  answer<RevocationDone>(
    client.POST('/api/support/persons/{hsaId}/eids/revoke', {
      params: { path: { hsaId } },
      body: { cardNumber, reason },
    }),
  );

/** The service desk's person search: the person's reserve-card e-IDs, with spärr. */
export const DeskPersons = () => {
  const { t } = useLanguage();
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<DeskPerson | null>(null);
  const [error, setError] = useState<PageError | null>(null);
  const [busy, setBusy] = useState(false);
  const search = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setFound(await find(query.trim()));
    } catch (failure) {
      setFound(null);
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
    }
  };
  // Read again by the person's HSA-id after a spärr: the search text may have been a personnummer.
  const load = useCallback(async (hsaId: string) => {
    const next = await find(hsaId);
    setFound(next);
    return next;
  }, []);
  return (
    <section className="desk-persons" aria-labelledby="desk-persons-title">
      <h3 id="desk-persons-title">{t.holder.deskSearchTitle}</h3>
      <p>{t.holder.deskSearchIntro}</p>
      <form className="search" onSubmit={(event) => void search(event)}>
        <label htmlFor="desk-person-query">{t.admin.searchLabel}</label>{' '}
        <input
          id="desk-person-query"
          value={query}
          autoComplete="off"
          maxLength={200}
          onChange={(event) => setQuery(event.target.value)}
        />{' '}
        <button type="submit" className="primary" disabled={busy} data-action="desk-find-person">
          {t.admin.search}
        </button>
      </form>
      {error ? <ErrorPanel error={error} id="desk-person-error" /> : null}
      {found ? (
        <>
          <dl className="review" data-testid="desk-person">
            <dt>{t.flow.review.name}</dt>
            <dd>
              {found.person.name}
              {found.person.protectedIdentity ? ` (${t.admin.protected})` : ''}
            </dd>
            <dt>{t.flow.review.hsaId}</dt>
            <dd>{found.person.hsaId}</dd>
            <dt>{t.flow.review.organisation}</dt>
            <dd>{found.person.organisation}</dd>
          </dl>
          <PersonEids hsaId={found.person.hsaId} load={load} revoke={revokeEid} initial={found} />
        </>
      ) : null}
    </section>
  );
};
