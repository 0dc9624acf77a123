//! A capped table of per-identity state (sources, accounts, sessions, tokens).
//!
//! **Policy when full**: inserting a new key into a full table evicts one existing
//! entry, chosen among a random sample of [`EVICTION_SAMPLE`] entries as the one with the
//! least risk, ties broken by the stalest last sighting (the approach Redis uses for its
//! LRU: sampling keeps eviction O(1) with no ordering structure to maintain). Entries
//! with risk are therefore kept over quiet ones, and an attacker flooding with fresh
//! keys mostly evicts the fresh keys of its own flood. Idle entries with no risk left are
//! also pruned periodically ([`BoundedTable::prune`]).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::Hash;

/// How many entries are sampled to pick one to evict.
pub const EVICTION_SAMPLE: usize = 8;

/// What the table needs to know of an entry to choose what to evict and to estimate
/// memory.
pub trait Tracked {
    /// Current risk (higher is kept longer).
    fn risk_at(&self, now_ms: i64) -> f64;
    /// Last time the identity was seen.
    fn last_seen_ms(&self) -> i64;
    /// Heap bytes owned by the entry beyond its inline size.
    fn heap_bytes(&self) -> usize;
}

/// Heap bytes of a key.
pub trait KeyBytes {
    /// Heap bytes owned by the key.
    fn key_heap_bytes(&self) -> usize {
        0
    }
}

impl KeyBytes for std::net::IpAddr {}
impl KeyBytes for crate::event::SessionKey {}
impl KeyBytes for String {
    fn key_heap_bytes(&self) -> usize {
        self.capacity()
    }
}

/// A capped map with sampled eviction.
#[derive(Debug)]
pub struct BoundedTable<K, V> {
    cap: usize,
    keys: Vec<K>,
    map: HashMap<K, (usize, V)>,
    rng: u64,
    evictions: u64,
}

impl<K: Hash + Eq + Clone + KeyBytes, V: Tracked> BoundedTable<K, V> {
    /// An empty table holding at most `cap` entries (at least one).
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            keys: Vec::new(),
            map: HashMap::new(),
            rng: 0x9E37_79B9_7F4A_7C15,
            evictions: 0,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Entries evicted so far because the table was full.
    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// The entry for `key`, if tracked.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key).map(|(_, v)| v)
    }

    /// The entry for `key`, mutably, if tracked.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key).map(|(_, v)| v)
    }

    /// Whether `key` is tracked.
    pub fn contains(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    /// The entry for `key`, created with `make` (evicting another if full).
    pub fn entry(&mut self, key: K, now_ms: i64, make: impl FnOnce() -> V) -> &mut V {
        if self.map.len() >= self.cap && !self.map.contains_key(&key) {
            self.evict_one(now_ms);
        }
        let next_index = self.keys.len();
        match self.map.entry(key) {
            Entry::Occupied(slot) => &mut slot.into_mut().1,
            Entry::Vacant(slot) => {
                self.keys.push(slot.key().clone());
                &mut slot.insert((next_index, make())).1
            }
        }
    }

    /// Iterates over all entries.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (_, v))| (k, v))
    }

    /// Iterates mutably over all entries.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.map.iter_mut().map(|(k, (_, v))| (k, v))
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: good enough to sample entries.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn evict_one(&mut self, now_ms: i64) {
        let n = self.keys.len();
        if n == 0 {
            return;
        }
        let mut victim: Option<(usize, f64, i64)> = None;
        for _ in 0..EVICTION_SAMPLE.min(n) {
            let i = (self.next_random() % n as u64) as usize;
            let Some(key) = self.keys.get(i) else {
                continue;
            };
            let Some((_, v)) = self.map.get(key) else {
                continue;
            };
            let candidate = (i, v.risk_at(now_ms), v.last_seen_ms());
            let better = match victim {
                None => true,
                Some((_, risk, seen)) => {
                    candidate.1 < risk || (candidate.1 == risk && candidate.2 < seen)
                }
            };
            if better {
                victim = Some(candidate);
            }
        }
        if let Some((i, _, _)) = victim {
            self.remove_at(i);
            self.evictions += 1;
        }
    }

    fn remove_at(&mut self, i: usize) {
        if i >= self.keys.len() {
            return;
        }
        let key = self.keys.swap_remove(i);
        self.map.remove(&key);
        if let Some(moved) = self.keys.get(i)
            && let Some((idx, _)) = self.map.get_mut(moved)
        {
            *idx = i;
        }
    }

    /// Removes entries for which `stale` holds; returns how many.
    pub fn prune(&mut self, mut stale: impl FnMut(&V) -> bool) -> usize {
        let mut i = 0;
        let mut removed = 0;
        while i < self.keys.len() {
            let is_stale = self
                .keys
                .get(i)
                .and_then(|k| self.map.get(k))
                .is_some_and(|(_, v)| stale(v));
            if is_stale {
                self.remove_at(i);
                removed += 1;
            } else {
                i += 1;
            }
        }
        removed
    }

    /// Estimated bytes held: the hash map's buckets, the key vector and each entry's heap.
    pub fn memory_bytes(&self) -> usize {
        let slot = std::mem::size_of::<K>() + std::mem::size_of::<(usize, V)>() + 1;
        let heap: usize = self
            .map
            .iter()
            .map(|(k, (_, v))| 2 * k.key_heap_bytes() + v.heap_bytes())
            .sum();
        self.map.capacity() * slot + self.keys.capacity() * std::mem::size_of::<K>() + heap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E {
        risk: f64,
        seen: i64,
    }
    impl Tracked for E {
        fn risk_at(&self, _: i64) -> f64 {
            self.risk
        }
        fn last_seen_ms(&self) -> i64 {
            self.seen
        }
        fn heap_bytes(&self) -> usize {
            0
        }
    }

    #[test]
    fn stays_at_cap_and_keeps_risky_entries() {
        let mut t: BoundedTable<String, E> = BoundedTable::new(100);
        t.entry("risky".into(), 0, || E {
            risk: 90.0,
            seen: 0,
        });
        for i in 0..10_000 {
            t.entry(format!("k{i}"), i, || E { risk: 0.0, seen: i });
        }
        assert_eq!(t.len(), 100);
        assert!(t.contains(&"risky".to_owned()));
        assert_eq!(t.evictions(), 10_001 - 100);
        // Keys and map agree after all those swap-removes.
        for (k, _) in t.iter() {
            assert!(t.get(k).is_some());
        }
        assert_eq!(t.prune(|e| e.risk == 0.0), 99);
        assert_eq!(t.len(), 1);
    }
}
