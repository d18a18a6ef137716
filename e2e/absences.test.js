// Absences against a real `bureau serve`: in entry mode the page explains that they need the
// extended profile; switched to it, Bob enters a vacation with Cleo as deputy on /absences (a
// wrong last day refused at the field by the server), sees it under "My absences" and "Who is
// away"; Ada sees his office marked away with Cleo standing in, knocks, is told so while Cleo's
// page rings "for Bob", and Cleo's answer connects the call; Bob removes the absence and the mark
// goes from Ada's floor plan. Without a deputy a knock rings nobody and says so; an
// administrator's form enters colleagues' absences too.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBureau } from './server.js';
import { openBrowser, apiFromPage } from './browser.js';
import { enterOffice, waitPresence, officeOf, callControls, waitForFrames, pollUntil, setPresence } from './office.js';
import { dayStart, isoDay } from '../web/client/days.js';

const ADA = { email: 'ada@example.test', name: 'Ada Lovelace', password: 'analytical-engine', admin: true };
const BOB = { email: 'bob@example.test', name: 'Bob Kahn', password: 'transmission-control' };
const CLEO = { email: 'cleo@example.test', name: 'Cleo Laine', password: 'jazz-singer-1927' };
const LONG = { timeout: 180_000 };

/** @type {import('./server.js').Bureau} */
let bureau;
/** @type {import('./browser.js').Browser[]} */
const browsers = [];
/** @type {import('playwright-core').Page} */ let ada;
/** @type {import('playwright-core').Page} */ let bob;
/** @type {import('playwright-core').Page} */ let cleo;

before(async () => {
  bureau = await startBureau({ presenceGraceSecs: 3 });
  for (const u of [ADA, BOB, CLEO]) await bureau.createUser(u);
  for (let i = 0; i < 3; i++) browsers.push(await openBrowser(bureau));
  [ada, bob, cleo] = browsers.map((b) => b.page);
  await enterOffice(ada, ADA);
  await enterOffice(bob, BOB);
  await enterOffice(cleo, CLEO);
  await waitPresence(ada, BOB.name, 'online');
  await waitPresence(bob, CLEO.name, 'online');
}, { timeout: 120_000 });
after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
  if (bureau) await bureau.stop();
});

/**
 * Opens the page's user menu and follows one of its links.
 * @param {import('playwright-core').Page} page
 * @returns {Promise<import('playwright-core').Locator>} The menu's "Absences" link (may not exist).
 */
async function absencesMenuItem(page) {
  await page.getByRole('button', { name: /account menu/ }).click();
  return page.locator('#user-menu').getByRole('link', { name: 'Absences' });
}

/**
 * How the page words days (the browser's language), by the client's own helpers.
 * @param {import('playwright-core').Page} page
 * @param {number} startsAt
 * @param {number} endsAt Exclusive.
 * @returns {Promise<{days: string, last: string}>}
 */
function wording(page, startsAt, endsAt) {
  return page.evaluate(async ([s, e]) => {
    const days = await import('/client/days.js');
    return { days: days.formatDays(s, e), last: days.formatLastDay(e) };
  }, [startsAt, endsAt]);
}

test('in entry mode there is no Absences menu item and the page explains why', LONG, async () => {
  assert.equal(await (await absencesMenuItem(bob)).count(), 0);
  await bob.keyboard.press('Escape');
  await bob.goto('/absences');
  await bob.getByRole('heading', { name: 'Absences', level: 1 }).waitFor();
  await bob.getByText('Absences are part of the extended profile').waitFor();
  assert.equal(await bob.getByRole('form', { name: 'Enter an absence' }).count(), 0);
  assert.equal((await apiFromPage(bob, 'GET', '/api/me/absences')).status, 422);
});

test('Bob enters a vacation with Cleo as deputy; Ada knocks and Cleo answers for him; removed, it is gone', LONG, async () => {
  assert.equal((await apiFromPage(ada, 'PATCH', '/api/org', { profile_mode: 'extended' })).status, 200);
  await bob.reload();
  await bob.waitForFunction(() => /** @type {any} */ (window).bureau?.signal?.status?.state === 'open', null, { timeout: 0 });
  await (await absencesMenuItem(bob)).click();
  await bob.waitForURL('**/absences');
  const form = bob.getByRole('form', { name: 'Enter an absence' });
  await form.waitFor();
  assert.equal(await form.getByLabel('For', { exact: true }).count(), 0, 'only absence managers enter colleagues’ absences');

  const today = isoDay(Date.now());
  const startsAt = dayStart(today);
  const endsAt = dayStart(today, 3); // the day after tomorrow is the last day
  const { days, last } = await wording(bob, startsAt, endsAt);

  // A last day before the first: the server's refusal shows at the Last day field, focused.
  await form.getByLabel('First day').fill(today);
  await form.getByLabel('Last day').fill(isoDay(dayStart(today, -1)));
  await form.getByRole('button', { name: 'Save absence' }).click();
  const lastDayError = form.locator('.field[data-field="ends_at"] .field-error');
  await lastDayError.getByText('Must be after the start.').waitFor();
  assert.equal(await form.getByLabel('Last day').getAttribute('aria-invalid'), 'true');
  assert.equal(await form.getByLabel('Last day').evaluate((el) => el === document.activeElement), true);

  // The right days, Cleo as deputy and a note; Enter in the note sends the form.
  await form.getByLabel('Last day').fill(isoDay(dayStart(today, 2)));
  await form.getByLabel('Kind').focus();
  await form.getByLabel('Kind').selectOption('vacation');
  await form.getByLabel('Deputy').selectOption({ label: CLEO.name });
  await form.getByLabel('Note').fill('Hiking in the Alps');
  await form.getByLabel('Note').press('Enter');
  await bob.getByText('Your absence has been saved.').waitFor();
  assert.equal(await lastDayError.isHidden(), true);

  const mine = bob.getByRole('list', { name: 'My absences' }).getByRole('listitem');
  await mine.first().waitFor();
  assert.equal(await mine.count(), 1);
  const item = await mine.innerText();
  for (const text of [days, 'Vacation', `${CLEO.name} stands in`, '“Hiking in the Alps”']) assert.ok(item.includes(text), `"${text}" in ${item}`);
  const away = await bob.getByRole('list', { name: 'Away this week' }).getByRole('listitem').filter({ hasText: BOB.name }).innerText();
  assert.ok(away.includes(`${BOB.name}: ${days}`) && away.includes(`${CLEO.name} stands in`), away);

  // Ada's floor plan marks Bob's office; the knock says whom it rings.
  const mark = officeOf(ada, BOB.name).locator('.room-away');
  await mark.filter({ hasText: `Away until ${last}` }).filter({ hasText: `${CLEO.name} stands in` }).waitFor({ timeout: 0 });
  await officeOf(cleo, BOB.name).locator('.room-away').filter({ hasText: 'You stand in' }).waitFor({ timeout: 0 });
  const knock = officeOf(ada, BOB.name).getByRole('button', { name: `Knock on the door of ${BOB.name} (rings ${CLEO.name})` });
  await knock.click();

  // Ada is told Bob is away and Cleo is being rung; Cleo's page rings for Bob; Bob's does not.
  await ada.locator('#stage .outgoing').getByText(`${BOB.name} is away until ${last}. ${CLEO.name} stands in — ringing ${CLEO.name}.`).waitFor({ timeout: 0 });
  const ring = cleo.getByRole('dialog', { name: 'Incoming call' });
  await ring.getByText(`${ADA.name} is calling — for ${BOB.name}, who is away.`).waitFor({ timeout: 0 });
  assert.equal(await bob.getByRole('dialog', { name: 'Incoming call' }).count(), 0);
  await ring.getByRole('button', { name: 'Accept' }).click();
  await ring.waitFor({ state: 'detached' });

  // The call connects, Ada with Cleo: both stages show it and video flows both ways.
  await ada.locator('#stage .stage-title').getByText(`Call with ${CLEO.name}`).waitFor({ timeout: 0 });
  for (const page of [ada, cleo]) await callControls(page).waitFor({ timeout: 0 });
  await waitForFrames(ada, 1);
  await waitForFrames(cleo, 1);
  assert.equal(await bob.evaluate(() => /** @type {any} */ (window).bureau.office.call), null, 'Bob was never rung');
  await callControls(ada).getByRole('button', { name: 'Leave' }).click();
  for (const page of [ada, cleo]) await page.locator('#stage').waitFor({ state: 'hidden', timeout: 0 });

  // Bob removes the absence (after confirming): his office is no longer marked away for Ada.
  await bob.getByRole('list', { name: 'My absences' }).getByRole('button', { name: `Remove the absence ${days}` }).click();
  const confirm = bob.getByRole('dialog', { name: 'Remove this absence?' });
  await confirm.getByRole('button', { name: 'Remove absence' }).click();
  await bob.getByText('You have no absences coming up.').waitFor();
  await mark.waitFor({ state: 'detached', timeout: 0 });
  await officeOf(ada, BOB.name).getByRole('button', { name: `Knock on the door of ${BOB.name}`, exact: true }).waitFor();
  await pollUntil(ada, async (name) => {
    const office = /** @type {any} */ (window).bureau.office;
    const bobs = [...office.presence.values()].find((p) => p.name === name);
    return Boolean(bobs && !bobs.out_of_office && !bobs.away_until);
  }, BOB.name);
  assert.deepEqual(browsers.map((b) => b.errors), [[], [], []]);
});

test('without a deputy: the knock is disabled and, tried anyway, only tells that nobody stands in', LONG, async () => {
  const today = isoDay(Date.now());
  const [startsAt, endsAt] = [dayStart(today), dayStart(today, 1)];
  const created = await apiFromPage(bob, 'POST', '/api/absences', { kind: 'training', starts_at: startsAt, ends_at: endsAt });
  assert.equal(created.status, 201);
  const { last } = await wording(ada, startsAt, endsAt);
  await officeOf(ada, BOB.name).locator('.room-away').filter({ hasText: `Away until ${last}` }).filter({ hasText: 'Nobody stands in' }).waitFor({ timeout: 0 });
  const knock = officeOf(ada, BOB.name).getByRole('button', { name: `Knock on the door of ${BOB.name} (nobody stands in)` });
  assert.equal(await knock.isDisabled(), true);
  // A page that has not heard of the absence yet still knocks: the server's answer is shown.
  await ada.evaluate((id) => /** @type {any} */ (window).bureau.office.ring(id), created.body.user_id);
  await ada.locator('#stage .outgoing').getByText(`${BOB.name} is away until ${last}. Nobody stands in.`).waitFor({ timeout: 0 });
  assert.equal(await bob.getByRole('dialog', { name: 'Incoming call' }).count(), 0);
  // Like every outcome of a knock, the notice goes by itself (or with Dismiss).
  await ada.locator('#stage').waitFor({ state: 'hidden', timeout: 0 });
  assert.equal((await apiFromPage(bob, 'DELETE', `/api/absences/${created.body.id}`)).status, 204);
  await officeOf(ada, BOB.name).locator('.room-away').waitFor({ state: 'detached', timeout: 0 });
  assert.deepEqual(browsers.map((b) => b.errors), [[], [], []]);
});

test('Bob does not want to be disturbed and chose Cleo as deputy: Ada\'s knock rings Cleo, and Ada is told so', LONG, async () => {
  // The deputy is chosen with "Out of office", as the presence dialog offers it.
  await setPresence(bob, { status: 'dnd', outOfOffice: true, deputy: CLEO.name });
  await waitPresence(ada, BOB.name, 'dnd');
  await officeOf(ada, BOB.name).getByRole('button', { name: `Knock on the door of ${BOB.name}`, exact: true }).click();
  await ada.locator('#stage .outgoing').getByText(`${BOB.name} does not want to be disturbed: ringing their deputy, ${CLEO.name}…`).waitFor();
  const ring = cleo.getByRole('dialog', { name: 'Incoming call' });
  await ring.waitFor();
  assert.equal(await bob.getByRole('dialog', { name: 'Incoming call' }).count(), 0, 'nothing rings for Bob');
  await ring.getByRole('button', { name: 'Decline' }).click();
  await ada.locator('#stage .outgoing').getByText(`${CLEO.name} declined the call.`).waitFor();
  await setPresence(bob, { status: 'online', outOfOffice: false });
  await waitPresence(ada, BOB.name, 'online');
  assert.deepEqual(browsers.map((b) => b.errors), [[], [], []]);
});

test('an administrator may enter absences for colleagues: the form has "For"', LONG, async () => {
  // Ada's page still knows the organisation as it was when she signed in (entry mode).
  await ada.reload();
  await ada.waitForFunction(() => /** @type {any} */ (window).bureau?.signal?.status?.state === 'open', null, { timeout: 0 });
  await (await absencesMenuItem(ada)).click();
  await ada.waitForURL('**/absences');
  const form = ada.getByRole('form', { name: 'Enter an absence' });
  await form.getByLabel('For', { exact: true }).selectOption({ label: BOB.name });
  // The deputy is someone other than the absent person.
  const deputies = await form.getByLabel('Deputy').locator('option').allTextContents();
  assert.ok(!deputies.includes(BOB.name) && deputies.includes(`${ADA.name} (you)`), deputies.join(', '));
});
