// `/absences`: enter a vacation or another absence (with a deputy whom knocks ring meanwhile),
// one's own absences to come, who is away this week and next, and a private calendar feed of
// one's absences. Absences belong to the extended profile; in entry mode the page says so.

import * as api from '/client/api.js';
import { h, toast } from '/ui/dom.js';
import { absenceForm, absenceList } from '/ui/absences.js';
import { calendarFeedCard } from '/ui/calendar-feed.js';
import { formatDays, mondayOf } from '/client/days.js';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const me = ctx.me || await api.me();
  const head = h('div', { class: 'page-head' },
    h('div', {}, h('h1', {}, 'Absences'),
      h('p', {}, 'Vacation, sick leave, trips: while you are away, colleagues see it on your office and knocks ring your deputy.')));
  if (!ctx.org || ctx.org.profile_mode !== 'extended') {
    return h('section', { class: 'page narrow' }, head,
      h('p', { class: 'notice' }, 'Absences are part of the extended profile, which your organisation does not use. An administrator can switch it on in the organisation settings.'));
  }

  // This week and next, Monday to Monday in local time, as the team view reads them.
  const weeks = [mondayOf(Date.now()), mondayOf(Date.now(), 1), mondayOf(Date.now(), 2)];
  const [colleagues, firstMine, firstTeam, feed] = await Promise.all([
    api.users('').then((list) => list.filter((u) => u.active && u.role !== 'guest')),
    api.myAbsences(),
    api.teamAbsences(weeks[0], weeks[2]),
    api.calendarFeedStatus(),
  ]);
  let mine = firstMine;
  let team = firstTeam;
  const manager = api.canManageAbsences(me);

  const mineHost = h('div', {});
  const teamHost = h('div', {});
  const mineTitle = h('h2', { id: 'absences-mine-title', tabindex: '-1' }, 'My absences');
  const draw = () => {
    mineHost.replaceChildren(absenceList(mine, {
      label: 'My absences', empty: 'You have no absences coming up.', meId: me.id,
      removable: () => true, onRemoved: removed,
    }));
    teamHost.replaceChildren(...['This week', 'Next week'].map((title, i) => {
      const from = weeks[i];
      const to = weeks[i + 1];
      const overlapping = team.filter((a) => a.starts_at < to && a.ends_at > from);
      return h('section', { class: 'absence-week', 'aria-label': title },
        h('h3', {}, title, ' ', h('span', { class: 'muted' }, `(${formatDays(from, to)})`)),
        absenceList(overlapping, {
          label: `Away ${title.toLowerCase()}`, empty: 'Nobody is away.', meId: me.id, names: true,
          // One's own are removed under "My absences"; managers remove colleagues' here.
          removable: (a) => manager && a.user_id !== me.id, onRemoved: removed,
        }));
    }));
  };
  const reload = async () => {
    try {
      [mine, team] = await Promise.all([api.myAbsences(), api.teamAbsences(weeks[0], weeks[2])]);
      draw();
    } catch (err) {
      toast(api.describeError(err), 'error');
    }
  };
  // The removed entry's button is gone: keyboard focus goes on from the list's heading.
  const removed = async () => {
    await reload();
    mineTitle.focus();
  };
  draw();

  return h('section', { class: 'page medium absences-page' }, head,
    h('section', { class: 'card', 'aria-labelledby': 'absences-form-title' },
      h('h2', { id: 'absences-form-title' }, 'Enter an absence'),
      absenceForm({ me, colleagues, forOthers: manager, onSaved: reload })),
    h('section', { class: 'card', 'aria-labelledby': 'absences-mine-title' }, mineTitle, mineHost),
    h('section', { class: 'card', 'aria-labelledby': 'absences-team-title' },
      h('h2', { id: 'absences-team-title' }, 'Who is away'), teamHost),
    calendarFeedCard(feed));
}
