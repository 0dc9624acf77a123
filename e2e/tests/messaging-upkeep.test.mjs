// Living with the messages page: history survives a reload (kept encrypted in
// IndexedDB, never as plaintext), a clinician's second browser is added by a member's
// sync, a clinician taken off the care team is removed by the patient's browser (so
// sending works again and the removed browsers read nothing after), and each member's
// key is checked against the practice's key log (a tampered proof shows a warning).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { invite, setUpPractice } from '../lib/flows.mjs';
import { CLINICIAN, PATIENT, enrolWithPasskey } from '../lib/consult.mjs';
import {
  addToCareTeam, enrolKeepingPasskey, openConversation, openMessages, sendMessage, signInElsewhere,
  startArchive, storedBytes, takeOffCareTeam, waitForMessage,
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
const TO_BOTH = 'Both your browsers see this, canary 6d21-Dingo';
const AFTER_REMOVAL = 'Only the team now, canary e947-Bandicoot';

test(`history after a reload, membership upkeep in the browser, key log checks (${process.env.E2E_DATABASE || 'sqlite'})`, async () => {
  const admin = await setUpPractice(browser, server);
  archive = await startArchive(admin.context, server.origin);
  const clinicianLink = await invite(admin.page, server.origin, { ...CLINICIAN, role: 'clinician' });
  const patientLink = await invite(admin.page, server.origin, { ...PATIENT, role: 'patient' });
  const clinician = await enrolKeepingPasskey(browser, clinicianLink);
  const patient = await enrolWithPasskey(browser, patientLink);
  await addToCareTeam(admin.page, server.origin, PATIENT.name, CLINICIAN.name);

  await openMessages(clinician.page, server.origin);
  await openMessages(patient.page, server.origin);
  await patient.page.getByRole('button', { name: 'Message my care team' }).click();
  await patient.page.locator('[data-conversation]:not([hidden])').waitFor();
  await sendMessage(patient.page, FIRST);
  await openConversation(clinician.page);
  await waitForMessage(clinician.page, FIRST);
  await sendMessage(clinician.page, ANSWER);
  await waitForMessage(patient.page, ANSWER);
  await patient.page.getByLabel('Attach a file').setInputFiles(FILE);
  await sendMessage(patient.page, 'My log');
  await clinician.page.getByRole('button', { name: `Download ${FILE.name}` }).waitFor({ timeout: 20_000 });

  // Key transparency: every other member's key is proven against the signed key log.
  await patient.page.getByText('Verify', { exact: true }).click();
  await patient.page.locator(`[data-key-logged]`).nth(1).waitFor({ timeout: 20_000 }); // clinician and archive
  assert.equal(await patient.page.locator('[data-key-logged]').count(), 2);
  assert.equal(await patient.page.locator('[data-key-warning]').isHidden(), true, await patient.page.locator('[data-key-warning]').innerText());

  // History after a reload: the messages (and the file's download button) are still
  // there, decrypted from IndexedDB, where no plaintext is kept.
  await patient.page.reload();
  await patient.page.waitForSelector('[data-messaging][data-ready="yes"]');
  await openConversation(patient.page);
  await waitForMessage(patient.page, FIRST);
  await waitForMessage(patient.page, ANSWER);
  const download = patient.page.getByRole('button', { name: `Download ${FILE.name}` });
  await download.waitFor();
  const [saved] = await Promise.all([patient.page.waitForEvent('download'), download.click()]);
  assert.equal(saved.suggestedFilename(), FILE.name);
  const stored = await storedBytes(patient.page);
  assert.ok(Object.keys(stored).some((k) => k.startsWith('history:')), 'the history is stored');
  for (const [key, bytes] of Object.entries(stored)) {
    for (const secret of [FIRST, ANSWER, FILE_TEXT, FILE.name, 'My log']) {
      assert.ok(!bytes.includes(Buffer.from(secret)), `IndexedDB ${key} holds "${secret}" in plaintext`);
    }
  }

  // The clinician's second browser (a fresh sign-in with their passkey). Its key-proof
  // answers are tampered with on the way, so it must warn about every key it checks.
  const second = await signInElsewhere(browser, server.origin, clinician.authenticator, CLINICIAN.name, async (page) => {
    await page.route('**/api/messaging/devices/*/key-proof', async (route) => {
      const res = await route.fetch();
      const proof = await res.json();
      const details = JSON.parse(proof.entry.details);
      details.signature_key = 'ab'.repeat(32);
      proof.entry.details = JSON.stringify(details);
      await route.fulfill({ response: res, json: proof });
    });
  });
  await openMessages(second.page, server.origin);
  // A member's sync adds it (the server lists it among the conversation's missing
  // devices); the patient's next message syncs first, so the new browser reads it.
  await sendMessage(patient.page, TO_BOTH);
  await openConversation(second.page);
  await waitForMessage(second.page, TO_BOTH);
  await waitForMessage(clinician.page, TO_BOTH);
  const warning = second.page.locator('[data-key-warning]');
  await warning.filter({ hasText: /key is not in the practice's key log/ }).waitFor({ timeout: 20_000 });
  assert.match(await warning.innerText(), new RegExp(`${PATIENT.name}'s key is not in the practice's key log`));
  await second.page.getByText('Verify', { exact: true }).click();
  assert.equal(await second.page.locator('[data-key-logged]').count(), 0, 'no key is shown as logged');
  // The patient's browser proves the new device's key (the genuine proof).
  await patient.page.reload();
  await patient.page.waitForSelector('[data-messaging][data-ready="yes"]');
  await openConversation(patient.page);
  await patient.page.getByText('Verify', { exact: true }).click();
  await patient.page.locator('[data-key-logged]').nth(1).waitFor({ timeout: 20_000 });
  assert.equal(await patient.page.locator('[data-key-warning]').isHidden(), true, await patient.page.locator('[data-key-warning]').innerText());

  // The admin takes the clinician off the care team: sending is paused until a member
  // commits the removal; the patient's browser does that on its own when it syncs.
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

  // Neither of the clinician's browsers can read it: the server refuses them the
  // conversation's messages, and the pages (synced again) no longer list it.
  const conversation = await patient.page.locator('[data-messaging]').getAttribute('data-open-conversation');
  for (const page of [clinician.page, second.page]) {
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
  assert.deepEqual(second.problems, []);
});
