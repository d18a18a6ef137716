// A small, safe Markdown renderer for texts that administrators write (privacy policy, terms,
// consent notices). Parsing yields a plain tree (no DOM), which is then built with
// `createElement` and text nodes only: no innerHTML anywhere, so HTML in the text stays text.
//
// Supported: ATX headings (`#`…`######`), paragraphs, `---` rules, `>` quotes, bullet (`-`, `*`,
// `+`) and numbered (`1.`) lists (one level), fenced code blocks, and inline `**strong**`,
// `*emphasis*`/`_emphasis_`, `` `code` ``, `[links](https://…)`, `<https://…>` and backslash
// escapes. Links keep only http(s) and mailto URLs, and same-site paths (`/privacy`, `#part`);
// anything else (`javascript:`, `data:`…) is shown as plain text.

/**
 * An element of the parsed tree, or a text.
 * @typedef {{tag: string, attrs?: Record<string, string>, children: MdNode[]}|string} MdNode
 */

/**
 * @typedef {object} MarkdownOptions
 * @property {number} [headingOffset] Added to a heading's level: 1 (default) makes `#` an `<h2>`,
 *   for texts shown under the page's own `<h1>`. Levels stop at 6.
 */

/**
 * Whether a link target may be used: http(s) or mailto, or a path on this site.
 * @param {string} url
 * @returns {boolean}
 */
export function safeHref(url) {
  // Browsers drop tabs and newlines inside URLs ("java\tscript:"), and read "\" as "/" in paths.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f-\u009f\\]/.test(url)) return false;
  if (/^(https?:\/\/[^/]|mailto:[^/])/i.test(url)) return true;
  return /^\/(?!\/)/.test(url) || /^#/.test(url);
}

/**
 * Parses Markdown into a tree of blocks.
 * @param {string} text
 * @param {MarkdownOptions} [options]
 * @returns {MdNode[]}
 */
export function parseMarkdown(text, options = {}) {
  const offset = options.headingOffset === undefined ? 1 : options.headingOffset;
  const lines = String(text || '').replace(/\r\n?/g, '\n').split('\n');
  /** @type {MdNode[]} */
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }
    const fence = /^\s{0,3}(```|~~~)/.exec(line);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) body.push(lines[i++]);
      i++;
      blocks.push({ tag: 'pre', children: [{ tag: 'code', children: [body.join('\n')] }] });
      continue;
    }
    const heading = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const level = Math.min(6, Math.max(1, heading[1].length + offset));
      blocks.push({ tag: 'h' + level, children: parseInline(heading[2]) });
      i++;
      continue;
    }
    if (/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) {
      blocks.push({ tag: 'hr', children: [] });
      i++;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const quoted = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i])) quoted.push(lines[i++].replace(/^\s{0,3}>\s?/, ''));
      blocks.push({ tag: 'blockquote', children: parseMarkdown(quoted.join('\n'), options) });
      continue;
    }
    const marker = listMarker(line);
    if (marker) {
      /** @type {MdNode[]} */
      const items = [];
      let current = [marker.rest];
      i++;
      while (i < lines.length) {
        const next = listMarker(lines[i]);
        if (next && next.ordered === marker.ordered) {
          items.push({ tag: 'li', children: parseInline(current.join(' ')) });
          current = [next.rest];
        } else if (lines[i].trim() && /^\s+/.test(lines[i]) && !next) {
          current.push(lines[i].trim()); // a continuation line, indented
        } else break;
        i++;
      }
      items.push({ tag: 'li', children: parseInline(current.join(' ')) });
      /** @type {Record<string, string>} */
      const attrs = {};
      if (marker.ordered && marker.start !== 1) attrs.start = String(marker.start);
      blocks.push({ tag: marker.ordered ? 'ol' : 'ul', attrs, children: items });
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !startsBlock(lines[i])) para.push(lines[i++].trim());
    if (para.length === 0) para.push(lines[i++].trim());
    blocks.push({ tag: 'p', children: parseInline(para.join(' ')) });
  }
  return blocks;
}

/**
 * @param {string} line
 * @returns {{ordered: boolean, start: number, rest: string}|null}
 */
function listMarker(line) {
  const bullet = /^\s{0,3}[-*+]\s+(.*)$/.exec(line);
  if (bullet && !/^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line)) return { ordered: false, start: 1, rest: bullet[1] };
  const number = /^\s{0,3}(\d{1,9})[.)]\s+(.*)$/.exec(line);
  if (number) return { ordered: true, start: Number(number[1]), rest: number[2] };
  return null;
}

/**
 * Whether a line begins a block other than a paragraph (and so ends a paragraph).
 * @param {string} line
 * @returns {boolean}
 */
function startsBlock(line) {
  return /^\s{0,3}(#{1,6}\s|>|```|~~~)/.test(line) || /^\s{0,3}([-*_])(\s*\1){2,}\s*$/.test(line) || listMarker(line) !== null;
}

/**
 * Parses inline Markdown.
 * @param {string} text
 * @returns {MdNode[]}
 */
export function parseInline(text) {
  /** @type {MdNode[]} */
  const out = [];
  let plain = '';
  const flush = () => {
    if (plain) out.push(plain);
    plain = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && /[\\`*_{}[\]()#+\-.!<>~|]/.test(text[i + 1])) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '`') {
      const run = /^`+/.exec(text.slice(i))?.[0] || '`';
      const end = text.indexOf(run, i + run.length);
      if (end > 0) {
        flush();
        out.push({ tag: 'code', children: [text.slice(i + run.length, end).trim() || text.slice(i + run.length, end)] });
        i = end + run.length;
        continue;
      }
    }
    if (c === '*' || c === '_') {
      const double = text[i + 1] === c;
      const delim = double ? c + c : c;
      const end = closing(text, i + delim.length, delim);
      const boundary = c === '*' || !/\w/.test(text[i - 1] || '');
      if (end > i + delim.length && boundary && !/\s/.test(text[i + delim.length])) {
        flush();
        out.push({ tag: double ? 'strong' : 'em', children: parseInline(text.slice(i + delim.length, end)) });
        i = end + delim.length;
        continue;
      }
    }
    if (c === '[') {
      const link = /^\[((?:\\.|[^\]\\])*)\]\(\s*<?([^\s)>]*)>?(?:\s+"[^"]*")?\s*\)/.exec(text.slice(i));
      if (link) {
        flush();
        const label = parseInline(link[1]);
        out.push(safeHref(link[2]) ? anchor(link[2], label) : { tag: 'span', children: label });
        i += link[0].length;
        continue;
      }
    }
    if (c === '<') {
      const auto = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/i.exec(text.slice(i));
      if (auto && safeHref(auto[1])) {
        flush();
        out.push(anchor(auto[1], [auto[1]]));
        i += auto[0].length;
        continue;
      }
    }
    plain += c;
    i++;
  }
  flush();
  return out;
}

/**
 * The index of the closing delimiter, or -1.
 * @param {string} text
 * @param {number} from
 * @param {string} delim
 * @returns {number}
 */
function closing(text, from, delim) {
  for (let j = from; j < text.length; j++) {
    if (text[j] === '\\') { j++; continue; }
    if (text[j] === '`') {
      const end = text.indexOf('`', j + 1);
      if (end > 0) { j = end; continue; }
    }
    if (!text.startsWith(delim, j) || /\s/.test(text[j - 1])) continue;
    if (delim.length === 1 && text[j + 1] === delim) { j++; continue; }
    if (delim[0] === '_' && /\w/.test(text[j + delim.length] || '')) continue; // snake_case is not emphasis
    return j;
  }
  return -1;
}

/**
 * @param {string} href
 * @param {MdNode[]} children
 * @returns {MdNode}
 */
function anchor(href, children) {
  /** @type {Record<string, string>} */
  const attrs = { href };
  if (/^https?:/i.test(href)) {
    attrs.target = '_blank';
    attrs.rel = 'noopener noreferrer';
  } else if (/^mailto:/i.test(href)) {
    attrs.rel = 'noopener noreferrer';
  }
  return { tag: 'a', attrs, children };
}

/** The only elements the builder makes, and the only attributes each may carry. */
const ALLOWED = /** @type {Record<string, string[]>} */ ({
  h1: [], h2: [], h3: [], h4: [], h5: [], h6: [], p: [], ul: [], ol: ['start'], li: [], em: [], strong: [], code: [],
  pre: [], blockquote: [], hr: [], span: [], a: ['href', 'target', 'rel'],
});

/**
 * Builds DOM nodes from a parsed tree: elements and text nodes only.
 * @param {MdNode[]} nodes
 * @param {Document} doc
 * @returns {Node[]}
 */
export function buildNodes(nodes, doc) {
  return nodes.map((node) => {
    if (typeof node === 'string') return doc.createTextNode(node);
    const allowed = ALLOWED[node.tag];
    if (!allowed) return doc.createTextNode(''); // never reached from the parser; kept as a guard
    const el = doc.createElement(node.tag);
    for (const [name, value] of Object.entries(node.attrs || {})) {
      if (allowed.includes(name) && (name !== 'href' || safeHref(value))) el.setAttribute(name, value);
    }
    for (const child of buildNodes(node.children, doc)) el.appendChild(child);
    return el;
  });
}

/**
 * Renders Markdown as DOM nodes, ready to append.
 * @param {string} text
 * @param {MarkdownOptions & {document?: Document}} [options] `document` for tests without a browser.
 * @returns {Node[]}
 */
export function renderMarkdown(text, options = {}) {
  return buildNodes(parseMarkdown(text, options), options.document || globalThis.document);
}
