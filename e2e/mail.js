// A real SMTP sink for the tests: `smtp_sink.py` (Python aiosmtpd) on a free loopback port,
// saving each message as decoded JSON. Start the server with `BUREAU_SMTP_URL` = `sink.url`.

import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * @typedef {object} Mail
 * @property {string} mail_from Envelope sender.
 * @property {string[]} rcpt_tos Envelope recipients.
 * @property {string} from
 * @property {string} to
 * @property {string} subject Decoded.
 * @property {string} text The text/plain part, transfer encoding (quoted-printable…) decoded.
 * @property {string} html The text/html part, decoded.
 */

/**
 * @typedef {object} MailSink
 * @property {string} url `smtp://127.0.0.1:PORT`
 * @property {() => Promise<Mail[]>} messages Every message received so far, in order.
 * @property {(match: (mail: Mail) => boolean, what?: string, index?: number) => Promise<Mail>} waitFor
 *   Waits (at most 15 s) for the `index`-th (default: first) received message that matches;
 *   `what` names it in the error.
 * @property {() => Promise<number>} count How many messages arrived so far.
 * @property {() => Promise<void>} stop
 */

/**
 * Starts the sink and waits until it listens.
 * @returns {Promise<MailSink>}
 */
export async function startMailSink() {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-mail-'));
  const child = spawn('python3', [path.join(HERE, 'smtp_sink.py'), folder], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  const exitPromise = new Promise((resolve) => child.on('exit', () => { exited = true; resolve(undefined); }));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the SMTP sink did not start:\n${output}`)), 15000);
    const onData = (/** @type {Buffer} */ d) => {
      output += String(d);
      const m = /listening (\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the SMTP sink exited with ${code}:\n${output}`)); });
  });

  /** @returns {Promise<Mail[]>} */
  const messages = async () => {
    const names = (await readdir(folder)).filter((n) => n.endsWith('.json')).sort();
    return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(folder, n), 'utf8'))));
  };

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async count() {
      return (await messages()).length;
    },
    async waitFor(match, what = 'a matching email', index = 0) {
      const timeoutMs = 15000;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = (await messages()).filter(match)[index];
        if (found) return found;
        if (Date.now() > deadline) {
          const seen = (await messages()).map((m) => `${m.to}: ${m.subject}`).join('\n  ');
          throw new Error(`no ${what} arrived at the SMTP sink within ${timeoutMs} ms; received:\n  ${seen || '(nothing)'}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await exitPromise;
      }
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/**
 * The first link in a mail's text part whose URL contains `needle`.
 * @param {Mail} mail
 * @param {string} needle e.g. `/register#token=`
 * @returns {string}
 */
export function linkIn(mail, needle) {
  const found = mail.text.match(/https?:\/\/\S+/g)?.find((u) => u.includes(needle));
  if (!found) throw new Error(`no link with ${needle} in the email "${mail.subject}":\n${mail.text}`);
  return found;
}
