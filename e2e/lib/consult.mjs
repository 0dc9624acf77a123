// Steps of a video consult, shared by the consult browser tests: a practice with a
// clinician and a patient (both with passkeys), a published time, a booking, the waiting
// room, admission, and what the call page shows.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { watchedPage } from './browser.mjs';
import { addAuthenticator, invite, setUpPractice } from './flows.mjs';

export const CLINICIAN = { name: 'Dr Imogen Achterberg', email: 'imogen@quenby.example' };
export const PATIENT = { name: 'Tobias Wiremu-Grant', email: 'tobias@patients.example' };

/** Someone invited by `link` enrols with a passkey in a fresh browser context. */
export async function enrolWithPasskey(browser, link) {
  const context = await browser.newContext({ acceptDownloads: true });
  const { page, problems } = await watchedPage(context);
  traceSignals(page);
  await addAuthenticator(page);
  await page.goto(link);
  await page.getByRole('button', { name: 'Create my passkey' }).click();
  await page.waitForURL('**/account/security?welcome=1');
  return { context, page, problems };
}

const traces = new WeakMap();

/** Keeps a short summary of the call page's socket traffic, shown when a call is stuck. */
function traceSignals(page) {
  const trace = [];
  traces.set(page, trace);
  const note = (dir) => ({ payload }) => {
    let m;
    try { m = JSON.parse(payload); } catch { return; }
    if (m.t === 'ping' || m.t === 'queue') return;
    const d = m.data || {};
    const what = d.description ? d.description.type : d.candidate ? 'candidate' : '';
    trace.push(`${dir} ${m.t}${m.state ? `:${m.state}` : ''}${m.present !== undefined ? `:${m.present}` : ''}${m.code ? `:${m.code}` : ''} ${what} ${d.session ? d.session.slice(0, 4) : ''}`.trim());
    if (trace.length > 60) trace.shift();
  };
  page.on('websocket', (ws) => {
    trace.push(`open ${new URL(ws.url()).pathname}`);
    ws.on('framesent', note('>'));
    ws.on('framereceived', note('<'));
    ws.on('close', () => trace.push('closed'));
  });
}

/** A practice with a clinician and a patient, each signed in in their own browser. */
export async function consultPractice(browser, server) {
  const admin = await setUpPractice(browser, server);
  const clinicianLink = await invite(admin.page, server.origin, { ...CLINICIAN, role: 'clinician' });
  const patientLink = await invite(admin.page, server.origin, { ...PATIENT, role: 'patient' });
  const clinician = await enrolWithPasskey(browser, clinicianLink);
  const patient = await enrolWithPasskey(browser, patientLink);
  await admin.context.close();
  return { clinician, patient };
}

/** Date and clock time in Sydney (the practice's zone) of `when`. */
function sydney(when) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Australia/Sydney', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(when).map((p) => [p.type, p.value]));
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

/**
 * A 15-minute time starting within the next 20 minutes (so the call can be joined now),
 * that does not run past midnight in Sydney. `skip` appointments later for more.
 */
export function soonSlot(skip = 0) {
  const step = 5 * 60_000;
  let start = new Date(Math.ceil((Date.now() + 2 * 60_000) / step) * step + skip * 15 * 60_000);
  const local = sydney(start);
  if (local.time > '23:40') {
    // The next local midnight instead.
    const [h, m] = local.time.split(':').map(Number);
    start = new Date(start.getTime() + ((24 - h) * 60 - m) * 60_000);
  }
  const from = sydney(start);
  const until = sydney(new Date(start.getTime() + 15 * 60_000));
  return { date: from.date, from: from.time, until: until.time };
}

/** The clinician publishes one 15-minute time (see `soonSlot`). */
export async function publishSoon(page, origin, skip = 0) {
  const slot = soonSlot(skip);
  await page.goto(`${origin}/appointments`);
  await page.getByLabel('Date', { exact: true }).fill(slot.date);
  await page.getByLabel('From', { exact: true }).fill(slot.from);
  await page.getByLabel('Until', { exact: true }).fill(slot.until);
  await page.getByLabel('Each appointment').selectOption('15');
  await page.getByRole('button', { name: 'Publish' }).click();
  await page.waitForURL('**/appointments?done=published');
}

/** The clinician publishes one 15-minute time; the patient books it: its id. */
export async function book(origin, clinician, patient, skip = 0) {
  await publishSoon(clinician.page, origin, skip);

  const p = patient.page;
  await p.goto(`${origin}/appointments`);
  const joins = () => p.getByRole('link', { name: 'Join the video call' })
    .evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  const before = await joins();
  await p.getByRole('button', { name: 'Book' }).click();
  await p.waitForURL('**/appointments?done=booked');
  assert.match(await p.getByRole('status').first().innerText(), /booked/);
  const added = (await joins()).filter((h) => !before.includes(h));
  assert.equal(added.length, 1, 'the new appointment can be joined now');
  return added[0].split('/')[2];
}

/** The call page's state, connection, and verification words. */
export const callState = (page) => page.locator('[data-call]').evaluate((el) => ({ ...el.dataset }));

export async function waitForState(page, state, timeout = 15_000) {
  await page.waitForFunction((s) => document.querySelector('[data-call]')?.dataset.state === s, state, { timeout });
}

export async function waitForConnection(page, timeout = 30_000) {
  try {
    await page.waitForFunction(() => document.querySelector('[data-call]')?.dataset.connection === 'connected', null, { timeout });
  } catch (e) {
    // Say where the call was stuck.
    const where = await page.evaluate(() => {
      const pc = window.telewardenCall?.pc();
      return {
        status: document.querySelector('[data-status]')?.textContent,
        state: document.querySelector('[data-call]')?.dataset.state,
        connection: pc?.connectionState,
        ice: pc?.iceConnectionState,
        gathering: pc?.iceGatheringState,
        signaling: pc?.signalingState,
      };
    }).catch(() => ({}));
    throw new Error(`${e.message}\n${page.url()}: ${JSON.stringify(where)}\n${(traces.get(page) || []).join('\n')}`);
  }
}

/** The patient passes the device check and waits. */
export async function patientWaits(page, origin, id) {
  await page.goto(`${origin}/appointments/${id}/join`);
  await page.waitForFunction(() => /camera and microphone work/.test(document.querySelector('[data-status]').textContent));
  assert.equal(await page.locator('[data-preview]').evaluate((v) => v.srcObject?.getVideoTracks().length), 1, 'camera preview');
  await page.getByRole('button', { name: 'Go to the waiting room' }).click();
  await waitForState(page, 'waiting');
}

/** The clinician admits the patient from the waiting room and opens the call. */
export async function clinicianAdmits(page, origin, patientName) {
  await page.goto(`${origin}/waiting-room`);
  const item = page.locator('[data-queue-list] li', { hasText: patientName });
  await item.waitFor();
  assert.match(await item.innerText(), /waiting less than a minute/);
  await Promise.all([
    page.waitForURL('**/join'),
    item.getByRole('button', { name: `Admit ${patientName}` }).click(),
  ]);
  await page.waitForFunction(() => /camera and microphone work/.test(document.querySelector('[data-status]').textContent));
  await page.getByRole('button', { name: 'Start the consult' }).click();
  await waitForState(page, 'call');
}

/** Inbound RTP bytes per kind, and the selected candidate pair's types. */
export async function mediaStats(page) {
  return page.evaluate(async () => {
    const pc = window.telewardenCall.pc();
    const stats = await pc.getStats();
    const bytes = { audio: 0, video: 0 };
    let pair = null;
    const byId = new Map();
    stats.forEach((s) => byId.set(s.id, s));
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp') bytes[s.kind] += s.bytesReceived || 0;
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
    });
    return {
      bytes,
      local: pair ? byId.get(pair.localCandidateId)?.candidateType : null,
      remote: pair ? byId.get(pair.remoteCandidateId)?.candidateType : null,
    };
  });
}

/** Waits until both kinds of media have arrived (and keep arriving) on `page`. */
export async function waitForMedia(page, timeout = 20_000) {
  const deadline = Date.now() + timeout;
  let first = null;
  for (;;) {
    const s = await mediaStats(page);
    if (s.bytes.audio > 0 && s.bytes.video > 0) {
      if (!first) first = s;
      else if (s.bytes.audio > first.bytes.audio && s.bytes.video > first.bytes.video) return s;
    }
    if (Date.now() > deadline) throw new Error(`no media within ${timeout} ms: ${JSON.stringify(s)}`);
    await sleep(300);
  }
}
