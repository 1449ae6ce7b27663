import { SPARR_REASONS_FOR, type SparrReason } from '@reservkort/domain';
import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { answer, client } from '../api/server-client.js';
import type { EidView, HolderMe, RevocationDone } from '../api/views.js';
import { EidList } from '../components/eid-list.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PinPrompt } from '../components/pin-prompt.js';
import { currentHolder, loginHolderWithCard, logoutHolder } from '../flow/holder-session.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard, formatDate, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';

interface HolderPagesProps {
  readonly ws: Workstation;
  readonly agentUrl: string;
  /**
   * Actions on a valid e-ID besides spärr, drawn in the e-ID's own section ("Förläng
   * giltighetstiden"); `reload` reads the e-IDs again after the action changed them.
   */
  readonly eidActions?:
    | ((
        eid: EidView,
        context: {
          readonly reload: () => Promise<void>;
          readonly loggedOut: () => void;
          /** The action replaced the e-ID's certificates (a förlängning acknowledged). */
          readonly superseded: () => void;
        },
      ) => ReactNode)
    | undefined;
}

/** What the holder's pages show: the login, Mina sidor, or the spärr just done (and the session gone). */
type HolderState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'login' }
  | { readonly kind: 'mine'; readonly holder: HolderMe }
  | { readonly kind: 'revoked'; readonly cardNumber: string; readonly done: RevocationDone };

/** The reserve card holder's own pages: login with the card, then "Mina e-legitimationer". */
export const HolderPages = ({ ws, agentUrl, eidActions }: HolderPagesProps) => {
  const [state, setState] = useState<HolderState>({ kind: 'loading' });
  const [failure, setFailure] = useState<PageError | null>(null);
  useEffect(() => {
    void currentHolder().then(
      (holder) => setState(holder ? { kind: 'mine', holder } : { kind: 'login' }),
      (error: unknown) => setFailure(pageErrorOf(error)),
    );
  }, []);
  const { t } = useLanguage();
  if (failure) return <ErrorPanel error={failure} />;
  switch (state.kind) {
    case 'loading':
      return <p aria-busy="true">{t.app.loading}</p>;
    case 'login':
      return (
        <HolderLogin
          ws={ws}
          agentUrl={agentUrl}
          onLoggedIn={(holder) => setState({ kind: 'mine', holder })}
        />
      );
    case 'mine':
      return (
        <MyEids
          holder={state.holder}
          eidActions={eidActions}
          onLoggedOut={() => setState({ kind: 'login' })}
          onRevoked={(done) => setState({ kind: 'revoked', cardNumber: state.holder.cardNumber, done })}
        />
      );
    case 'revoked':
      return <Revoked cardNumber={state.cardNumber} done={state.done} />;
  }
};

/** Login with the reserve card in reader 1 and PIN 1 in the agent's dialog. */
const HolderLogin = ({
  ws,
  agentUrl,
  onLoggedIn,
}: {
  readonly ws: Workstation;
  readonly agentUrl: string;
  readonly onLoggedIn: (holder: HolderMe) => void;
}) => {
  useSubscription(ws);
  const { t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<PageError | null>(null);
  const reader1 = ws.flowReaders()[1];
  const canLogin = ws.failure === null && reader1.connected && reader1.card !== null && !busy;
  const login = async () => {
    setBusy(true);
    setError(null);
    try {
      onLoggedIn(await loginHolderWithCard(ws));
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="holder-login">
      <h2 ref={heading} tabIndex={-1}>
        {t.holder.loginTitle}
      </h2>
      <p>{t.holder.loginIntro}</p>
      {ws.failure ? (
        <ErrorPanel
          error={{ code: ws.failure.code === 'ORIGIN_FORBIDDEN' ? 'ORIGIN_FORBIDDEN' : 'AGENT_UNREACHABLE' }}
          agentUrl={agentUrl}
        />
      ) : null}
      <p data-testid="holder-reader">
        <strong>{fill(t.readers.reader, { n: 1 })}:</strong>{' '}
        {reader1.connected ? t.readers.connected : t.readers.missing}
        {reader1.connected
          ? ` – ${reader1.card ? fill(t.readers.card, { card: formatCard(reader1.card.cardNumber) }) : t.readers.empty}`
          : ''}
      </p>
      <div className="control">
        <button
          type="button"
          className="primary"
          data-control="holder-login"
          disabled={!canLogin}
          aria-describedby={!canLogin && !busy ? 'holder-login-reason' : undefined}
          onClick={() => void login()}
        >
          {busy ? t.holder.working : t.holder.login}
        </button>
        {!canLogin && !busy ? (
          <p className="reason" id="holder-login-reason">
            {ws.failure ? t.agent.unreachableTitle : t.holder.noCard}
          </p>
        ) : null}
      </div>
      <PinPrompt ws={ws} />
      {error ? <ErrorPanel error={error} agentUrl={agentUrl} id="holder-login-error" /> : null}
      <p>
        <a href="#/">{t.holder.back}</a>
      </p>
    </section>
  );
};

/** Mina e-legitimationer: the card's e-IDs, a place for further actions, spärr, and logout. */
const MyEids = ({
  holder,
  eidActions,
  onLoggedOut,
  onRevoked,
}: {
  readonly holder: HolderMe;
  readonly eidActions: HolderPagesProps['eidActions'];
  readonly onLoggedOut: () => void;
  readonly onRevoked: (done: RevocationDone) => void;
}) => {
  const { t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const [eids, setEids] = useState<readonly EidView[] | null>(null);
  const [error, setError] = useState<PageError | null>(null);
  // After a förlängning the session has ended with the old login certificate: the list cannot be
  // read again, so it says it was replaced rather than show the status it had.
  const [superseded, setSuperseded] = useState(false);
  const reload = useCallback(async () => {
    try {
      setEids((await answer<{ eids: EidView[] }>(client.GET('/api/holder/eids'))).eids);
    } catch (failure) {
      setError(pageErrorOf(failure));
    }
  }, []);
  useEffect(() => {
    void reload();
  }, [reload]);
  const revoke = async (_eid: EidView, reason: SparrReason) => {
    const done = await answer<RevocationDone>(client.POST('/api/holder/eids/revoke', { body: { reason } }));
    onRevoked(done);
  };
  const logout = async () => {
    await logoutHolder();
    onLoggedOut();
  };
  return (
    <section className="holder-pages">
      <h2 ref={heading} tabIndex={-1}>
        {t.holder.title}
      </h2>
      <p data-testid="holder">
        {fill(t.holder.greeting, {
          name: holder.name,
          hsaId: holder.hsaId,
          card: formatCard(holder.cardNumber),
        })}
      </p>
      <div className="control">
        <button type="button" onClick={() => void logout()} data-action="holder-logout">
          {t.holder.logout}
        </button>
      </div>
      {error ? <ErrorPanel error={error} id="holder-error" /> : null}
      {eids === null ? (
        <p aria-busy="true">{t.app.loading}</p>
      ) : (
        <EidList
          eids={eids}
          superseded={superseded}
          reasons={SPARR_REASONS_FOR.holder}
          onRevoke={revoke}
          actions={
            eidActions
              ? (eid) =>
                  // Förlängning extends the e-ID the holder logged in with (the server takes it from
                  // the session): a pair a running förlängning issued is listed too, without it.
                  eid.certificates.some((c) => c.serial === holder.certificateSerial) ? (
                    // The place of the holder's actions on a valid e-ID besides spärr (förlängning).
                    <section className="eid-extension" data-slot="extension" aria-label={t.holder.extension}>
                      {eidActions(eid, {
                        reload,
                        loggedOut: onLoggedOut,
                        superseded: () => setSuperseded(true),
                      })}
                    </section>
                  ) : null
              : undefined
          }
        />
      )}
    </section>
  );
};

/** After the holder's spärr: what happened, that the session ended, and what to do next. */
const Revoked = ({ cardNumber, done }: { readonly cardNumber: string; readonly done: RevocationDone }) => {
  const { language, t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section className="holder-revoked" data-testid="holder-revoked">
      <h2 ref={heading} tabIndex={-1}>
        {t.holder.revokedTitle}
      </h2>
      <p role="status">
        {fill(t.holder.revokedText, {
          card: formatCard(cardNumber),
          time: `${formatDate(done.revokedAt, language)} ${formatTime(done.revokedAt, language)}`,
        })}
      </p>
      <p>{t.holder.nextSteps}</p>
      <p>
        <a href="#/">{t.holder.back}</a>
      </p>
    </section>
  );
};
