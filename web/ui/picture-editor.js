// The own picture on "My profile": choose a file (checked in the browser the way the server
// checks it), upload it, or remove the picture after a confirmation.

import * as api from '/client/api.js';
import { h, openDialog, toast, uid } from '/ui/dom.js';
import { avatarFor } from '/ui/avatar.js';
import { checkPictureFile, pictureChanged, readDataUrl, removeMyPicture, setMyPicture, PICTURE_TYPES } from '/client/pictures.js';

/**
 * @typedef {object} PictureEditor
 * @property {HTMLElement} avatar The avatar (picture or initials); redrawn after each change.
 * @property {HTMLElement} controls "Change picture", "Remove picture", the hint and the messages.
 */

/**
 * The picture controls of the signed-in user.
 * @param {import('/app.js').Context} ctx
 * @param {api.User} me
 * @returns {PictureEditor}
 */
export function pictureEditor(ctx, me) {
  const present = Boolean(me.has_picture);
  const avatar = h('span', { class: 'picture-slot' }, avatarFor(me.id, me.name, 'lg', present));
  const id = uid('picture-input');
  const hintId = id + '-hint';
  const errorId = id + '-error';
  const input = h('input', {
    type: 'file', id, name: 'picture', class: 'sr-only', accept: PICTURE_TYPES.join(','), 'aria-describedby': `${hintId} ${errorId}`,
  });
  const pick = h('label', { for: id, class: 'button small' }, 'Change picture');
  const remove = h('button', { type: 'button', class: 'button small danger', 'aria-haspopup': 'dialog', hidden: !present }, 'Remove picture');
  const status = h('p', { class: 'picture-status hint', role: 'status' });
  const error = h('p', { class: 'field-error', id: errorId, role: 'alert', hidden: true });
  const controls = h('div', { class: 'picture-controls', role: 'group', 'aria-label': 'Profile picture' },
    h('div', { class: 'picture-actions' }, h('span', { class: 'file-pick' }, input, pick), remove),
    h('p', { class: 'hint', id: hintId }, 'PNG, JPEG or WebP, at most 256 KiB. Colleagues see it in the directory and the office.'),
    status,
    error);

  /** @param {string} message */
  const showError = (message) => {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
  };
  const clearError = () => {
    error.textContent = '';
    error.hidden = true;
    input.removeAttribute('aria-invalid');
  };
  /** @param {string} doing What is happening, e.g. "Uploading your picture…"; empty: done. */
  const setBusy = (doing) => {
    input.disabled = Boolean(doing);
    remove.disabled = Boolean(doing);
    controls.setAttribute('aria-busy', String(Boolean(doing)));
    status.replaceChildren(...(doing ? [doing, ' ', h('progress', { 'aria-label': doing })] : []));
  };
  /** @param {boolean} now */
  const changed = async (now) => {
    pictureChanged(me.id, now);
    avatar.replaceChildren(avatarFor(me.id, me.name, 'lg', now));
    remove.hidden = !now;
    await ctx.refresh().catch(() => {}); // the top bar shows the new avatar
  };

  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    clearError();
    setBusy('Uploading your picture…');
    try {
      const problem = await checkPictureFile(file);
      if (problem) {
        showError(problem);
        return;
      }
      let dataUrl;
      try {
        dataUrl = await readDataUrl(file);
      } catch {
        showError(`“${file.name}” could not be read. Choose the picture again.`);
        return;
      }
      await setMyPicture(dataUrl);
      await changed(true);
      toast('Your picture has been saved.', 'success');
    } catch (err) {
      showError(api.describeError(err));
    } finally {
      setBusy('');
      input.value = ''; // choosing the same file again is a change too
      input.focus(); // disabled while busy, the focus was lost
    }
  });

  remove.addEventListener('click', async () => {
    if (!await confirmRemoval()) return;
    clearError();
    setBusy('Removing your picture…');
    try {
      await removeMyPicture();
      await changed(false);
      toast('Your picture has been removed.', 'success');
    } catch (err) {
      showError(api.describeError(err));
    } finally {
      setBusy('');
      (remove.hidden ? input : remove).focus(); // disabled while busy, the focus was lost
    }
  });

  return { avatar, controls };
}

/**
 * Asks before removing the picture.
 * @returns {Promise<boolean>} Whether the user confirmed.
 */
function confirmRemoval() {
  return new Promise((resolve) => {
    let confirmed = false;
    const yes = h('button', { type: 'button', class: 'button danger' }, 'Remove picture');
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    const { close } = openDialog({
      title: 'Remove your picture?',
      className: 'confirm',
      body: h('p', {}, 'Colleagues will see your initials instead. You can add a picture again at any time.'),
      footer: [cancel, yes],
      onClose: () => resolve(confirmed),
    });
    cancel.addEventListener('click', () => close());
    yes.addEventListener('click', () => {
      confirmed = true;
      close();
    });
    cancel.focus();
  });
}
