// This browser's messaging device, kept in IndexedDB encrypted with AES-GCM under a
// non-extractable WebCrypto key (itself kept in IndexedDB: usable by this origin's
// pages, never readable as bytes). Nothing here is plaintext: not messages, not keys.
const DB = 'telewarden-messaging';
const STORE = 'kv';

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function op(mode, fn) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const get = (key) => op('readonly', (s) => s.get(key));
const put = (key, value) => op('readwrite', (s) => s.put(value, key));

async function wrappingKey() {
  let key = await get('key');
  if (!key) {
    key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    await put('key', key);
  }
  return key;
}

/** The saved record of `account`'s device ({deviceId, registered, cursors, state}) or null. */
export async function loadDevice(account) {
  const saved = await get(`device:${account}`);
  if (!saved) return null;
  const key = await wrappingKey();
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: saved.iv }, key, saved.ciphertext);
  const text = new TextDecoder().decode(plain);
  const record = JSON.parse(text);
  record.state = Uint8Array.from(atob(record.state), (c) => c.charCodeAt(0));
  return record;
}

/** Saves `record` (its `state` a Uint8Array from exportState()). */
export async function saveDevice(account, record) {
  const key = await wrappingKey();
  let binary = '';
  for (let i = 0; i < record.state.length; i += 0x8000) {
    binary += String.fromCharCode(...record.state.subarray(i, i + 0x8000));
  }
  const text = JSON.stringify({ ...record, state: btoa(binary) });
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(text));
  await put(`device:${account}`, { iv, ciphertext });
}

/** Safety numbers this person marked as verified: { otherAccount: number }. */
export async function loadVerified(account) {
  return (await get(`verified:${account}`)) || {};
}

export async function saveVerified(account, verified) {
  await put(`verified:${account}`, verified);
}
