// The administrators' "Invitations" section: invite by name and email (the server emails a
// single-use link valid 7 days), follow each invitation's status, send it again with a fresh
// link, or revoke it.

import * as joining from '/client/joining-api.js';
import { h, field, openDialog, busy, clearErrors, formValues, setFieldError, showError, toast } from '/ui/dom.js';
import { ROLES, roleLabel } from '/client/fields.js';

/** @type {Record<joining.InvitationStatus, string>} */
const STATUS_LABELS = { pending: 'Pending', accepted: 'Accepted', revoked: 'Revoked', expired: 'Expired' };

/**
 * The section, loading the invitations itself.
 * @param {{canInviteAdmins?: boolean}} [options] Only administrators may invite administrators.
 * @returns {Promise<HTMLElement>}
 */
export async function invitationsSection(options = {}) {
  const canInviteAdmins = options.canInviteAdmins !== false;
  const tableHost = h('div', { class: 'table-wrap' });
  // A lasting message (not a toast) for "saved, but the email could not be sent".
  const notice = h('div', { class: 'notice warning', role: 'alert', hidden: true });
  const showMailFailure = (/** @type {string} */ email) => {
    notice.textContent = `The invitation to ${email} is saved, but the email could not be sent. Check the mail settings of the server, then use “Resend”.`;
    notice.hidden = false;
  };
  const reload = async () => {
    try {
      draw(tableHost, await joining.invitations(), reload, showMailFailure);
    } catch (err) {
      tableHost.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, joining.describe(err)));
    }
  };
  await reload();
  const inviteButton = h('button', {
    type: 'button', class: 'button primary', 'aria-haspopup': 'dialog',
    onclick: () => openInvite(canInviteAdmins, async (email, mailFailed) => {
      notice.hidden = true;
      if (mailFailed) showMailFailure(email);
      await reload();
    }),
  }, '+ Invite someone');
  return h('section', { class: 'card invitations', 'aria-labelledby': 'invitations-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'invitations-title' }, 'Invitations'), inviteButton),
    h('p', { class: 'hint space-bottom' }, 'An invitation email carries a link that works once and for 7 days, with the privacy policy and terms of use. Resending makes a fresh link; the old one stops working.'),
    notice, tableHost);
}

/**
 * @param {HTMLElement} host
 * @param {joining.Invitation[]} list
 * @param {() => Promise<void>} reload
 * @param {(email: string) => void} mailFailed
 */
function draw(host, list, reload, mailFailed) {
  if (list.length === 0) {
    host.replaceChildren(h('p', { class: 'empty' }, 'No invitations yet. Invite colleagues by name and email address.'));
    return;
  }
  host.replaceChildren(h('table', { class: 'responsive invitations-table' },
    h('caption', { class: 'sr-only' }, 'Invitations'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Role'),
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, list.map((inv) => h('tr', { dataset: { invitationId: inv.id, status: inv.status } },
      h('td', {}, h('strong', {}, inv.name)),
      h('td', { class: 'col-email' }, inv.email),
      h('td', {}, h('span', { class: 'badge ' + inv.role }, roleLabel(inv.role))),
      h('td', { class: 'col-status' },
        h('span', { class: 'badge status-' + inv.status }, STATUS_LABELS[inv.status] || inv.status),
        h('span', { class: 'status-when muted' }, statusDetail(inv))),
      h('td', { class: 'actions' }, actions(inv, reload, mailFailed)))))));
}

/**
 * @param {joining.Invitation} inv
 * @returns {string}
 */
function statusDetail(inv) {
  if (inv.status === 'pending') return `sent ${day(inv.created_at)}, valid until ${day(inv.expires_at)}`;
  if (inv.status === 'expired') return `since ${day(inv.expires_at)}`;
  return `sent ${day(inv.created_at)}`;
}

/**
 * Resend and revoke, for invitations that can still be used or renewed.
 * @param {joining.Invitation} inv
 * @param {() => Promise<void>} reload
 * @param {(email: string) => void} mailFailed
 * @returns {(HTMLElement|string)[]}
 */
function actions(inv, reload, mailFailed) {
  if (inv.status !== 'pending' && inv.status !== 'expired') return [];
  const resend = h('button', { type: 'button', class: 'button small', 'aria-label': `Resend the invitation to ${inv.name}` }, 'Resend');
  resend.addEventListener('click', () => void busy(resend, async () => {
    try {
      await joining.resendInvitation(inv.id);
      toast(`A new invitation was sent to ${inv.email}. The previous link no longer works.`, 'success');
    } catch (err) {
      if (joining.isMailFailure(err)) mailFailed(inv.email);
      else toast(joining.describe(err), 'error');
    }
    await reload();
  }));
  const revoke = h('button', {
    type: 'button', class: 'button small danger', 'aria-haspopup': 'dialog', 'aria-label': `Revoke the invitation to ${inv.name}`,
    onclick: () => confirmRevoke(inv, reload),
  }, 'Revoke');
  return [resend, ' ', revoke];
}

/**
 * Asks before revoking.
 * @param {joining.Invitation} inv
 * @param {() => Promise<void>} reload
 */
function confirmRevoke(inv, reload) {
  const yes = h('button', { type: 'button', class: 'button danger' }, 'Revoke invitation');
  const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
  const { close } = openDialog({
    title: 'Revoke the invitation?',
    className: 'confirm',
    body: [
      h('p', {}, `The link in the email to ${inv.name} (${inv.email}) stops working at once.`),
      h('p', { class: 'hint' }, 'You can invite the same address again later.'),
    ],
    footer: [cancel, yes],
  });
  cancel.addEventListener('click', () => close());
  cancel.focus();
  yes.addEventListener('click', () => void busy(yes, async () => {
    try {
      await joining.revokeInvitation(inv.id);
      close();
      toast(`The invitation to ${inv.email} was revoked.`, 'success');
      await reload();
    } catch (err) {
      close();
      toast(joining.describe(err), 'error');
    }
  }));
}

/**
 * The invite dialog.
 * @param {boolean} canInviteAdmins
 * @param {(email: string, mailFailed: boolean) => Promise<void>} onSaved
 */
function openInvite(canInviteAdmins, onSaved) {
  const formId = 'invite-form';
  const submit = h('button', { type: 'submit', class: 'button primary', form: formId }, 'Send invitation');
  const form = h('form', { id: formId, novalidate: true, 'aria-label': 'Invite someone' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'form-grid' },
      field({ name: 'name', label: 'Name', required: true, attrs: { maxlength: '100' } }),
      field({ name: 'email', label: 'Email', type: 'email', required: true, attrs: { inputmode: 'email' } }),
      h('div', { class: 'span-2' }, field({
        name: 'role', label: 'Role', type: 'select', value: 'member',
        options: ROLES.filter((r) => canInviteAdmins || r.value !== 'admin').map((r) => ({ value: r.value, label: r.label })),
        hint: 'Members are colleagues; administrators manage the organisation; guests see only what they are invited to.',
      }))),
    h('p', { class: 'hint' }, 'The email is written in the organisation’s email language and links to the privacy policy and terms of use.'));
  const { close } = openDialog({
    title: 'Invite someone',
    body: form,
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), submit],
  });
  /** @type {HTMLInputElement} */ (form.querySelector('input[name="name"]')).focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const v = formValues(form);
    if (!v.name.trim()) return void setFieldError(form, 'name', 'Enter the name of the person to invite.');
    if (!v.email.trim() || !v.email.includes('@')) return void setFieldError(form, 'email', 'Enter a valid email address.');
    const body = { name: v.name.trim(), email: v.email.trim(), role: /** @type {import('/client/api.js').Role} */ (v.role) };
    await busy(submit, async () => {
      try {
        const inv = await joining.invite(body);
        close();
        toast(`The invitation was sent to ${inv.email}.`, 'success');
        await onSaved(inv.email, false);
      } catch (err) {
        if (joining.isMailFailure(err)) {
          close();
          await onSaved(body.email, true);
          return;
        }
        if (err instanceof Error && 'code' in err && err.code === 'conflict') {
          return void setFieldError(form, 'email', 'This email address already has an account.');
        }
        showError(form, err, joining.describe);
      }
    });
  });
}

/**
 * @param {number} ms
 * @returns {string}
 */
function day(ms) {
  return new Date(ms).toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
}
