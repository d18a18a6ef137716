// A scripted stand-in for the signaling hub, for UI tests that need states the real server makes
// hard to reach on cue (a dropped connection, a colleague who declines, a busy callee). It lives
// in node; pages reach it through bindings that replace `WebSocket` before the app loads. The real
// hub is tested by office.test.js and transfer.test.js; this one follows docs/protocol.md closely
// enough for the client, and no further.

import { randomUUID } from 'node:crypto';

/**
 * @typedef {{id: string, name: string}} HubUser
 * @typedef {{page: import('playwright-core').Page, id: string, user: HubUser, peer: string, room: string, ms?: object}} Conn
 */

export class FakeHub {
  /**
   * @param {HubUser[]} users
   * @param {{id: string, name: string, kind: string, owner_user_id?: string, capacity?: number}[]} rooms
   */
  constructor(users, rooms) {
    this.users = users;
    this.rooms = rooms.map((r) => ({ owner_user_id: null, capacity: 8, participants: [], ...r }));
    /** @type {Map<string, any>} */
    this.presence = new Map(users.map((u) => [u.id, {
      user_id: u.id, name: u.name, status: 'offline', in_call: false, location: null, out_of_office: false, deputy_id: null, note: null, peers: [],
    }]));
    /** @type {Map<string, Conn>} */
    this.conns = new Map();
    /** @type {Map<string, {id: string, from: string, to: string}>} */
    this.calls = new Map();
    /** @type {any[]} every client message, for assertions */
    this.received = [];
  }

  /**
   * Replaces WebSocket in a browser context's pages with a pipe to this hub.
   * @param {import('playwright-core').BrowserContext} context
   * @param {HubUser} user The user whose session the context holds.
   */
  async attach(context, user) {
    await context.exposeBinding('__hubOpen', ({ page }, id) => this.open(page, id, user));
    await context.exposeBinding('__hubSend', (_source, id, text) => this.receive(id, JSON.parse(text)));
    await context.exposeBinding('__hubClose', (_source, id) => this.close(id));
    await context.addInitScript(() => {
      /** @type {Record<string, any>} */
      const sockets = {};
      const w = /** @type {any} */ (window);
      class HubSocket {
        constructor() {
          this.readyState = 0;
          this.id = String(Math.random());
          /** @type {any} */ this.onmessage = null;
          /** @type {any} */ this.onclose = null;
          sockets[this.id] = this;
          setTimeout(() => { this.readyState = 1; w.__hubOpen(this.id); }, 0);
        }
        /** @param {string} text */
        send(text) { w.__hubSend(this.id, text); }
        close() { this.readyState = 3; w.__hubClose(this.id); }
      }
      w.__deliver = (/** @type {string} */ id, /** @type {string} */ text) => { const s = sockets[id]; if (s && s.onmessage) s.onmessage({ data: text }); };
      w.__drop = (/** @type {string} */ id, /** @type {number} */ code) => {
        const s = sockets[id];
        if (s) { s.readyState = 3; if (s.onclose) s.onclose({ code, reason: '' }); }
      };
      w.WebSocket = HubSocket;
    });
  }

  /** @param {Conn} c @param {object} msg */
  send(c, msg) {
    c.page.evaluate(([id, text]) => /** @type {any} */ (window).__deliver(id, text), [c.id, JSON.stringify(msg)]).catch(() => {});
  }

  /** @param {object} msg */
  broadcast(msg) {
    for (const c of this.conns.values()) this.send(c, msg);
  }

  /** @param {string} userId @returns {Conn[]} */
  connsOf(userId) {
    return [...this.conns.values()].filter((c) => c.user.id === userId);
  }

  /** @param {string} roomId @returns {Conn[]} */
  members(roomId) {
    return [...this.conns.values()].filter((c) => c.room === roomId);
  }

  /** @param {Conn} c */
  info(c) {
    return { peer_id: c.peer, user_id: c.user.id, name: c.user.name, media_state: c.ms || { muted: false, camera: true, screen: false, speaking: false } };
  }

  /** @param {string} id */
  roomState(id) {
    const r = this.rooms.find((x) => x.id === id);
    return r ? { ...r, participants: this.members(id).map((c) => this.info(c)) } : null;
  }

  /** Recomputes and announces everyone's presence. */
  announce() {
    for (const [id, p] of this.presence) {
      const conns = this.connsOf(id);
      p.peers = conns.map((c) => c.peer);
      p.in_call = conns.some((c) => c.room && this.members(c.room).length > 1);
      if (conns.length && p.status === 'offline') p.status = 'online';
      if (!conns.length) p.status = 'offline';
      this.broadcast({ type: 'presence', user: p });
    }
  }

  /** @param {import('playwright-core').Page} page @param {string} id @param {HubUser} user */
  open(page, id, user) {
    const c = { page, id, user, peer: randomUUID(), room: '' };
    this.conns.set(id, c);
    this.send(c, {
      type: 'welcome', version: 2, peer_id: c.peer, user_id: user.id, ice_servers: [],
      presence: [...this.presence.values()], rooms: this.rooms.map((r) => this.roomState(r.id)),
    });
    this.announce();
  }

  /** @param {string} id */
  close(id) {
    const c = this.conns.get(id);
    if (!c) return;
    this.leave(c);
    this.conns.delete(id);
    this.announce();
  }

  /** Drops every connection as a restarting server does (close code 1001). */
  dropAll() {
    for (const c of [...this.conns.values()]) {
      this.close(c.id);
      c.page.evaluate((i) => /** @type {any} */ (window).__drop(i, 1001), c.id).catch(() => {});
    }
  }

  /** @param {Conn} c */
  leave(c) {
    if (!c.room) return;
    const room = c.room;
    c.room = '';
    for (const o of this.members(room)) this.send(o, { type: 'peer_left', room_id: room, peer_id: c.peer });
    const state = this.roomState(room);
    if (state) this.broadcast({ type: 'room', room: state });
    if (room.startsWith('call:')) this.endCall(room.slice(5), 'ended');
    this.announce();
  }

  /** @param {string} callId @param {string} state */
  endCall(callId, state) {
    const call = this.calls.get(callId);
    if (!call) return;
    this.calls.delete(callId);
    for (const c of [...this.connsOf(call.from), ...this.connsOf(call.to)]) this.send(c, { type: 'call_update', call_id: callId, state });
    for (const o of this.members('call:' + callId)) {
      this.send(o, { type: 'peer_left', room_id: 'call:' + callId, peer_id: o.peer });
      o.room = '';
    }
  }

  /** @param {string} id @param {any} m */
  receive(id, m) {
    const c = this.conns.get(id);
    if (!c) return;
    this.received.push({ from: c.user.id, ...m });
    switch (m.type) {
      case 'ping': this.send(c, { type: 'pong' }); break;
      case 'set_presence': {
        const p = this.presence.get(c.user.id);
        for (const k of ['status', 'location', 'out_of_office', 'deputy_id', 'note']) if (k in m) p[k] = k === 'note' && m.note === '' ? null : m[k];
        this.announce();
        break;
      }
      case 'join_room': {
        this.leave(c);
        const peers = this.members(m.room_id).map((o) => this.info(o));
        c.room = m.room_id;
        this.send(c, { type: 'joined', room_id: m.room_id, peers });
        for (const o of this.members(m.room_id)) if (o !== c) this.send(o, { type: 'peer_joined', room_id: m.room_id, peer: this.info(c) });
        const state = this.roomState(m.room_id);
        if (state) this.broadcast({ type: 'room', room: state });
        this.announce();
        break;
      }
      case 'leave_room': this.leave(c); break;
      case 'call': {
        const callee = this.presence.get(m.to_user);
        if (!callee || callee.status === 'offline') { this.send(c, { type: 'error', code: 'user_offline', message: 'offline' }); break; }
        const call = { id: randomUUID(), from: c.user.id, to: m.to_user };
        if (callee.status === 'dnd' || callee.in_call) { this.send(c, { type: 'call_update', call_id: call.id, state: 'busy' }); break; }
        this.calls.set(call.id, call);
        for (const o of this.connsOf(m.to_user)) this.send(o, { type: 'ring', call_id: call.id, from_user: c.user.id, from_name: c.user.name });
        this.send(c, { type: 'call_update', call_id: call.id, state: 'ringing' });
        break;
      }
      case 'call_answer': {
        const call = this.calls.get(m.call_id);
        if (!call) break;
        if (!m.accept) { this.endCall(call.id, 'declined'); break; }
        for (const o of [...this.connsOf(call.from), ...this.connsOf(call.to)]) this.send(o, { type: 'call_update', call_id: call.id, state: 'accepted', room_id: 'call:' + call.id });
        break;
      }
      case 'call_cancel': this.endCall(m.call_id, 'cancelled'); break;
      case 'signal': {
        const o = [...this.conns.values()].find((x) => x.peer === m.to_peer);
        if (o) this.send(o, { type: 'signal', from_peer: c.peer, from_user: c.user.id, payload: m.payload });
        else this.send(c, { type: 'error', code: 'unknown_peer', message: 'unknown peer' });
        break;
      }
      case 'media_state': {
        c.ms = { muted: m.muted, camera: m.camera, screen: m.screen, speaking: m.speaking };
        for (const o of this.members(c.room)) if (o !== c) this.send(o, { ...m, peer_id: c.peer });
        break;
      }
      default:
    }
  }
}
