// The DOM-free web/client/privacy-api.js under node with a stubbed fetch (no browser, no server).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import './web-imports.js';

const privacy = await import('../web/client/privacy-api.js');
const { ApiError } = await import('../web/client/api.js');

/**
 * Replaces fetch and records the requests.
 * @param {number} status
 * @param {unknown} body
 */
function stubFetch(status, body) {
  /** @type {{url: string, init: RequestInit}[]} */
  const calls = [];
  globalThis.fetch = async (url, init) => {
    calls.push({ url: String(url), init: init || {} });
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  };
  return calls;
}

test('mutations send JSON bodies with the JSON content type, PUT included', async () => {
  let calls = stubFetch(200, { org_name: 'ACME', privacy: { markdown: '# Hi', version: 1, updated_at: 1 }, terms: { markdown: null, version: 0, updated_at: null } });
  const texts = await privacy.updateLegal({ privacy_markdown: '# Hi' });
  assert.equal(texts.privacy.version, 1);
  assert.equal(calls[0].init.method, 'PUT');
  assert.equal(calls[0].url, '/api/legal');
  assert.equal(calls[0].init.body, '{"privacy_markdown":"# Hi"}');
  assert.equal(/** @type {Record<string, string>} */ (calls[0].init.headers)['Content-Type'], 'application/json');

  calls = stubFetch(204, undefined);
  await privacy.eraseMe('secret words');
  assert.equal(calls[0].init.method, 'DELETE');
  assert.equal(calls[0].url, '/api/me');
  assert.equal(calls[0].init.body, '{"password":"secret words"}');

  calls = stubFetch(200, { restricted: true, objections: [] });
  await privacy.updateSettings({ restricted: true });
  assert.equal(calls[0].init.method, 'PATCH');
  assert.equal(calls[0].init.body, '{"restricted":true}');

  calls = stubFetch(200, { id: 'r1', status: 'done' });
  await privacy.closeRequest('r/1', true, 'Done.');
  assert.equal(calls[0].url, '/api/privacy/requests/r%2F1/close');
  assert.equal(calls[0].init.body, '{"done":true,"response":"Done."}');
});

test('legal texts: the organisation slug is passed; a server without them gives null', async () => {
  let calls = stubFetch(200, { org_name: 'ACME' });
  await privacy.legal('acme & co');
  assert.equal(calls[0].url, '/api/legal?org=acme%20%26%20co');
  calls = stubFetch(404, { code: 'not_found', message: 'no such endpoint' });
  assert.equal(await privacy.legal(), null);
  assert.equal(calls[0].url, '/api/legal');
  stubFetch(500, { code: 'internal', message: 'boom' });
  await assert.rejects(privacy.legal(), ApiError);
});

test('export download errors become ApiError; restricted is described', async () => {
  stubFetch(401, { code: 'unauthenticated', message: 'no session' });
  const err = await privacy.exportBlob().catch((e) => e);
  assert.ok(err instanceof ApiError);
  assert.equal(err.code, 'unauthenticated');
  const blob = await (stubFetch(200, { user: { email: 'a@b.c' } }), privacy.exportBlob());
  assert.equal(blob.type, 'application/json');
  assert.ok((await blob.text()).includes('a@b.c'));
  const restricted = new ApiError(403, 'restricted', 'processing of your data is restricted');
  assert.ok(privacy.isRestricted(restricted));
  assert.match(privacy.describe(restricted), /privacy centre/);
});

test('deadlines in days, kinds and the privacy team', () => {
  const day = 24 * 60 * 60 * 1000;
  const now = Date.UTC(2026, 10, 1);
  assert.equal(privacy.daysLeft(now + 30 * day, now), 30);
  assert.equal(privacy.daysLeft(now + 1, now), 1);
  assert.equal(privacy.daysLeft(now, now), 0);
  assert.equal(privacy.daysLeft(now - 2 * day, now), -2);
  assert.equal(privacy.kindName('rectification'), 'Rectification');
  assert.equal(privacy.REQUEST_KINDS.length, 7);
  /** @param {any} u */
  const team = (u) => privacy.isPrivacyTeam(u);
  assert.equal(team({ role: 'admin', rights: [] }), true);
  assert.equal(team({ role: 'member', rights: ['manage_privacy'] }), true);
  assert.equal(team({ role: 'member', rights: ['invite'] }), false);
  assert.equal(team(null), false);
});
