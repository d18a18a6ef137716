// Profile pictures without DOM: what this tab knows about who has a picture (and which version),
// the checks the server makes on an upload, and the calls that set and remove the own one.
// ui/avatar.js draws them.

import { request } from '/client/api.js';

/** The largest picture the server accepts, in bytes (`MAX_PICTURE_BYTES`, 256 KiB). */
export const MAX_PICTURE_BYTES = 256 * 1024;

/** The image types the server accepts (it checks the file's bytes, not its name). */
export const PICTURE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

/** @type {Map<string, boolean>} Who has a picture, from the user records this tab has seen. */
const known = new Map();

/** @type {Map<string, string>} Pictures changed since the page loaded: a tag in the address, so no old copy is shown. */
const revisions = new Map();

/** Pictures changed in this tab. */
let localChanges = 0;

/**
 * Records who has a picture (from user records of the API).
 * @param {{id: string, has_picture?: boolean}[]} users
 */
export function notePictures(users) {
  for (const user of users) known.set(user.id, Boolean(user.has_picture));
}

/**
 * Records that a user's picture was just set or removed in this tab.
 * @param {string} userId
 * @param {boolean} present
 */
export function pictureChanged(userId, present) {
  known.set(userId, present);
  localChanges += 1;
  revisions.set(userId, 't' + localChanges);
}

/**
 * Records a user's picture as the live office's presence tells it (a colleague may have set,
 * replaced or removed it in another tab).
 * @param {import('/client/messages.js').UserPresence} presence
 */
export function notePresencePicture(presence) {
  known.set(presence.user_id, Boolean(presence.has_picture));
  if (presence.picture_version) revisions.set(presence.user_id, 'v' + presence.picture_version);
}

/**
 * Records whether a user has a picture, as a record the caller holds says.
 * @param {string} userId
 * @param {boolean} present
 */
export function notePicture(userId, present) {
  known.set(userId, present);
}

/**
 * @param {string} userId
 * @returns {boolean} Whether the user is known to have a picture.
 */
export function hasPicture(userId) {
  return known.get(userId) === true;
}

/**
 * @param {string} userId
 * @returns {string} The address of the user's picture.
 */
export function pictureUrl(userId) {
  const revision = revisions.get(userId);
  return '/api/users/' + encodeURIComponent(userId) + '/picture' + (revision ? '?v=' + revision : '');
}

/**
 * The image type named by a file's first bytes (as the server checks it), or null.
 * @param {Uint8Array} bytes
 * @returns {string|null}
 */
export function sniffImageType(bytes) {
  /** @param {number[]} sig @param {number} [at] */
  const starts = (sig, at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (bytes.length > 12 && starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return null;
}

/**
 * Checks a chosen file the way the server will: a PNG, JPEG or WebP image of at most 256 KiB.
 * @param {File} file
 * @returns {Promise<string|null>} A sentence for the user if the file cannot be used, else null.
 */
export async function checkPictureFile(file) {
  const typeMessage = `“${file.name}” is not a PNG, JPEG or WebP image. Choose a picture in one of these formats.`;
  if (file.type && !PICTURE_TYPES.includes(file.type)) return typeMessage;
  if (file.size === 0) return `“${file.name}” is empty. Choose another picture.`;
  if (file.size > MAX_PICTURE_BYTES) {
    return `“${file.name}” is ${formatKiB(file.size)}; a picture can be at most ${formatKiB(MAX_PICTURE_BYTES)}. Choose a smaller picture or reduce its size.`;
  }
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  return sniffImageType(head) ? null : typeMessage;
}

/**
 * @param {number} bytes
 * @returns {string} E.g. "256 KiB".
 */
function formatKiB(bytes) {
  const kib = bytes / 1024;
  return (kib < 10 ? kib.toFixed(1).replace(/\.0$/, '') : String(Math.ceil(kib))) + ' KiB';
}

/**
 * Reads a file as a `data:` URL.
 * @param {File} file
 * @returns {Promise<string>}
 */
export function readDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener('load', () => resolve(String(reader.result)));
    reader.addEventListener('error', () => reject(reader.error || new Error('The file could not be read.')));
    reader.readAsDataURL(file);
  });
}

/**
 * Sets the signed-in user's picture.
 * @param {string} dataUrl `data:image/png;base64,...`
 * @returns {Promise<void>}
 */
export async function setMyPicture(dataUrl) {
  await request('PUT', '/api/me/picture', { data_url: dataUrl });
}

/**
 * Removes the signed-in user's picture.
 * @returns {Promise<void>}
 */
export async function removeMyPicture() {
  await request('DELETE', '/api/me/picture');
}
