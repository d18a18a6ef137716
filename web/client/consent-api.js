// The REST API of informed consent, without any DOM: anyone who is signed in (members and
// guests) gives and withdraws consent to camera and microphone. Built on `request()` of api.js
// (docs/api.md).

import { request } from '/client/api.js';

/**
 * @typedef {object} Consent
 * @property {string} id
 * @property {number} template_version
 * @property {boolean} camera
 * @property {boolean} microphone
 * @property {number} given_at Unix milliseconds.
 * @property {number|null} withdrawn_at
 */

/**
 * Gives consent to camera and microphone after reading the consent text of `template_version`;
 * the organisation is emailed a confirmation.
 * @param {{template_version: number, camera: boolean, microphone: boolean}} choice
 * @returns {Promise<Consent>}
 */
export function giveConsent(choice) {
  return request('POST', '/api/consents', choice);
}

/** @returns {Promise<Consent[]>} One's own consents. */
export async function consents() {
  const answer = await request('GET', '/api/consents');
  return answer && Array.isArray(answer.consents) ? answer.consents : Array.isArray(answer) ? answer : [];
}

/**
 * @param {string} id
 * @returns {Promise<void>}
 */
export async function withdrawConsent(id) {
  await request('POST', `/api/consents/${encodeURIComponent(id)}/withdraw`, {});
}
