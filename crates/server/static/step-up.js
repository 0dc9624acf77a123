// Step-up: before a sensitive form is sent, make sure the person proved who they are in
// the last few minutes; if not, ask (passkey, or password and code) in a dialog, then
// send the form. The server checks again, so this is convenience, not the control.
import { authenticate, explain, postJson, supported } from './passkeys.js';

async function status() {
  const response = await fetch('/api/step-up/status', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error('Could not check your sign-in. Please reload the page.');
  return response.json();
}

/** Opens the dialog and resolves once the step-up succeeded (rejects on cancel). */
function ask(methods) {
  const dialog = document.getElementById('step-up');
  const error = dialog.querySelector('[data-step-up-error]');
  const passkeyButton = dialog.querySelector('[data-step-up-with-passkey]');
  const passwordForm = dialog.querySelector('[data-step-up-password]');
  const cancel = dialog.querySelector('[data-step-up-cancel]');
  passkeyButton.hidden = !(methods.passkey && supported());
  passwordForm.hidden = !methods.password;
  error.hidden = true;
  const fail = (message) => { error.textContent = message; error.hidden = false; };
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      passkeyButton.onclick = null;
      passwordForm.onsubmit = null;
      cancel.onclick = null;
      dialog.close();
    };
    passkeyButton.onclick = async () => {
      try {
        await authenticate('/api/step-up/passkey/start', '/api/step-up/passkey/finish');
        cleanup();
        resolve();
      } catch (e) { fail(explain(e)); }
    };
    passwordForm.onsubmit = async (event) => {
      event.preventDefault();
      const data = new URLSearchParams(new FormData(passwordForm));
      const response = await fetch('/account/step-up', {
        method: 'POST', credentials: 'same-origin', body: data,
        headers: { Accept: 'application/json' },
      });
      if (response.ok) { passwordForm.reset(); cleanup(); resolve(); return; }
      let message = 'That did not work. Please try again.';
      try { message = (await response.json()).message || message; } catch { /* keep the default */ }
      fail(message);
    };
    cancel.onclick = () => { cleanup(); reject(new Error('cancelled')); };
    dialog.showModal();
    (passkeyButton.hidden ? passwordForm.querySelector('input') : passkeyButton)?.focus();
  });
}

/** Ensures a recent step-up; resolves true when the caller may go on. */
export async function ensureRecent() {
  const methods = await status();
  if (methods.recent) return true;
  try {
    await ask(methods);
    return true;
  } catch {
    return false;
  }
}

/** Sensitive forms (`data-sensitive`) ask for step-up first when needed. */
export function guardSensitiveForms(root) {
  if (!root.getElementById('step-up')) return;
  for (const form of root.querySelectorAll('form[data-sensitive]')) {
    form.addEventListener('submit', async (event) => {
      if (form.dataset.stepUpDone === 'yes') return;
      event.preventDefault();
      if (await ensureRecent()) {
        form.dataset.stepUpDone = 'yes';
        form.requestSubmit();
      }
    });
  }
}

// Keep the helper reachable for pages that post JSON after a step-up.
export { postJson };
