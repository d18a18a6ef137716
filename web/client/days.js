// Calendar days in the browser's local time zone, for absences: the server stores times (Unix ms,
// the end exclusive) while people think in whole days, the last one included. No DOM here.

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
