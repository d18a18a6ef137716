// The REST API of the privacy centre, without any DOM: the export, restriction and objections,
// erasure of one's account, privacy requests and their queue, the audit log, and the
// organisation's legal texts. Built on `request()` of api.js.

import { request, ApiError, describeError } from '/client/api.js';

/** @typedef {'extended_profile'|'call_logs'|'attendance'} Objection */
/** @typedef {'access'|'rectification'|'erasure'|'restriction'|'objection'|'withdrawal'|'other'} RequestKind */

/**
 * @typedef {object} PrivacySettings
 * @property {boolean} restricted Processing restricted (art. 18): hidden, out of the live office.
 * @property {Objection[]} objections
 */

/**
 * @typedef {object} PrivacyRequest
 * @property {string} id
 * @property {string|null} user_id Who asked (null once the account is gone).
 * @property {RequestKind} kind
 * @property {'open'|'done'|'rejected'} status
 * @property {string} message
 * @property {string|null} response The answer, once closed.
 * @property {number} created_at Unix milliseconds.
 * @property {number} due_at The one-month deadline, Unix milliseconds.
 * @property {boolean} overdue
 * @property {string|null} handled_by
 * @property {number|null} handled_at
 */

/**
 * @typedef {object} AuditEntry
 * @property {string} actor_id
 * @property {string} action e.g. `view_user`, `list_users`, `update_user`, `erase_user`.
 * @property {string|null} target_id Whose data, if one person's.
 * @property {number} at Unix milliseconds.
 */

/**
 * @typedef {object} LegalText
 * @property {string|null} markdown The organisation's text; null: Bureau's default text.
 * @property {number} version 0 while never edited; each change adds one.
 * @property {number|null} updated_at Unix milliseconds.
 */

/**
 * @typedef {object} LegalTexts
 * @property {string} org_name
 * @property {LegalText} privacy
 * @property {LegalText} terms
 * @property {LegalText} [consent] The consent text shown before camera and microphone are used.
 */

/** The address of the export: a download (`Content-Disposition: attachment`). */
export const EXPORT_URL = '/api/me/export';

/**
 * The complete export of the signed-in user's data, as text (JSON), to save as a file.
 * @returns {Promise<Blob>}
 */
export async function exportBlob() {
  let response;
  try {
    response = await fetch(EXPORT_URL, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  if (!response.ok) {
    /** @type {any} */
    const body = await response.json().catch(() => null);
    throw new ApiError(response.status, body && body.code ? body.code : 'http_' + response.status, body && body.message ? body.message : 'The export failed.');
  }
  return new Blob([await response.text()], { type: 'application/json' });
}

/** @returns {Promise<PrivacySettings>} */
export function settings() {
  return request('GET', '/api/me/privacy');
}

/**
 * @param {{restricted?: boolean, objections?: Objection[]}} patch `objections` is the complete list.
 * @returns {Promise<PrivacySettings>}
 */
export function updateSettings(patch) {
  return request('PATCH', '/api/me/privacy', patch);
}

/**
 * Erases the signed-in user's account; 422 with `field: password` when the password is wrong.
 * @param {string} password
 * @param {string} [secondFactor] A six-digit authenticator code or a recovery code, when
 *   two-factor sign-in is on (422 with `field: code` when it is missing or wrong).
 * @returns {Promise<void>}
 */
export async function eraseMe(password, secondFactor = '') {
  /** @type {{password: string, code?: string, recovery_code?: string}} */
  const body = { password };
  if (/^\d{6}$/.test(secondFactor)) body.code = secondFactor;
  else if (secondFactor) body.recovery_code = secondFactor;
  await request('DELETE', '/api/me', body);
}

/**
 * @param {RequestKind} kind
 * @param {string} message
 * @returns {Promise<PrivacyRequest>}
 */
export function fileRequest(kind, message) {
  return request('POST', '/api/privacy/requests', { kind, message });
}

/** @returns {Promise<PrivacyRequest[]>} One's own; the whole queue for the privacy team. Earliest deadline first. */
export async function requests() {
  const answer = await request('GET', '/api/privacy/requests');
  return answer && Array.isArray(answer.requests) ? answer.requests : [];
}

/**
 * Closes a request with an answer, which the server emails to the person.
 * @param {string} id
 * @param {boolean} done Done (true) or rejected (false).
 * @param {string} response
 * @returns {Promise<PrivacyRequest>}
 */
export function closeRequest(id, done, response) {
  return request('POST', `/api/privacy/requests/${encodeURIComponent(id)}/close`, { done, response });
}

/** @returns {Promise<AuditEntry[]>} Newest first. */
export async function audit() {
  const answer = await request('GET', '/api/privacy/audit');
  return answer && Array.isArray(answer.entries) ? answer.entries : [];
}

/**
 * The organisation's legal texts (public). Null when this server has no `/api/legal` yet, so the
 * caller shows the default texts.
 * @param {string} [orgSlug] Which organisation (default: the server's first).
 * @returns {Promise<LegalTexts|null>}
 */
export async function legal(orgSlug) {
  try {
    return await request('GET', orgSlug ? '/api/legal?org=' + encodeURIComponent(orgSlug) : '/api/legal');
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

/**
 * Changes the legal texts (administrators); `null` returns a text to Bureau's default.
 * @param {{privacy_markdown?: string|null, terms_markdown?: string|null, consent_markdown?: string|null}} patch
 * @returns {Promise<LegalTexts>}
 */
export function updateLegal(patch) {
  return request('PUT', '/api/legal', patch);
}

/**
 * Whether the signed-in user works on privacy requests (administrators and `manage_privacy`).
 * @param {import('/client/api.js').User|null} me
 * @returns {boolean}
 */
export function isPrivacyTeam(me) {
  return Boolean(me && (me.role === 'admin' || (me.rights || []).includes('manage_privacy')));
}

/**
 * Whether an error means "processing of your data is restricted".
 * @param {unknown} err
 * @returns {boolean}
 */
export function isRestricted(err) {
  return err instanceof ApiError && err.code === 'restricted';
}

/** What each kind of request asks for, in the user's words. */
export const REQUEST_KINDS = /** @type {{value: RequestKind, label: string}[]} */ ([
  { value: 'access', label: 'Access: a copy of my data' },
  { value: 'rectification', label: 'Rectification: correct data I cannot edit myself' },
  { value: 'erasure', label: 'Erasure: delete my data' },
  { value: 'restriction', label: 'Restriction: limit how my data is used' },
  { value: 'objection', label: 'Objection: stop a processing' },
  { value: 'withdrawal', label: 'Withdrawal of a consent' },
  { value: 'other', label: 'Something else about my data' },
]);

/**
 * @param {RequestKind} kind
 * @returns {string} A short name, e.g. "Rectification".
 */
export function kindName(kind) {
  const found = REQUEST_KINDS.find((k) => k.value === kind);
  return found ? found.label.split(':')[0] : kind;
}

/**
 * Whole days until a deadline (negative when past).
 * @param {number} dueAt Unix milliseconds.
 * @param {number} [now]
 * @returns {number}
 */
export function daysLeft(dueAt, now = Date.now()) {
  const day = 24 * 60 * 60 * 1000;
  return dueAt >= now ? Math.ceil((dueAt - now) / day) : -Math.ceil((now - dueAt) / day);
}

/**
 * `describeError` of api.js, plus the codes of the privacy API.
 * @param {unknown} err
 * @returns {string}
 */
export function describe(err) {
  if (isRestricted(err)) return 'Processing of your data is restricted. Lift the restriction in the privacy centre to use this.';
  if (err instanceof ApiError && err.status === 502) return 'Saved, but the email could not be sent.';
  return describeError(err);
}
