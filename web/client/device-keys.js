// This device's keys (docs/messaging.md, "Device keys"): one HPKE key pair (X25519) to receive
// and one Ed25519 key pair to sign, made on first use and kept in IndexedDB (database
// `bureau-device`, store `keys`) as CryptoKey objects. The private keys are non-extractable:
// this origin's scripts can use them, nothing can export them, and IndexedDB stores them as
// such (structured clone keeps the flag). No DOM here.

import { openStore } from '/client/idb.js';
import { generateKeyPair, publicKeyBytes } from '/client/hpke.js';

const DB_NAME = 'bureau-device';
const STORE = 'keys';
/** The one record of the store. */
const RECORD_ID = 'device';

/**
 * @typedef {object} DeviceKeys
 * @property {CryptoKeyPair} hpke X25519: what others seal messages to.
 * @property {CryptoKeyPair} signing Ed25519: what this device signs with.
 * @property {number} createdAt Unix milliseconds.
 */

/**
 * The record as stored.
 * @typedef {object} KeyRecord
 * @property {string} id
 * @property {CryptoKeyPair} hpke
 * @property {CryptoKeyPair} signing
 * @property {number} created_at
 */

/** @type {Promise<DeviceKeys>|null} The keys once asked for: every caller in this context shares one load. */
let loading = null;

/**
 * This device's keys, made and stored on the first call ever. Concurrent calls share one load;
 * two tabs starting together still end with one key set (see `loadOrCreate`).
 * @returns {Promise<DeviceKeys>}
 */
export function deviceKeys() {
  if (!loading) {
    // A failure (storage refused, say) is not cached: the next call tries again.
    loading = loadOrCreate().catch((err) => {
      loading = null;
      throw err;
    });
  }
  return loading;
}

/**
 * The raw 32 bytes of this device's HPKE public key (`hpke_public` of the registration).
 * @returns {Promise<Uint8Array>}
 */
export async function hpkePublicBytes() {
  return publicKeyBytes((await deviceKeys()).hpke.publicKey);
}

/**
 * The raw 32 bytes of this device's Ed25519 public key (`sign_public` of the registration).
 * @returns {Promise<Uint8Array>}
 */
export async function signingPublicBytes() {
  const { signing } = await deviceKeys();
  return new Uint8Array(await crypto.subtle.exportKey('raw', signing.publicKey));
}

/**
 * Signs with this device's Ed25519 key.
 * @param {Uint8Array} bytes
 * @returns {Promise<Uint8Array>} The 64-byte signature.
 */
export async function sign(bytes) {
  const { signing } = await deviceKeys();
  return new Uint8Array(await crypto.subtle.sign('Ed25519', signing.privateKey, bytesOf(bytes, 'the signed bytes')));
}

/**
 * Checks an Ed25519 signature made by any device, given its raw public key.
 * @param {Uint8Array} publicBytes 32 bytes.
 * @param {Uint8Array} signature
 * @param {Uint8Array} bytes What was signed.
 * @returns {Promise<boolean>} False for a wrong or malformed signature; a malformed key throws,
 *   since that is a caller's mistake rather than a forgery.
 */
export async function verify(publicBytes, signature, bytes) {
  const raw = bytesOf(publicBytes, 'the public key');
  if (raw.length !== 32) throw new Error(`device keys: an Ed25519 public key is 32 bytes, got ${raw.length}`);
  const sig = bytesOf(signature, 'the signature');
  if (sig.length !== 64) return false;
  const key = await crypto.subtle.importKey('raw', raw, { name: 'Ed25519' }, true, ['verify']);
  return crypto.subtle.verify('Ed25519', key, sig, bytesOf(bytes, 'the signed bytes'));
}

/**
 * Reads the stored keys, or makes and stores them. Keys are made outside the storing transaction
 * (an IndexedDB transaction ends when it waits for anything else, such as WebCrypto), and the
 * transaction stores them only if it still finds no record: readwrite transactions on a store
 * run one after the other, so when two tabs race, the second one finds the first one's keys and
 * discards its own.
 * @returns {Promise<DeviceKeys>}
 */
async function loadOrCreate() {
  const db = await openDatabase();
  try {
    const stored = await readRecord(db);
    if (stored) return fromRecord(stored);
    /** @type {KeyRecord} */
    const made = {
      id: RECORD_ID,
      hpke: await generateKeyPair({ extractable: false }),
      signing: await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']),
      created_at: Date.now(),
    };
    return fromRecord(await storeUnlessPresent(db, made));
  } finally {
    // Not kept open: an open connection would block deleting the database (erasure, tests).
    db.close();
  }
}

/** @returns {Promise<IDBDatabase>} */
function openDatabase() {
  return openStore(DB_NAME, STORE, 'device keys');
}

/**
 * @param {IDBDatabase} db
 * @returns {Promise<KeyRecord|undefined>}
 */
function readRecord(db) {
  return new Promise((resolve, reject) => {
    const request = db.transaction(STORE, 'readonly').objectStore(STORE).get(RECORD_ID);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new Error(`device keys: cannot read IndexedDB (${request.error?.message || 'refused'})`));
  });
}

/**
 * Stores the record unless one is there; resolves with whichever is stored once committed.
 * @param {IDBDatabase} db
 * @param {KeyRecord} made
 * @returns {Promise<KeyRecord>}
 */
function storeUnlessPresent(db, made) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    /** @type {KeyRecord} */
    let result = made;
    const existing = store.get(RECORD_ID);
    existing.onsuccess = () => {
      if (existing.result) result = existing.result;
      else store.add(made);
    };
    // Resolved on commit, not on the request: keys that were never stored must not be used.
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(new Error(`device keys: cannot store the keys (${tx.error?.message || 'refused'})`));
    tx.onabort = () => reject(new Error(`device keys: storing the keys was aborted (${tx.error?.message || 'unknown'})`));
  });
}

/**
 * Checks what was read rather than trusting it: a damaged record is an error, never silently
 * replaced, since new keys would be a new device identity for everyone who verified this one.
 * @param {KeyRecord} record
 * @returns {DeviceKeys}
 */
function fromRecord(record) {
  const ok = record && isPair(record.hpke, 'X25519') && isPair(record.signing, 'Ed25519') && typeof record.created_at === 'number';
  if (!ok) throw new Error('device keys: the stored record is damaged');
  return { hpke: record.hpke, signing: record.signing, createdAt: record.created_at };
}

/**
 * @param {unknown} pair
 * @param {string} algorithm
 * @returns {boolean}
 */
function isPair(pair, algorithm) {
  if (typeof pair !== 'object' || pair === null) return false;
  const { publicKey, privateKey } = /** @type {{publicKey?: unknown, privateKey?: unknown}} */ (pair);
  return publicKey instanceof CryptoKey && privateKey instanceof CryptoKey
    && publicKey.type === 'public' && privateKey.type === 'private'
    && publicKey.algorithm.name === algorithm && privateKey.algorithm.name === algorithm;
}

/**
 * A copy of the caller's bytes, or a clear error for anything else.
 * @param {unknown} value
 * @param {string} what
 * @returns {Uint8Array<ArrayBuffer>}
 */
function bytesOf(value, what) {
  if (!(value instanceof Uint8Array)) throw new Error(`device keys: ${what} must be a Uint8Array`);
  return new Uint8Array(value);
}
