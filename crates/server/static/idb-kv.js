// One IndexedDB database with a single key/value object store, opened per operation and
// closed after it (so an upgrade in another tab is never blocked). Used by the
// messaging store and the backup settings.
const STORE = 'kv';

function open(name) {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * `op(mode, fn)` for the database `name`: runs `fn(objectStore)` in one transaction and
 * resolves with its request's result once the transaction has committed.
 */
export function kvStore(name) {
  return async function op(mode, fn) {
    const db = await open(name);
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = fn(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(req?.result);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  };
}
