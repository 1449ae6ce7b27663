// "Kortlager": a card station's stock for its administrators: the cards by state with their counts,
// a batch imported by pasting or choosing its CSV file (every line's problem shown), a return
// recorded (the e-ID revoked, the card destroyed), a sealed card destroyed.
import { type ChangeEvent, type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import type { paths } from '../api/server-api.js';
import { ApiFailure, answer, client } from '../api/server-client.js';
import type { Me } from '../api/views.js';
import { ErrorPanel } from '../components/error-panel.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard, formatDate } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';

type StationList = paths['/api/stations/']['get']['responses'][200]['content']['application/json'];
type Stock = paths['/api/stock/{stationId}']['get']['responses'][200]['content']['application/json'];
type StockState = Stock['cards'][number]['state'];
type Imported =
  paths['/api/stock/{stationId}/batches']['post']['responses'][201]['content']['application/json'];

const STATES: readonly StockState[] = ['sealed', 'issued', 'returned', 'destroyed'];
const CAUSES = ['ordinary-card-back', 'no-longer-needed'] as const;
const WHYS = ['damaged', 'past-physical-expiry'] as const;

/** One problem of a refused batch, as the server wrote it in both languages. */
interface BatchProblem {
  readonly code: string;
  readonly message: { readonly sv: string; readonly en: string };
  readonly explanation: { readonly sv: string; readonly en: string };
}

/**
 * The branch of the card station this workstation's agent is, among the stations the admin sees;
 * null when the agent is no station the admin may see.
 */
export const useOwnStationBranch = (ws: Workstation): { branch: string | null; list: StationList | null } => {
  const [state, setState] = useState<{ branch: string | null; list: StationList | null }>({
    branch: null,
    list: null,
  });
  useEffect(() => {
    let live = true;
    void (async () => {
      const list = await answer<StationList>(client.GET('/api/stations/')).catch(() => null);
      const own = await ws.agent.station().catch(() => null);
      const branch = list?.stations.find((s) => s.id === own?.stationId)?.branchId ?? null;
      if (live) setState({ branch, list });
    })();
    return () => {
      live = false;
    };
  }, [ws]);
  return state;
};

export const StockScreen = ({ ws, me }: { readonly ws: Workstation; readonly me: Me }) => {
  const { language, t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const own = useOwnStationBranch(ws);
  const [stationId, setStationId] = useState('');
  const [filter, setFilter] = useState<StockState | ''>('');
  const [stock, setStock] = useState<Stock | null>(null);
  const [error, setError] = useState<PageError | null>(null);
  const [problems, setProblems] = useState<readonly BatchProblem[]>([]);
  // Kept as what happened, so it reads in the language chosen afterwards too.
  const [notice, setNotice] = useState<{
    readonly kind: 'imported' | 'returned' | 'destroyed';
    readonly values: Readonly<Record<string, string | number>>;
  } | null>(null);
  const [busy, setBusy] = useState(false);
  const [csv, setCsv] = useState('');
  const [returnCard, setReturnCard] = useState('');
  const [cause, setCause] = useState<(typeof CAUSES)[number]>('ordinary-card-back');
  const [destroyCard, setDestroyCard] = useState('');
  const [why, setWhy] = useState<(typeof WHYS)[number]>('damaged');
  useEffect(() => heading.current?.focus(), []);

  // The station this workstation is, else the first branch the admin has stations in.
  useEffect(() => {
    if (stationId !== '' || own.list === null) return;
    setStationId(own.branch ?? own.list.branches[0]?.id ?? '');
  }, [own, stationId]);

  const reload = useCallback(async () => {
    if (stationId === '') return;
    const query = filter === '' ? {} : { state: filter };
    const next = await answer<Stock>(
      client.GET('/api/stock/{stationId}', { params: { path: { stationId }, query } }),
    );
    setStock(next);
  }, [stationId, filter]);

  useEffect(() => {
    if (me.assuranceLevel !== 'LoA3') return;
    setStock(null);
    reload().catch((failure: unknown) => setError(pageErrorOf(failure)));
  }, [me, reload]);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setProblems([]);
    setNotice(null);
    try {
      await work();
    } catch (failure) {
      setError(pageErrorOf(failure));
      if (failure instanceof ApiFailure) {
        const listed = (failure.body as { problems?: BatchProblem[] }).problems;
        if (Array.isArray(listed)) setProblems(listed);
      }
    } finally {
      setBusy(false);
    }
  };

  const importBatch = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const done = await answer<Imported>(
        client.POST('/api/stock/{stationId}/batches', { params: { path: { stationId } }, body: { csv } }),
      );
      setCsv('');
      await reload();
      setNotice({ kind: 'imported', values: { count: done.imported, batch: done.batchId } });
    });
  };

  const chooseFile = (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) void file.text().then(setCsv);
  };

  const recordReturn = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await answer(
        client.POST('/api/stock/cards/{cardNumber}/return', {
          params: { path: { cardNumber: returnCard } },
          body: { cause },
        }),
      );
      await reload();
      setNotice({ kind: 'returned', values: { card: formatCard(returnCard) } });
      setReturnCard('');
    });
  };

  const destroy = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      await answer(
        client.POST('/api/stock/cards/{cardNumber}/destroy', {
          params: { path: { cardNumber: destroyCard } },
          body: { why },
        }),
      );
      await reload();
      setNotice({ kind: 'destroyed', values: { card: formatCard(destroyCard) } });
      setDestroyCard('');
    });
  };

  const cards = stock?.cards ?? [];
  const issued = cards.filter((c) => c.state === 'issued');
  const sealed = cards.filter((c) => c.state === 'sealed');

  return (
    <section className="stock-screen">
      <h2 ref={heading} tabIndex={-1}>
        {t.stock.title}
      </h2>
      {me.assuranceLevel === 'LoA2' ? <ErrorPanel error={{ code: 'LOA2_LOGIN' }} /> : null}
      <p>{t.stock.intro}</p>
      <div className="stock-controls">
        <label htmlFor="stock-station">{t.stock.station}</label>
        <select id="stock-station" value={stationId} onChange={(event) => setStationId(event.target.value)}>
          {(own.list?.branches ?? []).map((branch) => (
            <option key={branch.id} value={branch.id}>
              {branch.name}
            </option>
          ))}
        </select>
        <label htmlFor="stock-filter">{t.stock.filter}</label>
        <select
          id="stock-filter"
          value={filter}
          onChange={(event) => setFilter(event.target.value as StockState | '')}
        >
          <option value="">{t.stock.all}</option>
          {STATES.map((state) => (
            <option key={state} value={state}>
              {t.stock.states[state]}
            </option>
          ))}
        </select>
      </div>
      <div aria-live="polite">
        {notice ? (
          <p role="status" className="notice">
            {fill(t.stock[notice.kind], notice.values)}
          </p>
        ) : null}
      </div>
      {error ? <ErrorPanel error={error} id="stock-error" /> : null}
      {problems.length > 0 ? (
        <div className="stock-problems" data-testid="stock-problems">
          <p>{t.stock.problems}</p>
          <ul>
            {problems.map((problem, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the problems are a fixed list, in file order
              <li key={index} data-code={problem.code}>
                <strong>{problem.message[language]}</strong> ({problem.code}): {problem.explanation[language]}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {stock ? (
        <>
          <h3 id="stock-counts-title">{t.stock.counts}</h3>
          <dl className="stock-counts" data-testid="stock-counts" aria-labelledby="stock-counts-title">
            {STATES.map((state) => (
              <div key={state} data-state={state}>
                <dt>{t.stock.states[state]}</dt>
                <dd>{stock.counts[state]}</dd>
              </div>
            ))}
          </dl>
          <h3>{t.stock.cards}</h3>
          {cards.length === 0 ? <p>{filter === '' ? t.stock.empty : t.stock.none}</p> : null}
          {cards.length > 0 ? (
            <table className="stations" data-testid="stock-cards">
              <thead>
                <tr>
                  <th scope="col">{t.stock.cardNumber}</th>
                  <th scope="col">{t.stock.product}</th>
                  <th scope="col">{t.stock.physicalExpiry}</th>
                  <th scope="col">{t.stock.state}</th>
                  <th scope="col">{t.stock.changed}</th>
                </tr>
              </thead>
              <tbody>
                {cards.map((card) => (
                  <tr key={card.cardNumber} data-card={card.cardNumber} data-state={card.state}>
                    <td>{formatCard(card.cardNumber)}</td>
                    <td>{card.product}</td>
                    <td>{card.physicalExpiry}</td>
                    <td>{t.stock.states[card.state]}</td>
                    <td>{formatDate(card.stateChangedAt, language)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <form onSubmit={importBatch} className="order-form" aria-labelledby="stock-import-title">
            <h3 id="stock-import-title">{t.stock.importTitle}</h3>
            <p>{t.stock.importIntro}</p>
            <label htmlFor="stock-csv">{t.stock.paste}</label>
            <textarea
              id="stock-csv"
              value={csv}
              rows={6}
              required
              spellCheck={false}
              onChange={(event) => setCsv(event.target.value)}
            />
            <label htmlFor="stock-file">{t.stock.file}</label>
            <input id="stock-file" type="file" accept=".csv,text/csv" onChange={chooseFile} />
            <button type="submit" className="primary" disabled={busy} data-action="import-batch">
              {t.stock.importButton}
            </button>
          </form>
          <form onSubmit={recordReturn} className="order-form" aria-labelledby="stock-return-title">
            <h3 id="stock-return-title">{t.stock.returnTitle}</h3>
            <p>{t.stock.returnIntro}</p>
            <label htmlFor="stock-return-card">{t.stock.returnCard}</label>
            <select
              id="stock-return-card"
              value={returnCard}
              required
              onChange={(event) => setReturnCard(event.target.value)}
            >
              <option value="">–</option>
              {issued.map((card) => (
                <option key={card.cardNumber} value={card.cardNumber}>
                  {formatCard(card.cardNumber)}
                </option>
              ))}
            </select>
            <label htmlFor="stock-return-cause">{t.stock.cause}</label>
            <select
              id="stock-return-cause"
              value={cause}
              onChange={(event) => setCause(event.target.value as (typeof CAUSES)[number])}
            >
              {CAUSES.map((c) => (
                <option key={c} value={c}>
                  {t.stock.causes[c]}
                </option>
              ))}
            </select>
            <button type="submit" className="primary" disabled={busy} data-action="record-return">
              {t.stock.returnButton}
            </button>
          </form>
          <form onSubmit={destroy} className="order-form" aria-labelledby="stock-destroy-title">
            <h3 id="stock-destroy-title">{t.stock.destroyTitle}</h3>
            <label htmlFor="stock-destroy-card">{t.stock.destroyCard}</label>
            <select
              id="stock-destroy-card"
              value={destroyCard}
              required
              onChange={(event) => setDestroyCard(event.target.value)}
            >
              <option value="">–</option>
              {sealed.map((card) => (
                <option key={card.cardNumber} value={card.cardNumber}>
                  {formatCard(card.cardNumber)}
                </option>
              ))}
            </select>
            <label htmlFor="stock-destroy-why">{t.stock.why}</label>
            <select
              id="stock-destroy-why"
              value={why}
              onChange={(event) => setWhy(event.target.value as (typeof WHYS)[number])}
            >
              {WHYS.map((w) => (
                <option key={w} value={w}>
                  {t.stock.whys[w]}
                </option>
              ))}
            </select>
            <button type="submit" disabled={busy} data-action="destroy-card">
              {t.stock.destroyButton}
            </button>
          </form>
        </>
      ) : null}
    </section>
  );
};
