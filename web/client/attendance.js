// Attendance times for people: the server keeps intervals per UTC day, people read their week
// Monday to Sunday in their own time zone. The intervals are put back together where the server
// split them at UTC midnight and grouped by the local day they start on. No DOM here.

import { dayStart, formatClock, isoDay } from '/client/days.js';

/**
 * One local day of a week.
 * @typedef {object} LocalDay
 * @property {number} start The local midnight, Unix milliseconds.
 * @property {string} date The local day, `YYYY-MM-DD`.
 * @property {number|null} firstSeen The start of the day's first interval, null without any.
 * @property {import('/client/api.js').Interval[]} intervals Those starting that day, earliest first.
 * @property {number} presentMinutes
 */

/**
 * A local week of a report.
 * @typedef {object} LocalWeek
 * @property {LocalDay[]} days Monday to Sunday.
 * @property {number} presentMinutes The whole week's.
 */

/**
 * The intervals of a report in one list: earliest first, pieces that touch (split at UTC
 * midnight) joined again.
 * @param {import('/client/api.js').AttendanceReport} report
 * @returns {import('/client/api.js').Interval[]}
 */
export function joinedIntervals(report) {
  const all = report.days.flatMap((d) => d.intervals).map((i) => ({ from: i.from, to: i.to })).sort((a, b) => a.from - b.from);
  /** @type {import('/client/api.js').Interval[]} */
  const joined = [];
  for (const next of all) {
    const last = joined[joined.length - 1];
    if (last && next.from <= last.to) last.to = Math.max(last.to, next.to);
    else joined.push(next);
  }
  return joined;
}

/**
 * Milliseconds to whole minutes, as the server counts them (rounded down).
 * @param {number} ms
 * @returns {number}
 */
function minutesOf(ms) {
  return Math.floor(ms / 60000);
}

/**
 * A report's attendance in the local week starting on `monday`: each day's intervals (by the
 * local day they start on), first seen and minutes, and the week's minutes.
 * @param {import('/client/api.js').AttendanceReport} report Covering at least the week.
 * @param {number} monday A local midnight (`mondayOf`).
 * @returns {LocalWeek}
 */
export function localWeek(report, monday) {
  const first = isoDay(monday);
  const days = Array.from({ length: 7 }, (_, i) => {
    const start = dayStart(first, i);
    return { start, date: isoDay(start), firstSeen: /** @type {number|null} */ (null), intervals: /** @type {import('/client/api.js').Interval[]} */ ([]), presentMs: 0 };
  });
  const end = dayStart(first, 7);
  let weekMs = 0;
  for (const interval of joinedIntervals(report)) {
    if (interval.from < monday || interval.from >= end) continue;
    const day = days.find((d) => d.date === isoDay(interval.from));
    if (!day) continue;
    day.intervals.push(interval);
    if (day.firstSeen === null) day.firstSeen = interval.from;
    day.presentMs += interval.to - interval.from;
    weekMs += interval.to - interval.from;
  }
  return {
    days: days.map(({ presentMs, ...d }) => ({ ...d, presentMinutes: minutesOf(presentMs) })),
    presentMinutes: minutesOf(weekMs),
  };
}

// The clock of busy times and attendance alike: "08:58".
export { formatClock };

/**
 * An interval for people: "08:58–12:30".
 * @param {import('/client/api.js').Interval} interval
 * @returns {string}
 */
export function formatInterval(interval) {
  return `${formatClock(interval.from)}–${formatClock(interval.to)}`;
}

/**
 * A duration for people: "7 h 32 min", "45 min", "38 h".
 * @param {number} minutes
 * @returns {string}
 */
export function formatDuration(minutes) {
  const total = Math.max(0, Math.round(minutes));
  const hours = Math.floor(total / 60);
  const rest = total % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/**
 * The week's total for people, against the contracted weekly hours when they are set:
 * "31 h 20 min of 38 h".
 * @param {number} presentMinutes
 * @param {number|null} contractedWeeklyHours
 * @returns {string}
 */
export function formatWeekTotal(presentMinutes, contractedWeeklyHours) {
  const present = formatDuration(presentMinutes);
  if (contractedWeeklyHours === null || contractedWeeklyHours === undefined || !(contractedWeeklyHours > 0)) return present;
  return `${present} of ${formatDuration(contractedWeeklyHours * 60)}`;
}
