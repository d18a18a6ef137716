// Choose your password: an administrator created the account (or reset it) with a password
// they chose, so the server serves nothing else until the user picks their own.

import { h } from '/ui/dom.js';
import { passwordForm } from '/ui/password-form.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {HTMLElement}
 */
export function render(ctx) {
  const form = passwordForm('Choose my password', async () => {
    await ctx.refresh();
    ctx.navigate('/office', true);
  });
  const page = h('section', { class: 'page narrow' },
    h('h1', {}, 'Choose your password'),
    h('p', {}, 'An administrator gave you your first password. Choose your own now: nobody else should know it. Until then Bureau shows nothing else.'),
    h('div', { class: 'card' }, form));
  queueMicrotask(() => /** @type {HTMLInputElement|null} */ (form.querySelector('input'))?.focus());
  return page;
}
