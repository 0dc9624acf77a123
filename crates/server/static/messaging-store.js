// This browser's messaging device and the history of its conversations, kept in
// IndexedDB encrypted with AES-GCM under a non-extractable WebCrypto key (itself kept in
// IndexedDB: usable by this origin's pages, never readable as bytes). Nothing here is
// plaintext: not messages, not keys. (Verified safety numbers and key-log checks are
// plain records: they hold no secrets.)
import { kvStore } from './idb-kv.js';
const op = kvStore('telewarden-messaging');

const get = (key) => op('readonly', (s) => s.get(key));
const put = (key, value) => op('readwrite', (s) => s.put(value, key));
/** Writes every [key, value] pair in one transaction: all of them or none. */
const putAll = (pairs) => op('readwrite', (s) => {
  let last;
  for (const [key, value] of pairs) last = s.put(value, key);
  return last;
});

let keyPromise = null;
function wrappingKey() {
  keyPromise ||= (async () => {
    let key = await get('key');
    if (!key) {
      key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
      await put('key', key);
    }
    return key;
  })();
  keyPromise.catch(() => { keyPromise = null; });
  return keyPromise;
}

async function seal(value) {
  const key = await wrappingKey();
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(JSON.stringify(value)));
  return { iv, ciphertext };
}

async function unseal(saved) {
  const key = await wrappingKey();
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: saved.iv }, key, saved.ciphertext);
  return JSON.parse(new TextDecoder().decode(plain));
}

function toBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

const deviceKey = (account) => `device:${account}`;
const historyKey = (account) => `history:${account}`;

/** The saved record of `account`'s device ({deviceId, registered, cursors, state}) or null. */
export async function loadDevice(account) {
  const saved = await get(deviceKey(account));
  if (!saved) return null;
  const record = await unseal(saved);
  record.state = fromBase64(record.state);
  return record;
}

/** Saves `record` (its `state` a Uint8Array from exportState()). */
export async function saveDevice(account, record) {
  await put(deviceKey(account), await seal({ ...record, state: toBase64(record.state) }));
}

/**
 * The messages this device has shown, per conversation: `{ [conversationId]: [{ who,
 * time, text, attachments, note, seq }] }` (attachments carry their file keys), or `{}`.
 */
export async function loadHistory(account) {
  const saved = await get(historyKey(account));
  return saved ? unseal(saved) : {};
}

export async function saveHistory(account, history) {
  await put(historyKey(account), await seal(history));
}

/**
 * Saves the device record and the history in one IndexedDB transaction, so the cursors
 * (what the device has processed) and the history (what it has shown) never disagree.
 */
export async function saveDeviceAndHistory(account, record, history) {
  const device = await seal({ ...record, state: toBase64(record.state) });
  const shown = await seal(history);
  await putAll([[deviceKey(account), device], [historyKey(account), shown]]);
}

/**
 * The device and its history, decrypted, for an encrypted backup: `{ record, history }`
 * (`record.state` a Uint8Array), or null when this account has no device here.
 */
export async function exportSnapshot(account) {
  const record = await loadDevice(account);
  if (!record) return null;
  return { record, history: await loadHistory(account) };
}

/** Stores a snapshot from `exportSnapshot` (e.g. a restored backup), encrypted as usual. */
export async function importSnapshot(account, { record, history }) {
  if (!record || !(record.state instanceof Uint8Array)) throw new Error('The snapshot has no device state.');
  await saveDeviceAndHistory(account, record, history || {});
}

/** Safety numbers this person marked as verified: { otherAccount: number }. */
export async function loadVerified(account) {
  return (await get(`verified:${account}`)) || {};
}

export async function saveVerified(account, verified) {
  await put(`verified:${account}`, verified);
}

/**
 * What the key-transparency check remembers for this origin (no secrets): `{ proven:
 * { "device:key": true }, head: { size, root } }`, the largest signed tree head seen.
 */
export async function loadKeyLog() {
  return (await get('keylog')) || { proven: {}, head: null };
}

export async function saveKeyLog(log) {
  await put('keylog', log);
}
