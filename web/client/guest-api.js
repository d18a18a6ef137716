// The REST API of guest links, without any DOM: members create, list and revoke guest links for
// meeting rooms and the reception; a guest checks a link and joins with a name. Built on
// `request()` of api.js (docs/api.md).

import { request, ApiError, describeError } from '/client/api.js';

/**
 * A guest link as created: the token is in `url` (its fragment) and shown only this once.
 * @typedef {object} NewGuestLink
 * @property {string} id
 * @property {string} room_id
 * @property {string} url `{public_url}/guest#token=…`
 * @property {boolean} direct Guests enter without waiting in the lobby.
 * @property {number} created_at Unix milliseconds.
 * @property {number} expires_at Unix milliseconds.
 * @property {number} max_guests How many guests may join through it in all.
 */

/**
 * A guest link as listed (no token).
 * @typedef {object} GuestLink
 * @property {string} id
 * @property {string} room_id
 * @property {boolean} direct
 * @property {number} created_at
 * @property {number} expires_at
 * @property {boolean} revoked
 * @property {number} max_guests How many guests may join through it in all.
 */

/**
 * What a valid guest link leads to.
 * @typedef {object} GuestLinkInfo
 * @property {string} org_name
 * @property {string} org_slug
 * @property {string} room_name
 * @property {boolean} direct
 */

/**
 * Creates a guest link for a meeting room or the reception.
 * @param {string} roomId
 * @param {{expires_in_hours?: number, direct?: boolean, max_guests?: number}} options Hours
 *   1..720 (default 24); guests 1..500 (default 20).
 * @returns {Promise<NewGuestLink>}
 */
export function createLink(roomId, options) {
  return request('POST', `/api/rooms/${encodeURIComponent(roomId)}/guest-links`, options);
}

/**
 * @param {string} roomId
 * @returns {Promise<GuestLink[]>} Newest first, as the server sends them.
 */
export async function links(roomId) {
  const answer = await request('GET', `/api/rooms/${encodeURIComponent(roomId)}/guest-links`);
  return answer && Array.isArray(answer.links) ? answer.links : [];
}

/**
 * Revokes a guest link: nobody can join with it any more.
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function revokeLink(id) {
  await request('DELETE', `/api/guest-links/${encodeURIComponent(id)}`, {});
}

/**
 * Checks a guest link; 410 `invalid_token` when it expired, was revoked or never existed.
 * @param {string} token
 * @returns {Promise<GuestLinkInfo>}
 */
export function check(token) {
  return request('POST', '/api/guest/check', { token });
}

/**
 * Joins as a guest: the server answers with the guest's user and sets a session cookie.
 * @param {{token: string, name: string, email?: string}} form
 * @returns {Promise<{user: import('/client/api.js').User, room_id: string}>}
 */
export function join(form) {
  return request('POST', '/api/guest/join', form);
}

/**
 * Whether an error means the guest link no longer works (expired, revoked, unknown).
 * @param {unknown} err
 * @returns {boolean}
 */
export function isDeadLink(err) {
  return err instanceof ApiError && (err.status === 410 || err.status === 404 || err.code === 'invalid_token');
}

/**
 * `describeError` of api.js, plus the codes of guest links.
 * @param {unknown} err
 * @returns {string}
 */
export function describe(err) {
  if (isDeadLink(err)) return 'This guest link no longer works: it has expired or was revoked.';
  return describeError(err);
}
