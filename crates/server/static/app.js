// Telewarden's page behaviour: progressive enhancements. Every form works without this
// script except passkeys, which need the browser's WebAuthn API.
import { authenticate, explain, register, supported } from './passkeys.js';
import { ensureRecent, guardSensitiveForms } from './step-up.js';

/** "Show password" buttons: `data-reveal` names the input they toggle. */
function enablePasswordReveal(root) {
  for (const button of root.querySelectorAll('button[data-reveal]')) {
    const input = root.getElementById(button.dataset.reveal);
    if (!input) continue;
    button.hidden = false;
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', () => {
      const showing = input.type === 'text';
      input.type = showing ? 'password' : 'text';
      button.textContent = showing ? 'Show password' : 'Hide password';
      button.setAttribute('aria-pressed', String(!showing));
    });
  }
}

/** Confirmation fields: `data-must-match` names the field they repeat. */
function enableMatchCheck(root) {
  for (const confirm of root.querySelectorAll('input[data-must-match]')) {
    const original = root.getElementById(confirm.dataset.mustMatch);
    const status = root.getElementById(confirm.getAttribute('aria-describedby'));
    if (!original || !status) continue;
    const update = () => {
      if (!confirm.value) { status.textContent = ''; return; }
      status.textContent = confirm.value === original.value
        ? 'The passwords match.'
        : 'The passwords do not match yet.';
    };
    confirm.addEventListener('input', update);
    original.addEventListener('input', update);
  }
}

/** After a failed submit, move focus to the error summary so it is read out. */
function focusErrors(root) {
  const summary = root.getElementById('form-summary') || root.getElementById('form-error');
  if (summary) {
    summary.setAttribute('tabindex', '-1');
    summary.focus();
  }
}

/**
 * Times are sent in UTC. A time marked with the practice's zone (`data-zone`) keeps the
 * practice's wording and gains the reader's own time when their zone differs; any other
 * time is shown in the reader's zone.
 */
function localTimes(root) {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const el of root.querySelectorAll('time[datetime]')) {
    const when = new Date(el.getAttribute('datetime'));
    if (Number.isNaN(when.getTime())) continue;
    const zone = el.dataset.zone;
    if (!zone) {
      el.textContent = format.format(when);
      continue;
    }
    let theirs;
    try {
      theirs = new Intl.DateTimeFormat(undefined, { timeStyle: 'short', timeZone: zone }).format(when);
    } catch {
      continue;
    }
    const mine = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' }).format(when);
    if (zone === own || theirs === mine) continue;
    const note = document.createElement('span');
    note.className = 'own-time';
    note.textContent = ` (${format.format(when)} your time, ${own})`;
    el.after(note);
  }
}

/** A passkey button: shown only where passkeys work; runs `action`, then follows its redirect. */
function passkeyButton(root, selector, action) {
  const button = root.querySelector(selector);
  if (!button) return;
  const status = root.getElementById('passkey-status');
  if (!supported()) {
    if (status) status.textContent = 'This browser cannot use passkeys.';
    return;
  }
  button.hidden = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    if (status) status.textContent = 'Follow the instructions from your device…';
    try {
      const next = await action();
      if (status) status.textContent = 'Done.';
      window.location.assign(next.redirect);
    } catch (e) {
      if (status) status.textContent = explain(e);
      button.disabled = false;
    }
  });
}

function passkeyName(root) {
  return root.getElementById('passkey-name')?.value || 'Passkey';
}

function enablePasskeys(root) {
  passkeyButton(root, '[data-passkey-sign-in]', () =>
    authenticate('/api/sign-in/passkey/start', '/api/sign-in/passkey/finish'));
  const enrol = root.querySelector('[data-page="enrol"]');
  if (enrol) {
    const token = enrol.dataset.enrolToken;
    passkeyButton(root, '[data-passkey-enrol]', () =>
      register(`/api/enrol/${token}/passkey/start`, `/api/enrol/${token}/passkey/finish`, passkeyName(root)));
  }
  passkeyButton(root, '[data-passkey-add]', async () => {
    const add = root.querySelector('[data-passkey-add]');
    if (add?.hasAttribute('data-sensitive-action') && !(await ensureRecent())) {
      throw new Error('You need to confirm it is you before adding a passkey.');
    }
    return register('/api/account/passkeys/start', '/api/account/passkeys/finish', passkeyName(root));
  });
  const stepUp = root.querySelector('[data-page="step-up"]');
  if (stepUp) {
    passkeyButton(root, '[data-step-up-passkey]', async () => {
      await authenticate('/api/step-up/passkey/start', '/api/step-up/passkey/finish');
      return { redirect: stepUp.dataset.return || '/account/security' };
    });
  }
}

/** Print buttons for recovery codes. */
function enablePrint(root) {
  for (const button of root.querySelectorAll('button[data-print]')) {
    button.hidden = false;
    button.addEventListener('click', () => window.print());
  }
}

enablePasswordReveal(document);
enableMatchCheck(document);
focusErrors(document);
localTimes(document);
enablePasskeys(document);
enablePrint(document);
guardSensitiveForms(document);
