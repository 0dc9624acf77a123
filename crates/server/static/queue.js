// The clinician's waiting room: who is waiting and for how long, live.
const list = document.querySelector('[data-queue-list]');

if (list) start();

function start() {
  const empty = document.querySelector('[data-queue-empty]');
  const status = document.getElementById('queue-status');
  const template = document.getElementById('waiting-item');
  let ws;
  let waiting = [];
  let admitting = null;

  const minutes = (since) => {
    const m = Math.max(0, Math.round((Date.now() - since) / 60000));
    return m === 0 ? 'less than a minute' : m === 1 ? '1 minute' : `${m} minutes`;
  };

  function render() {
    list.replaceChildren();
    empty.hidden = waiting.length > 0;
    for (const w of waiting) {
      const item = template.content.firstElementChild.cloneNode(true);
      item.dataset.appointment = w.appointment;
      item.querySelector('[data-name]').textContent = w.name;
      item.querySelector('[data-waited]').textContent = minutes(w.since_ms);
      const admit = item.querySelector('[data-admit]');
      admit.setAttribute('aria-label', `Admit ${w.name}`);
      admit.addEventListener('click', () => {
        admitting = w.appointment;
        ws.send(JSON.stringify({ t: 'admit', appointment: w.appointment }));
      });
      item.querySelector('[data-message]').addEventListener('click', () => {
        // A short, fixed choice keeps messages kind and quick.
        const text = 'Thank you for waiting. I will be with you in a few minutes.';
        ws.send(JSON.stringify({ t: 'message', appointment: w.appointment, text }));
        status.textContent = `Message sent to ${w.name}.`;
      });
      item.querySelector('[data-remove]').addEventListener('click', () => {
        ws.send(JSON.stringify({ t: 'remove', appointment: w.appointment }));
      });
      list.append(item);
    }
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${scheme}://${location.host}/ws/queue`);
    ws.onopen = () => { status.textContent = 'Live: the list updates by itself.'; };
    ws.onmessage = (event) => {
      const m = JSON.parse(event.data);
      if (m.t === 'queue') {
        waiting = m.waiting;
        render();
        if (admitting && m.in_call.includes(admitting)) {
          location.assign(`/appointments/${admitting}/join`);
        }
      } else if (m.t === 'error') {
        status.textContent = m.message;
      }
    };
    ws.onclose = () => {
      status.textContent = 'Reconnecting…';
      setTimeout(connect, 2000);
    };
  }

  setInterval(render, 30000);
  // The server closes a silent socket.
  setInterval(() => { if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ t: 'ping' })); }, 25000);
  connect();
}
