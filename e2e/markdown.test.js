// web/ui/markdown.js under node (no browser): the parsed tree, and the DOM it builds through a
// minimal fake document that records every element and attribute made — so a test can see
// that HTML in the text never becomes an element and unsafe links never become hrefs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMarkdown, parseInline, renderMarkdown, safeHref } from '../web/ui/markdown.js';

/** A fake element: tag, attributes, children; serialises to HTML with escaping. */
class FakeElement {
  /** @param {string} tag */
  constructor(tag) {
    this.tag = tag;
    /** @type {Record<string, string>} */
    this.attrs = {};
    /** @type {(FakeElement|FakeText)[]} */
    this.children = [];
  }

  /** @param {string} name @param {string} value */
  setAttribute(name, value) { this.attrs[name] = value; }

  /** @param {FakeElement|FakeText} child */
  appendChild(child) { this.children.push(child); return child; }

  /** @returns {string} */
  get html() {
    const attrs = Object.entries(this.attrs).map(([k, v]) => ` ${k}="${escape(v)}"`).join('');
    return `<${this.tag}${attrs}>${this.children.map((c) => c.html).join('')}</${this.tag}>`;
  }
}

class FakeText {
  /** @param {string} text */
  constructor(text) { this.text = text; }

  /** @returns {string} */
  get html() { return escape(this.text); }
}

/** @param {string} s */
function escape(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Every element the fake document made. */
const made = /** @type {FakeElement[]} */ ([]);
const fakeDocument = /** @type {Document} */ (/** @type {unknown} */ ({
  /** @param {string} tag */
  createElement(tag) { const el = new FakeElement(tag); made.push(el); return el; },
  /** @param {string} text */
  createTextNode(text) { return new FakeText(text); },
}));

/** @param {string} md @returns {string} */
function html(md) {
  return renderMarkdown(md, { document: fakeDocument }).map((n) => /** @type {any} */ (n).html).join('');
}

test('headings, paragraphs, emphasis, strong, code, lists', () => {
  assert.equal(html('# Title\n\nSome *soft* and **bold** text\nwith `code`.'),
    '<h2>Title</h2><p>Some <em>soft</em> and <strong>bold</strong> text with <code>code</code>.</p>');
  assert.equal(html('## Sub'), '<h3>Sub</h3>');
  assert.equal(renderMarkdown('# Top', { document: fakeDocument, headingOffset: 0 }).map((n) => /** @type {any} */ (n).html).join(''), '<h1>Top</h1>');
  assert.equal(html('- one\n- **two**\n  continued\n\n3. three\n4. four'),
    '<ul><li>one</li><li><strong>two</strong> continued</li></ul><ol start="3"><li>three</li><li>four</li></ol>');
  assert.equal(html('> quoted\n\n---\n\n```\n<b>x</b>\n```'), '<blockquote><p>quoted</p></blockquote><hr></hr><pre><code>&lt;b&gt;x&lt;/b&gt;</code></pre>');
  assert.equal(html('snake_case_name and 2 * 3 * 4'), '<p>snake_case_name and 2 * 3 * 4</p>');
  assert.equal(html('\\*not emphasis\\*'), '<p>*not emphasis*</p>');
});

test('links keep only http(s), mailto and same-site paths, with rel="noopener noreferrer"', () => {
  assert.equal(html('[site](https://example.org/a?b=1)'),
    '<p><a href="https://example.org/a?b=1" target="_blank" rel="noopener noreferrer">site</a></p>');
  assert.equal(html('[write](mailto:dpo@example.org)'), '<p><a href="mailto:dpo@example.org" rel="noopener noreferrer">write</a></p>');
  assert.equal(html('<https://example.org>'), '<p><a href="https://example.org" target="_blank" rel="noopener noreferrer">https://example.org</a></p>');
  assert.equal(html('see [local storage](/local-storage)'), '<p>see <a href="/local-storage">local storage</a></p>');
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', 'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox', '//evil.example', '/\\evil.example', 'https:/\\evil', 'file:///etc/passwd']) {
    assert.equal(safeHref(bad), false, bad);
    const out = html(`[click](${bad})`);
    assert.ok(!out.includes('href'), `${bad} -> ${out}`);
  }
  assert.equal(html('[click](javascript:alert(1))'), '<p><span>click</span>)</p>');
  assert.equal(html('<javascript:alert(1)>'), '<p>&lt;javascript:alert(1)&gt;</p>');
});

test('HTML in the text stays inert text', () => {
  made.length = 0;
  const out = html('<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> **<b onclick="x()">bold</b>**\n\n# <iframe src="https://evil"></iframe>');
  assert.deepEqual([...new Set(made.map((e) => e.tag))].sort(), ['h2', 'p', 'strong']);
  assert.ok(made.every((e) => Object.keys(e.attrs).length === 0), 'no attributes at all');
  assert.ok(out.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), out);
  assert.ok(out.includes('&lt;img src=x onerror=alert(1)&gt;'), out);
  // Link labels cannot smuggle elements either.
  made.length = 0;
  html('[<script>x</script>](https://example.org)');
  assert.deepEqual(made.map((e) => e.tag), ['p', 'a']);
});

test('the tree is plain data; odd input does not throw', () => {
  assert.deepEqual(parseInline('a **b** c'), ['a ', { tag: 'strong', children: ['b'] }, ' c']);
  assert.deepEqual(parseMarkdown(''), []);
  for (const odd of ['**', '*', '[', '[a](', '`', '```', '> ', '- ', '#', '1.', '***bold italic***', '_a_b_', '\\']) {
    assert.doesNotThrow(() => html(odd), odd);
  }
});
