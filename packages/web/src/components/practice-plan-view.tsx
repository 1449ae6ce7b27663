import { useState } from 'react';
import { answer, client } from '../api/server-client.js';
import type { PracticeReader, TrainingDemo } from '../api/views.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import type { Workstation } from '../flow/workstation.js';
import { formatCard } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { type PracticeSession, sceneOfPlan } from '../training/practice-session.js';
import { scenarios } from '../training/scenarios.js';
import { setTrainingScene } from '../training/scene-setter.js';
import { useSubscription } from '../use-subscription.js';
import { ErrorPanel } from './error-panel.js';

/** "1 min 12 s", "45 s": how far into a flow, or how long was left. */
const duration = (ms: number): string => {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  return minutes === 0 ? `${seconds} s` : `${minutes} min ${seconds % 60} s`;
};

interface PracticePlanViewProps {
  readonly ws: Workstation;
  readonly demo: TrainingDemo;
  readonly practice: PracticeSession;
  /** The flow on screen, whose acknowledgement time the clock can be set to; null: none. */
  readonly flowId: string | null;
  /** Where the view stands: in the case it came from, or in the training panel while walking. */
  readonly place: 'case' | 'panel';
}

/**
 * The practice of a support case under way: where the readers and cards stand, the step to walk
 * to and how, the clock, the code and what to try; with the scene and the clock to set again.
 */
export const PracticePlanView = ({ ws, demo, practice, flowId, place }: PracticePlanViewProps) => {
  useSubscription(practice);
  const { language, t, catalogue } = useLanguage();
  const [error, setError] = useState<PageError | null>(null);
  const [notice, setNotice] = useState('');
  const plan = practice.plan;
  if (plan === null) return null;
  const p = t.practice;

  const act = async (work: () => Promise<void>) => {
    setError(null);
    setNotice('');
    try {
      await work();
      await ws.refresh();
    } catch (failure) {
      setError(pageErrorOf(failure));
    }
  };
  const deadlineLeft = plan.clock.deadlineLeftMs;
  const setClock = () =>
    act(async () => {
      if (flowId === null || deadlineLeft === null) return;
      await answer(
        client.POST('/api/training/clock', {
          body: { toDeadlineOf: flowId, leaveMs: Math.max(0, deadlineLeft) },
        }),
      );
      setNotice(fill(p.clockSet, { time: duration(Math.max(0, deadlineLeft)) }));
    });

  const readerText = (reader: PracticeReader): string => {
    if (!reader.connected) return p.unplugged;
    if (reader.card === null) return p.empty;
    const number = formatCard(reader.card.cardNumber);
    const card = fill(p.role[reader.card.role], { name: plan.adminCard.name, number });
    return fill(p.holding, { card });
  };

  const admin = demo.admins.find((a) => a.cardNumber === plan.adminCard.cardNumber);
  const reserve = demo.reserveCards.find((c) => c.cardNumber === plan.reserveCard);
  const search =
    plan.recipient !== null
      ? fill(p.walk.search, { person: `${plan.recipient.name} (${plan.recipient.personalNumber})` })
      : plan.reserveCard !== null && reserve?.forPerson != null
        ? p.walkSearchHidden
        : p.walkSearchAny;
  // What it takes to reach each step, from the one before it.
  const walk: readonly (readonly [number, string])[] = [
    [1, fill(p.walkLogin, { name: plan.adminCard.name, pin1: admin?.pins.pin1 ?? '' })],
    [2, p.walk.manage],
    [3, `${search} ${p.walk.select}`],
    [4, fill(p.walk.sign, { pin2: admin?.pins.pin2 ?? '' })],
    [5, reserve ? fill(p.walk.handover, { card: formatCard(reserve.cardNumber) }) : p.walkNoReserve],
    [6, p.walk.download],
    // The reserve card's PINs are typed at step 6, on the way to step 7 or to an error there.
    [7, reserve ? fill(p.walk.pins, { pin1: reserve.pins.pin1, pin2: reserve.pins.pin2 }) : ''],
  ];
  const reach = plan.step === 6 ? 7 : plan.step;
  const steps = walk.filter(([step, text]) => step <= reach && text !== '');
  const scenario = scenarios(demo).find((s) => s.id === plan.code);

  return (
    <section
      className="practice-plan"
      aria-labelledby={`practice-title-${place}`}
      data-testid={`practice-${place}`}
      data-step={plan.step}
      data-code={plan.code}
    >
      <h3 id={`practice-title-${place}`}>
        {place === 'panel' ? `${p.active}: ` : ''}
        {fill(p.title, { id: plan.caseId })}
      </h3>
      {error ? <ErrorPanel error={error} /> : null}
      <p className="practice-code">
        <code>{plan.code}</code> {plan.catalogue.message[language]}
      </p>
      {plan.caseCodes.length > 1 ? (
        <p className="hint">{fill(p.caseCodes, { codes: plan.caseCodes.join(', ') })}</p>
      ) : null}
      <p>{p.readersSet}</p>
      <ul className="practice-readers">
        {([1, 2] as const).map((n) => (
          <li key={n} data-practice-reader={n}>
            <strong>{fill(t.readers.reader, { n })}:</strong> {readerText(plan.readers[n])}
          </li>
        ))}
      </ul>
      <p data-field="practice-step">
        {fill(p.reached, { step: plan.step, name: catalogue.steps[plan.step] })}
      </p>
      <p data-field="practice-clock">
        {fill(p.sinceStart, { time: duration(plan.clock.sinceStartMs) })}{' '}
        {deadlineLeft === null
          ? p.noDeadline
          : deadlineLeft > 0
            ? fill(p.deadlineLeft, { time: duration(deadlineLeft) })
            : p.deadlinePassed}
      </p>
      <h4>{plan.step === 0 ? p.walkStay : fill(p.walkTitle, { step: plan.step })}</h4>
      {steps.length > 0 ? (
        <ol className="practice-walk">
          {steps.map(([step, text]) => (
            <li key={step}>{text}</li>
          ))}
        </ol>
      ) : null}
      {plan.step > 0 ? <p className="hint">{fill(p.reapplyHint, { step: plan.step })}</p> : null}
      <h4>{p.there}</h4>
      <p>{scenario ? scenario.instruction[language] : plan.catalogue.explanation[language]}</p>
      <h4>{p.whatToTry}</h4>
      <p data-field="practice-remedy">{plan.catalogue.remedy[language]}</p>
      <p role="status" className="notice">
        {notice}
      </p>
      <div className="actions">
        <button
          type="button"
          onClick={() => void act(() => setTrainingScene(ws, sceneOfPlan(plan)))}
          data-action="practice-reapply"
        >
          {p.reapply}
        </button>
        {deadlineLeft !== null ? (
          <button
            type="button"
            disabled={flowId === null}
            onClick={() => void setClock()}
            data-action="practice-clock"
          >
            {p.setClock}
          </button>
        ) : null}
        <button type="button" onClick={() => practice.set(null)} data-action="practice-end">
          {p.end}
        </button>
      </div>
    </section>
  );
};
