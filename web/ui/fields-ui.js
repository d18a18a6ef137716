// Field widgets shared by the pages that set a password (first-admin setup, registration).
import { h } from '/ui/dom.js';
import { passwordStrength } from '/client/fields.js';

/**
 * Puts a strength meter and its spoken label under a new-password input, updated as one types.
 * @param {HTMLInputElement} password
 * @returns {void}
 */
export function attachStrengthMeter(password) {
  const meter = h('div', { class: 'strength', 'aria-hidden': 'true', dataset: { score: '0' } }, h('span'));
  const label = h('p', { class: 'hint', 'aria-live': 'polite' }, passwordStrength('').label);
  password.after(meter);
  meter.after(label);
  password.addEventListener('input', () => {
    const strength = passwordStrength(password.value);
    meter.dataset.score = String(strength.score);
    label.textContent = strength.label;
  });
}
