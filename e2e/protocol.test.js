// web/client/protocol.js under node with a fake WebSocket and fake timers: message parsing, keep-alive,
// reconnection with backoff and what is re-applied after a reconnection.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignalClient, socketUrl, PROTOCOL_VERSION } from '../web/client/protocol.js';

/** A WebSocket stand-in that records what is sent and lets the test play the server. */
class FakeSocket {
  /** @type {FakeSocket[]} */
  static all = [];
  /** @param {string} url */
  constructor(url) {
    this.url = url;
    this.readyState = 1;
    /** @type {any[]} */
    this.sent = [];
    /** @type {((e: {data: string}) => void)|null} */
    this.onmessage = null;
    /** @type {((e: {code: number, reason: string}) => void)|null} */
    this.onclose = null;
    this.onerror = null;
    /** @type {number|null} */
    this.closedWith = null;
    FakeSocket.all.push(this);
  }
  /** @param {string} text */
  send(text) { this.sent.push(JSON.parse(text)); }
  /** @param {number} code */
  close(code) { this.closedWith = code; this.readyState = 3; }
  /** @param {object} msg */
  serve(msg) { this.onmessage && this.onmessage({ data: JSON.stringify(msg) }); }
  /** @param {number} code @param {string} [reason] */
  drop(code, reason = '') { this.readyState = 3; this.onclose && this.onclose({ code, reason }); }
  /** @param {string} type */
  sentOf(type) { return this.sent.filter((m) => m.type === type); }
}

/** Timers that only run when the test says so. */
function fakeTimers() {
  /** @type {Map<number, {fn: () => void, ms: number}>} */
  const pending = new Map();
  let next = 1;
  return {
    pending,
    setTimeout: (/** @type {() => void} */ fn, /** @type {number} */ ms) => { const id = next++; pending.set(id, { fn, ms }); return id; },
    clearTimeout: (/** @type {any} */ id) => { pending.delete(id); },
    /** Runs the timers whose delay matches (or all). @param {(ms: number) => boolean} [which] */
    fire(which = () => true) {
      for (const [id, t] of [...pending]) {
        if (which(t.ms)) { pending.delete(id); t.fn(); }
      }
    },
    delays() { return [...pending.values()].map((t) => t.ms); },
  };
}

/** @param {string} peer */
function welcome(peer) {
  return {
    type: 'welcome', version: 1, peer_id: peer, user_id: 'u1', extra_field: 'ignored',
    ice_servers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'x', credential: 'y' }],
    presence: [], rooms: [{ id: 'r1', name: 'Meeting', kind: 'meeting', owner_user_id: null, capacity: 8, participants: [] }],
  };
}

function setup() {
  FakeSocket.all = [];
  const timers = fakeTimers();
  const client = new SignalClient('ws://host/api/ws', { WebSocket: /** @type {any} */ (FakeSocket), setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout, random: () => 0.5 });
  /** @type {any[]} */
  const seen = [];
  for (const type of /** @type {const} */ (['welcome', 'presence', 'joined', 'peer_left', 'ring', 'signal', 'error', 'status', 'left'])) {
    client.on(type, (msg) => seen.push({ event: type, ...msg }));
  }
  client.connect();
  return { client, timers, seen, socket: () => FakeSocket.all[FakeSocket.all.length - 1] };
}

test('the URL follows the page protocol', () => {
  assert.equal(socketUrl({ protocol: 'https:', host: 'office.example:8443' }), 'wss://office.example:8443/api/ws');
  assert.equal(socketUrl({ protocol: 'http:', host: '127.0.0.1:8080' }), 'ws://127.0.0.1:8080/api/ws');
});

test('welcome sets ids and ICE servers, says hello, and typed events arrive; junk is ignored', () => {
  const { client, seen, socket } = setup();
  assert.equal(socket().url, 'ws://host/api/ws');
  socket().serve(welcome('p1'));
  assert.equal(client.peerId, 'p1');
  assert.equal(client.userId, 'u1');
  assert.equal(client.iceServers[0].username, 'x');
  assert.deepEqual(socket().sent[0], { type: 'hello', version: PROTOCOL_VERSION });
  assert.equal(client.status.state, 'open');
  socket().onmessage?.({ data: 'not json' });
  socket().onmessage?.({ data: '[1,2]' });
  socket().serve({ type: 'future_message', x: 1 });
  socket().serve({ type: 'ring', call_id: 'c1', from_user: 'u2', from_name: 'Grace' });
  socket().serve({ type: 'signal', from_peer: 'p2', from_user: 'u2', payload: { description: { type: 'offer', sdp: 'v=0' } } });
  const events = seen.filter((e) => e.event !== 'status').map((e) => e.event);
  assert.deepEqual(events, ['welcome', 'ring', 'signal']);
  assert.equal(seen.find((e) => e.event === 'signal').payload.description.type, 'offer');
});

test('send helpers produce the documented messages', () => {
  const { client, socket } = setup();
  socket().serve(welcome('p1'));
  client.setPresence({ status: 'dnd', note: 'back soon' });
  client.joinRoom('r1');
  client.call('u2');
  client.answer('c1', true);
  client.cancelCall('c2');
  client.signal('p9', { candidate: null });
  client.sendMediaState({ muted: true, camera: false, screen: false, speaking: false }); // not joined yet: kept, not sent
  socket().serve({ type: 'joined', room_id: 'r1', peers: [] });
  client.leaveRoom();
  assert.deepEqual(socket().sent.slice(1), [
    { type: 'set_presence', status: 'dnd', note: 'back soon' },
    { type: 'join_room', room_id: 'r1' },
    { type: 'call', to_user: 'u2' },
    { type: 'call_answer', call_id: 'c1', accept: true },
    { type: 'call_cancel', call_id: 'c2' },
    { type: 'signal', to_peer: 'p9', payload: { candidate: null } },
    { type: 'media_state', muted: true, camera: false, screen: false, speaking: false },
    { type: 'leave_room' },
  ]);
  assert.equal(client.roomId, '');
});

test('a ping goes out every 20 seconds while connected', () => {
  const { timers, socket } = setup();
  socket().serve(welcome('p1'));
  assert.deepEqual(timers.delays(), [20000]);
  timers.fire();
  timers.fire();
  assert.equal(socket().sentOf('ping').length, 2);
});

test('after a drop the client reconnects with growing delays, then re-applies presence and the room', () => {
  const { client, timers, seen, socket } = setup();
  const first = socket();
  first.serve(welcome('p1'));
  client.setPresence({ status: 'busy', location: 'home_office' });
  client.setPresence({ note: 'writing' });
  client.joinRoom('r1');
  first.serve({ type: 'joined', room_id: 'r1', peers: [] });
  client.sendMediaState({ muted: true, camera: true, screen: false, speaking: false });

  first.drop(1006);
  assert.equal(client.status.state, 'reconnecting');
  assert.ok(seen.some((e) => e.event === 'left' && e.reason === 'disconnected'));
  assert.equal(client.send({ type: 'ping' }), false);
  assert.deepEqual(timers.delays(), [1000]);
  timers.fire();
  assert.equal(FakeSocket.all.length, 2);
  socket().drop(1006); // the server is still down
  assert.deepEqual(timers.delays(), [2000]);
  timers.fire();
  socket().drop(1001, 'server going away');
  assert.deepEqual(timers.delays(), [4000]);
  timers.fire();
  socket().drop(1013, 'server busy, try again later'); // the organisation or node is full
  assert.deepEqual(timers.delays(), [8000]);
  timers.fire();
  const fresh = socket();
  fresh.serve(welcome('p2'));
  assert.equal(client.peerId, 'p2');
  assert.equal(client.status.state, 'open');
  assert.deepEqual(fresh.sent.slice(0, 3), [
    { type: 'hello', version: PROTOCOL_VERSION },
    { type: 'set_presence', status: 'busy', location: 'home_office', note: 'writing' },
    { type: 'join_room', room_id: 'r1' },
  ]);
  fresh.serve({ type: 'joined', room_id: 'r1', peers: [] });
  assert.deepEqual(fresh.sentOf('media_state'), [{ type: 'media_state', muted: true, camera: true, screen: false, speaking: false }]);
  // A later drop starts again at the first delay.
  fresh.drop(1006);
  assert.deepEqual(timers.delays(), [1000]);
});

test('a call room is not rejoined after a reconnection; the UI hears it was left', () => {
  const { client, timers, seen, socket } = setup();
  socket().serve(welcome('p1'));
  client.joinRoom('call:c1');
  socket().serve({ type: 'joined', room_id: 'call:c1', peers: [] });
  socket().drop(1006);
  timers.fire();
  socket().serve(welcome('p2'));
  assert.equal(socket().sentOf('join_room').length, 0);
  assert.equal(client.roomId, '');
  assert.ok(seen.filter((e) => e.event === 'left').length >= 1);
});

test('close codes that say stop are not retried', () => {
  for (const code of [4000, 4001, 4002, 4005, 4006, 1009]) {
    const { client, timers, socket } = setup();
    socket().serve(welcome('p1'));
    socket().drop(code, 'reason');
    assert.equal(client.status.state, 'closed');
    assert.equal(client.status.code, code);
    assert.deepEqual(timers.delays(), []);
  }
});

test('removal from the room and a refused join are reported as left', () => {
  const { client, seen, socket } = setup();
  socket().serve(welcome('p1'));
  client.joinRoom('r1');
  socket().serve({ type: 'joined', room_id: 'r1', peers: [] });
  socket().serve({ type: 'peer_left', room_id: 'r1', peer_id: 'p1' });
  assert.equal(client.roomId, '');
  assert.equal(seen.filter((e) => e.event === 'left').at(-1).reason, 'removed');
  client.joinRoom('full');
  socket().serve({ type: 'error', code: 'room_full', message: 'the room is full' });
  assert.equal(client.roomId, '');
  assert.equal(seen.filter((e) => e.event === 'left').at(-1).reason, 'refused');
});

test('close() stops for good', () => {
  const { client, timers, socket } = setup();
  socket().serve(welcome('p1'));
  const s = socket();
  client.close();
  assert.equal(s.closedWith, 1000);
  assert.equal(client.status.state, 'closed');
  assert.deepEqual(timers.delays(), []);
  assert.equal(FakeSocket.all.length, 1);
});
