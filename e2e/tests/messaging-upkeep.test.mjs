// Living with the messages page: history survives a reload (kept encrypted in
// IndexedDB, never as plaintext), a clinician's second browser is added by a member's
// sync, a clinician taken off the care team is removed by the patient's browser (so
// sending works again and the removed browsers read nothing after), and each member's
// key is checked against the practice's key log (a tampered proof shows a warning).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { invite, setUpPractice } from '../lib/flows.mjs';
import { CLINICIAN, PATIENT, enrolWithPasskey } from '../lib/consult.mjs';
import {
  addToCareTeam, enrolKeepingPasskey, openConversation, openMessages, sendMessage, signInElsewhere,
  startArchive, startWithCareTeam, storedBytes, takeOffCareTeam, waitForMessage,
} from '../lib/messaging.mjs';

let browser;
let server;
let archive;

before(async () => {
  browser = await launch();
  server = await startServer();
});

after(async () => {
  archive?.stop();
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

const FIRST = 'Is the new dose right? canary 51fe-Quokka';
const ANSWER = 'Yes, keep going, canary 3c9d-Numbat';
const FILE_TEXT = 'blood pressure log canary 0a7e-Wombat';
const FILE = { name: 'bp-log.txt', mimeType: 'text/plain', buffer: Buffer.from(FILE_TEXT) };
const RETRIED = 'Sent again after a conflict, canary 2b8f-Potoroo';
const TO_BOTH = 'Both your browsers see this, canary 6d21-Dingo';
const AFTER_REMOVAL = 'Only the team now, canary e947-Bandicoot';

const db = process.env.E2E_DATABASE || 'sqlite';
let admin;
let clinician;
let patient;
let second;

/** A route handler that rewrites each key proof to log another key for the device. */
async function tamperedProof(route) {
  const res = await route.fetch();
  const proof = await res.json();
  const details = JSON.parse(proof.entry.details);
  details.signature_key = 'ab'.repeat(32);
  proof.entry.details = JSON.stringify(details);
  await route.fulfill({ response: res, json: proof });
}

async function reopen(page) {
  await page.reload();
  await page.waitForSelector('[data-messaging][data-ready="yes"]', { timeout: 30_000 });
  await openConversation(page);
}

test(`messages survive a reload, stored only encrypted; each member's key is checked against the key log (${db})`, async () => {
  admin = await setUpPractice(browser, server);
  archive = await startArchive(admin.context, server.origin);
  const clinicianLink = await invite(admin.page, server.origin, { ...CLINICIAN, role: 'clinician' });
  const patientLink = await invite(admin.page, server.origin, { ...PATIENT, role: 'patient' });
  clinician = await enrolKeepingPasskey(browser, clinicianLink);
  patient = await enrolWithPasskey(browser, patientLink);
  await addToCareTeam(admin.page, server.origin, PATIENT.name, CLINICIAN.name);

  await openMessages(clinician.page, server.origin);
  await openMessages(patient.page, server.origin);
  // Joining by the Welcome used one of the clinician's 20 key packages: the page tops
  // the supply up again (the server answers with the free count).
  const topUp = clinician.page.waitForResponse((r) => r.url().endsWith('/key-packages') && r.request().method() === 'POST', { timeout: 20_000 });
  topUp.catch(() => {}); // awaited below; not an unhandled rejection if an earlier step fails
  await startWithCareTeam(patient.page);
  await sendMessage(patient.page, FIRST);
  await openConversation(clinician.page);
  await waitForMessage(clinician.page, FIRST);
  const toppedUp = await topUp;
  assert.equal(toppedUp.status(), 200);
  assert.equal((await toppedUp.json()).free, 20, 'back to 20 free key packages');
  await sendMessage(clinician.page, ANSWER);
  await waitForMessage(patient.page, ANSWER);
  await patient.page.getByLabel('Attach a file').setInputFiles(FILE);
  await sendMessage(patient.page, 'My log');
  await clinician.page.getByRole('button', { name: `Download ${FILE.name}` }).waitFor({ timeout: 20_000 });

  // A send the server refuses because a commit moved the conversation on meanwhile
  // (409) is not lost: the page catches up, encrypts again and sends again.
  const posted = [];
  const sends = '**/api/messaging/conversations/*/messages';
  await patient.page.route(sends, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    posted.push(route.request().postDataJSON().message);
    if (posted.length === 1) {
      return route.fulfill({ status: 409, json: { code: 'conflict', message: 'The conversation has moved on: fetch the latest changes, then try again.' } });
    }
    return route.continue();
  });
  await sendMessage(patient.page, RETRIED);
  await waitForMessage(clinician.page, RETRIED);
  await patient.page.unroute(sends);
  assert.equal(posted.length, 2, 'sent once more after the 409');
  assert.notEqual(posted[0], posted[1], 'encrypted again, not replayed');

  // Key transparency: every other member's key is proven against the signed key log.
  await patient.page.getByText('Verify', { exact: true }).click();
  await patient.page.locator('[data-key-logged]').nth(1).waitFor({ timeout: 20_000 }); // clinician and archive
  assert.equal(await patient.page.locator('[data-key-logged]').count(), 2);
  assert.equal(await patient.page.locator('[data-key-warning]').isHidden(), true, await patient.page.locator('[data-key-warning]').innerText());

  // History after a reload: the messages (and the file's download button) are still
  // there, decrypted from IndexedDB, where no plaintext is kept.
  await reopen(patient.page);
  await waitForMessage(patient.page, FIRST);
  await waitForMessage(patient.page, ANSWER);
  const download = patient.page.getByRole('button', { name: `Download ${FILE.name}` });
  await download.waitFor();
  const [saved] = await Promise.all([patient.page.waitForEvent('download'), download.click()]);
  assert.equal(saved.suggestedFilename(), FILE.name);
  assert.equal(readFileSync(await saved.path()).toString(), FILE_TEXT, 'the file key survived the reload');
  const stored = await storedBytes(patient.page);
  assert.ok(Object.keys(stored).some((k) => k.startsWith('history:')), 'the history is stored');
  for (const [key, bytes] of Object.entries(stored)) {
    for (const secret of [FIRST, ANSWER, FILE_TEXT, FILE.name, 'My log', RETRIED]) {
      assert.ok(!bytes.includes(Buffer.from(secret)), `IndexedDB ${key} holds "${secret}" in plaintext`);
    }
  }

  // A tampered proof (the log names another key for the device) is not accepted: with
  // what this browser had proven forgotten, every key shows the warning instead.
  await patient.page.route('**/api/messaging/devices/*/key-proof', tamperedProof);
  await patient.page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('telewarden-messaging');
    req.onsuccess = () => {
      const tx = req.result.transaction('kv', 'readwrite');
      tx.objectStore('kv').delete('keylog');
      tx.oncomplete = () => { req.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }));
  await reopen(patient.page);
  const warning = patient.page.locator('[data-key-warning]');
  await warning.filter({ hasText: `${CLINICIAN.name}'s key is not in the practice's key log` }).waitFor({ timeout: 20_000 });
  assert.match(await warning.innerText(), /the logged key differs from the key in this conversation/);
  await patient.page.getByText('Verify', { exact: true }).click();
  assert.equal(await patient.page.locator('[data-key-logged]').count(), 0, 'no key is shown as logged');
  // The genuine proofs again: logged.
  await patient.page.unroute('**/api/messaging/devices/*/key-proof', tamperedProof);
  await reopen(patient.page);
  await patient.page.getByText('Verify', { exact: true }).click();
  await patient.page.locator('[data-key-logged]').nth(1).waitFor({ timeout: 20_000 });
  assert.equal(await warning.isHidden(), true, await warning.innerText());
});

test(`a member's sync adds the clinician's second browser (${db})`, async () => {
  // A fresh sign-in with their passkey in another browser context registers a device.
  second = await signInElsewhere(browser, server.origin, clinician.authenticator, CLINICIAN.name);
  await openMessages(second.page, server.origin);
  // The server lists it among the conversation's missing devices; the patient's next
  // message syncs first (adding it), so the new browser reads that message.
  await sendMessage(patient.page, TO_BOTH);
  await openConversation(second.page);
  await waitForMessage(second.page, TO_BOTH);
  await waitForMessage(clinician.page, TO_BOTH);
  assert.equal(await second.page.locator('[data-error]').isHidden(), true, await second.page.locator('[data-error]').innerText());
  // The patient's browser proves the new device's key too.
  await reopen(patient.page);
  await patient.page.getByText('Verify', { exact: true }).click();
  await patient.page.locator('[data-key-logged]').nth(1).waitFor({ timeout: 20_000 });
  assert.equal(await patient.page.locator('[data-key-warning]').isHidden(), true, await patient.page.locator('[data-key-warning]').innerText());
});

test(`the patient's browser removes a clinician taken off the care team, who reads nothing after (${db})`, async () => {
  // Sending is paused until a member commits the removal; the patient's browser does
  // that on its own when it syncs (here: on opening the page).
  await takeOffCareTeam(admin.page, server.origin, PATIENT.name, CLINICIAN.name);
  await patient.page.reload();
  await patient.page.waitForSelector('[data-messaging][data-ready="yes"]');
  await patient.page.locator('[data-conversations] li').filter({ hasNotText: CLINICIAN.name }).waitFor({ timeout: 20_000 });
  await openConversation(patient.page);
  assert.equal(await patient.page.locator('[data-blocked]').isHidden(), true, 'sending is not paused');
  await sendMessage(patient.page, AFTER_REMOVAL);
  assert.equal(await patient.page.locator('[data-error]').isHidden(), true, await patient.page.locator('[data-error]').innerText());
  const fromUser = (text) => (e) => e.event === 'message' && e.text === text;
  await archive.waitFor(fromUser(AFTER_REMOVAL));

  // None of the clinician's browsers can read it: the server refuses them the
  // conversation's messages, and the pages (synced again) no longer list it.
  const conversation = await patient.page.locator('[data-messaging]').getAttribute('data-open-conversation');
  for (const page of [clinician.page, second?.page].filter(Boolean)) {
    await page.reload();
    await page.waitForSelector('[data-messaging][data-ready="yes"]');
    await page.locator('[data-empty]:not([hidden])').waitFor({ timeout: 20_000 });
    assert.equal(await page.getByText(AFTER_REMOVAL).count(), 0);
    const status = await page.evaluate(async (id) => {
      const device = document.querySelector('[data-messaging]').dataset.device;
      return (await fetch(`/api/messaging/conversations/${id}/messages?device=${device}&from=0`)).status;
    }, conversation);
    assert.equal(status, 403, 'the removed browser may not read the conversation');
  }

  assert.deepEqual(patient.problems, []);
  assert.deepEqual(clinician.problems, []);
  assert.deepEqual(second?.problems || [], []);
});
