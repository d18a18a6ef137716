// Attendance times: one person's week, Monday to Sunday in local time — per day the first time
// seen, the time present and the intervals, and the week's total against the contracted hours.

import * as api from '/client/api.js';
import { h } from '/ui/dom.js';
import { formatDay, isoDay } from '/client/days.js';
import { localWeek, formatClock, formatDuration, formatInterval, formatWeekTotal } from '/client/attendance.js';

/**
 * The week of a report that starts on `monday` (a local midnight).
 * @param {api.AttendanceReport} report
 * @param {number} monday
 * @returns {HTMLElement}
 */
export function attendanceWeek(report, monday) {
  const week = localWeek(report, monday);
  const today = isoDay(Date.now());
  return h('div', { class: 'attendance-week', dataset: { userId: report.user_id } },
    h('p', { class: 'attendance-total' },
      h('span', { class: 'muted' }, 'Week total: '),
      h('strong', {}, formatWeekTotal(week.presentMinutes, report.contracted_weekly_hours)),
      report.contracted_weekly_hours ? h('span', { class: 'muted' }, ' contracted') : null),
    h('ul', { class: 'log attendance-days', 'aria-label': 'Days of the week' }, week.days.map((day) => {
      const name = formatDay(day.start);
      const isToday = day.date === today;
      return h('li', { dataset: { date: day.date }, 'aria-current': isToday ? 'date' : undefined },
        h('div', {},
          h('div', { class: 'when' }, name, isToday ? h('span', { class: 'muted' }, ' · today') : null),
          day.firstSeen === null
            ? h('div', { class: 'muted' }, 'Not present')
            : [
              h('div', { class: 'attendance-first' }, `First seen ${formatClock(day.firstSeen)}`),
              h('ul', { class: 'attendance-intervals', 'aria-label': `Times present on ${name}` },
                day.intervals.map((i) => h('li', {}, formatInterval(i)))),
            ]),
        h('div', { class: 'log-right attendance-minutes' }, day.firstSeen === null ? '' : formatDuration(day.presentMinutes)));
    })));
}
