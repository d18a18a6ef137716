// Starts a real `bureau serve` for a test file: fresh data folder, free loopback ports, the setup
// link read from its output. Also creates users with `bureau admin create-user`.

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
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
 * @property {string} baseUrl `https://127.0.0.1:PORT`: the HTTPS listener, where browsers speak
 *   HTTP/2 as users do (the address Bureau prints).
 * @property {string} httpUrl `http://127.0.0.1:PORT`: the plain listener, for calls from node.
 * @property {string} spki The SHA-256 (base64) of the public key of the data folder's
 *   self-signed certificate, which `openBrowser` tells Chromium to accept.
 * @property {string} setupUrl The first-admin setup link exactly as `bureau serve` printed it.
 * @property {string} dataDir
 * @property {() => string} output Everything the server printed so far.
 * @property {(user: {email: string, name: string, password: string, admin?: boolean}) => Promise<void>} createUser
 * @property {string} turnListen `127.0.0.1:PORT` of the built-in STUN/TURN server (UDP and TCP).
 * @property {() => Promise<void>} stop
 * @property {() => Promise<void>} restart Stops the server and starts it again: same data, same ports.
 * @property {() => Promise<void>} crash Kills the server with SIGKILL: no drain, no goodbye.
 */

/** @returns {Promise<number>} A port that was free a moment ago (also for servers a test starts itself). */
export function freePort() {
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
 * @param {number} port
 * @returns {Promise<boolean>} Whether the UDP port can be bound.
 */
function udpFree(port) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.on('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

/**
 * @param {number[]} taken
 * @returns {Promise<number>} A port free for both TCP and UDP, not in `taken`.
 */
async function freeTcpUdpPort(taken) {
  for (;;) {
    const port = await freePort();
    if (!taken.includes(port) && await udpFree(port)) return port;
  }
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
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {Promise<string>} stdout and stderr
 */
function run(args, input, env = process.env) {
  return new Promise((resolve, reject) => {
    const child = spawn(BUREAU_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
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
 * @property {boolean} [publicUrl] Set `public_url` to `baseUrl` explicitly (its default is
 *   the same address: `https://` + the HTTPS listener).
 * @property {number} [presenceGraceSecs] The signaling presence grace period, shortened for tests.
 * @property {string} [dataDir] Use this (prepared) data folder instead of a fresh one.
 * @property {boolean} [expectSetupLink] Whether this start creates the organisation and prints
 *   its setup link (default true; false for a second node of a deployment).
 */

/**
 * Starts a server and waits until `/healthz` answers.
 * @param {StartOptions} [options]
 * @returns {Promise<Bureau>}
 */
export async function startBureau(options = {}) {
  const dataDir = options.dataDir || await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-'));
  const expectSetupLink = options.expectSetupLink ?? true;
  const httpPort = await freePort();
  let tlsPort = await freePort();
  while (tlsPort === httpPort) tlsPort = await freePort();
  const turnPort = await freeTcpUdpPort([httpPort, tlsPort]);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const baseUrl = `https://127.0.0.1:${tlsPort}`;
  const turnListen = `127.0.0.1:${turnPort}`;
  /** @type {NodeJS.ProcessEnv} */
  const env = {
    ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'info',
    BUREAU_TURN_LISTEN: turnListen, BUREAU_TURN_ALLOW_LOOPBACK_PEERS: 'true', BUREAU_SFU_LISTEN: '127.0.0.1:0',
  };
  if (options.presenceGraceSecs !== undefined) env.BUREAU_SIGNAL_PRESENCE_GRACE_SECS = String(options.presenceGraceSecs);
  if (WEB_DIR) env.BUREAU_WEB_DIR = WEB_DIR;
  else delete env.BUREAU_WEB_DIR;
  if (options.publicUrl) env.BUREAU_PUBLIC_URL = baseUrl;
  Object.assign(env, options.env || {});
  const args = ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${httpPort}`, '--tls-listen', `127.0.0.1:${tlsPort}`];

  let output = '';
  let proc = await launch(args, env, httpUrl, (text) => { output += text; }, () => output, expectSetupLink);

  const stop = async () => {
    await proc.kill();
    await rm(dataDir, { recursive: true, force: true });
  };
  const setupUrl = proc.setupUrl;
  if (!setupUrl && expectSetupLink) {
    await stop();
    throw new Error(`bureau serve printed no setup link (a line with /setup#token=):\n${output}`);
  }
  if (setupUrl && !setupUrl.startsWith(`${baseUrl}/setup#token=`)) {
    await stop();
    throw new Error(`the printed setup link ${setupUrl} is not on the HTTPS listener ${baseUrl}`);
  }
  const spki = certificateSpki(await readFile(path.join(dataDir, 'tls-cert.pem'), 'utf8'));

  return {
    baseUrl,
    httpUrl,
    spki,
    setupUrl,
    dataDir,
    turnListen,
    output: () => output,
    stop,
    async crash() {
      await proc.kill('SIGKILL');
    },
    async restart() {
      await proc.kill();
      output += '\n--- restart ---\n';
      proc = await launch(args, env, httpUrl, (text) => { output += text; }, () => output, false);
    },
    async createUser(user) {
      const cmd = ['admin', 'create-user', '--data-dir', dataDir, '--email', user.email, '--name', user.name];
      if (user.admin) cmd.push('--admin');
      await run(cmd, user.password + '\n', env);
    },
  };
}

/**
 * The pin Chromium's `--ignore-certificate-errors-spki-list` takes: base64 of the SHA-256 of the
 * certificate's SubjectPublicKeyInfo.
 * @param {string} pem
 * @returns {string}
 */
function certificateSpki(pem) {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/**
 * Spawns `bureau serve` and waits (bounded in attempts) for `/healthz` and, on a first start,
 * the setup link.
 * @param {string[]} args
 * @param {NodeJS.ProcessEnv} env
 * @param {string} baseUrl The plain HTTP listener (polled for /healthz from node).
 * @param {(text: string) => void} log
 * @param {() => string} output
 * @param {boolean} wantSetupLink
 * @returns {Promise<{setupUrl: string, kill: (signal?: NodeJS.Signals) => Promise<void>}>}
 */
async function launch(args, env, baseUrl, log, output, wantSetupLink) {
  const child = spawn(BUREAU_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  /** @type {number|null} */
  let exitCode = null;
  let exited = false;
  const exitPromise = new Promise((resolve) => child.on('exit', (code) => { exited = true; exitCode = code; resolve(undefined); }));
  child.stdout.on('data', (d) => log(stripAnsi(String(d))));
  child.stderr.on('data', (d) => log(stripAnsi(String(d))));
  child.on('error', (err) => log(`\nspawn error: ${err.message}\n`));
  /** @param {NodeJS.Signals} [signal] */
  const kill = async (signal = 'SIGTERM') => {
    if (exited) return;
    child.kill(signal);
    const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 5000);
    await exitPromise;
    clearTimeout(timer);
  };
  const started = output().length;
  let setupUrl = '';
  let healthy = false;
  for (let attempt = 0; attempt < 600; attempt++) {
    if (exited) throw new Error(`bureau serve exited with ${exitCode} before it was ready:\n${output()}`);
    const link = /\S*\/setup#token=[A-Za-z0-9_\-.~%]+/.exec(output().slice(started));
    if (link && !setupUrl) setupUrl = link[0];
    if (setupUrl || !wantSetupLink) {
      try {
        const res = await fetch(baseUrl + '/healthz');
        if (res.ok) { healthy = true; break; }
      } catch {
        // not listening yet
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!healthy) {
    await kill();
    throw new Error(`bureau serve did not answer /healthz:\n${output()}`);
  }
  return { setupUrl, kill };
}

/**
 * Every file under a folder, recursively (to scan a data folder for what must not be in it).
 * @param {string} dir
 * @returns {Promise<string[]>}
 */
export async function filesUnder(dir) {
  /** @type {string[]} */
  const files = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...await filesUnder(full));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}
