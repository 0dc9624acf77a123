// /messages/devices: the account's messaging devices (this browser marked), removing
// the others, setting up the encrypted backup of this browser's device, and restoring a
// backup into a browser that has no device for the account yet.
import { exportSnapshot } from './messaging-store.js';
import { ApiError, api, backUpNow, enable, loadConfig, newPhrase, prfOutput, restore } from './messaging-backup.js';
import { ensureRecent } from './step-up.js';

const root = document.querySelector('[data-messaging-devices]');
const me = root.dataset.user;
const $ = (sel) => root.querySelector(sel);

function status(text) { $('[data-status]').textContent = text; }
function showError(text) {
  const el = $('[data-error]');
  el.textContent = text;
  el.hidden = !text;
}
const when = (ms) => new Date(ms).toLocaleString();

let localDevice = null; // this browser's device id for this account, if any

function renderDevices(devices) {
  const ul = $('[data-devices]');
  ul.replaceChildren();
  $('[data-no-devices]').hidden = devices.length > 0;
  for (const d of devices) {
    const li = document.createElement('li');
    li.dataset.device = d.id;
    const name = document.createElement('strong');
    name.textContent = d.label;
    const info = document.createElement('span');
    info.className = 'hint';
    const parts = [d.kind === 'archive' ? 'Practice archive' : 'Device', `added ${when(d.created_ms)}`];
    if (d.removed_ms) parts.push(`removed ${when(d.removed_ms)}`);
    else parts.push(d.has_backup ? `backed up ${when(d.backup_updated_ms)}` : 'no backup');
    info.textContent = ` ${parts.join(' · ')}`;
    li.append(name);
    if (d.id === localDevice) {
      const mark = document.createElement('span');
      mark.className = 'badge';
      mark.dataset.thisBrowser = '';
      mark.textContent = ' This browser';
      li.append(mark);
    }
    li.append(info);
    if (!d.removed_ms && d.id !== localDevice) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'button small secondary';
      button.textContent = 'Remove';
      button.addEventListener('click', async () => {
        // eslint-disable-next-line no-alert
        if (!window.confirm(`Remove "${d.label}"? It will no longer receive or send messages, and its backup is deleted.`)) return;
        button.disabled = true;
        showError('');
        try {
          await api('POST', `/api/messaging/devices/${d.id}/remove`, {});
          status(`"${d.label}" was removed.`);
          await refresh();
        } catch (e) {
          button.disabled = false;
          showError(`Could not remove the device: ${e.message}`);
        }
      });
      li.append(' ', button);
    }
    ul.append(li);
  }
}

async function renderBackup(devices) {
  const section = $('[data-backup]');
  section.hidden = !localDevice;
  if (!localDevice) return;
  const config = await loadConfig(me);
  const server = devices.find((d) => d.id === localDevice);
  const on = config && config.deviceId === localDevice && server?.has_backup;
  $('[data-backup-state]').textContent = on
    ? `Backup is on (${config.unlock.map((u) => (u.method === 'prf' ? 'unlocked with your passkey' : 'unlocked with your recovery phrase')).join(', ')}); last backed up ${when(server.backup_updated_ms)}.`
    : 'This browser\'s messages are not backed up. If you lose this browser, you lose its conversations.';
  section.dataset.backupOn = on ? 'yes' : 'no';
  $('[data-set-up-backup]').hidden = Boolean(on);
}

/** Asks for a fresh sign-in when the server wants one, then runs `fn` again once. */
async function withStepUp(fn) {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof ApiError) || e.code !== 'step-up-required') throw e;
    if (!(await ensureRecent())) throw new Error('Please confirm it is you first.');
    return fn();
  }
}

function renderRestore(backups) {
  const section = $('[data-restore]');
  section.hidden = Boolean(localDevice) || backups.length === 0;
  const ul = $('[data-backups]');
  ul.replaceChildren();
  const form = $('[data-restore-phrase]');
  form.hidden = true;
  let chosen = null;
  // A backup is fetched once per visit (each fetch is a restore in the ledger); a
  // mistyped phrase is tried again against the copy in hand.
  const fetched = new Map();
  const run = async (backupInfo, options) => {
    showError('');
    status('Restoring…');
    try {
      if (!fetched.has(backupInfo.device_id)) {
        fetched.set(backupInfo.device_id, await withStepUp(() => api('GET', `/api/messaging/devices/${backupInfo.device_id}/backup`)));
      }
      const full = fetched.get(backupInfo.device_id);
      await restore(me, full, options);
      status('Restored. Opening your messages…');
      window.location.assign('/messages');
    } catch (e) {
      status('');
      showError(e?.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out. You can try again.' : e.message);
    }
  };
  for (const b of backups) {
    const li = document.createElement('li');
    li.dataset.backup = b.device_id;
    const text = document.createElement('span');
    text.textContent = `Backup from ${when(b.updated_ms)} `;
    li.append(text);
    if (b.unlock.some((u) => u.method === 'prf')) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'button small';
      button.textContent = 'Restore with passkey';
      button.addEventListener('click', () => run(b, { usePasskey: true }));
      li.append(button, ' ');
    }
    if (b.unlock.some((u) => u.method === 'phrase')) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'button small secondary';
      button.textContent = 'Use recovery phrase';
      button.addEventListener('click', () => {
        chosen = b;
        form.hidden = false;
        form.elements.phrase.focus();
      });
      li.append(button);
    }
    ul.append(li);
  }
  form.onsubmit = (event) => {
    event.preventDefault();
    if (chosen) run(chosen, { phrase: form.elements.phrase.value });
  };
}

async function refresh() {
  const snapshot = await exportSnapshot(me);
  localDevice = snapshot?.record?.registered ? snapshot.record.deviceId : null;
  const devices = await api('GET', '/api/messaging/devices');
  // A device removed elsewhere is not this browser's any more.
  if (localDevice && devices.find((d) => d.id === localDevice)?.removed_ms) localDevice = null;
  renderDevices(devices);
  await renderBackup(devices);
  renderRestore(localDevice ? [] : await api('GET', '/api/messaging/backups'));
}

async function setUpBackup() {
  showError('');
  const button = $('[data-set-up-backup]');
  button.disabled = true;
  const salt = crypto.getRandomValues(new Uint8Array(32));
  try {
    let prf = null;
    if (typeof window.PublicKeyCredential === 'function') {
      status('Confirm with your passkey to protect the backup…');
      try {
        const out = await prfOutput(salt);
        if (out.first) prf = out;
      } catch (e) {
        if (e?.name !== 'NotAllowedError') throw e;
        // Cancelled or no passkey here: a recovery phrase still works.
      }
    }
    if (prf) {
      status('Backing up…');
      await enable(me, localDevice, { salt, prf });
      status('Backup is on. It is unlocked with your passkey.');
      await refresh();
      return;
    }
    // No PRF: a recovery phrase, shown once; backup starts once they confirm.
    const phrase = newPhrase();
    $('[data-phrase-text]').textContent = phrase.replace(/-/g, ' ');
    $('[data-phrase]').hidden = false;
    button.hidden = true;
    status('Write down your recovery phrase.');
    const confirm = $('[data-phrase-confirm]');
    const done = $('[data-phrase-done]');
    confirm.checked = false;
    confirm.onchange = () => { done.disabled = !confirm.checked; };
    done.onclick = async () => {
      done.disabled = true;
      try {
        await enable(me, localDevice, { salt, phrase });
        $('[data-phrase-text]').textContent = '';
        $('[data-phrase]').hidden = true;
        status('Backup is on. It is unlocked with your recovery phrase.');
        await refresh();
      } catch (e) {
        done.disabled = false;
        showError(`Could not turn on backup: ${e.message}`);
      }
    };
  } catch (e) {
    status('');
    showError(`Could not set up backup: ${e.message}`);
  } finally {
    button.disabled = false;
  }
}

(async () => {
  try {
    $('[data-set-up-backup]').addEventListener('click', setUpBackup);
    await refresh();
    // Bring the backup up to date on each visit (quietly; it is retried on each save).
    if (localDevice) backUpNow(me).then(() => refresh()).catch(() => {});
    status(localDevice ? 'This browser is set up for secure messaging.' : 'This browser has no messaging device for your account yet.');
    root.dataset.ready = 'yes';
  } catch (e) {
    showError(`Could not load your devices: ${e.message}`);
    status('');
  }
})();
