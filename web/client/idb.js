// Opening Bureau's own IndexedDB databases in the browser (device keys, message state): one
// object store keyed by `id` per database, created on first use. No DOM here.

/**
 * Opens `name` (version 1) with its object store `store`.
 * @param {string} name The database.
 * @param {string} store Its one object store (keyPath `id`).
 * @param {string} label Who asks, for the error message.
 * @returns {Promise<IDBDatabase>}
 */
export function openStore(name, store, label) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store, { keyPath: 'id' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`${label}: cannot open IndexedDB (${request.error?.message || 'refused'})`));
  });
}

/** @type {Map<string, Promise<IDBDatabase>>} Connections kept open by `inStore`, by database. */
const open = new Map();

/**
 * A connection to `name` kept for the next transactions (opening one costs more than most
 * transactions). It closes itself when someone deletes or upgrades the database, so that it
 * never blocks them (erasure, tests), and is opened again on the next use.
 * @param {string} name
 * @param {string} store
 * @param {string} label
 * @returns {Promise<IDBDatabase>}
 */
function connection(name, store, label) {
  let db = open.get(name);
  if (!db) {
    db = openStore(name, store, label).then((opened) => {
      const forget = () => {
        opened.close();
        if (open.get(name) === db) open.delete(name);
      };
      opened.onversionchange = forget;
      opened.onclose = forget;
      return opened;
    });
    db.catch(() => open.delete(name));
    open.set(name, db);
  }
  return db;
}

/**
 * Runs `step` on the one store of database `name` in one transaction and resolves with its
 * result once committed. `step` may only issue IndexedDB requests (anything else would end the
 * transaction).
 * @template T
 * @param {string} name The database.
 * @param {string} store Its one object store.
 * @param {string} label Who asks, for error messages.
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore, done: (value: T) => void) => void} step
 * @returns {Promise<T>}
 */
export async function inStore(name, store, label, mode, step) {
  const db = await connection(name, store, label);
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    /** @type {T|undefined} */
    let result;
    step(tx.objectStore(store), (value) => { result = value; });
    tx.oncomplete = () => resolve(/** @type {T} */ (result));
    tx.onerror = () => reject(new Error(`${label}: IndexedDB refused (${tx.error?.message || 'unknown'})`));
    tx.onabort = () => reject(new Error(`${label}: IndexedDB aborted (${tx.error?.message || 'unknown'})`));
  });
}
