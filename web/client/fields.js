// What the client knows about profile fields, roles and rights: labels, input kinds and who may
// edit what. No DOM here, so the editors of the profile and admin pages share one description.

/**
 * @typedef {'text'|'email'|'tel'|'number'|'deputy'} FieldKind
 * @typedef {object} FieldSpec
 * @property {string} name Field name in the API.
 * @property {string} label
 * @property {FieldKind} kind
 * @property {boolean} extended Exists only in the extended profile mode.
 * @property {boolean} adminOnly Only administrators may change it.
 * @property {string} [hint]
 * @property {string} [autocomplete]
 */

/** @type {FieldSpec[]} */
export const FIELDS = [
  { name: 'name', label: 'Display name', kind: 'text', extended: false, adminOnly: false, autocomplete: 'name' },
  { name: 'email', label: 'Email', kind: 'email', extended: false, adminOnly: true, autocomplete: 'email' },
  { name: 'title', label: 'Title', kind: 'text', extended: true, adminOnly: false, hint: 'For example Dr. or Prof.', autocomplete: 'honorific-prefix' },
  { name: 'username', label: 'Username', kind: 'text', extended: true, adminOnly: false, autocomplete: 'username' },
  { name: 'company_role', label: 'Company role', kind: 'text', extended: true, adminOnly: true, hint: 'Position in the organisation, e.g. Partner.' },
  { name: 'personnel_id', label: 'Personnel ID', kind: 'text', extended: true, adminOnly: true },
  { name: 'work_location', label: 'Work location', kind: 'text', extended: true, adminOnly: false, hint: 'Office, city or "home office".' },
  { name: 'qualification', label: 'Qualification', kind: 'text', extended: true, adminOnly: false },
  { name: 'phone_extension', label: 'Phone extension', kind: 'tel', extended: true, adminOnly: false, autocomplete: 'tel-extension' },
  { name: 'phone_mobile', label: 'Mobile phone', kind: 'tel', extended: true, adminOnly: false, autocomplete: 'tel' },
  { name: 'device', label: 'Device', kind: 'text', extended: true, adminOnly: false, hint: 'Work laptop, desk phone, headset…' },
  { name: 'deputy_id', label: 'Deputy', kind: 'deputy', extended: true, adminOnly: false, hint: 'The colleague who stands in during absences.' },
  { name: 'office_hours_weekly', label: 'Office hours per week', kind: 'number', extended: true, adminOnly: true },
  { name: 'home_office_hours_weekly', label: 'Home-office hours per week', kind: 'number', extended: true, adminOnly: true },
];

/** @type {{value: import('./api.js').Role, label: string, hint: string}[]} */
export const ROLES = [
  { value: 'admin', label: 'Administrator', hint: 'Manages the organisation and holds every right.' },
  { value: 'member', label: 'Member', hint: 'A colleague.' },
  { value: 'guest', label: 'Guest', hint: 'A visitor with access only to what they were invited to.' },
];

/** @type {{value: import('./api.js').Right, label: string}[]} */
export const RIGHTS = [
  { value: 'invite', label: 'Invite people' },
  { value: 'create_rooms', label: 'Create rooms' },
  { value: 'see_attendance', label: 'See attendance' },
  { value: 'manage_privacy', label: 'Handle privacy requests' },
  { value: 'manage_absences', label: "Enter colleagues' absences" },
];

/**
 * The fields shown in an editor.
 * @param {import('./api.js').ProfileMode} mode The organisation's profile mode.
 * @param {boolean} asAdmin Whether the editor is an administrator editing any user.
 * @returns {FieldSpec[]}
 */
export function editableFields(mode, asAdmin) {
  return FIELDS.filter((f) => (mode === 'extended' || !f.extended) && (asAdmin || !f.adminOnly));
}

/**
 * @param {string} role
 * @returns {string} A human label of the role.
 */
export function roleLabel(role) {
  const found = ROLES.find((r) => r.value === role);
  return found ? found.label : role;
}

/**
 * Initials for an avatar: first letters of the first and last word.
 * @param {string} name
 * @returns {string}
 */
export function initials(name) {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = words[0].charAt(0);
  const last = words.length > 1 ? words[words.length - 1].charAt(0) : '';
  return (first + last).toUpperCase();
}

/**
 * A stable hue for an avatar background, derived from the user id.
 * @param {string} id
 * @returns {number} 0–359
 */
export function avatarHue(id) {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) >>> 0;
  return hash % 360;
}

/**
 * The patch between a user and the values of an editor form: only changed fields, empty
 * optional values as `null`, numbers parsed.
 * @param {FieldSpec[]} fields
 * @param {Record<string, unknown>} before The user as loaded.
 * @param {Record<string, string>} values Raw form values by field name.
 * @returns {import('./api.js').UserPatch}
 */
export function diffPatch(fields, before, values) {
  /** @type {import('./api.js').UserPatch} */
  const patch = {};
  for (const f of fields) {
    if (!(f.name in values)) continue;
    const raw = values[f.name].trim();
    const old = before[f.name];
    /** @type {string|number|null} */
    let next = raw === '' ? null : raw;
    if (f.kind === 'number' && raw !== '') next = Number(raw.replace(',', '.'));
    const oldNorm = old === undefined || old === null || old === '' ? null : old;
    if (next === oldNorm) continue;
    if (next === null && !f.extended) next = ''; // name and email cannot be cleared: the server says why
    patch[f.name] = next;
  }
  return patch;
}

/**
 * A password strength hint (not a policy: the server enforces at least 10 characters).
 * @param {string} password
 * @returns {{score: 0|1|2|3|4, label: string}}
 */
export function passwordStrength(password) {
  if (password.length === 0) return { score: 0, label: 'At least 10 characters.' };
  if (password.length < 10) return { score: 1, label: `Too short: ${10 - password.length} more character${password.length === 9 ? '' : 's'} needed.` };
  let classes = 0;
  if (/[a-z]/.test(password)) classes++;
  if (/[A-Z]/.test(password)) classes++;
  if (/[0-9]/.test(password)) classes++;
  if (/[^A-Za-z0-9]/.test(password)) classes++;
  const long = password.length >= 16;
  if (long && classes >= 3) return { score: 4, label: 'Strong password.' };
  if (long || classes >= 3) return { score: 3, label: 'Good password.' };
  return { score: 2, label: 'Fair: a longer passphrase or a mix of characters is stronger.' };
}
