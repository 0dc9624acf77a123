// End-to-end encrypted messages. This page holds one MLS device (mls_wasm.js, built
// from crates/mls-wasm): it encrypts and decrypts here; the server relays ciphertext.
// Plaintext lives only in the DOM and, encrypted under this browser's non-extractable
// key, in IndexedDB (messaging-store.js): never plaintext in storage or the console.
import init, { WasmDevice, openAttachment, safetyNumber, sealAttachment } from './mls_wasm.js';
import { loadDevice, loadHistory, loadVerified, saveDeviceAndHistory, saveVerified } from './messaging-store.js';
import { checkMember, knownResult } from './key-transparency.js';
import { ensureRecent } from './step-up.js';

const root = document.querySelector('[data-messaging]');
const me = root.dataset.user;
const role = root.dataset.role;
const $ = (sel) => root.querySelector(sel);
const people = new Map([...root.querySelectorAll('[data-people] li')].map((li) => [li.dataset.id, li.textContent]));

let device = null;
let record = null; // { deviceId, registered, cursors: {conversation: next seq}, removed: [conversation] }
let verified = {};
const views = new Map(); // conversation id → the server's view
const shown = new Map(); // conversation id → [{ who, time, text, attachments, note, seq }]
let removedFrom = new Set();
let openId = null;

// ---- small helpers ----
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (s) => Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16));
function b64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

function status(text) { $('[data-status]').textContent = text; }
function showError(text) {
  const el = $('[data-error]');
  el.textContent = text;
  el.hidden = !text;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body?.code;
  }
}

async function api(method, path, body, raw) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (raw) {
    init.body = raw;
    init.headers['Content-Type'] = 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, init);
  let json = null;
  try { json = await res.json(); } catch { /* no body */ }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// Everything that touches the device runs one at a time, then saves it — also when the
// step failed part-way, since what it processed before failing changed the device.
let queue = Promise.resolve();
function serial(fn) {
  const run = queue.then(async () => {
    try {
      return await fn();
    } finally {
      if (device) await save();
    }
  });
  queue = run.catch(() => {});
  return run;
}

/** Saves the device and the shown messages together (one IndexedDB transaction). */
async function save() {
  record.removed = [...removedFrom];
  await saveDeviceAndHistory(me, { ...record, state: device.exportState() }, Object.fromEntries(shown));
  // The encrypted backup (its own module) follows each save; the page works without it.
  import('./messaging-backup.js').then((m) => m.scheduleBackup?.(me)).catch(() => {});
}

// ---- the device ----
async function setUp() {
  await init({ module_or_path: '/static/mls_wasm_bg.wasm' });
  verified = await loadVerified(me);
  record = await loadDevice(me);
  if (record) {
    device = WasmDevice.importState(record.state);
    delete record.state;
    removedFrom = new Set(record.removed || []);
    for (const [id, list] of Object.entries(await loadHistory(me))) shown.set(id, list);
  } else {
    // A new browser: if this person has a backup of a device still in use, offer to
    // restore it (on /messages/devices) before registering a fresh device, which would
    // leave the old device's messages behind. If the list cannot be fetched, go on.
    if (await hasBackup()) await chooseRestoreOrFresh();
    const deviceId = hex(crypto.getRandomValues(new Uint8Array(16)));
    device = WasmDevice.create(me, deviceId);
    record = { deviceId, registered: false, cursors: {} };
    await save();
  }
  if (!record.registered) await register();
}

/** Whether the caller has a backup of a device that is still in use (not removed). */
async function hasBackup() {
  try {
    const [backups, devices] = await Promise.all([
      api('GET', '/api/messaging/backups'),
      api('GET', '/api/messaging/devices').catch(() => null),
    ]);
    if (!Array.isArray(backups) || !backups.length) return false;
    // The server lists only backups of devices in use; the device list, when it can be
    // read, double-checks that none of them was removed meanwhile.
    const removed = new Set((Array.isArray(devices) ? devices : []).filter((d) => d.removed_ms != null).map((d) => d.id));
    return backups.some((b) => !removed.has(b.device_id));
  } catch {
    return false;
  }
}

/** Shows the restore-or-start-fresh choice; resolves when they choose to start fresh. */
function chooseRestoreOrFresh() {
  const choice = $('[data-restore-choice]');
  choice.hidden = false;
  root.dataset.restoreChoice = 'shown';
  status('You have a backup of secure messaging from another browser.');
  return new Promise((resolve) => {
    $('[data-start-fresh]').addEventListener('click', () => {
      choice.hidden = true;
      delete root.dataset.restoreChoice;
      resolve();
    }, { once: true });
  });
}

/**
 * After a restore from backup, the lost browser may still hold the same device state:
 * commit a fresh leaf key (an MLS self-update) in every conversation this device is in,
 * so that copy cannot follow the new epochs. The flag is cleared once all are done.
 */
async function rotateAfterRestore() {
  if (!record.rotateAfterRestore) return;
  status('Renewing this device\'s keys after the restore…');
  for (const id of [...views.keys()]) {
    if (!(id in record.cursors) || removedFrom.has(id)) continue;
    if (views.get(id).pending_removals.includes(record.deviceId)) continue; // leaving
    await commitWithRetry(id, async (group) => ({ commit: device.update(group), added: [], removed: [] }));
  }
  delete record.rotateAfterRestore;
  await save();
  status('Secure messaging is on for this browser. Its keys were renewed after the restore.');
}

async function register() {
  status('Registering this browser for secure messaging…');
  const body = {
    device_id: record.deviceId,
    label: `Browser (${navigator.platform || 'web'})`,
    signature_key: hex(device.signatureKey()),
    key_packages: device.keyPackages(20).map(b64),
  };
  await save();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await api('POST', '/api/messaging/devices', body);
      record.registered = true;
      record.keyPackages = body.key_packages.length;
      await save();
      return;
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'step-up-required' || attempt > 0) throw e;
      status('Please confirm it is you to turn on secure messaging on this browser.');
      if (!(await ensureRecent())) {
        window.location.assign('/account/step-up?return_to=/messages');
        throw new Error('Confirm it is you to turn on secure messaging.');
      }
    }
  }
}

// ---- reading ----
function nameOf(account, view) {
  if (account === me) return 'You';
  if (people.has(account)) return people.get(account);
  const member = view?.members.find((m) => m.user_id === account);
  if (member?.kind === 'archive') return 'Practice archive';
  return role === 'patient' ? 'Care team member' : 'Clinician';
}

function processOne(id, m) {
  record.cursors[id] = m.seq + 1;
  if (m.sender_device === record.deviceId) return;
  const list = shown.get(id) || [];
  shown.set(id, list);
  let r;
  try {
    r = JSON.parse(device.process(unb64(m.body)));
  } catch {
    list.push({ note: 'A message could not be decrypted on this device.', time: m.created_ms });
    return;
  }
  if (r.type === 'message') {
    list.push({ who: r.sender.account, time: m.created_ms, text: r.payload.text, attachments: r.payload.attachments || [] });
  } else if (r.type === 'removed') {
    removedFrom.add(id);
    list.push({ note: 'This device was removed from the conversation.', time: m.created_ms });
  }
}

async function syncNow() {
  const welcomes = await api('GET', `/api/messaging/welcomes?device=${record.deviceId}`);
  let joined = 0;
  for (const w of welcomes) {
    if (w.conversation_id in record.cursors && !removedFrom.has(w.conversation_id)) continue;
    const tag = `${w.conversation_id}:${w.seq}`;
    record.failedWelcomes ||= [];
    if (record.failedWelcomes.includes(tag)) continue; // tried once: it will not open later
    joined += 1; // each Welcome used up one of this device's key packages
    try {
      device.join(unb64(w.body));
      record.cursors[w.conversation_id] = w.seq;
      removedFrom.delete(w.conversation_id);
    } catch {
      record.failedWelcomes.push(tag);
      showError('An invitation to a conversation could not be opened on this device.');
    }
  }
  await topUpKeyPackages(joined);
  const list = await api('GET', `/api/messaging/conversations?device=${record.deviceId}`);
  views.clear();
  for (const v of list) views.set(v.id, v);
  for (const v of list) {
    const from = record.cursors[v.id];
    if (from === undefined || removedFrom.has(v.id)) continue;
    const messages = await api('GET', `/api/messaging/conversations/${v.id}/messages?device=${record.deviceId}&from=${from}`);
    for (const m of messages) processOne(v.id, m);
  }
}

let syncing = null;
let again = false;
function sync() {
  // Coalesce bursts of pushes into one sync at a time; a push during a sync asks for one
  // more after it, so nothing pushed meanwhile waits for the next push.
  if (syncing) {
    again = true;
    return syncing;
  }
  syncing = serial(async () => {
    await syncNow();
    await upkeep();
    if (record.rotateAfterRestore) {
      try {
        await rotateAfterRestore();
      } catch (e) {
        // Kept for the next sync; the page says so, since the lost copy could still read.
        showError(`Could not renew this device's keys after the restore (it will try again): ${e.message}`);
      }
    }
  })
    .then(render, (e) => showError(`Could not fetch new messages: ${e.message}`))
    .finally(() => {
      syncing = null;
      if (again) {
        again = false;
        sync();
      }
    });
  return syncing;
}

// ---- key packages ----
const KEY_PACKAGE_TARGET = 20;
const KEY_PACKAGE_LOW = 10;

/**
 * Keeps this device's supply of key packages on the server (others claim one to add it
 * to a conversation). The server tells the free count only on upload, so the page keeps
 * an estimate: each Welcome used one; below KEY_PACKAGE_LOW, or after any Welcome, it
 * uploads enough to be back at KEY_PACKAGE_TARGET and learns the real count.
 */
async function topUpKeyPackages(joined) {
  const estimate = (record.keyPackages ?? KEY_PACKAGE_TARGET) - joined;
  record.keyPackages = estimate;
  if (!joined && estimate >= KEY_PACKAGE_LOW) return;
  const n = Math.min(Math.max(joined, KEY_PACKAGE_TARGET - estimate), 50);
  const packages = device.keyPackages(n).map(b64);
  await save(); // the device must keep the private keys before the server hands them out
  try {
    const { free } = await api('POST', `/api/messaging/devices/${record.deviceId}/key-packages`, { key_packages: packages });
    record.keyPackages = free;
  } catch (e) {
    // Not fatal: the next sync tries again (the estimate stays low).
    showError(`Could not give the server new keys for this device: ${e.message}`);
  }
}

// ---- writing ----
async function commitWithRetry(id, makeCommit) {
  for (let attempt = 0; attempt < 4; attempt++) {
    const view = views.get(id);
    if (!view || removedFrom.has(id)) return; // this device is no longer in it
    const group = unhex(view.group_id);
    const made = await makeCommit(group);
    if (!made) return;
    const { commit, added = [], removed = [] } = made;
    try {
      const accepted = await api('POST', `/api/messaging/conversations/${id}/commits`, {
        device_id: record.deviceId,
        commit: b64(commit.commit),
        welcome: commit.welcome ? b64(commit.welcome) : null,
        added,
        removed,
      });
      device.mergePending(group);
      record.cursors[id] = accepted.seq + 1;
      return;
    } catch (e) {
      device.discardPending(group);
      if (!(e instanceof ApiError) || e.status !== 409) throw e;
      await syncNow(); // another commit took the epoch: catch up, then try again
    }
  }
  throw new Error('The conversation kept changing; please try again.');
}

/** Adds the devices of `userIds` (and "archive") that are not in the conversation yet. */
function addPeople(id, userIds) {
  return commitWithRetry(id, async (group) => {
    const claimed = await api('POST', `/api/messaging/conversations/${id}/claim`, { device_id: record.deviceId, user_ids: userIds });
    if (!claimed.length) return null;
    const commit = device.addMembers(group, claimed.map((c) => unb64(c.key_package)));
    return { commit, added: claimed.map((c) => c.device_id) };
  });
}

// ---- membership upkeep ----
// The server says who must leave a conversation (a removed device, a clinician off the
// care team) and who is missing (the practice archive, new devices of its people); until
// a member commits the change nobody may send. Every member's browser does it on sync:
// the first commit wins, the others get 409, catch up and find nothing left to do.
const upkeepBackoff = new Map(); // "conversation:what" → time before which not to retry
const UPKEEP_RETRY_MS = 60_000;

function due(key) {
  return (upkeepBackoff.get(key) || 0) <= Date.now();
}

async function upkeepStep(id, what, makeCommit) {
  const key = `${id}:${what}`;
  if (!due(key)) return false;
  try {
    await commitWithRetry(id, makeCommit);
    upkeepBackoff.delete(key);
    return true;
  } catch (e) {
    upkeepBackoff.set(key, Date.now() + UPKEEP_RETRY_MS);
    // A device with no key package left cannot be added yet: try again later, quietly
    // (each claim is an audit entry, so not on every sync).
    if (!(e instanceof NothingToClaim)) showError(`Could not update who is in a conversation: ${e.message}`);
    return false;
  }
}

/** Commits the removals and additions the server's view asks for, in each conversation. */
async function upkeep() {
  let changed = false;
  for (const id of [...views.keys()]) {
    if (!(id in record.cursors) || removedFrom.has(id)) continue;
    const view = () => views.get(id);
    if (!view() || view().pending_removals.includes(record.deviceId)) continue; // leaving: not ours to change
    if (view().pending_removals.length) {
      changed = await upkeepStep(id, 'remove', async (group) => {
        const v = view();
        const leaving = new Set(v?.pending_removals || []);
        leaving.delete(record.deviceId);
        const inGroup = JSON.parse(device.members(group)).filter((m) => leaving.has(m.device));
        if (!inGroup.length) return null;
        const ids = inGroup.map((m) => ({ account: m.account, device: m.device }));
        const commit = device.removeMembers(group, JSON.stringify(ids));
        return { commit, removed: ids.map((m) => m.device) };
      }) || changed;
    }
    if (view()?.missing_archive.length) {
      changed = await upkeepStep(id, 'archive', (group) => claimAndAdd(id, group, ['archive'], new Set(view()?.missing_archive || []))) || changed;
    }
    if (missingDevices(view()).length) {
      changed = await upkeepStep(id, 'devices', (group) => {
        const v = view();
        const missing = missingDevices(v);
        const wanted = new Set(missing.map((d) => d.device_id));
        // Whose devices to claim: the owners the server names, else the people in the
        // conversation (not those leaving it: they may no longer take part).
        let owners = missing.map((d) => d.user_id).filter(Boolean);
        if (owners.length < missing.length) {
          const leaving = new Set(v?.pending_removals || []);
          owners = (v?.members || []).filter((m) => m.kind !== 'archive' && !leaving.has(m.device_id)).map((m) => m.user_id);
        }
        return claimAndAdd(id, group, [...new Set(owners)], wanted);
      }) || changed;
    }
  }
  if (changed) await syncNow();
}

/**
 * Devices of people in the conversation that are not in its group yet, as
 * [{ device_id, user_id? }]: the view's optional `missing_devices` (ids or objects).
 */
function missingDevices(view) {
  const list = Array.isArray(view?.missing_devices) ? view.missing_devices : [];
  return list.map((d) => (typeof d === 'string' ? { device_id: d } : d)).filter((d) => d && typeof d.device_id === 'string');
}

class NothingToClaim extends Error {}

/** Claims key packages of `userIds` and commits adding those of the `wanted` devices. */
async function claimAndAdd(id, group, userIds, wanted) {
  if (!wanted.size || !userIds.length) return null;
  const claimed = (await api('POST', `/api/messaging/conversations/${id}/claim`, { device_id: record.deviceId, user_ids: userIds }))
    .filter((c) => wanted.has(c.device_id));
  if (!claimed.length) throw new NothingToClaim('None of the missing devices has a key package left.');
  const commit = device.addMembers(group, claimed.map((c) => unb64(c.key_package)));
  return { commit, added: claimed.map((c) => c.device_id) };
}

async function start(patientId, userIds) {
  const group = device.createGroup();
  const view = await api('POST', '/api/messaging/conversations', { device_id: record.deviceId, patient_id: patientId, group_id: hex(group) });
  views.set(view.id, view);
  record.cursors[view.id] = 1;
  await save();
  await addPeople(view.id, [...userIds, 'archive']);
  await syncNow();
  return view.id;
}

async function send(id, text, file) {
  await syncNow();
  await upkeep();
  const view = views.get(id);
  const attachments = [];
  if (file) {
    const plain = new Uint8Array(await file.arrayBuffer());
    const sealed = sealAttachment(plain);
    const { blob_id } = await api('POST', `/api/messaging/conversations/${id}/blobs?device=${record.deviceId}`, undefined, sealed.ciphertext);
    attachments.push({ blob_id, name: file.name, media_type: file.type || 'application/octet-stream', size: plain.length, key: hex(sealed.key), sha256: hex(sealed.sha256) });
  }
  const payload = { text, attachments };
  // A commit that lands between encrypting and sending (someone's device added or
  // removed, keys renewed) moves the epoch on: the server answers 409, so catch up and
  // encrypt again in the new epoch rather than failing the person's message.
  let accepted = null;
  for (let attempt = 0; !accepted; attempt++) {
    const message = device.encrypt(unhex(view.group_id), JSON.stringify(payload));
    try {
      accepted = await api('POST', `/api/messaging/conversations/${id}/messages`, { device_id: record.deviceId, message: b64(message) });
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 409 || attempt >= 3) throw e;
      await syncNow();
      await upkeep();
    }
  }
  const list = shown.get(id) || [];
  shown.set(id, list);
  list.push({ who: me, time: Date.now(), text, attachments, seq: accepted.seq });
}

// ---- safety numbers ----
function safety(view) {
  const mine = view.members.filter((m) => m.user_id === me).map((m) => unhex(m.signature_key));
  const others = new Map();
  for (const m of view.members) {
    if (m.user_id === me) continue;
    if (!others.has(m.user_id)) others.set(m.user_id, []);
    others.get(m.user_id).push(unhex(m.signature_key));
  }
  return [...others].map(([account, keys]) => ({ account, number: safetyNumber(me, mine, account, keys) }));
}

/**
 * The key-log check of `members` (key-transparency.js): `{ ok }` once all are proven,
 * `{ reasons }` for those that are not; checks not finished yet re-render when they do.
 */
const checking = new Set();
function keyLogStatus(members) {
  const reasons = [];
  let done = 0;
  for (const m of members) {
    const known = knownResult(m);
    if (!known) {
      const id = `${m.device_id}:${m.signature_key}`;
      if (!checking.has(id)) {
        checking.add(id);
        checkMember(m).then(() => {
          checking.delete(id);
          const open = openId === null ? null : views.get(openId);
          if (open) renderSafety(open);
        });
      }
      continue;
    }
    done += 1;
    if (!known.ok && !reasons.includes(known.reason)) reasons.push(known.reason);
  }
  return { ok: members.length > 0 && done === members.length && reasons.length === 0, reasons };
}

/** Whether the group's own member list (MLS) agrees with what the server shows. */
function groupMatchesView(view) {
  try {
    const inGroup = JSON.parse(device.members(unhex(view.group_id)));
    const key = (m) => `${m.device}:${m.signature_key}`;
    const a = new Set(inGroup.map(key));
    return view.members.every((m) => a.has(`${m.device_id}:${m.signature_key}`)) && a.size === view.members.length;
  } catch {
    return true; // not joined yet
  }
}

// ---- the page ----
function renderList() {
  const ul = $('[data-conversations]');
  ul.replaceChildren();
  const mine = [...views.values()].filter((v) => v.id in record.cursors);
  $('[data-empty]').hidden = mine.length > 0;
  for (const v of mine) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'button small secondary';
    button.dataset.open = v.id;
    const others = [...new Set(v.members.map((m) => m.user_id))].filter((a) => a !== me).map((a) => nameOf(a, v));
    button.textContent = `Conversation about ${v.patient_id === me ? 'you' : nameOf(v.patient_id, v)}`;
    button.addEventListener('click', () => { openId = v.id; render(); });
    const who = document.createElement('span');
    who.className = 'hint';
    who.textContent = `With ${others.join(', ') || 'nobody yet'}`;
    li.append(button, who);
    ul.append(li);
  }
}

function renderAttachment(a, id) {
  const span = document.createElement('span');
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'button small secondary';
  button.dataset.download = a.name;
  button.textContent = `Download ${a.name} (${a.size} bytes)`;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const res = await fetch(`/api/messaging/blobs/${encodeURIComponent(a.blob_id)}?device=${record.deviceId}`, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`the server answered ${res.status}`);
      const plain = openAttachment(new Uint8Array(await res.arrayBuffer()), unhex(a.key), unhex(a.sha256));
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([plain], { type: a.media_type }));
      link.download = a.name;
      link.dataset.saved = a.name;
      link.textContent = `Save ${a.name}`;
      button.replaceWith(link);
      link.click();
    } catch (e) {
      button.disabled = false;
      showError(`Could not open ${a.name}: ${e.message}`);
    }
  });
  span.append(button);
  return span;
}

function renderConversation() {
  const view = views.get(openId);
  if (!view) return;
  root.dataset.openConversation = openId;
  $('[data-conversation-title]').textContent = `Conversation about ${view.patient_id === me ? 'you' : nameOf(view.patient_id, view)}`;
  const ol = $('[data-messages]');
  ol.replaceChildren();
  for (const m of shown.get(openId) || []) {
    const li = document.createElement('li');
    li.className = 'message';
    const head = document.createElement('strong');
    head.textContent = m.note ? 'Notice' : nameOf(m.who, view);
    const time = document.createElement('time');
    time.className = 'hint';
    time.dateTime = new Date(m.time).toISOString();
    time.textContent = new Date(m.time).toLocaleString();
    const body = document.createElement('p');
    body.dataset.text = '';
    body.textContent = m.note || m.text;
    li.append(head, time, body);
    for (const a of m.attachments || []) li.append(renderAttachment(a, openId));
    ol.append(li);
  }
  const blocked = $('[data-blocked]');
  const waiting = view.pending_removals.length || view.missing_archive.length;
  blocked.hidden = !waiting && !removedFrom.has(openId);
  blocked.textContent = removedFrom.has(openId)
    ? 'This device is no longer in this conversation.'
    : 'Sending is paused until the practice archive and every member change are in place.';
  renderSafety(view);
}

function renderSafety(view) {
  const ul = $('[data-safety]');
  ul.replaceChildren();
  const warnings = [];
  if (!groupMatchesView(view)) warnings.push('The server\'s list of devices does not match the conversation\'s own. Do not share anything sensitive until this is resolved.');
  for (const { account, number } of safety(view)) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = nameOf(account, view);
    const code = document.createElement('code');
    code.dataset.safetyNumber = account;
    code.textContent = number.match(/.{1,5}/g).join(' ');
    li.append(name, code);
    const logged = keyLogStatus(view.members.filter((m) => m.user_id === account));
    if (logged.ok) {
      const mark = document.createElement('span');
      mark.className = 'hint';
      mark.dataset.keyLogged = account;
      mark.textContent = 'Key logged';
      mark.title = 'This key is in the practice\'s signed key log.';
      li.append(mark);
    } else if (logged.reasons.length) {
      li.dataset.keyNotLogged = account;
      warnings.push(`${nameOf(account, view)}'s key is not in the practice's key log (${logged.reasons.join('; ')}). Do not share anything sensitive until this is resolved.`);
    }
    if (verified[account] === number) {
      const ok = document.createElement('span');
      ok.textContent = 'Verified';
      li.append(ok);
    } else {
      if (verified[account]) warnings.push(`${nameOf(account, view)}'s keys changed since you verified them. Verify again before sharing anything sensitive.`);
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'button small secondary';
      button.textContent = 'Mark as verified';
      button.addEventListener('click', async () => {
        verified[account] = number;
        await saveVerified(me, verified);
        render();
      });
      li.append(button);
    }
    ul.append(li);
  }
  const own = keyLogStatus(view.members.filter((m) => m.user_id === me && m.device_id !== record.deviceId));
  if (own.reasons.length) warnings.push(`A device on your own account has a key that is not in the practice's key log (${own.reasons.join('; ')}).`);
  const warning = $('[data-key-warning]');
  warning.textContent = warnings.join(' ');
  warning.hidden = warnings.length === 0;
}

function render() {
  $('[data-list]').hidden = openId !== null;
  $('[data-conversation]').hidden = openId === null;
  if (openId === null) renderList(); else renderConversation();
}

// ---- live updates ----
let socket = null;
function connect() {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  socket = new WebSocket(`${proto}://${location.host}/ws/messaging?device=${record.deviceId}`);
  socket.onmessage = () => sync();
  socket.onopen = () => sync();
  socket.onclose = () => { socket = null; setTimeout(connect, 5000); };
}
// Polling covers a socket that is down.
setInterval(() => { if (record?.registered && (!socket || socket.readyState !== WebSocket.OPEN)) sync(); }, 10000);

function wire() {
  $('[data-back]').addEventListener('click', () => { openId = null; render(); });
  $('[data-start-team]')?.addEventListener('click', async (event) => {
    event.target.disabled = true;
    showError('');
    status('Starting a secure conversation with your care team…');
    try {
      openId = await serial(() => start(me, [...people.keys()]));
      status('Secure messaging is on.');
    } catch (e) {
      showError(`Could not start the conversation: ${e.message}`);
    } finally {
      event.target.disabled = false;
      render();
    }
  });
  $('[data-start-patient]')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const patient = new FormData(event.target).get('patient');
    showError('');
    try {
      openId = await serial(() => start(patient, [patient]));
    } catch (e) {
      showError(`Could not start the conversation: ${e.message}`);
    }
    render();
  });
  $('[data-compose]').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const text = form.elements.text.value;
    const file = form.elements.file.files[0];
    if (!text.trim() && !file) return;
    const button = $('[data-send]');
    button.disabled = true;
    showError('');
    try {
      await serial(() => send(openId, text, file));
      form.reset();
    } catch (e) {
      showError(`Your message was not sent: ${e.message}`);
    } finally {
      button.disabled = false;
      render();
    }
  });
}

(async () => {
  try {
    wire();
    await setUp();
    status('Secure messaging is on for this browser.');
    root.dataset.device = record.deviceId;
    root.dataset.ready = 'yes';
    await sync();
    connect();
  } catch (e) {
    showError(`Secure messaging could not start: ${e.message}`);
    status('');
  }
})();
