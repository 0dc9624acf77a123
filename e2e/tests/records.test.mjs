// Records in a real browser: a patient reads and downloads their record after proving
// it is them; a clinician outside the patient's care breaks the glass (reason, step-up)
// and the chart opens; the patient then sees who looked, and why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { CLINICIAN, consultPractice } from '../lib/consult.mjs';

// A short step-up window, so the test can wait it out.
const STEP_UP_SECONDS = 3;
const REASON = 'Patient collapsed at the front desk, need allergies';

let browser;
let server;
let people;

before(async () => {
  browser = await launch();
  server = await startServer([], { TW_SESSIONS__STEP_UP_SECONDS: String(STEP_UP_SECONDS) });
  people = await consultPractice(browser, server);
});

after(async () => {
  await browser?.close();
  assert.equal(await server?.stop(), 0);
});

/** Confirms it is you in the step-up dialog, with the page's passkey. */
async function stepUp(page) {
  const dialog = page.locator('dialog#step-up');
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByRole('button', { name: 'Use my passkey' }).click();
}

test(`records: download after step-up, break-glass, who looked (${process.env.E2E_DATABASE || 'sqlite'})`, async () => {
  const { patient, clinician } = people;
  await sleep((STEP_UP_SECONDS + 1) * 1000);

  // The patient's own record, and its download after step-up.
  await patient.page.goto(`${server.origin}/records`);
  await patient.page.waitForSelector('h1:has-text("My health record")');
  const patientId = new URL(patient.page.url()).pathname.split('/').pop();
  const download = patient.page.waitForEvent('download');
  await patient.page.getByRole('button', { name: 'Download (FHIR JSON)' }).click();
  await stepUp(patient.page);
  const file = await (await download).path();
  const bundle = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(bundle.resourceType, 'Bundle');
  assert.equal(bundle.type, 'collection');

  // The clinician has no care relationship: the chart is closed, break-glass opens it.
  await clinician.page.goto(`${server.origin}/records/patients/${patientId}`);
  await clinician.page.waitForSelector('h2:has-text("Emergency access")');
  await clinician.page.getByLabel('Why you need this record now').fill(REASON);
  await clinician.page.getByRole('button', { name: 'Open the record' }).click();
  await stepUp(clinician.page);
  await clinician.page.waitForSelector('h1:has-text("Patient record")');
  assert.match(await clinician.page.getByRole('alert').innerText(), /emergency access/);

  // The patient sees it, with the reason.
  await patient.page.goto(`${server.origin}/records/access`);
  const rows = await patient.page.locator('tbody tr').allInnerTexts();
  const glass = rows.find((r) => r.includes('Emergency access'));
  assert.ok(glass, rows.join('\n'));
  assert.match(glass, new RegExp(CLINICIAN.name));
  assert.match(glass, new RegExp(REASON));
  assert.deepEqual(patient.problems, [], 'no console errors, exceptions or CSP violations');
  assert.deepEqual(clinician.problems, []);
});
