// The foundation in a real browser: first-run setup done with the keyboard, on a
// phone-sized screen, under the strict Content-Security-Policy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, watchedPage } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { ADMIN, PRACTICE, addAuthenticator } from '../lib/flows.mjs';

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

test('first-run setup: mistakes are explained, then keyboard alone finishes it with a passkey', async () => {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await addAuthenticator(page);
  await page.goto(server.setupLink);
  assert.equal(await page.title(), 'Set up Telewarden · Telewarden');

  // Every field is reachable by its label.
  await page.getByLabel('Practice name').fill(PRACTICE);
  await page.getByLabel('Time zone').selectOption('Australia/Perth');
  await page.getByLabel('E-mail address').fill('not an address');
  await page.keyboard.press('Enter');

  // The summary is announced and focused; each field says what is wrong.
  await page.waitForSelector('#form-summary');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'form-summary');
  assert.match(await page.locator('#admin_name-error').innerText(), /enter your name/);
  assert.match(await page.locator('#email-error').innerText(), /e-mail address like/);
  assert.equal(await page.getByLabel('Your name').getAttribute('aria-invalid'), 'true');
  // What was typed is kept.
  assert.equal(await page.getByLabel('Practice name').inputValue(), PRACTICE);

  // Now only the keyboard: Tab through the fields, type, Enter.
  await page.getByLabel('Your name').focus();
  await page.keyboard.type(ADMIN.name);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'email');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  await page.keyboard.press('Control+A');
  await page.keyboard.type(ADMIN.email);
  await page.keyboard.press('Enter');

  // Straight into enrolment: a passkey, created with the keyboard.
  await page.waitForSelector(`h1:has-text("Welcome, ${ADMIN.name}")`);
  assert.match(await page.locator('main').innerText(), /Practice administrator/);
  assert.equal(await page.getByText('use a password').count(), 0, 'administrators use passkeys only');
  const create = page.getByRole('button', { name: 'Create my passkey' });
  await create.focus();
  await page.keyboard.press('Enter');
  await page.waitForURL('**/account/security?welcome=1');
  assert.equal(await page.locator('[data-recovery-codes] li').count(), 10);
  assert.match(await page.locator('main').innerText(), /Front desk|Chrome on Linux/);

  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'tw_session');
  assert.ok(session, 'signed in after enrolling');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Lax');

  // The setup link is dead now.
  const again = await page.goto(server.setupLink);
  assert.equal(again.status(), 409);
  assert.deepEqual(problems, [], 'no console errors or CSP violations');
  await context.close();
});

test('readable and usable on a phone-sized screen', async () => {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
  const { page, problems } = await watchedPage(context);
  for (const path of ['/', '/sign-in', '/sign-in/recovery', '/nowhere']) {
    await page.goto(`${server.origin}${path}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${path}: scrolls sideways by ${overflow}px`);
    const fontSize = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
    assert.ok(fontSize >= 18, `${path}: base font ${fontSize}px`);
    // Every control is a comfortable touch target.
    const small = await page.evaluate(() => [...document.querySelectorAll('a.button, button:not([hidden]), input, select, summary')]
      .filter((el) => el.offsetParent !== null)
      .map((el) => [el.textContent?.trim() || el.id, el.getBoundingClientRect().height])
      .filter(([, h]) => h < 44));
    assert.deepEqual(small, [], `${path}: touch targets under 44px`);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('a form posted from another site is refused', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  // A page on a different origin (about:blank → Origin: null) posts to Telewarden.
  await page.setContent(`<form method="post" action="${server.origin}/sign-in">
    <input name="email" value="${ADMIN.email}"><input name="password" value="whatever it is">
    <button>go</button></form>`);
  const [response] = await Promise.all([page.waitForNavigation(), page.click('button')]);
  assert.equal(response.status(), 403);
  assert.match(await page.locator('main').innerText(), /did not come from Telewarden's own pages/);
  await context.close();
});
