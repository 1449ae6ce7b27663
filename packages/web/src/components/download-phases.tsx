import type { PhaseState } from '../flow/replay-player.js';
import { useLanguage } from '../i18n/language.js';

/**
 * Step 6's rows: keys, the two PIN dialogs, issuing, writing, each with its state, and a bar of
 * those done. Live it announces changes politely; a replay has its own announcement.
 */
export const DownloadPhases = ({
  states,
  live = true,
}: {
  readonly states: readonly PhaseState[];
  readonly live?: boolean;
}) => {
  const { t } = useLanguage();
  const labels = [
    t.flow.phase.keys,
    t.flow.phase.pin1,
    t.flow.phase.pin2,
    t.flow.phase.issuing,
    t.flow.phase.writing,
  ];
  const phases = labels.map((label, index): [string, PhaseState] => [label, states[index] ?? 'waiting']);
  const done = phases.filter(([, state]) => state === 'done').length;
  return (
    <>
      <progress max={phases.length} value={done} aria-label={t.flow.progress} />
      <ol className="download-phases" aria-live={live ? 'polite' : undefined}>
        {phases.map(([label, state]) => (
          <li key={label} className={`phase-${state}`} data-phase-state={state}>
            <span>{label}</span> <span className="phase-status">{t.flow.status[state]}</span>
          </li>
        ))}
      </ol>
    </>
  );
};
