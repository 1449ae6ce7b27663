import {
  DAY,
  dateOf,
  endOfDay,
  ID_DOCUMENTS,
  type IdDocument,
  formatDate as isoDate,
  parseDate,
  startOfDay,
} from '@reservkort/domain';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { AgentFailure } from '../api/agent-client.js';
import type { paths } from '../api/server-api.js';
import { answer, client } from '../api/server-client.js';
import type { Me, OrderView, PersonAnswer, RevocationDone, SigningChallenge } from '../api/views.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PersonEids, type PersonEidsAnswer } from '../components/person-eids.js';
import { PinPrompt } from '../components/pin-prompt.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { agentFailureOf } from '../flow/portal-session.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard, formatDate, formatEndDate } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { useOwnStationBranch } from './stock-screen.js';

type Stock = paths['/api/stock/{stationId}']['get']['responses'][200]['content']['application/json'];

/** The date input's value for the Swedish calendar day of an instant. */
const isoDay = (at: number): string => isoDate(dateOf(at));

/** A person's reserve-card e-IDs, as an administrator with a role in their branch may see them. */
const loadEids = (hsaId: string) =>
  answer<PersonEidsAnswer>(client.GET('/api/admin/persons/{hsaId}/eids', { params: { path: { hsaId } } }));
const revokeEid = (hsaId: string, cardNumber: string, reason: string) =>
  answer<RevocationDone>(
    client.POST('/api/admin/persons/{hsaId}/eids/revoke', {
      params: { path: { hsaId } },
      body: { cardNumber, reason },
    }),
  );

/** Admin 1: find a person, register and sign an order with the card, see and cancel orders. */
export const AdminPortal = ({ ws, me }: { readonly ws: Workstation; readonly me: Me }) => {
  const { language, t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<PersonAnswer | null>(null);
  const [error, setError] = useState<PageError | null>(null);
  // Which notice, not its words: a change of language must change the notice too.
  const [notice, setNotice] = useState<'registered' | 'cancelled' | null>(null);
  const [busy, setBusy] = useState(false);
  const [cardNumber, setCardNumber] = useState('');
  const [validFrom, setValidFrom] = useState(() => isoDay(Date.now()));
  const [validTo, setValidTo] = useState(() => isoDay(Date.now() + 7 * DAY));
  const [idDocument, setIdDocument] = useState<IdDocument>('swedish-driving-licence');
  useEffect(() => heading.current?.focus(), []);
  // The sealed cards of this workstation's card station, to pick from; none if it cannot be read.
  const own = useOwnStationBranch(ws);
  const [sealed, setSealed] = useState<Stock['cards']>([]);
  const loadSealed = useCallback(async () => {
    if (own.branch === null) return;
    const stock = await answer<Stock>(
      client.GET('/api/stock/{stationId}', {
        params: { path: { stationId: own.branch }, query: { state: 'sealed' } },
      }),
    ).catch(() => null);
    setSealed(stock?.cards ?? []);
  }, [own.branch]);
  useEffect(() => {
    void loadSealed();
  }, [loadSealed]);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await work();
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
    }
  };

  const lookUp = (text: string) =>
    answer<PersonAnswer>(client.GET('/api/admin/persons', { params: { query: { query: text } } }));

  const search = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      setFound(null);
      setFound(await lookUp(query));
    });
  };

  const register = (event: FormEvent) => {
    event.preventDefault();
    if (found === null) return;
    void run(async () => {
      // Dates are Swedish calendar days: valid from the start of the first, to the end of the last.
      const from = parseDate(validFrom);
      const to = parseDate(validTo);
      const notBefore = Math.max(from.ok ? startOfDay(from.value) : 0, Date.now());
      const notAfter = to.ok ? endOfDay(to.value) : Number.NaN;
      const challenge = await answer<SigningChallenge & { stationNonce: string }>(
        client.POST('/api/admin/orders/prepare', {
          body: {
            personHsaId: found.person.hsaId,
            cardNumber: cardNumber.replace(/\s+/g, ''),
            validity: { notBefore, notAfter: Number.isFinite(notAfter) ? notAfter : 0 },
            idDocument,
          },
        }),
      );
      const readerId = ws.readerIdOf(1);
      if (readerId === null) throw AgentFailure.of('READER_NOT_FOUND', { reader: '1' });
      await ws.agent.bind(readerId);
      const done = await ws.run(ws.agent.sign(readerId, challenge.toBeSigned));
      if (done.state !== 'done') throw agentFailureOf(done);
      const card = await ws.agent.card(readerId);
      // The station states that the login card is still in its reader, never taken out since login.
      const readers = await ws.statement({
        flowId: challenge.challengeId,
        nonce: challenge.stationNonce,
        kind: 'readers',
      });
      await answer<OrderView>(
        client.POST('/api/admin/orders', {
          body: {
            challengeId: challenge.challengeId,
            certificate: card.certificates.find((c) => c.key === 'sign')?.der ?? '',
            signature: (done.result as { signature: string }).signature,
            readers,
          },
        }),
      );
      setFound(await lookUp(found.person.hsaId));
      setCardNumber('');
      await loadSealed();
      setNotice('registered');
    });
  };

  const cancel = (orderId: string) =>
    void run(async () => {
      await answer(client.POST('/api/admin/orders/{orderId}/cancel', { params: { path: { orderId } } }));
      if (found) setFound(await lookUp(found.person.hsaId));
      setNotice('cancelled');
    });

  return (
    <section className="admin-portal">
      <h2 ref={heading} tabIndex={-1}>
        {t.admin.title}
      </h2>
      {me.assuranceLevel === 'LoA2' ? (
        <ErrorPanel error={{ code: 'LOA2_LOGIN' }} />
      ) : (
        <>
          <p>{t.admin.intro}</p>
          <form onSubmit={search} className="search-form">
            <label htmlFor="person-query">{t.admin.searchLabel}</label>
            <input
              id="person-query"
              value={query}
              maxLength={200}
              autoComplete="off"
              onChange={(event) => setQuery(event.target.value)}
            />
            <button type="submit" className="primary" disabled={busy} data-action="find-person">
              {t.admin.search}
            </button>
          </form>
        </>
      )}
      <div aria-live="polite">
        {notice ? (
          <p role="status" className="notice">
            {t.admin[notice]}
          </p>
        ) : null}
      </div>
      {error ? <ErrorPanel error={error} id="admin-error" /> : null}
      {found ? (
        <>
          <h3>{t.admin.person}</h3>
          <dl className="review" data-testid="person">
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
          <h3>{t.admin.orders}</h3>
          {found.orders.length === 0 ? <p>{t.admin.noOrders}</p> : null}
          <ul className="orders" data-testid="orders">
            {found.orders.map((order) => (
              <li key={order.id} data-order={order.id} data-state={order.state}>
                {formatCard(order.cardNumber)} ·{' '}
                {t.admin.state[order.state as keyof typeof t.admin.state] ?? order.state} ·{' '}
                {formatDate(order.validity.notBefore, language)} –{' '}
                {formatEndDate(order.validity.notAfter, language)}
                {order.state === 'registered' ? (
                  <button type="button" onClick={() => cancel(order.id)} disabled={busy}>
                    {t.admin.cancel}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
          <PersonEids hsaId={found.person.hsaId} load={loadEids} revoke={revokeEid} />
          <form onSubmit={register} className="order-form" aria-labelledby="new-order-title">
            <h3 id="new-order-title">{t.admin.newOrder}</h3>
            {sealed.length > 0 ? (
              <>
                <label htmlFor="order-stock">{t.admin.fromStock}</label>
                <select
                  id="order-stock"
                  value={
                    sealed.some((c) => c.cardNumber === cardNumber.replace(/\s+/g, ''))
                      ? cardNumber.replace(/\s+/g, '')
                      : ''
                  }
                  onChange={(event) => setCardNumber(event.target.value)}
                >
                  <option value="">{t.admin.fromStockNone}</option>
                  {sealed.map((card) => (
                    <option key={card.cardNumber} value={card.cardNumber}>
                      {formatCard(card.cardNumber)} · {card.product} · {card.physicalExpiry}
                    </option>
                  ))}
                </select>
              </>
            ) : null}
            <label htmlFor="order-card">{t.admin.cardNumber}</label>
            <input
              id="order-card"
              value={cardNumber}
              inputMode="numeric"
              autoComplete="off"
              maxLength={40}
              required
              onChange={(event) => setCardNumber(event.target.value)}
            />
            <label htmlFor="order-from">{t.admin.validFrom}</label>
            <input
              id="order-from"
              type="date"
              value={validFrom}
              required
              onChange={(e) => setValidFrom(e.target.value)}
            />
            <label htmlFor="order-to">{t.admin.validTo}</label>
            <input
              id="order-to"
              type="date"
              value={validTo}
              required
              onChange={(e) => setValidTo(e.target.value)}
            />
            <label htmlFor="order-document">{t.admin.idDocument}</label>
            <select
              id="order-document"
              value={idDocument}
              onChange={(event) => setIdDocument(event.target.value as IdDocument)}
            >
              {ID_DOCUMENTS.map((doc) => (
                <option key={doc} value={doc}>
                  {t.admin.idDocuments[doc]}
                </option>
              ))}
            </select>
            <button type="submit" className="primary" disabled={busy} data-action="sign-order">
              {t.admin.sign}
            </button>
          </form>
          <PinPrompt ws={ws} />
        </>
      ) : null}
    </section>
  );
};
