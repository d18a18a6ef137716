// The calendar (extended profile) against a real `bureau serve` and a real CalDAV server
// (Radicale, started here with one account): Bob connects his calendar on "My profile" — a wrong
// password refused at the field, then connected; Ada's floor plan shows him in a meeting (never
// the event's title), her knock does not ring him and she is told why; once he lets knocks ring
// during meetings, hers rings his page. An ICS subscription that answers HTML, or nothing within
// 10 seconds, is refused with the reason and changes nothing. A busy time entered by hand shows
// with its title on Ada's page, and the next one when Bob shares it; removed, they go.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startBureau, freePort } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice, waitPresence, officeOf } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
/** Bob's account on the CalDAV server (not his Bureau password). */
const CALDAV = { user: 'bob', password: 'radicale-secret-42' };
/** The event's title: it must never reach Bureau, which asks CalDAV for free/busy time only. */
const SECRET_TITLE = 'Merger talks with Initech';
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {{url: string, port: number, stop: () => Promise<void>}} */
let radicale;
/** @type {{url: string, hits: Record<string, number>, stop: () => Promise<void>}} */
let icsHost;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let bob;
/** The meeting in Bob's CalDAV calendar, Unix ms (whole seconds, as iCalendar writes them). */
const meeting = { start: 0, end: 0 };

/**
 * Starts Radicale on a free loopback port with one htpasswd account and waits (bounded) until it
 * accepts connections.
 * @returns {Promise<{url: string, port: number, stop: () => Promise<void>}>}
 */
async function startRadicale() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-radicale-'));
  const port = await freePort(); // Radicale does not take port 0
  await writeFile(path.join(dir, 'users'), `${CALDAV.user}:${CALDAV.password}\n`);
  await writeFile(path.join(dir, 'config'), [
    '[server]', `hosts = 127.0.0.1:${port}`, '',
    '[auth]', 'type = htpasswd', `htpasswd_filename = ${path.join(dir, 'users')}`, 'htpasswd_encryption = plain', '',
    '[storage]', `filesystem_folder = ${path.join(dir, 'collections')}`, '',
    '[logging]', 'level = warning', '',
  ].join('\n'));
  const child = spawn('python3', ['-m', 'radicale', '--config', path.join(dir, 'config')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', () => { exited = true; resolve(undefined); }));
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    if (exited) throw new Error(`radicale exited before it listened:\n${output}`);
    if (attempt >= 150) {
      await stop();
      throw new Error(`radicale did not listen on ${port} within 15 s:\n${output}`);
    }
    const listening = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (listening) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${port}`, port, stop };
}

/**
 * A time as iCalendar writes it in UTC: 20261203T162100Z.
 * @param {number} ms
 * @returns {string}
 */
function icsTime(ms) {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * A request to Radicale as Bob; fails unless it answers one of `ok`.
 * @param {string} method
 * @param {string} url
 * @param {number[]} ok
 * @param {{body?: string, type?: string}} [o]
 */
async function caldav(method, url, ok, o = {}) {
  /** @type {Record<string, string>} */
  const headers = { Authorization: 'Basic ' + Buffer.from(`${CALDAV.user}:${CALDAV.password}`).toString('base64') };
  if (o.type) headers['Content-Type'] = o.type;
  const res = await fetch(url, { method, headers, body: o.body });
  const text = await res.text();
  assert.ok(ok.includes(res.status), `${method} ${url}: ${res.status} ${text}`);
}

/**
 * A small HTTP server standing in for ICS subscription addresses: `/garbage.ics` answers an HTML
 * page, `/silent.ics` accepts the request and never answers.
 * @returns {Promise<{url: string, hits: Record<string, number>, stop: () => Promise<void>}>}
 */
async function startIcsHost() {
  /** @type {Record<string, number>} */
  const hits = {};
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const where = (req.url || '').split('?')[0];
    hits[where] = (hits[where] || 0) + 1;
    if (where === '/garbage.ics') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><html><head><title>Welcome</title></head><body><h1>Sign in to see your calendar</h1></body></html>');
    } else if (where !== '/silent.ics') {
      res.writeHead(404);
      res.end();
    } // /silent.ics: left open, no answer
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

before(async () => {
  radicale = await startRadicale();
  icsHost = await startIcsHost();
  // Bob's work calendar with one event: it began a minute ago and ends in an hour.
  const now = Math.floor(Date.now() / 1000) * 1000;
  meeting.start = now - 60_000;
  meeting.end = now + 3_600_000;
  const collection = `${radicale.url}/${CALDAV.user}/work/`;
  await caldav('MKCALENDAR', collection, [201]);
  await caldav('PUT', collection + 'merger.ics', [201, 204], {
    type: 'text/calendar; charset=utf-8',
    body: ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Bureau e2e//EN', 'BEGIN:VEVENT', 'UID:merger-1@bureau.test',
      `DTSTAMP:${icsTime(now)}`, `DTSTART:${icsTime(meeting.start)}`, `DTEND:${icsTime(meeting.end)}`,
      `SUMMARY:${SECRET_TITLE}`, 'LOCATION:Board room', 'END:VEVENT', 'END:VCALENDAR', ''].join('\r\n'),
  });

  // Bureau reads calendars on loopback only because this test allows it.
  bureau = await startBureau({ env: { BUREAU_CALENDAR_ALLOW_NETWORKS: '127.0.0.1/32' }, presenceGraceSecs: 3 });
  for (const u of [ADA, BOB]) await bureau.createUser(u);
  for (let i = 0; i < 2; i++) browsers.push(await openBrowser(bureau));
  [ada, bob] = browsers.map((b) => b.page);
  await enterOffice(ada, ADA);
  // The calendar is part of the extended profile: switched on before Bob's page loads.
  assert.equal((await apiFromPage(ada, 'PATCH', '/api/org', { profile_mode: 'extended' })).status, 200);
  await enterOffice(bob, BOB);
  await waitPresence(ada, BOB.name, 'online');
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
  if (radicale) await radicale.stop();
  if (icsHost) await icsHost.stop();
});

/**
 * Bob's "Calendar" card on "My profile", reached through the main navigation.
 * @returns {Promise<import('playwright-core').Locator>}
 */
async function bobsCalendarCard() {
  if (!/\/profile$/.test(new URL(bob.url()).pathname)) {
    await bob.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My profile' }).click();
  }
  const card = bob.getByRole('region', { name: 'Calendar' });
  await card.waitFor();
  return card;
}

/**
 * How a page words a moment and a span (the browser's time zone), by the client's own helpers.
 * @param {import('playwright-core').Page} page
 * @param {number} moment
 * @param {[number, number]} [span]
 * @returns {Promise<{moment: string, span: string}>}
 */
function wording(page, moment, span = [0, 1]) {
  return page.evaluate(async ([m, s, e]) => {
    const days = await import('/client/days.js');
    return { moment: days.formatMoment(m), span: days.formatSpan(s, e) };
  }, [moment, span[0], span[1]]);
}

/**
 * Waits until Ada's page knows Bob's meeting as `want` (a synchronous predicate: waitForFunction
 * would take a Promise for true).
 * @param {'none'|'silent'|'rings'} want
 */
async function adaSeesBobsMeeting(want) {
  await ada.waitForFunction(([name, w]) => {
    const office = /** @type {any} */ (window).bureau.office;
    const p = [...office.presence.values()].find((x) => x.name === name);
    if (!p) return false;
    if (w === 'none') return !p.meeting;
    return Boolean(p.meeting) && p.meeting.rings === (w === 'rings');
  }, [BOB.name, want], { timeout: 0 });
}

test('Bob connects his CalDAV calendar (a wrong password refused at the field); Ada sees him in a meeting, her knock does not ring until he lets it', LONG, async () => {
  const card = await bobsCalendarCard();
  await card.getByText('Bureau keeps only the busy times of your calendar — never titles, attendees or places — and stores the password encrypted.').waitFor();
  const form = card.getByRole('form', { name: 'Connect a calendar' });
  await form.getByLabel('CalDAV').check();
  await form.getByLabel('Calendar address').fill(`${radicale.url}/${CALDAV.user}/work/`);
  await form.getByLabel('User name').fill(CALDAV.user);
  await form.getByLabel('Password').fill('not-the-password');
  await form.getByRole('button', { name: 'Connect calendar' }).click();

  // Radicale says 401: the reason shows at the field the server names, the address, focused.
  const urlError = form.locator('.field[data-field="url"] .field-error');
  await urlError.filter({ hasText: /refused the user name or password/ }).waitFor({ timeout: 30_000 });
  assert.equal(await form.getByLabel('Calendar address').getAttribute('aria-invalid'), 'true');
  assert.equal(await form.getByLabel('Calendar address').evaluate((el) => el === document.activeElement), true);
  assert.equal((await apiFromPage(bob, 'GET', '/api/me/calendar')).body.source, null, 'nothing kept of a refused calendar');

  await form.getByLabel('Password').fill(CALDAV.password);
  await form.getByLabel('Password').press('Enter');
  const status = card.locator('.calendar-status');
  await status.filter({ hasText: new RegExp(`^Connected to 127\\.0\\.0\\.1:${radicale.port} \\(CalDAV\\) as bob, last read \\d\\d:\\d\\d\\.$`) }).waitFor({ timeout: 30_000 });
  assert.equal(await form.isHidden(), true);
  assert.equal(await card.locator('.calendar-error').isHidden(), true);
  // The meeting is listed as from the calendar, without its title and without Remove.
  const item = card.getByRole('list', { name: 'Busy times to come' }).getByRole('listitem');
  await item.filter({ hasText: 'From your calendar' }).waitFor();
  assert.equal(await item.count(), 1);
  assert.equal(await item.getByRole('button').count(), 0);

  // "Read now" reads it again.
  await card.getByRole('button', { name: 'Read now' }).click();
  await bob.getByText('Your calendar has been read.').waitFor();

  // Ada's floor plan: Bob in a meeting until its end; the knock says it will not ring.
  const { moment: until } = await wording(ada, meeting.end);
  const tile = officeOf(ada, BOB.name);
  await tile.locator('.presence-meeting').filter({ hasText: `In a meeting until ${until}` }).waitFor({ timeout: 0 });
  await adaSeesBobsMeeting('silent');
  const silentKnock = tile.getByRole('button', { name: `Knock on the door of ${BOB.name} (in a meeting, will not ring)` });
  assert.equal(await silentKnock.getAttribute('title'), `${BOB.name} is in a meeting until ${until}: the knock will not ring.`);
  await silentKnock.click();
  const outgoing = ada.locator('#stage .outgoing');
  await outgoing.getByText(`${BOB.name} is in a meeting until ${until}, so the knock did not ring.`).waitFor({ timeout: 0 });
  assert.equal(await bob.getByRole('dialog', { name: 'Incoming call' }).count(), 0);
  assert.equal(await bob.evaluate(() => /** @type {any} */ (window).bureau.office.call), null, 'nothing rang on Bob’s page');
  await outgoing.getByRole('button', { name: 'Dismiss' }).click();
  await ada.locator('#stage').waitFor({ state: 'hidden' });

  // Bob lets knocks ring during meetings (saved on change): Ada's knock rings his page.
  const ringBox = card.getByLabel('Let knocks ring during meetings');
  await ringBox.check();
  await bob.getByText('Saved.', { exact: true }).first().waitFor();
  assert.equal((await apiFromPage(bob, 'GET', '/api/me/calendar')).body.ring_in_meetings, true);
  await adaSeesBobsMeeting('rings');
  await tile.getByRole('button', { name: `Knock on the door of ${BOB.name}`, exact: true }).click();
  const ring = bob.getByRole('dialog', { name: 'Incoming call' });
  await ring.getByText(`${ADA.name} is calling you.`).waitFor({ timeout: 0 });
  await ring.getByRole('button', { name: 'Decline' }).click();
  await outgoing.getByText(`${BOB.name} declined the call.`).waitFor({ timeout: 0 });
  await outgoing.getByRole('button', { name: 'Dismiss' }).click();

  // Of the outside calendar only the time reached Bureau: no title on either page.
  for (const page of [ada, bob]) {
    const text = await page.evaluate(() => document.body.innerText);
    assert.ok(!text.includes(SECRET_TITLE) && !text.includes('Board room'), 'the event’s title or place is shown');
  }

  // Disconnected (confirmed): the meeting leaves Ada's floor plan.
  await card.getByRole('button', { name: 'Disconnect' }).click();
  await bob.getByRole('dialog', { name: 'Disconnect your calendar?' }).getByRole('button', { name: 'Disconnect calendar' }).click();
  await form.waitFor();
  await bob.getByText('Your calendar has been disconnected.').waitFor();
  await card.getByText('No busy times coming up.').waitFor();
  await tile.locator('.presence-meeting').waitFor({ state: 'detached', timeout: 0 });
  await adaSeesBobsMeeting('none');
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
});

test('an ICS subscription that answers HTML, or nothing, is refused with the reason and changes nothing', LONG, async () => {
  const card = await bobsCalendarCard();
  const form = card.getByRole('form', { name: 'Connect a calendar' });
  await form.getByLabel('ICS subscription').check();
  // User name and password are optional for a subscription address.
  await form.getByLabel('User name (optional)').fill('');
  await form.getByLabel('Password (optional)').fill('');
  const address = form.getByLabel('Calendar address');
  const urlError = form.locator('.field[data-field="url"] .field-error');

  await address.fill(`${icsHost.url}/garbage.ics`);
  await form.getByRole('button', { name: 'Connect calendar' }).click();
  await urlError.filter({ hasText: /\biCalendar\b|\bnot a calendar\b/i }).waitFor({ timeout: 30_000 });
  assert.equal(icsHost.hits['/garbage.ics'], 1, 'Bureau fetched the address once');
  assert.equal(await address.getAttribute('aria-invalid'), 'true');
  const view = (await apiFromPage(bob, 'GET', '/api/me/calendar')).body;
  assert.equal(view.source, null);
  assert.deepEqual(view.entries, []);
  // Ada's page: Bob's presence has no meeting, his tile shows none.
  assert.equal(await ada.evaluate((name) => {
    const office = /** @type {any} */ (window).bureau.office;
    return Boolean([...office.presence.values()].find((x) => x.name === name)?.meeting);
  }, BOB.name), false);
  assert.equal(await officeOf(ada, BOB.name).locator('.presence-meeting').count(), 0);

  // An address that never answers: Bureau gives up after 10 seconds and says so.
  await address.fill(`${icsHost.url}/silent.ics`);
  const connect = form.getByRole('button', { name: 'Connect calendar' });
  const started = Date.now();
  await connect.click();
  await urlError.filter({ hasText: /did not answer within 10 seconds/ }).waitFor({ timeout: 40_000 });
  const waited = Date.now() - started;
  assert.ok(waited >= 9_000, `the error came after ${waited} ms`);
  assert.equal(icsHost.hits['/silent.ics'], 1);
  assert.equal(await connect.isEnabled(), true, 'the form can be sent again');
  assert.equal((await apiFromPage(bob, 'GET', '/api/me/calendar')).body.source, null);
  assert.equal(await officeOf(ada, BOB.name).locator('.presence-meeting').count(), 0);
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
});

test('a busy time entered by hand shows with its title; the next one when shared; removed, they go', LONG, async () => {
  const card = await bobsCalendarCard();
  const form = card.getByRole('form', { name: 'Add a busy time' });
  // From this minute for 30 minutes, in the browser's time zone (an end past midnight is the
  // next day: the form says so and does it).
  const now = await bob.evaluate(async () => {
    const days = await import('/client/days.js');
    const start = new Date();
    start.setSeconds(0, 0);
    const end = start.getTime() + 30 * 60_000;
    const tomorrow = days.dayStart(days.isoDay(start.getTime()), 1);
    return {
      day: days.isoDay(start.getTime()), from: days.formatClock(start.getTime()), until: days.formatClock(end), end,
      tomorrow: days.isoDay(tomorrow), nextStart: days.dayTime(days.isoDay(tomorrow), '10:00'), nextEnd: days.dayTime(days.isoDay(tomorrow), '11:00'),
    };
  });
  await form.getByLabel('Day').fill(now.day);
  await form.getByLabel('From').fill(now.from);
  await form.getByLabel('Until').fill(now.until);
  await form.getByLabel('Title').fill('Client meeting');
  await form.getByRole('button', { name: 'Add busy time' }).click();
  await bob.getByText('The busy time has been added.').waitFor();
  const list = card.getByRole('list', { name: 'Busy times to come' });
  await list.getByRole('listitem').filter({ hasText: 'Client meeting' }).waitFor();

  const { moment: until } = await wording(ada, now.end);
  const tile = officeOf(ada, BOB.name);
  await tile.locator('.presence-meeting').filter({ hasText: `In a meeting: Client meeting, until ${until}` }).waitFor({ timeout: 0 });

  // A second one tomorrow: Ada sees it as Bob's next busy time only once he shares it.
  await form.getByLabel('Day').fill(now.tomorrow);
  await form.getByLabel('From').fill('10:00');
  await form.getByLabel('Until').fill('11:00');
  await form.getByLabel('Title').fill('Review');
  await form.getByLabel('Title').press('Enter');
  await list.getByRole('listitem').filter({ hasText: 'Review' }).waitFor();
  assert.equal(await tile.locator('.presence-next-busy').count(), 0, 'not shared yet');
  await card.getByLabel('Show colleagues when I am busy next').check();
  const { span } = await wording(ada, 0, [now.nextStart, now.nextEnd]);
  await tile.locator('.presence-next-busy').filter({ hasText: `Busy next: Review, ${span}` }).waitFor({ timeout: 0 });

  // Removed: the meeting and the next busy time leave Ada's floor plan.
  await list.getByRole('button', { name: /^Remove the busy time .*\(Client meeting\)$/ }).click();
  await bob.getByText('The busy time has been removed.').first().waitFor();
  await tile.locator('.presence-meeting').waitFor({ state: 'detached', timeout: 0 });
  await list.getByRole('button', { name: /^Remove the busy time .*\(Review\)$/ }).click();
  await card.getByText('No busy times coming up.').waitFor();
  await tile.locator('.presence-next-busy').waitFor({ state: 'detached', timeout: 0 });
  await adaSeesBobsMeeting('none');
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
});
