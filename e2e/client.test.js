// The DOM-free client modules (web/client/api.js, web/client/fields.js, web/client/days.js,
// web/client/attendance.js) under node, with a stubbed fetch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../web/client/api.js';
import { diffPatch, editableFields, passwordStrength, initials, FIELDS } from '../web/client/fields.js';
import { dayStart, dayTime, formatClock, formatDay, formatMoment, formatSpan, isoDay, mondayOf } from '../web/client/days.js';
import './web-imports.js';

// attendance.js imports days.js by its absolute path: web-imports.js maps it (a dynamic import, after the hook).
const { localWeek, formatDuration, formatInterval, formatWeekTotal, joinedIntervals } = await import('../web/client/attendance.js');

/**
 * Replaces fetch for one call and records the request.
 * @param {number} status
 * @param {unknown} body
 * @param {Record<string, string>} [headers]
 */
function stubFetch(status, body, headers = {}) {
  /** @type {{url: string, init: RequestInit}[]} */
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url: String(url), init: init || {} });
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers });
  };
  return calls;
}

test('mutating requests send a JSON body with the JSON content type', async () => {
  const calls = stubFetch(204, undefined);
  await api.logout();
  assert.equal(calls[0].url, '/api/auth/logout');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.body, '{}');
  assert.equal(/** @type {Record<string, string>} */ (calls[0].init.headers)['Content-Type'], 'application/json');
  assert.equal(calls[0].init.credentials, 'same-origin');
});

test('GET requests carry no body; search text is encoded', async () => {
  const calls = stubFetch(200, { users: [] });
  assert.deepEqual(await api.users('Ada & Co'), []);
  assert.equal(calls[0].url, '/api/users?q=Ada%20%26%20Co');
  assert.equal(calls[0].init.body, undefined);
});

test('errors become ApiError with code, field and Retry-After', async () => {
  stubFetch(422, { code: 'invalid', message: 'name: must be 1 to 100 characters', field: 'name' });
  const err = await api.updateMe({ name: '' }).catch((e) => e);
  assert.ok(err instanceof api.ApiError);
  assert.equal(err.status, 422);
  assert.equal(err.code, 'invalid');
  assert.equal(err.field, 'name');
  assert.equal(api.describeError(err), 'Must be 1 to 100 characters.');

  stubFetch(429, { code: 'rate_limited', message: 'slow down' }, { 'Retry-After': '120' });
  const limited = await api.login('a@b.c', 'x').catch((e) => e);
  assert.equal(limited.retryAfter, 120);
  assert.equal(api.describeError(limited), 'Too many attempts. Please try again in 2 minutes.');

  globalThis.fetch = async () => { throw new TypeError('offline'); };
  const offline = await api.me().catch((e) => e);
  assert.equal(offline.code, 'network');
});

test('diffPatch sends only changes, null for cleared optional fields, numbers as numbers', () => {
  const specs = editableFields('extended', true);
  const before = { name: 'Ada', title: 'Dr.', work_location: 'Berlin', office_hours_weekly: 20 };
  const patch = diffPatch(specs, before, {
    name: 'Ada', title: '', work_location: 'Berlin', office_hours_weekly: '22.5', phone_mobile: ' +49 1 ',
  });
  assert.deepEqual(patch, { title: null, office_hours_weekly: 22.5, phone_mobile: '+49 1' });
});

test('owners do not get admin-only fields; entry mode has no extended fields', () => {
  const owner = editableFields('extended', false).map((f) => f.name);
  assert.ok(!owner.includes('email') && !owner.includes('company_role') && !owner.includes('office_hours_weekly'));
  assert.ok(owner.includes('work_location'));
  assert.deepEqual(editableFields('entry', false).map((f) => f.name), ['name']);
  assert.equal(FIELDS.filter((f) => f.extended).length, 12);
});

test('password hints and initials', () => {
  assert.equal(passwordStrength('short').score, 1);
  assert.ok(passwordStrength('correct horse battery staple').score >= 3);
  assert.equal(initials('Ada  King Lovelace'), 'AL');
  assert.equal(initials(''), '?');
});

test('absences: the team view asks for a span, removing sends a JSON body, managers by role or right', async () => {
  const calls = stubFetch(200, { absences: [{ id: 'a1' }] });
  assert.deepEqual(await api.teamAbsences(1000.4, 2000), [{ id: 'a1' }]);
  assert.equal(calls[0].url, '/api/absences?from=1000&to=2000');
  const removal = stubFetch(204, undefined);
  await api.removeAbsence('a/1');
  assert.equal(removal[0].url, '/api/absences/a%2F1');
  assert.equal(removal[0].init.method, 'DELETE');
  assert.equal(removal[0].init.body, '{}');
  /** @param {Partial<api.User>} u @returns {api.User} */
  const user = (u) => /** @type {api.User} */ ({ rights: [], role: 'member', ...u });
  assert.equal(api.canManageAbsences(user({ role: 'admin' })), true);
  assert.equal(api.canManageAbsences(user({ rights: ['manage_absences'] })), true);
  assert.equal(api.canManageAbsences(user({ rights: ['invite'] })), false);
});

test('days: local midnights, the exclusive end after a last day, Mondays', () => {
  const start = dayStart('2026-03-28');
  assert.equal(new Date(start).getHours(), 0);
  assert.equal(isoDay(start), '2026-03-28');
  // Across a month end (and, in zones with a clock change that weekend, a 23-hour day).
  assert.equal(isoDay(dayStart('2026-03-31', 1)), '2026-04-01');
  assert.equal(new Date(dayStart('2026-03-28', 2)).getHours(), 0);
  assert.ok(Number.isNaN(dayStart('28.03.2026')));
  // 2026-03-28 is a Saturday: its week began on Monday the 23rd.
  assert.equal(isoDay(mondayOf(start)), '2026-03-23');
  assert.equal(isoDay(mondayOf(dayStart('2026-03-23'))), '2026-03-23');
  assert.equal(isoDay(mondayOf(start, 2)), '2026-04-06');
});

test('calendar: the connection, reading, settings and entries as JSON, removal by id with a JSON body', async () => {
  const view = { source: null, share_next_busy: false, ring_in_meetings: false, synced_at: null, sync_error: null, entries: [] };
  let calls = stubFetch(200, view);
  assert.deepEqual(await api.myCalendar(), view);
  assert.equal(calls[0].url, '/api/me/calendar');
  assert.equal(calls[0].init.body, undefined);
  calls = stubFetch(200, view);
  await api.connectCalendar({ kind: 'caldav', url: 'https://cal.example/bob/', username: 'bob', password: 'pw' });
  assert.equal(calls[0].init.method, 'PUT');
  assert.equal(calls[0].url, '/api/me/calendar/source');
  assert.deepEqual(JSON.parse(String(calls[0].init.body)), { kind: 'caldav', url: 'https://cal.example/bob/', username: 'bob', password: 'pw' });
  for (const [call, method, url] of /** @type {[() => Promise<unknown>, string, string][]} */ ([
    [() => api.disconnectCalendar(), 'DELETE', '/api/me/calendar/source'],
    [() => api.syncCalendar(), 'POST', '/api/me/calendar/sync'],
    [() => api.removeCalendarEntry('e/1'), 'DELETE', '/api/me/calendar/entries/e%2F1'],
  ])) {
    calls = stubFetch(method === 'DELETE' ? 204 : 200, method === 'DELETE' ? undefined : view);
    await call();
    assert.deepEqual([calls[0].init.method, calls[0].url, calls[0].init.body], [method, url, '{}']);
  }
  calls = stubFetch(200, view);
  await api.updateCalendarSettings({ ring_in_meetings: true });
  assert.deepEqual([calls[0].init.method, calls[0].init.body], ['PATCH', '{"ring_in_meetings":true}']);
  calls = stubFetch(201, { id: 'e1' });
  await api.addCalendarEntry({ starts_at: 1, ends_at: 2, title: 'Client meeting' });
  assert.deepEqual([calls[0].init.method, calls[0].url], ['POST', '/api/me/calendar/entries']);
  // A reading that failed is a sentence at the address field.
  stubFetch(422, { code: 'invalid', field: 'url', message: 'the calendar server refused the user name or password' });
  const err = await api.connectCalendar({ kind: 'ics', url: 'webcal://x/a.ics' }).catch((e) => e);
  assert.equal(err.field, 'url');
  assert.equal(api.describeError(err), 'The calendar server refused the user name or password.');
});

test('days: times of day on a day (local), moments and spans for people', () => {
  const at = dayTime('2026-03-28', '14:05');
  assert.equal(isoDay(at), '2026-03-28');
  assert.equal(formatClock(at), '14:05');
  assert.equal(isoDay(dayTime('2026-03-31', '01:00', 1)), '2026-04-01');
  for (const bad of [['2026-03-28', '24:00'], ['2026-03-28', '9:00'], ['28.03.2026', '10:00'], ['2026-03-28', '']]) {
    assert.ok(Number.isNaN(dayTime(bad[0], bad[1])), bad.join(' '));
  }
  // Today the clock alone; another day with its name; over midnight both; an end at midnight is 24:00.
  assert.equal(formatMoment(at, dayTime('2026-03-28', '08:00')), '14:05');
  assert.equal(formatMoment(at, dayTime('2026-03-27', '23:00')), `${formatDay(at)} 14:05`);
  const [from, until] = [dayTime('2026-03-28', '14:00'), dayTime('2026-03-28', '15:30')];
  assert.equal(formatSpan(from, until, from), '14:00–15:30');
  assert.equal(formatSpan(from, until, dayTime('2026-03-27', '12:00')), `${formatDay(from)} 14:00–15:30`);
  assert.equal(formatSpan(dayTime('2026-03-28', '23:00'), dayStart('2026-03-28', 1), from), '23:00–24:00');
  const night = [dayTime('2026-03-28', '22:00'), dayTime('2026-03-28', '06:00', 1)];
  assert.equal(formatSpan(night[0], night[1], from), `${formatDay(night[0])} 22:00 – ${formatDay(night[1])} 06:00`);
});

test('attendance: the span and colleague in the query, the CSV address, the calendar feed calls', async () => {
  const calls = stubFetch(200, { user_id: 'u/2', name: 'Bob', contracted_weekly_hours: null, days: [], weeks: [] });
  await api.attendance(1000.7, 2000, 'u/2');
  assert.equal(calls[0].url, '/api/attendance?from=1000&to=2000&user_id=u%2F2');
  await api.attendance(1000, 2000);
  assert.equal(calls[1].url, '/api/attendance?from=1000&to=2000');
  assert.equal(api.attendanceCsvUrl(1000.2, 2000), '/api/attendance/export?from=1000&to=2000');
  /** @param {Partial<api.User>} u @returns {api.User} */
  const user = (u) => /** @type {api.User} */ ({ rights: [], role: 'member', ...u });
  assert.equal(api.canSeeAttendance(user({ role: 'admin' })), true);
  assert.equal(api.canSeeAttendance(user({ rights: ['see_attendance'] })), true);
  assert.equal(api.canSeeAttendance(user({ rights: ['manage_absences'] })), false);

  const renew = stubFetch(201, { path: '/api/calendar/abc.ics' });
  assert.deepEqual(await api.renewCalendarFeed(), { path: '/api/calendar/abc.ics' });
  assert.equal(renew[0].init.method, 'POST');
  assert.equal(renew[0].init.body, '{}');
  const off = stubFetch(204, undefined);
  await api.removeCalendarFeed();
  assert.equal(off[0].url, '/api/me/calendar-feed');
  assert.equal(off[0].init.method, 'DELETE');
});

test('attendance: intervals split at UTC midnight joined, grouped by local day, week total', () => {
  const monday = mondayOf(dayStart('2026-03-25'));
  const start = new Date(monday);
  /** Local time on a day of the week (0: Monday, -1: the Sunday before). @param {number} day @param {number} hour @param {number} [minute] */
  const at = (day, hour, minute = 0) => new Date(start.getFullYear(), start.getMonth(), start.getDate() + day, hour, minute).getTime();
  // Tuesday 08:58–12:30 and 13:00–17:00 (local), the second split in two as at a UTC midnight.
  const split = at(1, 15);
  /** @type {api.AttendanceReport} */
  const report = {
    user_id: 'u1', name: 'Bob', contracted_weekly_hours: 38,
    days: [
      { date: 'x', first_seen: at(-1, 10), intervals: [{ from: at(-1, 10), to: at(-1, 11) }], present_minutes: 60 }, // the Sunday before
      { date: 'y', first_seen: at(1, 8, 58), intervals: [{ from: at(1, 8, 58), to: at(1, 12, 30) }, { from: at(1, 13), to: split }], present_minutes: 0 },
      { date: 'z', first_seen: split, intervals: [{ from: split, to: at(1, 17) }], present_minutes: 0 },
    ],
    weeks: [],
  };
  assert.equal(joinedIntervals(report).length, 3);
  const week = localWeek(report, monday);
  assert.equal(week.days.length, 7);
  assert.equal(week.days[0].date, isoDay(monday));
  const tuesday = week.days[1];
  assert.equal(tuesday.firstSeen, at(1, 8, 58));
  assert.deepEqual(tuesday.intervals.map(formatInterval), ['08:58–12:30', '13:00–17:00']);
  assert.equal(tuesday.presentMinutes, 3 * 60 + 32 + 4 * 60);
  assert.equal(week.days[0].firstSeen, null);
  assert.equal(week.presentMinutes, 7 * 60 + 32);
  assert.equal(formatWeekTotal(week.presentMinutes, report.contracted_weekly_hours), '7 h 32 min of 38 h');
  assert.equal(formatWeekTotal(45, null), '45 min');
  assert.equal(formatDuration(38.5 * 60), '38 h 30 min');
  assert.equal(formatDuration(0), '0 min');
});
