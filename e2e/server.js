// Starts a real `bureau serve` for a test file: fresh data folder, free loopback ports, the setup
// link read from its output. Also creates users with `bureau admin create-user`.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The binary under test. */
export const BUREAU_BIN = process.env.BUREAU_BIN || '/var/tmp/bureau-target/debug/bureau';
/** The web client under test: served from disk so the tests always see the files of this tree. */
// The shipped (embedded) client by default; BUREAU_E2E_WEB_DIR=1 serves web/ from disk while editing it.
const WEB_DIR = process.env.BUREAU_E2E_WEB_DIR ? path.resolve(HERE, '..', 'web') : undefined;

/**
 * @typedef {object} Bureau
 * @property {string} baseUrl `http://127.0.0.1:PORT`
 * @property {string} setupUrl The first-admin setup link, on the plain HTTP listener.
 * @property {string} dataDir
 * @property {() => string} output Everything the server printed so far.
 * @property {(user: {email: string, name: string, password: string, admin?: boolean}) => Promise<void>} createUser
 * @property {() => Promise<void>} stop
 */

/** @returns {Promise<number>} A port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * @param {string} text
 * @returns {string}
 */
function stripAnsi(text) {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

/**
 * Runs `bureau` with arguments, feeding `input` on stdin; rejects on a non-zero exit.
 * @param {string[]} args
 * @param {string} input
 * @returns {Promise<string>} stdout and stderr
 */
function run(args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(BUREAU_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`bureau ${args.slice(0, 2).join(' ')} exited with ${code}:\n${stripAnsi(out)}`));
    });
    child.stdin.end(input);
  });
}

/**
 * @typedef {object} StartOptions
 * @property {Record<string, string>} [env] Extra environment, e.g. `BUREAU_SMTP_URL`.
 * @property {boolean} [publicUrl] Set `public_url` to the plain HTTP address, so links in emails
 *   point at this server.
 */

/**
 * Starts a server and waits until `/healthz` answers.
 * @param {StartOptions} [options]
 * @returns {Promise<Bureau>}
 */
export async function startBureau(options = {}) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-'));
  const httpPort = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === httpPort) tlsPort = await freePort();
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'info' };
  if (WEB_DIR) env.BUREAU_WEB_DIR = WEB_DIR;
  else delete env.BUREAU_WEB_DIR;
  // The embedded TURN server on a free port: test files run in parallel, and coturn may hold 3478.
  if (!env.BUREAU_TURN_LISTEN) env.BUREAU_TURN_LISTEN = '127.0.0.1:0';
  if (options.publicUrl) env.BUREAU_PUBLIC_URL = baseUrl;
  Object.assign(env, options.env || {});
  const child = spawn(BUREAU_BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${httpPort}`, '--tls-listen', `127.0.0.1:${tlsPort}`], {
    env, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  /** @type {number|null} */
  let exitCode = null;
  let exited = false;
  const exitPromise = new Promise((resolve) => child.on('exit', (code) => { exited = true; exitCode = code; resolve(undefined); }));
  child.stdout.on('data', (d) => { output += stripAnsi(String(d)); });
  child.stderr.on('data', (d) => { output += stripAnsi(String(d)); });
  child.on('error', (err) => { output += `\nspawn error: ${err.message}\n`; });

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
      await exitPromise;
      clearTimeout(timer);
    }
    await rm(dataDir, { recursive: true, force: true });
  };

  // Wait (bounded in attempts) for the health check and the setup link.
  let setupUrl = '';
  for (let attempt = 0; attempt < 600; attempt++) {
    if (exited) {
      await stop();
      throw new Error(`bureau serve exited with ${exitCode} before it was ready:\n${output}`);
    }
    const link = /\S*\/setup#token=([A-Za-z0-9_\-.~%]+)/.exec(output);
    if (link && !setupUrl) setupUrl = `${baseUrl}/setup#token=${link[1]}`;
    if (setupUrl) {
      try {
        const res = await fetch(baseUrl + '/healthz');
        if (res.ok) break;
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!setupUrl) {
    await stop();
    throw new Error(`bureau serve printed no setup link (a line with /setup#token=):\n${output}`);
  }
  const health = await fetch(baseUrl + '/healthz').catch(() => null);
  if (!health || !health.ok) {
    await stop();
    throw new Error(`bureau serve did not answer /healthz:\n${output}`);
  }

  return {
    baseUrl,
    setupUrl,
    dataDir,
    output: () => output,
    stop,
    async createUser(user) {
      const args = ['admin', 'create-user', '--data-dir', dataDir, '--email', user.email, '--name', user.name];
      if (user.admin) args.push('--admin');
      await run(args, user.password + '\n');
    },
  };
}
