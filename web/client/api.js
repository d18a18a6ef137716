// The REST API of the Bureau server, without any DOM: a thin fetch wrapper plus one
// function per endpoint. Every mutating request carries a JSON body and the
// `Content-Type: application/json` header, which the server requires (CSRF defence).

/**
 * @typedef {'admin'|'member'|'guest'} Role
 * @typedef {'invite'|'create_rooms'|'see_attendance'|'manage_privacy'|'manage_absences'} Right
 * @typedef {'entry'|'extended'} ProfileMode
 */

/**
 * @typedef {object} User
 * @property {string} id
 * @property {string} name
 * @property {string} email
 * @property {Role} role
 * @property {Right[]} rights
 * @property {boolean} active
 * @property {number} created_at
 * @property {import('./messages.js').NextBusy} [next_busy] Their next busy interval, when they share it.
 * @property {boolean} [has_picture] Whether `GET /api/users/{id}/picture` has an image.
 * @property {boolean} [unavailable] The stored record failed its integrity check: shown with a
 *   placeholder name until an administrator restores it from a backup.
 * @property {string} [title]
 * @property {string} [username]
 * @property {string} [deputy_id]
 * @property {string} [personnel_id]
 * @property {string} [company_role]
 * @property {string} [work_location]
 * @property {string} [qualification]
 * @property {string} [phone_extension]
 * @property {string} [phone_mobile]
 * @property {string} [device]
 * @property {number} [office_hours_weekly]
 * @property {number} [home_office_hours_weekly]
 * @property {boolean} [must_change_password] An administrator chose the password: the user chooses their own before anything else.
 */

/**
 * A partial update of a user; `null` clears an optional field.
 * @typedef {{[field: string]: string|number|boolean|string[]|null}} UserPatch
 */

/**
 * @typedef {object} Org
 * @property {string} id
 * @property {string} slug
 * @property {string} name
 * @property {ProfileMode} profile_mode
 * @property {boolean} [require_two_factor]
 * @property {'en'|'de'} [language] Language of the emails Bureau sends.
 * @property {string|null} [support_email] Where support requests go; null: every administrator.
 * @property {boolean} [messages_store_and_forward] Messages may wait on the server for colleagues who are offline.
 * @property {number} [messages_retention_days] Days a waiting message is kept at most.
 * @property {number} [messages_max_file_mb] The largest file that may wait on the server, uploaded encrypted (MiB).
 * @property {number|null} [sfu_threshold] People at which a room's media goes through the media server; null: the server's default.
 */

/**
 * @typedef {object} AccessEntry
 * @property {number} at Unix milliseconds.
 * @property {string} event
 * @property {string} ip
 * @property {string} browser
 * @property {string} browser_version
 */

/**
 * @typedef {object} NewUser
 * @property {string} name
 * @property {string} email
 * @property {Role} [role]
 * @property {Right[]} [rights]
 * @property {string} [password]
 * @property {boolean} [must_change_password] With a password: they choose their own at the first sign-in (default true).
 */

/** An error answered by the server (or a network failure, with code `network`). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 for a network failure.
   * @param {string} code Machine-readable code, e.g. `invalid_credentials`.
   * @param {string} message Human-readable message.
   * @param {string} [field] The request field the error is about.
   * @param {number} [retryAfter] Seconds to wait (from the Retry-After header), if given.
   */
  constructor(status, code, message, field, retryAfter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

/** @type {(() => void)|null} */
let sessionEnded = null;

/**
 * Registers what to do when the server says the session is gone (401 `unauthenticated`).
 * @param {(() => void)|null} handler
 */
export function onSessionEnded(handler) {
  sessionEnded = handler;
}

/**
 * Sends one request to the API and decodes its JSON answer.
 * @param {'GET'|'POST'|'PATCH'|'PUT'|'DELETE'} method
 * @param {string} path Absolute path starting with `/api/`.
 * @param {unknown} [body] JSON body; mutating requests send `{}` when none is given.
 * @param {Record<string, string>} [headers] Extra request headers (a device's proof).
 * @returns {Promise<any>} The decoded body, or `null` for 204 and empty answers.
 * @throws {ApiError}
 */
export async function request(method, path, body, headers = {}) {
  /** @type {Record<string, string>} */
  const all = { Accept: 'application/json', ...headers };
  /** @type {RequestInit} */
  const init = { method, credentials: 'same-origin', headers: all };
  if (method !== 'GET') {
    all['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  const response = await reach(path, init);
  const text = response.status === 204 ? '' : await response.text();
  const data = parsed(text);
  if (!response.ok) throw failure(response, data);
  return data;
}

/**
 * Sends a request; a network failure is an ApiError.
 * @param {string} path
 * @param {RequestInit} init
 * @returns {Promise<Response>}
 */
async function reach(path, init) {
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
}

/**
 * @param {string} text
 * @returns {any} The JSON it holds, or null.
 */
function parsed(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * The error of a response that is not OK, from its JSON body (`code`, `message`, `field`) and
 * `Retry-After`; a 401 ends the session.
 * @param {Response} response
 * @param {any} data
 * @returns {ApiError}
 */
function failure(response, data) {
  const code = data && typeof data.code === 'string' ? data.code : 'http_' + response.status;
  const message = data && typeof data.message === 'string' ? data.message : response.statusText || 'Request failed';
  const field = data && typeof data.field === 'string' ? data.field : undefined;
  const retry = Number(response.headers.get('Retry-After'));
  if (response.status === 401 && code === 'unauthenticated' && sessionEnded) sessionEnded();
  return new ApiError(response.status, code, message, field, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

/**
 * @param {string} token
 * @returns {Promise<boolean>} Whether the setup token can still be used.
 */
export async function checkSetupToken(token) {
  const answer = await request('POST', '/api/setup/check', { token });
  return Boolean(answer && answer.valid);
}

/**
 * Creates the first administrator and signs them in.
 * @param {{token: string, name: string, email: string, password: string}} form
 * @returns {Promise<User>}
 */
export async function setup(form) {
  const answer = await request('POST', '/api/setup', form);
  return answer.user;
}

/**
 * @param {string} email
 * @param {string} password
 * @returns {Promise<User>}
 */
export async function login(email, password) {
  const answer = await request('POST', '/api/auth/login', { email, password });
  return answer.user;
}

/** @returns {Promise<void>} */
export async function logout() {
  await request('POST', '/api/auth/logout', {});
}

/** @returns {Promise<User>} */
export function me() {
  return request('GET', '/api/me');
}

/**
 * @param {UserPatch} patch
 * @returns {Promise<User>}
 */
export function updateMe(patch) {
  return request('PATCH', '/api/me', patch);
}

/** @returns {Promise<Org>} */
export function org() {
  return request('GET', '/api/org');
}

/**
 * @param {{name?: string, profile_mode?: ProfileMode, require_two_factor?: boolean, language?: 'en'|'de', support_email?: string|null, messages_store_and_forward?: boolean, messages_retention_days?: number, messages_max_file_mb?: number, sfu_threshold?: number|null}} patch
 * @returns {Promise<Org>}
 */
export function updateOrg(patch) {
  return request('PATCH', '/api/org', patch);
}

/**
 * Searches the directory.
 * @param {string} [query]
 * @returns {Promise<User[]>}
 */
export async function users(query) {
  const q = (query || '').trim();
  const answer = await request('GET', q ? '/api/users?q=' + encodeURIComponent(q) : '/api/users');
  return answer && Array.isArray(answer.users) ? answer.users : [];
}

/**
 * Changes the signed-in user's password; their other sessions end.
 * @param {string} current
 * @param {string} password
 * @returns {Promise<void>}
 */
export async function changePassword(current, password) {
  await request('POST', '/api/me/password', { current_password: current, password });
}

/**
 * Sets a member's password (administrators): they choose their own at the next sign-in.
 * @param {string} id
 * @param {string} password
 * @returns {Promise<void>}
 */
export async function setPassword(id, password) {
  await request('PUT', '/api/users/' + encodeURIComponent(id) + '/password', { password });
}

/**
 * The organisation's guests (administrators): never in the directory itself.
 * @returns {Promise<User[]>}
 */
export async function guests() {
  const answer = await request('GET', '/api/users?guests=true');
  return answer && Array.isArray(answer.users) ? answer.users : [];
}

/**
 * @param {string} id
 * @returns {Promise<User>}
 */
export function user(id) {
  return request('GET', '/api/users/' + encodeURIComponent(id));
}

/**
 * @param {NewUser} form
 * @returns {Promise<User>}
 */
export function createUser(form) {
  return request('POST', '/api/users', form);
}

/**
 * @param {string} id
 * @param {UserPatch} patch
 * @returns {Promise<User>}
 */
export function updateUser(id, patch) {
  return request('PATCH', '/api/users/' + encodeURIComponent(id), patch);
}

/** @returns {Promise<AccessEntry[]>} */
export async function accessLog() {
  const answer = await request('GET', '/api/me/access-log');
  return answer && Array.isArray(answer.entries) ? answer.entries : [];
}

/**
 * @typedef {object} Room
 * @property {string} id
 * @property {string} name
 * @property {'meeting'|'reception'|'office'} kind
 * @property {number|null} capacity At most this many people; null: only the mesh cap limits it.
 * @property {boolean} large Its media always goes through the media server (never for offices).
 * @property {string|null} owner_user_id
 */

/**
 * @typedef {object} CallLog
 * @property {string} call_id
 * @property {string|null} room_id
 * @property {number} started_at Unix milliseconds.
 * @property {number} duration_ms
 * @property {string[]} participants User ids.
 */

/** @returns {Promise<Room[]>} */
export async function rooms() {
  const answer = await request('GET', '/api/rooms');
  return answer && Array.isArray(answer.rooms) ? answer.rooms : [];
}

/**
 * @param {{name: string, kind: 'meeting'|'reception', capacity?: number, large?: boolean}} form
 * @returns {Promise<Room>}
 */
export function createRoom(form) {
  return request('POST', '/api/rooms', form);
}

/**
 * @param {string} id
 * @param {{name?: string, capacity?: number|null, large?: boolean, kind?: 'meeting'|'reception'}} patch `capacity: null` removes the limit.
 * @returns {Promise<Room>}
 */
export function updateRoom(id, patch) {
  return request('PATCH', '/api/rooms/' + encodeURIComponent(id), patch);
}

/**
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function deleteRoom(id) {
  await request('DELETE', '/api/rooms/' + encodeURIComponent(id));
}

/**
 * Erases a user (administrators): the account and its personal data are deleted; colleagues'
 * call and transfer logs keep an anonymous entry. Erasing someone already erased succeeds.
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function eraseUser(id) {
  await request('DELETE', '/api/users/' + encodeURIComponent(id));
}

/** @returns {Promise<CallLog[]>} The signed-in user's call history. */
export async function myCalls() {
  const answer = await request('GET', '/api/me/calls');
  return answer && Array.isArray(answer.calls) ? answer.calls : [];
}

/**
 * Logs the metadata of a sent message or file (never its contents).
 * @param {string} toUser
 * @param {'message'|'file'} kind
 * @param {number} size Bytes.
 * @returns {Promise<void>}
 */
export async function reportTransfer(toUser, kind, size) {
  await request('POST', '/api/me/transfers', { to_user: toUser, kind, size });
}

/**
 * What kind of absence it is; only the user and absence managers see it (a sick leave is health data).
 * @typedef {'vacation'|'sick'|'business_trip'|'training'|'other'} AbsenceKind
 */

/**
 * An absence. Times are Unix milliseconds; `ends_at` is exclusive (the start of the day after the
 * last day).
 * @typedef {object} Absence
 * @property {string} id
 * @property {string} user_id
 * @property {string} name The absent user's display name.
 * @property {number} starts_at
 * @property {number} ends_at
 * @property {string|null} deputy_id Who stands in: knocks on the user's office ring them.
 * @property {string|null} deputy_name
 * @property {AbsenceKind} [kind] Only on one's own absences (on all for absence managers).
 * @property {string} [note] Likewise.
 */

/**
 * An absence to enter (extended profile only).
 * @typedef {object} NewAbsence
 * @property {string} [user_id] A colleague's absence: administrators and `manage_absences` only.
 * @property {AbsenceKind} kind
 * @property {number} starts_at
 * @property {number} ends_at Exclusive.
 * @property {string} [deputy_id] Another active member.
 * @property {string} [note] Up to 200 characters.
 */

/**
 * Whether a user may enter and remove colleagues' absences.
 * @param {User} user
 * @returns {boolean}
 */
export function canManageAbsences(user) {
  return user.role === 'admin' || (user.rights || []).includes('manage_absences');
}

/** @returns {Promise<Absence[]>} The signed-in user's absences that are not over yet, earliest first. */
export async function myAbsences() {
  const answer = await request('GET', '/api/me/absences');
  return answer && Array.isArray(answer.absences) ? answer.absences : [];
}

/**
 * Everyone's absences overlapping a span (the team view).
 * @param {number} from Unix milliseconds.
 * @param {number} to Unix milliseconds, exclusive; at most 62 days after `from`.
 * @returns {Promise<Absence[]>}
 */
export async function teamAbsences(from, to) {
  const answer = await request('GET', `/api/absences?from=${Math.floor(from)}&to=${Math.floor(to)}`);
  return answer && Array.isArray(answer.absences) ? answer.absences : [];
}

/**
 * @param {NewAbsence} body
 * @returns {Promise<Absence>}
 */
export function addAbsence(body) {
  return request('POST', '/api/absences', body);
}

/**
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function removeAbsence(id) {
  await request('DELETE', '/api/absences/' + encodeURIComponent(id));
}

/**
 * One interval of presence in the live office, Unix milliseconds, the end exclusive.
 * @typedef {object} Interval
 * @property {number} from
 * @property {number} to
 */

/**
 * A user's attendance on one UTC day.
 * @typedef {object} AttendanceDay
 * @property {string} date The UTC day, `YYYY-MM-DD`.
 * @property {number} first_seen When the user was first present that day, Unix milliseconds.
 * @property {Interval[]} intervals Earliest first; an interval over UTC midnight is split there.
 * @property {number} present_minutes
 */

/**
 * The minutes present in one week (weeks from Monday, UTC).
 * @typedef {object} AttendanceWeekTotal
 * @property {string} week_of The Monday, `YYYY-MM-DD`.
 * @property {number} present_minutes
 */

/**
 * A user's attendance over a span (`GET /api/attendance`).
 * @typedef {object} AttendanceReport
 * @property {string} user_id
 * @property {string} name
 * @property {number|null} contracted_weekly_hours Office and home office hours together, when set.
 * @property {AttendanceDay[]} days The UTC days with attendance, earliest first.
 * @property {AttendanceWeekTotal[]} weeks
 */

/**
 * Whether a user may see colleagues' attendance and download everyone's as CSV.
 * @param {User} user
 * @returns {boolean}
 */
export function canSeeAttendance(user) {
  return user.role === 'admin' || (user.rights || []).includes('see_attendance');
}

/**
 * Attendance times over a span (extended profile only): one's own, or a colleague's for
 * administrators and `see_attendance` (the server writes that view to the audit log).
 * @param {number} from Unix milliseconds.
 * @param {number} to Unix milliseconds, exclusive; at most 62 days after `from`.
 * @param {string} [userId] A colleague; default: the signed-in user.
 * @returns {Promise<AttendanceReport>}
 */
export function attendance(from, to, userId) {
  const who = userId ? '&user_id=' + encodeURIComponent(userId) : '';
  return request('GET', `/api/attendance?from=${Math.floor(from)}&to=${Math.floor(to)}${who}`);
}

/**
 * The same-origin address of everyone's attendance over a span as CSV (administrators and
 * `see_attendance`; audited), for a download link: the session cookie goes with it.
 * @param {number} from Unix milliseconds.
 * @param {number} to Unix milliseconds, exclusive.
 * @returns {string}
 */
export function attendanceCsvUrl(from, to) {
  return `/api/attendance/export?from=${Math.floor(from)}&to=${Math.floor(to)}`;
}

/**
 * @typedef {object} CalendarFeedStatus
 * @property {boolean} active Whether a feed address exists (it is never shown again).
 */

/** @returns {Promise<CalendarFeedStatus>} Whether the signed-in user has a calendar feed of their absences. */
export function calendarFeedStatus() {
  return request('GET', '/api/me/calendar-feed');
}

/**
 * A new secret address of the signed-in user's calendar feed, shown this once; the previous
 * address stops working.
 * @returns {Promise<{path: string}>} `path`: `/api/calendar/<secret>.ics`, to put after the origin.
 */
export function renewCalendarFeed() {
  return request('POST', '/api/me/calendar-feed', {});
}

/** @returns {Promise<void>} Turns the calendar feed off: its address stops working. */
export async function removeCalendarFeed() {
  await request('DELETE', '/api/me/calendar-feed');
}

/**
 * How Bureau reads a user's own calendar: a CalDAV account (asked for free/busy time only) or an
 * ICS subscription address (`https://` or `webcal://`, only the times kept).
 * @typedef {'caldav'|'ics'} CalendarKind
 */

/**
 * The connected calendar as its owner sees it: by host, never the address or the password.
 * @typedef {object} CalendarSource
 * @property {CalendarKind} kind
 * @property {string} host
 * @property {string|null} username
 */

/**
 * A busy interval of the signed-in user. Times are Unix milliseconds, the end exclusive.
 * @typedef {object} CalendarEntry
 * @property {string} id
 * @property {number} starts_at
 * @property {number} ends_at
 * @property {string|null} title Typed by hand; imported entries never have one.
 * @property {boolean} imported Read from the connected calendar: replaced at each reading and
 *   not removable by hand.
 */

/**
 * The signed-in user's calendar (extended profile only).
 * @typedef {object} CalendarView
 * @property {CalendarSource|null} source
 * @property {boolean} share_next_busy Colleagues see the next busy interval.
 * @property {boolean} ring_in_meetings Knocks ring during a meeting (otherwise the caller hears busy).
 * @property {number|null} synced_at When the calendar was last read, Unix milliseconds.
 * @property {string|null} sync_error Why the last reading failed (the times read before stay).
 * @property {CalendarEntry[]} entries Not yet over, earliest first.
 */

/**
 * A calendar to connect. The server reads it at once and refuses it (422 at `url`) with the reason
 * if that fails.
 * @typedef {object} ConnectCalendar
 * @property {CalendarKind} kind
 * @property {string} url
 * @property {string} [username]
 * @property {string} [password] Stored encrypted, never shown again.
 */

/**
 * A busy interval to add by hand: at most 7 days, not over yet, within the next year.
 * @typedef {object} NewCalendarEntry
 * @property {number} starts_at
 * @property {number} ends_at Exclusive.
 * @property {string} [title] Up to 100 characters, one line; colleagues see it.
 */

/** @returns {Promise<CalendarView>} The signed-in user's calendar: connection, settings, busy times to come. */
export function myCalendar() {
  return request('GET', '/api/me/calendar');
}

/**
 * Connects the signed-in user's calendar, replacing any before.
 * @param {ConnectCalendar} body
 * @returns {Promise<CalendarView>}
 */
export function connectCalendar(body) {
  return request('PUT', '/api/me/calendar/source', body);
}

/** @returns {Promise<void>} Disconnects the calendar; the busy times read from it go too. */
export async function disconnectCalendar() {
  await request('DELETE', '/api/me/calendar/source');
}

/** @returns {Promise<CalendarView>} Reads the connected calendar now; a failure is in `sync_error`. */
export function syncCalendar() {
  return request('POST', '/api/me/calendar/sync', {});
}

/**
 * @param {{share_next_busy?: boolean, ring_in_meetings?: boolean}} patch
 * @returns {Promise<CalendarView>}
 */
export function updateCalendarSettings(patch) {
  return request('PATCH', '/api/me/calendar', patch);
}

/**
 * @param {NewCalendarEntry} body
 * @returns {Promise<CalendarEntry>}
 */
export function addCalendarEntry(body) {
  return request('POST', '/api/me/calendar/entries', body);
}

/**
 * Removes one of the signed-in user's entries made by hand.
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function removeCalendarEntry(id) {
  await request('DELETE', '/api/me/calendar/entries/' + encodeURIComponent(id));
}

/**
 * A device of a user, as the server keeps it (docs/messaging.md, "Device keys"): public keys in
 * base64url, never checked by the server's word alone — `web/client/secure-messages.js` checks
 * the self-signature itself.
 * @typedef {object} DeviceRecord
 * @property {string} id
 * @property {string} user_id
 * @property {string} name
 * @property {string} hpke_public 32 bytes, base64url.
 * @property {string} sign_public 32 bytes, base64url.
 * @property {string} self_signature 64 bytes, base64url.
 * @property {number} created_at
 */

/**
 * @typedef {object} NewDevice
 * @property {string} name
 * @property {string} hpke_public
 * @property {string} sign_public
 * @property {string} self_signature
 */

/**
 * What `POST /api/messages` takes: the header bytes the sender device signed, its signature,
 * the ciphertext body and one sealed key per recipient device (all base64url).
 * @typedef {object} OutgoingMessage
 * @property {string} header
 * @property {string} signature
 * @property {string} body
 * @property {Record<string, string>} keys
 */

/**
 * One envelope waiting for a device.
 * @typedef {object} InboxEntry
 * @property {string} id
 * @property {string} header
 * @property {string} signature
 * @property {string} body
 * @property {string} key
 * @property {number} queued_at
 */

/**
 * Registers this browser's device keys for the signed-in user (409 when already registered).
 * @param {NewDevice} device
 * @returns {Promise<DeviceRecord>}
 */
export function registerDevice(device) {
  return request('POST', '/api/me/devices', device);
}

/** @returns {Promise<DeviceRecord[]>} The signed-in user's devices. */
export async function myDevices() {
  const answer = await request('GET', '/api/me/devices');
  return answer.devices;
}

/**
 * Removes one of the signed-in user's devices: nothing is encrypted to it any more.
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function removeDevice(id) {
  await request('DELETE', '/api/me/devices/' + encodeURIComponent(id));
}

/**
 * @param {string} userId
 * @returns {Promise<DeviceRecord[]>} A user's devices (as the server says: check them).
 */
export async function userDevices(userId) {
  const answer = await request('GET', '/api/users/' + encodeURIComponent(userId) + '/devices');
  return answer.devices;
}

/**
 * Queues an end-to-end encrypted message for its recipient devices.
 * @param {OutgoingMessage} message
 * @returns {Promise<{id: string, devices: number}>}
 */
export function sendMessage(message) {
  return request('POST', '/api/messages', message);
}

/**
 * The oldest entries (up to 100) waiting for one of the user's devices.
 * @param {string} deviceId
 * @param {(method: string, path: string) => Promise<string>} prove Makes the `Bureau-Device`
 *   header value for the request (the device's signature).
 * @returns {Promise<InboxEntry[]>}
 */
export async function deviceInbox(deviceId, prove) {
  const path = '/api/me/devices/' + encodeURIComponent(deviceId) + '/inbox';
  const answer = await request('GET', path, undefined, { 'Bureau-Device': await prove('GET', path) });
  return answer.entries;
}

/**
 * Acknowledges (deletes from the server) entries of a device's inbox.
 * @param {string} deviceId
 * @param {(method: string, path: string) => Promise<string>} prove
 * @param {string[]} ids
 * @returns {Promise<number>} How many were removed.
 */
export async function acknowledgeInbox(deviceId, prove, ids) {
  const path = '/api/me/devices/' + encodeURIComponent(deviceId) + '/inbox/ack';
  const answer = await request('POST', path, { ids }, { 'Bureau-Device': await prove('POST', path) });
  return answer.removed;
}

/**
 * Uploads an end-to-end encrypted file (the ciphertext this browser made; the key travels only
 * inside messages). Kept until the organisation's retention for messages ends.
 * @param {Uint8Array<ArrayBuffer>} ciphertext
 * @returns {Promise<{id: string, size: number, expires_at: number}>}
 */
export async function uploadMessageFile(ciphertext) {
  const response = await reach('/api/message-files', { method: 'POST', credentials: 'same-origin',
    headers: { Accept: 'application/json', 'Content-Type': 'application/octet-stream' }, body: ciphertext });
  const data = parsed(await response.text());
  if (!response.ok) throw failure(response, data);
  return data;
}

/**
 * The ciphertext of an uploaded file.
 * @param {string} id
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
export async function downloadMessageFile(id) {
  const response = await reach('/api/message-files/' + encodeURIComponent(id), { method: 'GET', credentials: 'same-origin', headers: { Accept: 'application/octet-stream' } });
  if (!response.ok) throw failure(response, parsed(await response.text()));
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Deletes one of the user's uploads (its message was deleted).
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function deleteMessageFile(id) {
  await request('DELETE', '/api/message-files/' + encodeURIComponent(id));
}

/**
 * A group conversation (docs/messaging.md, "Groups").
 * @typedef {object} Conversation
 * @property {string} id
 * @property {string} name
 * @property {number} epoch Grows with every change of membership.
 * @property {string|null} [created_by]
 * @property {string[]} members User ids.
 * @property {number} created_at
 * @property {string} [room_id] The meeting room whose chat it is (none for a team channel).
 */

/** @returns {Promise<Conversation[]>} The signed-in user's group conversations. */
export async function conversations() {
  return (await request('GET', '/api/conversations')).conversations;
}

/**
 * @param {string} id
 * @returns {Promise<Conversation>} With its current epoch and members.
 */
export function conversation(id) {
  return request('GET', '/api/conversations/' + encodeURIComponent(id));
}

/**
 * The chat of a meeting room, made or joined by opening it.
 * @param {string} roomId
 * @returns {Promise<Conversation>}
 */
export function roomConversation(roomId) {
  return request('POST', '/api/rooms/' + encodeURIComponent(roomId) + '/conversation');
}

/**
 * @param {{name: string, members: string[]}} conversation
 * @returns {Promise<Conversation>}
 */
export function createConversation(conversation) {
  return request('POST', '/api/conversations', conversation);
}

/**
 * @param {string} id
 * @param {string} userId
 * @returns {Promise<Conversation>}
 */
export function addConversationMember(id, userId) {
  return request('POST', '/api/conversations/' + encodeURIComponent(id) + '/members', { user_id: userId });
}

/**
 * Removes a member (or leaves, for oneself): a new epoch begins.
 * @param {string} id
 * @param {string} userId
 * @returns {Promise<Conversation>}
 */
export function removeConversationMember(id, userId) {
  return request('DELETE', '/api/conversations/' + encodeURIComponent(id) + '/members/' + encodeURIComponent(userId), {});
}

/** @type {Record<string, string>} */
const MESSAGES = {
  network: 'The server cannot be reached. Check your connection and try again.',
  unauthenticated: 'Your session has ended. Please sign in again.',
  invalid_credentials: 'The email address or password is not correct.',
  forbidden: 'You are not allowed to do this.',
  not_found: 'This no longer exists.',
  conflict: 'This email address is already in use.',
  invalid_token: 'This link is no longer valid.',
  invalid_code: 'The code is not correct.',
  sms_unavailable: 'The text message could not be sent. Try again later or use another method.',
  payload_too_large: 'That is too much data for one request.',
  unsupported_media_type: 'The request was refused by the server (unsupported format).',
  bad_request: 'The request was refused by the server.',
  internal: 'Something went wrong on the server. Please try again later.',
};

/**
 * A sentence for the user describing an error.
 * @param {unknown} err
 * @returns {string}
 */
export function describeError(err) {
  if (err instanceof ApiError) {
    if (err.code === 'rate_limited') return tooManyAttempts(err.retryAfter);
    // Validation messages are about the input and meant to be shown as they are.
    if ((err.code === 'invalid' || err.code === 'field_disabled') && err.message) return sentence(err.message, err.field);
    if (MESSAGES[err.code]) return MESSAGES[err.code];
    if (err.status >= 500) return MESSAGES.internal;
    return err.message || 'The request failed.';
  }
  return 'Something went wrong in the app. Please reload the page.';
}

/**
 * @param {number} [seconds]
 * @returns {string}
 */
function tooManyAttempts(seconds) {
  if (!seconds) return 'Too many attempts. Please wait a moment before trying again.';
  if (seconds < 90) return `Too many attempts. Please try again in ${seconds} second${seconds === 1 ? '' : 's'}.`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 90) return `Too many attempts. Please try again in ${minutes} minutes.`;
  const at = new Date(Date.now() + seconds * 1000);
  return `Too many attempts. Please try again after ${at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}.`;
}

/**
 * A server message as a sentence: without a leading "field: " (the message is shown next to the
 * field already), capitalised, with a full stop.
 * @param {string} message
 * @param {string} [field]
 * @returns {string}
 */
function sentence(message, field) {
  let text = message.trim();
  if (field && text.startsWith(field + ':')) text = text.slice(field.length + 1).trim();
  if (!text) return 'This value is not accepted.';
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(text) ? text : text + '.';
}
