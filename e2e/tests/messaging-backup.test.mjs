// Encrypted backup of a messaging device, in real browsers. A patient whose passkey has
// PRF backs up their device, loses the browser's data, signs in again and restores it
// with the passkey: they see the earlier messages and read a new one. A clinician whose
// passkey has no PRF gets a recovery phrase instead; in a new browser a wrong phrase is
// refused with a clear message and changes nothing, the right one restores the device,
// which then reads what the patient sends. The backup bytes are in no log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { invite, setUpPractice } from '../lib/flows.mjs';
import { CLINICIAN, PATIENT } from '../lib/consult.mjs';
import { addToCareTeam, openMessages, startArchive, waitForMessage } from '../lib/messaging.mjs';
import { conversationEpochs, deviceCount, enrolWithPasskeyOn, hasLocalDevice, newBrowserFor, openDevices, signInWithPasskey, waitForRotation } from '../lib/backup.mjs';

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

const BEFORE = 'Before the backup, canary 5c1e-Numbat';
const REPLY = 'Noted before the backup, canary 0a7d-Quoll';
const AFTER_PRF = 'After the restore, canary 9b44-Dibbler';
const AFTER_PHRASE = 'To the restored clinician, canary 2e6f-Bettong';
const FROM_RESTORED = 'From the restored patient, canary 7f30-Bilby';
const FROM_RESTORED_CLINICIAN = 'From the restored clinician, canary 41c8-Potoroo';

const db = process.env.E2E_DATABASE || 'sqlite';

/** Waits for `selector`, failing at once with the page's error message if it shows one. */
async function visibleOrError(page, selector, timeout = 30_000) {
  const shown = await Promise.race([
    page.locator(selector).waitFor({ timeout }).then(() => null),
    page.locator('[data-error]:not([hidden])').waitFor({ timeout }).then(() => page.locator('[data-error]').innerText()),
  ]);
  assert.equal(shown, null, `the page shows an error: ${shown}`);
}

async function openConversation(page) {
  const open = page.locator('[data-open]');
  await open.first().waitFor({ timeout: 20_000 });
  await open.first().click();
}

async function send(page, text) {
  await page.getByLabel('Your message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await waitForMessage(page, text);
}

test(`a lost device comes back from its encrypted backup, with a passkey (PRF) or a recovery phrase (${db})`, async () => {
  const admin = await setUpPractice(browser, server);
  // The practice archive (a native device; every conversation holds it).
  archive = await startArchive(admin.context, server.origin);
  const clinicianLink = await invite(admin.page, server.origin, { ...CLINICIAN, role: 'clinician' });
  const patientLink = await invite(admin.page, server.origin, { ...PATIENT, role: 'patient' });
  // The clinician's authenticator has no PRF; the patient's has.
  const clinician = await enrolWithPasskeyOn(browser, clinicianLink, { prf: false });
  const patient = await enrolWithPasskeyOn(browser, patientLink, { prf: true });
  await addToCareTeam(admin.page, server.origin, PATIENT.name, CLINICIAN.name);

  await openMessages(clinician.page, server.origin);
  await openMessages(patient.page, server.origin);
  await patient.page.getByRole('button', { name: 'Message my care team' }).click();
  await visibleOrError(patient.page, '[data-conversation]:not([hidden])');
  await send(patient.page, BEFORE);
  await openConversation(clinician.page);
  await waitForMessage(clinician.page, BEFORE);
  await send(clinician.page, REPLY);
  await waitForMessage(patient.page, REPLY);

  // ---- the patient: backup unlocked by the passkey's PRF output ----
  await openDevices(patient.page, server.origin);
  const mine = patient.page.locator('[data-devices] li', { has: patient.page.locator('[data-this-browser]') });
  await mine.waitFor();
  await patient.page.getByRole('button', { name: 'Set up backup' }).click();
  await patient.page.locator('[data-backup][data-backup-on="yes"]').waitFor({ timeout: 20_000 });
  assert.match(await patient.page.locator('[data-backup-state]').innerText(), /unlocked with your passkey/);
  assert.equal(await patient.page.locator('[data-phrase]').isHidden(), true, 'no phrase when the passkey has PRF');
  const stored = () => server.auditEntries().filter((e) => e.action === 'messaging.backup_stored' && e.outcome === 'success').length;
  assert.ok(stored() >= 1);

  // The browser's data is lost (IndexedDB and cookies); the passkey is not. (The same
  // tab keeps the virtual authenticator: Chromium cannot copy a credential's PRF seed
  // into another one, so a copy in a new context would sign in but give no PRF output.)
  await patient.page.goto(`${server.origin}/`);
  const cdp = await patient.context.newCDPSession(patient.page);
  await cdp.send('Storage.clearDataForOrigin', { origin: server.origin, storageTypes: 'indexeddb,local_storage,cache_storage' });
  await patient.context.clearCookies();
  await signInWithPasskey(patient.page, server.origin);
  await openDevices(patient.page, server.origin);
  assert.equal(await hasLocalDevice(patient.page), false);
  await patient.page.locator('[data-restore]:not([hidden])').waitFor();
  const epochsBefore = await conversationEpochs(clinician.page);
  await patient.page.getByRole('button', { name: 'Restore with passkey' }).click();
  await patient.page.waitForURL('**/messages');
  await patient.page.waitForSelector('[data-messaging][data-ready="yes"]', { timeout: 30_000 });
  // After catching up, the restored device renews its keys (an MLS self-update) in each
  // conversation, so a copy of the old state cannot follow the new epoch.
  await waitForRotation(patient.page);
  const epochsAfter = await conversationEpochs(clinician.page);
  for (const [id, epoch] of Object.entries(epochsBefore)) {
    assert.ok(epochsAfter[id] > epoch, `conversation ${id}: epoch ${epochsAfter[id]} after the restore, ${epoch} before`);
  }
  await openConversation(patient.page);
  await waitForMessage(patient.page, BEFORE);
  await waitForMessage(patient.page, REPLY);
  assert.equal(server.auditEntries().filter((e) => e.action === 'messaging.backup_restored').length, 1);
  // The restored device reads what is sent after, and backs itself up again on its own
  // (the messages page schedules a backup after each save).
  const storedBefore = stored();
  await send(clinician.page, AFTER_PRF);
  await waitForMessage(patient.page, AFTER_PRF);
  await send(patient.page, FROM_RESTORED);
  await waitForMessage(clinician.page, FROM_RESTORED);
  for (let i = 0; stored() <= storedBefore; i++) {
    assert.ok(i < 30, 'the restored device refreshes its backup after new messages');
    await new Promise((r) => setTimeout(r, 500));
  }

  // ---- the clinician: no PRF, so a recovery phrase ----
  await openDevices(clinician.page, server.origin);
  await clinician.page.getByRole('button', { name: 'Set up backup' }).click();
  const phraseBox = clinician.page.locator('[data-phrase]:not([hidden])');
  await phraseBox.waitFor({ timeout: 20_000 });
  const phrase = (await clinician.page.locator('[data-phrase-text]').innerText()).trim();
  assert.match(phrase, /^([A-Z2-7]{5} ){7}[A-Z2-7]{5}$/, '8 groups of 5 base32 characters (200 bits)');
  const turnOn = clinician.page.getByRole('button', { name: 'Turn on backup' });
  assert.equal(await turnOn.isDisabled(), true, 'not before they confirm they wrote it down');
  await clinician.page.getByLabel('I have written down my recovery phrase').check();
  await turnOn.click();
  await clinician.page.locator('[data-backup][data-backup-on="yes"]').waitFor({ timeout: 20_000 });
  assert.match(await clinician.page.locator('[data-backup-state]').innerText(), /recovery phrase/);
  assert.equal(await clinician.page.locator('[data-phrase-text]').innerText(), '', 'the phrase is shown once');

  // The clinician's browser is lost; a new one (a new context) with their passkey.
  // (The old browser is kept, put aside, to show below that its copy of the device
  // cannot read what is sent after the restore.)
  const fresh = await newBrowserFor(browser, clinician.authenticator);
  assert.equal(fresh.copied, 1);
  await clinician.page.goto('about:blank');
  await signInWithPasskey(fresh.page, server.origin);
  // /messages in the new browser offers the restore before registering a new device.
  const devicesBefore = await deviceCount(fresh.page);
  await fresh.page.goto(`${server.origin}/messages`);
  await fresh.page.getByRole('region', { name: 'Restore or start fresh?' }).waitFor({ timeout: 30_000 });
  assert.equal(await fresh.page.getByRole('button', { name: 'Start fresh on this browser' }).isVisible(), true);
  assert.equal(await deviceCount(fresh.page), devicesBefore, 'no new device registered while the choice is shown');
  assert.equal(await hasLocalDevice(fresh.page), false);
  await fresh.page.getByRole('link', { name: 'Restore your messages from a backup' }).click();
  await fresh.page.waitForURL('**/messages/devices');
  await fresh.page.waitForSelector('[data-messaging-devices][data-ready="yes"]', { timeout: 30_000 });
  assert.equal(await deviceCount(fresh.page), devicesBefore);
  await fresh.page.locator('[data-restore]:not([hidden])').waitFor();
  assert.equal(await fresh.page.getByRole('button', { name: 'Restore with passkey' }).count(), 0);
  await fresh.page.getByRole('button', { name: 'Use recovery phrase' }).click();

  // A wrong phrase (well formed, one character changed): a clear error, nothing changed.
  const wrong = phrase.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
  await fresh.page.getByRole('textbox', { name: 'Recovery phrase' }).fill(wrong.toLowerCase());
  await fresh.page.getByRole('button', { name: 'Restore with recovery phrase' }).click();
  const error = fresh.page.locator('[data-error]:not([hidden])');
  await error.waitFor();
  assert.match(await error.innerText(), /does not unlock this backup/);
  assert.equal(new URL(fresh.page.url()).pathname, '/messages/devices');
  assert.equal(await hasLocalDevice(fresh.page), false, 'a wrong phrase stores nothing');

  // The right one, typed in lower case with dashes: restored.
  await fresh.page.getByRole('textbox', { name: 'Recovery phrase' }).fill(phrase.toLowerCase().replace(/ /g, '-'));
  await fresh.page.getByRole('button', { name: 'Restore with recovery phrase' }).click();
  const clinicianEpochsBefore = await conversationEpochs(patient.page);
  await fresh.page.waitForURL('**/messages');
  await fresh.page.waitForSelector('[data-messaging][data-ready="yes"]', { timeout: 30_000 });
  await waitForRotation(fresh.page);
  const clinicianEpochsAfter = await conversationEpochs(patient.page);
  for (const [id, epoch] of Object.entries(clinicianEpochsBefore)) {
    assert.ok(clinicianEpochsAfter[id] > epoch, `conversation ${id}: epoch ${clinicianEpochsAfter[id]} after the restore, ${epoch} before`);
  }
  assert.equal(await deviceCount(fresh.page), devicesBefore, 'the restore registered no new device');
  await openConversation(fresh.page);
  for (const text of [BEFORE, REPLY, AFTER_PRF, FROM_RESTORED]) await waitForMessage(fresh.page, text);
  await send(patient.page, AFTER_PHRASE);
  await waitForMessage(fresh.page, AFTER_PHRASE);
  await send(fresh.page, FROM_RESTORED_CLINICIAN);
  await waitForMessage(patient.page, FROM_RESTORED_CLINICIAN);

  // The old browser's copy of the device (the state before the restore) cannot follow
  // the renewed keys: it does not read what was sent after.
  await clinician.page.goto(`${server.origin}/messages`);
  await clinician.page.waitForSelector('[data-messaging][data-ready="yes"]', { timeout: 30_000 });
  await openConversation(clinician.page);
  await clinician.page.getByText('A message could not be decrypted on this device.').first().waitFor({ timeout: 20_000 });
  assert.equal(await clinician.page.getByText(AFTER_PHRASE).count(), 0, 'the old copy reads nothing sent after the restore');
  assert.equal(await clinician.page.getByText(FROM_RESTORED_CLINICIAN).count(), 0);
  await clinician.context.close();

  // The device list: this browser marked; the ledger has the restores, not the bytes.
  await openDevices(fresh.page, server.origin);
  assert.equal(await fresh.page.locator('[data-devices] [data-this-browser]').count(), 1);
  const restored = server.auditEntries().filter((e) => e.action === 'messaging.backup_restored');
  assert.equal(restored.length, 2);
  for (const s of [BEFORE, REPLY, AFTER_PRF, AFTER_PHRASE, FROM_RESTORED, FROM_RESTORED_CLINICIAN].map((t) => t.split(', ').pop())) {
    assert.ok(!server.logs().includes(s), `the server's log holds "${s}"`);
    assert.ok(!JSON.stringify(server.auditEntries()).includes(s), `the ledger holds "${s}"`);
  }
  assert.deepEqual(patient.problems, []);
  assert.deepEqual(fresh.problems, []);
  await fresh.context.close();
  await patient.context.close();
  await admin.context.close();
});
