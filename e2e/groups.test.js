// Group conversations with sender keys (docs/messaging.md, "Groups"), with the browser modules
// (client/groups.js, client/secure-messages.js) in three Chromium profiles against a real
// `bureau serve`: Ada makes "Launch" with Bob and Carol and writes to it; both read it (her key
// of epoch 1 came first, sealed to each of their devices). Ada removes Carol: epoch 2. Her next
// message goes with a new key to Bob's device only; Bob reads it; Carol's device gets nothing,
// and the keys Carol's browser kept (Ada's key of epoch 1) do not open it — tried here on the
// message's ciphertext as the server holds it.
//
// The pages stay on a bare page of the origin (`/healthz`): the live office would fetch the
// inbox by itself, and this test fetches by hand.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, signInBare } from './browser.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const CAROL = { email: 'carol@example.test', name: 'Carol Shaw', password: 'river-raid-1982' };
const LONG = { timeout: 120_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {Record<string, import('./browser.js').Browser>} */
const browsers = {};
/** @type {Record<string, {id: string, device: string}>} */
const who = {};
let conversationId = '';

/**
 * Runs one operation of the modules in the page, as its signed-in user.
 * @param {string} name ada, bob or carol.
 * @param {'whoami'|'create'|'send'|'fetch'|'raw'|'remove'|'tryOld'|'age'} op
 * @param {any} [args]
 * @returns {Promise<any>}
 */
function run(name, op, args = {}) {
  return browsers[name].page.evaluate(async ([op, args]) => {
    const api = await import('/client/api.js');
    const sm = await import('/client/secure-messages.js');
    const groups = await import('/client/groups.js');
    const me = await api.me();
    const device = await sm.ensureDevice(me);
    if (op === 'whoami') return { id: me.id, device };
    if (op === 'create') return api.createConversation({ name: args.name, members: args.members });
    if (op === 'remove') return api.removeConversationMember(args.conversation, args.user);
    if (op === 'send') return groups.sendToGroup(me, device, args.conversation, { kind: 'text', text: args.text });
    if (op === 'fetch') return sm.fetchInbox(me, device);
    if (op === 'age') {
      // This device's key of the epoch as if it were older or more used than it is.
      const slot = `sk:${device}:${args.conversation}:${args.epoch}`;
      const state = await sm.readState(slot);
      if (!state) throw new Error('no sender key kept for ' + slot);
      await sm.writeState(slot, { ...state, made_at: state.made_at - (args.ms || 0), used: state.used + (args.used || 0) });
      return sm.readState(slot);
    }
    if (op === 'raw') {
      return api.deviceInbox(device, sm.prover(device));
    }
    if (op === 'tryOld') {
      // Every sender key this browser kept for the conversation, tried on the new message's
      // body for the epoch it names and for the epochs of the keys.
      const { groupMessageKey } = await import('/client/group-keys.js');
      const header = JSON.parse(new TextDecoder().decode(/** @type {Uint8Array} */ (sm.unb64u(args.entry.header))));
      const body = /** @type {Uint8Array} */ (sm.unb64u(args.entry.body));
      const aad = new TextEncoder().encode(`bureau-msg-body-v1\0${header.message_id}\0${header.conversation_id}`);
      const kept = [];
      for (const epoch of [1, 2, 3]) {
        const state = await sm.readState(`rk:${device}:${header.conversation_id}:${epoch}:${header.sender_device}`);
        if (state) kept.push({ epoch, key: /** @type {Uint8Array} */ (sm.unb64u(state.key)) });
      }
      const opened = [];
      for (const { epoch, key } of kept) {
        for (const asEpoch of new Set([header.epoch, epoch])) {
          try {
            const k = await groupMessageKey(key, header.conversation_id, asEpoch, header.counter, ['decrypt']);
            await crypto.subtle.decrypt({ name: 'AES-GCM', iv: new Uint8Array(body.subarray(0, 12)), additionalData: aad }, k, new Uint8Array(body.subarray(12)));
            opened.push({ epoch, asEpoch });
          } catch { /* does not open: expected */ }
        }
      }
      return { keptEpochs: kept.map((k) => k.epoch), headerEpoch: header.epoch, recipients: header.recipients, opened };
    }
    throw new Error('unknown op ' + op);
  }, /** @type {[string, any]} */ ([op, args]));
}

before(async () => {
  bureau = await startBureau();
  for (const [name, user] of [['ada', ADA], ['bob', BOB], ['carol', CAROL]]) {
    await bureau.createUser(/** @type {any} */ (user));
    browsers[/** @type {string} */ (name)] = await openBrowser(bureau);
    await signInBare(browsers[/** @type {string} */ (name)].page, /** @type {any} */ (user));
    who[/** @type {string} */ (name)] = await run(/** @type {string} */ (name), 'whoami');
  }
}, LONG);
after(async () => {
  for (const b of Object.values(browsers)) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

test('Ada writes to a group of three; Bob and Carol read it', LONG, async () => {
  const made = await run('ada', 'create', { name: 'Launch', members: [who.bob.id, who.carol.id] });
  assert.equal(made.epoch, 1);
  conversationId = made.id;
  const sent = await run('ada', 'send', { conversation: conversationId, text: 'Hello team, epoch one' });
  assert.deepEqual(sent.keyed.sort(), [who.bob.device, who.carol.device].sort(), 'her key of epoch 1 went to both devices');
  for (const name of ['bob', 'carol']) {
    const got = await run(name, 'fetch');
    assert.deepEqual(got.map((/** @type {any} */ m) => [m.verified, m.content.kind, m.epoch ?? null]), [[true, 'sender_key', null], [true, 'text', 1]], JSON.stringify(got));
    assert.deepEqual(got[1].content, { kind: 'text', text: 'Hello team, epoch one' });
    assert.equal(got[1].conversation_id, conversationId);
  }
  // The key is given once per epoch: the next message carries none.
  const again = await run('ada', 'send', { conversation: conversationId, text: 'Second in epoch one' });
  assert.deepEqual(again.keyed, []);
  for (const name of ['bob', 'carol']) {
    const got = await run(name, 'fetch');
    assert.deepEqual(got.map((/** @type {any} */ m) => m.content && m.content.text), ['Second in epoch one']);
  }
});

test('after Carol is removed, the next message does not open with the keys she kept', LONG, async () => {
  const after = await run('ada', 'remove', { conversation: conversationId, user: who.carol.id });
  assert.equal(after.epoch, 2);
  assert.deepEqual(after.members.sort(), [who.ada.id, who.bob.id].sort());
  const sent = await run('ada', 'send', { conversation: conversationId, text: 'Only for the two of us now' });
  assert.deepEqual(sent.keyed, [who.bob.device], 'the new key goes to Bob\'s device only');
  assert.deepEqual(sent.recipients, [who.bob.device]);

  // What the server holds for Bob: the new key, then the message of epoch 2.
  const raw = await run('bob', 'raw');
  assert.equal(raw.length, 2);
  const message = raw[1];
  const got = await run('bob', 'fetch');
  assert.deepEqual(got.map((/** @type {any} */ m) => [m.verified, m.content.kind, m.epoch ?? null]), [[true, 'sender_key', null], [true, 'text', 2]]);
  assert.deepEqual(got[1].content, { kind: 'text', text: 'Only for the two of us now' });

  // Carol's device got nothing, and what her browser kept does not open it.
  assert.deepEqual(await run('carol', 'fetch'), []);
  const tried = await run('carol', 'tryOld', { entry: message });
  assert.deepEqual(tried.keptEpochs, [1], 'Carol kept Ada\'s key of epoch 1');
  assert.equal(tried.headerEpoch, 2);
  assert.ok(!tried.recipients.includes(who.carol.device));
  assert.deepEqual(tried.opened, [], 'none of her keys opens it');
  // The same check would have seen an opening: Bob's kept keys open it.
  const control = await run('bob', 'tryOld', { entry: message });
  assert.deepEqual(control.opened, [{ epoch: 2, asEpoch: 2 }]);
});

test('a sender key is replaced after 1,000 messages or 7 days, and the new one reaches the members', LONG, async () => {
  // The epoch-2 key has sent one message; as if it had sent 999 more, the next message rotates it.
  const used = await run('ada', 'age', { conversation: conversationId, epoch: 2, used: 999 });
  assert.equal(used.used, 1000);
  const first = await run('ada', 'send', { conversation: conversationId, text: 'After a thousand messages' });
  assert.equal(first.generation, 1, 'a new key of the same epoch');
  assert.deepEqual(first.keyed, [who.bob.device], 'sent to the member devices again');
  let got = await run('bob', 'fetch');
  assert.deepEqual(got.map((/** @type {any} */ m) => [m.verified, m.content.kind]), [[true, 'sender_key'], [true, 'text']], JSON.stringify(got));
  assert.equal(got[0].content.generation, 1);
  assert.deepEqual(got[1].content, { kind: 'text', text: 'After a thousand messages' });
  const steady = await run('ada', 'send', { conversation: conversationId, text: 'Same key again' });
  assert.deepEqual([steady.generation, steady.keyed], [1, []], 'no rotation before it is due');
  got = await run('bob', 'fetch');
  assert.deepEqual(got.map((/** @type {any} */ m) => m.content.text), ['Same key again']);

  // Seven days later the key is replaced again, whatever its count.
  await run('ada', 'age', { conversation: conversationId, epoch: 2, ms: 7 * 24 * 3600 * 1000 });
  const week = await run('ada', 'send', { conversation: conversationId, text: 'A week later' });
  assert.deepEqual([week.generation, week.keyed], [2, [who.bob.device]]);
  got = await run('bob', 'fetch');
  assert.deepEqual(got.map((/** @type {any} */ m) => [m.verified, m.content.kind, m.content.text ?? null]), [[true, 'sender_key', null], [true, 'text', 'A week later']]);
});
