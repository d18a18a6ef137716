// Absences: the form to enter one (whole days in the browser's time zone, the last day included)
// and the lists of absences with their days, deputy and, where the server shows them, kind and
// note; removing one asks first.

import * as api from '/client/api.js';
import { h, field, busy, clearErrors, formValues, openDialog, setFieldError, showError, toast } from '/ui/dom.js';
import { dayStart, formatDays, isoDay } from '/client/days.js';

/** @type {{value: api.AbsenceKind, label: string}[]} */
export const KINDS = [
  { value: 'vacation', label: 'Vacation' },
  { value: 'sick', label: 'Sick leave' },
  { value: 'business_trip', label: 'Business trip' },
  { value: 'training', label: 'Training' },
  { value: 'other', label: 'Other' },
];

/**
 * @param {api.AbsenceKind|undefined} kind
 * @returns {string}
 */
function kindLabel(kind) {
  return KINDS.find((k) => k.value === kind)?.label || '';
}

/**
 * @typedef {object} FormOptions
 * @property {api.User} me
 * @property {api.User[]} colleagues Active members, the signed-in user among them or not.
 * @property {boolean} forOthers Whether to offer entering a colleague's absence ("For").
 * @property {(absence: api.Absence) => Promise<void>} onSaved
 */

/**
 * The form to enter an absence.
 * @param {FormOptions} o
 * @returns {HTMLFormElement}
 */
export function absenceForm(o) {
  const others = o.colleagues.filter((u) => u.id !== o.me.id).sort((a, b) => a.name.localeCompare(b.name));
  const today = isoDay(Date.now());
  const save = h('button', { type: 'submit', class: 'button primary' }, 'Save absence');
  const deputyField = field({
    name: 'deputy_id', label: 'Deputy', type: 'select', options: [],
    hint: 'Optional. While the absence goes on, knocks on the office ring the deputy.',
  });
  const deputy = /** @type {HTMLSelectElement} */ (deputyField.querySelector('select'));
  const forField = o.forOthers ? field({
    name: 'user_id', label: 'For', type: 'select', value: o.me.id,
    options: [{ value: o.me.id, label: `${o.me.name} (you)` }, ...others.map((u) => ({ value: u.id, label: u.name }))],
    hint: 'You may enter and remove colleagues’ absences.',
  }) : null;
  const whose = forField ? /** @type {HTMLSelectElement} */ (forField.querySelector('select')) : null;
  // The deputy is someone other than the absent person: the choice follows "For".
  const fillDeputies = () => {
    const absent = whose ? whose.value : o.me.id;
    const kept = deputy.value;
    const people = [o.me, ...others].filter((u) => u.id !== absent).sort((a, b) => a.name.localeCompare(b.name));
    deputy.replaceChildren(h('option', { value: '' }, 'Nobody'),
      ...people.map((u) => h('option', { value: u.id, selected: u.id === kept }, u.id === o.me.id ? `${u.name} (you)` : u.name)));
  };
  fillDeputies();
  if (whose) whose.addEventListener('change', fillDeputies);

  const form = h('form', { class: 'absence-form', novalidate: true, 'aria-label': 'Enter an absence' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'form-grid' },
      forField ? h('div', { class: 'span-2' }, forField) : null,
      h('div', { class: 'span-2' }, field({ name: 'kind', label: 'Kind', type: 'select', value: 'vacation', options: KINDS })),
      field({ name: 'starts_at', label: 'First day', type: 'date', value: today, required: true }),
      field({ name: 'ends_at', label: 'Last day', type: 'date', value: today, required: true, hint: 'Included: back the day after.' }),
      h('div', { class: 'span-2' }, deputyField),
      h('div', { class: 'span-2' }, field({
        name: 'note', label: 'Note', attrs: { maxlength: '200' },
        hint: 'Optional, up to 200 characters. Colleagues see that you are away and who stands in; only you and those who manage absences see the kind and the note.',
      }))),
    h('div', { class: 'form-actions' }, save));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const v = formValues(form);
    const startsAt = dayStart(v.starts_at);
    // The server takes the end exclusive: the start of the day after the last day.
    const endsAt = dayStart(v.ends_at, 1);
    if (Number.isNaN(startsAt)) return void setFieldError(form, 'starts_at', 'Enter the first day.');
    if (Number.isNaN(endsAt)) return void setFieldError(form, 'ends_at', 'Enter the last day.');
    /** @type {api.NewAbsence} */
    const body = { kind: /** @type {api.AbsenceKind} */ (v.kind), starts_at: startsAt, ends_at: endsAt };
    if (v.user_id && v.user_id !== o.me.id) body.user_id = v.user_id;
    if (v.deputy_id) body.deputy_id = v.deputy_id;
    if (v.note && v.note.trim()) body.note = v.note.trim();
    await busy(save, async () => {
      try {
        const created = await api.addAbsence(body);
        /** @type {HTMLInputElement} */ (form.querySelector('input[name="note"]')).value = '';
        toast(created.user_id === o.me.id ? 'Your absence has been saved.' : `The absence of ${created.name} has been saved.`, 'success');
        await o.onSaved(created);
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
  return form;
}

/**
 * @typedef {object} ListOptions
 * @property {string} label The list's accessible name.
 * @property {string} empty What to say when there is none.
 * @property {string} meId
 * @property {boolean} [names] Show whose absence it is.
 * @property {(absence: api.Absence) => boolean} [removable]
 * @property {() => Promise<void>} [onRemoved]
 */

/**
 * A list of absences: days (the last one included), whose, kind, who stands in, note.
 * @param {api.Absence[]} absences
 * @param {ListOptions} o
 * @returns {HTMLElement}
 */
export function absenceList(absences, o) {
  if (absences.length === 0) return h('p', { class: 'muted' }, o.empty);
  return h('ul', { class: 'log absences', 'aria-label': o.label }, absences.map((a) => {
    const days = formatDays(a.starts_at, a.ends_at);
    const deputy = a.deputy_id === o.meId ? 'You stand in' : a.deputy_name ? `${a.deputy_name} stands in` : '';
    return h('li', { dataset: { absenceId: a.id } },
      h('div', {},
        h('div', { class: 'when' }, o.names ? `${a.name}: ${days}` : days),
        h('div', { class: 'muted' }, [kindLabel(a.kind), deputy].filter(Boolean).join(' · ')),
        a.note ? h('div', { class: 'absence-note' }, `“${a.note}”`) : null),
      o.removable && o.removable(a) && o.onRemoved ? h('div', { class: 'log-right' }, removeButton(a, days, o.meId, o.onRemoved)) : null);
  }));
}

/**
 * Remove, after a confirmation.
 * @param {api.Absence} absence
 * @param {string} days
 * @param {string} meId
 * @param {() => Promise<void>} onRemoved
 * @returns {HTMLButtonElement}
 */
function removeButton(absence, days, meId, onRemoved) {
  const mine = absence.user_id === meId;
  return h('button', {
    type: 'button', class: 'button small danger', 'aria-haspopup': 'dialog',
    'aria-label': mine ? `Remove the absence ${days}` : `Remove the absence of ${absence.name}, ${days}`,
    onclick: () => {
      const yes = h('button', { type: 'button', class: 'button danger' }, 'Remove absence');
      const cancel = h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel');
      const { close } = openDialog({
        title: 'Remove this absence?',
        className: 'confirm',
        body: h('p', {}, mine
          ? `${days}: colleagues will no longer see you away then, and knocks will ring you again.`
          : `${absence.name}, ${days}: colleagues will no longer see them away then.`),
        footer: [cancel, yes],
      });
      cancel.focus();
      yes.addEventListener('click', () => void busy(yes, async () => {
        try {
          await api.removeAbsence(absence.id);
          close();
          toast('The absence has been removed.', 'success');
          await onRemoved();
        } catch (err) {
          close();
          toast(api.describeError(err), 'error');
        }
      }));
    },
  }, 'Remove');
}
