// Steps of the messaging-backup browser test: a passkey on an authenticator with PRF
// (hmac-secret), a "new browser" for the same person, and the /messages/devices page.
import { watchedPage } from './browser.mjs';

const OPTIONS = {
  protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
  hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
};

/** Adds a virtual authenticator to `page`, with PRF (hmac-secret) support or without. */
export async function addVirtualAuthenticator(page, { prf }) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { ...OPTIONS, hasPrf: prf },
  });
  return { cdp, authenticatorId };
}

/** Enrols through `link` with a passkey; keeps the authenticator for later copies. */
export async function enrolWithPasskeyOn(browser, link, { prf }) {
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const authenticator = await addVirtualAuthenticator(page, { prf });
  await page.goto(link);
  await page.getByRole('button', { name: 'Create my passkey' }).click();
  await page.waitForURL('**/account/security?welcome=1');
  return { context, page, problems, authenticator };
}

/**
 * A new browser for the person whose passkeys the authenticator `from` holds: a new
 * context (no cookies, no IndexedDB) with an authenticator holding copies of them.
 * (Copies sign in; Chromium's CDP does not carry a credential's PRF seed, so they give
 * no PRF output.)
 */
export async function newBrowserFor(browser, from) {
  const { credentials } = await from.cdp.send('WebAuthn.getCredentials', { authenticatorId: from.authenticatorId });
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  const target = await addVirtualAuthenticator(page, { prf: false });
  for (const credential of credentials) {
    await target.cdp.send('WebAuthn.addCredential', { authenticatorId: target.authenticatorId, credential });
  }
  return { context, page, problems, copied: credentials.length };
}

/** Signs in with a passkey on the sign-in page. */
export async function signInWithPasskey(page, origin) {
  await page.goto(`${origin}/sign-in`);
  await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
}

/** Opens /messages/devices and waits until it has loaded. */
export async function openDevices(page, origin) {
  await page.goto(`${origin}/messages/devices`);
  await page.waitForSelector('[data-messaging-devices][data-ready="yes"]', { timeout: 30_000 });
}

/** Whether this browser's IndexedDB holds a messaging device for `account`. */
export async function hasLocalDevice(page) {
  return page.evaluate(async () => {
    const me = document.querySelector('[data-user]')?.dataset.user;
    const { exportSnapshot } = await import('/static/messaging-store.js');
    return Boolean(await exportSnapshot(me));
  });
}

/** The number of messaging devices the signed-in person has (removed ones too). */
export async function deviceCount(page) {
  return page.evaluate(async () => {
    const res = await fetch('/api/messaging/devices', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`devices: ${res.status}`);
    return (await res.json()).length;
  });
}

/** The epoch of each conversation, as the server tells the messages page's device. */
export async function conversationEpochs(page) {
  return page.evaluate(async () => {
    const device = document.querySelector('[data-messaging]').dataset.device;
    const res = await fetch(`/api/messaging/conversations?device=${device}`, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error(`conversations: ${res.status}`);
    return Object.fromEntries((await res.json()).map((v) => [v.id, v.epoch]));
  });
}

/** Waits until the restored device on the messages page has renewed its keys. */
export async function waitForRotation(page, timeout = 30_000) {
  const until = Date.now() + timeout;
  for (;;) {
    const pending = await page.evaluate(async () => {
      const me = document.querySelector('[data-user]')?.dataset.user;
      const { loadDevice } = await import('/static/messaging-store.js');
      return Boolean((await loadDevice(me))?.rotateAfterRestore);
    });
    if (!pending) return;
    if (Date.now() > until) throw new Error('the restored device did not renew its keys');
    await page.waitForTimeout(250);
  }
}
