// End-to-end encrypted messages in real browsers: a patient (browser 1) messages their
// care team; the clinician (browser 2) joins through the MLS Welcome; they write both
// ways and the patient sends a file the clinician opens intact. The practice archive (a
// native device, the `msg-client` CLI with the admin's session) reads everything. The
// server's data directory and logs hold none of the plaintext.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { invite, setUpPractice } from '../lib/flows.mjs';
import { CLINICIAN, PATIENT, enrolWithPasskey } from '../lib/consult.mjs';
import { addToCareTeam, filesUnder, openMessages, startArchive, waitForMessage } from '../lib/messaging.mjs';

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

const FROM_PATIENT = 'My rash is spreading, canary 4b1d-Platypus';
const FROM_CLINICIAN = 'Please send a photo, canary 8e2a-Echidna';
const FILE_TEXT = 'lab report canary 77c0-Bilby';
const FILE = { name: 'lab-report.txt', mimeType: 'text/plain', buffer: Buffer.from(FILE_TEXT) };
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

test(`a patient and their clinician message each other end to end (${process.env.E2E_DATABASE || 'sqlite'})`, async () => {
  const admin = await setUpPractice(browser, server);
  // The practice archive, registered right after the admin's sign-in (registration needs
  // a recent one).
  archive = await startArchive(admin.context, server.origin);

  const clinicianLink = await invite(admin.page, server.origin, { ...CLINICIAN, role: 'clinician' });
  const patientLink = await invite(admin.page, server.origin, { ...PATIENT, role: 'patient' });
  const clinician = await enrolWithPasskey(browser, clinicianLink);
  const patient = await enrolWithPasskey(browser, patientLink);
  await addToCareTeam(admin.page, server.origin, PATIENT.name, CLINICIAN.name);

  // Each browser makes and registers its device on its first visit.
  await openMessages(clinician.page, server.origin);
  await openMessages(patient.page, server.origin);

  // The patient starts a conversation with their care team (and the archive).
  await patient.page.getByRole('button', { name: 'Message my care team' }).click();
  await patient.page.locator('[data-conversation]:not([hidden])').waitFor();
  await patient.page.getByLabel('Your message').fill(FROM_PATIENT);
  await patient.page.getByRole('button', { name: 'Send' }).click();
  await waitForMessage(patient.page, FROM_PATIENT);
  assert.equal(await patient.page.locator('[data-error]').isHidden(), true, await patient.page.locator('[data-error]').innerText());

  // The clinician is added by the Welcome and reads it.
  const open = clinician.page.locator('[data-open]');
  await open.first().waitFor({ timeout: 20_000 });
  await open.first().click();
  await waitForMessage(clinician.page, FROM_PATIENT);
  assert.match(await clinician.page.locator('[data-messages] li', { hasText: FROM_PATIENT }).innerText(), new RegExp(PATIENT.name));

  // And answers.
  await clinician.page.getByLabel('Your message').fill(FROM_CLINICIAN);
  await clinician.page.getByRole('button', { name: 'Send' }).click();
  await waitForMessage(clinician.page, FROM_CLINICIAN);
  await waitForMessage(patient.page, FROM_CLINICIAN);

  // A file, sealed in the patient's browser, opened in the clinician's.
  await patient.page.getByLabel('Attach a file').setInputFiles(FILE);
  await patient.page.getByLabel('Your message').fill('The report');
  await patient.page.getByRole('button', { name: 'Send' }).click();
  await waitForMessage(patient.page, 'The report');
  const download = clinician.page.getByRole('button', { name: `Download ${FILE.name}` });
  await download.waitFor({ timeout: 20_000 });
  // The page decrypts it and offers it from a Blob URL (connect-src keeps the page
  // itself from fetching blob: URLs, so read what the browser saved).
  const [saved] = await Promise.all([clinician.page.waitForEvent('download'), download.click()]);
  assert.equal(saved.suggestedFilename(), FILE.name);
  assert.equal(readFileSync(await saved.path()).toString(), FILE_TEXT);

  // Safety numbers: one per other person, 60 digits, the same on both sides.
  await patient.page.getByText('Verify', { exact: true }).click();
  await clinician.page.getByText('Verify', { exact: true }).click();
  const numbers = async (page) => (await page.locator('[data-safety-number]').allInnerTexts()).map((t) => t.replace(/\s/g, ''));
  const fromPatient = await numbers(patient.page);
  const fromClinician = await numbers(clinician.page);
  assert.ok(fromPatient.length >= 2, 'the clinician and the archive');
  for (const n of [...fromPatient, ...fromClinician]) assert.match(n, /^\d{60}$/);
  assert.ok(fromPatient.some((n) => fromClinician.includes(n)), 'patient and clinician see the same number');

  // The archive read everything, the file by its hash.
  const fromUser = (text) => (e) => e.event === 'message' && e.text === text;
  await archive.waitFor(fromUser(FROM_PATIENT));
  await archive.waitFor(fromUser(FROM_CLINICIAN));
  const withFile = await archive.waitFor((e) => e.event === 'message' && (e.attachments || []).length > 0);
  assert.equal(withFile.attachments[0].name, FILE.name);
  assert.equal(withFile.attachments[0].sha256, sha256(FILE.buffer));

  // No plaintext in the server's files or logs.
  const secrets = [FROM_PATIENT, FROM_CLINICIAN, FILE_TEXT].map((s) => s.split(', ').pop());
  for (const { path, bytes: content } of filesUnder(server.dir)) {
    for (const s of secrets) assert.ok(!content.includes(Buffer.from(s)), `${path} holds "${s}"`);
  }
  for (const s of secrets) assert.ok(!server.logs().includes(s), `the server's log holds "${s}"`);

  assert.deepEqual(patient.problems, []);
  assert.deepEqual(clinician.problems, []);
});
