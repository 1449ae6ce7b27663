import type { Step } from '@reservkort/domain';
import { useLanguage } from '../i18n/language.js';

/** The seven steps, the current one marked. */
export const StepProgress = ({ step }: { readonly step: Step }) => {
  const { t, catalogue } = useLanguage();
  return (
    <nav aria-label={t.flow.progress} className="step-progress">
      <ol>
        {([1, 2, 3, 4, 5, 6, 7] as const).map((n) => (
          <li
            key={n}
            className={n < step ? 'done' : n === step ? 'current' : 'ahead'}
            aria-current={n === step ? 'step' : undefined}
          >
            <span className="number">{n}</span> <span className="title">{catalogue.steps[n]}</span>
          </li>
        ))}
      </ol>
    </nav>
  );
};
