// A local stand-in for Twilio's Messages API, as `crates/server/tests/api/two_factor.rs` has one
// for the Rust tests: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded `To`, `From`
// and `Body`, HTTP basic authentication with the account SID and auth token. It answers 201 like
// Twilio and keeps every message, so that a test reads the code a person would read on their phone.
// `env` is what `startBureau({env})` needs to send Bureau's text messages here.

import http from 'node:http';

const SID = 'ACe2e0123456789';
const AUTH_TOKEN = 'e2e-twilio-auth-token';
const FROM = '+15550001111';

/**
 * @typedef {object} TextMessage
 * @property {string} to
 * @property {string} from
 * @property {string} body
 */

/**
 * @typedef {object} Twilio
 * @property {Record<string, string>} env `BUREAU_SMS_*` for the server under test.
 * @property {string} from The sender number Bureau is configured with.
 * @property {TextMessage[]} messages Every message accepted so far, in order.
 * @property {(index: number) => Promise<TextMessage>} waitFor Resolves with the `index`-th
 *   message (0-based) once it has arrived; no limit of its own (the test's timeout bounds it).
 * @property {() => Promise<void>} stop
 */

/**
 * The six-digit code of a text message.
 * @param {TextMessage} message
 * @returns {string}
 */
export function codeIn(message) {
  const code = /\b\d{6}\b/.exec(message.body);
  if (!code) throw new Error(`no six-digit code in the text message: ${message.body}`);
  return code[0];
}

/**
 * Starts the stand-in on a free loopback port.
 * @returns {Promise<Twilio>}
 */
export async function startTwilio() {
  /** @type {TextMessage[]} */
  const messages = [];
  /** @type {(() => void)[]} */
  const waiting = [];
  const expectedAuth = 'Basic ' + Buffer.from(`${SID}:${AUTH_TOKEN}`).toString('base64');
  const server = http.createServer((req, res) => {
    /** @param {number} status @param {object} body */
    const answer = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${SID}/Messages.json`) return answer(404, { code: 20404, message: 'Not found' });
      if (req.headers.authorization !== expectedAuth) return answer(401, { code: 20003, message: 'Authenticate' });
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return answer(400, { code: 21601 });
      const form = new URLSearchParams(raw);
      const message = { to: form.get('To') || '', from: form.get('From') || '', body: form.get('Body') || '' };
      if (!message.to || !message.body) return answer(400, { code: 21604 });
      messages.push(message);
      for (const wake of waiting.splice(0)) wake();
      return answer(201, { sid: `SM${messages.length}`, status: 'queued' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    env: {
      BUREAU_SMS_PROVIDER: 'twilio',
      BUREAU_SMS_TWILIO_ACCOUNT_SID: SID,
      BUREAU_SMS_TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      BUREAU_SMS_TWILIO_FROM: FROM,
      BUREAU_SMS_TWILIO_BASE_URL: `http://127.0.0.1:${port}`,
    },
    from: FROM,
    messages,
    async waitFor(index) {
      while (messages.length <= index) await new Promise((resolve) => waiting.push(() => resolve(undefined)));
      return messages[index];
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
