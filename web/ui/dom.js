// Small building blocks of the UI: element creation, form fields with inline errors, dialogs and
// toasts. Every page builds its DOM with these so markup and accessibility stay consistent.

/**
 * @typedef {string|number|Node|null|undefined|false} Child
 * @typedef {Child|Child[]} Children
 */

/**
 * Creates an element. Props: `class`, `text`, `on<Event>` handlers, `dataset`, boolean and
 * string attributes (`false`/`null`/`undefined` are left out).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any>} [props]
 * @param {...Children} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') el.style.cssText = String(value); // CSSOM: allowed by the server's CSP, a style attribute is not
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'value' && 'value' in el) /** @type {HTMLInputElement} */ (el).value = String(value);
    else if (key === 'checked' && el instanceof HTMLInputElement) el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/**
 * Appends children (nested arrays allowed; falsy values skipped).
 * @param {Element} parent
 * @param {Children[]} children
 */
export function append(parent, children) {
  for (const child of children.flat(2)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

let idCounter = 0;
/**
 * A unique id for linking labels, hints and errors.
 * @param {string} prefix
 * @returns {string}
 */
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/**
 * @typedef {object} FieldOptions
 * @property {string} name
 * @property {string} label
 * @property {string} [type] Input type; `select` and `textarea` make those elements.
 * @property {string} [value]
 * @property {string} [hint]
 * @property {boolean} [required]
 * @property {string} [autocomplete]
 * @property {string} [placeholder]
 * @property {boolean} [disabled]
 * @property {{value: string, label: string}[]} [options] For selects.
 * @property {Record<string, string>} [attrs] Extra input attributes (minlength, inputmode…).
 */

/**
 * A labelled form field with a hint and a place for its error message.
 * @param {FieldOptions} o
 * @returns {HTMLDivElement} The `.field` wrapper; its control has `name` = `o.name`.
 */
export function field(o) {
  const id = uid('f-' + o.name);
  const hintId = o.hint ? id + '-hint' : undefined;
  const errorId = id + '-error';
  const describedBy = [hintId, errorId].filter(Boolean).join(' ');
  /** @type {HTMLInputElement|HTMLSelectElement|HTMLTextAreaElement} */
  let control;
  if (o.type === 'select') {
    control = h('select', { id, name: o.name, 'aria-describedby': describedBy, disabled: o.disabled },
      (o.options || []).map((opt) => h('option', { value: opt.value, text: opt.label, selected: opt.value === o.value })));
  } else if (o.type === 'textarea') {
    control = h('textarea', { id, name: o.name, 'aria-describedby': describedBy, disabled: o.disabled, text: o.value || '' });
  } else {
    control = h('input', {
      id, name: o.name, type: o.type || 'text', value: o.value || '', required: o.required,
      autocomplete: o.autocomplete || 'off', placeholder: o.placeholder, disabled: o.disabled,
      'aria-describedby': describedBy,
    });
  }
  for (const [k, v] of Object.entries(o.attrs || {})) control.setAttribute(k, v);
  return h('div', { class: 'field', dataset: { field: o.name } },
    h('label', { for: id }, o.label),
    control,
    o.hint ? h('p', { class: 'hint', id: hintId, text: o.hint }) : null,
    h('p', { class: 'field-error', id: errorId, role: 'alert', hidden: true }));
}

/**
 * Shows an error next to the named field of a form; returns false if the form has no such field.
 * @param {HTMLFormElement} form
 * @param {string} name
 * @param {string} message
 * @returns {boolean}
 */
export function setFieldError(form, name, message) {
  const wrapper = form.querySelector(`.field[data-field="${CSS.escape(name)}"]`);
  if (!wrapper) return false;
  const error = /** @type {HTMLElement} */ (wrapper.querySelector('.field-error'));
  const control = wrapper.querySelector('input, select, textarea');
  error.textContent = message;
  error.hidden = false;
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    /** @type {HTMLElement} */ (control).focus();
  }
  return true;
}

/**
 * Shows a message in the form's error banner (an `aria-live` region).
 * @param {HTMLFormElement} form
 * @param {string} message
 */
export function setFormError(form, message) {
  let banner = /** @type {HTMLElement|null} */ (form.querySelector('.form-error'));
  if (!banner) {
    banner = h('div', { class: 'form-error', role: 'alert' });
    form.prepend(banner);
  }
  banner.textContent = message;
  banner.hidden = false;
}

/**
 * Clears every field error and the banner of a form.
 * @param {HTMLFormElement} form
 */
export function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((e) => {
    e.textContent = '';
    /** @type {HTMLElement} */ (e).hidden = true;
  });
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const banner = /** @type {HTMLElement|null} */ (form.querySelector('.form-error'));
  if (banner) banner.hidden = true;
}

/**
 * Shows an API error on a form: next to its field when the server names one that the form has,
 * in the banner otherwise.
 * @param {HTMLFormElement} form
 * @param {unknown} err
 * @param {(err: unknown) => string} describe Turns an error into a sentence.
 */
export function showError(form, err, describe) {
  const fieldName = err && typeof err === 'object' && 'field' in err ? /** @type {any} */ (err).field : undefined;
  const message = describe(err);
  if (typeof fieldName === 'string' && setFieldError(form, fieldName, message)) return;
  setFormError(form, message);
}

/**
 * Reads a form's values as strings (checkbox groups are read separately).
 * @param {HTMLFormElement} form
 * @returns {Record<string, string>}
 */
export function formValues(form) {
  /** @type {Record<string, string>} */
  const values = {};
  for (const [k, v] of new FormData(form).entries()) {
    if (typeof v === 'string' && !(k in values)) values[k] = v;
  }
  return values;
}

/**
 * Marks a submit button busy while a promise runs, so double submits are impossible.
 * @template T
 * @param {HTMLButtonElement} button
 * @param {() => Promise<T>} work
 * @returns {Promise<T>}
 */
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

/**
 * Shows a short message in the toast region (announced by screen readers).
 * @param {string} message
 * @param {'success'|'error'|'info'} [kind]
 */
export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: `toast toast-${kind}` }, message); // the region is aria-live
  region.append(item);
  setTimeout(() => item.classList.add('leaving'), 4000);
  setTimeout(() => item.remove(), 4400);
}

/**
 * @typedef {object} DialogOptions
 * @property {string} title
 * @property {Children} body
 * @property {Children} [footer]
 * @property {string} [className]
 * @property {() => void} [onClose]
 */

/**
 * Opens a modal dialog (native `<dialog>`: focus is trapped, Escape closes it, focus returns to
 * the element that opened it).
 * @param {DialogOptions} o
 * @returns {{dialog: HTMLDialogElement, close: () => void}}
 */
export function openDialog(o) {
  const opener = /** @type {HTMLElement|null} */ (document.activeElement);
  const titleId = uid('dialog-title');
  const close = () => dialog.close();
  const dialog = h('dialog', { class: 'dialog ' + (o.className || ''), 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' },
      h('h2', { id: titleId, text: o.title }),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: close, text: '×' })),
    h('div', { class: 'dialog-body' }, o.body),
    o.footer ? h('div', { class: 'dialog-foot' }, o.footer) : null);
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (o.onClose) o.onClose();
    if (opener && document.contains(opener)) opener.focus();
  });
  // A click on the backdrop (outside the dialog box) closes it.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) close();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close };
}

/**
 * Calls `fn` once input has paused for `ms` milliseconds.
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {(...args: A) => void}
 */
export function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout>|undefined} */
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
