//! What the server may learn from a message without any key.
//!
//! MLS messages carry a clear header: a PrivateMessage (every application message)
//! shows its group id, epoch and content type and nothing else; a Welcome and a
//! KeyPackage show their kind. The server uses [`inspect`] to route messages and to
//! accept exactly one commit per epoch, and [`inspect_key_package`] to check that an
//! uploaded key package is valid and names the account and device that uploads it.
//!
//! Commits are signed PublicMessages, not encrypted: [`inspect_commit`] reads who sent
//! one, whom it adds and removes, and the committer's new leaf, so the server can hold
//! each commit to what its sender declared (see `Device` for why).

use openmls::prelude::{ContentType, MlsMessageBodyIn};
use openmls_rust_crypto::RustCrypto;

use openmls::prelude::tls_codec as tls_codec_error;

use crate::device::{parse_message, validate_key_package};
use crate::error::{Error, Result, msg};
use crate::identity::DeviceIdentity;

/// The kind of an MLS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// An application (chat) message.
    Application,
    /// A commit: moves the group to the next epoch.
    Commit,
    /// A standalone proposal.
    Proposal,
    /// A Welcome for new members.
    Welcome,
    /// A key package.
    KeyPackage,
    /// A GroupInfo (not used by Telewarden; reported so the server can refuse it).
    GroupInfo,
}

/// What [`inspect`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The message kind.
    pub kind: FrameKind,
    /// The group, for group messages (application, proposal, commit).
    pub group_id: Option<Vec<u8>>,
    /// The epoch the message was sent in, for group messages.
    pub epoch: Option<u64>,
}

/// Reads the clear header of a TLS-serialised `MlsMessage`. Empty input, garbage,
/// truncated messages and trailing bytes are errors.
pub fn inspect(bytes: &[u8]) -> Result<Frame> {
    let message = parse_message(bytes)?;
    let (kind_of, group_id, epoch) = match message.extract() {
        MlsMessageBodyIn::PrivateMessage(m) => (
            m.content_type(),
            m.group_id().as_slice().to_vec(),
            m.epoch().as_u64(),
        ),
        MlsMessageBodyIn::PublicMessage(m) => (
            m.content_type(),
            m.group_id().as_slice().to_vec(),
            m.epoch().as_u64(),
        ),
        MlsMessageBodyIn::Welcome(_) => return Ok(bare(FrameKind::Welcome)),
        MlsMessageBodyIn::KeyPackage(_) => return Ok(bare(FrameKind::KeyPackage)),
        MlsMessageBodyIn::GroupInfo(_) => return Ok(bare(FrameKind::GroupInfo)),
    };
    let kind = match kind_of {
        ContentType::Application => FrameKind::Application,
        ContentType::Proposal => FrameKind::Proposal,
        ContentType::Commit => FrameKind::Commit,
    };
    Ok(Frame {
        kind,
        group_id: Some(group_id),
        epoch: Some(epoch),
    })
}

fn bare(kind: FrameKind) -> Frame {
    Frame {
        kind,
        group_id: None,
        epoch: None,
    }
}

/// What a valid key package says about its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPackageInfo {
    /// The device the key package is for.
    pub identity: DeviceIdentity,
    /// Its Ed25519 signature public key.
    pub signature_key: Vec<u8>,
}

/// Validates a key package (TLS-serialised `MlsMessage`): both signatures, our ciphersuite,
/// the lifetime, distinct keys, a Telewarden credential. The server then checks that
/// `identity` is the uploading account and device.
pub fn inspect_key_package(bytes: &[u8]) -> Result<KeyPackageInfo> {
    let crypto = RustCrypto::default();
    let (kp, identity) = validate_key_package(&crypto, bytes)?;
    Ok(KeyPackageInfo {
        identity,
        signature_key: kp.leaf_node().signature_key().as_slice().to_vec(),
    })
}

/// A device added by a commit, as its key package says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitAdd {
    /// The key package as uploaded: a TLS-serialised `MlsMessage` (re-encoded
    /// canonically), so the server can compare it with the one it handed out.
    pub key_package: Vec<u8>,
    /// The device the key package is for.
    pub identity: DeviceIdentity,
    /// Its Ed25519 signature public key.
    pub signature_key: Vec<u8>,
}

/// What a commit does, read from its PublicMessage framing without any key.
///
/// This is what the committer claims; the signature and membership tag are checked by
/// every member when it processes the commit (the server has no key to check them).
/// The server compares it with the commit's declared `added` and `removed` devices, so
/// a member cannot slip in an add or a remove the server did not agree to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The group.
    pub group_id: Vec<u8>,
    /// The epoch the commit was made in.
    pub epoch: u64,
    /// The committer's leaf index.
    pub sender_leaf: u32,
    /// Add proposals, in the commit's order (the order their leaves are assigned in).
    pub adds: Vec<CommitAdd>,
    /// Leaf indices removed, in the commit's order.
    pub removes: Vec<u32>,
    /// The committer's new leaf from the UpdatePath, if the commit has one: who it says
    /// it is and its signature key.
    pub path_leaf: Option<(DeviceIdentity, Vec<u8>)>,
}

/// `MlsMessage.wire_format` of a PublicMessage and of a KeyPackage (RFC 9420 §6).
const WIRE_FORMAT_PUBLIC_MESSAGE: u16 = 1;
const WIRE_FORMAT_KEY_PACKAGE: u16 = 5;
/// `SenderType.member` and `ContentType.commit` (RFC 9420 §6).
const SENDER_MEMBER: u8 = 1;
const CONTENT_COMMIT: u8 = 3;

/// Reads what a commit does from its PublicMessage framing (RFC 9420 §6, §12.4).
///
/// Refused: anything that is not a well-formed MLS PublicMessage commit (so encrypted
/// commits too: Telewarden sends handshake messages in the clear, see `Device`), a
/// sender that is not a member, proposals by reference, and any proposal other than
/// Add and Remove — Telewarden never sends Update, PreSharedKey, ReInit,
/// ExternalInit, GroupContextExtensions or custom proposals, so a commit carrying one
/// is not from a Telewarden client. Added key packages are validated (signatures,
/// ciphersuite, lifetime, Telewarden credential).
pub fn inspect_commit(bytes: &[u8]) -> Result<CommitInfo> {
    use openmls::prelude::tls_codec::{Deserialize, Serialize, VLBytes};
    use openmls::prelude::{Credential, ProposalIn, ProposalOrRefIn};

    // OpenMLS parses the whole message first: afterwards the structure is known to be
    // well formed to its last byte, and we only read the parts we need.
    let message = parse_message(bytes)?;
    if !matches!(message.extract(), MlsMessageBodyIn::PublicMessage(_)) {
        return Err(Error::Malformed("a commit must be a PublicMessage".into()));
    }
    let fail = |e: tls_codec_error::Error| Error::Malformed(msg(e));
    let mut r: &[u8] = bytes;
    let _version = u16::tls_deserialize(&mut r).map_err(fail)?;
    if u16::tls_deserialize(&mut r).map_err(fail)? != WIRE_FORMAT_PUBLIC_MESSAGE {
        return Err(Error::Malformed("a commit must be a PublicMessage".into()));
    }
    // FramedContent.
    let group_id = VLBytes::tls_deserialize(&mut r).map_err(fail)?;
    let epoch = u64::tls_deserialize(&mut r).map_err(fail)?;
    if u8::tls_deserialize(&mut r).map_err(fail)? != SENDER_MEMBER {
        return Err(Error::Malformed("the commit is not from a member".into()));
    }
    let sender_leaf = u32::tls_deserialize(&mut r).map_err(fail)?;
    let _authenticated_data = VLBytes::tls_deserialize(&mut r).map_err(fail)?;
    if u8::tls_deserialize(&mut r).map_err(fail)? != CONTENT_COMMIT {
        return Err(Error::Malformed("the message is not a commit".into()));
    }
    // Commit.proposals.
    let proposals = Vec::<ProposalOrRefIn>::tls_deserialize(&mut r).map_err(fail)?;
    let crypto = RustCrypto::default();
    let mut adds = Vec::new();
    let mut removes = Vec::new();
    for p in proposals {
        let ProposalOrRefIn::Proposal(p) = p else {
            return Err(Error::Malformed(
                "the commit refers to a proposal by reference".into(),
            ));
        };
        match *p {
            ProposalIn::Add(add) => {
                // An Add proposal is exactly a KeyPackage on the wire.
                let mut framed = Vec::new();
                framed.extend_from_slice(&1u16.to_be_bytes());
                framed.extend_from_slice(&WIRE_FORMAT_KEY_PACKAGE.to_be_bytes());
                framed.extend(add.tls_serialize_detached().map_err(fail)?);
                let (kp, identity) = validate_key_package(&crypto, &framed)?;
                adds.push(CommitAdd {
                    key_package: framed,
                    identity,
                    signature_key: kp.leaf_node().signature_key().as_slice().to_vec(),
                });
            }
            ProposalIn::Remove(remove) => removes.push(remove.removed().u32()),
            other => {
                return Err(Error::Malformed(format!(
                    "the commit carries a {:?} proposal; only Add and Remove are allowed",
                    other.proposal_type()
                )));
            }
        }
    }
    // Commit.path: optional<UpdatePath>, whose LeafNode starts with encryption_key,
    // signature_key and credential.
    let path_leaf = match u8::tls_deserialize(&mut r).map_err(fail)? {
        0 => None,
        1 => {
            let _encryption_key = VLBytes::tls_deserialize(&mut r).map_err(fail)?;
            let signature_key = VLBytes::tls_deserialize(&mut r).map_err(fail)?;
            let credential = Credential::tls_deserialize(&mut r).map_err(fail)?;
            let identity = crate::device::identity_of(&credential)?;
            Some((identity, signature_key.as_slice().to_vec()))
        }
        _ => return Err(Error::Malformed("the commit's path is malformed".into())),
    };
    Ok(CommitInfo {
        group_id: group_id.as_slice().to_vec(),
        epoch,
        sender_leaf,
        adds,
        removes,
        path_leaf,
    })
}

/// The canonical encoding of an uploaded key package (a TLS-serialised `MlsMessage`), as
/// [`CommitAdd::key_package`] gives it, so the two compare byte for byte.
pub fn canonical_key_package(bytes: &[u8]) -> Result<Vec<u8>> {
    use openmls::prelude::tls_codec::Serialize;
    let kp = match parse_message(bytes)?.extract() {
        MlsMessageBodyIn::KeyPackage(kp) => kp,
        _ => return Err(Error::InvalidKeyPackage("not a key package".into())),
    };
    let mut framed = Vec::new();
    framed.extend_from_slice(&1u16.to_be_bytes());
    framed.extend_from_slice(&WIRE_FORMAT_KEY_PACKAGE.to_be_bytes());
    framed.extend(
        kp.tls_serialize_detached()
            .map_err(|e| Error::InvalidKeyPackage(msg(e)))?,
    );
    Ok(framed)
}
