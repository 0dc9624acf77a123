//! A memory of values already inspected and found clean, so the same browser headers,
//! session cookies and paths, which come with almost every request, are inspected
//! once rather than every time.
//!
//! Inspection is a pure function of a target (its kind, location, context, weight
//! floor and decoded text), so a target that produced no finding once produces none
//! again. The memory is a fixed table of keyed 64-bit hashes (SipHash with a key
//! drawn at start), direct-mapped and lock-free: an attacker who cannot learn the key
//! cannot make a probe share a hash with a clean value, and one who floods it with new
//! values only overwrites entries, bringing inspection back to its uncached cost. Its
//! size is fixed ([`SLOTS`] × 8 bytes), whatever the traffic.

use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::mem::discriminant;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::targets::Target;

/// Entries in the table (64 KiB).
const SLOTS: usize = 8192;

struct CleanValues {
    hasher: RandomState,
    slots: Box<[AtomicU64]>,
}

fn table() -> &'static CleanValues {
    static TABLE: OnceLock<CleanValues> = OnceLock::new();
    TABLE.get_or_init(|| CleanValues {
        hasher: RandomState::new(),
        slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(),
    })
}

/// The target's key: everything the rules read. Never 0 (0 marks an empty slot).
fn key(target: &Target) -> u64 {
    let mut h = table().hasher.build_hasher();
    discriminant(&target.kind).hash(&mut h);
    target.location.hash(&mut h);
    discriminant(&target.context).hash(&mut h);
    target.min_weight.hash(&mut h);
    target.text.hash(&mut h);
    h.finish() | 1
}

fn slot(key: u64) -> &'static AtomicU64 {
    let slots = &table().slots;
    // The low bit is always set; use the high bits for the index.
    &slots[(key >> 32) as usize % slots.len()]
}

/// Whether this exact target was inspected before and found clean. Returns its key
/// for [`remember`].
pub(crate) fn seen(target: &Target) -> (bool, u64) {
    let key = key(target);
    (slot(key).load(Ordering::Relaxed) == key, key)
}

/// Remembers that the target with this key produced no finding.
pub(crate) fn remember(key: u64) {
    slot(key).store(key, Ordering::Relaxed);
}
