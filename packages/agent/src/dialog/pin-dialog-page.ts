import type { DialogView } from '../card-agent.js';

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const TEXTS = {
  sv: {
    pin1: 'Legitimering',
    pin2: 'Underskrift',
    prompt1: 'Ange PIN 1 (legitimerings-PIN) för kortet',
    prompt2: 'Ange PIN 2 (underskrifts-PIN) för kortet',
    ok: 'OK',
    cancel: 'Avbryt',
    label: 'PIN-kod',
    note: 'PIN-koden skickas bara till kortet, aldrig till portalen eller servern.',
    change1: 'Byt PIN 1',
    change2: 'Byt PIN 2',
    changePrompt1: 'Byt PIN 1 (legitimerings-PIN) för kortet',
    changePrompt2: 'Byt PIN 2 (underskrifts-PIN) för kortet',
    unblock1: 'Lås upp PIN 1',
    unblock2: 'Lås upp PIN 2',
    unblockPrompt1: 'Lås upp PIN 1 (legitimerings-PIN) med PUK-koden för kortet',
    unblockPrompt2: 'Lås upp PIN 2 (underskrifts-PIN) med PUK-koden för kortet',
    current: 'Nuvarande PIN-kod',
    puk: 'PUK-kod (8 siffror, från PIN-brevet)',
    newPin: 'Ny PIN-kod (4–8 siffror)',
    repeat: 'Upprepa den nya PIN-koden',
    secretNote: 'Koderna skickas bara till kortet, aldrig till portalen eller servern.',
  },
  en: {
    pin1: 'Authentication',
    pin2: 'Signature',
    prompt1: 'Enter PIN 1 (authentication PIN) for card',
    prompt2: 'Enter PIN 2 (signature PIN) for card',
    ok: 'OK',
    cancel: 'Cancel',
    label: 'PIN',
    note: 'The PIN goes to the card only, never to the portal or the server.',
    change1: 'Change PIN 1',
    change2: 'Change PIN 2',
    changePrompt1: 'Change PIN 1 (authentication PIN) of card',
    changePrompt2: 'Change PIN 2 (signature PIN) of card',
    unblock1: 'Unblock PIN 1',
    unblock2: 'Unblock PIN 2',
    unblockPrompt1: 'Unblock PIN 1 (authentication PIN) with the PUK of card',
    unblockPrompt2: 'Unblock PIN 2 (signature PIN) with the PUK of card',
    current: 'Current PIN',
    puk: 'PUK (8 digits, from the PIN letter)',
    newPin: 'New PIN (4–8 digits)',
    repeat: 'Repeat the new PIN',
    secretNote: 'The codes go to the card only, never to the portal or the server.',
  },
} as const;

/**
 * The PIN dialog: the agent's own page on the agent's own origin, so a PIN is typed into a page
 * the portal cannot script and never crosses the portal or the server.
 */
export const pinDialogPage = (dialog: DialogView, language: 'sv' | 'en'): string => {
  const t = TEXTS[language];
  const first = dialog.pin === 'pin1';
  const title =
    dialog.entry === 'change'
      ? first
        ? t.change1
        : t.change2
      : dialog.entry === 'unblock'
        ? first
          ? t.unblock1
          : t.unblock2
        : first
          ? t.pin1
          : t.pin2;
  const prompt =
    dialog.entry === 'change'
      ? first
        ? t.changePrompt1
        : t.changePrompt2
      : dialog.entry === 'unblock'
        ? first
          ? t.unblockPrompt1
          : t.unblockPrompt2
        : first
          ? t.prompt1
          : t.prompt2;
  const field = (name: string, label: string, length: string, autofocus: boolean) =>
    `<label for="${name}">${escapeHtml(label)}</label>
<input id="${name}" name="${name}" type="password" inputmode="numeric" autocomplete="off" pattern="[0-9]*" ${length} required${autofocus ? ' autofocus' : ''}>`;
  const fields =
    dialog.entry === 'pin'
      ? field('pin', t.label, 'minlength="4" maxlength="8"', true)
      : [
          dialog.entry === 'change'
            ? field('pin', t.current, 'minlength="4" maxlength="8"', true)
            : field('pin', t.puk, 'minlength="8" maxlength="8"', true),
          field('new-pin', t.newPin, 'minlength="4" maxlength="8"', false),
          field('repeat-pin', t.repeat, 'minlength="4" maxlength="8"', false),
        ].join('\n');
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Reservkort kortagent</title>
<link rel="stylesheet" href="/dialog/assets/dialog.css">
<script src="/dialog/assets/dialog.js" defer></script>
</head>
<body data-dialog="${escapeHtml(dialog.id)}" data-lang="${language}" data-entry="${dialog.entry}">
<main>
<h1 id="title">${escapeHtml(title)}</h1>
<form id="pin-form" aria-labelledby="title" novalidate>
<p>${escapeHtml(prompt)} <strong>${escapeHtml(dialog.cardNumber)}</strong></p>
${fields}
<p id="status" role="alert" aria-live="assertive"></p>
<div class="buttons"><button type="submit" id="ok">${escapeHtml(t.ok)}</button><button type="button" id="cancel">${escapeHtml(t.cancel)}</button></div>
<p class="note">${escapeHtml(dialog.entry === 'pin' ? t.note : t.secretNote)}</p>
</form>
</main>
</body>
</html>
`;
};

export const DIALOG_CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1b1b}
main{max-width:26rem;margin:2rem auto;background:#fff;padding:1.5rem;border-radius:8px;box-shadow:0 1px 4px #0003}
h1{font-size:1.3rem;margin-top:0}label{display:block;font-weight:600;margin-bottom:.3rem}
input{font-size:1.4rem;width:100%;box-sizing:border-box;padding:.4rem;letter-spacing:.3rem;margin-bottom:.6rem}
.buttons{display:flex;gap:.5rem;margin-top:1rem}button{font-size:1rem;padding:.5rem 1.2rem}
#ok{background:#005ea5;color:#fff;border:0;border-radius:4px}#status{color:#a4000f;min-height:1.2rem}
.note{font-size:.85rem;color:#444}`;

/** The dialog's script: sends the PIN to its own origin and shows the card's answer. */
export const DIALOG_JS = `(() => {
  const id = document.body.dataset.dialog;
  const sv = document.body.dataset.lang !== 'en';
  const status = document.getElementById('status');
  const entry = document.body.dataset.entry;
  const pin = document.getElementById('pin');
  const newPin = document.getElementById('new-pin');
  const repeat = document.getElementById('repeat-pin');
  const inputs = [pin, newPin, repeat].filter(Boolean);
  const digits = (value, min, max) => new RegExp('^[0-9]{' + min + ',' + max + '}$').test(value);
  // Checked here before anything reaches the card, so a typing slip costs no try.
  const formError = () => {
    if (entry === 'unblock' && !digits(pin.value, 8, 8)) return sv ? 'PUK-koden ska vara 8 siffror.' : 'The PUK must be 8 digits.';
    if (entry !== 'unblock' && !digits(pin.value, 4, 8)) return sv ? 'PIN-koden ska vara 4–8 siffror.' : 'The PIN must be 4–8 digits.';
    if (entry === 'pin') return null;
    if (!digits(newPin.value, 4, 8)) return sv ? 'Den nya PIN-koden ska vara 4–8 siffror.' : 'The new PIN must be 4–8 digits.';
    if (newPin.value !== repeat.value) return sv ? 'De två nya PIN-koderna är inte lika. Skriv dem igen.' : 'The two new PINs differ. Type them again.';
    return null;
  };
  const messages = {
    PIN_INCORRECT: (d) => sv ? 'Fel PIN-kod. ' + d.triesLeft + ' försök kvar.' : 'Wrong PIN. Tries left: ' + d.triesLeft + '.',
    PIN_BLOCKED: () => sv ? 'PIN-koden är spärrad och kortet kan inte användas förrän den låsts upp med PUK-koden. Stäng fönstret: portalen säger vad du gör nu.' : 'The PIN is blocked and the card cannot be used until it is unblocked with the PUK. Close this window: the portal says what to do now.',
    PIN_FORMAT: (d) => d.field === 'repeat' ? (sv ? 'De två nya PIN-koderna är inte lika. Skriv dem igen.' : 'The two new PINs differ. Type them again.') : d.pin === 'puk' || d.field === 'puk' ? (sv ? 'PUK-koden ska vara 8 siffror.' : 'The PUK must be 8 digits.') : (sv ? 'PIN-koden ska vara 4–8 siffror.' : 'The PIN must be 4–8 digits.'),
    PUK_INCORRECT: (d) => sv ? 'Fel PUK-kod. ' + d.triesLeft + ' försök kvar innan kortet låses för gott.' : 'Wrong PUK. Tries left before the card is locked for good: ' + d.triesLeft + '.',
    CARD_LOCKED: () => sv ? 'PUK-koden har angetts fel fler än tio gånger. Kortet är låst för gott och kan inte användas igen: det ska spärras och förstöras. Stäng fönstret.' : 'The PUK was entered wrongly more than ten times. The card is locked for good and cannot be used again: it is to be revoked and destroyed. Close this window.',
    CARD_REMOVED: () => sv ? 'Kortet togs ut.' : 'The card was removed.',
  };
  const show = (view) => {
    if (view.state === 'completed') { status.textContent = entry === 'pin' ? (sv ? 'Klart. Fönstret stängs.' : 'Done. This window closes.') : (sv ? 'PIN-koden är ändrad. Fönstret stängs.' : 'The PIN is changed. This window closes.'); setTimeout(() => window.close(), 600); return; }
    if (view.lastError) { const m = messages[view.lastError.code]; status.textContent = m ? m(view.lastError.details) : view.lastError.code; }
    if (view.state !== 'shown') { document.getElementById('ok').disabled = true; for (const input of inputs) input.disabled = true; }
    for (const input of inputs) input.value = '';
    pin.focus();
  };
  document.getElementById('pin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const wrong = formError();
    if (wrong) { status.textContent = wrong; return; }
    const body = entry === 'pin' ? { pin: pin.value } : { pin: pin.value, newPin: newPin.value, repeat: repeat.value };
    const r = await fetch('/dialog/' + id + '/attempt', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    show(await r.json());
  });
  document.getElementById('cancel').addEventListener('click', async () => {
    await fetch('/dialog/' + id + '/cancel', { method: 'POST' });
    window.close();
  });
})();`;
