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
