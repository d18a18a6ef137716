// The privacy centre and the privacy team's tools against the real server: a member downloads
// their export, objects and restricts processing (the office says so, colleagues no longer find
// them, lifting it brings them back), files a rectification request that the admin answers from
// the queue, the admin reads the audit log and edits the privacy policy, and the member finally
// erases their account.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startBureau } from './server.js';
import { startMailSink, linkIn } from './mail.js';
import { openBrowser, apiFromPage, signIn } from './browser.js';

const ADMIN = { email: 'grace@example.test', name: 'Grace Hopper', password: 'nanoseconds-11.8', admin: true };
const MEMBER = { email: 'alan@example.test', name: 'Alan Turing', password: 'enigma-machine-1939' };
const COLLEAGUE = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine-1843' };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./mail.js').MailSink} */
let sink;
/** @type {import('./browser.js').Browser} */
let member;
/** @type {import('./browser.js').Browser} */
let admin;
before(async () => {
  sink = await startMailSink();
  bureau = await startBureau({ publicUrl: true, env: { BUREAU_SMTP_URL: sink.url } });
  await bureau.createUser(ADMIN);
  await bureau.createUser(MEMBER);
  await bureau.createUser(COLLEAGUE);
  member = await openBrowser(bureau);
  admin = await openBrowser(bureau);
  await signIn(member.page, MEMBER.email, MEMBER.password);
  await signIn(admin.page, ADMIN.email, ADMIN.password);
});
after(async () => {
  if (member) await member.close();
  if (admin) await admin.close();
  if (bureau) await bureau.stop();
  if (sink) await sink.stop();
});

/** @param {import('playwright-core').Page} page */
async function openPrivacyCentre(page) {
  await page.getByRole('button', { name: /account menu/ }).click();
  await page.locator('#user-menu').getByRole('link', { name: 'Privacy centre' }).click();
  await page.waitForURL('**/privacy-centre');
  await page.getByRole('heading', { name: 'Privacy centre', level: 1 }).waitFor();
}

test('a member downloads the export of their data', async () => {
  const page = member.page;
  await openPrivacyCentre(page);
  await page.getByRole('heading', { name: 'What Bureau knows about you' }).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download my data' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'bureau-export.json');
  const file = await download.path();
  const exported = JSON.parse(await readFile(file, 'utf8'));
  assert.ok(JSON.stringify(exported).includes(MEMBER.email), 'the export holds the member’s email');
  await page.getByText('Your data was downloaded', { exact: false }).waitFor();
});

test('objection and restriction: the office shows it, colleagues no longer find the member, lifting restores', async () => {
  const page = member.page;
  const colleague = await openBrowser(bureau);
  try {
    await signIn(colleague.page, COLLEAGUE.email, COLLEAGUE.password);
    const listed = async () => (await apiFromPage(colleague.page, 'GET', '/api/users')).body.users.some((/** @type {any} */ u) => u.email === MEMBER.email);
    assert.ok(await listed(), 'listed before the restriction');

    await page.goto('/privacy-centre');
    const objections = page.getByRole('form', { name: 'Objections' });
    await objections.getByRole('checkbox', { name: /My name in call logs/ }).check();
    await objections.getByRole('button', { name: 'Save objections' }).click();
    await page.getByText('Your objections were saved.').waitFor();
    assert.deepEqual((await apiFromPage(page, 'GET', '/api/me/privacy')).body, { restricted: false, objections: ['call_logs'] });

    // Restricting is explained first; Cancel changes nothing.
    const restrict = page.getByRole('switch', { name: 'Restrict processing of my data' });
    await restrict.click();
    const dialog = page.getByRole('dialog', { name: 'Restrict processing of your data?' });
    await dialog.getByText('you leave the live office at once', { exact: false }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await restrict.isChecked(), false);
    await restrict.click();
    await dialog.getByRole('button', { name: 'Restrict processing' }).click();
    await page.getByText('Processing of your data is restricted.', { exact: true }).waitFor();
    assert.equal(await restrict.isChecked(), true);
    assert.equal((await apiFromPage(page, 'GET', '/api/me/privacy')).body.restricted, true);

    // The office says so instead of reconnecting, also after a reload (the handshake is refused).
    await page.goto('/office');
    const state = page.locator('.restricted-state');
    await state.getByRole('heading', { name: 'Your data processing is restricted' }).waitFor();
    await page.reload();
    await state.getByRole('heading', { name: 'Your data processing is restricted' }).waitFor({ timeout: 10000 });
    await page.locator('#conn-banner').getByRole('link', { name: 'Lift it in the privacy centre' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Rooms' }).isVisible(), false);
    assert.equal(await listed(), false, 'hidden from a colleague’s directory');
    await colleague.page.goto('/directory');
    await colleague.page.getByRole('heading', { name: 'Directory', level: 1 }).waitFor();
    assert.equal(await colleague.page.getByText(MEMBER.name).count(), 0);

    // Lifting it: back in the office and in the directory.
    await state.getByRole('link', { name: 'Lift it in the privacy centre' }).click();
    await page.waitForURL('**/privacy-centre');
    await page.getByRole('switch', { name: 'Restrict processing of my data' }).click();
    await page.getByText('The restriction is lifted.', { exact: false }).waitFor();
    await page.goto('/office');
    await page.getByRole('heading', { name: 'Rooms' }).waitFor();
    await page.getByText(/\d+ of \d+ (people|person) online/).waitFor({ timeout: 10000 });
    assert.equal(await page.locator('.restricted-state').isVisible(), false);
    assert.ok(await listed(), 'listed again');
    assert.deepEqual(colleague.errors, []);
  } finally {
    await colleague.close();
  }
});

test('a rectification request is answered from the queue and the answer reaches the member', async () => {
  const page = member.page;
  const message = 'My personnel ID is 4711, not 4117.';
  const answer = 'Corrected to 4711. Thank you!';
  await page.goto('/privacy-centre');
  const form = page.getByRole('form', { name: 'File a privacy request' });
  await form.getByRole('button', { name: 'File request' }).click();
  await form.getByText('Describe your request.').waitFor();
  await form.getByLabel('What do you ask for?').selectOption('rectification');
  await form.getByLabel('Your request').fill(message);
  await form.getByRole('button', { name: 'File request' }).click();
  await page.getByText('Your request was filed.', { exact: false }).waitFor();
  const mine = page.locator('.privacy-request', { hasText: message });
  await mine.getByText('Open', { exact: true }).waitFor();
  await mine.getByText(/days left/).waitFor();

  const ap = admin.page;
  await ap.getByRole('button', { name: /account menu/ }).click();
  await ap.locator('#user-menu').getByRole('link', { name: 'Privacy requests' }).click();
  await ap.waitForURL('**/privacy-admin');
  const queued = ap.locator('.request-queue .privacy-request', { hasText: message });
  await queued.getByText(`Rectification — ${MEMBER.name}`).waitFor();
  await queued.getByText(/Due .* · \d+ days left/).waitFor();
  await queued.getByRole('button', { name: `Answer the rectification request of ${MEMBER.name}` }).click();
  const dialog = ap.getByRole('dialog', { name: `Answer the request of ${MEMBER.name}` });
  await dialog.getByRole('button', { name: 'Send answer' }).click();
  await dialog.getByText('Write the answer first.').waitFor();
  await dialog.getByLabel('Answer', { exact: true }).fill(answer);
  await dialog.getByRole('radio', { name: /Done/ }).check();
  await dialog.getByRole('button', { name: 'Send answer' }).click();
  await ap.getByText(`The request of ${MEMBER.name} is closed`, { exact: false }).waitFor();
  await ap.getByText('No open requests.').waitFor();

  const mail = await sink.waitFor((m) => m.rcpt_tos.includes(MEMBER.email), 'the answer email');
  assert.ok(mail.text.includes(answer), mail.text);

  await page.reload();
  await mine.getByText('Done', { exact: true }).waitFor();
  await mine.getByText(answer).waitFor();
  const own = (await apiFromPage(page, 'GET', '/api/privacy/requests')).body.requests;
  assert.equal(own.length, 1);
  assert.equal(own[0].status, 'done');
  assert.equal(own[0].response, answer);
  assert.deepEqual(admin.errors, []);
});

test('the admin reads the audit log with names', async () => {
  const ap = admin.page;
  const users = (await apiFromPage(ap, 'GET', '/api/users')).body.users;
  const alan = users.find((/** @type {any} */ u) => u.email === MEMBER.email);
  assert.equal((await apiFromPage(ap, 'GET', `/api/users/${alan.id}`)).status, 200);
  await ap.goto('/privacy-admin');
  const table = ap.getByRole('table', { name: /Administrative access/ });
  await table.waitFor();
  const answered = table.locator('tr[data-action="handle_privacy_request"]');
  await answered.first().getByText(MEMBER.name).waitFor();
  await answered.first().getByText(`${ADMIN.name} (you)`).waitFor();
  await table.locator('tr[data-action="view_user"]').first().getByText(MEMBER.name).waitFor();
  await table.locator('tr[data-action="view_privacy_requests"]').first().waitFor();
  const member403 = await apiFromPage(member.page, 'GET', '/api/privacy/audit');
  assert.equal(member403.status, 403);
});

test('the admin edits the privacy policy and /privacy shows it', async () => {
  const ap = admin.page;
  const probe = await apiFromPage(ap, 'GET', '/api/legal');
  assert.equal(probe.status, 200, 'GET /api/legal answers (a 404 fails the test, it does not skip it)');
  await ap.goto('/privacy-admin');
  const form = ap.getByRole('form', { name: 'Edit the privacy policy' });
  const markdown = '# How we handle your data\n\nWe keep **as little as possible**. <script>window.pwned = 1</script>\n\n- [Ask us](mailto:dpo@example.test)\n- [Evil](javascript:window.pwned=2)';
  await form.getByLabel('Markdown').fill(markdown);
  const preview = form.getByRole('region', { name: 'Preview of the privacy policy' });
  await preview.getByRole('heading', { name: 'How we handle your data' }).waitFor();
  await form.getByRole('button', { name: 'Save privacy policy' }).click();
  await ap.getByText('The privacy policy was saved.').waitFor();

  const visitor = await openBrowser(bureau);
  try {
    await visitor.page.goto('/privacy');
    await visitor.page.getByRole('heading', { name: 'How we handle your data', level: 2 }).waitFor();
    await visitor.page.getByText('<script>window.pwned = 1</script>', { exact: false }).waitFor();
    assert.equal(await visitor.page.getByRole('link', { name: 'Ask us' }).getAttribute('href'), 'mailto:dpo@example.test');
    assert.equal(await visitor.page.getByRole('link', { name: 'Evil' }).count(), 0);
    assert.equal(await visitor.page.evaluate(() => /** @type {any} */ (window).pwned), undefined);
    assert.deepEqual(visitor.errors, []);
    // An invitee reads it before registering.
    const invited = await apiFromPage(ap, 'POST', '/api/invitations', { name: 'Katherine Johnson', email: 'katherine@example.test' });
    assert.equal(invited.status, 201);
    const mail = await sink.waitFor((m) => m.rcpt_tos.includes('katherine@example.test'), 'invitation email');
    await visitor.page.goto(linkIn(mail, '/register#token='));
    const box = visitor.page.getByRole('region', { name: 'Privacy policy' });
    await box.getByRole('heading', { name: 'How we handle your data' }).waitFor();
    await box.getByText('Version ', { exact: false }).waitFor();
    await visitor.page.getByRole('region', { name: 'Terms of use' }).getByRole('heading', { name: 'Acceptable use' }).waitFor();
  } finally {
    await visitor.close();
  }
  // Back to the default text.
  await form.getByRole('button', { name: 'Use Bureau’s default' }).click();
  await ap.getByText('The privacy policy is Bureau’s default again.').waitFor();
});

test('a member with the manage_privacy right works the queue, without the legal texts', async () => {
  const users = (await apiFromPage(admin.page, 'GET', '/api/users')).body.users;
  const ada = users.find((/** @type {any} */ u) => u.email === COLLEAGUE.email);
  assert.equal((await apiFromPage(admin.page, 'PATCH', `/api/users/${ada.id}`, { rights: ['manage_privacy'] })).status, 200);
  const team = await openBrowser(bureau, { width: 375, height: 800 });
  try {
    await signIn(team.page, COLLEAGUE.email, COLLEAGUE.password);
    await team.page.getByRole('button', { name: /account menu/ }).click();
    await team.page.locator('#user-menu').getByRole('link', { name: 'Privacy requests' }).click();
    await team.page.waitForURL('**/privacy-admin');
    await team.page.locator('.request-queue').getByText('No open requests.').waitFor();
    await team.page.getByRole('heading', { name: 'Audit log' }).waitFor();
    assert.equal(await team.page.getByRole('heading', { name: 'Legal texts' }).count(), 0);
    assert.equal(await team.page.getByRole('link', { name: 'Admin' }).count(), 0);
    const fits = () => team.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(await fits(), 'no horizontal scrolling at 375 px');
    await team.page.goto('/privacy-centre');
    await team.page.getByRole('heading', { name: 'Delete my account' }).waitFor();
    assert.ok(await fits(), 'the privacy centre fits 375 px');
    assert.deepEqual(team.errors, []);
  } finally {
    await team.close();
  }
  // Without the right, the page says who it is for.
  await member.page.goto('/privacy-admin');
  await member.page.getByRole('heading', { name: 'Privacy team only' }).waitFor();
});

test('the member deletes their account; signing in then fails', async () => {
  const page = member.page;
  await page.goto('/privacy-centre');
  await page.getByRole('button', { name: 'Delete my account…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
  await dialog.getByText('Kept, without your name').waitFor();
  await dialog.getByLabel('Your password').fill('not-my-password');
  await dialog.getByRole('button', { name: 'Delete my account permanently' }).click();
  await dialog.getByText('Is not correct.').waitFor();
  await dialog.getByLabel('Your password').fill(MEMBER.password);
  await dialog.getByRole('button', { name: 'Delete my account permanently' }).click();
  await page.waitForURL('**/login');
  await page.getByText('Your account has been deleted.').waitFor();

  await page.getByLabel('Email').fill(MEMBER.email);
  await page.getByLabel('Password').fill(MEMBER.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The email address or password is not correct.').waitFor();
  const users = (await apiFromPage(admin.page, 'GET', '/api/users')).body.users;
  assert.equal(users.some((/** @type {any} */ u) => u.email === MEMBER.email), false);
  assert.deepEqual(member.errors, []);
});
