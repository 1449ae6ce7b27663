import type { Control, ControlId, ErrorCode } from '@reservkort/domain';
import { describeError, REMEDY_ACTIONS } from '@reservkort/domain';
import { createContext, useContext } from 'react';
import { useLanguage } from '../i18n/language.js';

/**
 * The fault the screen already explains in full (with its remedy and "Skicka felanmälan"): a
 * button it disables names it and points there, instead of saying it all a second time.
 */
export const ShownFault = createContext<ErrorCode | null>(null);

interface ControlButtonProps {
  readonly id: ControlId;
  /** The control as the server's view has it; absent means "not on this screen" (shown disabled). */
  readonly control: Control | undefined;
  readonly onClick: () => void;
  readonly busy?: boolean;
  readonly primary?: boolean;
  /** Other controls that may carry out the reason's remedy. */
  readonly actions?: Partial<Record<ControlId, () => void>>;
  readonly type?: 'button' | 'submit';
}

/**
 * A button of the flow with its exact label. Disabled, it says why next to it (not only in a
 * tooltip), links the catalogue entry, and offers the remedy as a button where there is one.
 */
export const ControlButton = ({
  id,
  control,
  onClick,
  busy = false,
  primary = false,
  actions = {},
  type = 'button',
}: ControlButtonProps) => {
  const { language, t, catalogue } = useLanguage();
  const enabled = control?.enabled === true && !busy;
  const reason = control && !control.enabled ? control.reason : null;
  const reasonId = `reason-${id}`;
  const described = reason ? describeError(reason, language) : null;
  const shownFault = useContext(ShownFault);
  const explainedAbove = reason !== null && reason.code === shownFault;
  const remedy = reason ? REMEDY_ACTIONS[reason.code] : undefined;
  const remedyAction = remedy && remedy !== id ? actions[remedy] : undefined;
  return (
    <div className="control">
      <button
        type={type}
        className={primary ? 'primary' : undefined}
        // Busy, the button keeps the focus (aria-disabled, clicks ignored): disabling it would drop
        // the keyboard's focus to the page while the action runs.
        disabled={!enabled && !busy}
        aria-disabled={!enabled}
        aria-describedby={described ? reasonId : undefined}
        aria-busy={busy}
        data-control={id}
        onClick={(event) => {
          if (!enabled) event.preventDefault();
          else if (type === 'button') onClick();
        }}
      >
        {catalogue.controls[id]}
        {busy ? ' …' : ''}
      </button>
      {described && reason && explainedAbove ? (
        <div className="reason" id={reasonId} data-reason={reason.code} data-explained="above">
          <p>
            <span className="visually-hidden">{t.error.disabledBecause} </span>
            <strong>{described.title}.</strong> {t.error.seeAbove}
          </p>
        </div>
      ) : described && reason ? (
        <div className="reason" id={reasonId} data-reason={reason.code}>
          <p>
            <span className="visually-hidden">{t.error.disabledBecause} </span>
            <strong>{described.title}.</strong> {described.explanation}
          </p>
          <p>{described.remedy}</p>
          <p className="reason-links">
            <a href={`#/catalogue/${reason.code}`} className="code-link">
              <code>{reason.code}</code>
            </a>
            {remedy && remedyAction ? (
              <button type="button" onClick={remedyAction} data-remedy={remedy}>
                {catalogue.controls[remedy]}
              </button>
            ) : null}
            {described.supportCase && actions['send-support-case'] ? (
              <button type="button" onClick={actions['send-support-case']} data-control="send-support-case">
                {catalogue.controls['send-support-case']}
              </button>
            ) : null}
          </p>
        </div>
      ) : null}
    </div>
  );
};
