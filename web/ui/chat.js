// The chat panel: direct messages and file transfers with one colleague — peer to peer while
// both are online, otherwise encrypted for the colleague's devices and waiting on the server
// (live/mailbox.js). A side panel that stays open across pages; a message from someone else
// opens it when it is closed. The conversation's history on this device is shown first.

import { h, toast } from '/ui/dom.js';
import { NoDeviceError } from '/client/secure-messages.js';
import { ApiError } from '/client/api.js';
import { TooLargeToWaitError, groupKey } from '/live/mailbox.js';
import { openMembers } from '/ui/channels.js';
import { openSafetyCode } from '/ui/safety-dialog.js';
import { presenceAvatar, presenceLine } from '/ui/presence.js';
import { icon } from '/ui/icons.js';

/**
 * @typedef {import('/live/live-office.js').Office} Office
 * @typedef {import('/live/transfer.js').Entry} Entry
 */

/**
 * @typedef {import('/client/safety.js').Trust} Trust
 */

/** @type {{office: Office, userId: string, trust?: Trust}|null} */
let open = null;

const RESULT_LABELS = {
  sending: 'Sending…', receiving: 'Receiving…', verified: 'Verified ✓', corrupted: 'Corrupted: the checksum does not match',
  cancelled: 'Cancelled', failed: 'Failed', queued: 'Encrypted, waiting on the server',
};

/**
 * Why a message or file to a colleague was not sent, in words.
 * @param {unknown} err
 * @param {string} name The colleague.
 * @param {'message'|'file'} what
 * @returns {string}
 */
export function notSent(err, name, what) {
  if (err instanceof NoDeviceError) return `${name} has not used Bureau on a browser that can receive encrypted messages yet; the ${what} was not sent.`;
  if (err instanceof TooLargeToWaitError) return `${name} is offline. ${err.message}`;
  if (err instanceof ApiError && err.code === 'peer_to_peer_only') return `${name} is offline, and your organisation delivers messages only while both people are online; the ${what} was not sent.`;
  return err instanceof Error ? err.message : `The ${what} was not sent.`;
}

/**
 * @param {number} bytes
 * @returns {string}
 */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** @returns {HTMLElement} */
function panel() {
  let aside = document.getElementById('chat');
  if (!aside) {
    aside = h('aside', { id: 'chat', class: 'chat', 'aria-labelledby': 'chat-title', hidden: true });
    document.body.append(aside);
  }
  return aside;
}

/**
 * Listens for incoming messages and files (once per office).
 * @param {Office} office
 */
export function mountChat(office) {
  office.transfers.onChange((userId, entry) => {
    if (open && open.office === office && open.userId === userId) {
      drawEntries(office, userId);
      return;
    }
    if (entry.dir === 'in' && (entry.kind === 'message' || (entry.file && entry.file.state === 'receiving'))) {
      if (!open) openChat(office, userId, false);
      else toast(`New ${entry.kind === 'file' ? 'file' : 'message'} from ${office.nameOf(entry.from || userId) || 'a colleague'}${groupOf(office, userId) ? ` in ${titleOf(office, userId)}` : ''}.`);
    }
  });
  office.onChange((topic) => {
    if (topic === 'presence' && open && open.office === office) drawHead(office, open.userId);
  });
  office.mailbox.onGroups(() => {
    if (open && open.office === office && groupOf(office, open.userId) !== undefined) drawHead(office, open.userId);
  });
}

/**
 * The group conversation a chat key names (`group:<id>`), if it is one.
 * @param {Office} office
 * @param {string} key
 * @returns {import('/client/api.js').Conversation|null|undefined} `undefined`: a direct
 *   conversation; `null`: a group the user is not (any more) in.
 */
function groupOf(office, key) {
  if (!key.startsWith('group:')) return undefined;
  return office.mailbox.groups.get(key.slice('group:'.length)) || null;
}

/**
 * The conversation's title: the colleague's name, or the group's.
 * @param {Office} office
 * @param {string} key
 * @returns {string}
 */
function titleOf(office, key) {
  const group = groupOf(office, key);
  if (group === undefined) return office.nameOf(key) || 'Colleague';
  return group ? group.name : 'A conversation you left';
}

/**
 * Opens the chat panel with a group conversation.
 * @param {Office} office
 * @param {string} conversationId
 */
export function openGroupChat(office, conversationId) {
  openChat(office, groupKey(conversationId));
}

/**
 * Opens the chat panel with a colleague.
 * @param {Office} office
 * @param {string} userId
 * @param {boolean} [focus] Move the focus to the message box (not when a message opened it).
 */
export function openChat(office, userId, focus = true) {
  open = { office, userId };
  const aside = panel();
  const name = titleOf(office, userId);
  const group = groupOf(office, userId) !== undefined;
  const input = h('textarea', { id: 'chat-input', name: 'message', rows: '2', maxlength: '10000', placeholder: `Message ${name}`, 'aria-label': `Message to ${name}` });
  const fileInput = h('input', { type: 'file', id: 'chat-file', class: 'sr-only' });
  const send = h('button', { type: 'submit', class: 'button primary small' }, 'Send');
  const form = h('form', { class: 'chat-form', novalidate: true },
    input,
    h('div', { class: 'chat-actions' },
      group ? null : h('label', { for: 'chat-file', class: 'button small', tabindex: '0', role: 'button', onkeydown: (/** @type {KeyboardEvent} */ e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); } } }, 'Send file'),
      group ? null : fileInput, send));
  aside.replaceChildren(
    h('div', { class: 'chat-head', id: 'chat-head' }),
    h('p', { class: 'chat-note' }, group
      ? 'End-to-end encrypted for the members\' devices, with new keys whenever the members change: someone removed cannot read what follows.'
      : `End-to-end encrypted. Peer to peer while ${name} is online; otherwise it waits on the server, encrypted for ${name}'s devices, until they fetch it.`),
    h('div', { id: 'chat-warning' }),
    h('ol', { class: 'chat-log', id: 'chat-log', 'aria-label': group ? `Conversation ${name}` : `Conversation with ${name}`, 'aria-live': 'polite' }),
    form);
  aside.dataset.userId = userId;
  aside.hidden = false;
  document.body.classList.add('chat-open');
  drawHead(office, userId);
  drawEntries(office, userId);
  office.mailbox.loadHistory(userId).then((added) => {
    if (added && open && open.office === office && open.userId === userId) drawEntries(office, userId);
  }).catch((err) => console.warn('history', err));
  if (!group) void checkTrust(office, userId);
  const submit = async () => {
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    try {
      if (group) {
        await office.mailbox.sendGroupText(userId.slice('group:'.length), text);
        input.value = '';
        return;
      }
      // A change of the colleague's devices is shown before the next message goes.
      const trust = await checkTrust(office, userId);
      if (trust && trust.change) return;
      await office.mailbox.sendText(userId, text);
      input.value = '';
    } catch (err) {
      toast(notSent(err, name, 'message'), 'error');
    } finally {
      send.disabled = false;
      input.focus();
    }
  };
  form.addEventListener('submit', (event) => { event.preventDefault(); void submit(); });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void submit();
    }
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (!file) return;
    office.mailbox.sendFile(userId, file).catch((err) => toast(notSent(err, name, 'file'), 'error'));
  });
  aside.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeChat(); });
  if (focus) input.focus();
}

/**
 * Looks whether the colleague's devices changed since this device accepted them, and shows it
 * (the head's badge, and a warning that holds messages back until the user answers it).
 * @param {Office} office
 * @param {string} userId
 * @returns {Promise<Trust|null>} `null` when it could not be asked (the message goes anyway).
 */
async function checkTrust(office, userId) {
  let trust;
  try {
    trust = await office.mailbox.trust(userId);
  } catch (err) {
    console.warn('devices', err);
    return null;
  }
  if (!open || open.office !== office || open.userId !== userId) return trust;
  open.trust = trust;
  drawHead(office, userId);
  drawWarning(office, userId, trust);
  return trust;
}

/**
 * @param {Office} office
 * @param {string} userId
 * @param {Trust} trust
 */
function drawWarning(office, userId, trust) {
  const host = document.getElementById('chat-warning');
  if (!host) return;
  if (!trust.change) return void host.replaceChildren();
  const name = office.nameOf(userId) || 'Your colleague';
  const { added, removed } = trust.change;
  const what = [added ? `${added} device${added > 1 ? 's' : ''} added` : '', removed ? `${removed} removed` : ''].filter(Boolean).join(', ');
  const again = () => checkTrust(office, userId);
  const accept = h('button', { type: 'button', class: 'button small' }, 'Continue');
  accept.addEventListener('click', async () => {
    await office.mailbox.accept(userId, trust.keys, false);
    await again();
    document.getElementById('chat-input')?.focus();
  });
  host.replaceChildren(h('div', { class: 'notice ' + (trust.verified ? 'danger' : 'warning') + ' chat-warning', role: 'alert' },
    h('p', {}, `${name}'s devices changed (${what}). `,
      trust.verified ? `You had verified ${name}: compare your safety code again before you send anything.` : 'Compare your safety code again, or continue.',
      ' Nothing was sent.'),
    h('div', { class: 'chat-actions' },
      h('button', { type: 'button', class: 'button small primary', onclick: () => openSafetyCode(office, userId, again) }, 'Compare safety code'),
      accept)));
}

/** Closes the chat panel. */
export function closeChat() {
  open = null;
  const aside = document.getElementById('chat');
  if (aside) aside.hidden = true;
  document.body.classList.remove('chat-open');
}

/**
 * @param {Office} office
 * @param {string} userId
 */
function drawHead(office, userId) {
  const head = document.getElementById('chat-head');
  if (!head) return;
  const group = groupOf(office, userId);
  if (group !== undefined) {
    const count = group ? group.members.length : 0;
    const who = h('div', { class: 'chat-who' }, h('h2', { id: 'chat-title' }, titleOf(office, userId)),
      h('span', { class: 'chat-trust' }, group ? `${count} member${count === 1 ? '' : 's'}` : 'You are no longer a member'));
    const closer = h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close the conversation', onclick: closeChat }, '×');
    if (group) head.replaceChildren(who, h('button', { type: 'button', class: 'button small', 'aria-haspopup': 'dialog', onclick: () => openMembers(office, group) }, 'Members'), closer);
    else head.replaceChildren(who, closer);
    return;
  }
  const p = office.presence.get(userId);
  const name = office.nameOf(userId) || 'Colleague';
  const trust = open && open.userId === userId ? open.trust : undefined;
  const verified = Boolean(trust && trust.verified && !trust.change);
  head.replaceChildren(presenceAvatar(userId, name, p, 'sm', false),
    h('div', { class: 'chat-who' }, h('h2', { id: 'chat-title' }, name), presenceLine(p, (id) => office.nameOf(id)),
      trust ? h('span', { class: 'chat-trust' + (verified ? ' verified' : '') }, verified ? 'Verified ✓' : 'Not verified') : null),
    h('button', { type: 'button', class: 'button small', onclick: () => openSafetyCode(office, userId, () => void checkTrust(office, userId)) }, 'Safety code'),
    h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close the conversation', onclick: closeChat }, '×'));
}

/**
 * @param {Office} office
 * @param {string} userId
 */
function drawEntries(office, userId) {
  const log = document.getElementById('chat-log');
  if (!log) return;
  const entries = office.transfers.conversation(userId);
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  /** @type {Map<string, HTMLElement>} */
  const shown = new Map();
  log.querySelectorAll('li[data-entry-id]').forEach((li) => shown.set(/** @type {HTMLElement} */ (li).dataset.entryId || '', /** @type {HTMLElement} */ (li)));
  const items = entries.map((e) => {
    const old = shown.get(e.id);
    // A transfer in progress updates its bar in place, so Cancel keeps the keyboard focus.
    if (old && e.file && old.dataset.state === e.file.state && (e.file.state === 'sending' || e.file.state === 'receiving')) {
      const percent = e.file.size ? Math.floor((e.file.done / e.file.size) * 100) : 100;
      const bar = /** @type {HTMLProgressElement|null} */ (old.querySelector('progress'));
      if (bar) bar.value = percent;
      const label = old.querySelector('.file-progress');
      if (label) label.textContent = `${RESULT_LABELS[e.file.state]} ${percent} %`;
      return old;
    }
    if (old && !e.file) return old;
    return entryItem(office, userId, e);
  });
  if (items.length === 0) items.push(h('li', { class: 'chat-empty muted' }, 'No messages yet.'));
  if (items.length !== log.children.length || items.some((li, i) => log.children[i] !== li)) log.replaceChildren(...items);
  if (atBottom || entries.length === 0) log.scrollTop = log.scrollHeight;
}

/**
 * @param {Office} office
 * @param {string} userId
 * @param {Entry} e
 * @returns {HTMLElement}
 */
function entryItem(office, userId, e) {
  const time = new Date(e.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const who = e.dir === 'out' ? 'You' : office.nameOf(e.from || userId) || 'Colleague';
  const via = e.via === 'server' ? h('span', { class: 'chat-via', title: 'It waited on the server, encrypted for the devices of the conversation' }, 'via server') : null;
  if (e.unverified) {
    return h('li', { class: 'chat-msg in unverified', dataset: { entryId: e.id } },
      h('span', { class: 'chat-text' }, icon('warning'), ` A message that could not be verified (${e.unverified}). It is not shown: it may have been changed on the way.`),
      h('span', { class: 'chat-time' }, time));
  }
  if (e.kind === 'message') {
    return h('li', { class: `chat-msg ${e.dir}`, dataset: { entryId: e.id } },
      e.from && e.dir === 'in' ? h('span', { class: 'chat-from' }, `${who}: `) : h('span', { class: 'sr-only' }, `${who}: `),
      h('span', { class: 'chat-text' }, e.text || ''), via, h('span', { class: 'chat-time' }, time));
  }
  const f = /** @type {NonNullable<Entry['file']>} */ (e.file);
  const active = f.state === 'sending' || f.state === 'receiving';
  const percent = f.size ? Math.floor((f.done / f.size) * 100) : 100;
  return h('li', { class: `chat-msg chat-file ${e.dir} state-${f.state}`, dataset: { entryId: e.id, state: f.state } },
    h('div', { class: 'file-name' }, icon('file'), h('span', { class: 'sr-only' }, `${who} sent the file `), f.name,
      h('span', { class: 'muted' }, ` · ${formatSize(f.size)}`)),
    active ? h('progress', { max: '100', value: String(percent), 'aria-label': `Transfer of ${f.name}` }) : null,
    h('div', { class: 'file-state', role: active ? undefined : 'status' },
      h('span', { class: 'file-progress' }, active ? `${RESULT_LABELS[f.state]} ${percent} %` : RESULT_LABELS[f.state]),
      active ? h('button', { type: 'button', class: 'button small', onclick: () => office.transfers.cancel(userId, e.id) }, 'Cancel') : null,
      f.url ? h('a', { class: 'button small', href: f.url, download: f.name }, 'Save') : null),
    f.hash && !active ? h('code', { class: 'file-hash', title: 'SHA-256 of the file' }, 'SHA-256 ' + f.hash.slice(0, 16) + '…') : null,
    via, h('span', { class: 'chat-time' }, time));
}
