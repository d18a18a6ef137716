// RFC 6238 codes computed as an authenticator app would, for the tests that enrol one.

import { createHmac } from 'node:crypto';

/**
 * The RFC 6238 code of a base32 secret, `offset` 30-second steps from now.
 * @param {string} base32
 * @param {number} offset
 * @returns {string}
 */
export function totp(base32, offset) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/\s+/g, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const digest = createHmac('sha1', Buffer.from(bytes)).update(counter).digest();
  const at = digest[19] & 0x0f;
  const value = (digest.readUInt32BE(at) & 0x7fffffff) % 1000000;
  return String(value).padStart(6, '0');
}
