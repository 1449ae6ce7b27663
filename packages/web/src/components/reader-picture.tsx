import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';

/** Two readers side by side; a missing one drawn dashed and marked, so the gap is seen at a glance. */
export const ReaderPicture = ({
  connected,
}: {
  readonly connected: { readonly 1: boolean; readonly 2: boolean };
}) => {
  const { t } = useLanguage();
  const missing = ([1, 2] as const).filter((n) => !connected[n]);
  const label =
    missing.length === 0 ? t.readers.title : fill(t.readers.pictureMissing, { missing: missing.join(', ') });
  return (
    <svg className="reader-picture" viewBox="0 0 320 120" role="img" aria-label={label}>
      {([1, 2] as const).map((n) => {
        const x = n === 1 ? 20 : 180;
        const ok = connected[n];
        return (
          <g key={n} className={ok ? 'reader-ok' : 'reader-missing'}>
            <rect x={x} y={30} width={120} height={60} rx={10} strokeDasharray={ok ? undefined : '8 6'} />
            <rect x={x + 25} y={22} width={70} height={10} rx={2} />
            <text x={x + 60} y={66} textAnchor="middle">
              {fill(t.readers.reader, { n })}
            </text>
            {ok ? null : (
              <text x={x + 60} y={112} textAnchor="middle" className="missing-label">
                {t.readers.missing}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
};
