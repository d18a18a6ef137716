// A person's avatar: their picture, or their initials on a coloured circle.

import { h } from '/ui/dom.js';
import { initials, avatarHue } from '/client/fields.js';
import { hasPicture, notePicture, pictureUrl } from '/client/pictures.js';

/**
 * A person's avatar: their picture when they have one, their initials otherwise (also when the
 * picture cannot be loaded). Decorative: the name is always shown or announced next to it.
 * @param {string} userId
 * @param {string} name
 * @param {string} [size] `sm` or `lg`
 * @param {boolean} [picture] Whether the user has a picture; left out: what this tab knows.
 * @returns {HTMLElement}
 */
export function avatarFor(userId, name, size, picture) {
  if (picture !== undefined && userId) notePicture(userId, picture);
  const el = h('span', { class: 'avatar' + (size ? ' avatar-' + size : ''), style: `--hue:${avatarHue(userId)}`, 'aria-hidden': 'true' });
  if (!userId || !hasPicture(userId)) {
    el.textContent = initials(name);
    return el;
  }
  const img = h('img', { src: pictureUrl(userId), alt: '', decoding: 'async', draggable: 'false' });
  img.addEventListener('error', () => {
    el.classList.remove('avatar-picture');
    el.replaceChildren(initials(name));
  }, { once: true });
  el.classList.add('avatar-picture');
  el.append(img);
  return el;
}
