// Two `bureau serve` nodes sharing one PostgreSQL and one Redis: a user on node A and a user on
// node B see each other, call each other with video both ways and exchange a message; node A is
// killed (SIGKILL) and B sees A's user go offline; A restarts and the user comes back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBureau } from './server.js';
import { startRedis, freshDatabase } from './cluster.js';
import { openBrowser } from './browser.js';
import { enterOffice, waitPresence, callAndAccept, waitForFrames, officeOf } from './office.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const ALAN = { email: 'alan@example.test', name: 'Alan Turing', password: 'entscheidungsproblem' };
const LONG = { timeout: 240_000 };
const GRACE_SECS = 3;

/** @type {import('./cluster.js').Redis} */ let redis;
/** @type {import('./server.js').Bureau} */ let nodeA;
/** @type {import('./server.js').Bureau} */ let nodeB;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let alan;

before(async () => {
  redis = await startRedis();
  const env = {
    BUREAU_DATABASE_URL: await freshDatabase('bureau_multinode'),
    BUREAU_REDIS_URL: redis.url,
    BUREAU_TURN_AUTH_SECRET: 'multinode-test-secret',
  };
  nodeA = await startBureau({ presenceGraceSecs: GRACE_SECS, env });
  // The second node: its own folder (certificate, TURN port) with the deployment's master key.
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bureau-e2e-node-b-'));
  await copyFile(path.join(nodeA.dataDir, 'master.key'), path.join(dataDir, 'master.key'));
  nodeB = await startBureau({ presenceGraceSecs: GRACE_SECS, env, dataDir, expectSetupLink: false });
  await nodeA.createUser(ADA);
  await nodeA.createUser(ALAN);
  browsers.push(await openBrowser(nodeA), await openBrowser(nodeB));
  ada = browsers[0].page;
  alan = browsers[1].page;
  await enterOffice(ada, ADA);
  await enterOffice(alan, ALAN);
}, { timeout: 120_000 });

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  for (const node of [nodeA, nodeB]) if (node) await node.stop();
  if (redis) await redis.stop();
});

test('users on two nodes see each other, call with video both ways and exchange a message', LONG, async () => {
  await waitPresence(ada, ALAN.name, 'online');
  await waitPresence(alan, ADA.name, 'online');

  await callAndAccept(ada, alan, ALAN.name, ADA.name);
  const [fromAlan] = await waitForFrames(ada, 1);
  const [fromAda] = await waitForFrames(alan, 1);
  assert.ok(fromAlan.framesDecoded > 0 && fromAda.framesDecoded > 0, 'video decoded on both sides');
  await alan.getByRole('toolbar', { name: 'Call controls' }).getByRole('button', { name: 'Leave' }).click();
  await ada.waitForFunction(() => /** @type {any} */ (window).bureau.peerConnections.size === 0, null, { timeout: 0 });

  await officeOf(ada, ALAN.name).locator('.owner-line').click();
  await ada.getByRole('dialog', { name: ALAN.name }).getByRole('button', { name: 'Message' }).click();
  const box = ada.getByRole('textbox', { name: `Message to ${ALAN.name}` });
  await box.fill('Across the nodes: hello Alan.');
  await box.press('Enter');
  await alan.locator('#chat').getByText('Across the nodes: hello Alan.').waitFor({ timeout: 0 });
  assert.deepEqual(browsers[0].errors, []);
  assert.deepEqual(browsers[1].errors, []);
});

test('node A is killed: B shows its user offline; A restarts and the user is back', LONG, async () => {
  await waitPresence(alan, ADA.name, 'online');
  await nodeA.crash();
  await waitPresence(alan, ADA.name, 'offline');
  assert.equal(await alan.evaluate(() => /** @type {any} */ (window).bureau.signal.status.state), 'open',
    'the user on node B stays connected');

  await nodeA.restart();
  // Ada's page reconnects to its node on its own (backoff) and shows up online again.
  await ada.waitForFunction(() => /** @type {any} */ (window).bureau.signal.status.state === 'open', null, { timeout: 0 });
  await waitPresence(alan, ADA.name, 'online');
  await waitPresence(ada, ALAN.name, 'online');
});
