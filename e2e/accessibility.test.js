// Accessibility checked by a tool nobody here wrote (issue #18): axe-core (Deque's engine, the npm
// package `axe-core`) runs on the pages of the web client — signed out, as a member and as an
// administrator, wide and at 390 px — and finds no violation of serious or critical impact. Not
// yet: the guest's pages, open dialogs, the call stage.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice } from './office.js';

const LONG = { timeout: 300_000 };
const ADMIN = { name: 'Ada Admin', email: 'ada@example.test', password: 'ada-long-password', admin: true };
const MEMBER = { name: 'Max Member', email: 'max@example.test', password: 'max-long-password' };
/** Pages anyone may open. */
const PUBLIC_PAGES = ['/login', '/privacy', '/terms', '/local-storage'];
/** Pages of a signed-in member. */
const MEMBER_PAGES = ['/office', '/directory', '/profile', '/absences', '/attendance', '/support', '/privacy-centre', '/privacy', '/local-storage'];
/** And of an administrator. */
const ADMIN_PAGES = [...MEMBER_PAGES, '/admin', '/privacy-admin', '/invitations'];

/** @type {import('./server.js').Bureau} */
let bureau;
/** The engine's source, evaluated in each page (the page's CSP allows no injected script tag). */
let axeSource = '';

before(async () => {
  axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  bureau = await startBureau();
  await bureau.createUser(ADMIN);
  await bureau.createUser(MEMBER);
}, LONG);
after(async () => {
  if (bureau) await bureau.stop();
});

/**
 * Opens `path`, waits for the page to be drawn, and runs axe-core on it.
 * @param {import('playwright-core').Page} page
 * @param {string} path
 * @returns {Promise<string[]>} The serious and critical violations, each with where it is.
 */
async function violations(page, path) {
  await page.goto(path);
  await page.locator('main h1, main h2').first().waitFor();
  await page.waitForLoadState('networkidle');
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  return page.evaluate(async (path) => {
    const axe = /** @type {any} */ (window).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((/** @type {any} */ v) => v.impact === 'serious' || v.impact === 'critical')
      .map((/** @type {any} */ v) => `${path}: ${v.impact} ${v.id} (${v.help}) at ${v.nodes.slice(0, 3).map((/** @type {any} */ n) => n.target.join(' ')).join('; ')}`);
  }, path);
}

/**
 * Checks every page of `pages` in a browser of `width`, signed in as `user` (or not).
 * @param {{email: string, password: string}|null} user
 * @param {string[]} pages
 * @param {number} width
 * @returns {Promise<string[]>}
 */
async function checkAll(user, pages, width) {
  const b = await openBrowser(bureau, { width, height: 800 });
  try {
    if (user) await enterOffice(b.page, user);
    /** @type {string[]} */
    const found = [];
    for (const path of pages) found.push(...(await violations(b.page, path)));
    assert.deepEqual(b.errors, []);
    return found;
  } finally {
    await b.close();
  }
}

test('no serious or critical violation on any page, signed out, as a member and as an administrator, wide and narrow', LONG, async () => {
  // The extended profile shows absences and attendance to everyone.
  const b = await openBrowser(bureau);
  await enterOffice(b.page, ADMIN);
  const mode = await apiFromPage(b.page, 'PATCH', '/api/org', { profile_mode: 'extended' });
  assert.equal(mode.status, 200, JSON.stringify(mode.body));
  await b.close();
  /** @type {string[]} */
  const found = [];
  for (const width of [1440, 390]) {
    found.push(...(await checkAll(null, PUBLIC_PAGES, width)));
    found.push(...(await checkAll(MEMBER, MEMBER_PAGES, width)));
    found.push(...(await checkAll(ADMIN, ADMIN_PAGES, width)));
  }
  assert.deepEqual([...new Set(found)], []);
});
