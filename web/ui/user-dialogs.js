// The administrators' dialogs: add a user, edit a user (every field, role, rights, status).

import * as api from '/client/api.js';
import { h, field, openDialog, busy, clearErrors, formValues, showError, setFieldError, toast } from '/ui/dom.js';
import { ROLES, RIGHTS, editableFields, diffPatch } from '/client/fields.js';
import { profileFields, checkboxGroup, checkedValues } from '/ui/editor.js';

const ROLE_OPTIONS = ROLES.map((r) => ({ value: r.value, label: r.label }));

/**
 * Opens the "Add user" dialog.
 * @param {(user: api.User) => void} onCreated
 */
export function openAddUser(onCreated) {
  const formId = 'add-user-form';
  const submit = h('button', { type: 'submit', class: 'button primary', form: formId }, 'Add user');
  const form = h('form', { id: formId, novalidate: true, 'aria-label': 'Add user' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'form-grid' },
      field({ name: 'name', label: 'Name', required: true, autocomplete: 'off' }),
      field({ name: 'email', label: 'Email', type: 'email', required: true, autocomplete: 'off' }),
      h('div', { class: 'span-2' }, field({ name: 'role', label: 'Role', type: 'select', value: 'member', options: ROLE_OPTIONS })),
      h('div', { class: 'span-2' }, checkboxGroup('rights', 'Rights', RIGHTS, [])),
      h('div', { class: 'span-2' }, field({
        name: 'password', label: 'Initial password', type: 'password', autocomplete: 'new-password',
        hint: 'Optional, at least 10 characters. Hand it over in person. Without one they cannot sign in yet.',
      })),
      h('div', { class: 'span-2' }, h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'must_change_password', checked: true }),
        h('span', {}, 'Ask them to choose their own password at the first sign-in',
          h('small', {}, 'Untick only if the person chose this password with you.'))))));
  const { close } = openDialog({
    title: 'Add user',
    body: form,
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), submit],
  });
  /** @type {HTMLInputElement} */ (form.querySelector('input[name="name"]')).focus();
  const roleSelect = /** @type {HTMLSelectElement} */ (form.querySelector('select[name="role"]'));
  syncRights(form, roleSelect);
  roleSelect.addEventListener('change', () => syncRights(form, roleSelect));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const v = formValues(form);
    if (!v.name.trim()) return void setFieldError(form, 'name', 'Enter a name.');
    if (!v.email.trim() || !v.email.includes('@')) return void setFieldError(form, 'email', 'Enter a valid email address.');
    if (v.password && v.password.length < 10) return void setFieldError(form, 'password', 'The password needs at least 10 characters.');
    /** @type {api.NewUser} */
    const body = { name: v.name.trim(), email: v.email.trim(), role: /** @type {api.Role} */ (v.role) };
    const rights = /** @type {api.Right[]} */ (checkedValues(form, 'rights'));
    if (v.role !== 'admin') body.rights = rights;
    if (v.password) {
      body.password = v.password;
      body.must_change_password = /** @type {HTMLInputElement} */ (form.querySelector('input[name="must_change_password"]')).checked;
    }
    await busy(submit, async () => {
      try {
        const user = await api.createUser(body);
        close();
        toast(`${user.name} has been added.`, 'success');
        onCreated(user);
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'conflict' && !err.field) err.field = 'email';
        showError(form, err, api.describeError);
      }
    });
  });
}

/**
 * Opens the edit dialog of a user.
 * @param {api.User} user
 * @param {api.User[]} colleagues
 * @param {import('/app.js').Context} ctx
 * @param {(user: api.User) => Promise<void>} onSaved
 */
export async function openEditUser(user, colleagues, ctx, onSaved) {
  let fresh = user;
  try {
    fresh = await api.user(user.id);
  } catch (err) {
    toast(api.describeError(err), 'error');
    return;
  }
  const mode = ctx.org ? ctx.org.profile_mode : 'entry';
  const specs = editableFields(mode, true);
  const self = ctx.me !== null && ctx.me.id === fresh.id;
  const formId = 'edit-user-form';
  const submit = h('button', { type: 'submit', class: 'button primary', form: formId }, 'Save changes');
  const activeBox = h('input', { type: 'checkbox', name: 'active', checked: fresh.active, disabled: self });
  const form = h('form', { id: formId, novalidate: true, 'aria-label': `Edit ${fresh.name}` },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'form-grid' },
      profileFields(specs, fresh, colleagues),
      h('div', { class: 'span-2' }, field({ name: 'role', label: 'Role', type: 'select', value: fresh.role, options: ROLE_OPTIONS, disabled: self })),
      h('div', { class: 'span-2' }, checkboxGroup('rights', 'Rights', RIGHTS, fresh.rights || [])),
      h('div', { class: 'span-2 field', dataset: { field: 'active' } },
        h('label', { class: 'check' }, activeBox,
          h('span', {}, 'Account is active',
            h('small', {}, self
              ? 'You cannot deactivate or demote your own account.'
              : 'Unticked, the person cannot sign in and is shown greyed out to administrators. Their data is kept.'))),
        h('p', { class: 'field-error', role: 'alert', hidden: true }))));
  const erase = h('button', {
    type: 'button', class: 'button danger', hidden: self,
    onclick: () => void eraseUser(),
  }, 'Erase…');
  const reset = h('button', {
    type: 'button', class: 'button', hidden: self || fresh.role === 'guest', 'aria-haspopup': 'dialog',
    onclick: () => openSetPassword(fresh),
  }, 'Set a new password…');
  const { close } = openDialog({
    title: `Edit ${fresh.name}`,
    className: 'wide',
    body: form,
    footer: [erase, reset, h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), submit],
  });
  const eraseUser = async () => {
    const sure = confirm(`Erase ${fresh.name}? Their account and personal data are deleted for good; `
      + 'colleagues\u2019 call and file logs keep an anonymous entry. This cannot be undone.');
    if (!sure) return;
    await busy(erase, async () => {
      try {
        await api.eraseUser(fresh.id);
        close();
        toast(`${fresh.name} was erased.`, 'success');
        await onSaved(fresh);
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  };
  const roleSelect = /** @type {HTMLSelectElement} */ (form.querySelector('select[name="role"]'));
  syncRights(form, roleSelect);
  roleSelect.addEventListener('change', () => syncRights(form, roleSelect));
  /** @type {HTMLInputElement} */ (form.querySelector('input[name="name"]')).focus();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const patch = diffPatch(specs, /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (fresh)), formValues(form));
    if (patch.name === '') return void setFieldError(form, 'name', 'The name cannot be empty.');
    if (patch.email === '') return void setFieldError(form, 'email', 'The email address cannot be empty.');
    if (!self) {
      if (roleSelect.value !== fresh.role) patch.role = roleSelect.value;
      if (activeBox.checked !== fresh.active) patch.active = activeBox.checked;
    }
    const rights = checkedValues(form, 'rights').sort();
    const before = [...(fresh.rights || [])].sort();
    if (roleSelect.value !== 'admin' && rights.join() !== before.join()) patch.rights = rights;
    if (Object.keys(patch).length === 0) {
      toast('Nothing to save: no field was changed.');
      return;
    }
    await busy(submit, async () => {
      try {
        const saved = await api.updateUser(fresh.id, patch);
        close();
        toast(`Changes to ${saved.name} saved.`, 'success');
        await onSaved(saved);
      } catch (err) {
        if (err instanceof api.ApiError && err.code === 'conflict' && !err.field && 'email' in patch) err.field = 'email';
        showError(form, err, api.describeError);
      }
    });
  });
}

/**
 * Administrators hold every right: the boxes are shown ticked and locked for them.
 * @param {HTMLFormElement} form
 * @param {HTMLSelectElement} role
 */
function syncRights(form, role) {
  const admin = role.value === 'admin';
  form.querySelectorAll('input[name="rights"]').forEach((el) => {
    const box = /** @type {HTMLInputElement} */ (el);
    if (admin) {
      if (box.dataset.before === undefined) box.dataset.before = String(box.checked);
      box.checked = true;
    } else if (box.dataset.before !== undefined) {
      box.checked = box.dataset.before === 'true';
      delete box.dataset.before;
    }
    box.disabled = admin;
  });
}

/**
 * Sets a new password for a member who forgot theirs: they choose their own at the next sign-in.
 * @param {api.User} user
 */
function openSetPassword(user) {
  const submit = h('button', { type: 'submit', class: 'button primary', form: 'set-password-form' }, 'Set password');
  const form = h('form', { id: 'set-password-form', novalidate: true, 'aria-label': `New password for ${user.name}` },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    field({ name: 'password', label: 'New password', type: 'password', required: true, autocomplete: 'new-password',
      hint: `At least 10 characters. ${user.name} is signed out everywhere and chooses their own password at the next sign-in.` }));
  const { close } = openDialog({
    title: `New password for ${user.name}`,
    body: form,
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), submit],
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, async () => {
      clearErrors(form);
      const password = String(new FormData(form).get('password') || '');
      if ([...password].length < 10) return void setFieldError(form, 'password', 'Choose at least 10 characters.');
      try {
        await api.setPassword(user.id, password);
        close();
        toast(`${user.name} has a new password and chooses their own at the next sign-in.`, 'success');
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
}
