// SFrame (RFC 9605) on WebCrypto, for media encrypted end to end through Bureau's media server
// (docs/sfu.md): the header (§4.3), the key and salt derived per key id (§4.4.2), and
// encryption and decryption (§4.4.3–4.4.4) with the cipher suite AES_128_GCM_SHA256_128 (0x0004,
// §4.5). KID and CTR are unsigned 64-bit integers, carried as BigInt. The RFC's test vectors
// run in e2e/sframe.test.js. No DOM here.

/** The cipher suite: AES_128_GCM_SHA256_128. */
export const CIPHER_SUITE = 0x0004;
/** Key length (Nk), nonce length (Nn) and tag length (Nt) of the suite, in bytes. */
const NK = 16;
const NN = 12;
const NT = 16;
const MAX_U64 = (1n << 64n) - 1n;

const encoder = new TextEncoder();

/** @typedef {Uint8Array<ArrayBuffer>} Bytes */

/**
 * The key and salt of one key id (`sframe_key` imported for AES-GCM, `sframe_salt`).
 * @typedef {object} KeySalt
 * @property {bigint} kid
 * @property {CryptoKey} key
 * @property {Bytes} salt
 */

/**
 * @param {bigint} value
 * @returns {number} Bytes the value takes in its shortest big-endian form (1 for 0).
 */
function byteLength(value) {
  let n = 1;
  while (value >> BigInt(8 * n) > 0n) n += 1;
  return n;
}

/**
 * @param {bigint} value
 * @param {number} length
 * @returns {Bytes} Big-endian, `length` bytes.
 */
function bigEndian(value, length) {
  const out = new Uint8Array(length);
  for (let i = length - 1, v = value; i >= 0; i -= 1, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/**
 * @param {bigint} value
 * @param {string} name
 */
function checkU64(value, name) {
  if (typeof value !== 'bigint' || value < 0n || value > MAX_U64) throw new RangeError(`sframe: ${name} is an unsigned 64-bit integer`);
}

/**
 * The SFrame header of a key id and counter: the config byte, then the KID and CTR that do not
 * fit in it, each in its fewest bytes.
 * @param {bigint} kid
 * @param {bigint} ctr
 * @returns {Bytes}
 */
export function encodeHeader(kid, ctr) {
  checkU64(kid, 'KID');
  checkU64(ctr, 'CTR');
  const kidLength = kid < 8n ? 0 : byteLength(kid);
  const ctrLength = ctr < 8n ? 0 : byteLength(ctr);
  const config = (kidLength ? 0x80 | ((kidLength - 1) << 4) : Number(kid) << 4) | (ctrLength ? 0x08 | (ctrLength - 1) : Number(ctr));
  const out = new Uint8Array(1 + kidLength + ctrLength);
  out[0] = config;
  if (kidLength) out.set(bigEndian(kid, kidLength), 1);
  if (ctrLength) out.set(bigEndian(ctr, ctrLength), 1 + kidLength);
  return out;
}

/**
 * Reads the SFrame header at the start of `bytes`.
 * @param {Uint8Array} bytes
 * @returns {{kid: bigint, ctr: bigint, length: number}|null} `null` when it is cut short.
 */
export function parseHeader(bytes) {
  if (bytes.length < 1) return null;
  const config = bytes[0];
  const kidLength = config & 0x80 ? ((config >> 4) & 0x07) + 1 : 0;
  const ctrLength = config & 0x08 ? (config & 0x07) + 1 : 0;
  const length = 1 + kidLength + ctrLength;
  if (bytes.length < length) return null;
  /** @param {number} at @param {number} n */
  const read = (at, n) => {
    let v = 0n;
    for (let i = 0; i < n; i += 1) v = (v << 8n) | BigInt(bytes[at + i]);
    return v;
  };
  const kid = kidLength ? read(1, kidLength) : BigInt((config >> 4) & 0x07);
  const ctr = ctrLength ? read(1 + kidLength, ctrLength) : BigInt(config & 0x07);
  return { kid, ctr, length };
}

/**
 * The label of a key or salt derivation: "SFrame 1.0 Secret key " or "… salt ", the KID as 8
 * bytes and the cipher suite as 2, big-endian.
 * @param {'key'|'salt'} what
 * @param {bigint} kid
 * @returns {Bytes}
 */
function label(what, kid) {
  const text = encoder.encode(`SFrame 1.0 Secret ${what} `);
  const out = new Uint8Array(text.length + 10);
  out.set(text);
  out.set(bigEndian(kid, 8), text.length);
  out.set(bigEndian(BigInt(CIPHER_SUITE), 2), text.length + 8);
  return out;
}

/**
 * Derives the key and salt of a key id from its base key (HKDF-SHA256: Extract with an empty
 * salt, then Expand with the RFC's labels).
 * @param {bigint} kid
 * @param {Uint8Array} baseKey
 * @param {boolean} [exportable] Only for the test vectors: the key can be read back.
 * @returns {Promise<KeySalt>}
 */
export async function deriveKeySalt(kid, baseKey, exportable = false) {
  checkU64(kid, 'KID');
  const base = await crypto.subtle.importKey('raw', new Uint8Array(baseKey), 'HKDF', false, ['deriveBits']);
  /** @param {'key'|'salt'} what @param {number} bytes */
  const expand = async (what, bytes) => new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: label(what, kid) }, base, bytes * 8));
  const [rawKey, salt] = await Promise.all([expand('key', NK), expand('salt', NN)]);
  const key = await crypto.subtle.importKey('raw', rawKey, { name: 'AES-GCM' }, exportable, ['encrypt', 'decrypt']);
  rawKey.fill(0);
  return { kid, key, salt };
}

/**
 * The nonce of a counter: the salt XOR the counter, big-endian in Nn bytes.
 * @param {Bytes} salt
 * @param {bigint} ctr
 * @returns {Bytes}
 */
export function nonceOf(salt, ctr) {
  const counter = bigEndian(ctr, NN);
  return salt.map((b, i) => b ^ counter[i]);
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {Bytes}
 */
function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Encrypts one frame: the header, then AES-GCM of the plaintext with the header and the
 * metadata as additional data. Each (KID, CTR) must encrypt once only: the caller counts.
 * @param {KeySalt} keySalt
 * @param {bigint} ctr
 * @param {Uint8Array} metadata Authenticated, not encrypted, not carried (e.g. the codec header
 *   bytes a packetizer needs in clear).
 * @param {Uint8Array} plaintext
 * @returns {Promise<Bytes>}
 */
export async function encrypt(keySalt, ctr, metadata, plaintext) {
  const header = encodeHeader(keySalt.kid, ctr);
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonceOf(keySalt.salt, ctr), additionalData: concat(header, metadata), tagLength: NT * 8 },
    keySalt.key, new Uint8Array(plaintext));
  return concat(header, new Uint8Array(sealed));
}

/**
 * Decrypts one SFrame ciphertext with the key of its KID.
 * @param {(kid: bigint) => KeySalt|undefined} keyOf The receiver's keys.
 * @param {Uint8Array} metadata As the sender gave it.
 * @param {Uint8Array} ciphertext
 * @returns {Promise<{kid: bigint, ctr: bigint, plaintext: Bytes}|null>} `null` when there is no
 *   key for its KID, or it does not open (changed, or not SFrame).
 */
export async function decrypt(keyOf, metadata, ciphertext) {
  const header = parseHeader(ciphertext);
  if (!header || ciphertext.length < header.length + NT) return null;
  const keySalt = keyOf(header.kid);
  if (!keySalt) return null;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonceOf(keySalt.salt, header.ctr), additionalData: concat(ciphertext.subarray(0, header.length), metadata), tagLength: NT * 8 },
      keySalt.key, new Uint8Array(ciphertext.subarray(header.length)));
    return { kid: header.kid, ctr: header.ctr, plaintext: new Uint8Array(plain) };
  } catch {
    return null;
  }
}
