import { buildStationCase, describeError, errorResponse, type SignedStatement } from '@reservkort/domain';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CardOnReader } from '../api/agent-client.js';
import { answer, client } from '../api/server-client.js';
import type { LoginAnswer, SupportCasePreview } from '../api/views.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PinPrompt } from '../components/pin-prompt.js';
import { ReaderPicture } from '../components/reader-picture.js';
import { SupportCaseDialog } from '../components/support-case-dialog.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { agentFailureOf, loginWithCard } from '../flow/portal-session.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';

interface LoginScreenProps {
  readonly ws: Workstation;
  readonly agentUrl: string;
  /** The login leads to the issuance portal: its first flow is reserved with the login. */
  readonly reserveFlow: boolean;
  readonly onLoggedIn: (me: LoginAnswer) => void;
}

/** The reader pre-flight first (both readers, which card is where, the agent), then card login. */
export const LoginScreen = ({ ws, agentUrl, reserveFlow, onLoggedIn }: LoginScreenProps) => {
  useSubscription(ws);
  const { language, t, catalogue } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<PageError | null>(null);
  const [reporting, setReporting] = useState(false);
  /** The station's signed report for the case being filed, made once for its preview and sent as made. */
  const report = useRef<{ challengeId: string; statements: SignedStatement[] } | null>(null);
  useEffect(() => heading.current?.focus(), []);
  const [isStation, setIsStation] = useState(false);
  useEffect(() => {
    let cancelled = false;
    void ws.isStation().then((registered) => {
      if (!cancelled) setIsStation(registered);
    });
    return () => {
      cancelled = true;
    };
  }, [ws]);

  /**
   * READERS_MISSING before login: no one is logged in and there is no flow, so the case holds what
   * the card station signs for a one-time challenge: its agent's version and its readers.
   */
  const previewStationCase = useCallback(async (): Promise<SupportCasePreview> => {
    const challenge = await answer<{ challengeId: string; stationNonce: string }>(
      client.POST('/api/support/cases/before-login/challenge'),
    );
    const about = { flowId: challenge.challengeId, nonce: challenge.stationNonce } as const;
    const statements = [
      await ws.statement({ ...about, kind: 'agent-info' }),
      await ws.statement({ ...about, kind: 'readers' }),
    ];
    report.current = { challengeId: challenge.challengeId, statements };
    // What the station signed, read back: the case the server will file from it.
    const signed = statements.map(
      (s) => JSON.parse(new TextDecoder().decode(fromBase64Url(s.payload))) as SignedPayload,
    );
    const agent = signed.find((p) => 'version' in p.body)?.body as { version: string; packaging: string };
    const readers = signed.find((p) => 'readers' in p.body)?.body as { readers: SignedReaders };
    const draft = buildStationCase({
      stationId: signed[0]?.station as `st-${string}`,
      agent: { version: agent.version, packaging: agent.packaging },
      readers: {
        1: { connected: readers.readers[1].connected, card: readers.readers[1].card !== null },
        2: { connected: readers.readers[2].connected, card: readers.readers[2].card !== null },
      },
      comment: '',
      at: Date.now(),
    });
    if (!draft.ok) throw draft.error;
    return { case: draft.value, catalogue: [errorResponse('READERS_MISSING')] };
  }, [ws]);
  const sendStationCase = useCallback(async (comment: string) => {
    const made = report.current;
    if (made === null) throw new Error('no report to send');
    return answer<{ id: string }>(
      client.POST('/api/support/cases/before-login', { body: { ...made, comment } }),
    );
  }, []);

  const readers = ws.flowReaders();
  const missing = ([1, 2] as const).filter((n) => !readers[n].connected);
  const card1 = readers[1].card;
  const card1Number = card1?.cardNumber ?? null;

  // The counters of the card in reader 1: a blocked PIN is offered its unblocking with the PUK
  // (typed in the agent's own window) instead of another PIN window that cannot succeed.
  const [pins, setPins] = useState<CardOnReader['pins'] | null>(null);
  const [unblocked, setUnblocked] = useState(false);
  const readPins = useCallback(async () => {
    const readerId = ws.readerIdOf(1);
    if (readerId === null || card1Number === null) return setPins(null);
    try {
      setPins((await ws.agent.card(readerId)).pins ?? null);
    } catch {
      setPins(null);
    }
  }, [ws, card1Number]);
  useEffect(() => {
    setUnblocked(false);
    void readPins();
  }, [readPins]);
  const locked = pins?.puk.locked === true;
  const pinBlocked = !locked && pins?.pin1.blocked === true;
  const blocked = ws.failure
    ? null
    : missing.length > 0
      ? describeError({ code: 'READERS_MISSING', details: { missing: missing.join(', ') } }, language)
      : null;
  const canLogin =
    ws.failure === null && missing.length === 0 && card1 !== null && !busy && !pinBlocked && !locked;
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
      onLoggedIn(await loginWithCard(ws, reserveFlow));
    } catch (failure) {
      setError(pageErrorOf(failure));
      await readPins();
    } finally {
      setBusy(false);
    }
  };

  const unblock = async () => {
    const readerId = ws.readerIdOf(1);
    if (readerId === null) return;
    setBusy(true);
    setError(null);
    try {
      const done = await ws.run(ws.agent.unblockPin(readerId, 'pin1'));
      if (done.state !== 'done') throw agentFailureOf(done);
      setUnblocked(true);
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
      await readPins();
    }
  };
  // The blocked PIN or locked card is shown by its own panel below, not a second time as an error.
  const shownError =
    error && !((pinBlocked || locked) && (error.code === 'PIN_BLOCKED' || error.code === 'CARD_LOCKED'))
      ? error
      : null;

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
          onSupportCase={isStation ? () => setReporting(true) : undefined}
        />
      ) : null}
      {locked ? <ErrorPanel error={{ code: 'CARD_LOCKED', details: {} }} id="card-locked" /> : null}
      {pinBlocked ? (
        <div className="pin-blocked" data-testid="pin-blocked">
          <ErrorPanel error={{ code: 'PIN_BLOCKED', details: {} }} id="pin-blocked" />
          <p>{t.pin.unblockHint}</p>
          <button type="button" data-control="unblock-pin" disabled={busy} onClick={() => void unblock()}>
            {t.pin.unblock}
          </button>
        </div>
      ) : null}
      {unblocked && !pinBlocked ? (
        <p role="status" data-testid="pin-unblocked">
          {t.pin.unblocked}
        </p>
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
          <p
            className="reason"
            id="login-reason"
            data-reason={
              blocked
                ? 'READERS_MISSING'
                : locked
                  ? 'CARD_LOCKED'
                  : pinBlocked
                    ? 'PIN_BLOCKED'
                    : 'CARD_MISSING'
            }
          >
            {blocked
              ? blocked.title
              : locked
                ? catalogue.codes.CARD_LOCKED.title
                : pinBlocked
                  ? catalogue.codes.PIN_BLOCKED.title
                  : agentFailure === 'ORIGIN_FORBIDDEN'
                    ? catalogue.codes.ORIGIN_FORBIDDEN.title
                    : agentFailure
                      ? t.agent.unreachableTitle
                      : t.login.noCard}
          </p>
        ) : null}
      </div>
      <p className="card-tools-link">
        <a href="#/card" data-action="open-card-tools">
          {t.cardTools.fromLogin}
        </a>
      </p>
      <PinPrompt ws={ws} />
      {reporting ? (
        <SupportCaseDialog
          preview={previewStationCase}
          send={sendStationCase}
          onClose={() => setReporting(false)}
        />
      ) : null}
      {shownError ? <ErrorPanel error={shownError} agentUrl={agentUrl} id="login-error" /> : null}
      <aside className="holder-link" aria-labelledby="holder-link">
        <p>
          <a href="#/holder" id="holder-link" data-action="holder-pages">
            {t.holder.link}
          </a>
        </p>
        <p>{t.holder.linkHint}</p>
      </aside>
    </section>
  );
};

interface SignedPayload {
  readonly station: string;
  readonly body: Record<string, unknown>;
}
type SignedReaders = {
  readonly [R in 1 | 2]: { readonly connected: boolean; readonly card: unknown };
};

const fromBase64Url = (text: string): Uint8Array =>
  Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
