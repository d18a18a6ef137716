// "Legal texts" for administrators: the organisation's privacy policy, terms of use and consent text in
// Markdown, with a live preview (web/markdown.js). Every save is a new version on the server;
// an empty text (or "Use Bureau's default") goes back to the default text of web/legal.js.

import * as privacy from '/client/privacy-api.js';
import { h, uid, busy, debounce, toast, setFormError, clearErrors } from '/ui/dom.js';
import { renderMarkdown } from '/ui/markdown.js';
import { privacyPolicy, termsOfUse, LEGAL_PATHS } from '/client/legal-texts.js';
import { defaultConsentText } from '/ui/consent.js';

/**
 * A default legal document written out as Markdown, as a starting point for an edited copy.
 * @param {import('/client/legal-texts.js').LegalDocument} doc
 * @returns {string}
 */
export function documentMarkdown(doc) {
  /** @param {string} s */
  const esc = (s) => s.replace(/([\\`*_[\]#<>])/g, '\\$1');
  const parts = [doc.summary ? esc(doc.summary) : ''];
  for (const section of doc.sections) {
    parts.push(`# ${esc(section.heading)}`);
    for (const p of section.paragraphs || []) parts.push(esc(p));
    if (section.items) parts.push(section.items.map((item) => `- ${esc(item)}`).join('\n'));
    for (const p of section.after || []) parts.push(esc(p));
  }
  return parts.filter(Boolean).join('\n\n') + '\n';
}

/**
 * The "Legal texts" section, or a notice when this server cannot store them yet.
 * @param {privacy.LegalTexts|null} texts
 * @param {string} orgName
 * @returns {HTMLElement}
 */
export function legalTextsSection(texts, orgName) {
  const section = h('section', { class: 'card legal-editor', 'aria-labelledby': 'pa-legal-title' },
    h('h2', { id: 'pa-legal-title' }, 'Legal texts'));
  if (!texts) {
    section.append(h('p', { class: 'notice' }, 'This server cannot store your own legal texts yet: everyone sees Bureau’s default privacy policy and terms of use.'));
    return section;
  }
  section.append(
    h('p', { class: 'hint' }, 'Your organisation’s privacy policy and terms of use, shown on the public pages and when someone registers. Write them in Markdown: # heading, **bold**, *italic*, - lists, [links](https://example.org). Each save is a new version.'),
    editor('privacy', 'Privacy policy', texts.privacy, () => documentMarkdown(privacyPolicy(orgName))),
    editor('terms', 'Terms of use', texts.terms, () => documentMarkdown(termsOfUse(orgName))),
    editor('consent', 'Consent text', texts.consent || { markdown: null, version: 0, updated_at: null }, () => defaultConsentText(orgName)));
  return section;
}

/**
 * One text's editor: textarea, live preview, save and reset.
 * @param {'privacy'|'terms'|'consent'} kind
 * @param {string} label
 * @param {privacy.LegalText} initial
 * @param {() => string} defaultMarkdown Bureau's default text, as Markdown.
 * @returns {HTMLElement}
 */
function editor(kind, label, initial, defaultMarkdown) {
  let current = initial;
  const id = uid('legal-' + kind);
  const textarea = h('textarea', { id, name: kind + '_markdown', rows: '14', class: 'markdown-input', spellcheck: 'true', 'aria-describedby': id + '-state' });
  textarea.value = current.markdown || '';
  const preview = h('div', { class: 'markdown-preview legal-body', 'aria-live': 'off', tabindex: '0', role: 'region', 'aria-label': `Preview of the ${label.toLowerCase()}` });
  const state = h('p', { class: 'hint', id: id + '-state' });
  const drawState = () => {
    const version = current.version ? `version ${current.version}` : '';
    const updated = current.updated_at ? `saved ${new Date(current.updated_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}` : '';
    state.textContent = current.markdown === null
      ? 'Bureau’s default text is shown. Write your own here, or start from the default.'
      : `Your own text, ${[version, updated].filter(Boolean).join(', ')}.`;
  };
  const drawPreview = () => {
    const text = textarea.value;
    preview.replaceChildren(...(text.trim() ? renderMarkdown(text) : [h('p', { class: 'muted' }, 'Empty: Bureau’s default text is shown.')]));
  };
  textarea.addEventListener('input', debounce(drawPreview, 150));
  drawState();
  drawPreview();

  const save = h('button', { type: 'submit', class: 'button primary' }, `Save ${label.toLowerCase()}`);
  const startDefault = h('button', { type: 'button', class: 'button' }, 'Start from the default text');
  const reset = h('button', { type: 'button', class: 'button danger' }, 'Use Bureau’s default');
  const form = h('form', { class: 'legal-form', novalidate: true, 'aria-label': `Edit the ${label.toLowerCase()}` },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'legal-edit-head' },
      h('h3', {}, label),
      kind === 'consent'
        ? h('span', { class: 'hint' }, 'Shown before camera and microphone are used; a new version asks everyone again.')
        : h('a', { href: LEGAL_PATHS[kind], target: '_blank', rel: 'noopener' }, 'Open the page', h('span', { class: 'sr-only' }, ` (${label}, new tab)`))),
    state,
    h('div', { class: 'legal-edit-panes' },
      h('div', { class: 'field' }, h('label', { for: id }, 'Markdown'), textarea),
      h('div', { class: 'field' }, h('span', { class: 'preview-label', 'aria-hidden': 'true' }, 'Preview'), preview)),
    h('div', { class: 'form-actions' }, startDefault, reset, save));

  /** @param {string|null} markdown */
  const store = (markdown) => busy(save, async () => {
    clearErrors(form);
    try {
      const fresh = await privacy.updateLegal({ [`${kind}_markdown`]: markdown });
      current = fresh[kind] || { markdown: null, version: 0, updated_at: null };
      textarea.value = current.markdown || '';
      drawState();
      drawPreview();
      toast(markdown === null ? `The ${label.toLowerCase()} is Bureau’s default again.` : `The ${label.toLowerCase()} was saved.`, 'success');
    } catch (err) {
      setFormError(form, privacy.describe(err));
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = textarea.value.trim() ? textarea.value : null;
    if (text === current.markdown) return void toast('Nothing to save: the text was not changed.');
    void store(text);
  });
  startDefault.addEventListener('click', () => {
    if (textarea.value.trim() && !confirm('Replace the text in the editor with Bureau’s default text?')) return;
    textarea.value = defaultMarkdown();
    drawPreview();
    textarea.focus();
  });
  reset.addEventListener('click', () => {
    if (current.markdown === null) return void toast(`The ${label.toLowerCase()} is already Bureau’s default.`);
    void store(null);
  });
  return form;
}
