import { CODE_INFO, describeError, ERROR_CODES } from '@reservkort/domain';
import { useEffect, useRef } from 'react';
import { useLanguage } from '../i18n/language.js';

/** Every code with its texts: the target of the links next to disabled buttons and errors. */
export const CatalogueScreen = ({ focusCode }: { readonly focusCode: string | null }) => {
  const { language, t, catalogue } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const target = focusCode ? document.getElementById(`code-${focusCode}`) : null;
    (target ?? heading.current)?.focus();
  }, [focusCode]);
  return (
    <section className="catalogue">
      <h2 ref={heading} tabIndex={-1}>
        {t.catalogue.title}
      </h2>
      <p>{t.catalogue.intro}</p>
      <dl>
        {ERROR_CODES.map((code) => {
          const described = describeError({ code }, language);
          const step = CODE_INFO[code].step;
          return (
            <div key={code} className={code === focusCode ? 'highlight' : undefined}>
              <dt id={`code-${code}`} tabIndex={-1}>
                <code>{code}</code> {described.title}
              </dt>
              <dd>
                {typeof step === 'number' ? `${t.catalogue.step} ${step} (${catalogue.steps[step]}). ` : ''}
                {described.explanation} <strong>{described.remedy}</strong>
              </dd>
            </div>
          );
        })}
      </dl>
    </section>
  );
};
