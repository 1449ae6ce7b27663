import {
  type Control,
  type ControlId,
  type ErrorCode,
  type FlowView,
  REMEDY_ACTIONS,
  type TimelineEntry,
} from '@reservkort/domain';
import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import type { Review } from '../api/views.js';
import { ControlButton, ShownFault } from '../components/control-button.js';
import { Countdown } from '../components/countdown.js';
import { DownloadPhases } from '../components/download-phases.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PinPrompt } from '../components/pin-prompt.js';
import { StepProgress } from '../components/step-progress.js';
import { SupportCaseDialog } from '../components/support-case-dialog.js';
import type { IssuanceDriver } from '../flow/issuance-driver.js';
import type { PhaseState } from '../flow/replay-player.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard, formatDate, formatEndDate } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';

interface IssuancePortalProps {
  readonly ws: Workstation;
  readonly driver: IssuanceDriver;
  readonly onLogoutRestart: () => void;
  readonly agentUrl: string;
}

type Controls = Partial<Record<ControlId, Control>>;

const lastEntryWith = (timeline: readonly TimelineEntry[], code: string): TimelineEntry | undefined =>
  [...timeline].reverse().find((entry) => entry.codes.some((c) => c === code));

/** The serials a timed-out flow revoked: the flow forgets them then, its timeline still names them. */
const revokedSerials = (timeline: readonly TimelineEntry[]): string[] =>
  String(
    [...timeline].reverse().find((entry) => entry.event === 'certificates-issued')?.details?.serials ?? '',
  )
    .split(',')
    .filter((serial) => serial !== '');

/** Each serial with the certificate it belongs to: the authentication certificate first, then the signature's. */
const labelledSerials = (
  serials: readonly string[],
  texts: { readonly serialAuth: string; readonly serialSign: string },
): string[] =>
  serials.map((serial, index) => fill(index === 0 ? texts.serialAuth : texts.serialSign, { serial }));

/** The seven steps of SPEC §3, each screen with its exact Swedish title and buttons. */
export const IssuancePortal = ({ ws, driver, onLogoutRestart, agentUrl }: IssuancePortalProps) => {
  useSubscription(driver);
  useSubscription(ws);
  const { t, catalogue } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [supportFor, setSupportFor] = useState<string | null>(null);
  const view = driver.view;
  const step = view?.step ?? 0;
  const flowId = view?.flowId ?? '';
  const status = view?.status ?? 'active';
  const orderCard = view?.order?.cardNumber ?? null;
  // Stable, so the support dialog asks for its preview once.
  const previewCase = useCallback(() => driver.previewCase(orderCard), [driver, orderCard]);
  const sendCase = useCallback((comment: string) => driver.sendCase(orderCard, comment), [driver, orderCard]);

  // Focus goes to each new step's heading, so a screen reader and the keyboard start there.
  const screenKey = flowId ? `${flowId}:${step}:${status}` : '';
  useEffect(() => {
    if (screenKey !== '') heading.current?.focus();
  }, [screenKey]);

  if (view === null) {
    return (
      <section className="issuance">
        <h2 ref={heading} tabIndex={-1}>
          {catalogue.steps[1]}
        </h2>
        {driver.error ? (
          <ErrorPanel error={driver.error} agentUrl={agentUrl} />
        ) : (
          <p aria-busy="true">{t.app.loading}</p>
        )}
      </section>
    );
  }

  const controls: Controls = Object.fromEntries(view.controls.map((c) => [c.id, c]));
  const openSupport = () => setSupportFor(view.flowId);
  const actions: Partial<Record<ControlId, () => void>> = {
    restart: () => void driver.restart(),
    'logout-restart': onLogoutRestart,
    sign: () => void driver.sign(),
    'send-support-case': openSupport,
  };
  const title = catalogue.steps[view.step];
  const open = (id: ControlId) => controls[id]?.enabled === true;
  // A fault may block the catalogue's remedy (SIGNERA after the second failed signature): then
  // starting over is what is left to offer.
  const faultRemedy = (code: ErrorCode): ControlId | undefined => {
    const remedy = REMEDY_ACTIONS[code];
    return remedy === undefined || open(remedy) || !open('restart') ? remedy : 'restart';
  };
  const ackTimeout = lastEntryWith(view.timeline, 'ACK_TIMEOUT');

  return (
    <section className="issuance" data-step={view.step} data-status={view.status} data-flow={view.flowId}>
      <StepProgress step={view.step} />
      <h2 ref={heading} tabIndex={-1} id="step-title">
        {view.step > 0 ? (
          <span className="step-number">{fill(t.flow.stepOf, { n: view.step })}: </span>
        ) : null}
        {title}
      </h2>
      {view.fault ? (
        <ErrorPanel
          error={view.fault}
          actions={actions}
          onSupportCase={openSupport}
          id="flow-fault"
          remedy={faultRemedy(view.fault.code)}
        />
      ) : view.status === 'ack-timeout-revoked' ? (
        <ErrorPanel
          error={{ code: 'ACK_TIMEOUT', details: ackTimeout?.details ?? {} }}
          actions={actions}
          onSupportCase={openSupport}
          id="flow-fault"
        />
      ) : null}
      {driver.error ? (
        <ErrorPanel
          error={driver.error}
          actions={actions}
          onSupportCase={openSupport}
          agentUrl={agentUrl}
          id="action-error"
        />
      ) : null}
      <ShownFault.Provider value={view.fault?.code ?? null}>
        <StepBody view={view} controls={controls} actions={actions} driver={driver} ws={ws} />
      </ShownFault.Provider>
      {/* What went wrong, or how it went, played back read-only. */}
      {view.fault || view.status !== 'active' ? (
        <p className="replay-link">
          <a
            className="button"
            href={`#/replay/flow/${encodeURIComponent(view.flowId)}`}
            data-action="replay"
          >
            {t.replay.open}
          </a>
        </p>
      ) : null}
      {/* A completed flow says so at step 7, with its serials; only an aborted one is said here. */}
      {view.status === 'aborted' && !view.fault ? <p>{t.flow.ended}</p> : null}
      {/* After a timeout the error offers "Starta om utgivningen" (same login): one way on, not two. */}
      {view.status === 'completed' || view.status === 'aborted' ? (
        <div className="actions">
          <button type="button" onClick={() => void driver.start()} data-action="new-issuance">
            {t.flow.newIssuance}
          </button>
        </div>
      ) : null}
      {supportFor ? (
        <SupportCaseDialog preview={previewCase} send={sendCase} onClose={() => setSupportFor(null)} />
      ) : null}
    </section>
  );
};

interface StepBodyProps {
  readonly view: FlowView;
  readonly controls: Controls;
  readonly actions: Partial<Record<ControlId, () => void>>;
  readonly driver: IssuanceDriver;
  readonly ws: Workstation;
}

const StepBody = ({ view, controls, actions, driver, ws }: StepBodyProps) => {
  const { t } = useLanguage();
  const busy = driver.busy;
  switch (view.step) {
    case 0:
    case 1:
      return (
        <div className="step-body">
          <p>{t.flow.intro1}</p>
          <ControlButton
            id="manage-orders"
            control={controls['manage-orders']}
            onClick={() => void driver.manageOrders()}
            busy={busy === 'start'}
            primary
            actions={actions}
          />
          <PinPrompt ws={ws} />
        </div>
      );
    case 2:
      return <SearchStep view={view} controls={controls} actions={actions} driver={driver} />;
    case 3:
      return (
        <div className="step-body">
          {driver.review ? <ReviewList review={driver.review} /> : null}
          <ControlButton
            id="sign"
            control={controls.sign}
            onClick={() => void driver.sign()}
            busy={busy === 'sign'}
            primary
            actions={actions}
          />
          <PinPrompt ws={ws} />
        </div>
      );
    case 4: {
      const inReader = ws.slot(2).card?.cardNumber ?? null;
      const expected = view.order?.cardNumber ?? null;
      return (
        <div className="step-body">
          <p>{t.flow.intro4}</p>
          <div className="side-by-side">
            <div>
              <h3>{t.flow.expectedCard}</h3>
              <p className="card-number" data-testid="expected-card">
                {formatCard(expected)}
              </p>
            </div>
            <div className={inReader && inReader !== expected ? 'mismatch' : undefined}>
              <h3>{t.flow.cardInReader2}</h3>
              <p className="card-number" data-testid="actual-card">
                {formatCard(inReader)}
              </p>
            </div>
          </div>
          <ControlButton
            id="confirm-handover"
            control={controls['confirm-handover']}
            onClick={() => void driver.confirmHandover()}
            busy={busy === 'handover'}
            primary
            actions={actions}
          />
        </div>
      );
    }
    case 5:
      return <TermsStep controls={controls} actions={actions} driver={driver} view={view} />;
    case 6:
      return <DownloadStep view={view} driver={driver} ws={ws} />;
    case 7:
      return (
        <div className="step-body">
          <p>{t.flow.intro7}</p>
          {view.status === 'active' && view.deadline !== null ? (
            <Countdown deadline={view.deadline} serverNow={view.now} />
          ) : null}
          {view.status === 'active' && view.deadline !== null && view.now >= view.deadline ? (
            <p role="status" className="revoking">
              {t.flow.revoking}
            </p>
          ) : null}
          {view.status === 'ack-timeout-revoked' ? (
            <p role="status" className="revoked" data-testid="revoked">
              {fill(t.flow.revoked, {
                serials: labelledSerials(revokedSerials(view.timeline), t.flow).join('; '),
              })}
            </p>
          ) : null}
          {view.status === 'completed' ? (
            <div role="status" className="completed" data-testid="completed">
              <p>{t.flow.completed}</p>
              <ul className="serials">
                {labelledSerials(view.issuedSerials, t.flow).map((line, index) => (
                  <li key={line} data-serial={view.issuedSerials[index]}>
                    {line}
                  </li>
                ))}
              </ul>
            </div>
          ) : null}
          {view.status === 'active' ? (
            <ControlButton
              id="acknowledge"
              control={controls.acknowledge}
              onClick={() => void driver.acknowledge()}
              busy={busy === 'acknowledge'}
              primary
              actions={actions}
            />
          ) : null}
          <PinPrompt ws={ws} />
        </div>
      );
  }
};

const ReviewList = ({ review }: { readonly review: Review }) => {
  const { language, t } = useLanguage();
  const documents = t.admin.idDocuments as Record<string, string>;
  return (
    <dl className="review" data-testid="review">
      <dt>{t.flow.review.name}</dt>
      <dd>{review.name}</dd>
      <dt>{t.flow.review.hsaId}</dt>
      <dd>{review.hsaId}</dd>
      <dt>{t.flow.review.cardNumber}</dt>
      <dd data-field="cardNumber">{formatCard(review.cardNumber)}</dd>
      <dt>{t.flow.review.organisation}</dt>
      <dd>{review.organisation}</dd>
      <dt>{t.flow.review.validity}</dt>
      <dd>
        {formatDate(review.validity.notBefore, language)} –{' '}
        {formatEndDate(review.validity.notAfter, language)}
      </dd>
      <dt>{t.flow.review.idDocument}</dt>
      <dd>{documents[review.idDocument] ?? review.idDocument}</dd>
    </dl>
  );
};

const SearchStep = ({
  view,
  controls,
  actions,
  driver,
}: {
  readonly view: FlowView;
  readonly controls: Controls;
  readonly actions: Partial<Record<ControlId, () => void>>;
  readonly driver: IssuanceDriver;
}) => {
  const { t } = useLanguage();
  const [query, setQuery] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (controls.search?.enabled) void driver.search(query);
  };
  const searched = driver.lastSearch;
  return (
    <div className="step-body">
      <form onSubmit={submit} className="search-form" aria-describedby="search-hint">
        <label htmlFor="order-query">{t.flow.searchLabel}</label>
        <input
          id="order-query"
          name="query"
          autoComplete="off"
          value={query}
          maxLength={200}
          onChange={(event) => setQuery(event.target.value)}
        />
        <p id="search-hint" className="hint">
          {t.flow.searchHint}
        </p>
        <ControlButton
          id="search"
          control={controls.search}
          onClick={() => undefined}
          type="submit"
          busy={driver.busy === 'search'}
          primary
          actions={actions}
        />
      </form>
      <div aria-live="polite" data-testid="search-result">
        {searched && searched.query !== query && searched.codes.length === 0 && driver.review ? (
          <p>{fill(t.flow.searchNormalised, { query: searched.query })}</p>
        ) : null}
        {searched?.codes.map((code) => (
          <ErrorPanel
            key={code}
            error={{
              code,
              // The number as normalised (PNR_FORMAT) is the page's to show: the timeline keeps no query.
              details: {
                normalised: driver.review?.normalisedQuery ?? searched.query,
                ...(lastEntryWith(view.timeline, code)?.details ?? {}),
              },
            }}
            onSupportCase={actions['send-support-case']}
          />
        ))}
        {driver.review ? (
          <>
            <p>{fill(t.flow.found, { name: driver.review.name })}</p>
            <ReviewList review={driver.review} />
            <ControlButton
              id="select-order"
              control={controls['select-order']}
              onClick={() => void driver.selectOrder()}
              busy={driver.busy === 'select'}
              primary
              actions={actions}
            />
          </>
        ) : null}
      </div>
    </div>
  );
};

const TermsStep = ({
  view,
  controls,
  actions,
  driver,
}: {
  readonly view: FlowView;
  readonly controls: Controls;
  readonly actions: Partial<Record<ControlId, () => void>>;
  readonly driver: IssuanceDriver;
}) => {
  const { t, catalogue } = useLanguage();
  const accepted = !view.controls.some(
    (c) => c.id === 'start-download' && !c.enabled && c.reason.code === 'TERMS_NOT_ACCEPTED',
  );
  const termsControl = controls['accept-terms'];
  // While the server takes the answer the box shows what was asked and keeps the focus: it is
  // aria-disabled then, not disabled, which would drop the keyboard's focus to the page.
  const [asked, setAsked] = useState<boolean | null>(null);
  const sending = driver.busy === 'terms';
  return (
    <div className="step-body">
      <p>{t.flow.intro5}</p>
      <p className="terms">{t.flow.terms}</p>
      <div className="checkbox">
        <input
          type="checkbox"
          id="accept-terms"
          data-control="accept-terms"
          checked={sending && asked !== null ? asked : accepted}
          disabled={termsControl?.enabled !== true}
          aria-disabled={sending || undefined}
          onChange={(event) => {
            if (sending) return;
            setAsked(event.target.checked);
            void driver.acceptTerms(event.target.checked);
          }}
        />
        <label htmlFor="accept-terms">{catalogue.controls['accept-terms']}</label>
      </div>
      <ControlButton
        id="start-download"
        control={controls['start-download']}
        onClick={() => void driver.startDownload()}
        busy={driver.busy === 'download'}
        primary
        actions={actions}
      />
    </div>
  );
};

const hasEntry = (timeline: readonly TimelineEntry[], event: TimelineEntry['event'], dialog?: string) =>
  timeline.some(
    (entry) => entry.event === event && (dialog === undefined || entry.details?.dialog === dialog),
  );

/**
 * Step 6 as far as it got before a fault (the flow drops its download state then; its timeline
 * keeps what happened): the rows done stay done, the one it stopped at is marked failed (a PIN
 * window shown and not completed first), and those it never reached say so.
 */
const phasesAtFault = (timeline: readonly TimelineEntry[]): PhaseState[] => {
  const reached = (started: boolean, done: boolean): PhaseState =>
    done ? 'done' : started ? 'doing' : 'notStarted';
  const states = [
    reached(hasEntry(timeline, 'key-generation-started'), hasEntry(timeline, 'keys-generated')),
    reached(hasEntry(timeline, 'dialog-shown', 'auth'), hasEntry(timeline, 'dialog-completed', 'auth')),
    reached(hasEntry(timeline, 'dialog-shown', 'sign'), hasEntry(timeline, 'dialog-completed', 'sign')),
    reached(hasEntry(timeline, 'issuance-claimed'), hasEntry(timeline, 'certificates-issued')),
    reached(hasEntry(timeline, 'certificates-issued'), hasEntry(timeline, 'certificates-written')),
  ];
  const dialogOpen = [1, 2].find((index) => states[index] === 'doing');
  const failed = dialogOpen ?? states.findIndex((state) => state !== 'done');
  return states.map((state, index) =>
    index === failed ? 'failed' : state === 'doing' ? 'notStarted' : state,
  );
};

const DownloadStep = ({
  view,
  driver,
  ws,
}: {
  readonly view: FlowView;
  readonly driver: IssuanceDriver;
  readonly ws: Workstation;
}) => {
  const { t } = useLanguage();
  const download = view.download;
  const dialogState = (dialog: 'auth' | 'sign'): PhaseState => {
    const state = download?.dialogs[dialog];
    if (state === 'completed') return 'done';
    if (state === 'shown') return 'doing';
    if (download === null && view.issuedSerials.length > 0) return 'done';
    return 'waiting';
  };
  const keysDone = download !== null && download.phase !== 'key-generation';
  const live: PhaseState[] = [
    keysDone || view.issuedSerials.length > 0 ? 'done' : download ? 'doing' : 'waiting',
    dialogState('auth'),
    dialogState('sign'),
    view.issuedSerials.length > 0 ? 'done' : driver.localPhase === 'issuing' ? 'doing' : 'waiting',
    driver.localPhase === 'writing' ? 'doing' : view.step > 6 ? 'done' : 'waiting',
  ];
  const states = view.fault ? phasesAtFault(view.timeline) : live;
  return (
    <div className="step-body">
      {/* After a fault no PIN window is coming: the error above says what to do instead. */}
      {view.fault ? null : <p>{t.flow.intro6}</p>}
      <DownloadPhases states={states} />
      <PinPrompt ws={ws} />
    </div>
  );
};
