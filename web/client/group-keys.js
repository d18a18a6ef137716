// The key of one group message (docs/messaging.md, "Groups"): HKDF-SHA256 over the sender's key
// of the epoch, with the conversation, the epoch and the message's counter in `info`, so that
// every message has its own AES-256-GCM key and nonces never repeat under one key. No DOM here.

const LABEL = 'bureau-group-v1';

/**
 * @param {Uint8Array} senderKey The sender device's 32-byte key of the epoch.
 * @param {string} conversationId
 * @param {number} epoch
 * @param {number} counter The message's counter (from its signed header).
 * @param {KeyUsage[]} usages `encrypt` or `decrypt`.
 * @returns {Promise<CryptoKey>}
 */
export async function groupMessageKey(senderKey, conversationId, epoch, counter, usages) {
  const base = await crypto.subtle.importKey('raw', new Uint8Array(senderKey), 'HKDF', false, ['deriveKey']);
  const info = new TextEncoder().encode(`${LABEL}\0${conversationId}\0${epoch}\0${counter}`);
  return crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info }, base, { name: 'AES-GCM', length: 256 }, false, usages);
}
