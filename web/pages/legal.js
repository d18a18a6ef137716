// The public legal pages — /privacy, /terms and /local-storage — readable without signing in
// (the invitation email links to them). The texts are in /legal.js.

import { h } from '/dom.js';
import { legalDocument, LEGAL_PATHS } from '/legal.js';

/** @type {Record<string, import('/legal.js').LegalKind>} */
const KIND_BY_PATH = { '/privacy': 'privacy', '/terms': 'terms', '/local-storage': 'local-storage' };

/** @type {{kind: import('/legal.js').LegalKind, label: string}[]} */
const LINKS = [
  { kind: 'privacy', label: 'Privacy policy' },
  { kind: 'terms', label: 'Terms of use' },
  { kind: 'local-storage', label: 'Local storage' },
];

/**
 * @param {import('/app.js').Context} ctx
 * @returns {HTMLElement}
 */
export function render(ctx) {
  const path = location.pathname.replace(/\/+$/, '');
  const kind = KIND_BY_PATH[path] || 'privacy';
  const doc = legalDocument(kind, ctx.org ? ctx.org.name : undefined);
  return h('article', { class: 'page medium legal', 'aria-labelledby': 'legal-title' },
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', { id: 'legal-title' }, doc.title),
        h('p', {}, doc.summary))),
    h('div', { class: 'card legal-body' }, documentSections(doc, 2, kind)),
    h('nav', { class: 'legal-nav', 'aria-label': 'Legal information' },
      h('ul', {}, LINKS.map((l) => h('li', {}, l.kind === kind
        ? h('span', { 'aria-current': 'page' }, l.label)
        : h('a', { href: LEGAL_PATHS[l.kind] }, l.label)))),
      h('a', { class: 'button', href: ctx.me ? '/directory' : '/login' }, ctx.me ? 'Back to Bureau' : 'Go to sign in')));
}

/**
 * A legal document's sections as headings, paragraphs and lists.
 * @param {import('/legal.js').LegalDocument} doc
 * @param {2|3} level Heading level of the sections.
 * @param {string} idPrefix Prefix of the heading ids (unique per page).
 * @returns {HTMLElement[]}
 */
export function documentSections(doc, level, idPrefix) {
  const tag = level === 2 ? 'h2' : 'h3';
  const nodes = doc.sections.map((section, i) => {
    const id = `${idPrefix}-s${i + 1}`;
    return h('div', { class: 'legal-section' },
      h(tag, { id }, section.heading),
      (section.paragraphs || []).map((p) => h('p', {}, p)),
      section.items ? h('ul', {}, section.items.map((item) => h('li', {}, item))) : null,
      (section.after || []).map((p) => h('p', {}, p)));
  });
  nodes.push(h('p', { class: 'hint legal-version' }, `Version ${doc.version}. These are Bureau’s default texts; your organisation may adapt them.`));
  return nodes;
}
