// Steps the office tests share: signing several people in, reading WebRTC statistics from a
// page's peer connections (window.bureau.peerConnections) and waiting for media to flow.

import { signIn, openBrowser } from './browser.js';

/**
 * @typedef {object} PeerStats
 * @property {string} peerId
 * @property {number} framesDecoded Of the inbound video.
 * @property {string} localType Candidate type of the selected pair's local side ('' if none yet).
 * @property {string} remoteType
 * @property {string} policy The connection's iceTransportPolicy.
 */

/**
 * Statistics of every peer connection of the page's current room.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<PeerStats[]>}
 */
export function peerStats(page) {
  return page.evaluate(async () => {
    const pcs = /** @type {Map<string, RTCPeerConnection>} */ (/** @type {any} */ (window).bureau.peerConnections);
    const out = [];
    for (const [peerId, pc] of pcs) {
      const stats = await pc.getStats();
      let framesDecoded = 0;
      let localType = '';
      let remoteType = '';
      /** @type {Map<string, any>} */
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded += s.framesDecoded || 0;
        if (s.type === 'transport' && s.selectedCandidatePairId) {
          const pair = byId.get(s.selectedCandidatePairId);
          if (pair) {
            localType = (byId.get(pair.localCandidateId) || {}).candidateType || '';
            remoteType = (byId.get(pair.remoteCandidateId) || {}).candidateType || '';
          }
        }
      });
      out.push({ peerId, framesDecoded, localType, remoteType, policy: pc.getConfiguration().iceTransportPolicy || 'all' });
    }
    return out;
  });
}

/**
 * Waits until the page has `count` peer connections and each decodes more than `above` frames.
 * Polls without a limit of its own: the test's timeout bounds it.
 * @param {import('playwright-core').Page} page
 * @param {number} count
 * @param {number} [above]
 * @returns {Promise<PeerStats[]>}
 */
export async function waitForFrames(page, count, above = 0) {
  await pollUntil(page, async ([n, min]) => {
    const pcs = /** @type {Map<string, RTCPeerConnection>} */ (/** @type {any} */ (window).bureau?.peerConnections);
    if (!pcs || pcs.size !== n) return false;
    for (const pc of pcs.values()) {
      let frames = 0;
      (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded || 0; });
      if (frames <= min) return false;
    }
    return true;
  }, [count, above]);
  return peerStats(page);
}

/**
 * Evaluates an async predicate in the page every 250 ms until it is true (page.waitForFunction
 * does not wait for promises). No limit of its own: the test's timeout bounds it.
 * @param {import('playwright-core').Page} page
 * @param {(arg: any) => Promise<boolean>} predicate
 * @param {unknown} arg
 * @returns {Promise<void>}
 */
export async function pollUntil(page, predicate, arg) {
  for (;;) {
    if (await page.evaluate(predicate, arg)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Enters a room through the page's live office, once the office knows the room (a room created
 * a moment ago reaches the page's office a little later, and a join before that is refused),
 * and again after 5 s while the page is not in it.
 * @param {import('playwright-core').Page} page
 * @param {string} roomId
 * @returns {Promise<void>}
 */
export async function enterRoom(page, roomId) {
  await pollUntil(page, async (id) => {
    const w = /** @type {any} */ (window);
    const office = w.bureau.office;
    if (office.roomId === id) return true;
    if (office.rooms.some((/** @type {{id: string}} */ r) => r.id === id) && !(Date.now() - (w.__enteredAt || 0) < 5000)) {
      w.__enteredAt = Date.now();
      office.enter(id);
    }
    return false;
  }, roomId);
}

/**
 * A browser for each user, signed in, with the device of its messaging registered (the live
 * office does it too; asking waits for it).
 * @param {import('./server.js').Bureau} bureau
 * @param {{email: string, password: string}[]} users
 * @returns {Promise<import('./browser.js').Browser[]>}
 */
export async function messagingBrowsers(bureau, users) {
  const browsers = [];
  for (const u of users) {
    const b = await openBrowser(bureau);
    browsers.push(b);
    await signIn(b.page, u.email, u.password);
    await b.page.evaluate(() => /** @type {any} */ (window).bureau.mailbox.device());
  }
  return browsers;
}

/**
 * Opens the chat with a colleague from their office card.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @returns {Promise<import('playwright-core').Locator>} The message box.
 */
export async function chatWith(page, name) {
  await officeOf(page, name).locator('.owner-line').click();
  await page.getByRole('dialog', { name }).getByRole('button', { name: 'Message' }).click();
  return page.getByRole('textbox', { name: `Message to ${name}` });
}

/**
 * Signs in and waits until the office connection is open.
 * @param {import('playwright-core').Page} page
 * @param {{email: string, password: string}} user
 */
export async function enterOffice(page, user) {
  await signIn(page, user.email, user.password);
  await page.waitForFunction(() => /** @type {any} */ (window).bureau?.signal?.status?.state === 'open', null, { timeout: 0 });
  await agreeToConsent(page);
}

/**
 * Gives consent to camera and microphone through the API and remembers it as the consent step
 * would (`bureau.consent`), so tests that are not about consent walk into rooms without it.
 * @param {import('playwright-core').Page} page
 */
export async function agreeToConsent(page) {
  await page.evaluate(async () => {
    const org = await (await fetch('/api/org')).json();
    const legal = await (await fetch('/api/legal?org=' + encodeURIComponent(org.slug))).json();
    const version = legal && legal.consent ? legal.consent.version : 0;
    const res = await fetch('/api/consents', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ template_version: version, camera: true, microphone: true }),
    });
    if (res.status !== 201) throw new Error(`consent: ${res.status} ${await res.text()}`);
    const consent = await res.json();
    localStorage.setItem('bureau.consent', JSON.stringify({ id: consent.id, org: org.slug, version, camera: true, microphone: true, micId: '', camId: '' }));
  });
}

/**
 * The presence a page shows for a colleague on their office tile ('online', 'busy', 'in_call'…).
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @returns {import('playwright-core').Locator}
 */
export function officeOf(page, name) {
  return page.locator(`article.room-tile[aria-label="Office of ${name}"]`);
}

/**
 * Waits until the page shows the colleague's presence as `state`.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @param {string} state
 */
export async function waitPresence(page, name, state) {
  await officeOf(page, name).locator(`.owner-line .dot[data-presence="${state}"]`).waitFor({ timeout: 0 });
}

/**
 * Rings a colleague from their office card (the Call button of the card).
 * @param {import('playwright-core').Page} caller
 * @param {string} calleeName
 */
export async function ring(caller, calleeName) {
  await officeOf(caller, calleeName).locator('.owner-line').click();
  const card = caller.getByRole('dialog', { name: calleeName });
  await card.getByRole('button', { name: 'Call' }).click();
  await card.waitFor({ state: 'detached' });
}

/**
 * The call controls of the page's stage (Mute, Camera off, Share screen, Devices, Leave…).
 * @param {import('playwright-core').Page} page
 * @returns {import('playwright-core').Locator}
 */
export function callControls(page) {
  return page.getByRole('toolbar', { name: 'Call controls' });
}

/**
 * Sets the own presence in the "My presence" dialog of the top bar.
 * @param {import('playwright-core').Page} page
 * @param {{status?: string, outOfOffice?: boolean, deputy?: string}} choice `deputy`: a name.
 */
export async function setPresence(page, choice) {
  await page.getByRole('button', { name: /set your presence/ }).click();
  const dialog = page.getByRole('dialog', { name: 'My presence' });
  if (choice.status) await dialog.getByLabel('Status').selectOption(choice.status);
  if (choice.outOfOffice !== undefined) await dialog.getByLabel('Out of office').setChecked(choice.outOfOffice);
  if (choice.deputy) await dialog.getByLabel('Deputy', { exact: true }).selectOption({ label: choice.deputy });
  await dialog.getByRole('button', { name: 'Save' }).click();
  await dialog.waitFor({ state: 'detached' });
}

/**
 * Rings a colleague from their office card; the callee accepts in the ring dialog.
 * @param {import('playwright-core').Page} caller
 * @param {import('playwright-core').Page} callee
 * @param {string} calleeName
 * @param {string} callerName
 */
export async function callAndAccept(caller, callee, calleeName, callerName) {
  await ring(caller, calleeName);
  const dialog = callee.getByRole('dialog', { name: 'Incoming call' });
  await dialog.getByText(`${callerName} is calling you.`).waitFor({ timeout: 0 });
  await dialog.getByRole('button', { name: 'Accept' }).click();
  await dialog.waitFor({ state: 'detached' });
}
