// The consult page: device check, waiting room, and the call itself.
//
// Media, chat and files go peer to peer (WebRTC); the server only relays signalling for
// this appointment. The clinician's browser makes every offer (first call, reconnection,
// ICE restart) and the patient's answers, so the two never offer at once. Both sides derive the same privacy-check words from the two DTLS
// fingerprints in the negotiated session: a server that swapped a fingerprint to listen
// in would make the words differ.
const root = document.querySelector('[data-call]');

const WORDS = (
  'apple arrow badge bamboo banana basket beacon berry bicycle blanket bloom border bottle bracket breeze ' +
  'bridge bucket button cabin cactus camera candle canoe canyon carpet castle cedar chalk cherry chimney ' +
  'circle clock cloud clover coast cobalt comet copper coral cotton crane crayon cricket crystal cup dawn ' +
  'desert diamond dolphin dragon drum eagle echo ember engine falcon feather fern fiddle field flame flute ' +
  'forest fossil fountain garden garlic ginger glacier globe grape gravel guitar hammer harbor harvest hazel ' +
  'helmet honey horizon island ivory jacket jasmine jelly jungle kettle kite ladder lagoon lantern lemon ' +
  'lily linen lizard lobster lotus magnet mango maple marble meadow melon meteor mirror mitten monsoon ' +
  'mountain muffin nectar needle nest noodle oasis ocean olive onion orbit orchard otter oyster paddle ' +
  'palace panda paper parrot peach pebble pencil pepper piano pillow pine planet plum pocket pony poppy ' +
  'prism puddle pumpkin puzzle quartz quill rabbit radar rainbow raven reef ribbon river robin rocket ' +
  'saddle saffron sail salmon sandal satin scarf shell shovel silver sketch sled snail socket spark spider ' +
  'spruce squirrel stamp starfish stone stream summit sunset swan tablet tango teapot temple thistle thunder ' +
  'tiger timber toast tomato topaz torch tower tractor trumpet tulip tunnel turtle umbrella valley velvet ' +
  'violin volcano wagon walnut walrus water whale wheat whistle willow window winter wizard wolf yarrow ' +
  'yogurt zebra zinnia acorn anchor atlas aurora autumn avocado basil beetle biscuit blossom bonfire ' +
  'breadcrumb brook bumblebee buttercup caramel cinnamon clementine compass cupcake daisy dewdrop dune elm ' +
  'almond apricot badger bison cashew cobra dingo gecko hippo iguana koala llama wombat kiwi puffin'
).split(' ');
// One word per byte value: 256 distinct words.
if (WORDS.length !== 256) throw new Error('the word list must have 256 words');

const FILE_LIMIT = 10 * 1024 * 1024;
const CHUNK = 16 * 1024;

if (root) start();

function start() {
  const appointment = root.dataset.appointment;
  const isClinician = root.dataset.side === 'clinician';
  const polite = !isClinician;
  const $ = (selector) => root.querySelector(selector);
  let localStream;
  let ws;
  let pc;
  let dc;
  let makingOffer = false;
  let ignoreOffer = false;
  // Signals carry a session id: the clinician's changes with each new connection, the
  // patient's with each page load. An offer from a new session means the clinician
  // started afresh; a hello from a new patient session asks for a fresh offer.
  let session = isClinician ? null : crypto.randomUUID();
  let remoteSession = null;
  let ended = false;
  let backoff = 500;
  // What the other side may send in one call: a hostile peer cannot fill this tab's memory.
  const RECEIVE_FILES = 20;
  const RECEIVE_BYTES = 50 * 1024 * 1024;
  let receivedFiles = 0;
  let receivedBytes = 0;
  let receiving = null;
  let inbox = Promise.resolve();

  const setStage = (name) => {
    root.dataset.state = name;
    for (const s of root.querySelectorAll('[data-stage]')) s.hidden = s.dataset.stage !== name;
  };
  const status = (text) => { $('[data-status]').textContent = text; };

  // Tests and support can look at the connection; nothing secret is here.
  window.telewardenCall = { pc: () => pc };

  async function startDevices() {
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    } catch {
      status('Telewarden cannot use your camera or microphone. Allow them in your browser, then reload this page.');
      return;
    }
    $('[data-preview]').srcObject = localStream;
    $('[data-local]').srcObject = localStream;
    meter(localStream);
    status('Your camera and microphone work. When you are ready, continue.');
  }

  function meter(stream) {
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    context.createMediaStreamSource(stream).connect(analyser);
    const data = new Uint8Array(analyser.frequencyBinCount);
    const bar = $('[data-level]');
    const box = $('[data-meter]');
    const tick = () => {
      analyser.getByteFrequencyData(data);
      const level = Math.min(100, Math.round((data.reduce((a, b) => a + b, 0) / data.length) * 1.5));
      bar.style.width = `${level}%`;
      box.setAttribute('aria-valuenow', String(level));
      if (root.dataset.state === 'check') requestAnimationFrame(tick);
    };
    tick();
  }

  $('[data-test-speaker]').addEventListener('click', () => {
    const context = new AudioContext();
    const tone = context.createOscillator();
    tone.frequency.value = 440;
    tone.connect(context.destination);
    tone.start();
    tone.stop(context.currentTime + 0.6);
  });

  $('[data-ready]').addEventListener('click', () => {
    if (!localStream) return;
    status(isClinician ? 'Opening the consult…' : 'Joining the waiting room…');
    connect();
  });

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${scheme}://${location.host}/ws/appointments/${appointment}`);
    ws.onopen = () => { backoff = 500; };
    ws.onmessage = (event) => {
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      // One message at a time: a signal must not overtake the one before it.
      inbox = inbox.then(() => handle(message)).catch((e) => status(`Something went wrong: ${e.message}`));
    };
    ws.onclose = () => {
      if (ended) return;
      status('The connection to the practice dropped: reconnecting…');
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 8000);
    };
  }

  const send = (message) => {
    if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  // The server closes a silent socket; a ping keeps a quiet waiting room open.
  setInterval(() => send({ t: 'ping' }), 25000);

  async function handle(m) {
    switch (m.t) {
      case 'state':
        if (m.state === 'waiting') { setStage('waiting'); status('You are in the waiting room.'); }
        if (m.state === 'admitted') status('You have been let in. Connecting the call…');
        if (m.state === 'admitted' || m.state === 'in_call') { setStage('call'); }
        if (m.state === 'removed') finish('The clinician has ended your part in this consult.');
        if (m.state === 'replaced') finish('This consult was opened in another window.');
        if (m.state === 'ended') finish('The consult has ended.');
        break;
      case 'peer':
        if (m.present) {
          if (pc?.connectionState !== 'connected') status('Connecting to the other person…');
          if (isClinician && !pc) await newConnection();
          // A patient page without a call asks the clinician's browser for an offer.
          if (!isClinician && !pc) send({ t: 'signal', data: { session, hello: true } });
        } else {
          status(isClinician ? 'Waiting for the patient to join the call…' : 'Waiting for the clinician…');
        }
        break;
      case 'signal':
        await onSignal(m.data || {});
        break;
      case 'message': {
        const box = $('[data-waiting-message]');
        box.textContent = `Message from the practice: ${m.text}`;
        box.hidden = false;
        break;
      }
      case 'verified':
        $('[data-verified]').hidden = false;
        break;
      case 'lobby': {
        // The clinician's call page: the patient is waiting to be let in.
        const lobby = $('[data-lobby]');
        if (lobby) lobby.hidden = !m.waiting;
        if (m.waiting) status('The patient is in the waiting room: let them in when you are ready.');
        break;
      }
      case 'error':
        if (m.code !== 'peer-absent') status(m.message);
        // An offer that never reached the patient: a fresh one goes when they are back.
        if (m.code === 'peer-absent' && isClinician && pc && remoteSession === null) {
          try { pc.close(); } catch { /* already closed */ }
          pc = null;
        }
        break;
      default:
        break;
    }
  }

  function finish(text) {
    ended = true;
    status(text);
    setStage('ended');
    try { pc?.close(); } catch { /* already closed */ }
    try { ws?.close(); } catch { /* already closed */ }
    for (const t of localStream?.getTracks() || []) t.stop();
  }

  // After a network drop, find a new path (ICE restart) on the same connection: the
  // consult, its chat and its verification carry on.
  let restartTimer;
  function restartSoon(delay) {
    clearTimeout(restartTimer);
    restartTimer = setTimeout(() => {
      // The clinician's side restarts; the patient's answers its offer.
      if (isClinician && pc && ['disconnected', 'failed'].includes(pc.connectionState)) {
        pc.restartIce();
        restartSoon(10000);
      }
    }, delay);
  }

  async function iceConfig() {
    const response = await fetch(`/api/appointments/${appointment}/ice`, { credentials: 'same-origin' });
    if (!response.ok) throw new Error('could not get connection settings');
    return response.json();
  }

  // Relay credentials last minutes: refresh them so an ICE restart later in a long
  // consult still reaches the relay (this also keeps the sign-in alive during a call).
  setInterval(async () => {
    if (!pc || ended) return;
    try {
      const { iceServers } = await iceConfig();
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
    } catch { /* next time */ }
  }, 4 * 60 * 1000);

  async function newConnection() {
    try { pc?.close(); } catch { /* replaced */ }
    const config = await iceConfig();
    if (isClinician) session = crypto.randomUUID();
    remoteSession = null;
    makingOffer = false;
    ignoreOffer = false;
    pc = new RTCPeerConnection(config);
    for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
    pc.ontrack = ({ streams }) => { $('[data-remote]').srcObject = streams[0]; };
    pc.onicecandidate = ({ candidate }) => { if (candidate) send({ t: 'signal', data: { session, candidate } }); };
    pc.onnegotiationneeded = async () => {
      try {
        makingOffer = true;
        await pc.setLocalDescription();
        send({ t: 'signal', data: { session, description: pc.localDescription } });
      } finally {
        makingOffer = false;
      }
    };
    const mine = pc;
    pc.onconnectionstatechange = () => {
      if (mine !== pc) return;
      root.dataset.connection = pc.connectionState;
      if (pc.connectionState === 'connected') {
        clearTimeout(restartTimer);
        status('Connected.');
        computeWords();
      }
      if (pc.connectionState === 'disconnected' || pc.connectionState === 'failed') {
        status('The connection dropped: reconnecting…');
        restartSoon(pc.connectionState === 'failed' ? 0 : 3000);
      }
    };
    dc = pc.createDataChannel('chat', { negotiated: true, id: 0 });
    dc.binaryType = 'arraybuffer';
    dc.onmessage = (event) => onData(event.data);
  }

  async function onSignal({ session: from, description, candidate, hello }) {
    if (typeof from !== 'string') return;
    if (hello) {
      // A patient page that has no call yet (first join, reload): offer afresh, unless
      // an offer to it is already on its way.
      if (isClinician && from !== remoteSession && (!pc || remoteSession !== null)) await newConnection();
      return;
    }
    if (from !== remoteSession) {
      // Candidates of an old session are stale; an offer from a new one starts afresh.
      if (!description) return;
      if (isClinician) {
        if (!pc || description.type !== 'answer' || remoteSession !== null) return;
      } else {
        if (description.type !== 'offer') return;
        await newConnection();
      }
      remoteSession = from;
    }
    if (description) {
      const collision = description.type === 'offer' && (makingOffer || pc.signalingState !== 'stable');
      ignoreOffer = !polite && collision;
      if (ignoreOffer) return;
      await pc.setRemoteDescription(description);
      if (description.type === 'offer') {
        await pc.setLocalDescription();
        send({ t: 'signal', data: { session, description: pc.localDescription } });
      }
      computeWords();
    } else if (candidate) {
      try { await pc.addIceCandidate(candidate); } catch (e) { if (!ignoreOffer) console.warn('ICE candidate refused', e.message); }
    }
  }

  /** The DTLS fingerprints in an SDP (each media section repeats it: de-duplicated). */
  const fingerprints = (sdp) => [...new Set([...(sdp || '').matchAll(/^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)/gm)]
    .map((m) => `${m[1].toLowerCase()} ${m[2].toUpperCase()}`))];

  async function computeWords() {
    if (!pc?.localDescription || !pc?.remoteDescription) return;
    const mine = fingerprints(pc.localDescription.sdp);
    const theirs = fingerprints(pc.remoteDescription.sdp);
    if (!mine.length || !theirs.length) return;
    const material = [...mine, ...theirs].sort().join('|');
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`telewarden-sas-v1|${material}`)));
    const words = [...digest.slice(0, 5)].map((b) => WORDS[b]).join(' ');
    $('[data-sas]').textContent = words;
    root.dataset.sas = words;
    const verify = $('[data-verify]');
    if (verify) verify.hidden = false;
  }

  $('[data-verify]')?.addEventListener('click', () => send({ t: 'verified' }));
  $('[data-admit]')?.addEventListener('click', () => send({ t: 'admit' }));

  // Connection quality, shown to both sides.
  let last = null;
  setInterval(async () => {
    if (!pc || pc.connectionState !== 'connected') return;
    const stats = await pc.getStats();
    let rtt = 0;
    let lost = 0;
    let received = 0;
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime) rtt = s.currentRoundTripTime;
      if (s.type === 'inbound-rtp') { lost += s.packetsLost || 0; received += s.packetsReceived || 0; }
    });
    const loss = last ? (lost - last.lost) / Math.max(1, (received - last.received) + (lost - last.lost)) : 0;
    last = { lost, received };
    const level = rtt < 0.3 && loss < 0.02 ? 'good' : rtt < 0.6 && loss < 0.08 ? 'fair' : 'poor';
    $('[data-quality-self]').textContent = level;
    if (dc?.readyState === 'open') dc.send(JSON.stringify({ type: 'quality', level }));
  }, 3000);

  // Chat and files over the data channel.
  const log = $('[data-chat-log]');
  const addLine = (who, node) => {
    const li = document.createElement('li');
    const name = document.createElement('strong');
    name.textContent = `${who}: `;
    li.append(name, node);
    log.append(li);
  };

  $('[data-chat-form]').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $('#chat-text');
    const text = input.value.trim();
    if (!text || dc?.readyState !== 'open') return;
    dc.send(JSON.stringify({ type: 'chat', text }));
    addLine('You', document.createTextNode(text));
    input.value = '';
  });

  $('[data-file]').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (!file || dc?.readyState !== 'open') return;
    if (file.size > FILE_LIMIT) { status('That file is larger than 10 MB: please send a smaller one.'); return; }
    const id = crypto.randomUUID();
    dc.send(JSON.stringify({ type: 'file', id, name: file.name, size: file.size, mime: file.type || 'application/octet-stream' }));
    const bytes = await file.arrayBuffer();
    for (let at = 0; at < bytes.byteLength; at += CHUNK) {
      if (dc.bufferedAmount > 1024 * 1024) {
        await new Promise((resolve) => { dc.bufferedAmountLowThreshold = 256 * 1024; dc.onbufferedamountlow = resolve; });
      }
      dc.send(bytes.slice(at, at + CHUNK));
    }
    dc.send(JSON.stringify({ type: 'file-end', id }));
    addLine('You', document.createTextNode(`sent ${file.name}`));
  });

  function onData(data) {
    if (data instanceof ArrayBuffer) {
      if (receiving) {
        receiving.parts.push(data);
        receiving.got += data.byteLength;
        receivedBytes += data.byteLength;
        if (receiving.got > receiving.size || receiving.got > FILE_LIMIT || receivedBytes > RECEIVE_BYTES) receiving = null;
      }
      return;
    }
    let m;
    try { m = JSON.parse(data); } catch { return; }
    if (m.type === 'chat' && typeof m.text === 'string') {
      addLine(isClinician ? 'Patient' : 'Clinician', document.createTextNode(m.text.slice(0, 2000)));
    } else if (m.type === 'quality') {
      $('[data-quality-peer]').textContent = ['good', 'fair', 'poor'].includes(m.level) ? m.level : '—';
    } else if (m.type === 'file' && Number.isInteger(m.size) && m.size >= 0 && m.size <= FILE_LIMIT
      && receivedFiles < RECEIVE_FILES && receivedBytes + m.size <= RECEIVE_BYTES) {
      receivedFiles += 1;
      receiving = { id: m.id, name: String(m.name).slice(0, 200), mime: String(m.mime).slice(0, 100), size: m.size, parts: [], got: 0 };
    } else if (m.type === 'file-end' && receiving?.id === m.id) {
      const file = receiving;
      receiving = null;
      const blob = new Blob(file.parts, { type: file.mime });
      const span = document.createElement('span');
      const link = document.createElement('a');
      link.href = URL.createObjectURL(blob);
      link.download = file.name;
      link.textContent = `${file.name} (${Math.ceil(blob.size / 1024)} KB)`;
      span.append(link);
      if (isClinician) {
        const keep = document.createElement('button');
        keep.type = 'button';
        keep.className = 'button small secondary';
        keep.textContent = `Keep ${file.name} in the patient's record`;
        keep.addEventListener('click', async () => {
          const r = await fetch(`/api/appointments/${appointment}/files?name=${encodeURIComponent(file.name)}`, {
            method: 'POST', credentials: 'same-origin', body: blob,
            headers: { 'Content-Type': file.mime || 'application/octet-stream', Accept: 'application/json' },
          });
          keep.textContent = r.ok ? `${file.name} is kept in the record` : 'Could not keep the file (it may be too large).';
          keep.disabled = r.ok;
        });
        span.append(' ', keep);
      }
      addLine(isClinician ? 'Patient' : 'Clinician', span);
    }
  }

  // Controls.
  const mute = $('[data-mute]');
  mute.addEventListener('click', () => {
    const on = mute.getAttribute('aria-pressed') !== 'true';
    for (const t of localStream.getAudioTracks()) t.enabled = !on;
    mute.setAttribute('aria-pressed', String(on));
    mute.textContent = on ? 'Unmute microphone' : 'Mute microphone';
  });
  const camera = $('[data-camera]');
  camera.addEventListener('click', () => {
    const off = camera.getAttribute('aria-pressed') !== 'true';
    for (const t of localStream.getVideoTracks()) t.enabled = !off;
    camera.setAttribute('aria-pressed', String(off));
    camera.textContent = off ? 'Turn camera on' : 'Turn camera off';
  });
  $('[data-hang-up]').addEventListener('click', () => {
    if (isClinician) send({ t: 'end' });
    finish(isClinician ? 'The consult has ended.' : 'You left the consult.');
  });

  // Notes (clinician).
  const notes = $('[data-notes]');
  notes?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const r = await fetch(notes.action, {
      method: 'POST', credentials: 'same-origin', body: new URLSearchParams(new FormData(notes)),
      headers: { Accept: 'application/json' },
    });
    $('[data-notes-status]').textContent = r.ok ? 'Saved.' : 'Not saved: please try again.';
  });

  setStage('check');
  startDevices();
}
