// Identity in a real browser: passkeys through Chromium's virtual authenticator,
// a clinician's password and authenticator app, recovery codes, sessions and step-up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch, watchedPage } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { ADMIN, addAuthenticator, invite, setUpPractice, totp } from '../lib/flows.mjs';

const CLINICIAN = { name: 'Dr Amara Osei', email: 'amara.osei@quenby.example', password: 'lighthouse walrus tangerine 9' };
// A short step-up window, so the tests can wait it out.
const STEP_UP_SECONDS = 3;

let browser;
let server;
let admin;

before(async () => {
  browser = await launch();
  server = await startServer([], { TW_SESSIONS__STEP_UP_SECONDS: String(STEP_UP_SECONDS) });
  admin = await setUpPractice(browser, server);
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

const signOut = async (page) => {
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForSelector('a.button:has-text("Sign in")');
};

/** Opens the "password instead" part of a page, unless it is open already. */
async function openAlternative(page) {
  const details = page.locator('details.alternative');
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
}

/** Waits until the step-up window has passed. */
const letStepUpExpire = () => sleep((STEP_UP_SECONDS + 1) * 1000);

/** Waits for the next 30-second TOTP step, so a fresh code exists. */
const nextTotpStep = () => sleep(30_000 - (Date.now() % 30_000) + 500);

/** How many `signin.passkey` entries with this outcome the ledger holds. */
const passkeySignIns = (outcome) =>
  server.auditEntries().filter((e) => e.action === 'signin.passkey' && e.outcome === outcome).length;

test(`passkeys: sign in without typing a name, keep several, remove one after step-up (${process.env.E2E_DATABASE || 'sqlite'})`, async () => {
  const { page } = admin;
  await signOut(page);
  await page.goto(`${server.origin}/sign-in`);
  // The genuine answer the page sends for the passkey is kept, to be sent again below.
  const finishing = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/sign-in/passkey/finish'));
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  const genuine = (await finishing).postDataJSON();
  await page.waitForSelector(`h1:has-text("Welcome, ${ADMIN.name}")`);

  // Replayed, and answered to a freshly started ceremony (a different challenge): both
  // refused with a clear 400, each written to the ledger as a failed passkey sign-in.
  const post = (path, data) => page.request.post(`${server.origin}${path}`, {
    data,
    headers: { origin: server.origin, accept: 'application/json' },
    failOnStatusCode: false,
  });
  const failuresBefore = passkeySignIns('failure');
  const successesBefore = passkeySignIns('success');
  const replay = await post('/api/sign-in/passkey/finish', genuine);
  assert.equal(replay.status(), 400, 'a replayed answer is refused');
  const replayed = await replay.json();
  assert.equal(replayed.code, 'passkey-refused');
  assert.match(replayed.message, /expired or was already used\. Please start again\./);
  assert.equal(passkeySignIns('failure'), failuresBefore + 1, 'the replay is in the ledger');

  const fresh = await post('/api/sign-in/passkey/start', {});
  assert.equal(fresh.status(), 200);
  const { ceremony_id: freshCeremony } = await fresh.json();
  assert.notEqual(freshCeremony, genuine.ceremony_id);
  const wrong = await post('/api/sign-in/passkey/finish', { ...genuine, ceremony_id: freshCeremony });
  assert.equal(wrong.status(), 400, 'an answer to another challenge is refused');
  const mismatched = await wrong.json();
  assert.equal(mismatched.code, 'passkey-refused');
  assert.match(mismatched.message, /could not be accepted\. Please try again\./);
  assert.equal(passkeySignIns('failure'), failuresBefore + 2, 'the wrong challenge is in the ledger');
  assert.equal(passkeySignIns('success'), successesBefore, 'neither signed anyone in');
  // And the same again, once more each: every attempt is recorded, nothing is let in.
  assert.equal((await post('/api/sign-in/passkey/finish', genuine)).status(), 400);
  assert.equal((await post('/api/sign-in/passkey/finish', { ...genuine, ceremony_id: freshCeremony })).status(), 400);
  assert.equal(passkeySignIns('failure'), failuresBefore + 4);
  assert.equal(passkeySignIns('success'), successesBefore);

  // A second passkey on another device (a second virtual authenticator).
  await admin.authenticator.remove();
  const spare = await addAuthenticator(page);
  await page.goto(`${server.origin}/account/security`);
  await page.getByLabel('Name for a new passkey').fill('Spare key');
  await page.getByRole('button', { name: 'Add a passkey on this device' }).click();
  await page.waitForURL('**/account/security?done=passkey-added');
  assert.match(await page.getByRole('status').first().innerText(), /new passkey is ready/);
  assert.equal((await spare.credentials()).length, 1, 'created as a discoverable credential');
  assert.equal((await spare.credentials())[0].isResidentCredential, true);

  // Named and renamable.
  await page.getByLabel('New name for Spare key').fill('Backup key');
  await page.getByRole('button', { name: 'Rename' }).nth(1).click();
  await page.waitForURL('**done=passkey-renamed');
  assert.match(await page.locator('main').innerText(), /Backup key/);

  // Removing one is sensitive: after the window, the dialog asks first.
  await letStepUpExpire();
  await page.getByRole('button', { name: 'Remove Front desk laptop' }).click();
  const dialog = page.locator('dialog#step-up');
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await dialog.locator('[data-step-up-password]').isVisible(), false, 'no password for an administrator');
  await dialog.getByRole('button', { name: 'Use my passkey' }).click();
  await page.waitForURL('**done=passkey-removed');
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text, /Front desk laptop/);
  assert.match(text, /Backup key/);

  // The remaining passkey still signs in.
  await signOut(page);
  await page.goto(`${server.origin}/sign-in`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForSelector(`h1:has-text("Welcome, ${ADMIN.name}")`);
  admin.authenticator = spare;
});

test('a clinician enrols with a password and an authenticator app, signs in with a code, and with a recovery code', async () => {
  const link = await invite(admin.page, server.origin, { ...CLINICIAN, role: 'clinician' });
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(link);
  await openAlternative(page);
  await page.getByLabel('Password', { exact: true }).fill('password1234');
  await page.getByLabel('Type the password again').fill('password1234');
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.match(await page.getByRole('alert').innerText(), /common/, 'a common password is refused, in words');

  await openAlternative(page);
  await page.getByLabel('Password', { exact: true }).fill(CLINICIAN.password);
  await page.getByLabel('Type the password again').fill(CLINICIAN.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL('**/account/second-factor');
  assert.match(await page.locator('main').innerText(), /needs a second step/);
  assert.equal(await page.locator('.qr svg[role="img"]').count(), 1, 'a QR code to scan');
  const secret = (await page.locator('code.secret').innerText()).replace(/\s/g, '');
  await page.getByLabel('6-digit code', { exact: true }).fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.waitForSelector('[data-recovery-codes]');
  const codes = await page.locator('[data-recovery-codes] code').allInnerTexts();
  assert.equal(codes.length, 10);

  // Sign out, then in: password, then the next code from the app.
  await signOut(page);
  await page.goto(`${server.origin}/sign-in`);
  await openAlternative(page);
  await page.getByLabel('E-mail address').fill(CLINICIAN.email);
  await page.getByLabel('Password', { exact: true }).fill(CLINICIAN.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL('**/sign-in/code');
  await page.getByLabel('6-digit code', { exact: true }).fill(totp(secret, Date.now() / 1000 + 30));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector(`h1:has-text("Welcome, ${CLINICIAN.name}")`);

  // A second browser signs in with a recovery code instead of the phone.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await otherPage.goto(`${server.origin}/sign-in`);
  await openAlternative(otherPage);
  await otherPage.getByLabel('E-mail address').fill(CLINICIAN.email);
  await otherPage.getByLabel('Password', { exact: true }).fill(CLINICIAN.password);
  await otherPage.getByRole('button', { name: 'Continue' }).click();
  await otherPage.getByText('No phone? Use a recovery code.').click();
  await otherPage.getByLabel('Recovery code').fill(codes[0].toLowerCase().replaceAll('-', ' '));
  await otherPage.getByRole('button', { name: 'Sign in' }).click();
  await otherPage.waitForURL('**/account/security');
  assert.match(await otherPage.locator('main').innerText(), /recovery code was used/);
  assert.match(await otherPage.locator('main').innerText(), /9 unused recovery codes/);

  // Sessions: from the second browser, sign the first one out.
  const otherSessions = otherPage.locator('section[aria-labelledby="sessions-title"] li');
  assert.equal(await otherSessions.count(), 2);
  await otherPage.getByRole('button', { name: /^Sign out Chrome on / }).click();
  await otherPage.waitForURL('**done=session-revoked');
  await page.goto(`${server.origin}/account/security`);
  await page.waitForURL('**/sign-in');

  // Step-up with password and code, in the dialog, resumes the action.
  await nextTotpStep();
  await letStepUpExpire();
  await otherPage.getByRole('button', { name: 'Make new recovery codes' }).click();
  const dialog = otherPage.locator('dialog#step-up');
  await dialog.waitFor({ state: 'visible' });
  assert.equal(await dialog.getByRole('button', { name: 'Use my passkey' }).isVisible(), false);
  await dialog.getByLabel('Password').fill(CLINICIAN.password);
  await dialog.getByLabel('6-digit code from your authenticator app').fill('000000');
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await dialog.locator('[data-step-up-error]').waitFor({ state: 'visible' });
  await dialog.getByLabel('6-digit code from your authenticator app').fill(totp(secret, Date.now() / 1000 + 30));
  await dialog.getByRole('button', { name: 'Confirm' }).click();
  await otherPage.waitForSelector('h2:has-text("Your new recovery codes")');
  const fresh = await otherPage.locator('[data-recovery-codes] code').allInnerTexts();
  assert.equal(fresh.length, 10);
  assert.notDeepEqual(fresh, codes);

  assert.deepEqual(problems, []);
  await context.close();
  await other.close();
});

test('the administrator manages people: sees sign-in methods, ends sessions, changes settings after step-up', async () => {
  const { page } = admin;
  await page.goto(`${server.origin}/people`);
  const row = page.locator('tr', { hasText: CLINICIAN.name });
  assert.match(await row.innerText(), /password and app code/);
  assert.match(await page.locator('tr', { hasText: ADMIN.name }).innerText(), /1 passkey/);
  await row.getByRole('link').click();
  await page.getByRole('button', { name: 'Sign them out everywhere' }).click();
  await page.waitForURL('**done=revoked');

  await letStepUpExpire();
  await page.goto(`${server.origin}/settings`);
  await page.getByLabel('Patients may create their own accounts').check();
  await page.getByRole('button', { name: 'Save' }).click();
  const dialog = page.locator('dialog#step-up');
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByRole('button', { name: 'Use my passkey' }).click();
  await page.waitForURL('**done=settings');
  assert.equal(await page.getByLabel('Patients may create their own accounts').isChecked(), true);
  // Patients can now find the registration page.
  const visitor = await browser.newPage();
  await visitor.goto(`${server.origin}/sign-in`);
  assert.equal(await visitor.getByRole('link', { name: 'Create an account' }).count(), 1);
  await visitor.close();
});
