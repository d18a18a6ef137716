// The safety code of a conversation (docs/messaging.md, "Verification anyone can do"): 60 digits
// in groups of five and the same as a QR code, the devices the conversation is encrypted for,
// and "Mark as verified" once the user compared the code with the colleague's.

import { h, openDialog, toast } from '/ui/dom.js';
import { qrSvg } from '/ui/qr.js';
import { groupsOf } from '/client/safety.js';

/**
 * @typedef {import('/live/live-office.js').Office} Office
 * @typedef {import('/client/secure-messages.js').CheckedDevice} CheckedDevice
 */

/**
 * Opens the safety code of the conversation with a colleague.
 * @param {Office} office
 * @param {string} userId
 * @param {() => void} changed Called after the user marked the colleague verified or not.
 * @returns {Promise<void>}
 */
export async function openSafetyCode(office, userId, changed) {
  const name = office.nameOf(userId) || 'Colleague';
  let found;
  try {
    found = await office.mailbox.safetyCode(userId);
  } catch (err) {
    toast(`The safety code could not be computed: ${err instanceof Error ? err.message : err}`, 'error');
    return;
  }
  const { code, trust, mine } = found;
  const verified = trust.verified && !trust.change;
  const mark = h('button', { type: 'button', class: verified ? 'button' : 'button primary' }, verified ? 'Mark as not verified' : 'Mark as verified');
  const { close } = openDialog({
    title: `Safety code with ${name}`,
    className: 'safety-dialog',
    body: [
      h('p', {}, `Compare these numbers with the ones ${name} sees — in person or in a call. If they are equal, your messages are end-to-end encrypted for exactly the devices below, and nobody in between, not even this server, can read them.`),
      h('p', { class: 'safety-code', role: 'group', 'aria-label': 'Safety code' }, groupsOf(code).map((g) => h('span', {}, g))),
      h('div', { class: 'qr-box' }, qrSvg(code, `Safety code with ${name} as a QR code`)),
      verified ? h('p', { class: 'notice success' }, `You verified ${name}.`) : h('p', { class: 'notice' }, `${name} is not verified yet.`),
      h('h3', {}, 'Encrypted for'),
      h('ul', { class: 'safety-devices', 'aria-label': 'Devices the conversation is encrypted for' },
        trust.devices.map((d) => deviceItem(d, name)),
        mine.map((d) => deviceItem(d, 'You'))),
    ],
    footer: [mark],
  });
  mark.addEventListener('click', async () => {
    await office.mailbox.accept(userId, trust.keys, !verified);
    toast(verified ? `${name} is no longer marked verified.` : `${name} is marked verified on this device.`, 'success');
    close();
    changed();
  });
}

/**
 * @param {CheckedDevice} device
 * @param {string} owner
 * @returns {HTMLElement}
 */
function deviceItem(device, owner) {
  return h('li', {}, `${owner}: ${device.name || 'a device'}`);
}
