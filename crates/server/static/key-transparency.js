// Key transparency in the browser: checks that a conversation member's signature key is
// the one the practice's audit ledger logged for that device (`messaging.device_added`),
// with an RFC 6962 inclusion proof under an Ed25519-signed tree head — the same checks as
// `ledger::InclusionProof::verify` in Rust (crates/ledger/src/proof.rs).
//
// What this browser remembers (IndexedDB, no secrets): the ledger's public key as first
// seen (a changed key is flagged), the (device, key) pairs already proven, and the
// largest signed tree head seen (a smaller one, or another root at the same size, is
// flagged: the log would have been rolled back or forked). A larger one is accepted only
// with a consistency proof (`/api/messaging/key-log/consistency`) that it extends the
// remembered one.
import { loadKeyLog, saveKeyLog } from './messaging-store.js';

const STH_TAG = new TextEncoder().encode('TWSTH1');
const ENTRY_TAG = new TextEncoder().encode('TWL1');

class Refused extends Error {}

function unhex(s, bytes, what) {
  if (typeof s !== 'string' || !/^[0-9a-f]*$/.test(s) || s.length !== bytes * 2) throw new Refused(`${what} is not ${bytes} bytes of hex`);
  return Uint8Array.from(s.match(/../g) || [], (h) => parseInt(h, 16));
}
const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function u64(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}
function i64(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(n));
  return out;
}
function u32(n) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
const leafHash = (data) => sha256(concat([Uint8Array.of(0), data]));
const nodeHash = (left, right) => sha256(concat([Uint8Array.of(1), left, right]));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

function isCount(n) {
  return Number.isSafeInteger(n) && n >= 0;
}

/** `"TWL1" || seq u64 || time_ms i64 || 7 × (u32 length || UTF-8)`: the ledger's entry encoding. */
function canonicalEntry(e) {
  const fields = [e.actor, e.action, e.target, e.outcome, e.source, e.request_id, e.details];
  if (!isCount(e.seq) || !Number.isSafeInteger(e.time_ms) || fields.some((f) => typeof f !== 'string')) {
    throw new Refused('the logged entry is malformed');
  }
  const enc = new TextEncoder();
  const parts = [ENTRY_TAG, u64(e.seq), i64(e.time_ms)];
  for (const f of fields) {
    const bytes = enc.encode(f);
    parts.push(u32(bytes.length), bytes);
  }
  return concat(parts);
}

/** RFC 9162 §2.1.3.2: the root the audit path leads to from leaf `index` of `size`. */
async function rootFromPath(leaf, index, size, path) {
  if (index >= size) throw new Refused('the leaf index is outside the tree');
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new Refused('the inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Refused('the inclusion proof is too short');
  return r;
}

/**
 * Checks a signed tree head — Ed25519 over "TWSTH1" || size u64 || time_ms i64 || root,
 * by the ledger's key — and returns its root bytes.
 */
async function verifyHead(sth, raw, key) {
  const head = sth?.head;
  if (!head || !isCount(head.size) || !Number.isSafeInteger(head.time_ms)) throw new Refused('the tree head is malformed');
  const root = unhex(head.root, 32, 'the tree root');
  const keyId = hex((await sha256(raw)).subarray(0, 8));
  if (sth.key_id !== keyId) throw new Refused('the tree head is signed by another key than the ledger\'s');
  const signed = concat([STH_TAG, u64(head.size), i64(head.time_ms), root]);
  const signature = unhex(sth.signature, 64, 'the tree head signature');
  if (!(await crypto.subtle.verify({ name: 'Ed25519' }, key, signature, signed))) {
    throw new Refused('the tree head signature does not verify');
  }
  return root;
}

const isPowerOfTwo = (n) => n > 0n && (n & (n - 1n)) === 0n;

/**
 * RFC 9162 §2.1.4.2: whether the tree of `oldSize` leaves with root `oldRoot` is a
 * prefix of the tree of `newSize` with root `newRoot` — a faithful port of
 * `ledger::merkle::verify_consistency` (crates/ledger/src/merkle.rs). Throws Refused.
 */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  if (oldSize > newSize) throw new Refused(`the key log shrank from ${oldSize} to ${newSize} entries`);
  if (oldSize === newSize || oldSize === 0) {
    if (proof.length !== 0) throw new Refused('the consistency proof must be empty for these sizes');
    if (oldSize === 0 ? !equal(oldRoot, await sha256(new Uint8Array(0))) : !equal(oldRoot, newRoot)) {
      throw new Refused('the key log differs from the one this browser saw at the same size');
    }
    return;
  }
  if (proof.length === 0) throw new Refused('the consistency proof is empty');
  // When the old tree is a perfect subtree, its root is the proof's implicit start.
  const [seed, rest] = isPowerOfTwo(BigInt(oldSize)) ? [oldRoot, proof] : [proof[0], proof.slice(1)];
  let fn = BigInt(oldSize - 1);
  let sn = BigInt(newSize - 1);
  while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = seed;
  let sr = seed;
  for (const c of rest) {
    if (sn === 0n) throw new Refused('the consistency proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new Refused('the consistency proof is too short');
  if (!equal(fr, oldRoot)) throw new Refused('the key log does not extend the one this browser saw (old tree head not reproduced)');
  if (!equal(sr, newRoot)) throw new Refused('the consistency proof does not reproduce the new tree head');
}

/**
 * Fetches the proof that the ledger's current head extends `known` ({size, root}), checks
 * both signatures, that its old head is exactly `known` and the path; returns the current
 * head ({size, root, time_ms}).
 */
async function extendsFrom(known, raw, key) {
  const proof = await getJson(`/api/messaging/key-log/consistency?from=${encodeURIComponent(known.size)}`);
  if (!proof?.old || !proof?.new || !Array.isArray(proof.path)) throw new Refused('the consistency proof is incomplete');
  const oldRoot = await verifyHead(proof.old, raw, key);
  const newRoot = await verifyHead(proof.new, raw, key);
  if (proof.old.head.size !== known.size || proof.old.head.root !== known.root) {
    throw new Refused(`the key log's tree head of size ${known.size} differs from the one this browser saw`);
  }
  const path = proof.path.map((h) => unhex(h, 32, 'a consistency proof hash'));
  await verifyConsistency(proof.old.head.size, proof.new.head.size, oldRoot, newRoot, path);
  const { size, root, time_ms } = proof.new.head;
  return { size, root, time_ms };
}

/**
 * The head to remember once `head` (larger than `seen`) is proved to extend `seen`: the
 * server's current head, after proving `seen` ⊑ current and `head` ⊑ current. Retried
 * when the log grows between the two proofs.
 */
async function proveGrowth(seen, head, raw, key) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await extendsFrom(seen, raw, key);
    if (current.size < head.size) throw new Refused(`the key log (${current.size} entries) is older than a tree head it just signed (${head.size})`);
    if (current.size === head.size) {
      if (current.root !== head.root) throw new Refused('the key log shows two different trees of the same size');
      return current;
    }
    const fromHead = await extendsFrom(head, raw, key);
    if (fromHead.size === current.size) {
      if (fromHead.root !== current.root) throw new Refused('the key log shows two different trees of the same size');
      return current;
    }
  }
  throw new Error('the key log kept growing while it was being checked');
}

async function getJson(path) {
  const res = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`the server answered ${res.status}`);
  return res.json();
}

let ledgerKey = null; // Promise of { raw: Uint8Array, key: CryptoKey }
function theLedgerKey() {
  ledgerKey ||= (async () => {
    const res = await fetch('/ledger/public-key', { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`the ledger's public key could not be fetched (${res.status})`);
    const raw = unhex((await res.text()).trim(), 32, "the ledger's public key");
    const key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, false, ['verify']);
    return { raw, key };
  })();
  ledgerKey.catch(() => { ledgerKey = null; });
  return ledgerKey;
}

// One check at a time touches the remembered log (read, compare, write).
let logQueue = Promise.resolve();
function withLog(fn) {
  const run = logQueue.then(async () => {
    const log = await loadKeyLog();
    log.proven ||= {};
    const out = await fn(log);
    await saveKeyLog(log);
    return out;
  });
  logQueue = run.catch(() => {});
  return run;
}

async function verify(member) {
  const { raw, key } = await theLedgerKey();
  const proof = await getJson(`/api/messaging/devices/${encodeURIComponent(member.device_id)}/key-proof`);
  const sth = proof?.sth;
  const head = sth?.head;
  const entry = proof?.entry;
  if (!head || !entry || !Array.isArray(proof.path)) throw new Refused('the proof is incomplete');
  if (!isCount(head.size) || !Number.isSafeInteger(head.time_ms)) throw new Refused('the tree head is malformed');
  const root = await verifyHead(sth, raw, key);
  if (proof.tree_size !== head.size) throw new Refused('the proof is for another tree size than the signed head');
  if (entry.seq === 0 || proof.leaf_index !== entry.seq - 1) throw new Refused('the leaf index does not match the entry');
  // The entry says what we expect: this device, this key, this account, at its seq.
  let details;
  try { details = JSON.parse(entry.details); } catch { throw new Refused('the logged details are not JSON'); }
  if (entry.action !== 'messaging.device_added' || entry.outcome !== 'success') throw new Refused('the logged entry is not a device registration');
  if (entry.target !== `device:${member.device_id}`) throw new Refused('the logged entry names another device');
  if (details?.signature_key !== member.signature_key) throw new Refused('the logged key differs from the key in this conversation');
  if (details?.account !== member.user_id) throw new Refused('the logged entry names another account');
  if (entry.seq !== member.ledger_seq) throw new Refused('the logged entry is not the one the server names');
  // The leaf is SHA-256(0x00 || canonical entry); the path must lead to the signed root.
  const leaf = await leafHash(canonicalEntry(entry));
  if (hex(leaf) !== entry.leaf_hash) throw new Refused('the entry does not match its leaf hash');
  const path = proof.path.map((h) => unhex(h, 32, 'a proof hash'));
  const computed = await rootFromPath(leaf, proof.leaf_index, proof.tree_size, path);
  if (!equal(computed, root)) throw new Refused('the inclusion proof does not lead to the signed tree head');

  return withLog(async (log) => {
    const rawHex = hex(raw);
    if (log.ledgerKey && log.ledgerKey !== rawHex) throw new Refused('the ledger\'s public key changed since this browser first saw it');
    log.ledgerKey ||= rawHex;
    const seen = log.head;
    if (seen && head.size < seen.size) throw new Refused(`the key log (${head.size} entries) is older than one this browser has seen (${seen.size})`);
    if (seen && head.size === seen.size && head.root !== seen.root) throw new Refused('the key log differs from the one this browser saw at the same size');
    // A larger head is remembered only once it provably extends the remembered one, so
    // a server showing this browser a different log than before (a split view) is caught.
    if (!seen) log.head = { size: head.size, root: head.root, time_ms: head.time_ms };
    else if (head.size > seen.size) log.head = await proveGrowth(seen, head, raw, key);
    log.proven[`${member.device_id}:${member.signature_key}`] = true;
  });
}

const results = new Map(); // "device:key" → Promise of the result, one check per page
const settled = new Map(); // "device:key" → the result, once known

/**
 * Whether `member` ({device_id, user_id, signature_key, ledger_seq}) has its key in the
 * practice's key log: `{ ok: true }` or `{ ok: false, reason }`. One fetch per device and
 * key; a pair proven before (in this browser) is not fetched again.
 */
export function checkMember(member) {
  const id = `${member.device_id}:${member.signature_key}`;
  if (!results.has(id)) {
    results.set(id, (async () => {
      let result;
      try {
        const log = await loadKeyLog();
        if (!log.proven?.[id]) await verify(member);
        result = { ok: true };
      } catch (e) {
        result = e instanceof Refused
          ? { ok: false, reason: e.message }
          : { ok: false, reason: `it could not be checked (${e.message})` };
      }
      settled.set(id, result);
      return result;
    })());
  }
  return results.get(id);
}

/** The result of `checkMember(member)` if it has finished, else undefined. */
export function knownResult(member) {
  return settled.get(`${member.device_id}:${member.signature_key}`);
}
