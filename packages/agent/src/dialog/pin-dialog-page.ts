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
  },
} as const;

/**
 * The PIN dialog: the agent's own page on the agent's own origin, so a PIN is typed into a page
 * the portal cannot script and never crosses the portal or the server.
 */
export const pinDialogPage = (dialog: DialogView, language: 'sv' | 'en'): string => {
  const t = TEXTS[language];
  const title = dialog.pin === 'pin1' ? t.pin1 : t.pin2;
  const prompt = dialog.pin === 'pin1' ? t.prompt1 : t.prompt2;
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} – Reservkort kortagent</title>
<link rel="stylesheet" href="/dialog/assets/dialog.css">
<script src="/dialog/assets/dialog.js" defer></script>
</head>
<body data-dialog="${escapeHtml(dialog.id)}" data-lang="${language}">
<main>
<h1 id="title">${escapeHtml(title)}</h1>
<form id="pin-form" aria-labelledby="title">
<p>${escapeHtml(prompt)} <strong>${escapeHtml(dialog.cardNumber)}</strong></p>
<label for="pin">${escapeHtml(t.label)}</label>
<input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" pattern="[0-9]*" minlength="4" maxlength="8" required autofocus>
<p id="status" role="alert" aria-live="assertive"></p>
<div class="buttons"><button type="submit" id="ok">${escapeHtml(t.ok)}</button><button type="button" id="cancel">${escapeHtml(t.cancel)}</button></div>
<p class="note">${escapeHtml(t.note)}</p>
</form>
</main>
</body>
</html>
`;
};

export const DIALOG_CSS = `body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1b1b}
main{max-width:26rem;margin:2rem auto;background:#fff;padding:1.5rem;border-radius:8px;box-shadow:0 1px 4px #0003}
h1{font-size:1.3rem;margin-top:0}label{display:block;font-weight:600;margin-bottom:.3rem}
input{font-size:1.4rem;width:100%;box-sizing:border-box;padding:.4rem;letter-spacing:.3rem}
.buttons{display:flex;gap:.5rem;margin-top:1rem}button{font-size:1rem;padding:.5rem 1.2rem}
#ok{background:#005ea5;color:#fff;border:0;border-radius:4px}#status{color:#a4000f;min-height:1.2rem}
.note{font-size:.85rem;color:#444}`;

/** The dialog's script: sends the PIN to its own origin and shows the card's answer. */
export const DIALOG_JS = `(() => {
  const id = document.body.dataset.dialog;
  const sv = document.body.dataset.lang !== 'en';
  const status = document.getElementById('status');
  const pin = document.getElementById('pin');
  const messages = {
    PIN_INCORRECT: (d) => sv ? 'Fel PIN-kod. ' + d.triesLeft + ' försök kvar.' : 'Wrong PIN. ' + d.triesLeft + ' tries left.',
    PIN_BLOCKED: () => sv ? 'PIN-koden är spärrad och kortet kan inte användas förrän den låsts upp med PUK-koden. Stäng fönstret: portalen säger vad du gör nu.' : 'The PIN is blocked and the card cannot be used until it is unblocked with the PUK. Close this window: the portal says what to do now.',
    PIN_FORMAT: () => sv ? 'PIN-koden ska vara 4–8 siffror.' : 'The PIN must be 4–8 digits.',
    CARD_REMOVED: () => sv ? 'Kortet togs ut.' : 'The card was removed.',
  };
  const show = (view) => {
    if (view.state === 'completed') { status.textContent = sv ? 'Klart. Fönstret stängs.' : 'Done. This window closes.'; setTimeout(() => window.close(), 600); return; }
    if (view.lastError) { const m = messages[view.lastError.code]; status.textContent = m ? m(view.lastError.details) : view.lastError.code; }
    if (view.state !== 'shown') { document.getElementById('ok').disabled = true; pin.disabled = true; }
    pin.value = ''; pin.focus();
  };
  document.getElementById('pin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await fetch('/dialog/' + id + '/attempt', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: pin.value }) });
    show(await r.json());
  });
  document.getElementById('cancel').addEventListener('click', async () => {
    await fetch('/dialog/' + id + '/cancel', { method: 'POST' });
    window.close();
  });
})();`;
