// Steps people take, shared by the browser tests: a virtual authenticator, practice
// setup with a passkey, authenticator-app codes.
import { createHmac } from 'node:crypto';
import assert from 'node:assert/strict';

/** Gives the browser context a platform authenticator that can hold passkeys. */
export async function addAuthenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
      hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return {
    cdp,
    authenticatorId,
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
    async remove() {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    },
  };
}

/** RFC 4648 base32 (no padding) to bytes. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (SHA-1, 30 s, 6 digits) for `secretText` at `unixSeconds`. */
export function totp(secretText, unixSeconds = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32(secretText)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, '0');
}

export const ADMIN = { name: 'Rosalind Quenby', email: 'rosalind@quenby.example' };
export const PRACTICE = 'Quenby Street Medical';

/**
 * First-run setup in a fresh context with an authenticator: the administrator names the
 * practice and creates a passkey. Returns the signed-in page and the recovery codes.
 */
export async function setUpPractice(browser, server) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const authenticator = await addAuthenticator(page);
  await page.goto(server.setupLink);
  await page.getByLabel('Practice name').fill(PRACTICE);
  await page.getByLabel('Your name').fill(ADMIN.name);
  await page.getByLabel('E-mail address').fill(ADMIN.email);
  await page.getByRole('button', { name: 'Create the practice and continue' }).click();
  await page.waitForSelector(`h1:has-text("Welcome, ${ADMIN.name}")`);
  await page.getByLabel('Name for this passkey').fill('Front desk laptop');
  await page.getByRole('button', { name: 'Create my passkey' }).click();
  await page.waitForURL('**/account/security?welcome=1');
  const codes = await page.locator('[data-recovery-codes] code').allInnerTexts();
  assert.equal(codes.length, 10, 'recovery codes are shown once, right away');
  return { context, page, authenticator, codes };
}

/** The set-up link shown after inviting someone. */
export async function invite(page, origin, { name, email, role }) {
  await page.goto(`${origin}/people/invite`);
  await page.getByLabel('Their name').fill(name);
  await page.getByLabel('Their e-mail address').fill(email);
  await page.getByLabel('Role').selectOption(role);
  await page.getByRole('button', { name: 'Send the invitation' }).click();
  // Inviting staff is an administrator change: a stale sign-in is asked to step up.
  const dialog = page.locator('dialog#step-up');
  const shown = await Promise.race([
    page.locator('code.link').waitFor().then(() => 'link'),
    dialog.waitFor({ state: 'visible' }).then(() => 'step-up'),
  ]);
  if (shown === 'step-up') {
    await dialog.getByRole('button', { name: 'Use my passkey' }).click();
  }
  const link = await page.locator('code.link').innerText();
  assert.match(link, /\/enrol\/[A-Za-z0-9_-]{43}$/);
  return link;
}
