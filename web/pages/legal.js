// The public legal pages — /privacy, /terms and /local-storage — readable without signing in
// (the invitation email links to them). The organisation's own privacy policy and terms come
// from `GET /api/legal` (Markdown, rendered by /markdown.js); without them, the defaults of /legal.js.

import { h } from '/ui/dom.js';
import { legalDocument, LEGAL_PATHS } from '/client/legal-texts.js';
import { legal } from '/client/privacy-api.js';
import { renderMarkdown } from '/ui/markdown.js';

/** @type {Record<string, import('/client/legal-texts.js').LegalKind>} */
const KIND_BY_PATH = { '/privacy': 'privacy', '/terms': 'terms', '/local-storage': 'local-storage' };

/** @type {{kind: import('/client/legal-texts.js').LegalKind, label: string}[]} */
const LINKS = [
  { kind: 'privacy', label: 'Privacy policy' },
  { kind: 'terms', label: 'Terms of use' },
  { kind: 'local-storage', label: 'Local storage' },
];

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const path = location.pathname.replace(/\/+$/, '');
  const kind = KIND_BY_PATH[path] || 'privacy';
  const texts = kind === 'local-storage' ? null : await legal(ctx.org ? ctx.org.slug : undefined).catch(() => null);
  const doc = legalDocument(kind, ctx.org ? ctx.org.name : texts ? texts.org_name : undefined);
  const own = texts && kind !== 'local-storage' ? texts[kind] : null;
  return h('article', { class: 'page medium legal', 'aria-labelledby': 'legal-title' },
    h('div', { class: 'page-head' },
      h('div', {},
        h('h1', { id: 'legal-title' }, doc.title),
        h('p', {}, doc.summary))),
    h('div', { class: 'card legal-body' }, own && own.markdown !== null ? customSections(own) : documentSections(doc, 2, kind)),
    h('nav', { class: 'legal-nav', 'aria-label': 'Legal information' },
      h('ul', {}, LINKS.map((l) => h('li', {}, l.kind === kind
        ? h('span', { 'aria-current': 'page' }, l.label)
        : h('a', { href: LEGAL_PATHS[l.kind] }, l.label)))),
      h('a', { class: 'button', href: ctx.me ? '/directory' : '/login' }, ctx.me ? 'Back to Bureau' : 'Go to sign in')));
}

/**
 * An organisation's own legal text, rendered from Markdown (`#` becomes a level-2 heading).
 * @param {import('/client/privacy-api.js').LegalText} text
 * @param {number} [headingOffset] 1 under a page's h1, 2 inside a section with an h2.
 * @returns {Node[]}
 */
export function customSections(text, headingOffset = 1) {
  const updated = text.updated_at ? `, ${new Date(text.updated_at).toLocaleDateString([], { dateStyle: 'medium' })}` : '';
  return [
    ...renderMarkdown(text.markdown || '', { headingOffset }),
    h('p', { class: 'hint legal-version' }, `Version ${text.version}${updated}.`),
  ];
}

/**
 * A legal document's sections as headings, paragraphs and lists.
 * @param {import('/client/legal-texts.js').LegalDocument} doc
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
