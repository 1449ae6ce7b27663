import type { ErrorCode, ReplayFrame, TimelineEntry } from '@reservkort/domain';
import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import { answer, client } from '../api/server-client.js';
import type { ReplayAnswer } from '../api/views.js';
import { DownloadPhases } from '../components/download-phases.js';
import { ErrorPanel } from '../components/error-panel.js';
import { ReaderPicture } from '../components/reader-picture.js';
import { ReaderSlots } from '../components/reader-slots.js';
import { StepProgress } from '../components/step-progress.js';
import { codeTitle, describeTimeline } from '../components/timeline-prose.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import {
  clampFrame,
  frameDelay,
  nextFrame,
  phasesAt,
  REPLAY_SPEEDS,
  type ReplaySpeed,
  slotViewOf,
} from '../flow/replay-player.js';
import { formatDate, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';

interface ReplayScreenProps {
  readonly kind: 'case' | 'flow';
  readonly id: string;
  /** Further actions in the toolbar, such as "Öva på det här" (practise this case). */
  readonly extraActions?: ReactNode;
}

const PENDING_CONTROLS = { handover: 'confirm-handover', download: 'start-download' } as const;

/** The details a code was last raised with up to a frame, so its panel reads as it did then. */
const detailsUpTo = (frames: readonly ReplayFrame[], index: number, code: ErrorCode) =>
  frames.slice(0, index + 1).findLast((frame) => frame.codes.includes(code) && frame.details !== undefined)
    ?.details ?? {};

/**
 * "Spela upp": a case's or a flow's timeline played back in the components the administrator saw
 * (the step bar, both readers and their cards, step 6's PIN dialogs, the error panel), read-only.
 */
export const ReplayScreen = ({ kind, id, extraActions }: ReplayScreenProps) => {
  const { language, t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [replay, setReplay] = useState<ReplayAnswer | null>(null);
  const [error, setError] = useState<PageError | null>(null);
  const [index, setIndex] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState<ReplaySpeed>(1);

  useEffect(() => {
    setReplay(null);
    setError(null);
    setIndex(0);
    setPlaying(false);
    void (async () => {
      try {
        const loaded =
          kind === 'case'
            ? await answer<ReplayAnswer>(
                client.GET('/api/support/cases/{caseId}/replay', { params: { path: { caseId: id } } }),
              )
            : await answer<ReplayAnswer>(
                client.GET('/api/flows/{flowId}/replay', { params: { path: { flowId: id } } }),
              );
        setReplay(loaded);
      } catch (failure) {
        setError(pageErrorOf(failure));
      }
    })();
  }, [kind, id]);
  const loadedId = replay?.id ?? null;
  useEffect(() => {
    if (loadedId !== null) heading.current?.focus();
  }, [loadedId]);

  const count = replay?.frames.length ?? 0;
  // Playing moves one frame on after each delay, and stops at the last frame.
  useEffect(() => {
    if (!playing) return;
    const timer = window.setTimeout(() => {
      const next = nextFrame(index, count);
      if (next === null) setPlaying(false);
      else setIndex(next);
    }, frameDelay(speed));
    return () => window.clearTimeout(timer);
  }, [playing, index, count, speed]);

  const sentences = useMemo(() => {
    if (replay === null) return [];
    const entries: TimelineEntry[] = replay.frames.map(({ at, step, event, codes, details }) => ({
      at,
      step,
      event,
      codes,
      ...(details === undefined ? {} : { details }),
    }));
    return describeTimeline(entries, language, replay.reserveCard);
  }, [replay, language]);

  const back =
    kind === 'case' ? (
      <a href={`#/desk/${id}`}>{t.replay.backCase}</a>
    ) : (
      <a href="#/issuance">{t.replay.backFlow}</a>
    );
  if (replay === null)
    return error ? (
      <section className="replay">
        <p>{back}</p>
        <ErrorPanel error={error} />
      </section>
    ) : (
      <p aria-busy="true">{t.app.loading}</p>
    );

  const title = fill(kind === 'case' ? t.replay.caseTitle : t.replay.flowTitle, { id });
  const current = clampFrame(index, count);
  const frame = replay.frames[current];
  const go = (to: number) => {
    setPlaying(false);
    setIndex(clampFrame(to, count));
  };
  const togglePlay = () => {
    if (playing) return setPlaying(false);
    // Play from the start again once at the end.
    if (nextFrame(current, count) === null) setIndex(0);
    setPlaying(true);
  };
  const when = (at: number) =>
    fill(t.replay.time, { date: formatDate(at, language), time: formatTime(at, language) });

  return (
    <section
      className="replay"
      data-kind={kind}
      data-replay={id}
      data-frame={current}
      data-playing={playing ? 'true' : 'false'}
    >
      <p>{back}</p>
      <h2 ref={heading} tabIndex={-1}>
        {title}
      </h2>
      <p className="hint">{t.replay.intro}</p>
      {frame === undefined ? (
        <p>{t.replay.empty}</p>
      ) : (
        <>
          <div className="replay-toolbar" role="toolbar" aria-label={t.replay.toolbar}>
            <button
              type="button"
              onClick={() => go(current - 1)}
              disabled={current === 0}
              data-action="replay-previous"
            >
              <span aria-hidden="true">◀ </span>
              {t.replay.previous}
            </button>
            <button type="button" className="primary" onClick={togglePlay} data-action="replay-play">
              <span aria-hidden="true">{playing ? '❚❚ ' : '▶ '}</span>
              {playing ? t.replay.pause : t.replay.play}
            </button>
            <button
              type="button"
              onClick={() => go(current + 1)}
              disabled={current >= count - 1}
              data-action="replay-next"
            >
              {t.replay.next}
              <span aria-hidden="true"> ▶</span>
            </button>
            <label className="replay-slider">
              <span>{t.replay.slider}</span>
              <input
                type="range"
                min={0}
                max={Math.max(count - 1, 0)}
                step={1}
                value={current}
                aria-valuetext={`${fill(t.replay.frame, { n: current + 1, count })}, ${when(frame.at)}`}
                onChange={(event) => go(Number(event.target.value))}
                data-action="replay-slider"
              />
            </label>
            <label className="replay-speed">
              <span>{t.replay.speed}</span>{' '}
              <select
                value={speed}
                onChange={(event) => setSpeed(Number(event.target.value) as ReplaySpeed)}
                data-action="replay-speed"
              >
                {REPLAY_SPEEDS.map((option) => (
                  <option key={option} value={option}>
                    {option}×
                  </option>
                ))}
              </select>
            </label>
            {/* Room for actions built elsewhere on a replay, such as practising the case ("Öva på det här"). */}
            <div className="replay-extra-actions" data-slot="extra-actions">
              {extraActions}
            </div>
          </div>
          <ReplayFrameView frame={frame} frames={replay.frames} index={current} when={when}>
            {/* Told politely when stepping; while playing, each frame would talk over the last. */}
            <div className="replay-position" aria-live={playing ? 'off' : 'polite'}>
              <p>
                <strong data-testid="replay-counter">
                  {fill(t.replay.frame, { n: current + 1, count })}
                </strong>
                {' · '}
                <time dateTime={new Date(frame.at).toISOString()} data-testid="replay-time">
                  {when(frame.at)}
                </time>
                {replay.frames.some((f) => f.attempt > 1) ? (
                  <>
                    {' · '}
                    <span data-testid="replay-attempt">{fill(t.replay.attempt, { n: frame.attempt })}</span>
                  </>
                ) : null}
              </p>
              <p className="replay-sentence" data-testid="replay-sentence" data-event={frame.event}>
                {sentences[current]}
                {frame.codes.map((code) => (
                  <span key={code} className="timeline-code-title">
                    {' '}
                    <code className="code-chip">{code}</code> {codeTitle(code, language)}
                  </span>
                ))}
              </p>
            </div>
          </ReplayFrameView>
        </>
      )}
      <h3>{t.desk.catalogue}</h3>
      <dl className="catalogue-entries">
        {replay.catalogue.map((entry) => (
          <div key={entry.code} id={`replay-entry-${entry.code}`}>
            <dt>
              <code>{entry.code}</code> {entry.message[language]}
            </dt>
            <dd>
              {entry.explanation[language]} {entry.remedy[language]}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
};

/** One frame's screen: the step bar, the step, the error panels, step 6's rows, both readers. */
export const ReplayFrameView = ({
  frame,
  frames,
  index,
  when,
  children,
}: {
  readonly frame: ReplayFrame;
  readonly frames: readonly ReplayFrame[];
  readonly index: number;
  readonly when: (at: number) => string;
  /** What goes above the step bar: the frame's counter, time and sentence. */
  readonly children?: ReactNode;
}) => {
  const { language, t, catalogue } = useLanguage();
  const scene = frame.scene;
  const step = scene?.step ?? frame.step;
  // The fault standing on the screen, then what this entry raised besides; each code once.
  const shown: ErrorCode[] = [
    ...new Set([
      ...(scene?.fault ? [scene.fault] : []),
      ...(scene?.status === 'ack-timeout-revoked' ? (['ACK_TIMEOUT'] as const) : []),
      ...frame.codes,
    ]),
  ];
  const phases = phasesAt(frames, index);
  const roles = t.replay.roles;
  return (
    <div className="replay-screen" data-scene={scene === null ? 'missing' : 'recorded'} data-step={step}>
      <div className="replay-main">
        {children}
        <StepProgress step={step} />
        <h3 className="replay-step">
          {step > 0 ? <span className="step-number">{fill(t.flow.stepOf, { n: step })}: </span> : null}
          {catalogue.steps[step]}
        </h3>
        {scene === null ? (
          <p className="replay-not-recorded" data-testid="not-recorded">
            {t.replay.notRecorded}
          </p>
        ) : null}
        {shown.map((code) => (
          <ErrorPanel key={code} error={{ code, details: detailsUpTo(frames, index, code) }} readOnly />
        ))}
        {phases ? <DownloadPhases states={phases} live={false} /> : null}
        {scene?.pending ? (
          <p className="replay-pending" data-testid="replay-pending">
            {fill(t.replay.pending, {
              control: catalogue.controls[PENDING_CONTROLS[scene.pending.action]],
              time: formatTime(scene.pending.since, language),
            })}
          </p>
        ) : null}
        {scene?.deadline != null && scene.status === 'active' ? (
          <p className="replay-deadline">{fill(t.flow.deadlineAt, { time: when(scene.deadline) })}</p>
        ) : null}
        {scene && scene.status !== 'active' ? (
          <p className="replay-status" data-status={scene.status}>
            {t.replay.status[scene.status]}
          </p>
        ) : null}
      </div>
      <aside
        className="readers-panel replay-readers"
        aria-labelledby="replay-readers-title"
        data-testid="replay-readers"
      >
        <h3 id="replay-readers-title">{t.replay.readers}</h3>
        {scene === null ? (
          <p className="replay-not-recorded">{t.replay.notRecorded}</p>
        ) : (
          <>
            <ReaderPicture
              connected={{ 1: scene.readers[1].connected, 2: scene.readers[2].connected }}
              cards={{
                1: scene.readers[1].card ? roles[scene.readers[1].card.role] : null,
                2: scene.readers[2].card ? roles[scene.readers[2].card.role] : null,
              }}
            />
            <ReaderSlots
              readers={{ 1: slotViewOf(scene.readers[1], roles), 2: slotViewOf(scene.readers[2], roles) }}
            />
          </>
        )}
      </aside>
    </div>
  );
};
