// The service worker, which makes Bureau installable as an app. It keeps nothing of the user's
// and answers no request: every page and call goes to the server exactly as without it (a
// worker that relayed pages would hide how they were loaded — HTTP/2 — and could serve stale
// ones). It is where Web Push would arrive, when a push service is configured (not built yet).

const worker = /** @type {any} */ (self);

worker.addEventListener('install', () => worker.skipWaiting());
worker.addEventListener('activate', (/** @type {any} */ event) => event.waitUntil(worker.clients.claim()));
