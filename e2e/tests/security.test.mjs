// The security officer's dashboard in a real browser, with the sentinel enforcing: a
// scanner on another loopback address is blocked; the officer sees the alert, the live
// charts refresh by themselves, and the officer acknowledges and resolves the alert and
// lifts the block — while the officer's own browser is never refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { setUpPractice, invite } from '../lib/flows.mjs';
import { enrolWithPasskey } from '../lib/consult.mjs';

const SCANNER = '127.0.0.23';

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

/** One GET from `localAddress`; resolves with the status (0 when the connection is refused). */
function getFrom(localAddress, path) {
  const url = new URL(path, server.origin);
  return new Promise((resolve) => {
    const req = http.get({
      host: url.hostname, port: url.port, path: url.pathname + url.search, localAddress,
      headers: { 'user-agent': 'Nikto/2.5.0', accept: '*/*' },
      agent: false,
    }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', () => resolve(0));
    req.setTimeout(5_000, () => { req.destroy(); resolve(0); });
  });
}

test(`the security officer sees, answers and lifts a scanner's block (${process.env.E2E_DATABASE || 'sqlite'})`, async () => {
  const admin = await setUpPractice(browser, server);
  const link = await invite(admin.page, server.origin, {
    name: 'Sello Mokoena', email: 'sello@quenby.example', role: 'security_officer',
  });
  await admin.context.close();
  const officer = await enrolWithPasskey(browser, link);
  const page = officer.page;

  // A scanner probes from another address until it is refused (bounded).
  const probes = ['/.env', '/.git/config', '/wp-admin/install.php', '/phpmyadmin/index.php',
    "/fhir/Patient?name=%27%20OR%201%3D1--", '/static/..%2f..%2fetc%2fpasswd'];
  let refusedAfter = null;
  for (let i = 0; i < 40 && refusedAfter === null; i++) {
    const status = await getFrom(SCANNER, probes[i % probes.length]);
    if (status === 403 || status === 0) refusedAfter = i + 1;
  }
  assert.ok(refusedAfter !== null && refusedAfter <= 20, `the scanner is refused (after ${refusedAfter})`);

  await page.goto(`${server.origin}/security`);
  await page.waitForSelector('h1:has-text("Security")');
  const alert = page.locator('[data-alert]', { hasText: SCANNER }).first();
  await alert.waitFor();
  assert.match(await alert.innerText(), /probe/);
  assert.equal(await page.locator('[data-chart] polyline').count(), 4, 'four live charts');
  // The charts refresh from the server by themselves (every 10 seconds).
  await page.waitForSelector('#charts-status:has-text("Updated at")', { timeout: 15_000 });

  await alert.getByRole('button', { name: 'Acknowledge' }).click();
  await page.waitForSelector('[role="status"]:has-text("Alert acknowledged.")');
  const acknowledged = page.locator('[data-alert][data-state="acknowledged"]', { hasText: SCANNER }).first();
  await acknowledged.getByLabel('What you found or did').fill('A scanner on a test address; left blocked.');
  await acknowledged.getByRole('button', { name: 'Resolve' }).click();
  await page.waitForSelector('[role="status"]:has-text("Alert resolved.")');

  await page.getByRole('button', { name: 'Unblock' }).first().click();
  await page.waitForSelector(`[role="status"]:has-text("${SCANNER} is no longer blocked.")`);
  assert.equal(await getFrom(SCANNER, '/sign-in'), 200, 'served again once unblocked');

  await page.goto(`${server.origin}/security/health`);
  await page.waitForSelector('h1:has-text("Security health")');
  assert.deepEqual(officer.problems, [], 'no console errors, exceptions or CSP violations');
});
