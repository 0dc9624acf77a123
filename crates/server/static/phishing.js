// The landing page of a practice phishing e-mail.
//
// A mail scanner fetching (or even rendering) the link must not count as a click, so the
// page tells the server only after a real person interacts with it: the first trusted
// pointer or keyboard event posts an empty beacon. The form has no named fields, so the
// browser sends nothing typed; the values are also cleared before it is sent.
const form = document.querySelector('[data-sim-form]');
if (form) {
  const beacon = form.dataset.beacon;
  let sent = false;
  const interacted = (event) => {
    if (!event.isTrusted || sent) return;
    sent = true;
    fetch(beacon, { method: 'POST', credentials: 'same-origin', keepalive: true }).catch(() => {});
  };
  for (const type of ['pointerdown', 'keydown']) {
    document.addEventListener(type, interacted, { capture: true });
  }
  form.addEventListener('submit', () => {
    for (const input of form.querySelectorAll('input')) {
      input.value = '';
    }
  });
}
