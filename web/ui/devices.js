// The "Encrypted messaging devices" card of the profile page (docs/messaging.md, "Several
// devices, history"): the browsers that hold the user's keys, each with the device code it
// shares with this one; remove a device that was lost (nothing new is encrypted to it), send
// this browser's history to another of the user's devices, and import a history another one sent
// — each after comparing the device code on both screens.

import * as api from '/client/api.js';
import { checkedDevices } from '/client/secure-messages.js';
import { signingPublicBytes } from '/client/device-keys.js';
import { deviceCode } from '/client/history-transfer.js';
import { h, openDialog, toast } from '/ui/dom.js';

/**
 * @typedef {import('/live/live-office.js').Office} Office
 * @typedef {import('/client/secure-messages.js').CheckedDevice} CheckedDevice
 */

/**
 * @param {string} code Six digits.
 * @returns {string} As shown: "123 456".
 */
function spaced(code) {
  return `${code.slice(0, 3)} ${code.slice(3)}`;
}

/**
 * @param {Office} office
 * @returns {HTMLElement}
 */
export function devicesCard(office) {
  const list = h('ul', { class: 'device-list', 'aria-label': 'Your devices' });
  const offers = h('div', { class: 'device-offers' });
  const card = h('section', { class: 'card', 'aria-labelledby': 'devices-title' },
    h('h2', { id: 'devices-title' }, 'Encrypted messaging devices'),
    h('p', { class: 'hint' }, 'Each browser where you use Bureau has its own keys for end-to-end encrypted messages. Remove one you lost or no longer use: nothing new is encrypted to it. Your history stays on each device unless you send it to another.'),
    offers, list);
  /** @type {Map<string, {device: CheckedDevice, code: string}>} */
  let others = new Map();
  const draw = async () => {
    let thisId;
    let devices;
    try {
      [thisId, devices] = await Promise.all([office.mailbox.device(), checkedDevices(office.me.id)]);
    } catch (err) {
      list.replaceChildren(h('li', { class: 'muted' }, `Your devices cannot be listed now (${api.describeError(err)}).`));
      return;
    }
    const mine = new Uint8Array(await signingPublicBytes());
    others = new Map();
    for (const d of devices) if (d.id !== thisId) others.set(d.id, { device: d, code: await deviceCode(mine, d.signPublic) });
    list.replaceChildren(...devices.map((d) => {
      const other = others.get(d.id);
      return h('li', { class: 'device-row' },
        h('div', {}, h('strong', {}, d.name || 'A browser'), d.id === thisId ? h('span', { class: 'muted' }, ' — this browser') : null,
          other ? h('div', { class: 'muted' }, 'Device code ', h('code', {}, spaced(other.code))) : null),
        h('div', { class: 'form-actions' },
          other ? h('button', { type: 'button', class: 'button small', onclick: () => sendHistory(office, other.device, other.code) }, 'Send my history') : null,
          other ? h('button', { type: 'button', class: 'button small danger', 'aria-label': `Remove ${d.name || 'device'}`, onclick: () => removeDevice(d, draw) }, 'Remove') : null));
    }));
    drawOffers();
  };
  const drawOffers = () => {
    offers.replaceChildren(...office.mailbox.offers.map((offer) => {
      const from = others.get(offer.from_device);
      const name = from ? from.device.name : 'a device that is no longer in your list';
      const importIt = h('button', { type: 'button', class: 'button small primary' }, 'The codes match — import');
      importIt.addEventListener('click', async () => {
        importIt.disabled = true;
        try {
          const added = await office.mailbox.importOffer(offer.message_id);
          toast(`${added} message${added === 1 ? '' : 's'} added to this browser's history.`);
        } catch (err) {
          importIt.disabled = false;
          toast(`The history was not imported: ${err instanceof Error ? err.message : String(err)}.`, 'error');
        }
      });
      return h('div', { class: 'notice', role: 'status' },
        h('p', {}, `“${name}” sent you its history (${offer.count} message${offer.count === 1 ? '' : 's'}). `,
          from ? ['Import it only if that device shows the same device code next to this browser: ', h('code', {}, spaced(from.code)), '.'] : 'It cannot be checked: do not import it.'),
        h('div', { class: 'form-actions' }, from ? importIt : null,
          h('button', { type: 'button', class: 'button small', onclick: () => void office.mailbox.discardOffer(offer.message_id) }, 'Discard')));
    }));
  };
  const stop = office.mailbox.onOffers(() => {
    if (!card.isConnected) return void stop();
    drawOffers();
  });
  void draw();
  return card;
}

/**
 * Asks the user to compare the device code, then sends this browser's history.
 * @param {Office} office
 * @param {CheckedDevice} target
 * @param {string} code
 */
function sendHistory(office, target, code) {
  const send = h('button', { type: 'button', class: 'button primary' }, 'The codes match — send');
  const { close } = openDialog({
    title: `Send your history to “${target.name}”?`,
    body: [h('p', {}, `On “${target.name}”, open My profile: next to this browser it must show the device code `, h('code', {}, spaced(code)), '. Send only if it does.'),
      h('p', { class: 'hint' }, 'Your messages on this browser are encrypted for that device alone and wait on the server until it imports them, at most as long as your organisation keeps messages.')],
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel'), send],
  });
  send.addEventListener('click', async () => {
    send.disabled = true;
    try {
      const count = await office.mailbox.sendHistory(target);
      close();
      toast(`${count} message${count === 1 ? '' : 's'} sent to “${target.name}”. Import them there, on My profile.`);
    } catch (err) {
      send.disabled = false;
      toast(`The history was not sent: ${api.describeError(err)}`, 'error');
    }
  });
}

/**
 * Asks, then removes a device.
 * @param {CheckedDevice} device Another of the user's devices (this browser's own keys stay
 *   while it is used).
 * @param {() => Promise<void>} redraw
 */
function removeDevice(device, redraw) {
  const remove = h('button', { type: 'button', class: 'button danger' }, 'Remove device');
  const { close } = openDialog({
    title: `Remove “${device.name}”?`,
    body: [h('p', {}, 'Nothing new is encrypted to it. What it already has stays on it.')],
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Keep it'), remove],
  });
  remove.addEventListener('click', async () => {
    remove.disabled = true;
    try {
      await api.removeDevice(device.id);
      close();
      toast(`“${device.name}” removed.`);
      await redraw();
    } catch (err) {
      remove.disabled = false;
      toast(api.describeError(err), 'error');
    }
  });
}
