// A risk assessment end to end in a real browser: the security officer runs the
// automated checks, answers a question, treats a risk, records an incident and sees its
// clocks, opens the reports, and downloads a report as PDF and the evidence pack, whose
// hash is in the audit ledger.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { launch } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { setUpPractice, invite } from '../lib/flows.mjs';
import { enrolWithPasskey } from '../lib/consult.mjs';

let browser;
let server;
const downloads = mkdtempSync(join(tmpdir(), 'tw-e2e-assurance-'));

before(async () => {
  browser = await launch();
  server = await startServer();
});

after(async () => {
  await browser?.close();
  rmSync(downloads, { recursive: true, force: true });
  assert.equal(await server?.stop(), 0);
});

/** The outcome shown for the check `key` on the dashboard. */
const outcome = (page, key) => page.locator(`#check-${key} .badge`).innerText();

test(`a security officer runs an assessment and takes the reports away (${process.env.E2E_DATABASE || 'sqlite'})`, async () => {
  const admin = await setUpPractice(browser, server);
  const link = await invite(admin.page, server.origin, {
    name: 'Sello Mokoena', email: 'sello@quenby.example', role: 'security_officer',
  });
  await admin.context.close();
  const { page } = await enrolWithPasskey(browser, link);

  // The dashboard, from the navigation; the checks run on demand.
  await page.goto(`${server.origin}/security`);
  await page.getByRole('link', { name: 'Assessment' }).click();
  await page.waitForSelector('h1:has-text("Risk assessment")');
  await page.getByRole('button', { name: 'Run all checks now' }).click();
  await page.waitForSelector('#check-staff_mfa .badge:has-text("pass")');
  // Both staff enrolled with passkeys: MFA, and phishing-resistant MFA for admins, pass.
  assert.equal(await outcome(page, 'admin_phishing_resistant_mfa'), 'pass');
  // No backup yet; nobody has taken the security lessons: neither passes.
  assert.equal(await outcome(page, 'backup_age'), 'fail');
  assert.equal(await outcome(page, 'training_completion'), 'fail');
  assert.equal(await outcome(page, 'ledger_chain'), 'pass');

  // A question the server cannot see, answered "don't know".
  await page.getByRole('link', { name: 'Questionnaire' }).click();
  await page.waitForSelector('h1:has-text("Questionnaire")');
  const question = page.locator('article.question').first();
  await question.getByLabel("Don't know").check();
  await question.getByLabel('Note (what you checked)').fill('Ask the IT contractor');
  await question.getByRole('button', { name: 'Save the answer' }).click();
  await page.waitForSelector('text=1 of 30 answered');

  // The register: backup failure, mitigated with an owner and a due date.
  await page.goto(`${server.origin}/security/assurance/risks`);
  await page.getByRole('link', { name: 'Backup failure' }).click();
  await page.getByLabel('Treatment').selectOption('mitigate');
  await page.getByLabel('Owner').fill('Practice manager');
  const due = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel('Due date').fill(due);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForSelector('#risk-status:has-text("treating")');

  // An incident, with its NDB and HIPAA clocks.
  await page.goto(`${server.origin}/security/incidents`);
  await page.getByLabel('Title').fill('Phishing e-mail opened by reception');
  await page.getByLabel('What happened').fill('A staff member entered their password on a fake sign-in page.');
  const aware = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 16);
  await page.getByLabel('Aware of a suspected breach').fill(aware);
  await page.getByRole('button', { name: 'Open the incident' }).click();
  await page.waitForSelector('h2:has-text("Deadlines")');
  const clocks = await page.locator('table.clocks').innerText();
  assert.match(clocks, /Assess the suspected breach \(NDB\)/, clocks);
  assert.match(clocks, /days left/, clocks);

  // Reports: readable in the app, downloadable as PDF.
  await page.goto(`${server.origin}/security/reports`);
  await page.getByRole('link', { name: 'Security risk assessment' }).click();
  await page.waitForSelector('article.report h2:has-text("Automated checks")');
  const [pdf] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download as PDF' }).click(),
  ]);
  const pdfPath = join(downloads, 'report.pdf');
  await pdf.saveAs(pdfPath);
  assert.equal(readFileSync(pdfPath).subarray(0, 5).toString(), '%PDF-');
  const text = execFileSync('pdftotext', [pdfPath, '-']).toString();
  assert.match(text, /Risk register/);

  // The evidence pack: an archive whose manifest checks out, its hash in the ledger.
  await page.goto(`${server.origin}/security/reports`);
  const [pack] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download the evidence pack' }).click(),
  ]);
  const packPath = join(downloads, 'pack.tar');
  await pack.saveAs(packPath);
  const out = join(downloads, 'pack');
  execFileSync('mkdir', ['-p', out]);
  execFileSync('tar', ['-xf', packPath, '-C', out]);
  execFileSync('sha256sum', ['-c', 'SHA256SUMS', '--quiet'], { cwd: out });
  const sha = createHash('sha256').update(readFileSync(packPath)).digest('hex');
  const exported = server.auditEntries().filter((e) => e.action === 'assurance.evidence_pack_exported');
  assert.equal(exported.length, 1);
  assert.equal(exported[0].details.sha256, sha, 'the ledger holds the hash of the archive downloaded');
});
