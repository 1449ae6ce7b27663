// Förlängning for the holder, as its own component: what will happen and the new validity, the
// terms, the card's work with the agent's PIN dialogs (keys, certificates, writing), the
// acknowledgement with PIN 2 and the result. Every refusal is the server's or the agent's catalogue
// code, shown in its panel; the page carries bytes between the agent and the server and decides
// nothing itself.
import { useEffect, useRef, useState } from 'react';
import { answer, client } from '../api/server-client.js';
import type { ExtensionView } from '../api/views.js';
import { type PageError, pageErrorOf } from '../flow/issuance-driver.js';
import { agentFailureOf } from '../flow/portal-session.js';
import type { Workstation } from '../flow/workstation.js';
import { formatDate, formatTime } from '../format.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';
import { ErrorPanel } from './error-panel.js';
import { PinPrompt } from './pin-prompt.js';

type Step = 'keys' | 'certificates' | 'writing' | 'acknowledge';
type StepState = 'waiting' | 'running' | 'done' | 'failed';
const STEPS: readonly Step[] = ['keys', 'certificates', 'writing', 'acknowledge'];

type Stage =
  | { readonly kind: 'starting' }
  | { readonly kind: 'overview'; readonly extension: ExtensionView }
  | { readonly kind: 'working'; readonly extension: ExtensionView }
  | { readonly kind: 'acknowledge'; readonly extension: ExtensionView }
  | { readonly kind: 'done'; readonly extension: ExtensionView };

const path = (id: string) => ({ params: { path: { extensionId: id } } });

/** The card's reader on the holder's pages: the reserve card they logged in with, in reader 1. */
const readerOf = (ws: Workstation): string => {
  const readerId = ws.readerIdOf(1);
  if (readerId === null) throw new Error('no reader 1');
  return readerId;
};

export const ExtensionWizard = ({
  ws,
  agentUrl,
  onClose,
  onDone,
  onAbandoned,
}: {
  readonly ws: Workstation;
  readonly agentUrl?: string;
  /** Back to the e-IDs; `ended` when the session ended with the acknowledgement. */
  readonly onClose: (ended: boolean) => void;
  /** The förlängning is acknowledged: the old certificates are superseded. */
  readonly onDone?: () => void;
  /** The server gave the förlängning up: the e-IDs shown are read again. */
  readonly onAbandoned?: () => void;
}) => {
  useSubscription(ws);
  const { language, t } = useLanguage();
  const heading = useRef<HTMLHeadingElement>(null);
  const [stage, setStage] = useState<Stage>({ kind: 'starting' });
  const [steps, setSteps] = useState<Record<Step, StepState>>({
    keys: 'waiting',
    certificates: 'waiting',
    writing: 'waiting',
    acknowledge: 'waiting',
  });
  const [accepted, setAccepted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<PageError | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the heading moves with each stage
  useEffect(() => heading.current?.focus(), [stage.kind]);

  /** Opened after one was given up (and none started since): that is said first, then a new one. */
  const start = async (afresh = false) => {
    setError(null);
    try {
      if (!afresh) {
        const { extension: live, abandoned } = await answer<{
          extension: ExtensionView | null;
          abandoned: { id: string; reason: string } | null;
        }>(client.GET('/api/holder/extension'));
        if (live === null && abandoned !== null) {
          setError({ code: 'EXTENSION_ABANDONED', details: { reason: abandoned.reason } });
          return;
        }
      }
      const extension = await answer<ExtensionView>(client.POST('/api/holder/extension'));
      setStage(
        extension.state === 'issued' ? { kind: 'acknowledge', extension } : { kind: 'overview', extension },
      );
      if (extension.state === 'issued')
        setSteps({ keys: 'done', certificates: 'done', writing: 'waiting', acknowledge: 'waiting' });
    } catch (failure) {
      fail(failure);
    }
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: started once when the wizard opens
  useEffect(() => {
    void start();
  }, []);

  /** A given-up förlängning cannot go on; the holder starts a new one (it does not count). */
  const startAgain = () => {
    setSteps({ keys: 'waiting', certificates: 'waiting', writing: 'waiting', acknowledge: 'waiting' });
    setAccepted(false);
    setStage({ kind: 'starting' });
    void start(true);
  };

  /** The refusal in its panel; a given-up förlängning also changed the e-IDs (its pair revoked). */
  const fail = (failure: unknown) => {
    const shown = pageErrorOf(failure);
    setError(shown);
    if (shown.code === 'EXTENSION_ABANDONED') onAbandoned?.();
  };

  const mark = (step: Step, state: StepState) => setSteps((now) => ({ ...now, [step]: state }));

  /** Terms accepted, then the card's work: keys (PIN 1, PIN 2), certificates, writing. */
  const run = async (extension: ExtensionView) => {
    setBusy(true);
    setError(null);
    let step: Step = 'keys';
    try {
      // A retry after the certificates were issued goes on with writing and the acknowledgement.
      const now = await answer<ExtensionView>(
        client.GET('/api/holder/extension/{extensionId}', path(extension.id)),
      );
      if (now.state === 'issued') {
        setSteps({ keys: 'done', certificates: 'done', writing: 'waiting', acknowledge: 'waiting' });
        setStage({ kind: 'acknowledge', extension: now });
        return;
      }
      const accepted = await answer<ExtensionView>(
        client.POST('/api/holder/extension/{extensionId}/terms', path(extension.id)),
      );
      setStage({ kind: 'working', extension: accepted });
      const readerId = readerOf(ws);
      await ws.agent.bind(readerId);
      mark('keys', 'running');
      const keys = await ws.run(
        ws.agent.renewKeys(readerId, accepted.id, accepted.nonce, accepted.cardKeyType),
      );
      if (keys.state !== 'done') throw agentFailureOf(keys);
      const { authCsr, signCsr, ...proof } = keys.result as {
        cardNumber: string;
        bureauCertificate: string;
        cardSignature: string;
        keys: {
          auth: { spki: string; local: boolean; sensitive: boolean; neverExtractable: boolean };
          sign: { spki: string; local: boolean; sensitive: boolean; neverExtractable: boolean };
        };
        authCsr: string;
        signCsr: string;
      };
      await answer<ExtensionView>(
        client.POST('/api/holder/extension/{extensionId}/keys', { ...path(accepted.id), body: proof }),
      );
      mark('keys', 'done');
      step = 'certificates';
      mark('certificates', 'running');
      const issued = await answer<{ extension: ExtensionView; certificates: { auth: string; sign: string } }>(
        client.POST('/api/holder/extension/{extensionId}/certificates', {
          ...path(accepted.id),
          body: { authCsr, signCsr },
        }),
      );
      mark('certificates', 'done');
      step = 'writing';
      mark('writing', 'running');
      const written = await ws.run(
        ws.agent.renewCertificates(readerId, issued.certificates.auth, issued.certificates.sign),
      );
      if (written.state !== 'done') throw agentFailureOf(written);
      mark('writing', 'done');
      setStage({ kind: 'acknowledge', extension: issued.extension });
    } catch (failure) {
      mark(step, 'failed');
      fail(failure);
    } finally {
      setBusy(false);
    }
  };

  /** A page that came back to an issued extension writes the certificates it fetches again. */
  const writeAgain = async (extension: ExtensionView) => {
    const certificates = await answer<{ auth: string; sign: string }>(
      client.GET('/api/holder/extension/{extensionId}/certificates', path(extension.id)),
    );
    const readerId = readerOf(ws);
    await ws.agent.bind(readerId);
    const written = await ws.run(ws.agent.renewCertificates(readerId, certificates.auth, certificates.sign));
    if (written.state !== 'done') throw agentFailureOf(written);
  };

  const acknowledge = async (extension: ExtensionView) => {
    setBusy(true);
    setError(null);
    let step: Step = 'writing';
    try {
      if (steps.writing !== 'done') {
        mark('writing', 'running');
        await writeAgain(extension);
        mark('writing', 'done');
      }
      step = 'acknowledge';
      mark('acknowledge', 'running');
      const challenge = await answer<{ challengeId: string; toBeSigned: string }>(
        client.POST('/api/holder/extension/{extensionId}/acknowledgement-challenge', path(extension.id)),
      );
      const readerId = readerOf(ws);
      await ws.agent.bind(readerId);
      const signed = await ws.run(ws.agent.sign(readerId, challenge.toBeSigned));
      if (signed.state !== 'done') throw agentFailureOf(signed);
      const done = await answer<ExtensionView>(
        client.POST('/api/holder/extension/{extensionId}/acknowledge', {
          ...path(extension.id),
          body: {
            challengeId: challenge.challengeId,
            signature: (signed.result as { signature: string }).signature,
          },
        }),
      );
      mark('acknowledge', 'done');
      setStage({ kind: 'done', extension: done });
      onDone?.();
    } catch (failure) {
      mark(step, 'failed');
      fail(failure);
    } finally {
      setBusy(false);
    }
  };

  const day = (at: number) => formatDate(at, language);
  const progress = (
    <ol className="extension-steps" aria-label={t.extend.progressTitle}>
      {STEPS.map((step) => (
        <li
          key={step}
          data-step={step}
          data-state={steps[step]}
          className={`extension-step step-${steps[step]}`}
        >
          {t.extend.steps[step]}: <strong>{t.extend.stepState[steps[step]]}</strong>
        </li>
      ))}
    </ol>
  );
  const failure = error ? <ErrorPanel error={error} agentUrl={agentUrl ?? ''} id="extension-error" /> : null;
  const abandoned = error?.code === 'EXTENSION_ABANDONED';
  const again = (
    <button type="button" className="primary" data-control="extension-start-again" onClick={startAgain}>
      {t.extend.startAgain}
    </button>
  );
  const back = (
    <button type="button" onClick={() => onClose(false)} data-action="extension-back" disabled={busy}>
      {t.extend.cancel}
    </button>
  );

  switch (stage.kind) {
    case 'starting':
      return (
        <section className="extension-wizard" data-stage="starting">
          <h3 ref={heading} tabIndex={-1}>
            {t.extend.title}
          </h3>
          {failure ?? <p aria-busy="true">{t.app.loading}</p>}
          <div className="control">
            {abandoned ? again : null}
            {back}
          </div>
        </section>
      );
    case 'overview':
    case 'working': {
      const { extension } = stage;
      return (
        <section className="extension-wizard" data-stage={stage.kind}>
          <h3 ref={heading} tabIndex={-1}>
            {stage.kind === 'overview' ? t.extend.title : t.extend.progressTitle}
          </h3>
          <p>{t.extend.intro}</p>
          <ol className="extension-what">
            {t.extend.whatHappens.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ol>
          <p data-testid="extension-validity">
            {fill(t.extend.newValidity, {
              from: day(extension.validity.notBefore),
              to: day(extension.validity.notAfter),
            })}
          </p>
          <p>
            {fill(t.extend.deadline, {
              time: `${day(extension.deadline)} ${formatTime(extension.deadline, language)}`,
            })}
          </p>
          <fieldset className="extension-terms">
            <legend>{t.extend.termsTitle}</legend>
            <p>{t.extend.terms}</p>
            <label>
              <input
                type="checkbox"
                checked={accepted}
                disabled={busy || stage.kind === 'working'}
                onChange={(event) => setAccepted(event.target.checked)}
                data-control="extension-terms"
              />{' '}
              {t.extend.acceptTerms}
            </label>
          </fieldset>
          {stage.kind === 'working' ? progress : null}
          <div className="control">
            {abandoned && !busy ? (
              again
            ) : (
              <button
                type="button"
                className="primary"
                data-control="extension-run"
                disabled={!accepted || busy}
                onClick={() => void run(extension)}
              >
                {busy ? t.extend.working : error ? t.extend.retry : t.extend.continue}
              </button>
            )}
            {back}
          </div>
          <PinPrompt ws={ws} />
          {failure}
        </section>
      );
    }
    case 'acknowledge': {
      const { extension } = stage;
      return (
        <section className="extension-wizard" data-stage="acknowledge">
          <h3 ref={heading} tabIndex={-1}>
            {t.extend.acknowledgeTitle}
          </h3>
          {progress}
          {abandoned ? null : (
            <p>{steps.writing === 'done' ? t.extend.acknowledgeIntro : t.extend.acknowledgeIntroToWrite}</p>
          )}
          <div className="control">
            {abandoned && !busy ? (
              again
            ) : (
              <button
                type="button"
                className="primary"
                data-control="extension-acknowledge"
                disabled={busy}
                onClick={() => void acknowledge(extension)}
              >
                {busy ? t.extend.working : t.extend.acknowledge}
              </button>
            )}
            {abandoned ? back : null}
          </div>
          <PinPrompt ws={ws} />
          {failure}
        </section>
      );
    }
    case 'done': {
      const { extension } = stage;
      return (
        <section className="extension-wizard" data-stage="done" data-testid="extension-done">
          <h3 ref={heading} tabIndex={-1}>
            {t.extend.doneTitle}
          </h3>
          {progress}
          <p role="status">{fill(t.extend.doneText, { to: day(extension.validity.notAfter) })}</p>
          <h4>{t.extend.newSerials}</h4>
          <ul className="extension-serials">
            <li data-use="auth">
              {t.holder.uses.authentication}: <span className="serial">{extension.newSerials?.auth}</span>
            </li>
            <li data-use="sign">
              {t.holder.uses.signature}: <span className="serial">{extension.newSerials?.sign}</span>
            </li>
          </ul>
          <div className="control">
            <button
              type="button"
              className="primary"
              data-action="extension-login-again"
              onClick={() => onClose(true)}
            >
              {t.extend.loginAgain}
            </button>
          </div>
        </section>
      );
    }
  }
};

/**
 * "Förläng giltighetstiden" on a valid e-ID of the holder's pages: the button, then the wizard in
 * its place. After the acknowledgement the old login certificate is revoked and the session with
 * it: the pages go back to the login.
 */
export const ExtensionAction = ({
  ws,
  agentUrl,
  reload,
  loggedOut,
  superseded,
}: {
  readonly ws: Workstation;
  readonly agentUrl?: string;
  readonly reload: () => Promise<void>;
  readonly loggedOut: () => void;
  readonly superseded?: () => void;
}) => {
  const { t } = useLanguage();
  const [open, setOpen] = useState(false);
  if (!open)
    return (
      <div className="control">
        <button type="button" data-action="extension-open" onClick={() => setOpen(true)}>
          {t.extend.start}
        </button>
      </div>
    );
  return (
    <ExtensionWizard
      ws={ws}
      {...(agentUrl === undefined ? {} : { agentUrl })}
      {...(superseded === undefined ? {} : { onDone: superseded })}
      onAbandoned={() => void reload()}
      onClose={(ended) => {
        setOpen(false);
        if (ended) loggedOut();
        else void reload();
      }}
    />
  );
};
