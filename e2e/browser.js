// Launches the system Chromium (Debian package) through playwright-core, each browser with a
// fresh profile folder, and a few steps that several tests share.

import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

/**
 * @typedef {object} Browser
 * @property {import('playwright-core').BrowserContext} context
 * @property {import('playwright-core').Page} page
 * @property {string[]} errors Uncaught errors of the page's scripts.
 * @property {() => Promise<void>} close
 */

/**
 * How a browser is opened, beyond the defaults.
 * @typedef {object} BrowserOptions
 * @property {number} [width] Of the viewport (1280).
 * @property {number} [height] Of the viewport (800).
 * @property {string[]} [args] More Chromium switches; one named like a default replaces it
 *   (e.g. `--use-fake-device-for-media-stream=device-count=2` for two fake cameras).
 * @property {string} [proxy] `http://127.0.0.1:PORT` of an HTTP proxy that every connection,
 *   loopback included, goes through (`proxy.js`, to cut the network).
 */

/**
 * Opens a browser with a fresh profile on the given server, at its HTTPS address: the browser
 * accepts exactly the data folder's self-signed certificate (by its public key), as a user who
 * confirmed the certificate warning does, and speaks HTTP/2 to it.
 * @param {{baseUrl: string, spki: string}} server
 * @param {BrowserOptions} [options]
 * @returns {Promise<Browser>}
 */
export async function openBrowser(server, options = {}) {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-chromium-'));
  const extra = options.args || [];
  /** @param {string} arg */
  const name = (arg) => arg.split('=')[0];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS.filter((a) => !extra.some((e) => name(e) === name(a))), ...extra, `--ignore-certificate-errors-spki-list=${server.spki}`],
    // Playwright makes Chromium send loopback through the proxy too (<-loopback>).
    proxy: options.proxy ? { server: options.proxy } : undefined,
    baseURL: server.baseUrl,
    viewport: { width: options.width || 1280, height: options.height || 800 },
  });
  const page = context.pages()[0] || await context.newPage();
  /** @type {string[]} */
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Signs in through the sign-in page and waits for the office (the home page).
 * @param {import('playwright-core').Page} page
 * @param {string} email
 * @param {string} password
 */
export async function signIn(page, email, password) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/office');
  await page.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
  await assertHttp2(page);
}

/**
 * Fails unless the page was loaded over HTTPS with HTTP/2, as users load it.
 * @param {import('playwright-core').Page} page
 */
export async function assertHttp2(page) {
  const [protocol, scheme] = await page.evaluate(() => {
    const entry = /** @type {PerformanceNavigationTiming | undefined} */ (performance.getEntriesByType('navigation')[0]);
    return [entry ? entry.nextHopProtocol : '', location.protocol];
  });
  if (protocol !== 'h2' || scheme !== 'https:') throw new Error(`the page was loaded over ${scheme} ${protocol}, not HTTPS with HTTP/2`);
}

/**
 * Calls the API from inside the page (same origin, with the session cookie).
 * @param {import('playwright-core').Page} page
 * @param {string} method
 * @param {string} url
 * @param {unknown} [body]
 * @returns {Promise<{status: number, body: any}>}
 */
export function apiFromPage(page, method, url, body) {
  return page.evaluate(async ([m, u, b]) => {
    /** @type {RequestInit} */
    const init = { method: String(m), credentials: 'same-origin' };
    if (m !== 'GET') {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(b === undefined ? {} : b);
    }
    const res = await fetch(String(u), init);
    const text = await res.text();
    let parsed = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    return { status: res.status, body: parsed };
  }, [method, url, body]);
}

/**
 * Signs out through the account menu, as a user does; the session is gone afterwards.
 * @param {import('playwright-core').Page} page
 */
export async function signOut(page) {
  await page.getByRole('button', { name: /account menu/ }).click();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/login');
  const status = await page.evaluate(async () => (await fetch('/api/me', { credentials: 'same-origin' })).status);
  if (status !== 401) throw new Error(`signed out, yet GET /api/me answers ${status}`);
}

/**
 * Signs in, then leaves the office for a bare page of the same origin (`/healthz`): the live
 * office fetches its device's inbox by itself (web/live/mailbox.js), so tests and benches that
 * fetch it by hand keep away from it. The office's own fetch is refused while it runs.
 * @param {import('playwright-core').Page} page
 * @param {{email: string, password: string}} user
 */
export async function signInBare(page, user) {
  await page.route('**/api/me/devices/*/inbox', (route) => route.abort());
  await signIn(page, user.email, user.password);
  await page.goto('/healthz');
  await page.unroute('**/api/me/devices/*/inbox');
}

/**
 * How many entries wait on the server for the device of the page's live office (read with the
 * device's proof, without acknowledging them).
 * @param {import('playwright-core').Page} page
 * @returns {Promise<number>}
 */
export function waitingFor(page) {
  return page.evaluate(async () => {
    const api = await import('/client/api.js');
    const sm = await import('/client/secure-messages.js');
    const device = await /** @type {any} */ (window).bureau.mailbox.device();
    return (await api.deviceInbox(device, sm.prover(device))).length;
  });
}

/**
 * Page script: the page's camera is asked for at a given size (the client asks for any camera;
 * Chromium's fake one then gives 640x480, too small for three simulcast layers).
 * @param {{width: number, height: number}} size
 * @returns {void}
 */
export function cameraAt(size) {
  const devices = navigator.mediaDevices;
  const original = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) => {
    if (constraints && constraints.video) {
      const video = constraints.video === true ? {} : constraints.video;
      constraints = { ...constraints, video: { ...video, width: { ideal: size.width }, height: { ideal: size.height } } };
    }
    return original(constraints);
  };
}
