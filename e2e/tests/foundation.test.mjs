// The foundation in a real browser: first-run setup, sign-in and sign-out, done with the
// keyboard, on a phone-sized screen, under the strict Content-Security-Policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, watchedPage } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';

const ADMIN = { name: 'Rosalind Quenby', email: 'rosalind@quenby.example', password: 'kettle-harbour-mango-52' };

let browser;
let server;

before(async () => {
  browser = await launch();
  server = await startServer();
});

after(async () => {
  await browser?.close();
  const code = await server?.stop();
  assert.equal(code, 0, 'telewarden exits cleanly on SIGTERM');
});

test('first-run setup: mistakes are explained, then it works with the keyboard alone', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(server.setupLink);
  assert.equal(await page.title(), 'Set up Telewarden · Telewarden');

  // Every field is reachable by its label.
  await page.getByLabel('Practice name').fill('Quenby Street Medical');
  await page.getByLabel('Time zone').selectOption('Australia/Perth');
  await page.getByLabel('Your name').fill(ADMIN.name);
  await page.getByLabel('E-mail address').fill(ADMIN.email);
  await page.getByLabel('Password', { exact: true }).fill('too short');
  await page.getByLabel('Type the password again').fill('too short');
  await page.keyboard.press('Enter');

  // The summary is announced and focused; the field says what is wrong.
  await page.waitForSelector('#form-summary');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'form-summary');
  assert.match(await page.locator('#password-error').innerText(), /at least 12 characters/);
  assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
  // What was typed is kept (except passwords).
  assert.equal(await page.getByLabel('Your name').inputValue(), ADMIN.name);
  assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '');

  // Now only the keyboard: Tab from the password field to the confirmation, type, Enter.
  await page.getByLabel('Password', { exact: true }).focus();
  await page.keyboard.type(ADMIN.password);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'confirm');
  // Focus is visible.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none');
  await page.keyboard.type(ADMIN.password);
  // The page's ES module ran under the CSP: it confirms the match live.
  await page.waitForFunction(() => document.getElementById('confirm-status')?.textContent === 'The passwords match.');
  await page.keyboard.press('Enter');

  await page.waitForSelector('h1:has-text("is set up")');
  assert.match(await page.locator('h1').innerText(), /Quenby Street Medical is set up/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'tw_session');
  assert.ok(session, 'signed in after setup');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');

  // The link is dead now.
  const again = await page.goto(server.setupLink);
  assert.equal(again.status(), 409);
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  await context.close();
});

test('sign in and out; a wrong password is explained', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await page.goto(`${server.origin}/`);
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.getByLabel('E-mail address').fill(ADMIN.email);
  await page.getByLabel('Password', { exact: true }).fill('not the right one at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector('[role="alert"]');
  assert.match(await page.getByRole('alert').innerText(), /do not match an account/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'form-error');

  // "Show password" is a real toggle.
  const field = page.getByLabel('Password', { exact: true });
  await field.fill(ADMIN.password);
  await page.getByRole('button', { name: 'Show password' }).click();
  assert.equal(await field.getAttribute('type'), 'text');
  await page.getByRole('button', { name: 'Hide password' }).click();
  assert.equal(await field.getAttribute('type'), 'password');

  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForSelector(`h1:has-text("Welcome, ${ADMIN.name}")`);
  assert.match(await page.locator('header').innerText(), /Signed in as/);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('a.button:has-text("Sign in")');
  assert.deepEqual(problems, []);
  await context.close();
});

test('readable and usable on a phone-sized screen', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const { page, problems } = await watchedPage(context);
  for (const path of ['/', '/sign-in', '/nowhere']) {
    await page.goto(`${server.origin}${path}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path}: scrolls sideways by ${overflow}px`);
    const fontSize = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
    assert.ok(fontSize >= 18, `${path}: base font ${fontSize}px`);
    // Every control is a comfortable touch target.
    const small = await page.evaluate(() => [...document.querySelectorAll('a.button, button:not([hidden]), input, select')]
      .filter((el) => el.offsetParent !== null)
      .map((el) => [el.textContent?.trim() || el.id, el.getBoundingClientRect().height])
      .filter(([, h]) => h < 44));
    assert.deepEqual(small, [], `${path}: touch targets under 44px`);
  }
  assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  await context.close();
});

test('a form posted from another site is refused', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // A page on a different origin (about:blank → Origin: null) posts to Telewarden.
  await page.setContent(`<form method="post" action="${server.origin}/sign-in">
    <input name="email" value="${ADMIN.email}"><input name="password" value="${ADMIN.password}">
    <button>go</button></form>`);
  const [response] = await Promise.all([page.waitForNavigation(), page.click('button')]);
  assert.equal(response.status(), 403);
  assert.match(await page.locator('main').innerText(), /did not come from Telewarden's own pages/);
  await context.close();
});
