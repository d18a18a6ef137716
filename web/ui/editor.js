// Profile form fields built from the field descriptions in fields.js; shared by the own-profile
// page and the administrators' user dialog.

import { h, field } from '/ui/dom.js';

/**
 * Form fields for the given specs, filled from a user.
 * @param {import('/client/fields.js').FieldSpec[]} specs
 * @param {Record<string, any>} user
 * @param {import('/client/api.js').User[]} colleagues Candidates for the deputy choice.
 * @returns {HTMLElement[]}
 */
export function profileFields(specs, user, colleagues) {
  return specs.map((spec) => {
    const current = user[spec.name];
    const value = current === undefined || current === null ? '' : String(current);
    if (spec.kind === 'deputy') {
      const options = [{ value: '', label: 'No deputy' }].concat(
        colleagues.filter((c) => c.id !== user.id && (c.active || c.id === value))
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((c) => ({ value: c.id, label: c.name })));
      if (value && !options.some((o) => o.value === value)) options.push({ value, label: 'A colleague' });
      return field({ name: spec.name, label: spec.label, type: 'select', value, hint: spec.hint, options });
    }
    /** @type {Record<string, string>} */
    const attrs = {};
    if (spec.kind === 'number') Object.assign(attrs, { min: '0', max: '168', step: '0.5', inputmode: 'decimal' });
    if (spec.kind === 'text') attrs.maxlength = '200';
    const wrapper = field({
      name: spec.name, label: spec.label, type: spec.kind, value, hint: spec.hint,
      required: spec.name === 'name' || spec.name === 'email', autocomplete: spec.autocomplete, attrs,
    });
    return wrapper;
  });
}

/**
 * A field group of checkboxes (e.g. rights) named `name`.
 * @param {string} name
 * @param {string} legend
 * @param {{value: string, label: string}[]} choices
 * @param {string[]} checked
 * @returns {HTMLFieldSetElement}
 */
export function checkboxGroup(name, legend, choices, checked) {
  return h('fieldset', { class: 'fieldset field', dataset: { field: name } },
    h('legend', {}, legend),
    choices.map((c) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name, value: c.value, checked: checked.includes(c.value) }),
      h('span', {}, c.label))),
    h('p', { class: 'field-error', role: 'alert', hidden: true }));
}

/**
 * The values of the checked boxes named `name`.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @returns {string[]}
 */
export function checkedValues(form, name) {
  return [...form.querySelectorAll(`input[type="checkbox"][name="${CSS.escape(name)}"]:checked`)]
    .map((el) => /** @type {HTMLInputElement} */ (el).value);
}

/**
 * A radio group, one `.choice` card per option.
 * @param {string} name
 * @param {string} legend
 * @param {{value: string, label: string, hint: string}[]} choices
 * @param {string} checked
 * @returns {HTMLFieldSetElement}
 */
export function radioGroup(name, legend, choices, checked) {
  return h('fieldset', { class: 'fieldset field', dataset: { field: name } },
    h('legend', {}, legend),
    h('div', { class: 'choices' },
      choices.map((c) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name, value: c.value, checked: c.value === checked }),
        h('div', {}, h('strong', {}, c.label), h('span', {}, c.hint))))),
    h('p', { class: 'field-error', role: 'alert', hidden: true }));
}
