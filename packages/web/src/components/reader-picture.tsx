import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';

/**
 * Two readers side by side; a missing one drawn dashed and marked, so the gap is seen at a glance.
 * With `cards` (a replay), the card in each reader is drawn sticking out of it with whose it is.
 */
export const ReaderPicture = ({
  connected,
  cards,
}: {
  readonly connected: { readonly 1: boolean; readonly 2: boolean };
  /** Whose card is in each reader (null: none); absent: cards are not drawn. */
  readonly cards?: { readonly 1: string | null; readonly 2: string | null };
}) => {
  const { t } = useLanguage();
  const missing = ([1, 2] as const).filter((n) => !connected[n]);
  const label =
    missing.length === 0 ? t.readers.title : fill(t.readers.pictureMissing, { missing: missing.join(', ') });
  const described =
    cards === undefined
      ? label
      : `${label}. ${([1, 2] as const)
          .map((n) => `${fill(t.readers.reader, { n })}: ${cards[n] ?? t.readers.empty}`)
          .join('; ')}`;
  return (
    <svg className="reader-picture" viewBox="0 0 320 120" role="img" aria-label={described}>
      {([1, 2] as const).map((n) => {
        const x = n === 1 ? 20 : 180;
        const ok = connected[n];
        const card = cards?.[n] ?? null;
        return (
          <g key={n} className={ok ? 'reader-ok' : 'reader-missing'}>
            {card !== null ? (
              <rect className="card-in" x={x + 30} y={2} width={60} height={30} rx={3} data-card-drawn={n} />
            ) : null}
            <rect x={x} y={30} width={120} height={60} rx={10} strokeDasharray={ok ? undefined : '8 6'} />
            <rect x={x + 25} y={22} width={70} height={10} rx={2} />
            <text x={x + 60} y={card === null ? 66 : 56} textAnchor="middle">
              {fill(t.readers.reader, { n })}
            </text>
            {card !== null ? (
              <text x={x + 60} y={78} textAnchor="middle" className="card-label">
                {card}
              </text>
            ) : null}
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
