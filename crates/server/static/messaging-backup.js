// Encrypted backup of this browser's messaging device, so a person who loses it does
// not lose their conversations.
//
// Envelope: the backup (the device's MLS state and the history it has shown) is
// encrypted with AES-256-GCM under a random *data key*. The data key is wrapped
// (AES-256-GCM) under a key derived with HKDF-SHA-256 from either
//  - a passkey's PRF output (WebAuthn `prf` extension, input = a random salt), or
//  - a recovery phrase of 200 random bits shown once (8 groups of 5 base32 characters),
// with the same salt, so whoever holds the passkey or the phrase can open it and the
// server, which keeps only ciphertext and wrapped keys, cannot. (The phrase is random
// and long, not chosen by a person, so a fast KDF is enough: there is nothing to guess.)
//
// The data key stays in this browser's IndexedDB as a non-extractable CryptoKey, so
// later backups need neither passkey nor phrase, and script can use it but never read
// it. Each backup carries a higher version; the server keeps only the newest.
import { kvStore } from './idb-kv.js';
import { exportSnapshot, importSnapshot } from './messaging-store.js';

const op = kvStore('telewarden-messaging-backup');
const DEBOUNCE_MS = 2000;
const enc = new TextEncoder();
const dec = new TextDecoder();

const configKey = (account) => `backup:${account}`;
/** This browser's backup settings for `account` ({ deviceId, key, version, unlock }) or null. */
export const loadConfig = async (account) => (await op('readonly', (s) => s.get(configKey(account)))) || null;
const saveConfig = (account, config) => op('readwrite', (s) => s.put(config, configKey(account)));

// ---- encoding ----
export function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
export const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const b64url = (bytes) => toBase64(bytes).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const fromB64url = (s) => fromBase64(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));

// ---- the recovery phrase ----
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A new recovery phrase: 200 random bits as 8 groups of 5 base32 characters. */
export function newPhrase() {
  const bytes = crypto.getRandomValues(new Uint8Array(25));
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{5}/g).join('-');
}

/**
 * The phrase as typed, in its one canonical form (case, spaces and dashes do not
 * matter; 0/1/8 typed for O/I/B are read as the letters), or null if it cannot be one.
 */
export function normalisePhrase(text) {
  const s = String(text || '').toUpperCase().replace(/[\s-]/g, '').replace(/0/g, 'O').replace(/1/g, 'I').replace(/8/g, 'B');
  if (s.length !== 40 || [...s].some((c) => !BASE32.includes(c))) return null;
  return s;
}

// ---- keys ----
async function kek(secret, salt, method) {
  const ikm = await crypto.subtle.importKey('raw', secret, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: enc.encode(`telewarden messaging backup v1 ${method}`) },
    ikm, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'],
  );
}

const wrapAad = (account, deviceId) => enc.encode(`telewarden-backup-key:v1:${account}:${deviceId}`);
const bodyAad = (account, deviceId) => enc.encode(`telewarden-backup:v1:${account}:${deviceId}`);

async function wrap(rawKey, key, aad) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: aad }, key, rawKey));
  const out = new Uint8Array(12 + ct.length);
  out.set(iv);
  out.set(ct, 12);
  return out;
}

async function unwrap(wrapped, key, aad) {
  return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: wrapped.subarray(0, 12), additionalData: aad }, key, wrapped.subarray(12)));
}

const importDataKey = (raw) => crypto.subtle.importKey('raw', raw, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);

/**
 * The passkey's PRF output for `salt` (discoverable, or only `credentialId`), with the
 * id of the passkey used; `first` is null when the passkey or browser has no PRF.
 */
export async function prfOutput(salt, credentialId) {
  const credential = await navigator.credentials.get({
    publicKey: {
      // Only the PRF output is used, never this assertion: a local challenge is enough.
      challenge: crypto.getRandomValues(new Uint8Array(32)),
      rpId: location.hostname,
      allowCredentials: credentialId ? [{ type: 'public-key', id: fromB64url(credentialId) }] : [],
      userVerification: 'required',
      extensions: { prf: { eval: { first: salt } } },
    },
  });
  const first = credential.getClientExtensionResults?.().prf?.results?.first;
  return { credentialId: credential.id, first: first ? new Uint8Array(first) : null };
}

// ---- the server ----
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}.`);
    this.status = status;
    this.code = body?.code;
  }
}

export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(path, init);
  let json = null;
  try { json = await res.json(); } catch { /* no body */ }
  if (!res.ok) throw new ApiError(res.status, json);
  return json;
}

// ---- backing up ----
async function encryptSnapshot(account, config, snapshot) {
  const plain = enc.encode(JSON.stringify({
    record: { ...snapshot.record, state: toBase64(snapshot.record.state) },
    history: snapshot.history || {},
  }));
  return wrap(plain, config.key, bodyAad(account, config.deviceId));
}

/** Encrypts the device's current state and uploads it with a higher version. */
export async function backUpNow(account) {
  const config = await loadConfig(account);
  if (!config) return null;
  const snapshot = await exportSnapshot(account);
  if (!snapshot || snapshot.record.deviceId !== config.deviceId) return null;
  const body = toBase64(await encryptSnapshot(account, config, snapshot));
  // Time-based versions stay increasing across a restore into another browser too.
  let version = Math.max(config.version + 1, Date.now());
  for (let attempt = 0; ; attempt++) {
    try {
      const stored = await api('PUT', `/api/messaging/devices/${config.deviceId}/backup`, { version, unlock: config.unlock, body });
      config.version = stored.version;
      config.lastBackupMs = stored.updated_ms;
      await saveConfig(account, config);
      return stored;
    } catch (e) {
      // Another tab stored a newer one: this snapshot is the newest (it is read from
      // the one shared store), so go above it once.
      if (!(e instanceof ApiError) || e.status !== 409 || attempt > 0) throw e;
      const current = (await api('GET', '/api/messaging/backups')).find((b) => b.device_id === config.deviceId);
      version = Math.max(version, (current?.version || 0) + 1);
    }
  }
}

const timers = new Map();
/**
 * Backs up `account`'s device about two seconds after the last call (the messages page
 * calls this after every save). Does nothing until backup is set up in this browser.
 */
export function scheduleBackup(account) {
  clearTimeout(timers.get(account));
  timers.set(account, setTimeout(() => {
    timers.delete(account);
    backUpNow(account).catch(() => { /* the next save tries again */ });
  }, DEBOUNCE_MS));
}

/**
 * Turns on backup for this browser's device: a new data key, wrapped under the PRF
 * output (`{ prf: { credentialId, first } }`) or the recovery phrase (`{ phrase }`)
 * with `salt`, then the first backup.
 */
export async function enable(account, deviceId, { salt, prf, phrase }) {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const unlock = [];
  const aad = wrapAad(account, deviceId);
  if (prf) {
    const k = await kek(prf.first, salt, 'prf');
    unlock.push({ method: 'prf', credential_id: prf.credentialId, salt: toBase64(salt), wrapped_key: toBase64(await wrap(raw, k, aad)) });
  }
  if (phrase) {
    const k = await kek(enc.encode(normalisePhrase(phrase)), salt, 'phrase');
    unlock.push({ method: 'phrase', salt: toBase64(salt), wrapped_key: toBase64(await wrap(raw, k, aad)) });
  }
  const key = await importDataKey(raw);
  raw.fill(0);
  const previous = await loadConfig(account);
  await saveConfig(account, { deviceId, key, unlock, version: previous?.deviceId === deviceId ? previous.version : 0 });
  return backUpNow(account);
}

// ---- restoring ----
/**
 * Opens `backup` (from GET /api/messaging/devices/{id}/backup) with a passkey's PRF
 * output or a recovery phrase, and only if that worked stores the device in this
 * browser. Throws an Error with a message for a person otherwise; nothing is changed.
 */
export async function restore(account, backup, { phrase, usePasskey }) {
  let raw = null;
  const aad = wrapAad(account, backup.device_id);
  if (usePasskey) {
    const entry = backup.unlock.find((u) => u.method === 'prf');
    if (!entry) throw new Error('This backup cannot be opened with a passkey.');
    const { first } = await prfOutput(fromBase64(entry.salt), entry.credential_id);
    if (!first) throw new Error('Your passkey could not unlock the backup on this browser. Use your recovery phrase if you have one.');
    try {
      raw = await unwrap(fromBase64(entry.wrapped_key), await kek(first, fromBase64(entry.salt), 'prf'), aad);
    } catch {
      throw new Error('That passkey does not unlock this backup. Use the passkey you set the backup up with.');
    }
  } else {
    const entry = backup.unlock.find((u) => u.method === 'phrase');
    if (!entry) throw new Error('This backup has no recovery phrase: restore it with your passkey.');
    const canonical = normalisePhrase(phrase);
    if (!canonical) throw new Error('A recovery phrase is 40 letters and digits (8 groups of 5). Check what you typed.');
    try {
      raw = await unwrap(fromBase64(entry.wrapped_key), await kek(enc.encode(canonical), fromBase64(entry.salt), 'phrase'), aad);
    } catch {
      throw new Error('That recovery phrase does not unlock this backup. Check it and try again.');
    }
  }
  const key = await importDataKey(raw);
  raw.fill(0);
  let snapshot;
  try {
    const body = fromBase64(backup.body);
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: body.subarray(0, 12), additionalData: bodyAad(account, backup.device_id) }, key, body.subarray(12));
    snapshot = JSON.parse(dec.decode(plain));
  } catch {
    throw new Error('The backup is damaged and could not be opened.');
  }
  if (snapshot?.record?.deviceId !== backup.device_id) throw new Error('The backup does not hold the device it claims to.');
  snapshot.record.state = fromBase64(snapshot.record.state);
  // The lost browser may still hold this same state: the messages page renews the
  // device's keys in each conversation (MLS self-update) and then clears this flag.
  snapshot.record.rotateAfterRestore = true;
  await importSnapshot(account, snapshot);
  // Later changes on this browser keep the same backup current.
  await saveConfig(account, { deviceId: backup.device_id, key, unlock: backup.unlock, version: backup.version });
}
