// Debian's Chromium, headless, with the flags this machine needs (see BROWSER-TESTS).
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.TW_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
    ],
  });
}

/** A page that records console errors, uncaught exceptions and CSP violations. */
export async function watchedPage(context) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    // Error pages are deliberate; Chromium logs their status. Everything else counts.
    const text = msg.text();
    if (msg.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) {
      problems.push(`console: ${text}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`exception: ${err.message}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return { page, problems };
}
