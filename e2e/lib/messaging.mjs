// Steps of the end-to-end encrypted messaging browser test: the care team, the
// practice's native archive device (the `msg-client` CLI), and what /messages shows.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { watchedPage } from './browser.mjs';
import { addAuthenticator } from './flows.mjs';

/** The admin puts the clinician called `clinicianName` on `patientName`'s care team. */
export async function addToCareTeam(page, origin, patientName, clinicianName) {
  await page.goto(`${origin}/people`);
  await page.getByRole('link', { name: patientName }).click();
  await page.waitForURL(/\/people\/[^/]+$/);
  const form = page.locator('form[action$="/care-team"]');
  await form.getByLabel('Clinician').selectOption({ label: clinicianName });
  await form.getByRole('button', { name: 'Add to the care team' }).click();
  await page.locator('li', { hasText: clinicianName }).getByRole('button', { name: 'Take off the care team' }).waitFor();
}

/** The `msg-client` binary: `TW_MSG_CLIENT`, or built now from bench/. */
export function msgClientPath() {
  if (process.env.TW_MSG_CLIENT) return process.env.TW_MSG_CLIENT;
  const root = new URL('../../', import.meta.url).pathname;
  execFileSync('cargo', ['build', '-p', 'tw-bench', '--bin', 'msg-client'], { cwd: root, stdio: 'inherit' });
  const target = process.env.CARGO_TARGET_DIR || join(root, 'target');
  return join(target, 'debug', 'msg-client');
}

/**
 * Starts the practice archive (a native MLS device of kind "archive") with the admin's
 * session; resolves once it registered. `events` collects its JSON lines.
 */
export async function startArchive(context, origin, listenSecs = 240) {
  const cookie = (await context.cookies()).find((c) => /session/.test(c.name));
  if (!cookie) throw new Error('the admin has no session cookie');
  const child = spawn(msgClientPath(), [
    '--url', origin, '--cookie', `${cookie.name}=${cookie.value}`,
    '--kind', 'archive', '--label', 'Practice archive', '--listen-secs', String(listenSecs),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    let event;
    try { event = JSON.parse(line); } catch { return; }
    events.push(event);
    for (const w of [...waiters]) if (w.test(event)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(event); }
  });
  const archive = {
    child,
    events,
    stderr: () => stderr,
    /** Resolves with the first event (past or future) that passes `test`. */
    waitFor(test, timeout = 30_000) {
      const seen = events.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`archive: no such event within ${timeout} ms; saw ${JSON.stringify(events)}; stderr: ${stderr}`)), timeout);
        waiters.push({ test, resolve: (e) => { clearTimeout(timer); resolve(e); } });
      });
    },
    stop() { if (child.exitCode === null) process.kill(child.pid); },
  };
  child.on('exit', (code) => {
    if (!events.some((e) => e.event === 'registered')) {
      for (const w of waiters) w.resolve({ event: 'exited', code, stderr });
    }
  });
  const registered = await archive.waitFor((e) => e.event === 'registered' || e.event === 'exited');
  if (registered.event !== 'registered') throw new Error(`the archive did not register: ${stderr}`);
  return archive;
}

/** Opens /messages and waits until this browser's device is registered. */
export async function openMessages(page, origin) {
  await page.goto(`${origin}/messages`);
  await page.waitForSelector('[data-messaging][data-ready="yes"]', { timeout: 30_000 });
}

/** Waits until a message with `text` is shown in the open conversation. */
export async function waitForMessage(page, text, timeout = 20_000) {
  await page.locator('[data-messages] li', { hasText: text }).waitFor({ timeout });
}

/** Every file under `dir`, as bytes. */
export function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path));
    else if (st.isFile()) out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

/**
 * Like consult.mjs's `enrolWithPasskey`, but keeps the virtual authenticator, so the
 * same person can sign in again in another browser context (`signInElsewhere`).
 */
export async function enrolKeepingPasskey(browser, link) {
  const context = await browser.newContext({ acceptDownloads: true });
  const { page, problems } = await watchedPage(context);
  const authenticator = await addAuthenticator(page);
  await page.goto(link);
  await page.getByRole('button', { name: 'Create my passkey' }).click();
  await page.waitForURL('**/account/security?welcome=1');
  return { context, page, problems, authenticator };
}

/**
 * The same person in a second, fresh browser context (another browser of theirs): their
 * passkey copied into its authenticator, then a passkey sign-in. `prepare(page)` runs
 * before anything is loaded (e.g. `page.route`).
 */
export async function signInElsewhere(browser, origin, authenticator, name, prepare) {
  const context = await browser.newContext({ acceptDownloads: true });
  const { page, problems } = await watchedPage(context);
  if (prepare) await prepare(page);
  const copy = await addAuthenticator(page);
  for (const credential of await authenticator.credentials()) {
    await copy.cdp.send('WebAuthn.addCredential', { authenticatorId: copy.authenticatorId, credential });
  }
  await page.goto(`${origin}/sign-in`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForSelector(`h1:has-text("Welcome, ${name}")`);
  return { context, page, problems, authenticator: copy };
}

/** The admin takes the clinician called `clinicianName` off `patientName`'s care team. */
export async function takeOffCareTeam(page, origin, patientName, clinicianName) {
  await page.goto(`${origin}/people`);
  await page.getByRole('link', { name: patientName }).click();
  await page.waitForURL(/\/people\/[^/]+$/);
  await page.locator('li', { hasText: clinicianName }).getByRole('button', { name: 'Take off the care team' }).click();
  const dialog = page.locator('dialog#step-up');
  const shown = await Promise.race([
    page.locator('li', { hasText: clinicianName }).getByRole('button', { name: 'Take off the care team' })
      .waitFor({ state: 'detached' }).then(() => 'done'),
    dialog.waitFor({ state: 'visible' }).then(() => 'step-up'),
  ]);
  if (shown === 'step-up') {
    await dialog.getByRole('button', { name: 'Use my passkey' }).click();
    await page.locator('li', { hasText: clinicianName }).getByRole('button', { name: 'Take off the care team' })
      .waitFor({ state: 'detached' });
  }
}

/** Opens the first (only) conversation in the list and waits until it is shown. */
export async function openConversation(page, timeout = 20_000) {
  const open = page.locator('[data-open]');
  await open.first().waitFor({ timeout });
  await open.first().click();
  await page.locator('[data-conversation]:not([hidden])').waitFor();
}

/** Sends `text` from the open conversation and waits until it is shown there. */
export async function sendMessage(page, text) {
  await page.getByLabel('Your message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await shownOrError(page, waitForMessage(page, text));
}

/** Waits for `shown`, or fails with the page's error message if one appears first. */
export async function shownOrError(page, shown) {
  const error = page.locator('[data-error]:not([hidden])');
  const failed = error.waitFor({ timeout: 60_000 }).then(async () => error.innerText(), () => null);
  const outcome = await Promise.race([shown.then(() => null), failed.then((text) => text && { text })]);
  if (outcome?.text) throw new Error(`the page says: ${outcome.text}`);
  await shown;
}

/** The patient starts "Message my care team" and waits until the conversation is open. */
export async function startWithCareTeam(page) {
  await page.getByRole('button', { name: 'Message my care team' }).click();
  await shownOrError(page, page.locator('[data-conversation]:not([hidden])').waitFor());
}

/**
 * Everything this origin keeps in the messaging IndexedDB, as bytes per key (binary
 * fields decoded, text as UTF-8; CryptoKey objects, which cannot be read out, left out):
 * to look for plaintext in storage.
 */
export async function storedBytes(page) {
  const parts = await page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const req = indexedDB.open('telewarden-messaging');
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const out = {};
    const b64 = (u8) => {
      let s = '';
      for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode(...u8.subarray(i, i + 0x8000));
      return btoa(s);
    };
    await new Promise((resolve, reject) => {
      const tx = db.transaction('kv', 'readonly');
      const cursor = tx.objectStore('kv').openCursor();
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c) return;
        const list = [];
        const walk = (x) => {
          if (x instanceof CryptoKey) return;
          if (x instanceof ArrayBuffer) list.push({ b: b64(new Uint8Array(x)) });
          else if (ArrayBuffer.isView(x)) list.push({ b: b64(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)) });
          else if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) { list.push({ s: k }); walk(y); }
          else list.push({ s: String(x) });
        };
        walk(c.value);
        out[String(c.key)] = list;
        c.continue();
      };
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    return out;
  });
  return Object.fromEntries(Object.entries(parts).map(([key, list]) => [
    key,
    Buffer.concat(list.map((p) => (p.b !== undefined ? Buffer.from(p.b, 'base64') : Buffer.from(p.s)))),
  ]));
}
