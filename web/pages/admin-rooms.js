// Administration of the organisation's rooms: meeting rooms and the reception (people's own
// offices are made by the server and not managed here). Create, rename, change capacity, delete.

import * as api from '/client/api.js';
import { h, field, busy, clearErrors, showError, toast, openDialog } from '/ui/dom.js';

const KINDS = [
  { value: 'meeting', label: 'Meeting room' },
  { value: 'reception', label: 'Reception' },
];
const MAX_CAPACITY = 1000;

/**
 * The rooms card of the admin page.
 * @returns {Promise<HTMLElement>}
 */
export async function roomsCard() {
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
    h('p', { class: 'hint space-bottom' }, `Meeting rooms and the reception. Everyone's own office is created automatically. Small meetings connect people directly; from five people on (the server's setting) a room's media goes through Bureau's media server, still end-to-end encrypted. Leave the capacity empty for no limit of its own.`),
    host);
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
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, sorted.map((room) => row(room, reload)))));
}

/**
 * One editable row: name and capacity save on Save; Delete asks first.
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
  const save = h('button', { type: 'button', class: 'button small', 'aria-label': `Save ${room.name}` }, 'Save');
  save.addEventListener('click', () => busy(save, async () => {
    /** @type {{name?: string, capacity?: number|null}} */
    const patch = {};
    if (name.value.trim() !== room.name) patch.name = name.value.trim();
    const cap = capacity.value.trim() === '' ? null : Number(capacity.value);
    if (cap !== room.capacity) patch.capacity = cap;
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
    h('td', {}, KINDS.find((k) => k.value === room.kind)?.label || room.kind),
    h('td', {}, capacity),
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
    field({ name: 'capacity', label: 'Capacity', type: 'number', value: '', placeholder: 'No limit', hint: `2 to ${MAX_CAPACITY} people, or empty for no limit of its own (the server's limit holds).`, attrs: { min: '2', max: String(MAX_CAPACITY) } }));
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
        await api.createRoom({ name: String(data.get('name') || '').trim(), kind, capacity: Number.isFinite(capacity) && capacity > 0 ? capacity : undefined });
        close();
        toast('The room has been added.', 'success');
        await reload();
      } catch (err) {
        showError(form, err, api.describeError);
      }
    });
  });
}
