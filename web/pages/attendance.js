// `/attendance`: when one was present in the live office, week by week (Monday to Sunday, local
// time), with the week's total against the contracted hours. Administrators and holders of
// `see_attendance` also look at a colleague's week and download everyone's as CSV (both written
// to the audit log). Attendance times belong to the extended profile; in entry mode the page
// says so.

import * as api from '/client/api.js';
import * as privacy from '/client/privacy-api.js';
import { h, field, toast } from '/ui/dom.js';
import { attendanceWeek } from '/ui/attendance.js';
import { formatDays, mondayOf } from '/client/days.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const me = ctx.me || await api.me();
  const head = h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, 'Attendance'),
      h('p', {}, 'When you were present in the live office, week by week.')));
  if (!ctx.org || ctx.org.profile_mode !== 'extended') {
    return h('section', { class: 'page narrow' }, head,
      h('p', { class: 'notice' }, 'Attendance times are part of the extended profile, which your organisation does not use, so Bureau records none. An administrator can switch it on in the organisation settings.'));
  }

  const seer = api.canSeeAttendance(me);
  const thisWeek = mondayOf(Date.now());
  const [settings, colleagues] = await Promise.all([
    privacy.settings().catch(() => null),
    seer ? api.users('').then((list) => list.filter((u) => u.active && u.role !== 'guest' && u.id !== me.id)) : Promise.resolve([]),
  ]);
  let monday = thisWeek;
  let whose = me.id;
  let seq = 0;

  const title = h('h2', { id: 'attendance-week-title' }, 'My attendance');
  const span = h('strong', { class: 'week-span', 'aria-live': 'polite' });
  const previous = h('button', { type: 'button', class: 'button small', onclick: () => void go(-1) }, '← Previous week');
  const next = h('button', { type: 'button', class: 'button small', onclick: () => void go(1) }, 'Next week →');
  const current = h('button', { type: 'button', class: 'button small', onclick: () => void go(0) }, 'This week');
  const host = h('div', { class: 'attendance-host' });
  const note = h('p', { class: 'hint space-top' }, 'Times are when you were present in the live office — online, busy or do not disturb, not away — shown in your time zone.');
  const audited = h('p', { class: 'notice', hidden: true });
  const objecting = Boolean(settings && (settings.objections.includes('attendance') || settings.objections.includes('extended_profile')));
  const objectionNotice = h('p', { class: 'notice warning', hidden: !objecting },
    'You object to the recording of your attendance times, so Bureau records none for you. ',
    h('a', { href: '/privacy-centre' }, 'Change this in the privacy centre'), '.');

  const csv = seer ? h('a', { class: 'button', download: 'bureau-attendance.csv', href: api.attendanceCsvUrl(thisWeek, mondayOf(thisWeek, 1)) }, 'Download CSV') : null;
  const csvHint = h('p', { class: 'hint' }, 'Everyone’s attendance in the week shown, one line per person and day; days and the first time seen are in UTC. Each download is written to the audit log.');

  /** @type {HTMLDivElement|null} */
  let chooser = null;
  if (seer) {
    chooser = field({
      name: 'user_id', label: 'Colleague', type: 'select', value: me.id,
      options: [{ value: me.id, label: `${me.name} (you)` },
        ...colleagues.sort((a, b) => a.name.localeCompare(b.name)).map((u) => ({ value: u.id, label: u.name }))],
      hint: 'You may look at colleagues’ attendance. Each look is written to the audit log.',
    });
    const select = /** @type {HTMLSelectElement} */ (chooser.querySelector('select'));
    select.addEventListener('change', () => {
      whose = select.value;
      void load();
    });
  }

  /** @param {number} step Weeks to move; 0: back to this week. */
  const go = async (step) => {
    monday = step === 0 ? thisWeek : mondayOf(monday, step);
    await load();
  };

  const load = async () => {
    const mine = ++seq;
    const end = mondayOf(monday, 1);
    span.textContent = formatDays(monday, end);
    next.disabled = monday >= thisWeek;
    current.hidden = monday === thisWeek;
    if (csv) csv.href = api.attendanceCsvUrl(monday, end);
    host.setAttribute('aria-busy', 'true');
    try {
      const report = await api.attendance(monday, end, whose === me.id ? undefined : whose);
      if (mine !== seq) return;
      const own = report.user_id === me.id;
      title.textContent = own ? 'My attendance' : `Attendance of ${report.name}`;
      audited.hidden = own;
      audited.textContent = own ? '' : `Your look at the attendance of ${report.name} is written to the audit log.`;
      objectionNotice.hidden = !(own && objecting);
      note.textContent = `Times are when ${own ? 'you were' : `${report.name} was`} present in the live office — online, busy or do not disturb, not away — shown in your time zone.`;
      host.replaceChildren(attendanceWeek(report, monday));
    } catch (err) {
      if (mine !== seq) return;
      host.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, api.describeError(err)));
      toast(api.describeError(err), 'error');
    } finally {
      if (mine === seq) host.removeAttribute('aria-busy');
    }
  };
  await load();

  return h('section', { class: 'page medium attendance-page' }, head,
    h('section', { class: 'card', 'aria-labelledby': 'attendance-week-title' },
      title,
      chooser,
      h('div', { class: 'week-nav', role: 'group', 'aria-label': 'Week' }, previous, span, next, current),
      audited,
      objectionNotice,
      host,
      note,
      csv ? h('div', { class: 'attendance-csv space-top' }, h('div', { class: 'form-actions' }, csv), csvHint) : null),
    h('section', { class: 'card', 'aria-labelledby': 'attendance-privacy-title' },
      h('h2', { id: 'attendance-privacy-title' }, 'Who sees this'),
      h('p', {}, 'You, administrators, and colleagues who have been given the right to see attendance. Each time someone else looks at your attendance or downloads it, the audit log records who and when. Attendance times are deleted after the retention period your organisation has set.'),
      h('p', {}, 'You may object to the recording: nothing more is recorded and what was recorded is deleted. ',
        h('a', { href: '/privacy-centre' }, 'Object in the privacy centre'), '.')));
}
