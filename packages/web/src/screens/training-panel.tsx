import type { CardNumber } from '@reservkort/domain';
import { type DragEvent, useCallback, useEffect, useMemo, useState } from 'react';
import type { TrainingCard } from '../api/agent-client.js';
import { answer, client } from '../api/server-client.js';
import type { TrainingDemo } from '../api/views.js';
import { ErrorPanel } from '../components/error-panel.js';
import { PracticePlanView } from '../components/practice-plan-view.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import type { PracticeSession } from '../training/practice-session.js';
import { type Scenario, scenarios } from '../training/scenarios.js';
import { setTrainingScene } from '../training/scene-setter.js';
import { useSubscription } from '../use-subscription.js';

interface TrainingPanelProps {
  readonly ws: Workstation;
  readonly demo: TrainingDemo;
  /** The flow on screen, for "jump to the deadline". */
  readonly flowId: string | null;
  /** A support case's practice under way, shown while the trainee walks to its step; null: not here. */
  readonly practice: PracticeSession | null;
  readonly onClose: () => void;
}

const DRAG_TYPE = 'text/x-reservkort-card';

/** The faults the card agent simulates itself, each a plain on/off switch. */
type AgentFault = 'unregisteredStation' | 'forgedStatement' | 'counterfeitCard' | 'exportableKeys';

/** Training mode: plug readers, move cards in and out, jump the clock, set the scene of a code. */
export const TrainingPanel = ({ ws, demo, flowId, practice, onClose }: TrainingPanelProps) => {
  useSubscription(ws);
  const { language, t } = useLanguage();
  const [cards, setCards] = useState<readonly TrainingCard[]>([]);
  const [error, setError] = useState<PageError | null>(null);
  const [notice, setNotice] = useState('');
  const list = useMemo(() => scenarios(demo), [demo]);

  const reload = useCallback(async () => {
    try {
      setCards((await ws.agent.trainingCards()).cards);
    } catch (failure) {
      setError(pageErrorOf(failure));
    }
  }, [ws]);
  // The agent's events (a card in, a reader out) change what lies where.
  useEffect(() => {
    void reload();
    return ws.onAgentEvent(() => void reload());
  }, [ws, reload]);

  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await ws.refresh();
      await reload();
    } catch (failure) {
      setError(pageErrorOf(failure));
    }
  };

  const readerId = (n: 1 | 2) => `reader-${n}`;
  const connected = (n: 1 | 2) => ws.slot(n).readerId !== null;
  const insert = (n: 1 | 2, cardNumber: string) =>
    act(async () => {
      if (ws.slot(n).card) await ws.agent.remove(readerId(n));
      await ws.agent.insert(readerId(n), cardNumber);
    });
  const holder = (cardNumber: CardNumber) => {
    const admin = demo.admins.find((a) => a.cardNumber === cardNumber);
    if (admin) return { name: admin.name, pins: admin.pins };
    const reserve = demo.reserveCards.find((c) => c.cardNumber === cardNumber);
    if (reserve) return { name: reserve.forPerson ? `→ ${reserve.forPerson}` : '–', pins: reserve.pins };
    return null;
  };

  const setScene = (scenario: Scenario) =>
    act(async () => {
      const admin = demo.admins.find((a) => a.name === scenario.scene.adminCard);
      const wanted = (n: 1 | 2) => scenario.scene.readers.includes(n);
      await setTrainingScene(ws, {
        readers: {
          1: { connected: wanted(1), card: admin?.cardNumber ?? null },
          2: { connected: wanted(2), card: null },
        },
        counters: admin ? [{ cardNumber: admin.cardNumber, counters: scenario.scene.counters }] : [],
        simulation: scenario.scene.simulation,
      });
      setNotice(`${scenario.code}: ${scenario.instruction[language]}`);
    });

  const jump = () =>
    act(async () => {
      if (!flowId) return;
      const moved = await answer<{ now: number; offsetMs: number }>(
        client.POST('/api/training/clock', { body: { toDeadlineOf: flowId } }),
      );
      setNotice(fill(t.training.jumped, { minutes: Math.round(moved.offsetMs / 60_000) }));
    });

  // The holder's pages: the förlängning running there, found by the server from the holder's session.
  const jumpExtension = () =>
    act(async () => {
      const moved = await answer<{ now: number; offsetMs: number }>(
        client.POST('/api/training/clock', { body: { toExtensionDeadline: true } }),
      );
      setNotice(fill(t.training.jumped, { minutes: Math.round(moved.offsetMs / 60_000) }));
    });

  const onDrop = (n: 1 | 2) => (event: DragEvent) => {
    event.preventDefault();
    const cardNumber = event.dataTransfer.getData(DRAG_TYPE);
    if (cardNumber) void insert(n, cardNumber);
  };

  /** One fieldset of the agent's faults: the box shows what the agent says is in force. */
  const agentFaults = (legend: string, rows: readonly (readonly [AgentFault, string, string])[]) => (
    <fieldset className="simulation">
      <legend>{legend}</legend>
      {rows.map(([key, id, text]) => (
        <label key={id}>
          <input
            type="checkbox"
            checked={ws.simulation[key]}
            onChange={(event) =>
              void act(() => ws.simulate({ ...ws.simulation, [key]: event.target.checked }))
            }
            data-simulate={id}
          />{' '}
          {text}
        </label>
      ))}
    </fieldset>
  );

  const onDesk = cards.filter((c) => c.readerId === null);
  const byKind = (admin: boolean) =>
    onDesk.filter((c) => demo.admins.some((a) => a.cardNumber === c.cardNumber) === admin);

  const cardItem = (card: TrainingCard) => {
    const who = holder(card.cardNumber);
    return (
      <li
        key={card.cardNumber}
        className="training-card"
        draggable
        data-card={card.cardNumber}
        onDragStart={(event) => event.dataTransfer.setData(DRAG_TYPE, card.cardNumber)}
      >
        <strong>{who?.name ?? card.label ?? ''}</strong> <span>{formatCard(card.cardNumber)}</span>
        {who ? <div className="pin-letter">{fill(t.training.pinLetter, who.pins)}</div> : null}
        <div className="card-actions">
          {([1, 2] as const).map((n) => (
            <button
              key={n}
              type="button"
              disabled={!connected(n)}
              onClick={() => void insert(n, card.cardNumber)}
              data-insert={`${card.cardNumber}:${n}`}
            >
              {fill(t.training.insertInto, { n })}
            </button>
          ))}
        </div>
      </li>
    );
  };

  return (
    <aside className="training-panel" aria-labelledby="training-title" data-testid="training-panel">
      <div className="panel-head">
        <h2 id="training-title">{t.training.title}</h2>
        <button type="button" onClick={onClose}>
          {t.training.close}
        </button>
      </div>
      {error ? <ErrorPanel error={error} /> : null}
      <p role="status" className="notice" data-testid="training-notice">
        {notice}
      </p>
      {practice ? (
        <PracticePlanView ws={ws} demo={demo} practice={practice} flowId={flowId} place="panel" />
      ) : null}
      <h3>{t.training.readers}</h3>
      <ul className="training-readers">
        {([1, 2] as const).map((n) => {
          const slot = ws.slot(n);
          return (
            <li
              key={n}
              className={`drop-zone${slot.readerId ? '' : ' unplugged'}`}
              data-training-reader={n}
              onDragOver={(event) => event.preventDefault()}
              onDrop={onDrop(n)}
              aria-label={fill(t.readers.reader, { n })}
            >
              <strong>{fill(t.readers.reader, { n })}</strong>{' '}
              {slot.readerId ? (
                <>
                  <span>{slot.card ? formatCard(slot.card.cardNumber) : t.training.dropHere}</span>
                  {slot.card ? (
                    <button
                      type="button"
                      onClick={() => void act(() => ws.agent.remove(readerId(n)))}
                      data-remove={n}
                    >
                      {t.training.remove}
                    </button>
                  ) : null}
                  <button
                    type="button"
                    onClick={() => void act(() => ws.agent.unplug(readerId(n)))}
                    data-unplug={n}
                  >
                    {t.training.unplug}
                  </button>
                </>
              ) : (
                <button
                  type="button"
                  onClick={() => void act(() => ws.agent.plug(readerId(n)))}
                  data-plug={n}
                >
                  {t.training.plug}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      <fieldset className="simulation">
        <legend>{t.training.simulate}</legend>
        <label>
          <input
            type="checkbox"
            checked={ws.simulation.silentAgent}
            onChange={(event) =>
              void act(() => ws.simulate({ ...ws.simulation, silentAgent: event.target.checked }))
            }
            data-simulate="silent-agent"
          />{' '}
          {t.training.silentAgent}
        </label>
        {(['pin1', 'pin2'] as const).map((pin) => (
          <label key={pin}>
            <input
              type="checkbox"
              checked={ws.simulation.unopenedDialogs.includes(pin)}
              onChange={(event) =>
                void act(() =>
                  ws.simulate({
                    ...ws.simulation,
                    unopenedDialogs: event.target.checked
                      ? [...ws.simulation.unopenedDialogs, pin]
                      : ws.simulation.unopenedDialogs.filter((p) => p !== pin),
                  }),
                )
              }
              data-simulate={`unopened-${pin}`}
            />{' '}
            {fill(t.training.unopenedDialog, { pin: pin === 'pin1' ? t.pin.pin1 : t.pin.pin2 })}
          </label>
        ))}
      </fieldset>
      {agentFaults(t.training.station, [
        ['unregisteredStation', 'unregistered-station', t.training.unregisteredStation],
        ['forgedStatement', 'forged-statement', t.training.forgedStatement],
      ])}
      {agentFaults(t.training.cards, [
        ['counterfeitCard', 'counterfeit-card', t.training.counterfeitCard],
        ['exportableKeys', 'exportable-keys', t.training.exportableKeys],
      ])}
      <h3>{t.training.desk}</h3>
      <h4>{t.training.adminCards}</h4>
      <ul className="training-cards">{byKind(true).map(cardItem)}</ul>
      <h4>{t.training.reserveCards}</h4>
      <ul className="training-cards">{byKind(false).map(cardItem)}</ul>
      <h3>{t.training.clock}</h3>
      <button type="button" disabled={!flowId} onClick={() => void jump()} data-action="jump-to-deadline">
        {t.training.jump}
      </button>{' '}
      <button type="button" onClick={() => void jumpExtension()} data-action="jump-to-extension-deadline">
        {t.training.jumpExtension}
      </button>
      <h3>{t.training.scenarios}</h3>
      <ul className="scenarios">
        {list.map((scenario) => (
          <li key={scenario.id} data-scenario={scenario.id}>
            {scenario.name ? <strong>{scenario.name[language]}: </strong> : null}
            <code>{scenario.code}</code> {scenario.instruction[language]}{' '}
            <button type="button" onClick={() => void setScene(scenario)} data-try={scenario.id}>
              {t.training.tryIt}
            </button>
          </li>
        ))}
      </ul>
      <h3>{t.training.persons}</h3>
      <ul className="persons">
        {demo.persons.map((p) => (
          <li key={p.hsaId}>
            {p.name} · {p.personalNumber} · {p.hsaId}
          </li>
        ))}
      </ul>
    </aside>
  );
};
