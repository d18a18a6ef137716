// The private calendar feed of one's absences: whether it is on, a secret address for one's own
// calendar program (shown once, with Copy; renewing stops the old one) and turning it off, asked
// first.

import * as api from '/client/api.js';
import { h, uid, busy, openDialog, toast } from '/ui/dom.js';

/**
 * The "Calendar feed" card of the absences page.
 * @param {api.CalendarFeedStatus} initial
 * @returns {HTMLElement}
 */
export function calendarFeedCard(initial) {
  let active = initial.active;
  const status = h('p', { class: 'feed-status', role: 'status' });
  const shown = h('div', { class: 'feed-shown' });
  const renew = h('button', { type: 'button', class: 'button primary' });
  const off = h('button', { type: 'button', class: 'button danger', 'aria-haspopup': 'dialog' }, 'Turn off');
  const draw = () => {
    status.textContent = active
      ? 'The calendar feed is on: calendar programs subscribed to its address get your absences.'
      : 'The calendar feed is off.';
    renew.textContent = active ? 'Renew address' : 'Create address';
    off.hidden = !active;
  };
  draw();

  renew.addEventListener('click', () => void busy(renew, async () => {
    try {
      const feed = await api.renewCalendarFeed();
      const renewed = active;
      active = true;
      draw();
      showAddress(shown, location.origin + feed.path, renewed);
    } catch (err) {
      toast(api.describeError(err), 'error');
    }
  }));

  off.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'button danger' }, 'Turn off feed');
    const cancel = h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel');
    const { close } = openDialog({
      title: 'Turn off the calendar feed?',
      className: 'confirm',
      body: h('p', {}, 'Its address stops working: calendar programs subscribed to it no longer get your absences. You can create a new address later.'),
      footer: [cancel, yes],
    });
    cancel.focus();
    yes.addEventListener('click', () => void busy(yes, async () => {
      try {
        await api.removeCalendarFeed();
        close();
        active = false;
        draw();
        shown.replaceChildren();
        renew.focus();
        toast('The calendar feed is off.', 'success');
      } catch (err) {
        close();
        toast(api.describeError(err), 'error');
      }
    }));
  });

  return h('section', { class: 'card', 'aria-labelledby': 'absences-feed-title' },
    h('h2', { id: 'absences-feed-title' }, 'Calendar feed'),
    h('p', {}, 'See your absences in your own calendar program (Outlook, Google Calendar, Apple Calendar…) by subscribing to a secret address. Whoever has the address sees your absences with their kind, deputy and note: keep it to yourself.'),
    status,
    shown,
    h('div', { class: 'form-actions' }, off, renew),
    h('p', { class: 'hint space-top' }, 'Renewing gives a new address and stops the old one, for instance if it got into the wrong hands.'));
}

/**
 * Shows a new feed address with a Copy button: it is shown only this once.
 * @param {HTMLElement} host
 * @param {string} address
 * @param {boolean} renewed Whether it replaced an older address.
 */
function showAddress(host, address, renewed) {
  const inputId = uid('feed-url');
  const url = h('input', { id: inputId, type: 'text', readonly: true, value: address, class: 'guest-url', spellcheck: 'false' });
  const copy = h('button', { type: 'button', class: 'button', onclick: async () => {
    try {
      await navigator.clipboard.writeText(address);
      toast('Address copied.', 'success');
    } catch {
      url.focus();
      url.select();
      toast('Select and copy the address with Ctrl+C.', 'info');
    }
  } }, 'Copy address');
  host.replaceChildren(h('div', { class: 'notice' },
    h('div', { class: 'field' }, h('label', { for: inputId }, 'Calendar address (shown only now)'), url),
    h('p', {}, 'Subscribe to it in your calendar program now: Bureau shows it only this once. ',
      renewed ? 'The previous address no longer works. ' : '',
      'Renewing it or turning the feed off stops this address.'),
    copy));
  url.focus();
  url.select();
}
