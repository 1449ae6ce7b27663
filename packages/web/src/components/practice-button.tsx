import { useState } from 'react';
import { answer, client } from '../api/server-client.js';
import type { PracticeAnswer, PracticeMissing, TrainingDemo } from '../api/views.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import type { Workstation } from '../flow/workstation.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { type PracticeSession, sceneOfPlan } from '../training/practice-session.js';
import { setTrainingScene } from '../training/scene-setter.js';
import { useSubscription } from '../use-subscription.js';
import { ErrorPanel } from './error-panel.js';
import { PracticePlanView } from './practice-plan-view.js';

/** What the training needs to practise a case; absent outside training mode. */
export interface PracticeKit {
  readonly ws: Workstation;
  readonly demo: TrainingDemo;
  readonly practice: PracticeSession;
}

/**
 * "Öva på det här" (training mode only): asks the server for the case's practice plan, puts the
 * training's readers and cards where the case had them at its first error, and shows the rest of
 * the plan. A case the plan cannot be made for says what it lacks.
 */
export const PracticeButton = ({ kit, caseId }: { readonly kit: PracticeKit; readonly caseId: string }) => {
  useSubscription(kit.practice);
  const { t } = useLanguage();
  const [busy, setBusy] = useState(false);
  const [missing, setMissing] = useState<PracticeMissing | null>(null);
  const [error, setError] = useState<PageError | null>(null);

  const practise = async () => {
    setBusy(true);
    setError(null);
    setMissing(null);
    try {
      const plan = await answer<PracticeAnswer>(
        client.GET('/api/training/practice/{caseId}', { params: { path: { caseId } } }),
      );
      if (plan.kind === 'missing') {
        setMissing(plan);
        return;
      }
      await setTrainingScene(kit.ws, sceneOfPlan(plan));
      await kit.ws.refresh();
      kit.practice.set(plan);
    } catch (failure) {
      setError(pageErrorOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="practice">
      <button type="button" disabled={busy} onClick={() => void practise()} data-action="practise">
        {t.practice.button}
      </button>
      {busy ? <p aria-busy="true">{t.practice.busy}</p> : null}
      {error ? <ErrorPanel error={error} /> : null}
      {missing ? (
        <p className="practice-missing" role="status" data-missing={missing.missing}>
          {missing.missing === 'scene'
            ? fill(t.practice.missingScene, { code: missing.code ?? '–' })
            : t.practice.missingError}
        </p>
      ) : null}
      {kit.practice.plan?.caseId === caseId ? (
        <PracticePlanView ws={kit.ws} demo={kit.demo} practice={kit.practice} flowId={null} place="case" />
      ) : null}
    </div>
  );
};
