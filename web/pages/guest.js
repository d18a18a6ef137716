// The guest's page (public, `/guest#token=…`): the link is checked (the token leaves the address
// bar at once, app.js), the guest gives a name (and optionally an email), reads and confirms the
// consent to camera and microphone, waits in the lobby until a member lets them in (or walks in
// directly), and then sees the call stage of that one room — no floor plan, directory or presence.

import * as api from '/client/api.js';
import { h, field, busy, clearErrors, setFormError, setFieldError } from '/ui/dom.js';
import * as guests from '/client/guest-api.js';
import { consentForm, currentText, ensureConsent } from '/ui/consent.js';
import { startOffice, stopOffice, runningOffice } from '/live/live-office.js';
import { mountStage } from '/ui/stage.js';

/**
 * @typedef {import('/client/guest-api.js').GuestLinkInfo} GuestLinkInfo
 * @typedef {import('/live/live-office.js').Office} Office
 */

const INFO_KEY = 'bureau.guest';

/**
 * @param {import('/app.js').Context} ctx
 * @returns {Promise<HTMLElement>}
 */
export async function render(ctx) {
  const token = ctx.setupToken;
  ctx.setupToken = '';
  const section = h('section', { class: 'auth guest-page', dataset: { step: 'link' } });
  if (!token) {
    const info = rememberedInfo();
    if (ctx.me && ctx.me.role === 'guest' && info) {
      await consentStep(ctx, section, info, ctx.me);
      return section;
    }
    return explain(section, 'incomplete', 'This guest link is incomplete',
      'Open the link you were sent once more, exactly as you received it. If it still does not work, ask the person who invited you for a new one.');
  }
  /** @type {GuestLinkInfo} */
  let info;
  try {
    info = await guests.check(token);
  } catch (err) {
    if (guests.isDeadLink(err)) return deadLink(section);
    throw err;
  }
  nameStep(ctx, section, info, token);
  return section;
}

/**
 * Step 1: who the guest is.
 * @param {import('/app.js').Context} ctx
 * @param {HTMLElement} section
 * @param {GuestLinkInfo} info
 * @param {string} token
 */
function nameStep(ctx, section, info, token) {
  section.dataset.step = 'name';
  const nameField = field({ name: 'name', label: 'Your name', required: true, autocomplete: 'name', hint: 'The others in the room see this name.' });
  const name = /** @type {HTMLInputElement} */ (nameField.querySelector('input'));
  name.setAttribute('data-autofocus', '');
  const emailField = field({ name: 'email', label: 'Email (optional)', type: 'email', autocomplete: 'email' });
  const email = /** @type {HTMLInputElement} */ (emailField.querySelector('input'));
  const submit = h('button', { type: 'submit', class: 'button primary block' }, 'Continue');
  const member = ctx.me && ctx.me.role !== 'guest' ? ctx.me : null;
  const form = h('form', { novalidate: true, 'aria-label': `Join ${info.room_name} as a guest` },
    h('div', { class: 'form-error', role: 'alert', hidden: true }),
    member ? h('p', { class: 'notice warning' }, `You are signed in as ${member.name}. Joining as a guest ends that session in this browser.`) : null,
    nameField, emailField, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (!name.value.trim()) return void setFieldError(form, 'name', 'Enter your name.');
    await busy(submit, async () => {
      try {
        const answer = await guests.join({ token, name: name.value.trim(), ...(email.value.trim() ? { email: email.value.trim() } : {}) });
        if (runningOffice()) stopOffice();
        ctx.me = answer.user;
        ctx.org = null;
        rememberInfo(info);
        await consentStep(ctx, section, info, answer.user);
      } catch (err) {
        if (guests.isDeadLink(err)) return void deadLink(section);
        if (err instanceof api.ApiError && err.field === 'name') return void setFieldError(form, 'name', err.message);
        if (err instanceof api.ApiError && err.field === 'email') return void setFieldError(form, 'email', err.message);
        setFormError(form, guests.describe(err));
      }
    });
  });
  section.replaceChildren(head(`Join ${info.room_name}`, `${info.org_name} invited you as a guest.`), h('div', { class: 'card' }, form));
}

/**
 * Step 2: informed consent to camera and microphone (always asked of guests).
 * @param {import('/app.js').Context} ctx
 * @param {HTMLElement} section
 * @param {GuestLinkInfo} info
 * @param {api.User} user
 * @returns {Promise<void>}
 */
async function consentStep(ctx, section, info, user) {
  section.dataset.step = 'consent';
  section.classList.add('register');
  const text = await currentText(info.org_slug, info.org_name);
  const withoutButton = h('button', { type: 'button', class: 'button', onclick: () => { form.dispose(); enter(ctx, section, info, user, false); } },
    'Continue without camera and microphone');
  const form = consentForm({
    orgSlug: info.org_slug, orgName: info.org_name, text, extra: [withoutButton],
    onAgreed: () => { form.dispose(); enter(ctx, section, info, user, true); },
  });
  section.replaceChildren(head('Camera and microphone', `Before you join ${info.room_name}, please read how ${info.org_name} uses your camera and microphone, and choose what may be used.`),
    h('div', { class: 'card' }, form.element));
  /** @type {HTMLElement|null} */ (section.querySelector('h1'))?.focus();
}

/**
 * Step 3: connects, waits in the lobby until admitted (or walks in directly), then the stage.
 * @param {import('/app.js').Context} ctx
 * @param {HTMLElement} section
 * @param {GuestLinkInfo} info
 * @param {api.User} user
 * @param {boolean} consented
 */
function enter(ctx, section, info, user, consented) {
  const office = startOffice(user);
  office.media.gate = consented ? () => ensureConsent(info.org_slug, info.org_name) : async () => null;
  mountStage(office);
  let roomId = '';
  let admitted = false;
  /** @param {'connecting'|'lobby'|'in-room'|'left'} step */
  const show = (step) => {
    if (!section.isConnected && step !== 'connecting') return;
    section.dataset.step = step;
    if (step === 'lobby') {
      section.replaceChildren(head('Waiting for someone to let you in', ''),
        h('div', { class: 'card lobby-wait', role: 'status' },
          h('span', { class: 'ring-pulse lobby-pulse', 'aria-hidden': 'true' }),
          h('p', {}, `You are in the lobby of `, h('strong', {}, info.room_name), ` at ${info.org_name}. Someone there will let you in shortly.`),
          h('p', { class: 'muted' }, 'Keep this page open.')));
    } else if (step === 'in-room') {
      section.replaceChildren(head(info.room_name, `You are in the room as a guest of ${info.org_name}.`),
        h('p', { class: 'muted', role: 'status' }, consented ? 'Use the controls above to mute yourself, switch the camera off, withdraw your consent or leave.' : 'You take part without camera and microphone.'));
    } else if (step === 'left') {
      section.replaceChildren(head('You left the room', ''),
        h('div', { class: 'card' }, h('p', {}, `You can go back into ${info.room_name} while this page is open.`),
          h('button', { type: 'button', class: 'button primary', 'data-autofocus': '', onclick: () => office.enter(roomId) }, 'Go back in')));
    } else {
      section.replaceChildren(head(`Connecting to ${info.room_name}…`, ''));
    }
  };
  show('connecting');
  office.signal.on('welcome', (msg) => {
    const access = msg.guest;
    roomId = access ? access.room_id : roomId;
    admitted = Boolean(access && access.admitted);
    if (admitted) office.enter(roomId);
    else show('lobby');
  });
  office.signal.on('admitted', (msg) => {
    admitted = true;
    roomId = msg.room_id;
    office.enter(roomId);
  });
  office.signal.on('joined', () => show('in-room'));
  office.signal.on('left', (msg) => { if (msg.reason === 'left' && admitted) show('left'); });
  office.signal.on('status', (status) => {
    if (status.state !== 'closed' || !status.code || status.code === 1000) return;
    office.mesh.closeAll();
    if (status.code === 4004) {
      explain(section, 'refused', 'You were not let in',
        `Nobody at ${info.org_name} let you into ${info.room_name} this time. If you think this is a mistake, contact the person who invited you.`);
    } else if (status.code === 4002) {
      explain(section, 'ended', 'Your guest access has ended', `The link to ${info.room_name} was revoked or has expired.`);
    }
  });
}

/**
 * @param {string} title
 * @param {string} lead
 * @returns {HTMLElement}
 */
function head(title, lead) {
  return h('div', { class: 'auth-head' },
    h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, 'B'),
    h('h1', { tabindex: '-1' }, title),
    lead ? h('p', { class: 'muted' }, lead) : null);
}

/**
 * A friendly explanation instead of the flow.
 * @param {HTMLElement} section
 * @param {string} step
 * @param {string} title
 * @param {string} text
 * @returns {HTMLElement}
 */
function explain(section, step, title, text) {
  section.dataset.step = step;
  section.replaceChildren(head(title, ''), h('div', { class: 'card', role: 'alert' }, h('p', {}, text)));
  /** @type {HTMLElement|null} */ (section.querySelector('h1'))?.focus();
  return section;
}

/**
 * @param {HTMLElement} section
 * @returns {HTMLElement}
 */
function deadLink(section) {
  return explain(section, 'dead', 'This guest link no longer works',
    'It has expired or was revoked. Ask the person who invited you to send you a new link.');
}

/** @param {GuestLinkInfo} info */
function rememberInfo(info) {
  try {
    sessionStorage.setItem(INFO_KEY, JSON.stringify(info));
  } catch {
    // no storage: a reload asks for the link again
  }
}

/** @returns {GuestLinkInfo|null} */
function rememberedInfo() {
  try {
    const info = JSON.parse(sessionStorage.getItem(INFO_KEY) || 'null');
    return info && typeof info.org_slug === 'string' ? info : null;
  } catch {
    return null;
  }
}
