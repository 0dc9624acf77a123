// Security training in a real browser, on a phone-sized screen: a new clinician is told
// to train before opening records, takes a lesson (retrying the questions they got
// wrong), acknowledges the practice policy, and the administrator sees the progress.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, watchedPage } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { setUpPractice, invite, addAuthenticator } from '../lib/flows.mjs';

let browser;
let server;

before(async () => {
  browser = await launch();
  // The training gate is on by default; the other browser tests turn it off.
  server = await startServer([], { TW_TRAINING__REQUIRED_BEFORE_RECORDS: 'true' });
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

/** No sideways scrolling on a phone. */
async function fitsTheScreen(page) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width + 1, `the page fits a phone screen (${scroll} > ${width})`);
}

test(`a new clinician trains before opening records (${process.env.E2E_DATABASE || 'sqlite'})`, async () => {
  const admin = await setUpPractice(browser, server);
  const link = await invite(admin.page, server.origin, {
    name: 'Dr Imogen Achterberg', email: 'imogen@quenby.example', role: 'clinician',
  });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const { page, problems } = await watchedPage(context);
  await addAuthenticator(page);
  await page.goto(link);
  await page.getByRole('button', { name: 'Create my passkey' }).click();
  await page.waitForURL('**/account/security?welcome=1');

  // The home page says training comes first.
  await page.goto(`${server.origin}/`);
  const card = page.locator('[data-training]');
  await card.waitFor();
  assert.match(await card.innerText(), /before you open patient records/);
  await card.getByRole('link', { name: 'Open' }).click();
  await page.waitForSelector('h1:has-text("Security training")');
  await fitsTheScreen(page);
  const first = page.locator('ul.items li a').first();
  const title = await first.innerText();
  await first.click();
  await page.waitForSelector(`h1:has-text("${title}")`);
  await fitsTheScreen(page);

  // Answer, then change only the answers marked wrong, until passed (bounded).
  const questions = await page.locator('fieldset.quiz-question').count();
  assert.ok(questions >= 3 && questions <= 5, `${questions} questions`);
  const choice = new Array(questions).fill(0);
  let passed = false;
  for (let attempt = 0; attempt < 6 && !passed; attempt++) {
    for (let q = 0; q < questions; q++) {
      await page.locator('fieldset.quiz-question').nth(q).locator('input[type=radio]').nth(choice[q]).check();
    }
    await page.getByRole('button', { name: 'Check my answers' }).click();
    await page.waitForSelector('#result');
    passed = /^Passed/.test(await page.locator('#result h2').innerText());
    const marks = await page.locator('#result li .badge').allInnerTexts();
    marks.forEach((m, q) => { if (m !== 'right') choice[q] += 1; });
  }
  assert.ok(passed, 'the lesson is passed after correcting the wrong answers');
  await page.getByRole('link', { name: 'Back to your lessons' }).click();
  await page.waitForSelector('ul.items li .badge-pass');

  // The policy, acknowledged.
  await page.getByRole('link', { name: 'acceptable use and confidentiality policy' }).click();
  await page.getByRole('button', { name: 'I have read and will follow this policy' }).click();
  await page.waitForSelector('[role="status"]:has-text("You acknowledged version")');
  await fitsTheScreen(page);
  assert.deepEqual(problems, []);

  // The administrator sees one lesson done and the policy acknowledged.
  await admin.page.goto(`${server.origin}/training/staff`);
  const row = admin.page.locator('tr[data-staff="Dr Imogen Achterberg"]');
  await row.waitFor();
  const text = await row.innerText();
  assert.match(text, /1 of 5/);
  assert.match(text, /acknowledged/);
  const entries = server.auditEntries().map((e) => e.action);
  assert.ok(entries.includes('training.lesson_passed'));
  assert.ok(entries.includes('training.policy_acknowledged'));
});
