// Nothing gets missed (issue #18), against a real `bureau serve` over HTTPS: the page is
// installable (a web app manifest and a service worker that keeps nothing); a knock on a tab in
// the background rings (a Web Audio tone), puts a bell in the title and shows a desktop
// notification once the user allowed them; a knock nobody answered stays as a missed knock with
// Call back; the offer to turn notifications on goes once answered.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser } from './browser.js';
import { enterOffice, waitPresence, officeOf, pollUntil } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let bob;

/**
 * Page script: records the desktop notifications and ring tones the page makes, and lets the test
 * put the tab in the background (`window.__hidden = true`).
 */
function spy() {
  const w = /** @type {any} */ (window);
  w.__notifications = [];
  w.__tones = 0;
  w.__hidden = false;
  const Real = w.Notification;
  class Recorded extends Real {
    /** @param {string} title @param {NotificationOptions} [options] */
    constructor(title, options) {
      super(title, options);
      w.__notifications.push({ title, body: options && options.body });
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Recorded.requestPermission = Real.requestPermission.bind(Real);
  w.Notification = Recorded;
  const create = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    w.__tones += 1;
    return create.call(this);
  };
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => w.__hidden });
}

before(async () => {
  bureau = await startBureau({});
  for (const u of [ADA, BOB]) await bureau.createUser(u);
  for (let i = 0; i < 2; i++) browsers.push(await openBrowser(bureau));
  [ada, bob] = browsers.map((b) => b.page);
  await browsers[0].context.grantPermissions(['notifications'], { origin: bureau.baseUrl });
  await browsers[0].context.addInitScript(spy);
  await enterOffice(ada, ADA);
  await enterOffice(bob, BOB);
  await waitPresence(ada, BOB.name, 'online');
  await waitPresence(bob, ADA.name, 'online');
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

test('the page is installable: a manifest and a registered service worker', LONG, async () => {
  const href = await ada.locator('link[rel="manifest"]').getAttribute('href');
  assert.equal(href, '/manifest.webmanifest');
  const manifest = await ada.evaluate(async (url) => (await fetch(url)).json(), href);
  assert.equal(manifest.name, 'Bureau');
  assert.equal(manifest.start_url, '/');
  assert.equal(manifest.display, 'standalone');
  assert.ok(manifest.icons.some((/** @type {{src: string}} */ i) => i.src === '/favicon.svg'), JSON.stringify(manifest.icons));
  const script = await ada.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL);
  assert.ok(script && script.endsWith('/sw.js'), String(script));
});

test('a knock on a tab in the background rings, shows in the title and as a notification; unanswered, it stays', LONG, async () => {
  await ada.evaluate(() => { /** @type {any} */ (window).__hidden = true; });
  const title = await ada.title();
  await officeOf(bob, ADA.name).getByRole('button', { name: `Knock on the door of ${ADA.name}` }).click();
  await ada.getByRole('dialog', { name: 'Incoming call' }).waitFor();
  await pollUntil(ada, async () => document.title.startsWith('🔔 '), null);
  const notes = await ada.evaluate(() => /** @type {any} */ (window).__notifications);
  assert.deepEqual(notes.map((/** @type {{title: string}} */ n) => n.title), [`${BOB.name} is knocking`]);
  await pollUntil(ada, async () => /** @type {any} */ (window).__tones >= 2, null);

  // Bob gives up: the ringing stops, the title is as before, and the knock stays to call back.
  await bob.getByRole('button', { name: 'Cancel' }).click();
  await ada.getByRole('dialog', { name: 'Incoming call' }).waitFor({ state: 'detached' });
  await pollUntil(ada, async (t) => document.title === t, title);
  const missed = ada.getByRole('region', { name: 'Missed knocks' });
  await missed.getByText(`${BOB.name} knocked at`).waitFor();
  await missed.getByText('nobody answered.').waitFor();
  await ada.evaluate(() => { /** @type {any} */ (window).__hidden = false; });
  await missed.getByRole('button', { name: 'Call back' }).click();
  const ring = bob.getByRole('dialog', { name: 'Incoming call' });
  await ring.getByText(`${ADA.name} is calling you.`).waitFor();
  await ring.getByRole('button', { name: 'Decline' }).click();
  await missed.waitFor({ state: 'detached' });
});

test('the offer of desktop notifications goes once answered, also after a reload', LONG, async () => {
  // Bob's browser has not been asked yet.
  const offer = bob.getByRole('region', { name: 'Desktop notifications' });
  await offer.waitFor();
  await offer.getByRole('button', { name: 'Not now' }).click();
  await offer.waitFor({ state: 'detached' });
  await bob.reload();
  await officeOf(bob, ADA.name).waitFor();
  assert.equal(await offer.count(), 0);
  // Ada allowed them: nothing to offer.
  assert.equal(await ada.getByRole('region', { name: 'Desktop notifications' }).count(), 0);
});
