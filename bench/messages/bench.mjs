// The figures of bench/messages/run (read that first). Uses the browser tests' helpers: the
// server binary is BUREAU_BIN, the pages load the web client the binary embeds.

import { execFileSync } from 'node:child_process';
import { startBureau } from '../../e2e/server.js';
import { openBrowser, signInBare } from '../../e2e/browser.js';

const perSender = Number(process.argv[2] || 100);
const senders = Number(process.argv[3] || 10);
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'bench-password-bob' };
/** Plaintexts: a typical chat line, and a long one, to tell the growing part from the fixed one. */
const SHORT = 200;
const LONG = 16 * 1024;

/**
 * Sums over the server's SQLite database (read with Python's sqlite3: the server keeps running).
 * @param {string} dataDir
 * @returns {{bodies: number, envelope: number, size: number, entries: number, keys: number}}
 */
function stored(dataDir) {
  const db = `${dataDir}/bureau.db`;
  const script = `import sqlite3, json, sys
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
b = c.execute('SELECT count(*), coalesce(sum(length(envelope)), 0), coalesce(sum(size), 0) FROM message_bodies').fetchone()
q = c.execute('SELECT count(*), coalesce(sum(length(sealed_key)), 0) FROM message_queue').fetchone()
print(json.dumps({'bodies': b[0], 'envelope': b[1], 'size': b[2], 'entries': q[0], 'keys': q[1]}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, db], { encoding: 'utf8' }));
}

/**
 * Sends `count` texts of `bytes` characters from a fresh sender to Bob's device.
 * @param {import('../../e2e/server.js').Bureau} bureau
 * @param {number} n The sender's number.
 * @param {string} bobId
 * @param {number} count
 * @param {number} bytes
 * @returns {Promise<number[]>} Milliseconds per send (encrypt, sign, POST).
 */
async function sendFrom(bureau, n, bobId, count, bytes) {
  const user = { email: `sender${n}@example.test`, name: `Sender ${n}`, password: `bench-password-${n}` };
  await bureau.createUser(user);
  const browser = await openBrowser(bureau);
  try {
    await signInBare(browser.page, user);
    return await browser.page.evaluate(async ([to, count, bytes]) => {
      const api = await import('/client/api.js');
      const sm = await import('/client/secure-messages.js');
      const { directConversation } = await import('/live/mailbox.js');
      const me = await api.me();
      const device = await sm.ensureDevice(me);
      const times = [];
      for (let i = 0; i < count; i++) {
        const text = `${i} `.padEnd(bytes, 'lorem ipsum dolor sit amet ');
        const began = performance.now();
        await sm.sendDirect(me, device, String(to), directConversation(me.id, String(to)), { kind: 'text', text });
        times.push(performance.now() - began);
      }
      return times;
    }, /** @type {[string, number, number]} */ ([bobId, count, bytes]));
  } finally {
    await browser.close();
  }
}

/** @param {number[]} values @param {number} p */
function pct(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
}

const bureau = await startBureau();
try {
  await bureau.createUser(BOB);
  const bob = await openBrowser(bureau);
  await signInBare(bob.page, BOB);
  const bobId = await bob.page.evaluate(async () => {
    const api = await import('/client/api.js');
    const sm = await import('/client/secure-messages.js');
    const me = await api.me();
    await sm.ensureDevice(me);
    return me.id;
  });

  // 1. Bob is away; the senders write.
  /** @type {number[]} */
  const sendTimes = [];
  for (let n = 0; n < senders; n++) sendTimes.push(...await sendFrom(bureau, n, bobId, perSender, SHORT));
  const total = perSender * senders;
  const short = stored(bureau.dataDir);
  if (short.bodies !== total) throw new Error(`${short.bodies} messages stored, ${total} sent`);

  // 2. Bob comes back: everything is fetched, checked, opened, kept and acknowledged.
  const fetched = await bob.page.evaluate(async () => {
    const api = await import('/client/api.js');
    const sm = await import('/client/secure-messages.js');
    const history = await import('/client/history.js');
    const me = await api.me();
    const device = await sm.ensureDevice(me);
    // One page (100 entries) read without acknowledging: the server's and the network's part.
    const pageBegan = performance.now();
    await api.deviceInbox(device, sm.prover(device));
    const pageMs = performance.now() - pageBegan;
    const began = performance.now();
    const got = await sm.fetchInbox(me, device, (page) => history.keep(page.filter((m) => m.verified).map((m) => ({
      id: m.message_id, owner: me.id, peer: m.from_user, dir: 'in', kind: 'message', at: m.sent_at,
      text: m.content.kind === 'text' ? m.content.text : '', via: 'server',
    }))));
    return { ms: performance.now() - began, pageMs, count: got.length, verified: got.filter((m) => m.verified).length };
  });
  if (fetched.verified !== total) throw new Error(`${fetched.verified} of ${total} messages verified`);
  const after = stored(bureau.dataDir);

  // 3. Long messages, for the growing part of what is stored.
  await sendFrom(bureau, senders, bobId, 100, LONG);
  const long = stored(bureau.dataDir);

  // The plaintext is the message's content as encrypted: {"kind":"text","text":"…"}.
  const plain = (/** @type {number} */ bytes) => bytes + '{"kind":"text","text":""}'.length;
  const perShort = (short.envelope + short.keys) / short.bodies;
  const perLong = (long.envelope + long.keys) / long.bodies;
  const slope = (perLong - perShort) / (plain(LONG) - plain(SHORT));
  const fixed = perShort - slope * plain(SHORT);
  console.log(`messages: ${senders} senders × ${perSender} texts of ${SHORT} B to one offline device; `
    + `send (encrypt, sign, POST) p50 ${pct(sendTimes, 0.5).toFixed(1)} ms, p99 ${pct(sendTimes, 0.99).toFixed(1)} ms`);
  console.log(`fetch: ${fetched.count} waiting messages fetched, checked, decrypted, kept and acknowledged in ${fetched.ms.toFixed(0)} ms `
    + `(${(fetched.ms / fetched.count).toFixed(2)} ms each; one page of 100 read alone: ${fetched.pageMs.toFixed(0)} ms); left on the server: ${after.bodies} messages, ${after.entries} entries`);
  console.log(`storage: ${perShort.toFixed(0)} B stored per message of ${plain(SHORT)} B plaintext, ${perLong.toFixed(0)} B per message of ${plain(LONG)} B `
    + `→ ${slope.toFixed(3)} × plaintext + ${fixed.toFixed(0)} B (sealed envelope and one sealed key; SQLite row and index overhead not counted)`);
  await bob.close();
} finally {
  await bureau.stop();
}
