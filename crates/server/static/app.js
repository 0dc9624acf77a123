// Telewarden's page behaviour: small, progressive enhancements only. Every page works
// without this script; it adds conveniences where the browser runs it.

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

enablePasswordReveal(document);
enableMatchCheck(document);
focusErrors(document);
