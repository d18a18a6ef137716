// HPKE (RFC 9180) for the one suite Bureau uses to encrypt to a device (docs/messaging.md):
// base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM (0x0020, 0x0001, 0x0001).
// Composed on WebCrypto only: X25519 deriveBits for the Diffie-Hellman, HMAC-SHA256 for HKDF
// (WebCrypto's own HKDF cannot expand from a given PRK, which LabeledExpand needs), AES-GCM.
// Section numbers below are RFC 9180's; e2e/hpke.test.js checks every value of its test vector
// A.1.1 in Chromium. No DOM here.

/** The KEM's identifier, `DHKEM(X25519, HKDF-SHA256)`. */
export const KEM_ID = 0x0020;
/** The KDF's identifier, `HKDF-SHA256`. */
export const KDF_ID = 0x0001;
/** The AEAD's identifier, `AES-128-GCM`. */
export const AEAD_ID = 0x0001;

const MODE_BASE = 0x00;
/** Nsecret, Nenc, Npk, Nsk: every X25519 value is 32 bytes (7.1). */
const N_SECRET = 32;
const N_ENC = 32;
const N_PK = 32;
const N_SK = 32;
/** Nh of HKDF-SHA256. */
const N_H = 32;
/** Nk, Nn, Nt of AES-128-GCM. */
const N_K = 16;
const N_N = 12;
const N_T = 16;

/**
 * The highest sequence number a context uses. The RFC allows up to 2^96 - 1; a limit far below
 * that keeps the arithmetic in exact JavaScript numbers, and no Bureau context gets near it (the
 * single-shot API seals exactly one message, at 0). Past it a context refuses, it never wraps:
 * a repeated nonce under the same key would break AES-GCM.
 */
export const MAX_SEQUENCE = 2 ** 32 - 1;

/** A PKCS #8 PrivateKeyInfo for X25519 (RFC 8410) up to the raw key: how WebCrypto imports one. */
const PKCS8_X25519_PREFIX = hexBytes('302e020100300506032b656e04220420');

/** The X25519 base point (u = 9), from which a private key's public key is computed. */
const BASE_POINT = Uint8Array.of(9, ...new Uint8Array(31));

const encoder = new TextEncoder();
const VERSION_LABEL = encoder.encode('HPKE-v1');
/** suite_id of the KEM (4.1) and of HPKE (5.1). */
const KEM_SUITE_ID = concat(encoder.encode('KEM'), i2osp(KEM_ID, 2));
const HPKE_SUITE_ID = concat(encoder.encode('HPKE'), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(AEAD_ID, 2));

/** @typedef {Uint8Array<ArrayBuffer>} Bytes Bytes WebCrypto accepts as a BufferSource. */

/**
 * Everything the key schedule derives, for the test vectors; only `Context` leaves this module
 * in normal use.
 * @typedef {object} ScheduleValues
 * @property {Bytes} sharedSecret The KEM's shared secret.
 * @property {Bytes} keyScheduleContext
 * @property {Bytes} secret
 * @property {Bytes} key The AEAD key (also held, non-extractable, by the context).
 * @property {Bytes} baseNonce
 * @property {Bytes} exporterSecret
 */

/**
 * Makes a device's receiving key pair. The private key cannot be exported unless asked for: it
 * can be used by this origin's scripts, never copied off the device.
 * @param {{extractable?: boolean}} [options]
 * @returns {Promise<CryptoKeyPair>}
 */
export async function generateKeyPair({ extractable = false } = {}) {
  return /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({ name: 'X25519' }, extractable, ['deriveBits']));
}

/**
 * DeriveKeyPair (7.1.3) for X25519: the key pair the RFC's vectors derive from `ikmE` and `ikmR`.
 * Bureau's own keys come from `generateKeyPair`; this exists so that the vectors can be checked
 * from their first value.
 * @param {Uint8Array} ikm At least Nsk (32) bytes of input keying material.
 * @param {{extractable?: boolean}} [options]
 * @returns {Promise<CryptoKeyPair>}
 */
export async function deriveKeyPair(ikm, { extractable = false } = {}) {
  const material = bytesOf(ikm, 'ikm');
  if (material.length < N_SK) throw new Error(`hpke: ikm must be at least ${N_SK} bytes, got ${material.length}`);
  const prk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), 'dkp_prk', material);
  const sk = await labeledExpand(KEM_SUITE_ID, prk, 'sk', new Uint8Array(0), N_SK);
  const privateKey = await importPrivateKey(sk, { extractable });
  const publicKey = await importPublicKey(await publicBytesOfPrivate(privateKey));
  return { privateKey, publicKey };
}

/**
 * SerializePublicKey: the raw 32 bytes of an X25519 public key.
 * @param {CryptoKey} publicKey
 * @returns {Promise<Uint8Array>}
 */
export async function publicKeyBytes(publicKey) {
  checkKey(publicKey, 'public', 'publicKey');
  return new Uint8Array(await crypto.subtle.exportKey('raw', publicKey));
}

/**
 * DeserializePublicKey: an X25519 public key from its raw 32 bytes.
 * @param {Uint8Array} bytes
 * @returns {Promise<CryptoKey>}
 */
export async function importPublicKey(bytes) {
  const raw = bytesOf(bytes, 'public key');
  if (raw.length !== N_PK) throw new Error(`hpke: an X25519 public key is ${N_PK} bytes, got ${raw.length}`);
  return crypto.subtle.importKey('raw', raw, { name: 'X25519' }, true, []);
}

/**
 * An X25519 private key from its raw 32 bytes (the RFC's `skRm`, `skEm`), wrapped in PKCS #8
 * since WebCrypto imports private X25519 keys only as PKCS #8 or JWK.
 * @param {Uint8Array} bytes
 * @param {{extractable?: boolean}} [options]
 * @returns {Promise<CryptoKey>}
 */
export async function importPrivateKey(bytes, { extractable = false } = {}) {
  const raw = bytesOf(bytes, 'private key');
  if (raw.length !== N_SK) throw new Error(`hpke: an X25519 private key is ${N_SK} bytes, got ${raw.length}`);
  return crypto.subtle.importKey('pkcs8', concat(PKCS8_X25519_PREFIX, raw), { name: 'X25519' }, extractable, ['deriveBits']);
}

/**
 * Encrypts one message to a recipient's public key (6.1 SealBase). A fresh ephemeral key pair
 * per call: two seals of the same message look unrelated.
 * @param {CryptoKey} recipientPublicKey
 * @param {Uint8Array} info Binds the message to its purpose (e.g. "bureau-msg-v1").
 * @param {Uint8Array} aad Authenticated, not encrypted.
 * @param {Uint8Array} plaintext
 * @returns {Promise<{enc: Uint8Array, ciphertext: Uint8Array}>} `enc` is the ephemeral public key (32 bytes).
 */
export async function seal(recipientPublicKey, info, aad, plaintext) {
  const { enc, context } = await setupBaseS(recipientPublicKey, info);
  const ciphertext = await context.seal(aad, plaintext);
  return { enc, ciphertext };
}

/**
 * Decrypts one message sealed to this device (6.1 OpenBase).
 * @param {CryptoKey|CryptoKeyPair} recipient The private key, or the key pair (which saves
 *   recomputing the public key, an input of the KEM).
 * @param {Uint8Array} enc
 * @param {Uint8Array} info
 * @param {Uint8Array} aad
 * @param {Uint8Array} ciphertext
 * @returns {Promise<Uint8Array>} The plaintext.
 * @throws {Error} When anything does not match: key, enc, info, aad or ciphertext.
 */
export async function open(recipient, enc, info, aad, ciphertext) {
  const { context } = await setupBaseR(enc, recipient, info);
  return context.open(aad, ciphertext);
}

/**
 * SetupBaseS (5.1.1): encapsulates to the recipient and runs the key schedule. Exported for
 * the test vectors, which need a given ephemeral key pair; messages use `seal`.
 * @param {CryptoKey} recipientPublicKey
 * @param {Uint8Array} info
 * @param {CryptoKeyPair} [ephemeral] Only for known-answer tests: never reuse an ephemeral key.
 * @returns {Promise<{enc: Uint8Array, context: Context, values: ScheduleValues}>}
 */
export async function setupBaseS(recipientPublicKey, info, ephemeral) {
  checkKey(recipientPublicKey, 'public', 'recipient public key');
  const infoBytes = bytesOf(info, 'info');
  const { sharedSecret, enc } = await encap(recipientPublicKey, ephemeral);
  const values = await keySchedule(sharedSecret, infoBytes);
  return { enc, context: await Context.create(values), values };
}

/**
 * SetupBaseR (5.1.1): decapsulates `enc` with the recipient's key and runs the key schedule.
 * @param {Uint8Array} enc
 * @param {CryptoKey|CryptoKeyPair} recipient
 * @param {Uint8Array} info
 * @returns {Promise<{context: Context, values: ScheduleValues}>}
 */
export async function setupBaseR(enc, recipient, info) {
  const encBytes = bytesOf(enc, 'enc');
  if (encBytes.length !== N_ENC) throw new Error(`hpke: enc must be ${N_ENC} bytes, got ${encBytes.length}`);
  const infoBytes = bytesOf(info, 'info');
  if (typeof recipient !== 'object' || recipient === null) throw new Error('hpke: the recipient must be a private key or a key pair');
  const privateKey = 'privateKey' in recipient ? recipient.privateKey : recipient;
  checkKey(privateKey, 'private', 'recipient private key');
  let pkRm;
  if ('publicKey' in recipient) {
    checkKey(recipient.publicKey, 'public', 'recipient public key');
    pkRm = await rawPublic(recipient.publicKey);
  } else {
    pkRm = await publicBytesOfPrivate(privateKey);
  }
  const sharedSecret = await decap(encBytes, privateKey, pkRm);
  const values = await keySchedule(sharedSecret, infoBytes);
  return { context: await Context.create(values), values };
}

/**
 * An encryption context (5.2): the AEAD key, base nonce, sequence number and exporter secret.
 * One context either seals or opens, never both, like the RFC's sender and recipient contexts.
 */
export class Context {
  /**
   * @param {CryptoKey} key AES-128-GCM, non-extractable.
   * @param {Bytes} baseNonce
   * @param {Bytes} exporterSecret
   */
  constructor(key, baseNonce, exporterSecret) {
    /** @private */
    this.key = key;
    /** @private */
    this.baseNonce = baseNonce;
    /** @private */
    this.exporterSecret = exporterSecret;
    /** The sequence number of the next message: 0, 1, … up to MAX_SEQUENCE, then refused. */
    this.seq = 0;
  }

  /**
   * @param {ScheduleValues} values
   * @returns {Promise<Context>}
   */
  static async create(values) {
    const key = await crypto.subtle.importKey('raw', values.key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    return new Context(key, values.baseNonce, values.exporterSecret);
  }

  /**
   * ComputeNonce (5.2): the base nonce XOR the sequence number, big-endian over Nn bytes.
   * @param {number} seq
   * @returns {Bytes}
   */
  computeNonce(seq) {
    if (!Number.isSafeInteger(seq) || seq < 0 || seq > MAX_SEQUENCE) {
      throw new Error(`hpke: message limit reached (sequence number ${seq} beyond ${MAX_SEQUENCE})`);
    }
    const seqBytes = i2osp(seq, N_N);
    const nonce = new Uint8Array(N_N);
    for (let i = 0; i < N_N; i++) nonce[i] = this.baseNonce[i] ^ seqBytes[i];
    return nonce;
  }

  /**
   * ContextS.Seal: encrypts at the current sequence number, then moves to the next.
   * @param {Uint8Array} aad
   * @param {Uint8Array} plaintext
   * @returns {Promise<Uint8Array>} The ciphertext with its 16-byte tag.
   */
  async seal(aad, plaintext) {
    const nonce = this.computeNonce(this.seq);
    const ct = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: bytesOf(aad, 'aad'), tagLength: N_T * 8 },
      this.key, bytesOf(plaintext, 'plaintext'));
    this.seq += 1;
    return new Uint8Array(ct);
  }

  /**
   * ContextR.Open: decrypts at the current sequence number; moves on only when it succeeds.
   * @param {Uint8Array} aad
   * @param {Uint8Array} ciphertext
   * @returns {Promise<Uint8Array>}
   */
  async open(aad, ciphertext) {
    const nonce = this.computeNonce(this.seq);
    const aadBytes = bytesOf(aad, 'aad');
    const ct = bytesOf(ciphertext, 'ciphertext');
    if (ct.length < N_T) throw new Error(`hpke: a ciphertext is at least ${N_T} bytes (the tag), got ${ct.length}`);
    let pt;
    try {
      pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: nonce, additionalData: aadBytes, tagLength: N_T * 8 }, this.key, ct);
    } catch {
      // One message for every cause: which input was wrong is not something to tell an attacker.
      throw new Error('hpke: the message could not be opened (wrong key, info or aad, or a modified ciphertext)');
    }
    this.seq += 1;
    return new Uint8Array(pt);
  }

  /**
   * Export (5.3): a secret of `length` bytes bound to this context and `exporterContext`.
   * @param {Uint8Array} exporterContext
   * @param {number} length At most 255 × 32 bytes.
   * @returns {Promise<Uint8Array>}
   */
  export(exporterContext, length) {
    return labeledExpand(HPKE_SUITE_ID, this.exporterSecret, 'sec', bytesOf(exporterContext, 'exporter context'), length);
  }
}

/**
 * Encap (4.1) with a fresh ephemeral key, or the given one for known-answer tests.
 * @param {CryptoKey} pkR
 * @param {CryptoKeyPair} [ephemeral]
 * @returns {Promise<{sharedSecret: Bytes, enc: Bytes}>}
 */
async function encap(pkR, ephemeral) {
  const pair = ephemeral || await generateKeyPair();
  checkKey(pair.privateKey, 'private', 'ephemeral private key');
  checkKey(pair.publicKey, 'public', 'ephemeral public key');
  const dh = await diffieHellman(pair.privateKey, pkR);
  const enc = await rawPublic(pair.publicKey);
  const kemContext = concat(enc, await rawPublic(pkR));
  return { sharedSecret: await extractAndExpand(dh, kemContext), enc };
}

/**
 * Decap (4.1).
 * @param {Bytes} enc
 * @param {CryptoKey} skR
 * @param {Bytes} pkRm The recipient's serialized public key.
 * @returns {Promise<Bytes>}
 */
async function decap(enc, skR, pkRm) {
  const pkE = await importPublicKey(enc);
  const dh = await diffieHellman(skR, pkE);
  return extractAndExpand(dh, concat(enc, pkRm));
}

/**
 * DH (7.1.4 for X25519): fails on the all-zero output of a low-order point, as the RFC requires
 * (WebCrypto refuses it too; the check here does not depend on that).
 * @param {CryptoKey} privateKey
 * @param {CryptoKey} publicKey
 * @returns {Promise<Bytes>}
 */
async function diffieHellman(privateKey, publicKey) {
  let bits;
  try {
    bits = new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: publicKey }, privateKey, 8 * N_SECRET));
  } catch {
    throw new Error('hpke: X25519 refused the public key (of low order or invalid)');
  }
  if (bits.every((b) => b === 0)) throw new Error('hpke: X25519 gave the all-zero value (a low-order public key)');
  return bits;
}

/**
 * ExtractAndExpand (4.1): the KEM's shared secret from the Diffie-Hellman value.
 * @param {Bytes} dh
 * @param {Bytes} kemContext enc ‖ pkRm.
 * @returns {Promise<Bytes>}
 */
async function extractAndExpand(dh, kemContext) {
  const eaePrk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), 'eae_prk', dh);
  return labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', kemContext, N_SECRET);
}

/**
 * KeySchedule (5.1) in base mode: no PSK, so `psk` and `psk_id` are empty.
 * @param {Bytes} sharedSecret
 * @param {Bytes} info
 * @returns {Promise<ScheduleValues>}
 */
async function keySchedule(sharedSecret, info) {
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(HPKE_SUITE_ID, empty, 'psk_id_hash', empty);
  const infoHash = await labeledExtract(HPKE_SUITE_ID, empty, 'info_hash', info);
  const keyScheduleContext = concat(Uint8Array.of(MODE_BASE), pskIdHash, infoHash);
  const secret = await labeledExtract(HPKE_SUITE_ID, sharedSecret, 'secret', empty);
  return {
    sharedSecret,
    keyScheduleContext,
    secret,
    key: await labeledExpand(HPKE_SUITE_ID, secret, 'key', keyScheduleContext, N_K),
    baseNonce: await labeledExpand(HPKE_SUITE_ID, secret, 'base_nonce', keyScheduleContext, N_N),
    exporterSecret: await labeledExpand(HPKE_SUITE_ID, secret, 'exp', keyScheduleContext, N_H),
  };
}

/**
 * LabeledExtract (4): HKDF-Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm).
 * @param {Bytes} suiteId
 * @param {Bytes} salt
 * @param {string} label
 * @param {Bytes} ikm
 * @returns {Promise<Bytes>}
 */
function labeledExtract(suiteId, salt, label, ikm) {
  return hkdfExtract(salt, concat(VERSION_LABEL, suiteId, encoder.encode(label), ikm));
}

/**
 * LabeledExpand (4): HKDF-Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L).
 * @param {Bytes} suiteId
 * @param {Bytes} prk
 * @param {string} label
 * @param {Bytes} info
 * @param {number} length
 * @returns {Promise<Bytes>}
 */
function labeledExpand(suiteId, prk, label, info, length) {
  if (!Number.isInteger(length) || length < 0 || length > 255 * N_H) throw new Error(`hpke: cannot expand to ${length} bytes (at most ${255 * N_H})`);
  return hkdfExpand(prk, concat(i2osp(length, 2), VERSION_LABEL, suiteId, encoder.encode(label), info), length);
}

/**
 * HKDF-Extract (RFC 5869 2.2) = HMAC-SHA256(salt, ikm). An empty salt is HashLen zero bytes,
 * which is the same HMAC key (HMAC pads keys with zeros) and one WebCrypto accepts: it refuses
 * to import an empty HMAC key.
 * @param {Bytes} salt
 * @param {Bytes} ikm
 * @returns {Promise<Bytes>}
 */
async function hkdfExtract(salt, ikm) {
  return hmac(salt.length ? salt : new Uint8Array(N_H), ikm);
}

/**
 * HKDF-Expand (RFC 5869 2.3): T(i) = HMAC(prk, T(i-1) ‖ info ‖ i), the first `length` bytes of T(1) ‖ T(2) ‖ ….
 * @param {Bytes} prk
 * @param {Bytes} info
 * @param {number} length
 * @returns {Promise<Bytes>}
 */
async function hkdfExpand(prk, info, length) {
  const key = await hmacKey(prk);
  const out = new Uint8Array(length);
  let block = new Uint8Array(0);
  for (let i = 1, filled = 0; filled < length; i++) {
    block = new Uint8Array(await crypto.subtle.sign('HMAC', key, concat(block, info, Uint8Array.of(i))));
    out.set(block.subarray(0, Math.min(N_H, length - filled)), filled);
    filled += N_H;
  }
  return out;
}

/**
 * @param {Bytes} keyBytes
 * @param {Bytes} data
 * @returns {Promise<Bytes>}
 */
async function hmac(keyBytes, data) {
  return new Uint8Array(await crypto.subtle.sign('HMAC', await hmacKey(keyBytes), data));
}

/**
 * @param {Bytes} keyBytes
 * @returns {Promise<CryptoKey>}
 */
function hmacKey(keyBytes) {
  return crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/**
 * The public key of a private X25519 key: X25519(sk, 9), which is how a public key is defined
 * (RFC 7748 6.1). WebCrypto has no other way for a non-extractable private key, and Decap needs
 * the recipient's public key in its KEM context.
 * @param {CryptoKey} privateKey
 * @returns {Promise<Bytes>}
 */
async function publicBytesOfPrivate(privateKey) {
  const base = await crypto.subtle.importKey('raw', BASE_POINT, { name: 'X25519' }, true, []);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'X25519', public: base }, privateKey, 8 * N_PK));
}

/**
 * @param {CryptoKey} publicKey
 * @returns {Promise<Bytes>}
 */
async function rawPublic(publicKey) {
  return new Uint8Array(await crypto.subtle.exportKey('raw', publicKey));
}

/**
 * Refuses what is not an X25519 key of the expected type, with a message that says which.
 * @param {unknown} key
 * @param {'public'|'private'} type
 * @param {string} what
 */
function checkKey(key, type, what) {
  if (!(key instanceof CryptoKey)) throw new Error(`hpke: the ${what} is not a CryptoKey`);
  if (key.algorithm.name !== 'X25519') throw new Error(`hpke: the ${what} is not X25519 but ${key.algorithm.name}`);
  if (key.type !== type) throw new Error(`hpke: the ${what} is a ${key.type} key, not a ${type} one`);
  if (type === 'private' && !key.usages.includes('deriveBits')) throw new Error(`hpke: the ${what} does not allow deriveBits`);
}

/**
 * A copy of the caller's bytes (so they cannot change under an operation in progress), or a
 * clear error for anything else.
 * @param {unknown} value
 * @param {string} what
 * @returns {Bytes}
 */
function bytesOf(value, what) {
  if (!(value instanceof Uint8Array)) throw new Error(`hpke: ${what} must be a Uint8Array`);
  return new Uint8Array(value);
}

/**
 * I2OSP: a non-negative integer as `length` big-endian bytes (up to 2^53).
 * @param {number} n
 * @param {number} length
 * @returns {Bytes}
 */
function i2osp(n, length) {
  const out = new Uint8Array(length);
  for (let i = length - 1, rest = n; i >= 0 && rest > 0; i--, rest = Math.floor(rest / 256)) out[i] = rest % 256;
  return out;
}

/**
 * The bytes of `parts` one after the other.
 * @param {...Uint8Array} parts
 * @returns {Bytes}
 */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * @param {string} hex
 * @returns {Bytes}
 */
function hexBytes(hex) {
  return new Uint8Array((hex.match(/../g) || []).map((h) => parseInt(h, 16)));
}
