import { type ControlId, describeError, type ErrorCode, REMEDY_ACTIONS } from '@reservkort/domain';
import type { ReactNode } from 'react';
import { pageAddresses } from '../api/page-addresses.js';
import { useLanguage } from '../i18n/language.js';
import { fill, type UiTexts } from '../i18n/ui-texts.js';

export interface ShownError {
  readonly code: ErrorCode | 'AGENT_UNREACHABLE';
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

interface ErrorPanelProps {
  readonly error: ShownError;
  /** Controls of the current screen that may carry out a remedy, with their handlers. */
  readonly actions?: Partial<Record<ControlId, () => void>>;
  /** "Skicka felanmälan", where there is a flow to report. */
  readonly onSupportCase?: (() => void) | undefined;
  readonly agentUrl?: string;
  readonly id?: string;
  /** The control to offer as the remedy, where the catalogue's own is not open on this screen. */
  readonly remedy?: ControlId | undefined;
  /** A blocked PIN links to the card tools, except on the card tools themselves. */
  readonly cardToolsLink?: boolean;
  /**
   * A replay: what the administrator was told, with no button that acts and no alert to a screen
   * reader (the replay announces its own frames).
   */
  readonly readOnly?: boolean;
}

/**
 * ORIGIN_FORBIDDEN with the addresses in it: the agent runs but answers another address than this
 * page's. Either the page is open at the wrong address (open the portal's), or the agent is set up
 * for another portal than this one (its settings need changing).
 */
const originRefusal = (t: UiTexts, portalUrl: string | null): { why: string; remedy: ReactNode } | null => {
  if (portalUrl === null) return null;
  const page = window.location.origin;
  if (page === portalUrl)
    return { why: fill(t.agent.otherPortal, { page }), remedy: fill(t.agent.setUpAgent, { page }) };
  const [before = '', after = ''] = t.agent.openPortal.split('{portal}');
  return {
    why: fill(t.agent.wrongAddress, { page, portal: portalUrl }),
    remedy: (
      <>
        {before}
        <a href={`${portalUrl}/`} data-portal-url>
          {portalUrl}
        </a>
        {after}
      </>
    ),
  };
};

/** What happened, why, and what to do: next to the control concerned, with the remedy as a button. */
export const ErrorPanel = ({
  error,
  actions = {},
  onSupportCase,
  agentUrl,
  id,
  remedy: offered,
  cardToolsLink = true,
  readOnly = false,
}: ErrorPanelProps) => {
  const { language, t, catalogue } = useLanguage();
  const addresses = pageAddresses();
  if (error.code === 'AGENT_UNREACHABLE') {
    return (
      <section className="error-panel" role="alert" id={id} data-code="AGENT_UNREACHABLE">
        <h3>{t.agent.unreachableTitle}</h3>
        <p>{fill(t.agent.unreachable, { url: agentUrl || addresses.agentUrl })}</p>
      </section>
    );
  }
  const described = describeError({ code: error.code, details: error.details ?? {} }, language);
  const refusedHere = error.code === 'ORIGIN_FORBIDDEN' ? originRefusal(t, addresses.portalUrl) : null;
  const remedy = offered ?? REMEDY_ACTIONS[error.code];
  const remedyAction = remedy ? actions[remedy] : undefined;
  return (
    <section
      className={`error-panel severity-${described.severity}${readOnly ? ' read-only' : ''}`}
      role={readOnly ? undefined : 'alert'}
      id={id}
      data-code={error.code}
    >
      <h3>{described.title}</h3>
      <dl>
        <dt>{t.error.why}</dt>
        <dd>{refusedHere?.why ?? described.explanation}</dd>
        <dt>{t.error.remedy}</dt>
        <dd>
          {refusedHere?.remedy ?? described.remedy}
          {error.code === 'PIN_BLOCKED' && cardToolsLink && !readOnly ? (
            <>
              {' '}
              <a href="#/card" data-action="open-card-tools">
                {t.cardTools.open}
              </a>
            </>
          ) : null}
        </dd>
        <dt>{t.error.code}</dt>
        <dd>
          <a
            href={`#/catalogue/${error.code}`}
            className="code-link"
            aria-label={fill(t.error.catalogueLink, { code: error.code })}
          >
            <code>{error.code}</code>
          </a>
        </dd>
      </dl>
      {readOnly ? null : (
        <div className="actions">
          {remedy && remedyAction ? (
            <button type="button" className="primary" onClick={remedyAction} data-remedy={remedy}>
              {catalogue.controls[remedy]}
            </button>
          ) : null}
          {onSupportCase ? (
            <button type="button" onClick={onSupportCase} data-control="send-support-case">
              {catalogue.controls['send-support-case']}
            </button>
          ) : null}
        </div>
      )}
    </section>
  );
};
