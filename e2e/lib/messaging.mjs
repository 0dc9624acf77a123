// Steps of the end-to-end encrypted messaging browser test: the care team, the
// practice's native archive device (the `msg-client` CLI), and what /messages shows.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

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
