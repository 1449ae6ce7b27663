import type { Workstation } from '../flow/workstation.js';
import { useLanguage } from '../i18n/language.js';
import { fill } from '../i18n/ui-texts.js';
import { useSubscription } from '../use-subscription.js';

/** The PIN dialog the agent waits on: said in words, with a button that opens its window. */
export const PinPrompt = ({ ws }: { readonly ws: Workstation }) => {
  useSubscription(ws);
  const { t } = useLanguage();
  const dialog = ws.dialog;
  // A dialog the training panel keeps unopened stays invisible, as a dialog that never appeared.
  if (dialog === null || ws.simulation.unopenedDialogs.includes(dialog.pin)) return null;
  const pin = dialog.pin === 'pin1' ? t.pin.pin1 : t.pin.pin2;
  return (
    <div className="pin-prompt" role="status" data-pin={dialog.pin} data-kind={dialog.kind}>
      <p>
        {fill(
          dialog.kind === 'clean'
            ? t.pin.cleaning
            : dialog.kind === 'unblock-pin'
              ? t.pin.unblocking
              : t.pin.waiting,
          { pin },
        )}
      </p>
      <button type="button" onClick={() => ws.openDialog()} data-action="open-pin-dialog">
        {fill(t.pin.open, { pin })}
      </button>
    </div>
  );
};
