// Video consults in two real Chromium contexts with fake cameras and microphones: the
// patient books and waits, the clinician admits, media flows peer to peer (directly, and
// relay-only through a real coturn), chat and a file go over the data channel, both
// sides show the same verification words — and different ones when the signalling
// server swaps a fingerprint. A guest without an account joins with a link and a code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, watchedPage } from '../lib/browser.mjs';
import { startServer } from '../lib/server.mjs';
import { startCoturn } from '../lib/coturn.mjs';
import {
  PATIENT, book, callState, clinicianAdmits, consultPractice, mediaStats, patientWaits,
  publishSoon, waitForConnection, waitForMedia, waitForState,
} from '../lib/consult.mjs';

const db = process.env.E2E_DATABASE || 'sqlite';
let browser;
let coturn;
let direct;
let directPractice;

before(async () => {
  browser = await launch();
  direct = await startServer();
  directPractice = await consultPractice(browser, direct);
});

after(async () => {
  await browser?.close();
  if (direct) assert.equal(await direct.stop(), 0);
  await coturn?.stop();
});

const words = async (page) => {
  await page.waitForFunction(() => document.querySelector('[data-call]')?.dataset.sas);
  return (await callState(page)).sas;
};

/** Everything two people do in one consult, from the waiting room to the end. */
async function consult(server, practice, { relay = false, relayRestart = null } = {}) {
  const c = practice.clinician.page;
  const p = practice.patient.page;
  const id = await book(server.origin, practice.clinician, practice.patient);

  await patientWaits(p, server.origin, id);
  assert.match(await p.locator('[data-status]').innerText(), /waiting room/);
  await clinicianAdmits(c, server.origin, PATIENT.name);
  await waitForState(p, 'call');
  await Promise.all([waitForConnection(c), waitForConnection(p)]);

  // Both receive audio and video.
  const [cs, ps] = await Promise.all([waitForMedia(c), waitForMedia(p)]);
  for (const s of [cs, ps]) {
    assert.ok(s.bytes.audio > 0 && s.bytes.video > 0, JSON.stringify(s));
    if (relay) assert.deepEqual([s.local, s.remote], ['relay', 'relay'], 'relayed through coturn');
  }

  // The same verification words on both sides, from both fingerprints.
  const [wc, wp] = await Promise.all([words(c), words(p)]);
  assert.equal(wc, wp);
  assert.match(wc, /^[a-z]+( [a-z]+){4}$/, 'five words');

  // Chat both ways, over the data channel.
  await p.getByLabel('Message', { exact: true }).fill('Hello doctor, can you hear me?');
  await p.getByRole('button', { name: 'Send' }).click();
  await c.locator('[data-chat-log]').getByText('Hello doctor, can you hear me?').waitFor();
  await c.getByLabel('Message', { exact: true }).fill('Yes, clearly. Show me the rash?');
  await c.getByRole('button', { name: 'Send' }).click();
  await p.locator('[data-chat-log]').getByText('Yes, clearly. Show me the rash?').waitFor();

  // The patient shares a photo; it arrives whole; the clinician keeps it in the record.
  const photo = Buffer.alloc(300 * 1024);
  for (let i = 0; i < photo.length; i += 1) photo[i] = (i * 31) % 251;
  await p.locator('#chat-file').setInputFiles({ name: 'rash-photo.png', mimeType: 'image/png', buffer: photo });
  const link = c.getByRole('link', { name: /rash-photo\.png/ });
  await link.waitFor();
  // The clinician saves it, as a person would.
  const [download] = await Promise.all([c.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'rash-photo.png');
  const received = readFileSync(await download.path());
  assert.equal(received.length, photo.length, 'every byte arrived');
  assert.ok(received.equals(photo), 'the bytes are the same');
  await c.getByRole('button', { name: "Keep rash-photo.png in the patient's record" }).click();
  await c.getByRole('button', { name: 'rash-photo.png is kept in the record' }).waitFor();

  // Quality is shown to both sides.
  for (const page of [c, p]) {
    await page.waitForFunction(() => ['good', 'fair', 'poor'].includes(document.querySelector('[data-quality-peer]').textContent), null, { timeout: 15_000 });
  }

  if (relayRestart) {
    // The relay goes away and comes back: the call finds its way again (ICE restart).
    const before = await mediaStats(p);
    await relayRestart();
    await Promise.all([waitForConnection(c, 60_000), waitForConnection(p, 60_000)]);
    const after = await waitForMedia(p, 30_000);
    assert.ok(after.bytes.video > before.bytes.video, 'media flows again');
    assert.equal(await words(p), wp, 'the same call, the same words');
  } else {
    // The patient's browser reloads mid-call: straight back into the call, no second
    // admission, media flowing again.
    await p.reload();
    await p.waitForFunction(() => /camera and microphone work/.test(document.querySelector('[data-status]').textContent));
    await p.getByRole('button', { name: 'Go to the waiting room' }).click();
    await waitForState(p, 'call');
    await Promise.all([waitForConnection(c), waitForConnection(p)]);
    await Promise.all([waitForMedia(c), waitForMedia(p)]);
    assert.equal(await words(c), await words(p), 'a new connection, checked again');
  }

  // They compare the words aloud; the clinician marks the call verified.
  await c.getByRole('button', { name: 'We both see the same words' }).click();
  await p.getByText('Checked: this call is private.').waitFor();
  await c.getByText('Checked: this call is private.').waitFor();

  // Notes during the consult.
  await c.getByLabel("Notes (kept encrypted in the patient's record)").fill('Contact dermatitis; hydrocortisone 1% for 7 days.');
  await c.getByRole('button', { name: 'Save notes' }).click();
  await c.locator('[data-notes-status]').getByText('Saved.').waitFor();

  // Mute and camera toggles.
  await p.getByRole('button', { name: 'Mute microphone' }).click();
  assert.equal(await p.getByRole('button', { name: 'Unmute microphone' }).getAttribute('aria-pressed'), 'true');
  await p.getByRole('button', { name: 'Turn camera off' }).click();
  assert.equal(await p.getByRole('button', { name: 'Turn camera on' }).getAttribute('aria-pressed'), 'true');

  // The clinician ends the consult; the patient is told.
  await c.getByRole('button', { name: 'End the consult' }).click();
  await waitForState(p, 'ended');
  await waitForState(c, 'ended');

  // The record: verified, the notes, the kept file.
  await c.goto(`${server.origin}/appointments/${id}`);
  const record = await c.locator('main').innerText();
  assert.match(record, /verified as private/);
  assert.match(record, /rash-photo\.png \(300 KB\)/);
  assert.equal(await c.getByLabel('Notes (kept encrypted in the patient\'s record)').inputValue(), 'Contact dermatitis; hydrocortisone 1% for 7 days.');

  assert.deepEqual(practice.clinician.problems, []);
  assert.deepEqual(practice.patient.problems, []);
}

test(`a consult, peer to peer: waiting room, admission, media, chat, file, the same words (${db})`, async () => {
  await consult(direct, directPractice);
});

test(`a signalling server that swaps a fingerprint shows different words (${db})`, async () => {
  const c = directPractice.clinician.page;
  const p = directPractice.patient.page;
  const id = await book(direct.origin, directPractice.clinician, directPractice.patient, 1);
  // The "server" in the middle: replaces the clinician's DTLS fingerprint in what the
  // patient receives, as an attacker who wanted to sit between them would.
  const fake = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0')).join(':');
  let swapped = 0;
  await p.routeWebSocket(/\/ws\/appointments\//, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((m) => server.send(m));
    server.onMessage((m) => {
      const message = JSON.parse(m);
      const sdp = message.data?.description?.sdp;
      if (message.t === 'signal' && sdp) {
        message.data.description.sdp = sdp.replace(/^a=fingerprint:sha-256 [0-9A-F:]+/gm, `a=fingerprint:sha-256 ${fake}`);
        swapped += 1;
      }
      ws.send(JSON.stringify(message));
    });
  });
  try {
    await patientWaits(p, direct.origin, id);
    await clinicianAdmits(c, direct.origin, PATIENT.name);
    await waitForState(p, 'call');
    const [wc, wp] = await Promise.all([words(c), words(p)]);
    assert.ok(swapped > 0, 'the fingerprint was swapped');
    assert.notEqual(wc, wp, 'the words differ: the people on the call notice');
    assert.match(wc, /^[a-z]+( [a-z]+){4}$/);
    assert.match(wp, /^[a-z]+( [a-z]+){4}$/);
    // And no encrypted media flows through the impostor's fingerprint.
    assert.notEqual((await callState(p)).connection, 'connected');
  } finally {
    await p.unrouteAll({ behavior: 'ignoreErrors' });
    await c.getByRole('button', { name: 'End the consult' }).click();
    await waitForState(c, 'ended');
  }
});

test(`a guest without an account joins with the e-mailed link and the code, once (${db})`, async () => {
  const c = directPractice.clinician.page;
  await publishSoon(c, direct.origin, 2);

  // The clinician books the new time for a guest and is shown the code to give them.
  const guestName = 'Ngaio Tūhoe-Marsh';
  const option = await c.locator('#slot option').last().getAttribute('value');
  await c.locator('#slot').selectOption(option);
  await c.getByLabel("Guest's name").fill(guestName);
  await c.getByLabel("Guest's e-mail address").fill('ngaio@guests.example');
  await c.getByRole('button', { name: 'Book' }).click();
  await c.getByRole('heading', { name: "The guest's way in" }).waitFor();
  const code = (await c.locator('.code-display').innerText()).trim();
  const link = (await c.locator('code.link').innerText()).trim();
  assert.match(code, /^\d{6}$/);
  assert.match(link, /\/guest\/[A-Za-z0-9_-]+$/);

  // The guest opens the link in a browser that has never signed in.
  const context = await browser.newContext();
  const { page: g, problems } = await watchedPage(context);
  try {
    await g.goto(link);
    const wrong = code === '000000' ? '111111' : '000000';
    await g.getByLabel('6-digit code').fill(wrong);
    await g.getByRole('button', { name: 'Continue' }).click();
    await g.getByRole('alert').waitFor();
    await g.getByLabel('6-digit code').fill(code);
    await g.getByRole('button', { name: 'Continue' }).click();
    await g.waitForURL('**/join');
    await g.waitForFunction(() => /camera and microphone work/.test(document.querySelector('[data-status]').textContent));
    await g.getByRole('button', { name: 'Go to the waiting room' }).click();
    await waitForState(g, 'waiting');

    await clinicianAdmits(c, direct.origin, guestName);
    await waitForState(g, 'call');
    await Promise.all([waitForConnection(c), waitForConnection(g)]);
    await Promise.all([waitForMedia(c), waitForMedia(g)]);
    assert.equal(await words(c), await words(g), 'the same words for the guest');
    await c.getByRole('button', { name: 'End the consult' }).click();
    await waitForState(g, 'ended');
    assert.deepEqual(problems, []);

    // The link worked once: in another browser it no longer lets anyone in.
    const other = await browser.newContext();
    const again = await other.newPage();
    const response = await again.goto(link);
    assert.ok(response.status() >= 400, `used link answered ${response.status()}`);
    await other.close();
  } finally {
    await context.close();
  }
});

test(`a consult relayed only through coturn, surviving the relay restarting (${db})`, async () => {
  coturn = await startCoturn();
  const server = await startServer([], {
    TW_TURN__URLS: JSON.stringify([coturn.url]),
    TW_TURN__SECRET: coturn.secret,
    TW_TURN__RELAY_ONLY: 'true',
  });
  try {
    const practice = await consultPractice(browser, server);
    const { port, secret } = coturn;
    await consult(server, practice, {
      relay: true,
      relayRestart: async () => {
        await coturn.stop();
        coturn = null;
        const p = practice.patient.page;
        await p.waitForFunction(() => document.querySelector('[data-call]').dataset.connection !== 'connected', null, { timeout: 30_000 });
        coturn = await startCoturn({ port, secret });
      },
    });
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
