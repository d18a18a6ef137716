// The two-factor endpoints of the REST API, without any DOM: the sign-in's second step,
// enrolment required by the organisation, and the signed-in user's own second factors.

import { request } from '/client/api.js';

/**
 * @typedef {'totp'|'sms'|'recovery'} SecondFactorMethod
 * @typedef {object} Challenge
 * @property {string} token Names this sign-in in the next requests (5 minutes, once).
 * @property {SecondFactorMethod[]} [methods] What the account can prove.
 * @property {boolean} [enrol_required] The organisation requires an authenticator the user lacks.
 * @property {number} expires_at Unix milliseconds.
 * @typedef {object} TotpEnrolment
 * @property {string} secret Base32.
 * @property {string} otpauth_uri For the QR code.
 * @typedef {object} TwoFactorStatus
 * @property {boolean} totp
 * @property {boolean} sms
 * @property {string|null} phone_ending
 * @property {number} recovery_codes_left
 * @property {boolean} required
 */

/**
 * Signs in with the password: the user, or a challenge when a second factor is needed.
 * @param {string} email
 * @param {string} password
 * @param {string} [org] The organisation's short name, when the email belongs to several.
 * @returns {Promise<{user?: import('/client/api.js').User, second_factor?: Challenge}>}
 */
export function signIn(email, password, org) {
  return request('POST', '/api/auth/login', org ? { email, password, org } : { email, password });
}

/**
 * Completes the sign-in with a code (authenticator or SMS) or a recovery code.
 * @param {string} token
 * @param {{code?: string, recovery_code?: string}} proof
 * @returns {Promise<import('/client/api.js').User>}
 */
export async function completeSignIn(token, proof) {
  const answer = await request('POST', '/api/auth/second-factor', { token, ...proof });
  return answer.user;
}

/**
 * Texts a sign-in code to the enrolled phone.
 * @param {string} token
 * @returns {Promise<void>}
 */
export async function sendSignInSms(token) {
  await request('POST', '/api/auth/second-factor', { token, send_sms: true });
}

/**
 * During a sign-in that requires enrolment: a new authenticator secret.
 * @param {string} token
 * @returns {Promise<TotpEnrolment>}
 */
export function startRequiredTotp(token) {
  return request('POST', '/api/auth/enrol-totp', { token });
}

/**
 * During a sign-in that requires enrolment: confirms the authenticator and signs in.
 * @param {string} token
 * @param {string} code
 * @returns {Promise<{user: import('/client/api.js').User, recovery_codes: string[]}>}
 */
export function confirmRequiredTotp(token, code) {
  return request('POST', '/api/auth/enrol-totp', { token, code });
}

/** @returns {Promise<TwoFactorStatus>} */
export function status() {
  return request('GET', '/api/me/2fa');
}

/** @returns {Promise<TotpEnrolment>} */
export function startTotp() {
  return request('POST', '/api/me/2fa/totp', {});
}

/**
 * @param {string} code
 * @returns {Promise<string[]>} The new recovery codes.
 */
export async function confirmTotp(code) {
  return (await request('POST', '/api/me/2fa/totp/confirm', { code })).recovery_codes;
}

/**
 * @param {string} phone
 * @returns {Promise<void>}
 */
export async function startSms(phone) {
  await request('POST', '/api/me/2fa/sms', { phone });
}

/**
 * @param {string} code
 * @returns {Promise<string[]>} The new recovery codes.
 */
export async function confirmSms(code) {
  return (await request('POST', '/api/me/2fa/sms/confirm', { code })).recovery_codes;
}

/**
 * Turns two-factor sign-in off.
 * @param {string} password
 * @returns {Promise<void>}
 */
export async function disable(password) {
  await request('DELETE', '/api/me/2fa', { password });
}
