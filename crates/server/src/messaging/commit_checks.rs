//! What the server checks in a commit before it orders it: the devices it declares
//! added and removed may join or leave, and the commit itself (read from its public
//! framing, see `mls_client::frame::inspect_commit`) does exactly that, from its sender's
//! own leaf, with the key packages the server handed out.

use std::collections::{BTreeMap, BTreeSet};

use mls_client::DeviceIdentity;
use mls_client::frame::CommitInfo;
use store::messaging::DeviceRow;

use super::delivery::{Group, may_take_part, refused};
use super::devices::DeviceKind;
use super::{bad, check_device_id};
use crate::error::AppResult;
use crate::identity::session::CurrentUser;
use crate::state::AppState;

pub(super) async fn check_added(
    state: &AppState,
    group: &Group,
    added: &[String],
) -> AppResult<Vec<String>> {
    let mut seen = BTreeSet::new();
    for id in added {
        check_device_id(id)?;
        if !seen.insert(id.clone()) {
            return Err(bad("A device is added twice."));
        }
        if group.is_member(id) {
            return Err(bad("A device added is in the conversation already."));
        }
        let Some(d) = state.db.msg_device(id).await? else {
            return Err(bad("A device added does not exist."));
        };
        if d.removed_ms.is_some() {
            return Err(bad("A device added has been removed from its account."));
        }
        if d.kind == DeviceKind::Member.as_str()
            && !may_take_part(state, &group.conversation.patient_id, &d.user_id).await?
        {
            return Err(refused(
                "Only the patient and clinicians caring for them can be in this conversation.",
            ));
        }
    }
    Ok(added.to_vec())
}

/// Checks what the commit does (read from its public framing) against what its sender
/// declared and what the server handed out: it comes from the sender's own leaf, adds
/// exactly the key packages claimed for the declared `added` devices, removes exactly
/// the declared `removed` devices' leaves, and its new leaf (if any) keeps the sender's
/// identity and published key. Returns the leaf of each added device, in `added`'s
/// order. Members check signatures and the rest when they process the commit; this
/// keeps one member from deciding alone who is in the group.
pub(super) async fn check_commit(
    state: &AppState,
    group: &Group,
    device: &DeviceRow,
    info: &CommitInfo,
    added: &[String],
    removed: &[String],
) -> AppResult<Vec<i64>> {
    let mut leaves: BTreeMap<i64, &str> = BTreeMap::new();
    for m in &group.members {
        let Some(leaf) = m.leaf_index else {
            return Err(bad(
                "This conversation was started before the server kept members' places in the group; start a new conversation.",
            ));
        };
        leaves.insert(leaf, m.device_id.as_str());
    }
    let leaf_of = |id: &str| {
        leaves
            .iter()
            .find(|(_, d)| **d == id)
            .map(|(leaf, _)| *leaf)
    };
    if leaf_of(&device.id) != Some(i64::from(info.sender_leaf)) {
        return Err(bad(
            "The commit was made by another member than this device.",
        ));
    }
    if let Some((identity, key)) = &info.path_leaf {
        let own = DeviceIdentity::new(&device.user_id, &device.id).ok();
        if own.as_ref() != Some(identity)
            || !hex::encode(key).eq_ignore_ascii_case(&device.signature_key)
        {
            return Err(bad(
                "The commit gives its sender another identity or key than the device's own.",
            ));
        }
    }
    // Removes: exactly the declared devices' leaves, never the sender's own.
    let declared: BTreeSet<i64> = removed.iter().filter_map(|id| leaf_of(id)).collect();
    let mut removes = BTreeSet::new();
    for leaf in &info.removes {
        if !removes.insert(i64::from(*leaf)) {
            return Err(bad("The commit removes a device twice."));
        }
    }
    if removes != declared || declared.len() != removed.len() {
        return Err(bad(
            "The commit removes other devices than those declared in removed.",
        ));
    }
    if removes.contains(&i64::from(info.sender_leaf)) {
        return Err(bad("A device cannot remove itself with its own commit."));
    }
    // Adds: each is a key package handed out to this conversation for exactly one
    // declared device, and each declared device is added once.
    if info.adds.len() != added.len() {
        return Err(bad(
            "The commit adds other devices than those declared in added.",
        ));
    }
    let claimant = format!("conversation:{}", group.conversation.id);
    let mut by_package: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for (i, id) in added.iter().enumerate() {
        for body in state.db.claimed_key_packages(id, &claimant).await? {
            let bytes = super::decode_stored(&body)?;
            if let Ok(canonical) = mls_client::frame::canonical_key_package(&bytes) {
                by_package.insert(canonical, i);
            }
        }
    }
    let mut leaf_for: Vec<Option<i64>> = vec![None; added.len()];
    let mut occupied: BTreeSet<i64> = leaves
        .keys()
        .copied()
        .filter(|l| !removes.contains(l))
        .collect();
    for add in &info.adds {
        let Some(&i) = by_package.get(&add.key_package) else {
            return Err(bad(
                "The commit adds a key package this server did not hand out for the devices declared in added.",
            ));
        };
        if leaf_for[i].is_some() {
            return Err(bad("The commit adds a device twice."));
        }
        // RFC 9420 §12.1.1: the leftmost blank leaf, else a new one at the end.
        let leaf = (0..).find(|l| !occupied.contains(l)).unwrap_or(0);
        occupied.insert(leaf);
        leaf_for[i] = Some(leaf);
    }
    leaf_for
        .into_iter()
        .map(|l| l.ok_or_else(|| bad("The commit does not add every device declared in added.")))
        .collect()
}

/// A member may remove their own devices, and anyone who must leave; nobody else.
pub(super) fn check_removed(group: &Group, who: &CurrentUser, removed: &[String]) -> AppResult<()> {
    let mut seen = BTreeSet::new();
    for id in removed {
        if !seen.insert(id) {
            return Err(bad("A device is removed twice."));
        }
        let Some(m) = group.members.iter().find(|m| &m.device_id == id) else {
            return Err(bad("A device removed is not in the conversation."));
        };
        if !(group.pending_removals.contains(id) || m.user_id == who.user.id) {
            return Err(refused(
                "You can remove only your own devices, or those that must leave.",
            ));
        }
    }
    Ok(())
}
