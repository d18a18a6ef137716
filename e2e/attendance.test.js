// Attendance times and the calendar feed against a real `bureau serve`: in entry mode there is no
// Attendance menu item and the page explains why; switched to the extended profile, Bob is
// present in the live office for a moment and then sets himself away, which records an interval:
// /attendance shows his day (first seen, the interval) and the week against his contracted
// hours, with no colleague choice and no CSV for him (the server refuses both); Ada, an
// administrator, picks Bob, sees the same day, downloads the CSV of the week (Bob's name and the
// UTC day in it) and the audit log has her look. On /absences Bob creates his calendar feed: its
// address, shown once and copied, fetched without a session, is an iCalendar document; renewed,
// the old address answers 404; turned off (confirmed), the new one too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice, setPresence, pollUntil } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let bob;
/** @type {string} */ let bobId;
/** @type {string} */ let adaId;
/** The interval recorded for Bob, as the API gave it. @type {{from: number, to: number}} */
let recorded;
/** Its UTC day. */
let recordedDate = '';
/** The first time Bob was seen that day. */
let firstSeen = 0;

before(async () => {
  bureau = await startBureau({ presenceGraceSecs: 3 });
  for (const u of [ADA, BOB]) await bureau.createUser(u);
  for (let i = 0; i < 2; i++) browsers.push(await openBrowser(bureau));
  [ada, bob] = browsers.map((b) => b.page);
  await enterOffice(ada, ADA);
  await enterOffice(bob, BOB);
  bobId = (await apiFromPage(bob, 'GET', '/api/me')).body.id;
  adaId = (await apiFromPage(ada, 'GET', '/api/me')).body.id;
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * Opens the page's user menu and returns one of its links (which may not exist).
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @returns {Promise<import('playwright-core').Locator>}
 */
async function menuItem(page, name) {
  await page.getByRole('button', { name: /account menu/ }).click();
  return page.locator('#user-menu').getByRole('link', { name, exact: true });
}

/**
 * Reloads a page and waits until its office connection is open again.
 * @param {import('playwright-core').Page} page
 */
async function reloadOffice(page) {
  await page.reload();
  await page.waitForFunction(() => /** @type {any} */ (window).bureau?.signal?.status?.state === 'open', null, { timeout: 0 });
}

/**
 * How the page shows an interval (the browser's time zone), by the client's own helpers.
 * @param {import('playwright-core').Page} page
 * @param {{from: number, to: number}} interval
 * @param {number} first When first seen that day.
 * @returns {Promise<{date: string, first: string, times: string}>}
 */
function wording(page, interval, first) {
  return page.evaluate(async ([iv, seen]) => {
    const attendance = await import('/client/attendance.js');
    const days = await import('/client/days.js');
    return { date: days.isoDay(iv.from), first: attendance.formatClock(seen), times: attendance.formatInterval(iv) };
  }, /** @type {[{from: number, to: number}, number]} */ ([interval, first]));
}

/**
 * Checks that the page's week view shows the recorded interval on its local day.
 * @param {import('playwright-core').Page} page
 */
async function showsRecordedDay(page) {
  const { date, first, times } = await wording(page, recorded, firstSeen);
  const day = page.getByRole('list', { name: 'Days of the week' }).locator(`:scope > li[data-date="${date}"]`);
  await day.getByText(`First seen ${first}`).waitFor();
  const intervals = await day.getByRole('list', { name: /^Times present on / }).getByRole('listitem').allInnerTexts();
  assert.ok(intervals.includes(times), `${times} among ${intervals.join(', ')}`);
}

test('in entry mode there is no Attendance menu item and the page explains why', LONG, async () => {
  assert.equal(await (await menuItem(bob, 'Attendance')).count(), 0);
  await bob.keyboard.press('Escape');
  await bob.goto('/attendance');
  await bob.getByRole('heading', { name: 'Attendance', level: 1 }).waitFor();
  await bob.getByText('Attendance times are part of the extended profile').waitFor();
  assert.equal(await bob.getByRole('list', { name: 'Days of the week' }).count(), 0);
  const now = Date.now();
  assert.equal((await apiFromPage(bob, 'GET', `/api/attendance?from=${now - 86_400_000}&to=${now}`)).status, 422);
  await bob.waitForFunction(() => /** @type {any} */ (window).bureau?.signal?.status?.state === 'open', null, { timeout: 0 });
  await bob.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Office' }).click();
  await bob.getByRole('heading', { name: 'Office', level: 1 }).waitFor();
});

test('Bob’s presence is recorded: /attendance shows his day and week; no colleagues, no CSV for him', LONG, async () => {
  assert.equal((await apiFromPage(ada, 'PATCH', '/api/org', { profile_mode: 'extended' })).status, 200);
  assert.equal((await apiFromPage(ada, 'PATCH', `/api/users/${bobId}`, { office_hours_weekly: 30, home_office_hours_weekly: 8 })).status, 200);
  await reloadOffice(bob);
  // Present (online) for a moment — intervals under a second are not recorded — then away,
  // which ends the interval and has it written.
  await new Promise((r) => setTimeout(r, 1500));
  await setPresence(bob, { status: 'away' });
  const from = Date.now() - 2 * 86_400_000;
  const to = Date.now() + 86_400_000;
  await pollUntil(bob, async ([f, t]) => {
    const res = await fetch(`/api/attendance?from=${f}&to=${t}`);
    const report = res.ok ? await res.json() : null;
    return Boolean(report && report.days.some((/** @type {any} */ d) => d.intervals.length > 0));
  }, [from, to]);
  const report = (await apiFromPage(bob, 'GET', `/api/attendance?from=${from}&to=${to}`)).body;
  assert.equal(report.contracted_weekly_hours, 38);
  const day = report.days[report.days.length - 1];
  recorded = day.intervals[day.intervals.length - 1];
  recordedDate = day.date;
  firstSeen = day.first_seen;
  assert.ok(recorded.to - recorded.from >= 1000, JSON.stringify(recorded));
  assert.equal(recordedDate, new Date(recorded.from).toISOString().slice(0, 10));

  await (await menuItem(bob, 'Attendance')).click();
  await bob.waitForURL('**/attendance');
  await bob.getByRole('heading', { name: 'My attendance', level: 2 }).waitFor();
  await showsRecordedDay(bob);
  const today = bob.getByRole('list', { name: 'Days of the week' }).locator(':scope > li[aria-current="date"]');
  assert.equal(await today.count(), 1);
  const total = await bob.locator('.attendance-total').innerText();
  assert.match(total, /^Week total: .+ of 38 h contracted$/);
  await bob.getByText('Times are when you were present in the live office').waitFor();
  assert.equal(await bob.getByRole('link', { name: 'Object in the privacy centre' }).getAttribute('href'), '/privacy-centre');
  await bob.getByText('the audit log records who and when').waitFor();

  // No colleague choice and no CSV without the right; the server refuses both as well.
  assert.equal(await bob.getByLabel('Colleague').count(), 0);
  assert.equal(await bob.getByRole('link', { name: 'Download CSV' }).count(), 0);
  assert.equal((await apiFromPage(bob, 'GET', `/api/attendance?from=${from}&to=${to}&user_id=${adaId}`)).status, 403);
  assert.equal((await apiFromPage(bob, 'GET', `/api/attendance/export?from=${from}&to=${to}`)).status, 403);

  // The week navigator: back a week (nothing then), forward again; no weeks to come.
  const nav = bob.getByRole('group', { name: 'Week' });
  assert.equal(await nav.getByRole('button', { name: 'Next week →' }).isDisabled(), true);
  await nav.getByRole('button', { name: '← Previous week' }).click();
  await nav.getByRole('button', { name: 'This week' }).waitFor();
  await bob.locator('.attendance-total').getByText('0 min of 38 h').waitFor();
  await nav.getByRole('button', { name: 'Next week →' }).click();
  await nav.getByRole('button', { name: 'This week' }).waitFor({ state: 'hidden' });
  await showsRecordedDay(bob);
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
});

test('the administrator looks at Bob’s week and downloads the CSV; the audit log has it', LONG, async () => {
  // Ada's page still knows the organisation as it was when she signed in (entry mode).
  await reloadOffice(ada);
  await (await menuItem(ada, 'Attendance')).click();
  await ada.waitForURL('**/attendance');
  await ada.getByRole('heading', { name: 'My attendance', level: 2 }).waitFor();
  await ada.getByLabel('Colleague').selectOption({ label: BOB.name });
  await ada.getByRole('heading', { name: `Attendance of ${BOB.name}`, level: 2 }).waitFor();
  await ada.getByText(`Your look at the attendance of ${BOB.name} is written to the audit log.`).waitFor();
  await showsRecordedDay(ada);

  const link = ada.getByRole('link', { name: 'Download CSV' });
  const href = /** @type {string} */ (await link.getAttribute('href'));
  // The week shown: local Monday to Monday.
  const [monday, next] = await ada.evaluate(async () => {
    const days = await import('/client/days.js');
    return [days.mondayOf(Date.now()), days.mondayOf(Date.now(), 1)];
  });
  assert.equal(href, `/api/attendance/export?from=${monday}&to=${next}`);
  const [download] = await Promise.all([ada.waitForEvent('download'), link.click()]);
  const csv = await readFile(/** @type {string} */ (await download.path()), 'utf8');
  const lines = csv.trim().split(/\r?\n/);
  assert.equal(lines[0], 'name,email,date,first_seen_utc,present_minutes');
  const bobs = lines.filter((l) => l.startsWith(`${BOB.name},${BOB.email},`));
  assert.ok(bobs.some((l) => l.split(',')[2] === recordedDate), `a line for ${recordedDate} in:\n${csv}`);

  await pollUntil(ada, async ([target]) => {
    const res = await fetch('/api/privacy/audit');
    const entries = res.ok ? (await res.json()).entries : [];
    return entries.some((/** @type {any} */ e) => e.action === 'view_attendance' && e.target_id === target)
      && entries.some((/** @type {any} */ e) => e.action === 'export_attendance');
  }, [bobId]);
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
});

test('the calendar feed on /absences: created, fetched without a session, renewed (old address 404), turned off', LONG, async () => {
  // One absence, so that the feed has an event.
  const tomorrow = new Date();
  tomorrow.setHours(0, 0, 0, 0);
  tomorrow.setDate(tomorrow.getDate() + 1);
  const startsAt = tomorrow.getTime();
  const created = await apiFromPage(bob, 'POST', '/api/absences', { kind: 'vacation', starts_at: startsAt, ends_at: startsAt + 86_400_000 });
  assert.equal(created.status, 201);

  await (await menuItem(bob, 'Absences')).click();
  await bob.waitForURL('**/absences');
  const card = bob.getByRole('region', { name: 'Calendar feed' });
  await card.getByText('The calendar feed is off.').waitFor();
  await card.getByRole('button', { name: 'Create address' }).click();
  const address = card.getByLabel('Calendar address (shown only now)');
  await address.waitFor();
  const first = await address.inputValue();
  assert.ok(first.startsWith(`${bureau.baseUrl}/api/calendar/`) && first.endsWith('.ics'), first);
  assert.equal(await address.evaluate((el) => el === document.activeElement), true);
  await card.getByText('The calendar feed is on').waitFor();
  await card.getByText('Bureau shows it only this once').waitFor();
  await browsers[1].context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: bureau.baseUrl });
  await card.getByRole('button', { name: 'Copy address' }).click();
  await bob.getByText('Address copied.').waitFor();
  assert.equal(await bob.evaluate(() => navigator.clipboard.readText()), first);

  /** @param {string} shown @returns {Promise<Response>} The feed fetched from node, without a cookie. */
  const fetchFeed = (shown) => fetch(bureau.httpUrl + new URL(shown).pathname);
  const feed = await fetchFeed(first);
  assert.equal(feed.status, 200);
  assert.match(String(feed.headers.get('content-type')), /^text\/calendar/);
  const ics = await feed.text();
  assert.ok(ics.startsWith('BEGIN:VCALENDAR') && ics.includes('BEGIN:VEVENT'), ics);

  // Renewed: a new address, and the old one answers 404.
  await card.getByRole('button', { name: 'Renew address' }).click();
  await bob.waitForFunction((old) => {
    const input = /** @type {HTMLInputElement|null} */ (document.querySelector('.feed-shown input'));
    return Boolean(input && input.value && input.value !== old);
  }, first, { timeout: 0 });
  const second = await address.inputValue();
  await card.getByText('The previous address no longer works.').waitFor();
  assert.equal((await fetchFeed(first)).status, 404);
  assert.equal((await fetchFeed(second)).status, 200);

  // After a reload the feed is on, its address no longer shown.
  await reloadOffice(bob);
  await card.getByText('The calendar feed is on').waitFor();
  assert.equal(await address.count(), 0);

  // Turned off, after confirming (Cancel keeps it).
  await card.getByRole('button', { name: 'Turn off' }).click();
  const confirm = bob.getByRole('dialog', { name: 'Turn off the calendar feed?' });
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await confirm.waitFor({ state: 'detached' });
  assert.equal((await fetchFeed(second)).status, 200);
  await card.getByRole('button', { name: 'Turn off' }).click();
  await confirm.getByRole('button', { name: 'Turn off feed' }).click();
  await card.getByText('The calendar feed is off.').waitFor();
  await card.getByRole('button', { name: 'Create address' }).waitFor();
  assert.equal((await fetchFeed(second)).status, 404);
  assert.equal((await apiFromPage(bob, 'GET', '/api/me/calendar-feed')).body.active, false);
  assert.deepEqual(browsers.map((b) => b.errors), [[], []]);
});
