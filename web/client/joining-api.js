// The REST API of joining Bureau and of in-app support, without any DOM: invitations,
// registration through an invitation link, support tickets. Built on `request()` of api.js.

import { request, ApiError, describeError } from '/client/api.js';

/**
 * @typedef {'pending'|'accepted'|'revoked'|'expired'} InvitationStatus
 */

/**
 * @typedef {object} Invitation
 * @property {string} id
 * @property {string} name
 * @property {string} email
 * @property {import('/client/api.js').Role} role
 * @property {InvitationStatus} status
 * @property {number} created_at Sent (or last resent), Unix milliseconds.
 * @property {number} expires_at Unix milliseconds.
 */

/**
 * @typedef {object} RegistrationInfo
 * @property {string} org_name
 * @property {string} [org_slug] The organisation's slug, for its legal texts.
 * @property {string} name The invitee's name as the admin wrote it.
 * @property {string} email The account's sign-in.
 */

/**
 * @typedef {object} TicketMessage
 * @property {'user'|'support'} from
 * @property {string} text
 * @property {number} at Unix milliseconds.
 */

/**
 * @typedef {object} Ticket
 * @property {string} id
 * @property {string|null} user_id The author (null once the account is gone).
 * @property {string} subject
 * @property {'open'|'resolved'} status
 * @property {TicketMessage[]} messages Oldest first.
 * @property {number} created_at
 * @property {number|null} resolved_at
 */

/**
 * Invites someone by email. A 502 `mail_failed` means the invitation was saved but its email
 * could not be sent (see {@link isMailFailure}).
 * @param {{name: string, email: string, role?: import('/client/api.js').Role}} invitation
 * @returns {Promise<Invitation>}
 */
export function invite(invitation) {
  return request('POST', '/api/invitations', invitation);
}

/** @returns {Promise<Invitation[]>} Newest first. */
export async function invitations() {
  const answer = await request('GET', '/api/invitations');
  return answer && Array.isArray(answer.invitations) ? answer.invitations : [];
}

/**
 * Sends the invitation again with a fresh link; the old link stops working.
 * @param {string} id
 * @returns {Promise<Invitation>}
 */
export function resendInvitation(id) {
  return request('POST', `/api/invitations/${encodeURIComponent(id)}/resend`, {});
}

/**
 * @param {string} id
 * @returns {Promise<Invitation>}
 */
export function revokeInvitation(id) {
  return request('DELETE', `/api/invitations/${encodeURIComponent(id)}`, {});
}

/**
 * What an invitation link is for; rejects with a 410 `invalid_token` when it cannot be used.
 * @param {string} token
 * @returns {Promise<RegistrationInfo>}
 */
export function checkInvitation(token) {
  return request('POST', '/api/register/check', { token });
}

/**
 * Creates the account of an invitation link and signs in.
 * @param {{token: string, name?: string, password: string, accept_terms: boolean}} form
 * @returns {Promise<import('/client/api.js').User>}
 */
export async function register(form) {
  const answer = await request('POST', '/api/register', form);
  return answer.user;
}

/**
 * @param {{subject: string, message: string}} ticket
 * @returns {Promise<Ticket>}
 */
export function openTicket(ticket) {
  return request('POST', '/api/support', ticket);
}

/** @returns {Promise<Ticket[]>} All of the organisation's for admins, one's own otherwise; newest first. */
export async function tickets() {
  const answer = await request('GET', '/api/support');
  return answer && Array.isArray(answer.tickets) ? answer.tickets : [];
}

/**
 * An administrator's answer; the server emails it to the ticket's author.
 * @param {string} id
 * @param {string} message
 * @returns {Promise<Ticket>}
 */
export function answerTicket(id, message) {
  return request('POST', `/api/support/${encodeURIComponent(id)}/answer`, { message });
}

/**
 * @param {string} id
 * @returns {Promise<Ticket>}
 */
export function resolveTicket(id) {
  return request('POST', `/api/support/${encodeURIComponent(id)}/resolve`, {});
}

/**
 * Whether an error means "saved, but the email could not be sent".
 * @param {unknown} err
 * @returns {boolean}
 */
export function isMailFailure(err) {
  return err instanceof ApiError && (err.code === 'mail_failed' || err.status === 502);
}

/**
 * Whether an error means the link (token) cannot be used: unknown, used, revoked or expired.
 * @param {unknown} err
 * @returns {boolean}
 */
export function isUnusableLink(err) {
  return err instanceof ApiError && (err.code === 'invalid_token' || err.status === 410);
}

/**
 * `describeError` of api.js, plus the codes of this part of the API.
 * @param {unknown} err
 * @returns {string}
 */
export function describe(err) {
  if (isMailFailure(err)) return 'Saved, but the email could not be sent. Resend it when mail works again.';
  if (isUnusableLink(err)) return 'This link can no longer be used.';
  return describeError(err);
}
