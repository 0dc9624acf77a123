//! A device: its signing key, its credential and its MLS groups.

use std::collections::{BTreeMap, HashMap};

use openmls::prelude::{
    BasicCredential, Credential, CredentialWithKey, GroupId, KeyPackage, KeyPackageIn,
    LeafNodeIndex, MlsGroup, MlsGroupCreateConfig, MlsGroupJoinConfig, MlsMessageBodyIn,
    MlsMessageIn, MlsMessageOut, PURE_PLAINTEXT_WIRE_FORMAT_POLICY, ProcessedMessageContent,
    Proposal, ProtocolVersion, Sender, SenderRatchetConfiguration, StagedWelcome, WireFormatPolicy,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::OpenMlsProvider;
use tls_codec::{DeserializeBytes, Serialize as _};

use crate::CIPHERSUITE;
use crate::error::{Error, Result, msg};
use crate::identity::DeviceIdentity;
use crate::payload::Payload;
use crate::state::SavedState;

/// How many past epochs' message keys a member keeps, so that application messages sent
/// just before a commit (and delivered after it) still decrypt. Kept small: old keys are
/// what an attacker who later steals the device would use.
pub const MAX_PAST_EPOCHS: usize = 3;
/// Messages of one sender that may arrive out of order (keys kept for skipped
/// generations), and how far ahead a sender's generation may jump.
const OUT_OF_ORDER_TOLERANCE: u32 = 32;
const MAXIMUM_FORWARD_DISTANCE: u32 = 1000;

/// Handshake messages (commits) are PublicMessages, application messages are
/// PrivateMessages ([`PURE_PLAINTEXT_WIRE_FORMAT_POLICY`]: its "plaintext" applies to
/// handshake messages only — OpenMLS always encrypts application messages, and checks
/// the incoming policy only for handshake messages, so encrypted application messages
/// are accepted and encrypted commits refused).
///
/// Commits are signed but readable by the server: it checks what each one adds and
/// removes (see [`crate::frame::inspect_commit`]) against what the committer declared
/// and what it handed out, so a member cannot silently remove the practice archive or a
/// patient, add a forged key package, or send a commit the server cannot read and that
/// would wedge the group. Commits reveal membership, which the server knows anyway; the
/// content of messages stays encrypted.
fn wire_format_policy() -> WireFormatPolicy {
    PURE_PLAINTEXT_WIRE_FORMAT_POLICY
}

fn sender_ratchet() -> SenderRatchetConfiguration {
    SenderRatchetConfiguration::new(OUT_OF_ORDER_TOLERANCE, MAXIMUM_FORWARD_DISTANCE)
}

fn create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .wire_format_policy(wire_format_policy())
        // The ratchet tree travels in the Welcome, so a Welcome alone is enough to join.
        .use_ratchet_tree_extension(true)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .sender_ratchet_configuration(sender_ratchet())
        .build()
}

fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(wire_format_policy())
        .use_ratchet_tree_extension(true)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .sender_ratchet_configuration(sender_ratchet())
        .build()
}

/// The OpenMLS provider: RustCrypto for the primitives, an in-memory key/value store whose
/// contents [`Device::export_state`] saves whole.
#[derive(Debug, Default)]
struct Provider {
    crypto: RustCrypto,
    storage: MemoryStorage,
}

impl OpenMlsProvider for Provider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = MemoryStorage;

    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }

    fn crypto(&self) -> &Self::CryptoProvider {
        &self.crypto
    }

    fn rand(&self) -> &Self::RandProvider {
        &self.crypto
    }
}

/// A commit this device made and has not yet merged.
///
/// Send `commit` (and `welcome`, to the new members) to the server. If the server accepts
/// the commit as the one for `epoch`, call [`Device::merge_pending`]; if it refuses it
/// because another member's commit won that epoch, call [`Device::discard_pending`],
/// process the winner, and try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The commit (TLS-serialised `MlsMessageOut`, a signed PublicMessage the server can
    /// inspect with [`crate::frame::inspect_commit`]).
    pub commit: Vec<u8>,
    /// The Welcome for added members (TLS-serialised `MlsMessageOut`), if any were added.
    pub welcome: Option<Vec<u8>>,
    /// The epoch the commit was made in (the group moves to `epoch + 1` once merged).
    pub epoch: u64,
}

/// A group member as the device sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Who the member is.
    pub identity: DeviceIdentity,
    /// The member's Ed25519 signature public key (32 bytes), for safety numbers.
    pub signature_key: Vec<u8>,
}

/// What processing one incoming message produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// An application message, decrypted and authenticated.
    Message {
        /// The group id.
        group: Vec<u8>,
        /// The member that sent it (from its MLS credential).
        sender: DeviceIdentity,
        /// The content.
        payload: Payload,
        /// The epoch it was sent in.
        epoch: u64,
    },
    /// Another member's commit, already merged: the group is now at `epoch`.
    Commit {
        /// The group id.
        group: Vec<u8>,
        /// Devices the commit added.
        added: Vec<DeviceIdentity>,
        /// Devices the commit removed.
        removed: Vec<DeviceIdentity>,
        /// The group's new epoch, after the commit.
        epoch: u64,
    },
    /// A message this device sent itself, fanned back by the server: nothing to do (MLS
    /// cannot decrypt one's own messages; the sender already has the content).
    OwnMessage {
        /// The group id.
        group: Vec<u8>,
    },
    /// A commit removed this device: the group is forgotten, later messages for it fail.
    RemovedSelf {
        /// The group id.
        group: Vec<u8>,
    },
}

/// One device of one account: its Ed25519 signer, its MLS credential and all its groups.
///
/// All state lives in memory; [`Device::export_state`] and [`Device::import_state`] move
/// it to and from bytes (IndexedDB in the browser, an encrypted backup).
pub struct Device {
    provider: Provider,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    identity: DeviceIdentity,
    groups: BTreeMap<Vec<u8>, MlsGroup>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys.
        f.debug_struct("Device")
            .field("identity", &self.identity)
            .field("groups", &self.groups.len())
            .finish_non_exhaustive()
    }
}

pub(crate) fn identity_of(credential: &Credential) -> Result<DeviceIdentity> {
    let basic = BasicCredential::try_from(credential.clone())
        .map_err(|_| Error::InvalidIdentity("not a basic credential"))?;
    DeviceIdentity::from_credential_bytes(basic.identity())
}

/// Parses a TLS-serialised `MlsMessage`, refusing trailing bytes.
pub(crate) fn parse_message(bytes: &[u8]) -> Result<MlsMessageIn> {
    if bytes.is_empty() {
        return Err(Error::Malformed("empty input".into()));
    }
    MlsMessageIn::tls_deserialize_exact_bytes(bytes).map_err(|e| Error::Malformed(msg(e)))
}

/// Parses and validates a key package: signatures, our ciphersuite, lifetime, and a
/// Telewarden credential.
pub(crate) fn validate_key_package(
    crypto: &RustCrypto,
    bytes: &[u8],
) -> Result<(KeyPackage, DeviceIdentity)> {
    let kp_in: KeyPackageIn = match parse_message(bytes)?.extract() {
        MlsMessageBodyIn::KeyPackage(kp) => kp,
        _ => return Err(Error::InvalidKeyPackage("not a key package".into())),
    };
    let kp = kp_in
        .validate(crypto, ProtocolVersion::Mls10)
        .map_err(|e| Error::InvalidKeyPackage(msg(e)))?;
    if kp.ciphersuite() != CIPHERSUITE {
        return Err(Error::InvalidKeyPackage(
            "it uses another ciphersuite".into(),
        ));
    }
    let identity =
        identity_of(kp.leaf_node().credential()).map_err(|e| Error::InvalidKeyPackage(msg(e)))?;
    Ok((kp, identity))
}

fn out_bytes(m: &MlsMessageOut) -> Result<Vec<u8>> {
    m.tls_serialize_detached().map_err(|e| Error::Group(msg(e)))
}

impl Device {
    /// A new device with a fresh Ed25519 key.
    pub fn create(identity: DeviceIdentity) -> Result<Device> {
        let provider = Provider::default();
        let signer = SignatureKeyPair::new(CIPHERSUITE.signature_algorithm())
            .map_err(|e| Error::Crypto(format!("{e:?}")))?;
        signer
            .store(provider.storage())
            .map_err(|e| Error::Crypto(msg(e)))?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(identity.to_credential_bytes()?).into(),
            signature_key: signer.to_public_vec().into(),
        };
        Ok(Device {
            provider,
            signer,
            credential,
            identity,
            groups: BTreeMap::new(),
        })
    }

    /// Who this device is.
    pub fn identity(&self) -> &DeviceIdentity {
        &self.identity
    }

    /// This device's Ed25519 signature public key (32 bytes).
    pub fn signature_key(&self) -> Vec<u8> {
        self.signer.to_public_vec()
    }

    /// Signs the approval of a new device of this account ([`crate::approval_message`]).
    pub fn sign_approval(&self, device_id: &str, signature_key_hex: &str) -> Result<Vec<u8>> {
        use openmls_traits::signatures::Signer;
        self.signer
            .sign(&crate::approval_message(device_id, signature_key_hex))
            .map_err(|e| Error::Crypto(format!("{e:?}")))
    }

    /// `n` fresh key packages (each a TLS-serialised `MlsMessageOut`) to upload; each lets
    /// one group add this device once. Their private keys stay in this device's state.
    pub fn key_packages(&mut self, n: usize) -> Result<Vec<Vec<u8>>> {
        (0..n)
            .map(|_| {
                let bundle = KeyPackage::builder()
                    .build(
                        CIPHERSUITE,
                        &self.provider,
                        &self.signer,
                        self.credential.clone(),
                    )
                    .map_err(|e| Error::Group(msg(e)))?;
                out_bytes(&MlsMessageOut::from(bundle.key_package().clone()))
            })
            .collect()
    }

    /// A new group with this device as its only member; returns the group id (16 random
    /// bytes).
    pub fn create_group(&mut self) -> Result<Vec<u8>> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|e| Error::Crypto(msg(e)))?;
        let group = MlsGroup::new_with_group_id(
            &self.provider,
            &self.signer,
            &create_config(),
            GroupId::from_slice(&id),
            self.credential.clone(),
        )
        .map_err(|e| Error::Group(msg(e)))?;
        self.groups.insert(id.to_vec(), group);
        Ok(id.to_vec())
    }

    fn group_ref(&self, group: &[u8]) -> Result<&MlsGroup> {
        self.groups.get(group).ok_or(Error::UnknownGroup)
    }

    /// Commits adding the devices of these key packages (each validated first). Leaves a
    /// pending commit: see [`Commit`].
    pub fn add_members(&mut self, group: &[u8], key_packages: &[Vec<u8>]) -> Result<Commit> {
        if key_packages.is_empty() {
            return Err(Error::Group("no key package given".into()));
        }
        let kps = key_packages
            .iter()
            .map(|b| validate_key_package(&self.provider.crypto, b).map(|(kp, _)| kp))
            .collect::<Result<Vec<_>>>()?;
        let Self {
            provider,
            signer,
            groups,
            ..
        } = self;
        let g = groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        let epoch = g.epoch().as_u64();
        let (commit, welcome, _) = g
            .add_members(&*provider, &*signer, &kps)
            .map_err(|e| Error::Group(msg(e)))?;
        Ok(Commit {
            commit: out_bytes(&commit)?,
            welcome: Some(out_bytes(&welcome)?),
            epoch,
        })
    }

    /// Commits removing these devices. Leaves a pending commit: see [`Commit`].
    pub fn remove_members(&mut self, group: &[u8], devices: &[DeviceIdentity]) -> Result<Commit> {
        if devices.is_empty() {
            return Err(Error::Group("no device given".into()));
        }
        let Self {
            provider,
            signer,
            groups,
            ..
        } = self;
        let g = groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        let by_identity: HashMap<DeviceIdentity, LeafNodeIndex> = g
            .members()
            .filter_map(|m| identity_of(&m.credential).ok().map(|id| (id, m.index)))
            .collect();
        let leaves = devices
            .iter()
            .map(|d| {
                by_identity
                    .get(d)
                    .copied()
                    .ok_or_else(|| Error::NotMember(d.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let epoch = g.epoch().as_u64();
        let (commit, welcome, _) = g
            .remove_members(&*provider, &*signer, &leaves)
            .map_err(|e| Error::Group(msg(e)))?;
        Ok(Commit {
            commit: out_bytes(&commit)?,
            welcome: welcome.as_ref().map(out_bytes).transpose()?,
            epoch,
        })
    }

    /// Commits a fresh leaf key for this device and nothing else (an MLS "update"): it
    /// heals the group after a suspected key compromise, and is the smallest commit.
    /// Leaves a pending commit: see [`Commit`].
    pub fn update(&mut self, group: &[u8]) -> Result<Commit> {
        let Self {
            provider,
            signer,
            groups,
            ..
        } = self;
        let g = groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        let epoch = g.epoch().as_u64();
        let bundle = g
            .self_update(
                &*provider,
                &*signer,
                openmls::prelude::LeafNodeParameters::default(),
            )
            .map_err(|e| Error::Group(msg(e)))?;
        Ok(Commit {
            commit: out_bytes(bundle.commit())?,
            welcome: None,
            epoch,
        })
    }

    /// The server accepted this device's pending commit: apply it (the group moves to the
    /// next epoch).
    pub fn merge_pending(&mut self, group: &[u8]) -> Result<()> {
        let Self {
            provider, groups, ..
        } = self;
        let g = groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        if g.pending_commit().is_none() {
            return Err(Error::NoPendingCommit);
        }
        g.merge_pending_commit(&*provider)
            .map_err(|e| Error::Group(msg(e)))
    }

    /// The server refused this device's pending commit (another commit won the epoch):
    /// forget it. Process the winning commit, then retry.
    pub fn discard_pending(&mut self, group: &[u8]) -> Result<()> {
        let Self {
            provider, groups, ..
        } = self;
        let g = groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        if g.pending_commit().is_none() {
            return Err(Error::NoPendingCommit);
        }
        g.clear_pending_commit(&provider.storage)
            .map_err(|e| Error::Group(msg(e)))
    }

    /// Joins a group from a Welcome (the ratchet tree is inside it); returns the group id.
    pub fn join(&mut self, welcome: &[u8]) -> Result<Vec<u8>> {
        let welcome = match parse_message(welcome)?.extract() {
            MlsMessageBodyIn::Welcome(w) => w,
            _ => return Err(Error::Malformed("not a Welcome".into())),
        };
        if welcome.ciphersuite() != CIPHERSUITE {
            return Err(Error::Group("the group uses another ciphersuite".into()));
        }
        let staged = StagedWelcome::new_from_welcome(&self.provider, &join_config(), welcome, None)
            .map_err(|e| Error::Group(msg(e)))?;
        let group = staged
            .into_group(&self.provider)
            .map_err(|e| Error::Group(msg(e)))?;
        let id = group.group_id().as_slice().to_vec();
        self.groups.insert(id.clone(), group);
        Ok(id)
    }

    /// Encrypts a message for the group (a TLS-serialised `MlsMessageOut`,
    /// PrivateMessage).
    pub fn encrypt(&mut self, group: &[u8], payload: &Payload) -> Result<Vec<u8>> {
        let bytes = payload.to_bytes()?;
        let Self {
            provider,
            signer,
            groups,
            ..
        } = self;
        let g = groups.get_mut(group).ok_or(Error::UnknownGroup)?;
        let out = g
            .create_message(&*provider, &*signer, &bytes)
            .map_err(|e| Error::Group(msg(e)))?;
        out_bytes(&out)
    }

    /// Decrypts and applies one message from the server: an application message or another
    /// member's commit (merged at once). Tampered, replayed, unknown-group and undecryptable
    /// messages are errors. A commit is refused and not merged when its added devices do
    /// not carry Telewarden identities, when it adds a device that is already a member,
    /// when its committer's new leaf names another identity, or when it carries any
    /// proposal but Add and Remove.
    pub fn process(&mut self, message: &[u8]) -> Result<Received> {
        let protocol = parse_message(message)?
            .try_into_protocol_message()
            .map_err(|_| Error::Malformed("not a group message".into()))?;
        let group_id = protocol.group_id().as_slice().to_vec();
        let Self {
            provider, groups, ..
        } = self;
        let g = groups.get_mut(&group_id).ok_or(Error::UnknownGroup)?;
        let processed = g
            .process_message(&*provider, protocol)
            .map_err(|e| Error::Rejected(msg(e)))?;
        let epoch = processed.epoch().as_u64();
        let sender_credential = processed.credential().clone();
        let from_member = matches!(processed.sender(), Sender::Member(_));
        match processed.into_content() {
            ProcessedMessageContent::ApplicationMessage(app) => {
                if !from_member {
                    return Err(Error::Rejected("not sent by a group member".into()));
                }
                let sender = identity_of(&sender_credential)?;
                let payload = Payload::from_bytes(&app.into_bytes())?;
                Ok(Received::Message {
                    group: group_id,
                    sender,
                    payload,
                    epoch,
                })
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                // Telewarden commits add and remove devices, nothing else; a commit that
                // does more is not from a Telewarden client.
                if staged
                    .queued_proposals()
                    .any(|p| !matches!(p.proposal(), Proposal::Add(_) | Proposal::Remove(_)))
                {
                    return Err(Error::Rejected(
                        "the commit carries a proposal other than Add and Remove".into(),
                    ));
                }
                // The committer may refresh its keys but not become someone else.
                if let Some(leaf) = staged.update_path_leaf_node() {
                    let committer = identity_of(&sender_credential)?;
                    let claimed = identity_of(leaf.credential())
                        .map_err(|e| Error::Rejected(format!("the committer's new leaf: {e}")))?;
                    if claimed != committer {
                        return Err(Error::Rejected(format!(
                            "{committer} tried to change its identity to {claimed}"
                        )));
                    }
                }
                let added = staged
                    .add_proposals()
                    .map(|p| identity_of(p.add_proposal().key_package().leaf_node().credential()))
                    .collect::<Result<Vec<_>>>()
                    .map_err(|e| Error::Rejected(format!("a device added by the commit: {e}")))?;
                let removed = staged
                    .remove_proposals()
                    .filter_map(|p| g.member(p.remove_proposal().removed()))
                    .map(identity_of)
                    .collect::<Result<Vec<_>>>()?;
                // One leaf per device: adding a device that is (and stays) a member
                // would give its identity two leaves, one of them possibly forged.
                let staying: Vec<DeviceIdentity> = g
                    .members()
                    .filter_map(|m| identity_of(&m.credential).ok())
                    .filter(|id| !removed.contains(id))
                    .collect();
                let mut seen = std::collections::BTreeSet::new();
                for id in &added {
                    if staying.contains(id) || !seen.insert(id) {
                        return Err(Error::Rejected(format!(
                            "the commit adds {id}, who is already a member"
                        )));
                    }
                }
                let self_removed = staged.self_removed();
                g.merge_staged_commit(&*provider, *staged)
                    .map_err(|e| Error::Group(msg(e)))?;
                if self_removed {
                    if let Some(mut gone) = groups.remove(&group_id) {
                        gone.delete(&provider.storage)
                            .map_err(|e| Error::Group(msg(e)))?;
                    }
                    return Ok(Received::RemovedSelf { group: group_id });
                }
                Ok(Received::Commit {
                    group: group_id,
                    added,
                    removed,
                    epoch: g.epoch().as_u64(),
                })
            }
            ProcessedMessageContent::OwnPendingCommit
            | ProcessedMessageContent::OwnPrivateMessage => {
                Ok(Received::OwnMessage { group: group_id })
            }
            ProcessedMessageContent::ProposalMessage(_)
            | ProcessedMessageContent::ExternalJoinProposalMessage(_) => Err(Error::Rejected(
                "standalone proposals are not used in Telewarden groups".into(),
            )),
        }
    }

    /// The group's members.
    pub fn members(&self, group: &[u8]) -> Result<Vec<Member>> {
        self.group_ref(group)?
            .members()
            .map(|m| {
                Ok(Member {
                    identity: identity_of(&m.credential)?,
                    signature_key: m.signature_key,
                })
            })
            .collect()
    }

    /// The group's current epoch.
    pub fn epoch(&self, group: &[u8]) -> Result<u64> {
        Ok(self.group_ref(group)?.epoch().as_u64())
    }

    /// The ids of the groups this device is in.
    pub fn groups(&self) -> Vec<Vec<u8>> {
        self.groups.keys().cloned().collect()
    }

    /// The whole device as bytes: identity, signer, key package private keys, every
    /// group's secrets. Anyone holding these bytes can read this device's messages: store
    /// them only where the device's own keys would be stored, or encrypted.
    pub fn export_state(&self) -> Result<Vec<u8>> {
        let values = self
            .provider
            .storage
            .values
            .read()
            .map_err(|_| Error::State("the storage lock is poisoned".into()))?;
        let mut storage: Vec<(Vec<u8>, Vec<u8>)> =
            values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        drop(values);
        storage.sort();
        SavedState {
            credential: self.identity.to_credential_bytes()?,
            signature_key: self.signer.to_public_vec(),
            groups: self.groups(),
            storage,
        }
        .encode()
    }

    /// Restores a device saved by [`Device::export_state`].
    pub fn import_state(bytes: &[u8]) -> Result<Device> {
        let saved = SavedState::decode(bytes)?;
        let identity = DeviceIdentity::from_credential_bytes(&saved.credential)?;
        let provider = Provider::default();
        {
            let mut values = provider
                .storage
                .values
                .write()
                .map_err(|_| Error::State("the storage lock is poisoned".into()))?;
            values.extend(saved.storage);
        }
        let signer = SignatureKeyPair::read(
            &provider.storage,
            &saved.signature_key,
            CIPHERSUITE.signature_algorithm(),
        )
        .ok_or_else(|| Error::State("the signing key is missing".into()))?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(saved.credential).into(),
            signature_key: signer.to_public_vec().into(),
        };
        let mut groups = BTreeMap::new();
        for id in saved.groups {
            let group = MlsGroup::load(&provider.storage, &GroupId::from_slice(&id))
                .map_err(|e| Error::State(msg(e)))?
                .ok_or_else(|| Error::State("a group's state is missing".into()))?;
            let mut group = group;
            // Groups saved before commits became PublicMessages still have the old
            // ciphertext-only policy: bring them to the current one, or they would send
            // commits the server refuses and refuse everyone else's.
            if group.configuration().wire_format_policy() != wire_format_policy() {
                group
                    .set_configuration(&provider.storage, &join_config())
                    .map_err(|e| Error::State(msg(e)))?;
            }
            groups.insert(id, group);
        }
        Ok(Device {
            provider,
            signer,
            credential,
            identity,
            groups,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn device(account: &str, name: &str) -> Device {
        Device::create(DeviceIdentity::new(account, name).unwrap()).unwrap()
    }

    /// A member that commits a new leaf naming someone else (same key, other identity)
    /// is refused by the others, and they stay in the epoch they were in.
    #[test]
    fn a_commit_changing_the_committers_identity_is_refused() {
        let mut a = device("alice", "phone");
        let mut m = device("mallory", "laptop");
        let group = a.create_group().unwrap();
        let km = m.key_packages(1).unwrap();
        let c = a.add_members(&group, &km).unwrap();
        a.merge_pending(&group).unwrap();
        m.join(c.welcome.as_ref().unwrap()).unwrap();

        let as_alice = CredentialWithKey {
            credential: BasicCredential::new(b"tw1:alice:tablet".to_vec()).into(),
            signature_key: m.signer.to_public_vec().into(),
        };
        let params = openmls::prelude::LeafNodeParameters::builder()
            .with_credential_with_key(as_alice)
            .build();
        let Device {
            provider,
            signer,
            groups,
            ..
        } = &mut m;
        let g = groups.get_mut(&group).unwrap();
        let bundle = g.self_update(&*provider, &*signer, params).unwrap();
        let commit = out_bytes(bundle.commit()).unwrap();
        // The server would see it too.
        let info = crate::frame::inspect_commit(&commit).unwrap();
        assert_eq!(
            info.path_leaf.unwrap().0,
            DeviceIdentity::new("alice", "tablet").unwrap()
        );
        let err = a.process(&commit).unwrap_err().to_string();
        assert!(err.contains("change its identity"), "{err}");
        assert_eq!(a.epoch(&group).unwrap(), 1);
        // An honest update is still accepted.
        m.discard_pending(&group).unwrap();
        let honest = m.update(&group).unwrap();
        assert!(matches!(
            a.process(&honest.commit).unwrap(),
            Received::Commit { epoch: 2, .. }
        ));
    }
}
