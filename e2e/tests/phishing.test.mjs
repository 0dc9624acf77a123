// A phishing simulation in a real browser: the security officer turns simulations on and
// sends a campaign; a staff member opens the lure from the outbox, clicks into the
// landing page, types a password and submits. The click and the submission are counted,
// and what was typed is nowhere: not in the data directory (database, WAL, outbox,
// ledger), not in the server's logs, not in the audit export.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { setUpPractice, invite } from '../lib/flows.mjs';
import { enrolWithPasskey } from '../lib/consult.mjs';

const CANARY = 'Tr0ub4dor&3-canary-5521';
const STAFF = { name: 'Dr Ana Lee', email: 'ana.lee@quenby.example', role: 'clinician' };
// A person's browser: the click rule (rightly) ignores user agents that say "headless".
const DESKTOP_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

let browser;
let server;

before(async () => {
  browser = await launch();
  server = await startServer();
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

/** Every regular file under `dir`, recursively (not the control socket). */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) return files(path);
    return st.isFile() ? [path] : [];
  });
}

/** A mail's text with quoted-printable soft breaks and `=3D` undone. */
const plain = (mail) => mail.replace(/=\r?\n/g, '').replace(/=3D/g, '=');

test(`what a staff member types on a simulated phishing page is kept nowhere (${process.env.E2E_DATABASE || 'sqlite'})`, async () => {
  const admin = await setUpPractice(browser, server);
  const officerLink = await invite(admin.page, server.origin, {
    name: 'Sello Mokoena', email: 'sello@quenby.example', role: 'security_officer',
  });
  await invite(admin.page, server.origin, STAFF);
  await admin.context.close();
  const { page: officer } = await enrolWithPasskey(browser, officerLink);

  // The officer turns simulations on and sends a built-in lure to all staff.
  await officer.getByRole('link', { name: 'Simulations' }).click();
  await officer.waitForSelector('h1:has-text("Phishing simulations")');
  await officer.getByRole('button', { name: 'Turn simulations on' }).click();
  await officer.getByLabel('Campaign name').fill('Consult link drill');
  await officer.getByLabel('Lure').selectOption('fake-consult-link');
  await officer.getByRole('button', { name: 'Create the campaign' }).click();
  await officer.waitForSelector('h1:has-text("Consult link drill")');
  const campaign = officer.url().split('/').pop();
  const sentAt = Date.now();

  // The lure, from the outbox.
  const mails = files(server.dir).filter((f) => f.endsWith('.eml')).map((f) => plain(readFileSync(f, 'utf8')));
  const lure = mails.find((m) => m.includes(STAFF.email) && m.includes('Your patient is waiting'));
  assert.ok(lure, 'the staff member got the lure');
  const link = lure.match(/http:\/\/[^\s"<]+\/t\/[0-9a-f]+\/[0-9a-f]+\/[0-9a-f]+/)[0];

  // A person reads before clicking; the click rule ignores the first seconds after
  // delivery, when mail scanners open links.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, 11_000 - (Date.now() - sentAt))));
  const context = await browser.newContext({ userAgent: DESKTOP_CHROME });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  await page.goto(link);
  await page.getByLabel('Password').click();
  await page.getByLabel('Password').pressSequentially(CANARY);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForSelector('h1:has-text("Nothing you typed was sent")');
  assert.match(await page.content(), /not used for discipline/);
  await context.close();
  assert.deepEqual(problems, []);

  // Counted: one click (the beacon), one submission.
  const res = await officer.request.get(`${server.origin}/training/simulations/${campaign}/metrics.json`);
  const figures = await res.json();
  assert.equal(figures.metrics.click_rate.count, 1, JSON.stringify(figures));
  assert.equal(figures.metrics.submission_rate.count, 1);

  // And what was typed is nowhere.
  const needle = Buffer.from(CANARY);
  for (const f of files(server.dir)) {
    assert.equal(readFileSync(f).indexOf(needle), -1, `${f} holds what was typed`);
  }
  assert.ok(!server.logs().includes(CANARY), 'the logs hold what was typed');
  const audit = server.auditEntries();
  assert.ok(audit.some((e) => e.action === 'training.simulation_event'));
  assert.ok(!JSON.stringify(audit).includes(CANARY), 'the audit export holds what was typed');
});
