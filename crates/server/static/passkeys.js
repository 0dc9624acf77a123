// Passkeys (WebAuthn) in the browser: turn the server's JSON options into the shapes
// `navigator.credentials` wants (ArrayBuffers), and the browser's answer back into JSON
// (base64url), then post it. Used by the sign-in, enrolment, security and step-up pages.

const b64urlToBuffer = (text) => {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
};

const bufferToB64url = (buffer) => {
  const bytes = new Uint8Array(buffer);
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** Whether this browser can use passkeys at all. */
export const supported = () => typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;

/** POSTs JSON and returns the parsed answer, or throws an Error with the server's message. */
export async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  let data = null;
  try { data = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) {
    const error = new Error(data?.message || 'Something went wrong. Please try again.');
    error.code = data?.code;
    throw error;
  }
  return data;
}

function creationOptions(options) {
  const pk = structuredClone(options.publicKey);
  pk.challenge = b64urlToBuffer(pk.challenge);
  pk.user.id = b64urlToBuffer(pk.user.id);
  pk.excludeCredentials = (pk.excludeCredentials || []).map((c) => ({ ...c, id: b64urlToBuffer(c.id) }));
  // Ask for the PRF extension (hmac-secret) so the passkey can later unlock the
  // encrypted messaging backup (messaging-backup.js); authenticators without it ignore
  // the request, and the server does not depend on it.
  pk.extensions = { ...(pk.extensions || {}), prf: {} };
  return { publicKey: pk };
}

function requestOptions(options) {
  const pk = structuredClone(options.publicKey);
  pk.challenge = b64urlToBuffer(pk.challenge);
  pk.allowCredentials = (pk.allowCredentials || []).map((c) => ({ ...c, id: b64urlToBuffer(c.id) }));
  return { publicKey: pk };
}

function registrationJson(credential) {
  const r = credential.response;
  return {
    id: credential.id,
    rawId: bufferToB64url(credential.rawId),
    type: credential.type,
    response: {
      attestationObject: bufferToB64url(r.attestationObject),
      clientDataJSON: bufferToB64url(r.clientDataJSON),
      transports: typeof r.getTransports === 'function' ? r.getTransports() : undefined,
    },
    extensions: credential.getClientExtensionResults?.() ?? {},
  };
}

function assertionJson(credential) {
  const r = credential.response;
  return {
    id: credential.id,
    rawId: bufferToB64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: bufferToB64url(r.authenticatorData),
      clientDataJSON: bufferToB64url(r.clientDataJSON),
      signature: bufferToB64url(r.signature),
      userHandle: r.userHandle ? bufferToB64url(r.userHandle) : null,
    },
    extensions: credential.getClientExtensionResults?.() ?? {},
  };
}

/** Words for a person when the browser or device says no. */
export function explain(error) {
  switch (error?.name) {
    case 'NotAllowedError':
      return 'The passkey request was cancelled or timed out. You can try again.';
    case 'InvalidStateError':
      return 'This device already has a passkey for your account.';
    case 'SecurityError':
      return 'Passkeys are not available on this address. Open Telewarden through its usual address.';
    case 'NotSupportedError':
      return 'This browser or device cannot make passkeys. Try another, or use a password.';
    default:
      return error?.message || 'Something went wrong. Please try again.';
  }
}

/** Registers a new passkey: `start` and `finish` are the endpoint URLs. */
export async function register(start, finish, name) {
  const challenge = await postJson(start, {});
  const credential = await navigator.credentials.create(creationOptions(challenge.options));
  return postJson(finish, { ceremony_id: challenge.ceremony_id, credential: registrationJson(credential), name });
}

/** Authenticates with a passkey: `start` and `finish` are the endpoint URLs. */
export async function authenticate(start, finish) {
  const challenge = await postJson(start, {});
  const credential = await navigator.credentials.get(requestOptions(challenge.options));
  return postJson(finish, { ceremony_id: challenge.ceremony_id, credential: assertionJson(credential) });
}
