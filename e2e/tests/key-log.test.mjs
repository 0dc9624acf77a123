// Key-log consistency in the browser: the messages page's key-transparency module
// (/static/key-transparency.js) remembers the largest signed tree head it has seen and
// accepts a larger one only with a consistency proof that it extends the remembered one.
// A genuine growth of the log is accepted; a tampered consistency proof (a changed path
// hash, or another old root: a split view) is refused with a reason and the remembered
// head stays as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { invite, setUpPractice } from '../lib/flows.mjs';
import { CLINICIAN, PATIENT, enrolWithPasskey } from '../lib/consult.mjs';
import { addToCareTeam, enrolKeepingPasskey, openMessages } from '../lib/messaging.mjs';

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

const db = process.env.E2E_DATABASE || 'sqlite';

/** This browser's own (only) messaging device id, from its device list. */
async function ownDeviceId(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/messaging/devices', { credentials: 'same-origin' });
    const devices = await res.json();
    return devices.find((d) => !d.removed_ms).id;
  });
}

/**
 * In `page`: the key proof of `deviceId`, as the member `checkMember` takes (taken from
 * the logged entry) and the proof's signed tree head.
 */
async function memberAndHead(page, deviceId) {
  return page.evaluate(async (id) => {
    const res = await fetch(`/api/messaging/devices/${id}/key-proof`, { credentials: 'same-origin' });
    const proof = await res.json();
    const details = JSON.parse(proof.entry.details);
    return {
      member: { device_id: id, user_id: details.account, signature_key: details.signature_key, ledger_seq: proof.entry.seq },
      head: { size: proof.sth.head.size, root: proof.sth.head.root, time_ms: proof.sth.head.time_ms },
    };
  }, deviceId);
}

/** Makes the page remember `head` and nothing proven, then checks `member`. */
async function checkFrom(page, head, member) {
  return page.evaluate(async ({ head, member }) => {
    const store = await import('/static/messaging-store.js');
    const kt = await import('/static/key-transparency.js');
    const log = await store.loadKeyLog();
    log.head = head;
    log.proven = {};
    await store.saveKeyLog(log);
    const result = await kt.checkMember(member);
    return { result, remembered: (await store.loadKeyLog()).head };
  }, { head, member });
}

/** Reloads the messages page, so the module's per-page results are forgotten. */
async function reload(page) {
  await page.reload();
  await page.waitForSelector('[data-messaging][data-ready="yes"]', { timeout: 30_000 });
}

test(`a larger tree head is remembered only with a valid consistency proof (${db})`, async () => {
  const admin = await setUpPractice(browser, server);
  const clinicianLink = await invite(admin.page, server.origin, { ...CLINICIAN, role: 'clinician' });
  const patientLink = await invite(admin.page, server.origin, { ...PATIENT, role: 'patient' });
  const patient = await enrolWithPasskey(browser, patientLink);
  const clinician = await enrolKeepingPasskey(browser, clinicianLink);
  await addToCareTeam(admin.page, server.origin, PATIENT.name, CLINICIAN.name);

  // The patient's browser registers its device; its key proof's head is the earlier one.
  await openMessages(patient.page, server.origin);
  const own = await memberAndHead(patient.page, await ownDeviceId(patient.page));
  // The clinician's browser registers another key: the log grows past that head.
  await openMessages(clinician.page, server.origin);
  const other = await memberAndHead(patient.page, await ownDeviceId(clinician.page));
  assert.ok(other.head.size > own.head.size, `the log grew (${own.head.size} → ${other.head.size})`);

  // Genuine growth: verified, and the larger head is remembered.
  const genuine = await checkFrom(patient.page, own.head, other.member);
  assert.deepEqual(genuine.result, { ok: true });
  assert.ok(genuine.remembered.size >= other.head.size, 'the larger head is remembered');

  // A changed hash in the consistency path: refused, the old head kept.
  await reload(patient.page);
  await patient.page.route('**/api/messaging/key-log/consistency*', async (route) => {
    const res = await route.fetch();
    const proof = await res.json();
    const first = proof.path[0];
    proof.path[0] = (first[0] === '0' ? '1' : '0') + first.slice(1);
    await route.fulfill({ response: res, json: proof });
  });
  const tampered = await checkFrom(patient.page, own.head, other.member);
  assert.equal(tampered.result.ok, false);
  assert.match(tampered.result.reason, /consistency proof|does not extend/);
  assert.deepEqual(tampered.remembered, own.head, 'the remembered head is unchanged');

  // A split view: the server's proof starts from another tree of the remembered size.
  await patient.page.unroute('**/api/messaging/key-log/consistency*');
  await reload(patient.page);
  const forked = { ...own.head, root: 'ab'.repeat(32) };
  const split = await checkFrom(patient.page, forked, other.member);
  assert.equal(split.result.ok, false);
  assert.match(split.result.reason, /differs from the one this browser saw/);
  assert.deepEqual(split.remembered, forked, 'the remembered head is unchanged');
});
