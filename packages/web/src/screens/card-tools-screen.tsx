import { type ErrorCode, isErrorCode } from '@reservkort/domain';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AgentOperation, CardOnReader } from '../api/agent-client.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PinPrompt } from '../components/pin-prompt.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { agentFailureOf } from '../flow/portal-session.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';

type PinId = 'pin1' | 'pin2';
type Pins = NonNullable<CardOnReader['pins']>;
type Done = { readonly kind: 'changed' | 'unblocked'; readonly pin: PinId };
type DialogError = { readonly code: ErrorCode; readonly details: Readonly<Record<string, string | number>> };

/** The dialog's last error as the agent reports it, kept only when it is a catalogue code. */
const dialogErrorOf = (view: AgentOperation): DialogError | null => {
  const last = view.dialog?.lastError;
  if (!last || !isErrorCode(last.code)) return null;
  const details: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(last.details)) {
    if (typeof value === 'string' || typeof value === 'number') details[key] = value;
  }
  return { code: last.code, details };
};

/**
 * PIN change and PUK unblock of the card in reader 1, before anyone logs in: this is between the
 * person, the card agent and the card, so the server is not asked. The page only says which PIN;
 * every PIN and the PUK are typed in the agent's own window.
 */
export const CardToolsScreen = ({
  ws,
  agentUrl,
}: {
  readonly ws: Workstation;
  readonly agentUrl: string;
}) => {
  useSubscription(ws);
  const { t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const [pins, setPins] = useState<Pins | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<PageError | null>(null);
  const [dialogError, setDialogError] = useState<DialogError | null>(null);
  const [done, setDone] = useState<Done | null>(null);

  const reader = ws.flowReaders()[1];
  const readerId = ws.readerIdOf(1);
  const cardNumber = reader.card?.cardNumber ?? null;

  const readPins = useCallback(async () => {
    if (readerId === null || cardNumber === null) return setPins(null);
    try {
      setPins((await ws.agent.card(readerId)).pins ?? null);
    } catch (failure) {
      setPins(null);
      setError(pageErrorOf(failure));
    }
  }, [ws, readerId, cardNumber]);
  // Another card in the reader is another card's counters, and nothing said of the last one holds.
  useEffect(() => {
    setDone(null);
    setError(null);
    setDialogError(null);
    void readPins();
  }, [readPins]);

  const pinName = (pin: PinId) => (pin === 'pin1' ? t.pin.pin1 : t.pin.pin2);

  const act = async (kind: 'change' | 'unblock', pin: PinId) => {
    if (readerId === null) return;
    setBusy(true);
    setError(null);
    setDialogError(null);
    setDone(null);
    try {
      const start =
        kind === 'change' ? ws.agent.changePin(readerId, pin) : ws.agent.unblockPin(readerId, pin);
      const end = await ws.run(start, (view) => setDialogError(dialogErrorOf(view)));
      if (end.state !== 'done') throw agentFailureOf(end);
      // The counters first: "unblocked" is never shown beside the counter that still says blocked.
      await readPins();
      setDone({ kind: kind === 'change' ? 'changed' : 'unblocked', pin });
      setDialogError(null);
    } catch (failure) {
      setError(pageErrorOf(failure));
      setDialogError(null);
      await readPins();
    } finally {
      setBusy(false);
    }
  };

  const locked = pins?.puk.locked === true;
  const agentFailure = ws.failure
    ? ws.failure.code === 'ORIGIN_FORBIDDEN'
      ? 'ORIGIN_FORBIDDEN'
      : 'AGENT_UNREACHABLE'
    : null;
  // A blocked PIN or locked card has its own panel: the same code is not said twice.
  const shownError =
    error &&
    !(locked && error.code === 'CARD_LOCKED') &&
    !(error.code === 'PIN_BLOCKED' && pins !== null && (pins.pin1.blocked || pins.pin2.blocked))
      ? error
      : null;

  const counter = (state: { triesLeft: number; blocked?: boolean; locked?: boolean }) =>
    state.locked
      ? t.cardTools.locked
      : state.blocked
        ? t.cardTools.blocked
        : fill(t.cardTools.triesLeft, { n: state.triesLeft });

  return (
    <section className="card-tools" aria-labelledby="card-tools-title">
      <h2 id="card-tools-title" ref={heading} tabIndex={-1}>
        {t.cardTools.title}
      </h2>
      <p>{t.cardTools.intro}</p>
      {agentFailure ? <ErrorPanel error={{ code: agentFailure }} agentUrl={agentUrl} /> : null}
      {!agentFailure && readerId === null ? (
        <ErrorPanel error={{ code: 'READER_NOT_FOUND', details: { reader: '1' } }} id="card-tools-reader" />
      ) : null}
      {!agentFailure && readerId !== null && reader.card === null ? (
        <ErrorPanel error={{ code: 'CARD_MISSING', details: { reader: '1' } }} id="card-tools-card" />
      ) : null}
      {reader.card ? (
        <p data-testid="card-tools-card">{fill(t.cardTools.card, { card: formatCard(cardNumber) })}</p>
      ) : null}
      {pins ? (
        <table className="pin-counters" data-testid="pin-counters">
          <caption>{t.cardTools.counters}</caption>
          <tbody>
            {(['pin1', 'pin2'] as const).map((pin) => (
              <tr
                key={pin}
                data-counter={pin}
                data-tries={pins[pin].triesLeft}
                data-blocked={pins[pin].blocked}
              >
                <th scope="row">{pinName(pin)}</th>
                <td>{counter(pins[pin])}</td>
              </tr>
            ))}
            <tr data-counter="puk" data-tries={pins.puk.triesLeft} data-locked={pins.puk.locked}>
              <th scope="row">{t.cardTools.puk}</th>
              <td>{counter(pins.puk)}</td>
            </tr>
          </tbody>
        </table>
      ) : null}
      {locked ? <ErrorPanel error={{ code: 'CARD_LOCKED', details: {} }} id="card-tools-locked" /> : null}
      {pins && !locked ? (
        <ul className="pin-actions">
          {(['pin1', 'pin2'] as const).map((pin) => {
            const blocked = pins[pin].blocked;
            const reasonId = `change-${pin}-reason`;
            return (
              <li key={pin} data-pin-actions={pin}>
                {blocked ? (
                  <ErrorPanel
                    error={{ code: 'PIN_BLOCKED', details: { pin } }}
                    id={`${pin}-blocked`}
                    cardToolsLink={false}
                  />
                ) : null}
                <button
                  type="button"
                  data-control={`change-${pin}`}
                  disabled={busy || blocked}
                  aria-describedby={blocked ? reasonId : undefined}
                  onClick={() => void act('change', pin)}
                >
                  {fill(t.cardTools.change, { pin: pinName(pin) })}
                </button>
                {blocked ? (
                  <>
                    <p className="reason" id={reasonId}>
                      {fill(t.cardTools.changeBlocked, { pin: pinName(pin) })}
                    </p>
                    <button
                      type="button"
                      className="primary"
                      data-control={`unblock-${pin}`}
                      disabled={busy}
                      onClick={() => void act('unblock', pin)}
                    >
                      {fill(t.cardTools.unblock, { pin: pinName(pin) })}
                    </button>
                    <p>{t.pin.unblockHint}</p>
                  </>
                ) : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      {locked ? <p className="reason">{t.cardTools.cardLocked}</p> : null}
      <PinPrompt ws={ws} />
      {dialogError ? (
        <div data-testid="dialog-error">
          <p>{t.cardTools.inDialog}</p>
          <ErrorPanel error={dialogError} id="card-tools-dialog-error" />
        </div>
      ) : null}
      {done ? (
        <p role="status" data-testid="card-tools-done" data-done={`${done.kind}-${done.pin}`}>
          {fill(done.kind === 'changed' ? t.cardTools.changed : t.cardTools.unblocked, {
            pin: pinName(done.pin),
          })}
        </p>
      ) : null}
      {shownError ? <ErrorPanel error={shownError} agentUrl={agentUrl} id="card-tools-error" /> : null}
      <p>
        <a href="#/" data-action="back-to-login">
          {t.cardTools.back}
        </a>
      </p>
    </section>
  );
};
