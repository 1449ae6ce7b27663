import { describeError } from '@reservkort/domain';
import { useEffect, useRef, useState } from 'react';
import type { Me } from '../api/views.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PinPrompt } from '../components/pin-prompt.js';
import { ReaderPicture } from '../components/reader-picture.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { loginWithCard } from '../flow/portal-session.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';

interface LoginScreenProps {
  readonly ws: Workstation;
  readonly agentUrl: string;
  readonly onLoggedIn: (me: Me) => void;
}

/** The reader pre-flight first (both readers, which card is where, the agent), then card login. */
export const LoginScreen = ({ ws, agentUrl, onLoggedIn }: LoginScreenProps) => {
  useSubscription(ws);
  const { language, t, catalogue } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<PageError | null>(null);
  useEffect(() => heading.current?.focus(), []);

  const readers = ws.flowReaders();
  const missing = ([1, 2] as const).filter((n) => !readers[n].connected);
  const card1 = readers[1].card;
  const blocked = ws.failure
    ? null
    : missing.length > 0
      ? describeError({ code: 'READERS_MISSING', details: { missing: missing.join(', ') } }, language)
      : null;
  const canLogin = ws.failure === null && missing.length === 0 && card1 !== null && !busy;
  // The agent refusing this page's address is told apart from no agent at all: the advice differs.
  const agentFailure = ws.failure
    ? ws.failure.code === 'ORIGIN_FORBIDDEN'
      ? 'ORIGIN_FORBIDDEN'
      : 'AGENT_UNREACHABLE'
    : null;

  const login = async () => {
    setBusy(true);
    setError(null);
    try {
      onLoggedIn(await loginWithCard(ws));
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="login">
      <h2 ref={heading} tabIndex={-1}>
        {catalogue.steps[0]}
      </h2>
      <h3>{t.login.preflight}</h3>
      <p>{t.login.intro}</p>
      {agentFailure ? <ErrorPanel error={{ code: agentFailure }} agentUrl={agentUrl} /> : null}
      <ReaderPicture connected={{ 1: readers[1].connected, 2: readers[2].connected }} />
      <ul className="preflight" data-testid="preflight">
        {([1, 2] as const).map((n) => (
          <li key={n} data-reader={n}>
            <strong>{fill(t.readers.reader, { n })}:</strong>{' '}
            {readers[n].connected ? t.readers.connected : t.readers.missing}
            {readers[n].connected
              ? ` – ${readers[n].card ? fill(t.readers.card, { card: formatCard(readers[n].card?.cardNumber) }) : t.readers.empty}`
              : ''}
          </li>
        ))}
        <li>
          {ws.info ? fill(t.agent.version, { version: ws.info.version, packaging: ws.info.packaging }) : '–'}
        </li>
      </ul>
      {blocked ? (
        <ErrorPanel
          error={{ code: 'READERS_MISSING', details: { missing: missing.join(', ') } }}
          id="readers-missing"
        />
      ) : null}
      <div className="control">
        <button
          type="button"
          className="primary"
          data-control="login"
          disabled={!canLogin}
          aria-describedby={!canLogin ? 'login-reason' : undefined}
          onClick={() => void login()}
        >
          {busy ? t.login.working : t.login.button}
        </button>
        {!canLogin && !busy ? (
          <p className="reason" id="login-reason" data-reason={blocked ? 'READERS_MISSING' : 'CARD_MISSING'}>
            {blocked
              ? blocked.title
              : agentFailure === 'ORIGIN_FORBIDDEN'
                ? catalogue.codes.ORIGIN_FORBIDDEN.title
                : agentFailure
                  ? t.agent.unreachableTitle
                  : t.login.noCard}
          </p>
        ) : null}
      </div>
      <PinPrompt ws={ws} />
      {error ? <ErrorPanel error={error} agentUrl={agentUrl} id="login-error" /> : null}
    </section>
  );
};
