// The shared parts of a multi-node deployment for the browser tests: a throwaway Redis on a unix
// socket and a fresh PostgreSQL database on the server `scripts/test-e2e` started.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * @typedef {object} Redis
 * @property {string} url `redis+unix://…` for `redis_url`.
 * @property {() => Promise<void>} stop
 */

/**
 * Starts `redis-server` listening only on a unix socket in a temporary folder.
 * @returns {Promise<Redis>}
 */
export async function startRedis() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-redis-'));
  const socket = path.join(dir, 'redis.sock');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for (let attempt = 0; !/ready to accept connections/i.test(output); attempt++) {
    if (attempt > 100 || child.exitCode !== null) throw new Error(`redis-server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis+unix://${socket}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates an empty database on the PostgreSQL server of `BUREAU_E2E_DATABASE_URL` (an
 * administrator's URL, e.g. `postgres://postgres@/postgres?host=/run/…`) and returns its URL.
 * @param {string} name
 * @returns {Promise<string>}
 */
export async function freshDatabase(name) {
  const admin = process.env.BUREAU_E2E_DATABASE_URL;
  if (!admin) throw new Error('BUREAU_E2E_DATABASE_URL is not set: scripts/test-e2e starts PostgreSQL and sets it');
  const database = `${name}_${process.pid}_${Date.now()}`;
  await exec('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE ${database}`]);
  // Not `new URL`: a unix-socket URL (`postgres://user@/db?host=/dir`) has no host part.
  const [base, query] = admin.split('?', 2);
  return `${base.slice(0, base.lastIndexOf('/') + 1)}${database}${query ? `?${query}` : ''}`;
}
