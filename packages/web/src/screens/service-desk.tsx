import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { answer, client } from '../api/server-client.js';
import type { SupportCaseFull, SupportCaseShown } from '../api/views.js';
import { CaseAttempts } from '../components/case-attempts.js';
import { CertificateList } from '../components/certificate-list.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PracticeButton, type PracticeKit } from '../components/practice-button.js';
import { TimelineView } from '../components/timeline-view.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { formatCard, formatDate, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { DeskPersons } from './desk-persons.js';

type StatusFilter = 'all' | 'open' | 'assigned' | 'resolved';
/** The queue's columns the server sorts by, in the order they are shown. */
type SortColumn = 'createdAt' | 'reportedBy' | 'recipient' | 'cardNumber' | 'codes' | 'status' | 'assignee';
type Direction = 'asc' | 'desc';

/** An administrator by HSA-id; a card station (a case filed before login) said to be one. */
const reporterName = (reportedBy: string, station: string): string =>
  reportedBy.startsWith('st-') ? fill(station, { id: reportedBy }) : reportedBy;

/** A code that may wrap after its underscores in a narrow column, never inside a word. */
const breakable = (code: string) =>
  code.split('_').map((part, index, parts) => (
    // The parts of one code never move: their index is their identity.
    // biome-ignore lint/suspicious/noArrayIndexKey: fixed parts of a fixed string
    <span key={index} className="code-part">
      {part}
      {index < parts.length - 1 ? (
        <>
          _<wbr />
        </>
      ) : null}
    </span>
  ));

/** The service desk: the queue, and one case with its timeline, catalogue entries and comments. */
export const ServiceDesk = ({
  caseId,
  practice = null,
}: {
  readonly caseId: string | null;
  /** Training mode: what "Öva på det här" needs on a case. */
  readonly practice?: PracticeKit | null;
}) => {
  const { language, t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [filter, setFilter] = useState<StatusFilter>('all');
  const [typed, setTyped] = useState('');
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<{ column: SortColumn; direction: Direction }>({
    column: 'createdAt',
    direction: 'desc',
  });
  const [cases, setCases] = useState<readonly SupportCaseShown[] | null>(null);
  const [error, setError] = useState<PageError | null>(null);

  const load = useCallback(async () => {
    try {
      const query = {
        ...(filter === 'all' ? {} : { status: filter }),
        ...(search.trim() === '' ? {} : { q: search.trim() }),
        ...(sort.column === 'createdAt' && sort.direction === 'desc'
          ? {}
          : { sort: sort.column, direction: sort.direction }),
      };
      const result = await answer<{ cases: SupportCaseShown[] }>(
        client.GET('/api/support/cases', { params: { query } }),
      );
      setCases(result.cases);
      setError(null);
    } catch (failure) {
      setError(pageErrorOf(failure));
    }
  }, [filter, search, sort]);

  useEffect(() => {
    if (caseId !== null) return;
    // Back from a case: drop the list seen before it, so no row shows a status it no longer has.
    setCases(null);
    void load();
  }, [load, caseId]);
  useEffect(() => {
    if (caseId === null) heading.current?.focus();
  }, [caseId]);

  if (caseId !== null) return <CaseView caseId={caseId} practice={practice} />;
  const columns: readonly { readonly id: SortColumn | null; readonly label: string }[] = [
    { id: null, label: t.desk.case.replace(' {id}', '') },
    { id: 'createdAt', label: t.desk.created },
    { id: 'reportedBy', label: t.desk.reportedBy },
    { id: 'recipient', label: t.support.recipient },
    { id: 'cardNumber', label: t.support.cardNumber },
    { id: 'codes', label: t.support.codes },
    { id: 'status', label: t.desk.statusColumn },
    { id: 'assignee', label: t.desk.assignee },
  ];
  /** A column's header sorts by it; again, the other way. */
  const sortBy = (column: SortColumn) =>
    setSort((current) =>
      current.column === column
        ? { column, direction: current.direction === 'asc' ? 'desc' : 'asc' }
        : { column, direction: column === 'createdAt' ? 'desc' : 'asc' },
    );
  return (
    <section className="service-desk">
      <h2 ref={heading} tabIndex={-1}>
        {t.desk.title}
      </h2>
      <label htmlFor="status-filter">{t.desk.filterStatus}</label>{' '}
      <select
        id="status-filter"
        value={filter}
        onChange={(event) => setFilter(event.target.value as StatusFilter)}
      >
        <option value="all">{t.desk.all}</option>
        <option value="open">{t.desk.status.open}</option>
        <option value="assigned">{t.desk.status.assigned}</option>
        <option value="resolved">{t.desk.status.resolved}</option>
      </select>
      <search>
        <form
          className="queue-search"
          onSubmit={(event) => {
            event.preventDefault();
            setSearch(typed);
          }}
        >
          <label htmlFor="queue-search">{t.desk.search}</label>{' '}
          <input
            id="queue-search"
            type="search"
            maxLength={100}
            value={typed}
            aria-describedby="queue-search-hint"
            onChange={(event) => setTyped(event.target.value)}
          />{' '}
          <button type="submit" data-action="search-queue">
            {t.desk.searchButton}
          </button>
          <p id="queue-search-hint" className="hint">
            {t.desk.searchHint}
          </p>
        </form>
      </search>
      {error ? <ErrorPanel error={error} /> : null}
      <h3>{t.desk.queue}</h3>
      {cases?.length === 0 ? <p>{search.trim() === '' ? t.desk.empty : t.desk.noMatch}</p> : null}
      <div className="queue-scroll">
        <table className="queue" data-testid="queue">
          <thead>
            <tr>
              {columns.map((column) => {
                const sorted = column.id !== null && sort.column === column.id;
                const ariaSort = sorted ? (sort.direction === 'asc' ? 'ascending' : 'descending') : undefined;
                return (
                  <th key={column.label} scope="col" aria-sort={ariaSort} data-column={column.id ?? 'id'}>
                    {column.id === null ? (
                      column.label
                    ) : (
                      <button
                        type="button"
                        className="sort"
                        title={fill(t.desk.sortBy, { column: column.label })}
                        onClick={() => sortBy(column.id as SortColumn)}
                      >
                        {column.label}
                        {sorted ? (sort.direction === 'asc' ? ' ▲' : ' ▼') : ''}
                      </button>
                    )}
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {(cases ?? []).map((c) => (
              <tr key={c.id} data-case={c.id}>
                <td>
                  <a href={`#/desk/${c.id}`}>{c.id}</a>
                </td>
                <td>
                  {formatDate(c.createdAt, language)} {formatTime(c.createdAt, language)}
                </td>
                <td>{reporterName(c.reportedBy, t.desk.station)}</td>
                <td>{c.case.recipientHsaId ?? '–'}</td>
                <td>{formatCard(c.case.cardNumber)}</td>
                <td className="codes">
                  {c.codes.length === 0
                    ? '–'
                    : c.codes.map((code) => <span key={code}>{breakable(code)}</span>)}
                </td>
                <td>{t.desk.status[c.status]}</td>
                <td>{c.assignee ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <DeskPersons />
    </section>
  );
};

const CaseView = ({
  caseId,
  practice,
}: {
  readonly caseId: string;
  readonly practice: PracticeKit | null;
}) => {
  const { language, t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [shown, setShown] = useState<SupportCaseFull | null>(null);
  const [error, setError] = useState<PageError | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setShown(
        await answer<SupportCaseFull>(
          client.GET('/api/support/cases/{caseId}', { params: { path: { caseId } } }),
        ),
      );
    } catch (failure) {
      setError(pageErrorOf(failure));
    }
  }, [caseId]);
  useEffect(() => {
    void load();
  }, [load]);
  const shownId = shown?.id ?? null;
  useEffect(() => {
    if (shownId !== null) heading.current?.focus();
  }, [shownId]);

  const act = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      await load();
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
    }
  };
  const path = { params: { path: { caseId } } } as const;
  const addComment = (event: FormEvent) => {
    event.preventDefault();
    void act(async () => {
      await answer(client.POST('/api/support/cases/{caseId}/comments', { ...path, body: { text: comment } }));
      setComment('');
    });
  };

  if (shown === null) return error ? <ErrorPanel error={error} /> : <p aria-busy="true">{t.app.loading}</p>;
  const c = shown.case;
  return (
    <section className="case-view" data-case={shown.id} data-status={shown.status}>
      <p>
        <a href="#/desk">{t.desk.back}</a>
      </p>
      <h2 ref={heading} tabIndex={-1}>
        {fill(t.desk.case, { id: shown.id })} – {t.desk.status[shown.status]}
      </h2>
      {error ? <ErrorPanel error={error} /> : null}
      <dl className="case-fields">
        <dt>{t.desk.reportedBy}</dt>
        <dd>
          {reporterName(shown.reportedBy, t.desk.station)} · {formatDate(shown.createdAt, language)}{' '}
          {formatTime(shown.createdAt, language)}
        </dd>
        <dt>{t.desk.assignee}</dt>
        <dd>{shown.assignee ?? '–'}</dd>
        <dt>{t.support.admin1}</dt>
        <dd>{c.admin1HsaId ?? '–'}</dd>
        <dt>{t.support.admin2}</dt>
        <dd>{c.admin2HsaId ?? '–'}</dd>
        <dt>{t.support.recipient}</dt>
        <dd>{c.recipientHsaId ?? '–'}</dd>
        <dt>{t.support.cardNumber}</dt>
        <dd>{formatCard(c.cardNumber)}</dd>
        <dt>{t.support.cardStockLabel}</dt>
        <dd data-field="cardStock">
          {c.cardStock
            ? t.support.cardStock
                .replace('{product}', c.cardStock.product)
                .replace('{expiry}', c.cardStock.physicalExpiry)
            : '–'}
        </dd>
        <dt>{t.support.agent}</dt>
        <dd>{c.agentVersion ? `${c.agentVersion} (${c.agentPackaging ?? '–'})` : '–'}</dd>
        <dt>{t.support.twoReaders}</dt>
        <dd>{c.readers.throughout ? t.support.yes : t.support.no}</dd>
        <dt>{t.support.codes}</dt>
        <dd>{shown.codes.join(', ') || '–'}</dd>
        <dt>{t.support.certificates}</dt>
        <dd data-field="certificates">
          <CertificateList certificates={c.certificates} statuses={shown.certificateStatuses ?? []} />
        </dd>
        {c.comment ? (
          <>
            <dt>{t.desk.reporterComment}</dt>
            <dd>{c.comment}</dd>
          </>
        ) : null}
      </dl>
      <div className="actions">
        <button
          type="button"
          disabled={busy || shown.status !== 'open'}
          onClick={() => void act(() => answer(client.POST('/api/support/cases/{caseId}/assign', path)))}
          data-action="assign"
        >
          {t.desk.assign}
        </button>
        <button
          type="button"
          disabled={busy || shown.status === 'resolved'}
          onClick={() => void act(() => answer(client.POST('/api/support/cases/{caseId}/resolve', path)))}
          data-action="resolve"
        >
          {t.desk.resolve}
        </button>
        {/* Read-only: the case's screens played back, moment by moment. */}
        <a className="button" href={`#/replay/case/${encodeURIComponent(shown.id)}`} data-action="replay">
          {t.replay.open}
        </a>
      </div>
      {practice ? <PracticeButton kit={practice} caseId={shown.id} /> : null}
      <h3>{t.desk.timeline}</h3>
      <TimelineView entries={c.timeline} reserveCard={c.cardNumber} />
      <CaseAttempts attempts={c.attempts ?? []} reserveCard={c.cardNumber} withTimelines={true} />
      <h3>{t.desk.catalogue}</h3>
      <dl className="catalogue-entries">
        {shown.catalogue.map((entry) => (
          <div key={entry.code} id={`entry-${entry.code}`}>
            <dt>
              <code>{entry.code}</code> {entry.message[language]}
            </dt>
            <dd>
              {entry.explanation[language]} {entry.remedy[language]}
            </dd>
          </div>
        ))}
      </dl>
      <h3>{t.desk.comments}</h3>
      <ul className="comments">
        {shown.comments.map((entry) => (
          <li key={`${entry.at}-${entry.author}`}>
            <strong>{entry.author}</strong> {formatTime(entry.at, language)}: {entry.text}
          </li>
        ))}
      </ul>
      <form onSubmit={addComment}>
        <label htmlFor="case-comment">{t.desk.comment}</label>
        <textarea
          id="case-comment"
          rows={3}
          maxLength={4000}
          required
          value={comment}
          onChange={(event) => setComment(event.target.value)}
        />
        <button type="submit" disabled={busy || comment.trim() === ''} data-action="comment">
          {t.desk.addComment}
        </button>
      </form>
    </section>
  );
};
