// Informed consent to camera and microphone (PRODUCT.md §4): before a device is used the person
// reads the organisation's consent text, tries and chooses their camera and microphone, ticks
// which of them may be used and confirms with "I agree" (POST /api/consents; the organisation is
// emailed a confirmation). The browser remembers the consent, its text version and the devices in
// localStorage (`bureau.consent`); a new text version asks again. Withdrawal stops the devices.

import { h, uid, openDialog, toast } from '/ui/dom.js';
import { renderMarkdown } from '/ui/markdown.js';
import { legal } from '/client/privacy-api.js';
import { giveConsent, withdrawConsent } from '/client/consent-api.js';
import { describe } from '/client/guest-api.js';
import { rememberDevice, rememberedDevice, deviceConstraint } from '/live/media.js';

/** The localStorage key of the remembered consent. */
export const CONSENT_KEY = 'bureau.consent';

/**
 * @typedef {import('/live/media.js').Allowed} Allowed
 * @typedef {import('/live/media.js').LocalMedia} LocalMedia
 */

/**
 * The consent this browser remembers.
 * @typedef {object} StoredConsent
 * @property {string} id The consent's id on the server (for withdrawal).
 * @property {string} org The organisation's slug.
 * @property {number} version The version of the consent text agreed to.
 * @property {boolean} camera
 * @property {boolean} microphone
 * @property {string} micId
 * @property {string} camId
 */

/**
 * Bureau's consent text, shown while the organisation has not written its own.
 * @param {string} orgName
 * @returns {string} Markdown.
 */
export function defaultConsentText(orgName) {
  return `## Your camera and microphone at ${orgName || 'this organisation'}

Before your camera or microphone is used, please read how.

- **What is transmitted:** the picture of your camera and the sound of your microphone, live, to the other people in the same room or call — nothing else.
- **Directly between participants:** audio and video go from browser to browser (if necessary through this organisation's relay server), encrypted in transit. They are **not recorded and not stored** by Bureau.
- **Your control:** you choose below whether the camera, the microphone or both may be used. During a call you can mute yourself, switch the camera off or leave at any time.
- **What is recorded:** that you gave this consent, when, and for which devices. ${orgName || 'The organisation'} receives a confirmation by email.
- **Withdrawal:** you can withdraw your consent at any time with "Withdraw consent" in the call. Camera and microphone stop at once; the withdrawal does not affect what happened before it.

Giving consent is voluntary. Without it you can still take part in the room without camera and microphone.`;
}

/** @returns {StoredConsent|null} */
export function storedConsent() {
  try {
    const value = JSON.parse(localStorage.getItem(CONSENT_KEY) || 'null');
    return value && typeof value.id === 'string' && typeof value.version === 'number' ? value : null;
  } catch {
    return null;
  }
}

/** @param {StoredConsent|null} value */
function store(value) {
  try {
    if (value) localStorage.setItem(CONSENT_KEY, JSON.stringify(value));
    else localStorage.removeItem(CONSENT_KEY);
  } catch {
    // Storage disabled: consent is asked again next time.
  }
}

/**
 * The current consent text of an organisation: its Markdown and version.
 * @param {string} orgSlug
 * @param {string} orgName
 * @returns {Promise<{markdown: string, version: number}>}
 */
export async function currentText(orgSlug, orgName) {
  const texts = await legal(orgSlug || undefined);
  const consent = texts && texts.consent;
  return {
    markdown: consent && consent.markdown ? consent.markdown : defaultConsentText(texts ? texts.org_name : orgName),
    version: consent ? consent.version : 0,
  };
}

/**
 * The consent form: the text, device choice with a live preview, the two checkboxes and "I agree".
 * @param {{orgSlug: string, orgName: string, text: {markdown: string, version: number},
 *   onAgreed: (consent: StoredConsent) => void, extra?: HTMLElement[]}} o `extra`: more buttons.
 * @returns {{element: HTMLFormElement, dispose: () => void}} `dispose` stops the preview.
 */
export function consentForm(o) {
  const id = uid('consent');
  /** @type {MediaStream|null} */
  let preview = null;
  /** @type {AudioContext|null} */
  let audioContext = null;
  /** @type {any} */
  let meterTimer = null;
  const video = h('video', { autoplay: true, playsinline: true, class: 'consent-video', 'aria-label': 'Camera preview' });
  video.muted = true;
  const level = h('meter', { id: id + '-level', min: '0', max: '1', value: '0', 'aria-label': 'Microphone level' });
  const camera = h('input', { type: 'checkbox', id: id + '-cam', name: 'camera' });
  const microphone = h('input', { type: 'checkbox', id: id + '-mic', name: 'microphone' });
  const camSelect = h('select', { id: id + '-cam-device', disabled: true }, h('option', { value: '' }, 'Tick “Camera” to choose'));
  const micSelect = h('select', { id: id + '-mic-device', disabled: true }, h('option', { value: '' }, 'Tick “Microphone” to choose'));
  const problem = h('p', { class: 'field-error', role: 'alert', hidden: true });
  const agree = h('button', { type: 'submit', class: 'button primary' }, 'I agree');

  let disposed = false;
  const stopPreview = () => {
    seq += 1;
    clearInterval(meterTimer);
    if (preview) for (const t of preview.getTracks()) t.stop();
    preview = null;
    video.srcObject = null;
    level.value = 0;
  };

  let seq = 0;
  /** Opens the ticked devices for the preview and fills the device menus. */
  const refresh = async () => {
    stopPreview();
    const mine = seq;
    problem.hidden = true;
    const camId = camSelect.value || rememberedDevice('video');
    const micId = micSelect.value || rememberedDevice('audio');
    if (!camera.checked && !microphone.checked) return;
    /** @type {MediaStream} */
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: deviceConstraint(camera.checked, camId), audio: deviceConstraint(microphone.checked, micId),
      }).catch((err) => {
        // The chosen device is gone (unplugged): any camera and microphone.
        if (!camId && !micId) throw err;
        return navigator.mediaDevices.getUserMedia({ video: camera.checked, audio: microphone.checked });
      });
    } catch (err) {
      if (mine !== seq) return;
      problem.textContent = err instanceof Error && err.name === 'NotAllowedError'
        ? 'The browser did not allow the camera and microphone. Allow them in the address bar, then tick again.'
        : 'The camera or microphone could not be opened.';
      problem.hidden = false;
      return;
    }
    if (mine !== seq || disposed) {
      for (const t of stream.getTracks()) t.stop();
      return;
    }
    preview = stream;
    video.srcObject = stream;
    startMeter(stream);
    const list = await navigator.mediaDevices.enumerateDevices();
    if (mine !== seq) return;
    const vTrack = stream.getVideoTracks()[0];
    const aTrack = stream.getAudioTracks()[0];
    fill(camSelect, list.filter((d) => d.kind === 'videoinput'), vTrack ? vTrack.getSettings().deviceId || '' : '', 'Camera', camera.checked);
    fill(micSelect, list.filter((d) => d.kind === 'audioinput'), aTrack ? aTrack.getSettings().deviceId || '' : '', 'Microphone', microphone.checked);
  };

  /** @param {MediaStream} stream */
  const startMeter = (stream) => {
    if (!stream.getAudioTracks().length || typeof AudioContext === 'undefined') return;
    try {
      audioContext = audioContext || new AudioContext();
      const analyser = audioContext.createAnalyser();
      audioContext.createMediaStreamSource(stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      meterTimer = setInterval(() => {
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += s * s;
        level.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      }, 150);
    } catch {
      // No WebAudio: no level, the rest works.
    }
  };

  camera.addEventListener('change', () => void refresh());
  microphone.addEventListener('change', () => void refresh());
  camSelect.addEventListener('change', () => void refresh());
  micSelect.addEventListener('change', () => void refresh());

  const form = h('form', { class: 'consent-form', novalidate: true, 'aria-labelledby': id + '-title' },
    h('h2', { id: id + '-title', class: 'sr-only' }, 'Consent to camera and microphone'),
    h('div', { class: 'legal-box consent-text', tabindex: '0', role: 'region', 'aria-label': 'Consent text' }, ...renderMarkdown(o.text.markdown, { headingOffset: 1 })),
    h('div', { class: 'consent-devices' },
      h('div', { class: 'consent-preview' }, video, h('label', { for: id + '-level', class: 'muted' }, 'Microphone level'), level),
      h('fieldset', { class: 'fieldset' },
        h('legend', {}, 'Which devices may be used?'),
        h('div', { class: 'field' }, h('label', { class: 'check', for: camera.id }, camera, h('span', {}, 'Camera'))),
        h('div', { class: 'field' }, h('label', { for: camSelect.id }, 'Camera device'), camSelect),
        h('div', { class: 'field' }, h('label', { class: 'check', for: microphone.id }, microphone, h('span', {}, 'Microphone'))),
        h('div', { class: 'field' }, h('label', { for: micSelect.id }, 'Microphone device'), micSelect))),
    problem,
    h('div', { class: 'consent-actions' }, ...(o.extra || []), agree));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    problem.hidden = true;
    if (!camera.checked && !microphone.checked) {
      problem.textContent = 'Tick the camera, the microphone or both.';
      problem.hidden = false;
      return;
    }
    agree.disabled = true;
    try {
      const given = await giveConsent({ template_version: o.text.version, camera: camera.checked, microphone: microphone.checked });
      /** @type {StoredConsent} */
      const consent = {
        id: given.id, org: o.orgSlug, version: o.text.version, camera: camera.checked, microphone: microphone.checked,
        camId: camera.checked ? camSelect.value : '', micId: microphone.checked ? micSelect.value : '',
      };
      store(consent);
      if (consent.camId) rememberDevice('video', consent.camId);
      if (consent.micId) rememberDevice('audio', consent.micId);
      disposed = true;
      stopPreview();
      o.onAgreed(consent);
    } catch (err) {
      problem.textContent = describe(err);
      problem.hidden = false;
    } finally {
      agree.disabled = false;
    }
  });
  return { element: form, dispose: () => { disposed = true; stopPreview(); if (audioContext) void audioContext.close().catch(() => {}); } };
}

/**
 * @param {HTMLSelectElement} select
 * @param {MediaDeviceInfo[]} devices
 * @param {string} current
 * @param {string} label
 * @param {boolean} enabled
 */
function fill(select, devices, current, label, enabled) {
  if (!enabled) return;
  select.disabled = devices.length === 0;
  select.replaceChildren(...(devices.length
    ? devices.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current }, d.label || `${label} ${i + 1}`))
    : [h('option', { value: '' }, 'None found')]));
}

/**
 * The remembered consent if it is for this organisation and the current text version; otherwise
 * shows the consent dialog. Null when the person closes it without agreeing.
 * @param {string} orgSlug
 * @param {string} orgName
 * @returns {Promise<Allowed|null>}
 */
export async function ensureConsent(orgSlug, orgName) {
  const text = await currentText(orgSlug, orgName);
  const stored = storedConsent();
  if (stored && stored.org === orgSlug && stored.version === text.version) return { camera: stored.camera, microphone: stored.microphone };
  return new Promise((resolve) => {
    /** @type {Allowed|null} */
    let answer = null;
    const notNow = h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Not now');
    const form = consentForm({
      orgSlug, orgName, text, extra: [notNow],
      onAgreed: (c) => { answer = { camera: c.camera, microphone: c.microphone }; close(); },
    });
    const { close } = openDialog({
      title: 'Camera and microphone', className: 'consent-dialog', body: form.element,
      onClose: () => { form.dispose(); resolve(answer); },
    });
  });
}

/**
 * Makes a member's media ask for consent before a device opens (their first room or call in this
 * browser, and after a new version of the text).
 * @param {LocalMedia} media
 * @param {() => {slug: string, name: string}|null} org The signed-in user's organisation.
 */
export function installConsentGate(media, org) {
  media.gate = async () => {
    const o = org();
    return ensureConsent(o ? o.slug : '', o ? o.name : '');
  };
}

/**
 * Withdraws the remembered consent: stops camera and microphone at once, tells the server and
 * forgets the consent in this browser.
 * @param {LocalMedia} media
 * @returns {Promise<void>}
 */
export async function withdraw(media) {
  const stored = storedConsent();
  media.allowed = { camera: false, microphone: false };
  media.stop();
  store(null);
  if (!stored) return;
  try {
    await withdrawConsent(stored.id);
    toast('Consent withdrawn. Camera and microphone are off.', 'success');
  } catch (err) {
    toast(describe(err), 'error');
  }
}
