//! Conversations and what is delivered in them.
//!
//! A conversation is one MLS group about one patient: the patient, clinicians caring
//! for them, and the practice archive. Application messages are opaque ciphertext
//! (PrivateMessages); the server reads only their public framing (kind, group, epoch).
//! Commits are signed PublicMessages: the server reads who sent each one, whom it adds
//! and whom it removes, and accepts it only if that is exactly what the sender declared,
//! from the sender's own leaf, adding only key packages the server handed out for the
//! conversation and keeping the sender's identity — so no member can silently remove
//! the archive or the patient, add a forged device or send a commit nobody can process.
//! It orders commits: one is accepted per epoch, and a second made for the same epoch
//! is refused so its sender processes the winner and retries. An application message is
//! accepted only for the current epoch, only from a current member, and only while the
//! group holds no one who must leave and lacks no archive device — so the archive
//! receives every message and a removed device or a clinician who left the care team
//! reads nothing sent after.

use std::collections::{BTreeMap, BTreeSet};

use ledger::Outcome;
use mls_client::frame::FrameKind;
use proto::ErrorCode;
use serde::{Deserialize, Serialize};
use store::messaging::{AddedDevice, CommitChange, ConversationRow, DeviceRow, MemberRow};

use super::commit_checks::{check_added, check_commit, check_removed};
use super::devices::{DeviceKind, own_device};
use super::hub::{Event, Published};
use super::{MAX_MESSAGE_BYTES, bad, decode, inspect};
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::http::meta::RequestMeta;
use crate::identity::Role;
use crate::identity::session::CurrentUser;
use crate::state::AppState;

/// Messages returned by one read, at most.
const PAGE: i64 = 100;
/// The window `messaging.max_new_conversations_per_day` counts over.
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Deserialize)]
pub struct NewConversation {
    pub device_id: String,
    pub patient_id: String,
    /// The MLS group id the creator's device made, hex.
    pub group_id: String,
}

#[derive(Debug, Deserialize)]
pub struct CommitRequest {
    pub device_id: String,
    /// The MLS commit, base64.
    pub commit: String,
    /// The Welcome for the added devices, base64.
    #[serde(default)]
    pub welcome: Option<String>,
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct SendRequest {
    pub device_id: String,
    /// The MLS application message, base64.
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct MemberView {
    pub device_id: String,
    pub user_id: String,
    pub kind: String,
    pub signature_key: String,
    /// The key-transparency entry of the device's key.
    pub ledger_seq: i64,
}

#[derive(Debug, Serialize)]
pub struct ConversationView {
    pub id: String,
    pub group_id: String,
    pub patient_id: String,
    pub epoch: i64,
    pub next_seq: i64,
    pub members: Vec<MemberView>,
    /// Members who must be removed (device removed, or no longer on the care team)
    /// before anyone may send.
    pub pending_removals: Vec<String>,
    /// Archive devices the group must add before anyone may send.
    pub missing_archive: Vec<String>,
    /// Devices of people already in the conversation (and still allowed in it) that the
    /// group does not hold yet, e.g. a browser registered since: any member may add them.
    pub missing_devices: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Claimed {
    pub device_id: String,
    pub user_id: String,
    pub kind: String,
    pub signature_key: String,
    pub ledger_seq: i64,
    /// base64
    pub key_package: String,
}

#[derive(Debug, Serialize)]
pub struct Accepted {
    pub seq: i64,
    pub epoch: i64,
}

#[derive(Debug, Serialize)]
pub struct MessageView {
    pub seq: i64,
    pub kind: String,
    pub epoch: i64,
    pub sender_device: String,
    pub body: String,
    pub created_ms: i64,
}

#[derive(Debug, Serialize)]
pub struct WelcomeView {
    pub conversation_id: String,
    pub seq: i64,
    pub body: String,
}

/// The group as the server sees it, with who must leave and who must join.
pub(super) struct Group {
    pub(super) conversation: ConversationRow,
    /// Current members (not removed from the group).
    pub(super) members: Vec<MemberRow>,
    pub(super) pending_removals: BTreeSet<String>,
    missing_archive: Vec<DeviceRow>,
    missing_devices: Vec<String>,
}

impl Group {
    pub(super) fn is_member(&self, device_id: &str) -> bool {
        self.members.iter().any(|m| m.device_id == device_id)
    }
}

pub(super) fn refused(message: &str) -> AppError {
    AppError::client(ErrorCode::Forbidden, message)
}

/// Whether `user_id` may take part in a conversation about `patient_id`.
pub(super) async fn may_take_part(
    state: &AppState,
    patient_id: &str,
    user_id: &str,
) -> AppResult<bool> {
    let Some(user) = state.db.user_by_id(&state.keyring, user_id).await? else {
        return Ok(false);
    };
    if user.disabled_ms.is_some() {
        return Ok(false);
    }
    match Role::parse(&user.role) {
        Some(Role::Patient) => Ok(user_id == patient_id),
        // The care team only: an appointment alone does not bring a clinician in.
        Some(Role::Clinician) => Ok(state.db.on_care_team(user_id, patient_id).await?),
        _ => Ok(false),
    }
}

async fn load(state: &AppState, conversation_id: &str) -> AppResult<Group> {
    let Some(conversation) = state.db.conversation(conversation_id).await? else {
        return Err(AppError::not_found());
    };
    let members: Vec<MemberRow> = state
        .db
        .conversation_members(conversation_id)
        .await?
        .into_iter()
        .filter(|m| m.removed_ms.is_none())
        .collect();
    let mut eligible: BTreeMap<&str, bool> = BTreeMap::new();
    for m in &members {
        if m.kind == DeviceKind::Member.as_str() && !eligible.contains_key(m.user_id.as_str()) {
            let ok = may_take_part(state, &conversation.patient_id, &m.user_id).await?;
            eligible.insert(&m.user_id, ok);
        }
    }
    let pending_removals = members
        .iter()
        .filter(|m| {
            m.device_removed_ms.is_some() || eligible.get(m.user_id.as_str()) == Some(&false)
        })
        .map(|m| m.device_id.clone())
        .collect();
    let missing_archive = state
        .db
        .msg_archive_devices()
        .await?
        .into_iter()
        .filter(|d| !members.iter().any(|m| m.device_id == d.id))
        .collect();
    let mut missing_devices = Vec::new();
    for (user_id, _) in eligible.iter().filter(|(_, ok)| **ok) {
        for d in state.db.msg_devices_of_user(user_id).await? {
            if d.kind == DeviceKind::Member.as_str() && !members.iter().any(|m| m.device_id == d.id)
            {
                missing_devices.push(d.id);
            }
        }
    }
    Ok(Group {
        conversation,
        members,
        pending_removals,
        missing_archive,
        missing_devices,
    })
}

/// Loads the group and checks that `device_id` is the caller's and may read it.
pub(super) async fn as_member(
    state: &AppState,
    who: &CurrentUser,
    conversation_id: &str,
    device_id: &str,
) -> AppResult<(Group, DeviceRow)> {
    let device = own_device(state, who, device_id).await?;
    let group = load(state, conversation_id).await?;
    if !group.is_member(device_id) || group.pending_removals.contains(device_id) {
        return Err(refused(
            "This device is not a member of that conversation (or no longer is).",
        ));
    }
    Ok((group, device))
}

async fn view_of(state: &AppState, group: &Group) -> AppResult<ConversationView> {
    let mut members = Vec::with_capacity(group.members.len());
    for m in &group.members {
        if let Some(d) = state.db.msg_device(&m.device_id).await? {
            members.push(MemberView {
                device_id: d.id,
                user_id: d.user_id,
                kind: d.kind,
                signature_key: d.signature_key,
                ledger_seq: d.ledger_seq,
            });
        }
    }
    Ok(ConversationView {
        id: group.conversation.id.clone(),
        group_id: group.conversation.group_id.clone(),
        patient_id: group.conversation.patient_id.clone(),
        epoch: group.conversation.epoch,
        next_seq: group.conversation.next_seq,
        members,
        pending_removals: group.pending_removals.iter().cloned().collect(),
        missing_archive: group.missing_archive.iter().map(|d| d.id.clone()).collect(),
        missing_devices: group.missing_devices.clone(),
    })
}

/// Starts a conversation about `patient_id` whose group holds the creator's device.
pub async fn create(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    req: NewConversation,
) -> AppResult<ConversationView> {
    let device = own_device(state, who, &req.device_id).await?;
    let group_id = hex::decode(&req.group_id)
        .ok()
        .filter(|g| (16..=64).contains(&g.len()))
        .ok_or_else(|| bad("group_id is 16 to 64 bytes in hex."))?;
    if !may_take_part(state, &req.patient_id, &who.user.id).await? {
        return Err(refused(
            "You can start a conversation only as the patient, or as a clinician caring for them.",
        ));
    }
    let now = state.clock.now_ms();
    let per_day = state.config.messaging.max_new_conversations_per_day;
    // Each conversation keeps rows (and may keep attachments) for good, so one account
    // may start only so many in any 24 hours.
    let started = state
        .db
        .conversations_started_since(&who.user.id, now.saturating_sub(DAY_MS))
        .await?;
    if started >= i64::from(per_day) {
        let entry = audit::entry(
            meta,
            &Actor::User(who.user.id.clone()),
            "messaging.conversation_started",
            &format!("patient:{}", req.patient_id),
            Outcome::Failure,
        )
        .detail("device", device.id.clone())
        .detail("reason", "daily limit");
        state.audit(entry).await?;
        return Err(AppError::client(
            ErrorCode::TooManyAttempts,
            format!(
                "You have started {per_day} conversations in the last 24 hours, the most \
                 allowed (messaging.max_new_conversations_per_day); continue an existing \
                 conversation or try again later."
            ),
        ));
    }
    let id = crate::setup::new_id()?;
    let row = ConversationRow {
        id: id.clone(),
        group_id: hex::encode(group_id),
        patient_id: req.patient_id.clone(),
        created_by: who.user.id.clone(),
        created_ms: now,
        epoch: 0,
        next_seq: 1,
    };
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "messaging.conversation_started",
        &format!("conversation:{id}"),
        Outcome::Success,
    )
    .detail("patient", req.patient_id.clone())
    .detail("device", device.id.clone());
    state
        .audited(entry, async {
            state
                .db
                .insert_conversation(&row, &device.id)
                .await
                .map_err(|e| {
                    if state_conflict(&e) {
                        AppError::client(
                            ErrorCode::Conflict,
                            "That group id is taken; make a new group.",
                        )
                    } else {
                        e.into()
                    }
                })
        })
        .await?;
    view(state, who, &id, &device.id).await
}

fn state_conflict(e: &store::StoreError) -> bool {
    e.to_string().to_ascii_lowercase().contains("unique")
}

/// The conversation as one of its member devices sees it.
pub async fn view(
    state: &AppState,
    who: &CurrentUser,
    conversation_id: &str,
    device_id: &str,
) -> AppResult<ConversationView> {
    let (group, _) = as_member(state, who, conversation_id, device_id).await?;
    view_of(state, &group).await
}

/// The conversations a device of the caller is in.
pub async fn list(
    state: &AppState,
    who: &CurrentUser,
    device_id: &str,
) -> AppResult<Vec<ConversationView>> {
    own_device(state, who, device_id).await?;
    let mut out = Vec::new();
    for c in state.db.conversations_of_device(device_id).await? {
        let group = load(state, &c.id).await?;
        if !group.pending_removals.contains(device_id) {
            out.push(view_of(state, &group).await?);
        }
    }
    Ok(out)
}

/// Hands out one key package for each device of `user_ids` (the literal `archive`
/// stands for the practice archive) that is not in the group yet, so a member can add
/// them. Each person must be allowed in the conversation.
pub async fn claim(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    conversation_id: &str,
    device_id: &str,
    user_ids: &[String],
) -> AppResult<Vec<Claimed>> {
    let (group, _) = as_member(state, who, conversation_id, device_id).await?;
    let user_ids: BTreeSet<&String> = user_ids.iter().collect();
    if user_ids.is_empty() || user_ids.len() > 20 {
        return Err(bad("Name between 1 and 20 people."));
    }
    let mut devices = Vec::new();
    for user_id in user_ids {
        if user_id == "archive" {
            devices.extend(state.db.msg_archive_devices().await?);
            continue;
        }
        if !may_take_part(state, &group.conversation.patient_id, user_id).await? {
            return Err(refused(
                "Only the patient and clinicians caring for them can be in this conversation.",
            ));
        }
        devices.extend(
            state
                .db
                .msg_devices_of_user(user_id)
                .await?
                .into_iter()
                .filter(|d| d.kind == DeviceKind::Member.as_str()),
        );
    }
    let now = state.clock.now_ms();
    let mut out = Vec::new();
    for d in devices {
        if group.is_member(&d.id) {
            continue;
        }
        // One key package per device and conversation: a claim repeated after a
        // refused commit gets the same one back, so nobody can drain a device's supply.
        let claimant = format!("conversation:{conversation_id}");
        if let Some(key_package) = state.db.claim_key_package(&d.id, &claimant, now).await? {
            out.push(Claimed {
                device_id: d.id,
                user_id: d.user_id,
                kind: d.kind,
                signature_key: d.signature_key,
                ledger_seq: d.ledger_seq,
                key_package,
            });
        }
    }
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "messaging.key_packages_claimed",
        &format!("conversation:{conversation_id}"),
        Outcome::Success,
    )
    .detail(
        "devices",
        out.iter()
            .map(|c| c.device_id.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    state.audit(entry).await?;
    Ok(out)
}

/// Orders a commit: accepted if it was made in the group's current epoch (the epoch
/// moves on by one), refused with a conflict if another commit took that epoch.
pub async fn commit(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    conversation_id: &str,
    req: CommitRequest,
) -> AppResult<Accepted> {
    let (group, device) = as_member(state, who, conversation_id, &req.device_id).await?;
    let body = decode("commit", &req.commit, MAX_MESSAGE_BYTES)?;
    let frame = inspect("commit", &body)?;
    if frame.kind != FrameKind::Commit {
        return Err(bad("commit is not an MLS commit."));
    }
    let epoch = epoch_in_group(&group, &frame)?;
    let added = check_added(state, &group, &req.added).await?;
    check_removed(&group, who, &req.removed)?;
    let info = mls_client::frame::inspect_commit(&body)
        .map_err(|e| bad(format!("commit is not a commit this server accepts: {e}")))?;
    let leaves = check_commit(state, &group, &device, &info, &added, &req.removed).await?;
    let welcome = match (&req.welcome, added.is_empty()) {
        (Some(w), false) => {
            let bytes = decode("welcome", w, MAX_MESSAGE_BYTES)?;
            if inspect("welcome", &bytes)?.kind != FrameKind::Welcome {
                return Err(bad("welcome is not an MLS Welcome."));
            }
            Some(w.as_str())
        }
        (None, false) => return Err(bad("Adding devices needs their Welcome.")),
        (Some(_), true) => return Err(bad("A Welcome was sent but no device is added.")),
        (None, true) => None,
    };
    let mut welcomes = Vec::with_capacity(added.len());
    for (d, leaf_index) in added.iter().zip(leaves) {
        welcomes.push(AddedDevice {
            welcome_id: crate::setup::new_id()?,
            device_id: d.clone(),
            leaf_index,
        });
    }
    let before: Vec<String> = group.members.iter().map(|m| m.device_id.clone()).collect();
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        if added.is_empty() && req.removed.is_empty() {
            "messaging.commit"
        } else {
            "messaging.membership_changed"
        },
        &format!("conversation:{conversation_id}"),
        Outcome::Success,
    )
    .detail("device", device.id.clone())
    .detail("epoch", epoch)
    .detail("added", added.join(","))
    .detail("removed", req.removed.join(","));
    let now = state.clock.now_ms();
    let claimant = format!("conversation:{conversation_id}");
    let change = CommitChange {
        sender_device: &device.id,
        body: &req.commit,
        added: &welcomes,
        claimant: &claimant,
        welcome,
        removed: &req.removed,
    };
    let seq = state
        .audited(entry, async {
            state
                .db
                .accept_commit(conversation_id, epoch, &change, now)
                .await?
                .ok_or_else(|| epoch_moved(group.conversation.epoch))
        })
        .await?;
    state.messaging.publish(Published {
        recipients: before,
        event: Event::Message {
            conversation: conversation_id.to_owned(),
            seq,
            kind: "commit".into(),
            epoch,
            sender_device: device.id.clone(),
            body: req.commit.clone(),
        },
    });
    if !added.is_empty() {
        state.messaging.publish(Published {
            recipients: added.clone(),
            event: Event::Welcome {
                conversation: conversation_id.to_owned(),
            },
        });
    }
    Ok(Accepted {
        seq,
        epoch: epoch + 1,
    })
}

fn epoch_moved(current: i64) -> AppError {
    AppError::client(
        ErrorCode::Conflict,
        format!(
            "The conversation has moved on (it was at epoch {current}): fetch the latest changes, then try again."
        ),
    )
}

/// The message's epoch, checking it belongs to this group.
fn epoch_in_group(group: &Group, frame: &mls_client::frame::Frame) -> AppResult<i64> {
    let matches = frame
        .group_id
        .as_deref()
        .is_some_and(|g| hex::encode(g) == group.conversation.group_id);
    if !matches {
        return Err(bad(
            "The message belongs to another group than this conversation.",
        ));
    }
    let epoch = frame
        .epoch
        .and_then(|e| i64::try_from(e).ok())
        .ok_or_else(|| bad("The message carries no epoch."))?;
    if epoch != group.conversation.epoch {
        return Err(epoch_moved(group.conversation.epoch));
    }
    Ok(epoch)
}

/// Stores an application message and fans it out.
pub async fn send(
    state: &AppState,
    meta: &RequestMeta,
    who: &CurrentUser,
    conversation_id: &str,
    req: SendRequest,
) -> AppResult<Accepted> {
    let (group, device) = as_member(state, who, conversation_id, &req.device_id).await?;
    if device.kind == DeviceKind::Archive.as_str() {
        return Err(refused(
            "The practice archive keeps messages; it does not send them.",
        ));
    }
    let body = decode("message", &req.message, MAX_MESSAGE_BYTES)?;
    let frame = inspect("message", &body)?;
    if frame.kind != FrameKind::Application {
        return Err(bad("message is not an MLS application message."));
    }
    let epoch = epoch_in_group(&group, &frame)?;
    if !group.pending_removals.is_empty() || !group.missing_archive.is_empty() {
        return Err(AppError::client(
            ErrorCode::Conflict,
            "The conversation's members must be brought up to date first (someone must be removed or the practice archive added).",
        ));
    }
    let entry = audit::entry(
        meta,
        &Actor::User(who.user.id.clone()),
        "messaging.delivered",
        &format!("conversation:{conversation_id}"),
        Outcome::Success,
    )
    .detail("device", device.id.clone())
    .detail("epoch", epoch)
    .detail("bytes", body.len() as u64);
    let now = state.clock.now_ms();
    let seq = state
        .audited(entry, async {
            state
                .db
                .append_application(conversation_id, epoch, &device.id, &req.message, now)
                .await?
                .ok_or_else(|| epoch_moved(group.conversation.epoch))
        })
        .await?;
    state.messaging.publish(Published {
        recipients: group.members.iter().map(|m| m.device_id.clone()).collect(),
        event: Event::Message {
            conversation: conversation_id.to_owned(),
            seq,
            kind: "application".into(),
            epoch,
            sender_device: device.id.clone(),
            body: req.message,
        },
    });
    let people: BTreeSet<&str> = group
        .members
        .iter()
        .filter(|m| m.kind == DeviceKind::Member.as_str() && m.user_id != who.user.id)
        .map(|m| m.user_id.as_str())
        .collect();
    for user_id in people {
        if let Err(e) = super::notify::new_message(state, user_id).await {
            tracing::warn!(error = %e, "could not send a new-message notice");
        }
    }
    Ok(Accepted { seq, epoch })
}

/// What a member device may read: from `from` on, never before it joined.
pub async fn read(
    state: &AppState,
    who: &CurrentUser,
    conversation_id: &str,
    device_id: &str,
    from: i64,
) -> AppResult<Vec<MessageView>> {
    let (group, _) = as_member(state, who, conversation_id, device_id).await?;
    let joined = group
        .members
        .iter()
        .find(|m| m.device_id == device_id)
        .map_or(i64::MAX, |m| m.added_seq);
    // Reading from its own join on proves the device processed its Welcome (it needs the
    // group state to read anything), so the Welcome is dropped: kept, every Welcome
    // would stay on disk for good.
    if from >= joined {
        state.db.delete_welcomes(conversation_id, device_id).await?;
    }
    let rows = state
        .db
        .messages_from(conversation_id, from.max(joined), PAGE)
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| MessageView {
            seq: m.seq,
            kind: m.kind,
            epoch: m.epoch,
            sender_device: m.sender_device,
            body: m.body,
            created_ms: m.created_ms,
        })
        .collect())
}

/// Welcomes waiting for one of the caller's devices, for conversations it is still in.
pub async fn welcomes(
    state: &AppState,
    who: &CurrentUser,
    device_id: &str,
) -> AppResult<Vec<WelcomeView>> {
    own_device(state, who, device_id).await?;
    let mut out = Vec::new();
    for w in state.db.welcomes_for(device_id).await? {
        let group = load(state, &w.conversation_id).await?;
        let current = group
            .members
            .iter()
            .any(|m| m.device_id == device_id && m.added_seq == w.seq);
        if current && !group.pending_removals.contains(device_id) {
            out.push(WelcomeView {
                conversation_id: w.conversation_id,
                seq: w.seq,
                body: w.body,
            });
        }
    }
    Ok(out)
}
