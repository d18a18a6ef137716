// The web client's layers, enforced (no browser, no server): every import names a file that
// exists, and imports only point down — pages → ui → live → client, never back up:
// - web/client/: DOM-free (also checked by tsc without the DOM lib, web/client/tsconfig.json);
// - web/live/: the live office in the browser (signaling, WebRTC, media, transfers), no DOM;
// - web/ui/: components; web/pages/: pages; web/app.js: the shell (JSDoc types may name its
//   `Context`, a type, not an import the browser makes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const WEB = new URL('../web/', import.meta.url).pathname;
const LAYERS = ['client', 'live', 'ui', 'pages'];
/** @type {Record<string, string[]>} What each layer may import from. */
const MAY_IMPORT = {
  client: ['client'],
  live: ['client', 'live'],
  ui: ['client', 'live', 'ui'],
  pages: ['client', 'live', 'ui', 'pages'],
};

/** @param {string} source @returns {string} The source without comments (so prose may say "window"). */
function code(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** @returns {{layer: string, file: string, source: string}[]} */
function modules() {
  return LAYERS.flatMap((layer) => readdirSync(join(WEB, layer)).filter((f) => f.endsWith('.js'))
    .map((file) => ({ layer, file, source: readFileSync(join(WEB, layer, file), 'utf8') })));
}

/** @param {string} source @returns {string[]} Every absolute module specifier, static, dynamic or in a JSDoc import(). */
function imports(source) {
  return [...source.matchAll(/(?:from\s+|import\()\s*['"](\/[^'"]+\.js)['"]/g)].map((m) => m[1]);
}

test('every layer exists and holds modules', () => {
  for (const layer of LAYERS) assert.ok(readdirSync(join(WEB, layer)).some((f) => f.endsWith('.js')), `web/${layer}/ has no module`);
});

test('every import names an existing file and points down the layers', () => {
  const problems = [];
  for (const { layer, file, source } of [...modules(), { layer: 'app', file: 'app.js', source: readFileSync(join(WEB, 'app.js'), 'utf8') }]) {
    for (const spec of imports(source)) {
      if (!existsSync(join(WEB, spec))) problems.push(`${layer}/${file} imports ${spec}, which does not exist`);
    }
    // The direction rule is for code; a JSDoc type may name the shell's Context (`/app.js`).
    for (const spec of imports(code(source))) {
      const target = spec.split('/')[1];
      if (layer !== 'app' && !MAY_IMPORT[layer].includes(target)) problems.push(`${layer}/${file} imports ${spec}: ${layer} may import only from ${MAY_IMPORT[layer].join(', ')}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('client and live modules never touch the DOM', () => {
  const problems = [];
  for (const { layer, file, source } of modules().filter((m) => m.layer === 'client' || m.layer === 'live')) {
    for (const name of ['document', 'window', 'HTMLElement', 'customElements']) {
      if (new RegExp(`\\b${name}\\b`).test(code(source))) problems.push(`${layer}/${file} uses ${name}`);
    }
  }
  assert.deepEqual(problems, []);
});

test('the checks can fail: a module reaching up or into the DOM is caught', () => {
  assert.deepEqual(imports("import { h } from '/ui/dom.js';\nconst x = await import('/pages/a.js');"), ['/ui/dom.js', '/pages/a.js']);
  assert.ok(/\bdocument\b/.test(code('document.body; // window')));
  assert.ok(!/\bwindow\b/.test(code('// a time window\n/* the window */ const a = 1;')));
});
