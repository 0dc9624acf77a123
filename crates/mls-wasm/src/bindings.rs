//! The wasm-bindgen exports (wasm32 only).

use js_sys::Uint8Array;
use mls_client::{Device, DeviceIdentity, attachment, safety};
use wasm_bindgen::prelude::*;

use crate::json;

fn err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js(bytes: &[u8]) -> Uint8Array {
    Uint8Array::from(bytes)
}

/// One device, held by the page; save it with `exportState()` after every change.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmDevice {
    inner: Device,
}

/// A commit to send: `commit` to the group, `welcome` (if any) to the new members, `epoch`
/// the epoch it was made in. Then `mergePending` if the server took it, else
/// `discardPending`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct WasmCommit {
    commit: Vec<u8>,
    welcome: Option<Vec<u8>>,
    epoch: u64,
}

#[wasm_bindgen]
impl WasmCommit {
    /// The commit message.
    #[wasm_bindgen(getter)]
    pub fn commit(&self) -> Vec<u8> {
        self.commit.clone()
    }

    /// The Welcome for added members, or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn welcome(&self) -> Option<Vec<u8>> {
        self.welcome.clone()
    }

    /// The epoch the commit was made in.
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl From<mls_client::Commit> for WasmCommit {
    fn from(c: mls_client::Commit) -> Self {
        Self {
            commit: c.commit,
            welcome: c.welcome,
            epoch: c.epoch,
        }
    }
}

#[wasm_bindgen]
impl WasmDevice {
    /// A new device with a fresh signing key.
    pub fn create(account: &str, device: &str) -> Result<WasmDevice, JsError> {
        let id = DeviceIdentity::new(account, device).map_err(err)?;
        Ok(WasmDevice {
            inner: Device::create(id).map_err(err)?,
        })
    }

    /// Restores a device saved with `exportState()`.
    #[wasm_bindgen(js_name = importState)]
    pub fn import_state(bytes: &[u8]) -> Result<WasmDevice, JsError> {
        Ok(WasmDevice {
            inner: Device::import_state(bytes).map_err(err)?,
        })
    }

    /// The whole device as bytes (secret: store like a private key).
    #[wasm_bindgen(js_name = exportState)]
    pub fn export_state(&self) -> Result<Vec<u8>, JsError> {
        self.inner.export_state().map_err(err)
    }

    /// The account id.
    pub fn account(&self) -> String {
        self.inner.identity().account.clone()
    }

    /// The device id.
    pub fn device(&self) -> String {
        self.inner.identity().device.clone()
    }

    /// The Ed25519 signature public key (32 bytes).
    #[wasm_bindgen(js_name = signatureKey)]
    pub fn signature_key(&self) -> Vec<u8> {
        self.inner.signature_key()
    }

    /// `n` key packages to upload (an array of Uint8Array).
    #[wasm_bindgen(js_name = keyPackages)]
    pub fn key_packages(&mut self, n: usize) -> Result<Vec<Uint8Array>, JsError> {
        Ok(self
            .inner
            .key_packages(n)
            .map_err(err)?
            .iter()
            .map(|k| to_js(k))
            .collect())
    }

    /// A new group; returns its id.
    #[wasm_bindgen(js_name = createGroup)]
    pub fn create_group(&mut self) -> Result<Vec<u8>, JsError> {
        self.inner.create_group().map_err(err)
    }

    /// Commits adding the devices of these key packages.
    #[wasm_bindgen(js_name = addMembers)]
    pub fn add_members(
        &mut self,
        group: &[u8],
        key_packages: Vec<Uint8Array>,
    ) -> Result<WasmCommit, JsError> {
        let kps: Vec<Vec<u8>> = key_packages.iter().map(Uint8Array::to_vec).collect();
        self.inner
            .add_members(group, &kps)
            .map(WasmCommit::from)
            .map_err(err)
    }

    /// Commits removing devices, given as JSON `[{"account": "...", "device": "..."}]`.
    #[wasm_bindgen(js_name = removeMembers)]
    pub fn remove_members(
        &mut self,
        group: &[u8],
        devices_json: &str,
    ) -> Result<WasmCommit, JsError> {
        let ids = json::identities(devices_json).map_err(err)?;
        self.inner
            .remove_members(group, &ids)
            .map(WasmCommit::from)
            .map_err(err)
    }

    /// Commits a fresh leaf key for this device and nothing else (an MLS self-update),
    /// so a copy of the old state (a lost device) cannot follow the new epoch.
    pub fn update(&mut self, group: &[u8]) -> Result<WasmCommit, JsError> {
        self.inner.update(group).map(WasmCommit::from).map_err(err)
    }

    /// The server accepted the pending commit: apply it.
    #[wasm_bindgen(js_name = mergePending)]
    pub fn merge_pending(&mut self, group: &[u8]) -> Result<(), JsError> {
        self.inner.merge_pending(group).map_err(err)
    }

    /// The server refused the pending commit: forget it.
    #[wasm_bindgen(js_name = discardPending)]
    pub fn discard_pending(&mut self, group: &[u8]) -> Result<(), JsError> {
        self.inner.discard_pending(group).map_err(err)
    }

    /// Joins from a Welcome; returns the group id.
    pub fn join(&mut self, welcome: &[u8]) -> Result<Vec<u8>, JsError> {
        self.inner.join(welcome).map_err(err)
    }

    /// Encrypts a payload given as JSON (`{"text": "...", "attachments": [...]}`).
    pub fn encrypt(&mut self, group: &[u8], payload_json: &str) -> Result<Vec<u8>, JsError> {
        let payload = json::payload(payload_json).map_err(err)?;
        self.inner.encrypt(group, &payload).map_err(err)
    }

    /// Processes one incoming message; returns JSON (see `ReceivedJson`).
    pub fn process(&mut self, message: &[u8]) -> Result<String, JsError> {
        let r = self.inner.process(message).map_err(err)?;
        json::received(r).map_err(err)
    }

    /// The group's members as JSON `[{"account", "device", "signature_key" (hex)}]`.
    pub fn members(&self, group: &[u8]) -> Result<String, JsError> {
        json::members(self.inner.members(group).map_err(err)?).map_err(err)
    }

    /// The group's current epoch.
    pub fn epoch(&self, group: &[u8]) -> Result<u64, JsError> {
        self.inner.epoch(group).map_err(err)
    }

    /// The ids of this device's groups.
    pub fn groups(&self) -> Vec<Uint8Array> {
        self.inner.groups().iter().map(|g| to_js(g)).collect()
    }
}

/// An encrypted attachment: upload `ciphertext`, put `key` and `sha256` in the message.
#[wasm_bindgen]
#[derive(Debug)]
pub struct SealedAttachment {
    inner: attachment::Sealed,
}

#[wasm_bindgen]
impl SealedAttachment {
    /// `nonce || ciphertext || tag`.
    #[wasm_bindgen(getter)]
    pub fn ciphertext(&self) -> Vec<u8> {
        self.inner.ciphertext.clone()
    }

    /// The file key (32 bytes).
    #[wasm_bindgen(getter)]
    pub fn key(&self) -> Vec<u8> {
        self.inner.key.to_vec()
    }

    /// SHA-256 of `ciphertext` (32 bytes).
    #[wasm_bindgen(getter)]
    pub fn sha256(&self) -> Vec<u8> {
        self.inner.sha256.to_vec()
    }
}

/// Encrypts a file under a fresh key.
#[wasm_bindgen(js_name = sealAttachment)]
pub fn seal_attachment(plaintext: &[u8]) -> Result<SealedAttachment, JsError> {
    Ok(SealedAttachment {
        inner: attachment::seal(plaintext).map_err(err)?,
    })
}

fn array32(bytes: &[u8], what: &str) -> Result<[u8; 32], JsError> {
    bytes
        .try_into()
        .map_err(|_| JsError::new(&format!("{what} must be 32 bytes")))
}

/// Checks the hash and decrypts a downloaded attachment.
#[wasm_bindgen(js_name = openAttachment)]
pub fn open_attachment(ciphertext: &[u8], key: &[u8], sha256: &[u8]) -> Result<Vec<u8>, JsError> {
    let key = array32(key, "the key")?;
    let sha = array32(sha256, "the hash")?;
    attachment::open(ciphertext, &key, &sha).map_err(err)
}

/// The 60-digit safety number between two accounts, each with the signature keys of all
/// its devices (arrays of Uint8Array).
#[wasm_bindgen(js_name = safetyNumber)]
pub fn safety_number(
    account_a: &str,
    keys_a: Vec<Uint8Array>,
    account_b: &str,
    keys_b: Vec<Uint8Array>,
) -> String {
    let a: Vec<Vec<u8>> = keys_a.iter().map(Uint8Array::to_vec).collect();
    let b: Vec<Vec<u8>> = keys_b.iter().map(Uint8Array::to_vec).collect();
    safety::safety_number((account_a, &a), (account_b, &b))
}
