// Administration of the organisation's rooms: meeting rooms and the reception (people's own
// offices are made by the server and not managed here). Create, rename, change kind and capacity, mark
// large (always through the media server), delete; and the organisation's threshold of the media
// server (docs/sfu.md, "When a room uses the SFU").

import * as api from '/client/api.js';
import { h, field, busy, clearErrors, setFieldError, showError, toast, openDialog } from '/ui/dom.js';
import { saveOrgSettings } from '/ui/org-settings.js';

const KINDS = [
  { value: 'meeting', label: 'Meeting room' },
  { value: 'reception', label: 'Reception' },
];
const MAX_CAPACITY = 1000;
/** The thresholds an organisation may choose (the server's bounds too). */
const MIN_THRESHOLD = 2;
const MAX_THRESHOLD = 100;
const LARGE_HINT = 'A large room sends its media through the media server from the first person on.';

/**
 * The rooms card of the admin page.
 * @param {import('/app.js').Context} ctx
 * @param {api.Org} org
 * @returns {Promise<HTMLElement>}
 */
export async function roomsCard(ctx, org) {
  const host = h('div', { class: 'table-wrap' });
  const reload = async () => {
    try {
      draw(host, (await api.rooms()).filter((r) => r.kind !== 'office'), reload);
    } catch (err) {
      host.replaceChildren(h('p', { class: 'muted' }, api.describeError(err)));
    }
  };
  await reload();
  return h('section', { class: 'card', 'aria-labelledby': 'rooms-admin-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'rooms-admin-title' }, 'Rooms'),
      h('button', { type: 'button', class: 'button primary', 'aria-haspopup': 'dialog', onclick: () => openAddRoom(reload) }, '+ Add room')),
    h('p', { class: 'hint space-bottom' }, `Meeting rooms and the reception. Everyone's own office is created automatically. Leave the capacity empty for no limit of its own. ${LARGE_HINT}`),
    thresholdForm(ctx, org),
    host);
}

/**
 * The organisation's threshold of the media server: empty is the server's default.
 * @param {import('/app.js').Context} ctx
 * @param {api.Org} org
 * @returns {HTMLFormElement}
 */
function thresholdForm(ctx, org) {
  let current = org.sfu_threshold ?? null;
  const save = h('button', { type: 'submit', class: 'button' }, 'Save threshold');
  const form = h('form', { class: 'media-threshold-form', novalidate: true, 'aria-label': 'When rooms use the media server' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    field({
      name: 'sfu_threshold', label: 'People at which a room uses the media server', type: 'number',
      value: current === null ? '' : String(current), placeholder: 'Default',
      attrs: { min: String(MIN_THRESHOLD), max: String(MAX_THRESHOLD), inputmode: 'numeric' },
      hint: `Small meetings connect people directly; bigger ones go through Bureau's media server, still end-to-end encrypted. ${MIN_THRESHOLD} to ${MAX_THRESHOLD} people; leave it empty for the server's default. Rooms in use follow at once.`,
    }),
    h('div', { class: 'form-actions' }, save));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const raw = String(new FormData(form).get('sfu_threshold') || '').trim();
    const wanted = raw === '' ? null : Number(raw);
    if (wanted !== null && (!Number.isInteger(wanted) || wanted < MIN_THRESHOLD || wanted > MAX_THRESHOLD)) {
      return void setFieldError(form, 'sfu_threshold', `Enter a whole number of people from ${MIN_THRESHOLD} to ${MAX_THRESHOLD}, or leave it empty.`);
    }
    const patch = wanted === current ? {} : { sfu_threshold: wanted };
    const saved = await saveOrgSettings(form, save, patch, 'Media server setting saved.');
    if (saved) {
      ctx.org = saved;
      current = saved.sfu_threshold ?? null;
    }
  });
  return form;
}

/**
 * @param {HTMLElement} host
 * @param {api.Room[]} rooms
 * @param {() => Promise<void>} reload
 */
function draw(host, rooms, reload) {
  if (rooms.length === 0) {
    host.replaceChildren(h('p', { class: 'muted' }, 'No rooms yet.'));
    return;
  }
  const sorted = [...rooms].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  host.replaceChildren(h('table', { class: 'responsive rooms-table' },
    h('caption', { class: 'sr-only' }, 'Rooms of the organisation'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Kind'), h('th', { scope: 'col' }, 'Capacity'),
      h('th', { scope: 'col' }, 'Large (always through the media server)'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, sorted.map((room) => row(room, reload)))));
}

/**
 * One editable row: name, kind, capacity and "large" save on Save; Delete asks first.
 * @param {api.Room} room
 * @param {() => Promise<void>} reload
 * @returns {HTMLElement}
 */
function row(room, reload) {
  const name = h('input', { value: room.name, 'aria-label': `Name of ${room.name}`, maxlength: '100', required: true });
  const capacity = h('input', {
    type: 'number', class: 'cap', min: '2', max: String(MAX_CAPACITY), value: room.capacity === null ? '' : String(room.capacity),
    placeholder: 'No limit', 'aria-label': `Capacity of ${room.name}`,
  });
  // The label is visible in the cell too: narrow screens hide the table's header.
  const large = h('input', { type: 'checkbox', checked: room.large === true, 'aria-label': `${room.name}: large, always through the media server` });
  const kind = /** @type {HTMLSelectElement} */ (h('select', { 'aria-label': `Kind of ${room.name}` },
    KINDS.map((k) => h('option', { value: k.value, selected: k.value === room.kind }, k.label))));
  const save = h('button', { type: 'button', class: 'button small', 'aria-label': `Save ${room.name}` }, 'Save');
  save.addEventListener('click', () => busy(save, async () => {
    /** @type {{name?: string, capacity?: number|null, large?: boolean, kind?: 'meeting'|'reception'}} */
    const patch = {};
    if (kind.value !== room.kind) patch.kind = /** @type {'meeting'|'reception'} */ (kind.value);
    if (name.value.trim() !== room.name) patch.name = name.value.trim();
    const cap = capacity.value.trim() === '' ? null : Number(capacity.value);
    if (cap !== room.capacity) patch.capacity = cap;
    if (large.checked !== (room.large === true)) patch.large = large.checked;
    if (Object.keys(patch).length === 0) return toast('Nothing to save: the room was not changed.');
    try {
      await api.updateRoom(room.id, patch);
      toast('The room has been saved.', 'success');
      await reload();
    } catch (err) {
      toast(api.describeError(err), 'error');
    }
  }));
  const remove = h('button', { type: 'button', class: 'button small danger', 'aria-label': `Delete ${room.name}`, 'aria-haspopup': 'dialog', onclick: () => confirmDelete(room, reload) }, 'Delete');
  return h('tr', { dataset: { roomId: room.id } },
    h('td', {}, name),
    h('td', {}, kind),
    h('td', {}, capacity),
    h('td', {}, h('label', { class: 'check' }, large, h('span', {}, 'Large'))),
    h('td', { class: 'actions' }, save, ' ', remove));
}

/**
 * @param {api.Room} room
 * @param {() => Promise<void>} reload
 */
function confirmDelete(room, reload) {
  const yes = h('button', { type: 'button', class: 'button danger' }, 'Delete room');
  const { close } = openDialog({
    title: `Delete ${room.name}?`,
    body: h('p', {}, 'Anyone in the room is taken out of it. Past call logs keep their dates and durations.'),
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Keep it'), yes],
  });
  yes.addEventListener('click', () => busy(yes, async () => {
    try {
      await api.deleteRoom(room.id);
      close();
      toast('The room has been deleted.', 'success');
      await reload();
    } catch (err) {
      toast(api.describeError(err), 'error');
    }
  }));
}

/**
 * Opens the "Add room" dialog (admins and users with the `create_rooms` right).
 * @param {() => Promise<void>|void} reload Called after the room was added.
 */
export function openAddRoom(reload) {
  const submit = h('button', { type: 'submit', class: 'button primary', form: 'add-room-form' }, 'Add room');
  const form = h('form', { id: 'add-room-form', novalidate: true },
    field({ name: 'name', label: 'Name', required: true, attrs: { maxlength: '100' }, placeholder: 'Meeting room 1' }),
    field({ name: 'kind', label: 'Kind', type: 'select', value: 'meeting', options: KINDS }),
    field({ name: 'capacity', label: 'Capacity', type: 'number', value: '', placeholder: 'No limit', hint: `2 to ${MAX_CAPACITY} people, or empty for no limit of its own (the server's limit holds).`, attrs: { min: '2', max: String(MAX_CAPACITY) } }),
    h('div', { class: 'field' },
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'large', 'aria-describedby': 'add-room-large-hint' }),
        h('span', {}, 'Large: always through the media server')),
      h('p', { class: 'hint', id: 'add-room-large-hint' }, LARGE_HINT)));
  const { close } = openDialog({
    title: 'Add room', body: form,
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), submit],
  });
  /** @type {HTMLInputElement} */ (form.querySelector('input')).focus();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const kind = /** @type {'meeting'|'reception'} */ (String(data.get('kind')));
    const raw = String(data.get('capacity') || '').trim();
    const capacity = raw ? Number(raw) : NaN;
    void busy(submit, async () => {
      try {
        await api.createRoom({
          name: String(data.get('name') || '').trim(), kind, capacity: Number.isFinite(capacity) && capacity > 0 ? capacity : undefined,
          large: data.get('large') === 'on',
        });
        close();
        toast('The room has been added.', 'success');
        await reload();
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
}
