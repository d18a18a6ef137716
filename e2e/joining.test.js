// Joining Bureau with a real SMTP server (aiosmtpd): the admin invites in the admin page, the
// invitation email arrives, its link registers the invitee (terms accepted, password set) and
// works only once; resending replaces the link, revoking kills it; the legal pages are public.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { startMailSink, linkIn } from './mail.js';
import { openBrowser, apiFromPage, signIn, assertHttp2 } from './browser.js';

const ADMIN = { email: 'grace@example.test', name: 'Grace Hopper', password: 'nanoseconds-11.8', admin: true };
const ORG = 'Hopper & Partners';

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./mail.js').MailSink} */
let sink;
before(async () => {
  sink = await startMailSink();
  bureau = await startBureau({ publicUrl: true, env: { BUREAU_SMTP_URL: sink.url } });
  await bureau.createUser(ADMIN);
});
after(async () => {
  if (bureau) await bureau.stop();
  if (sink) await sink.stop();
});

/**
 * Signs the admin in, names the organisation and opens the admin page.
 * @param {import('playwright-core').Page} page
 */
async function adminPage(page) {
  await signIn(page, ADMIN.email, ADMIN.password);
  const org = await apiFromPage(page, 'PATCH', '/api/org', { name: ORG });
  assert.equal(org.status, 200);
  await page.goto('/admin');
  await page.getByRole('heading', { name: 'Invitations', level: 2 }).waitFor();
}

/**
 * Invites someone through the dialog of the admin page.
 * @param {import('playwright-core').Page} page
 * @param {{name: string, email: string}} who
 */
async function inviteInUi(page, who) {
  await page.getByRole('button', { name: '+ Invite someone' }).click();
  const dialog = page.getByRole('dialog', { name: 'Invite someone' });
  await dialog.getByLabel('Name').fill(who.name);
  await dialog.getByLabel('Email').fill(who.email);
  await dialog.getByRole('button', { name: 'Send invitation' }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('.invitations-table tr', { hasText: who.email }).getByText('Pending').waitFor();
}

/**
 * @param {import('playwright-core').Page} page
 */
async function expectUnusable(page) {
  await page.getByRole('heading', { name: 'This invitation link can’t be used' }).waitFor();
  await page.getByText(/ask the administrator who invited you to resend/i).waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token left the address bar');
}

test('an invitation email registers the invitee once, who can then sign in again', async () => {
  const invitee = { name: 'Katherine Johnson', email: 'katherine@example.test', password: 'orbital-mechanics-62' };
  const admin = await openBrowser(bureau);
  const guest = await openBrowser(bureau);
  try {
    await adminPage(admin.page);
    await inviteInUi(admin.page, invitee);

    const mail = await sink.waitFor((m) => m.rcpt_tos.includes(invitee.email), 'invitation email');
    assert.equal(mail.subject, `Your invitation to ${ORG}`);
    const link = linkIn(mail, '/register#token=');
    assert.ok(link.startsWith(`${bureau.baseUrl}/register#token=`), link);
    const token = link.split('#token=')[1];
    assert.match(token, /^[A-Za-z0-9_-]{40,}$/, 'the quoted-printable encoding is decoded (no =3D, no soft line breaks)');
    assert.ok(mail.html.includes(link), 'the HTML part has the same link');
    assert.equal(linkIn(mail, '/privacy'), `${bureau.baseUrl}/privacy`);
    assert.equal(linkIn(mail, '/terms'), `${bureau.baseUrl}/terms`);

    const { page } = guest;
    await page.goto(link);
    await assertHttp2(page); // the invitation email's link: HTTPS, spoken over HTTP/2
    await page.getByRole('heading', { name: `Join ${ORG}`, level: 1 }).waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar at once');
    assert.equal(new URL(page.url()).pathname, '/register');
    assert.equal(await page.getByLabel('Your name').inputValue(), invitee.name);
    const email = page.getByLabel('Email', { exact: true });
    assert.equal(await email.inputValue(), invitee.email);
    assert.equal(await email.evaluate((el) => /** @type {HTMLInputElement} */ (el).readOnly), true);
    // The privacy policy and terms are on the page, in focusable (keyboard-scrollable) boxes.
    const privacy = page.getByRole('region', { name: 'Privacy policy' });
    await privacy.getByText(/never stores the contents of calls, and it cannot read messages or files/).waitFor();
    assert.match(await privacy.innerText(), new RegExp(`controller of your personal data is ${ORG}`));
    await page.getByRole('region', { name: 'Terms of use' }).getByText(/The account is personal/).waitFor();
    assert.equal(await privacy.getAttribute('tabindex'), '0');

    await page.getByLabel('Password', { exact: true }).fill(invitee.password);
    await page.getByLabel('Confirm password').fill(invitee.password);
    await page.getByRole('button', { name: 'Create my account' }).click();
    const accept = page.getByLabel(/I have read and accept the privacy policy and the terms of use/);
    await page.locator('[data-field="accept_terms"] .field-error').getByText(/accept the privacy policy/).waitFor();
    assert.ok(await accept.evaluate((el) => el === document.activeElement), 'the unchecked box gets the focus');
    await accept.check();
    await page.getByRole('button', { name: 'Create my account' }).click();
    await page.waitForURL('**/office');
    await page.getByRole('button', { name: new RegExp(invitee.name) }).first().waitFor();
    const me = await apiFromPage(page, 'GET', '/api/me');
    assert.equal(me.body.email, invitee.email);
    assert.equal(me.body.role, 'member');

    // Sign out, and in again with the new password.
    await page.getByRole('button', { name: /account menu/ }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login');
    await signIn(page, invitee.email, invitee.password);

    // The link worked once.
    await page.goto(link);
    await expectUnusable(page);

    await admin.page.reload();
    await admin.page.locator('.invitations-table tr', { hasText: invitee.email }).getByText('Accepted').waitFor();
    assert.deepEqual(guest.errors, []);
    assert.deepEqual(admin.errors, []);
  } finally {
    await guest.close();
    await admin.close();
  }
});

test('resending replaces the link; revoking makes it fail', async () => {
  const invitee = { name: 'Dorothy Vaughan', email: 'dorothy@example.test' };
  const admin = await openBrowser(bureau);
  const guest = await openBrowser(bureau);
  try {
    await adminPage(admin.page);
    await inviteInUi(admin.page, invitee);
    const toInvitee = (/** @type {import('./mail.js').Mail} */ m) => m.rcpt_tos.includes(invitee.email);
    const first = linkIn(await sink.waitFor(toInvitee, 'first invitation'), '/register#token=');

    const row = admin.page.locator('.invitations-table tr', { hasText: invitee.email });
    await row.getByRole('button', { name: `Resend the invitation to ${invitee.name}` }).click();
    await admin.page.getByText(`A new invitation was sent to ${invitee.email}.`).waitFor();
    const second = linkIn(await sink.waitFor(toInvitee, 'resent invitation', 1), '/register#token=');
    assert.notEqual(second, first);

    const { page } = guest;
    await page.goto(first);
    await expectUnusable(page);
    await page.goto(second);
    await page.getByRole('heading', { name: `Join ${ORG}` }).waitFor();

    // Revoke, with confirmation.
    await row.getByRole('button', { name: `Revoke the invitation to ${invitee.name}` }).click();
    const confirm = admin.page.getByRole('dialog', { name: 'Revoke the invitation?' });
    await confirm.getByText(invitee.email).waitFor();
    await confirm.getByRole('button', { name: 'Revoke invitation' }).click();
    await confirm.waitFor({ state: 'detached' });
    await row.getByText('Revoked').waitFor();
    assert.equal(await row.getByRole('button', { name: /Resend/ }).count(), 0, 'a revoked invitation cannot be resent');

    await page.goto(second);
    await expectUnusable(page);
    // An already-registered address is refused at the email field.
    await admin.page.getByRole('button', { name: '+ Invite someone' }).click();
    const dialog = admin.page.getByRole('dialog', { name: 'Invite someone' });
    await dialog.getByLabel('Name').fill('Grace again');
    await dialog.getByLabel('Email').fill(ADMIN.email);
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    await dialog.getByText('This email address already has an account.').waitFor();
    assert.deepEqual(admin.errors, []);
    assert.deepEqual(guest.errors, []);
  } finally {
    await guest.close();
    await admin.close();
  }
});

test('the privacy policy, terms and local-storage notice are public and keyboard navigable', async () => {
  const b = await openBrowser(bureau);
  try {
    const { page } = b;
    await page.goto('/login');
    // The sign-in page's footer links the legal pages.
    const footer = page.getByRole('navigation', { name: 'Legal and help' });
    await footer.getByRole('link', { name: 'Local storage' }).waitFor();

    await page.goto('/privacy');
    await page.getByRole('heading', { name: 'Privacy policy', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/privacy', 'no sign-in needed');
    for (const heading of ['Who is responsible', 'What Bureau stores', 'How it is protected', 'How long it is kept', 'Your rights']) {
      await page.getByRole('heading', { name: heading, level: 2 }).waitFor();
    }
    await page.getByText(/Access logs: date and time, IP address, browser/).waitFor();

    // The skip link is the first stop and moves the focus to the content.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');

    /**
     * Tabs forward until the link with this name in the given navigation has the focus, then
     * follows it with Enter.
     * @param {string} nav
     * @param {string} name
     */
    const followByKeyboard = async (nav, name) => {
      const target = page.getByRole('navigation', { name: nav }).getByRole('link', { name, exact: true });
      let focused = false;
      for (let i = 0; i < 40 && !focused; i++) {
        await page.keyboard.press('Tab');
        focused = await target.evaluate((el) => el === document.activeElement);
      }
      assert.ok(focused, `"${name}" is reachable with Tab`);
      await page.keyboard.press('Enter');
    };
    await followByKeyboard('Legal information', 'Terms of use');
    await page.waitForURL('**/terms');
    await page.getByRole('heading', { name: 'Terms of use', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Acceptable use', level: 2 }).waitFor();

    await followByKeyboard('Legal information', 'Local storage');
    await page.waitForURL('**/local-storage');
    await page.getByRole('heading', { name: 'Local storage in your browser', level: 1 }).waitFor();
    await page.getByText(/bureau\.theme/).waitFor();

    await followByKeyboard('Legal information', 'Go to sign in');
    await page.waitForURL('**/login');
    await page.getByRole('heading', { name: 'Sign in to Bureau' }).waitFor();
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test('a member with the invite right invites colleagues (but no administrators) from the user menu', async () => {
  const inviter = { email: 'mary@example.test', name: 'Mary Jackson', password: 'wind-tunnel-1958' };
  await bureau.createUser(inviter);
  const admin = await openBrowser(bureau);
  const b = await openBrowser(bureau);
  try {
    await signIn(admin.page, ADMIN.email, ADMIN.password);
    const found = await apiFromPage(admin.page, 'GET', '/api/users?q=mary');
    const id = found.body.users.find((/** @type {{email: string}} */ u) => u.email === inviter.email).id;
    assert.equal((await apiFromPage(admin.page, 'PATCH', `/api/users/${id}`, { rights: ['invite'] })).status, 200);

    const { page } = b;
    await signIn(page, inviter.email, inviter.password);
    await page.getByRole('button', { name: /account menu/ }).click();
    await page.locator('#user-menu').getByRole('link', { name: 'Invite colleagues' }).click();
    await page.waitForURL('**/invitations');
    await page.getByRole('button', { name: '+ Invite someone' }).click();
    const dialog = page.getByRole('dialog', { name: 'Invite someone' });
    const roles = await dialog.getByLabel('Role').locator('option').allTextContents();
    assert.deepEqual(roles, ['Member', 'Guest']);
    await dialog.getByLabel('Name').fill('Christine Darden');
    await dialog.getByLabel('Email').fill('christine@example.test');
    await dialog.getByRole('button', { name: 'Send invitation' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('.invitations-table tr', { hasText: 'christine@example.test' }).getByText('Pending').waitFor();
    const mail = await sink.waitFor((m) => m.rcpt_tos.includes('christine@example.test'), 'invitation email');
    assert.ok(linkIn(mail, '/register#token=').startsWith(bureau.baseUrl));
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
    await admin.close();
  }
});
