// The chat panel: direct messages and file transfers with one colleague — peer to peer while
// both are online, otherwise encrypted for the colleague's devices and waiting on the server
// (live/mailbox.js). A side panel that stays open across pages; a message from someone else
// opens it when it is closed. The conversation's history on this device is shown first. Each
// line can be answered (a reply quotes it); the user's own lines can be edited or deleted for
// everyone; in a channel "@Name" mentions a member. What is not read yet is counted in the tab's
// title.

import { BELL } from '/ui/alerts.js';
import { h, openDialog, toast } from '/ui/dom.js';
import { NoDeviceError } from '/client/secure-messages.js';
import { ApiError } from '/client/api.js';
import { groupKey } from '/live/mailbox.js';
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

/**
 * The open conversation, and what the message box is doing: answering a line, or editing one.
 * @type {{office: Office, userId: string, trust?: Trust, replyTo?: string, editing?: string}|null}
 */
let open = null;

const RESULT_LABELS = {
  sending: 'Sending…', receiving: 'Receiving…', verified: 'Verified ✓', corrupted: 'Corrupted: the checksum does not match',
  cancelled: 'Cancelled', failed: 'Failed', queued: 'Encrypted, waiting on the server',
  stored: 'Encrypted on the server', downloading: 'Downloading and checking…', expired: 'No longer on the server (its time there ended, or it was deleted)',
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
  if (err instanceof ApiError && err.code === 'file_too_large') return `${name} is offline, and the file is too large to wait on the server: ${err.message}`;
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
  office.mailbox.onUnread(() => titleCount(office));
  // Pages set the title as they open: the count is put back in front of it.
  const title = document.querySelector('title');
  if (title) new MutationObserver(() => titleCount(office)).observe(title, { childList: true });
  // What arrives while the page is hidden stays unread until the user looks again.
  document.addEventListener('visibilitychange', () => {
    if (!open || open.office !== office) return;
    const visible = document.visibilityState === 'visible';
    office.mailbox.viewing = visible ? open.userId : null;
    if (visible) void office.mailbox.markRead(open.userId);
  });
  titleCount(office);
}

/**
 * Puts the number of unread messages in front of the tab's title: "(3) Office · Acme".
 * @param {Office} office
 */
function titleCount(office) {
  const { count } = office.mailbox.unreadTotal();
  // A ringing knock's bell stays in front (web/ui/alerts.js).
  const bell = document.title.startsWith(BELL) ? BELL : '';
  const bare = document.title.slice(bell.length).replace(/^\(\d+\) /, '');
  const wanted = bell + (count ? `(${count}) ${bare}` : bare);
  if (document.title !== wanted) document.title = wanted;
}

/**
 * The members a channel message mentions: those whose name follows an "@" in the text.
 * @param {Office} office
 * @param {import('/client/api.js').Conversation} group
 * @param {string} text
 * @returns {string[]}
 */
export function mentionsIn(office, group, text) {
  return group.members.filter((id) => id !== office.me.id && text.includes('@' + (office.nameOf(id) || '\0')));
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
 * Opens the chat of a meeting room (the user joins it by opening it).
 * @param {Office} office
 * @param {string} roomId
 * @returns {Promise<void>}
 */
export async function openRoomChat(office, roomId) {
  try {
    const conversation = await office.mailbox.roomConversation(roomId);
    openGroupChat(office, conversation.id);
  } catch (err) {
    toast(`The room's chat cannot be opened: ${err instanceof Error ? err.message : String(err)}`, 'error');
  }
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
      h('label', { for: 'chat-file', class: 'button small', tabindex: '0', role: 'button', onkeydown: (/** @type {KeyboardEvent} */ e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fileInput.click(); } } }, 'Send file'),
      fileInput, send));
  const composing = h('div', { id: 'chat-composing', class: 'chat-composing', hidden: true });
  aside.replaceChildren(
    h('div', { class: 'chat-head', id: 'chat-head' }),
    h('p', { class: 'chat-note' }, group
      ? 'End-to-end encrypted for the members\' devices, with new keys whenever the members change: someone removed cannot read what follows.'
      : `End-to-end encrypted. Peer to peer while ${name} is online; otherwise it waits on the server, encrypted for ${name}'s devices, until they fetch it.`),
    h('div', { id: 'chat-warning' }),
    h('ol', { class: 'chat-log', id: 'chat-log', 'aria-label': group ? `Conversation ${name}` : `Conversation with ${name}`, 'aria-live': 'polite' }),
    composing,
    form);
  aside.dataset.userId = userId;
  aside.hidden = false;
  document.body.classList.add('chat-open');
  drawHead(office, userId);
  drawEntries(office, userId);
  const visible = document.visibilityState === 'visible';
  office.mailbox.viewing = visible ? userId : null;
  if (visible) void office.mailbox.markRead(userId);
  office.mailbox.loadHistory(userId).then((added) => {
    if (added && open && open.office === office && open.userId === userId) drawEntries(office, userId);
  }).catch((err) => console.warn('history', err));
  if (!group) void checkTrust(office, userId);
  const submit = async () => {
    const text = input.value.trim();
    if (!text || !open) return;
    const { replyTo, editing } = open;
    send.disabled = true;
    try {
      // A change of the colleague's devices is shown before the next message goes.
      if (!group) {
        const trust = await checkTrust(office, userId);
        if (trust && trust.change) return;
      }
      // The box is free again as the message goes: what the user types next is not cleared
      // when the sending ends (unless they changed the box meanwhile, it held this message).
      if (input.value.trim() === text) input.value = '';
      compose(office, userId, {});
      try {
        if (editing) {
          await office.mailbox.change(userId, editing, text);
        } else if (group) {
          const conversation = groupOf(office, userId);
          await office.mailbox.sendGroupText(userId.slice('group:'.length), text, { replyTo, mentions: conversation ? mentionsIn(office, conversation, text) : [] });
        } else {
          await office.mailbox.sendText(userId, text, replyTo);
        }
      } catch (err) {
        // Not sent: the text comes back, unless the user typed something else since.
        if (!input.value.trim()) input.value = text;
        throw err;
      }
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
    // Escape leaves a reply or an edit first, and closes the panel only after.
    if (event.key === 'Escape' && open && (open.replyTo || open.editing)) {
      event.stopPropagation();
      if (open.editing) input.value = '';
      compose(office, userId, {});
    }
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (!file) return;
    const sending = group ? office.mailbox.sendGroupFile(userId.slice('group:'.length), file) : office.mailbox.sendFile(userId, file);
    sending.catch((err) => toast(group ? (err instanceof Error ? err.message : 'The file was not sent.') : notSent(err, name, 'file'), 'error'));
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

/**
 * Sets what the message box does (answer a line, edit one, or neither) and shows it above it.
 * @param {Office} office
 * @param {string} key
 * @param {{replyTo?: string, editing?: string}} mode
 */
function compose(office, key, mode) {
  if (!open || open.office !== office || open.userId !== key) return;
  open.replyTo = mode.replyTo;
  open.editing = mode.editing;
  const host = document.getElementById('chat-composing');
  const input = /** @type {HTMLTextAreaElement|null} */ (document.getElementById('chat-input'));
  if (!host || !input) return;
  const target = mode.replyTo || mode.editing;
  const line = target ? office.transfers.conversation(key).find((e) => e.id === target) : undefined;
  if (!line) {
    host.hidden = true;
    host.replaceChildren();
    return;
  }
  const cancel = h('button', { type: 'button', class: 'icon-button', 'aria-label': mode.editing ? 'Stop editing' : 'Do not reply', onclick: () => {
    if (mode.editing) input.value = '';
    compose(office, key, {});
    input.focus();
  } }, '×');
  host.replaceChildren(h('span', {}, mode.editing ? 'Editing your message' : `Replying to ${authorOf(office, key, line)}: `,
    mode.editing ? null : h('q', {}, excerpt(line))), cancel);
  host.hidden = false;
  if (mode.editing) input.value = line.text || '';
  input.focus();
}

/**
 * Who wrote a line, in words.
 * @param {Office} office
 * @param {string} key
 * @param {Entry} e
 * @returns {string}
 */
function authorOf(office, key, e) {
  return e.dir === 'out' ? 'you' : office.nameOf(e.from || key) || 'a colleague';
}

/**
 * The start of a line's text (or its file's name), for a quote.
 * @param {Entry} e
 * @returns {string}
 */
function excerpt(e) {
  if (e.deleted) return 'a deleted message';
  const text = e.text !== undefined ? e.text : e.file ? e.file.name : '';
  return text.length > 80 ? text.slice(0, 79) + '…' : text;
}

/** Closes the chat panel. */
export function closeChat() {
  if (open) open.office.mailbox.viewing = null;
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
    if (old && !e.file && old.dataset.version === version(e, entries)) return old;
    return entryItem(office, userId, e);
  });
  if (items.length === 0) items.push(h('li', { class: 'chat-empty muted' }, 'No messages yet.'));
  if (items.length !== log.children.length || items.some((li, i) => log.children[i] !== li)) log.replaceChildren(...items);
  if (atBottom || entries.length === 0) log.scrollTop = log.scrollHeight;
}

/**
 * What a drawn line shows changes with this: an edit or a deletion of it, or of the line it
 * answers (its quote).
 * @param {Entry} e
 * @param {Entry[]} conversation
 * @returns {string}
 */
function version(e, conversation) {
  const own = `${e.edited || 0}${e.deleted ? 'd' : ''}`;
  const quoted = e.reply_to ? conversation.find((line) => line.id === e.reply_to) : undefined;
  return quoted ? `${own}:${quoted.edited || 0}${quoted.deleted ? 'd' : ''}` : own;
}

/**
 * The buttons of a line: Reply, and on the user's own lines Edit (texts) and Delete.
 * @param {Office} office
 * @param {string} key
 * @param {Entry} e
 * @returns {HTMLElement|null}
 */
function lineActions(office, key, e) {
  if (e.deleted || e.unverified || (e.file && (e.file.state === 'sending' || e.file.state === 'receiving'))) return null;
  const own = e.dir === 'out';
  const what = e.kind === 'file' ? 'file' : 'message';
  return h('span', { class: 'chat-line-actions' },
    h('button', { type: 'button', class: 'link-button', 'aria-label': `Reply to ${excerpt(e)}`, onclick: () => compose(office, key, { replyTo: e.id }) }, 'Reply'),
    own && e.kind === 'message' ? h('button', { type: 'button', class: 'link-button', 'aria-label': `Edit ${excerpt(e)}`, onclick: () => compose(office, key, { editing: e.id }) }, 'Edit') : null,
    own ? h('button', { type: 'button', class: 'link-button', 'aria-label': `Delete ${excerpt(e)}`, onclick: () => confirmDelete(office, key, e, what) }, 'Delete') : null);
}

/**
 * Asks before deleting one of the user's lines for everyone.
 * @param {Office} office
 * @param {string} key
 * @param {Entry} e
 * @param {string} what
 */
function confirmDelete(office, key, e, what) {
  const remove = h('button', { type: 'button', class: 'button danger' }, `Delete ${what}`);
  const { close } = openDialog({
    title: `Delete this ${what}?`,
    body: [h('p', {}, `It is deleted for everyone in the conversation, on their devices too. Devices that are offline delete it when they next fetch their messages.`),
      h('blockquote', {}, excerpt(e))],
    footer: [h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Keep it'), remove],
  });
  remove.addEventListener('click', async () => {
    remove.disabled = true;
    try {
      await office.mailbox.change(key, e.id);
      close();
    } catch (err) {
      remove.disabled = false;
      toast(err instanceof Error ? err.message : `The ${what} was not deleted.`, 'error');
    }
  });
}

/**
 * The quote of the line a reply answers.
 * @param {Office} office
 * @param {string} key
 * @param {string} target
 * @returns {HTMLElement}
 */
function replyQuote(office, key, target) {
  const line = office.transfers.conversation(key).find((e) => e.id === target);
  return h('span', { class: 'chat-reply' }, line ? [`↪ ${authorOf(office, key, line)}: `, h('q', {}, excerpt(line))] : '↪ an earlier message');
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
  const dataset = { entryId: e.id, version: version(e, office.transfers.conversation(userId)) };
  if (e.unverified) {
    return h('li', { class: 'chat-msg in unverified', dataset },
      h('span', { class: 'chat-text' }, icon('warning'), ` A message that could not be verified (${e.unverified}). It is not shown: it may have been changed on the way.`),
      h('span', { class: 'chat-time' }, time));
  }
  if (e.deleted) {
    return h('li', { class: `chat-msg ${e.dir} deleted`, dataset },
      h('span', { class: 'chat-text muted' }, e.dir === 'out' ? 'You deleted this message.' : `${who} deleted this message.`),
      h('span', { class: 'chat-time' }, time));
  }
  if (e.kind === 'message') {
    const mentioned = e.dir === 'in' && Boolean(e.mentions && e.mentions.includes(office.me.id));
    return h('li', { class: `chat-msg ${e.dir}${mentioned ? ' mention' : ''}`, dataset },
      e.reply_to ? replyQuote(office, userId, e.reply_to) : null,
      e.from && e.dir === 'in' ? h('span', { class: 'chat-from' }, `${who}: `) : h('span', { class: 'sr-only' }, `${who}: `),
      h('span', { class: 'chat-text' }, e.text || ''),
      mentioned ? h('span', { class: 'chat-mention' }, ' mentions you') : null,
      e.edited !== undefined ? h('span', { class: 'chat-edited muted' }, ' (edited)') : null,
      via, h('span', { class: 'chat-time' }, time), lineActions(office, userId, e));
  }
  const f = /** @type {NonNullable<Entry['file']>} */ (e.file);
  const active = f.state === 'sending' || f.state === 'receiving';
  const percent = f.size ? Math.floor((f.done / f.size) * 100) : 100;
  return h('li', { class: `chat-msg chat-file ${e.dir} state-${f.state}`, dataset: { ...dataset, state: f.state } },
    h('div', { class: 'file-name' }, icon('file'), h('span', { class: 'sr-only' }, `${who} sent the file `), f.name,
      h('span', { class: 'muted' }, ` · ${formatSize(f.size)}`)),
    active ? h('progress', { max: '100', value: String(percent), 'aria-label': `Transfer of ${f.name}` }) : null,
    h('div', { class: 'file-state', role: active ? undefined : 'status' },
      h('span', { class: 'file-progress' }, active ? `${RESULT_LABELS[f.state]} ${percent} %` : RESULT_LABELS[f.state]),
      active ? h('button', { type: 'button', class: 'button small', onclick: () => office.transfers.cancel(userId, e.id) }, 'Cancel') : null,
      f.state === 'stored' || (f.state === 'failed' && f.ref) ? h('button', { type: 'button', class: 'button small', onclick: () => void office.mailbox.download(userId, e.id) }, 'Download') : null,
      f.url ? h('a', { class: 'button small', href: f.url, download: f.name }, 'Save') : null),
    f.hash && !active ? h('code', { class: 'file-hash', title: 'SHA-256 of the file' }, 'SHA-256 ' + f.hash.slice(0, 16) + '…') : null,
    via, h('span', { class: 'chat-time' }, time), lineActions(office, userId, e));
}
