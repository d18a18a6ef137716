// This device's message history (docs/messaging.md, "Several devices, history"): every message of
// a conversation shown here is kept in IndexedDB (database `bureau-history`, store `entries`),
// per signed-in user, so that it is still there after a reload or the next sign-in on this
// browser profile. Messages from the server are written here before the inbox is acknowledged:
// what the server deletes is already kept. Files that travel peer to peer are not kept (their
// bytes may be large); small files that came inside a message are, and uploaded ones as their
// reference (id, key, digest: downloadable again until the server's retention ends). No DOM here.

import { inStore } from '/client/idb.js';

const DB_NAME = 'bureau-history';
const STORE = 'entries';
const LABEL = 'message history';

/**
 * One kept line of a conversation.
 * @typedef {object} Kept
 * @property {string} id The message id (the same on every device that has it).
 * @property {string} owner The signed-in user whose history it is.
 * @property {string} peer The colleague of the conversation, or `group:<id>` for a group conversation.
 * @property {string} [from] In a group conversation: who wrote it.
 * @property {'in'|'out'} dir
 * @property {'message'|'file'} kind
 * @property {number} at Unix milliseconds (as the sender's header says, for messages that waited).
 * @property {string} [text]
 * @property {{name: string, type: string, size: number, data?: string, ref?: import('/client/secure-files.js').FileRef}} [file]
 *   `data`: the bytes (base64url) of a file that travelled inside a message; `ref`: where an
 *   uploaded one is and its key (its bytes are not kept).
 * @property {'server'} [via] It came or went through the server (encrypted) rather than peer to peer.
 * @property {string} [unverified] Why it could not be verified: shown as such, never as a message.
 * @property {string} [reply_to] The message it answers.
 * @property {string[]} [mentions] Who a group message mentions.
 * @property {number} [edited] When its writer last changed it.
 * @property {boolean} [deleted] Its writer deleted it (nothing of it is kept but that).
 */

/**
 * Keeps lines (a line already kept under its id is replaced).
 * @param {Kept[]} lines
 * @returns {Promise<void>}
 */
export function keep(lines) {
  if (!lines.length) return Promise.resolve();
  return inStore(DB_NAME, STORE, LABEL, 'readwrite', (store, done) => {
    for (const line of lines) store.put(line);
    done(undefined);
  });
}

/**
 * The kept lines of one conversation, oldest first.
 * @param {string} owner
 * @param {string} peer
 * @returns {Promise<Kept[]>}
 */
export async function conversation(owner, peer) {
  return (await lines(owner)).filter((line) => line.peer === peer).sort((a, b) => a.at - b.at);
}

/**
 * Every kept line of one user, in no order.
 * @param {string} owner
 * @returns {Promise<Kept[]>}
 */
export async function lines(owner) {
  /** @type {Kept[]} */
  const all = await inStore(DB_NAME, STORE, LABEL, 'readonly', (store, done) => {
    const get = store.getAll();
    get.onsuccess = () => done(get.result);
  });
  return all.filter((line) => line.owner === owner);
}
