// Calendar days and times of day in the browser's local time zone, for absences and busy times:
// the server stores times (Unix ms, the end exclusive) while people think in whole days, the last
// one included, and in clock times of their own day. No DOM here.

/** @type {Intl.DateTimeFormatOptions} */
const DAY_NAMES = { weekday: 'short', day: 'numeric', month: 'short' };

/**
 * The start of a day given as `YYYY-MM-DD` (what `<input type=date>` holds), local time.
 * @param {string} iso
 * @param {number} [plusDays] Days to add, e.g. 1 for the exclusive end after a last day.
 * @returns {number} Unix milliseconds, NaN for a malformed date.
 */
export function dayStart(iso, plusDays = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return NaN;
  // Date's own arithmetic, not 24 h steps: a day with a clock change is 23 or 25 hours long.
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).getTime();
}

/**
 * A time of day on a day, local time: `YYYY-MM-DD` and `HH:MM` (what `<input type=date>` and
 * `<input type=time>` hold).
 * @param {string} iso
 * @param {string} clock
 * @param {number} [plusDays] Days to add, e.g. 1 for an end after midnight.
 * @returns {number} Unix milliseconds, NaN for a malformed day or time.
 */
export function dayTime(iso, clock, plusDays = 0) {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  const t = /^(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$/.exec(clock);
  if (!d || !t || Number(t[1]) > 23 || Number(t[2]) > 59) return NaN;
  // Date's own arithmetic: on a day with a clock change, 14:00 is not 14 hours after midnight.
  return new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]) + plusDays, Number(t[1]), Number(t[2])).getTime();
}

/**
 * The local day of a time as `YYYY-MM-DD`.
 * @param {number} ms
 * @returns {string}
 */
export function isoDay(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/**
 * The start of the Monday of the week a time falls in, moved by whole weeks.
 * @param {number} ms
 * @param {number} [plusWeeks]
 * @returns {number}
 */
export function mondayOf(ms, plusWeeks = 0) {
  const d = new Date(ms);
  const sinceMonday = (d.getDay() + 6) % 7;
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() - sinceMonday + 7 * plusWeeks).getTime();
}

/**
 * A day for people, e.g. "Tue 9 Dec" (in the browser's language).
 * @param {number} ms
 * @returns {string}
 */
export function formatDay(ms) {
  return new Date(ms).toLocaleDateString([], DAY_NAMES);
}

/**
 * The last day of an absence, for people: its end is exclusive (the start of the day after), so
 * the day shown is the one just before it.
 * @param {number} endsAt
 * @returns {string}
 */
export function formatLastDay(endsAt) {
  return formatDay(endsAt - 1);
}

/**
 * An absence's days for people: "Mon 8 Dec – Wed 10 Dec", or one day alone.
 * @param {number} startsAt
 * @param {number} endsAt Exclusive.
 * @returns {string}
 */
export function formatDays(startsAt, endsAt) {
  const first = formatDay(startsAt);
  const last = formatLastDay(endsAt);
  return first === last ? first : `${first} – ${last}`;
}

/**
 * A time of day in 24-hour form, local time: "08:58".
 * @param {number} ms
 * @returns {string}
 */
export function formatClock(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * A moment for people: the time alone when it is today ("11:30"), with its day otherwise
 * ("Tue 9 Dec 11:30"), so that "until 11:30" never means tomorrow's.
 * @param {number} ms
 * @param {number} [now]
 * @returns {string}
 */
export function formatMoment(ms, now = Date.now()) {
  return isoDay(ms) === isoDay(now) ? formatClock(ms) : `${formatDay(ms)} ${formatClock(ms)}`;
}

/**
 * A span of time for people: "14:00–15:00" today, "Wed 10 Dec 14:00–15:00" on another day,
 * "Wed 10 Dec 22:00 – Thu 11 Dec 06:00" over midnight. The end is exclusive: an end at midnight
 * belongs to the day before ("23:00–24:00").
 * @param {number} startsAt
 * @param {number} endsAt
 * @param {number} [now]
 * @returns {string}
 */
export function formatSpan(startsAt, endsAt, now = Date.now()) {
  const sameDay = isoDay(startsAt) === isoDay(endsAt - 1);
  if (!sameDay) return `${formatDay(startsAt)} ${formatClock(startsAt)} – ${formatDay(endsAt)} ${formatClock(endsAt)}`;
  const end = endsAt === dayStart(isoDay(startsAt), 1) ? '24:00' : formatClock(endsAt);
  const times = `${formatClock(startsAt)}–${end}`;
  return isoDay(startsAt) === isoDay(now) ? times : `${formatDay(startsAt)} ${times}`;
}
