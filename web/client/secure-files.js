// Files too large to travel inside a message (docs/messaging.md, "Files"): the sender's browser
// encrypts the file with a fresh random AES-256-GCM key, uploads only the ciphertext, and sends
// the key, the upload's id and the file's SHA-256 inside an ordinary end-to-end encrypted
// message (`{kind: "file_ref"}`). A recipient downloads the ciphertext, decrypts it with the key
// from the message and checks the digest. The server holds ciphertext it has no key for. No DOM.

import * as api from '/client/api.js';
import { b64u, unb64u } from '/client/secure-messages.js';
import { sha256Hex } from '/client/digest.js';

/** What the ciphertext's additional data says it is. */
const FILE_LABEL = 'bureau-file-v1';

/** @typedef {Uint8Array<ArrayBuffer>} Bytes */

/**
 * What a message carries about an uploaded file.
 * @typedef {object} FileRef
 * @property {string} id The upload's id on the server.
 * @property {string} key The 32-byte AES-256-GCM key, base64url.
 * @property {string} sha256 Hex SHA-256 of the file's bytes.
 */

/**
 * Encrypts a file and uploads the ciphertext.
 * @param {Bytes} bytes
 * @returns {Promise<FileRef>}
 */
export async function uploadEncrypted(bytes) {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  const key = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['encrypt']);
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: new TextEncoder().encode(FILE_LABEL) }, key, bytes));
  const ciphertext = new Uint8Array(nonce.length + sealed.length);
  ciphertext.set(nonce);
  ciphertext.set(sealed, nonce.length);
  const [uploaded, sha256] = await Promise.all([whenFree(() => api.uploadMessageFile(ciphertext)), sha256Hex(bytes)]);
  return { id: uploaded.id, key: b64u(raw), sha256 };
}

/**
 * Runs a transfer, again after the pause the server asks for while it moves as many files as it
 * may at once (`503 busy`), up to five times.
 * @template T
 * @param {() => Promise<T>} transfer
 * @returns {Promise<T>}
 */
async function whenFree(transfer) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await transfer();
    } catch (err) {
      if (!(err instanceof api.ApiError) || err.code !== 'busy' || attempt >= 5) throw err;
      await new Promise((resolve) => setTimeout(resolve, (err.retryAfter || 5) * 1000));
    }
  }
}

/** Raised when a downloaded file does not open or is not the file the message named. */
export class FileCheckError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'FileCheckError';
  }
}

/**
 * Downloads an uploaded file, decrypts it and checks its digest.
 * @param {FileRef} ref
 * @returns {Promise<Bytes>}
 * @throws {FileCheckError} When the ciphertext was changed or is another file.
 */
export async function downloadDecrypted(ref) {
  const ciphertext = await whenFree(() => api.downloadMessageFile(ref.id));
  const raw = unb64u(ref.key);
  if (!raw || raw.length !== 32 || ciphertext.length < 12 + 16) throw new FileCheckError('the file or its key is malformed');
  const key = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['decrypt']);
  let plain;
  try {
    plain = new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: ciphertext.subarray(0, 12), additionalData: new TextEncoder().encode(FILE_LABEL) }, key, ciphertext.subarray(12)));
  } catch {
    throw new FileCheckError('the file does not open: it was changed on the server');
  }
  if (await sha256Hex(plain) !== ref.sha256) throw new FileCheckError('the file is not the one the message named (its SHA-256 differs)');
  return plain;
}
