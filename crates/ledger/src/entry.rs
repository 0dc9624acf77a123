//! Log entries and their canonical byte encoding.
//!
//! The encoding is the contract between the writer, the verifier and any outside
//! tool that re-checks an exported log, so it is deliberately simple: a version tag,
//! two fixed-width integers and length-prefixed UTF-8 fields. No field can bleed into
//! the next, and nothing depends on a serialisation library's choices at verify time,
//! because the details JSON is hashed exactly as stored.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Hash, LedgerError, hexser, merkle};

/// Largest accepted string field (actor, action, ...), in bytes.
pub const MAX_FIELD_BYTES: usize = 4 * 1024;
/// Largest accepted canonical details JSON, in bytes.
pub const MAX_DETAILS_BYTES: usize = 16 * 1024;
/// Deepest accepted nesting of the details object. Bounds the recursion in
/// canonicalisation and serialisation, which would otherwise overflow the stack on a
/// maliciously deep value.
pub const MAX_DETAILS_DEPTH: usize = 32;

/// Version tag at the start of every canonical encoding; a future format gets a new tag
/// so old and new entries can never hash alike.
pub const ENTRY_TAG: &[u8; 4] = b"TWL1";

/// The chain hash "before" the first entry.
pub const GENESIS_CHAIN: Hash = [0u8; 32];

/// How the audited operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The operation was (or is about to be) carried out.
    Success,
    /// The operation was attempted and failed.
    Failure,
    /// The operation was refused by policy (authorisation, rate limit, ...).
    Denied,
}

impl Outcome {
    /// The stable text form, which is also what gets hashed.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Denied => "denied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = LedgerError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "success" => Ok(Self::Success),
            "failure" => Ok(Self::Failure),
            "denied" => Ok(Self::Denied),
            _ => Err(LedgerError::Invalid(format!("unknown outcome {s:?}"))),
        }
    }
}

/// What a caller appends. Time and sequence number are assigned by the writer, so
/// callers cannot back-date or reorder entries.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// Who did it (user id, service name).
    pub actor: String,
    /// What was done (`session.start`, `record.read`, ...).
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Where the request came from (IP address, job name).
    pub source: String,
    /// Correlates the entry with request logs.
    pub request_id: String,
    /// Free-form structured details.
    pub details: Map<String, Value>,
}

impl NewEntry {
    /// An entry with empty source, request id and details.
    pub fn new(
        actor: impl Into<String>,
        action: impl Into<String>,
        target: impl Into<String>,
        outcome: Outcome,
    ) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            outcome,
            source: String::new(),
            request_id: String::new(),
            details: Map::new(),
        }
    }

    /// Sets the source.
    #[must_use]
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = source.into();
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn request_id(mut self, request_id: impl Into<String>) -> Self {
        self.request_id = request_id.into();
        self
    }

    /// Adds (or replaces) one detail.
    #[must_use]
    pub fn detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }

    /// Checks sizes and canonicalises the details. Done in the caller's task, before
    /// queueing, so one bad entry is refused on its own instead of failing (and being
    /// retried with) a whole batch in the database.
    pub(crate) fn prepare(self) -> Result<Prepared, LedgerError> {
        check_field("actor", &self.actor, false)?;
        check_field("action", &self.action, false)?;
        check_field("target", &self.target, true)?;
        check_field("source", &self.source, true)?;
        check_field("request_id", &self.request_id, true)?;
        let details = canonical_json(&self.details)?;
        if details.len() > MAX_DETAILS_BYTES {
            return Err(LedgerError::Invalid(format!(
                "details are {} bytes of JSON, more than the {MAX_DETAILS_BYTES} allowed",
                details.len()
            )));
        }
        Ok(Prepared {
            actor: self.actor,
            action: self.action,
            target: self.target,
            outcome: self.outcome,
            source: self.source,
            request_id: self.request_id,
            details,
        })
    }
}

fn check_field(name: &str, value: &str, may_be_empty: bool) -> Result<(), LedgerError> {
    if !may_be_empty && value.is_empty() {
        return Err(LedgerError::Invalid(format!("{name} must not be empty")));
    }
    if value.len() > MAX_FIELD_BYTES {
        return Err(LedgerError::Invalid(format!(
            "{name} is {} bytes, more than the {MAX_FIELD_BYTES} allowed",
            value.len()
        )));
    }
    // PostgreSQL text cannot hold NUL; refusing it here keeps one entry from failing
    // everybody else's batch.
    if value.contains('\0') {
        return Err(LedgerError::Invalid(format!(
            "{name} contains a NUL character"
        )));
    }
    Ok(())
}

/// A validated entry waiting for its sequence number.
#[derive(Debug)]
pub(crate) struct Prepared {
    actor: String,
    action: String,
    target: String,
    outcome: Outcome,
    source: String,
    request_id: String,
    details: String,
}

/// Canonical JSON text of a details object: keys sorted (by UTF-8 bytes) at every
/// level, no whitespace.
///
/// Sorting is done here rather than relied on from serde_json's default map type,
/// because another crate in the build enabling serde_json's `preserve_order` feature
/// would silently change the text (feature unification).
pub fn canonical_json(details: &Map<String, Value>) -> Result<String, LedgerError> {
    let value = Value::Object(details.clone());
    if depth_exceeds(&value, MAX_DETAILS_DEPTH) {
        return Err(LedgerError::Invalid(format!(
            "details nest deeper than {MAX_DETAILS_DEPTH} levels"
        )));
    }
    serde_json::to_string(&sorted(&value))
        .map_err(|e| LedgerError::Invalid(format!("details cannot be serialised: {e}")))
}

fn depth_exceeds(value: &Value, budget: usize) -> bool {
    match value {
        Value::Object(m) => budget == 0 || m.values().any(|v| depth_exceeds(v, budget - 1)),
        Value::Array(a) => budget == 0 || a.iter().any(|v| depth_exceeds(v, budget - 1)),
        _ => false,
    }
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
            pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// One stored row of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEntry {
    /// 1-based, contiguous position in the log.
    pub seq: u64,
    /// When the writer accepted the entry, in Unix milliseconds.
    pub time_ms: i64,
    /// Who did it.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Where the request came from.
    pub source: String,
    /// Request correlation id.
    pub request_id: String,
    /// Canonical JSON text of the details object, exactly as hashed. Stored verbatim so
    /// verification hashes these bytes and never re-serialises.
    pub details: String,
    /// `SHA-256(0x00 || canonical_bytes)`: the RFC 6962 leaf hash.
    #[serde(with = "hexser::hash")]
    pub leaf_hash: Hash,
    /// `SHA-256(previous chain_hash || leaf_hash)`.
    #[serde(with = "hexser::hash")]
    pub chain_hash: Hash,
}

impl StoredEntry {
    /// Validates `entry` and builds the row for position `seq` at `time_ms`, following
    /// the entry whose chain hash is `prev_chain` ([`GENESIS_CHAIN`] for seq 1).
    ///
    /// The writer does this itself; it is public for tools and tests that build logs.
    pub fn seal(
        entry: NewEntry,
        seq: u64,
        time_ms: i64,
        prev_chain: &Hash,
    ) -> Result<Self, LedgerError> {
        Ok(Self::seal_prepared(
            entry.prepare()?,
            seq,
            time_ms,
            prev_chain,
        ))
    }

    pub(crate) fn seal_prepared(p: Prepared, seq: u64, time_ms: i64, prev_chain: &Hash) -> Self {
        let mut row = Self {
            seq,
            time_ms,
            actor: p.actor,
            action: p.action,
            target: p.target,
            outcome: p.outcome,
            source: p.source,
            request_id: p.request_id,
            details: p.details,
            leaf_hash: [0; 32],
            chain_hash: [0; 32],
        };
        row.recompute_hashes(prev_chain);
        row
    }

    /// Overwrites `leaf_hash` and `chain_hash` with the values the content implies.
    /// (What an attacker with write access would do; tests use it to play one.)
    pub fn recompute_hashes(&mut self, prev_chain: &Hash) {
        self.leaf_hash = self.compute_leaf_hash();
        self.chain_hash = chain_hash(prev_chain, &self.leaf_hash);
    }

    /// The canonical encoding: `"TWL1"`, seq (u64 BE), time_ms (i64 BE), then actor,
    /// action, target, outcome, source, request_id and details, each as a u32 BE byte
    /// length followed by the UTF-8 bytes.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let fields = [
            self.actor.as_str(),
            self.action.as_str(),
            self.target.as_str(),
            self.outcome.as_str(),
            self.source.as_str(),
            self.request_id.as_str(),
            self.details.as_str(),
        ];
        let len: usize = fields.iter().map(|f| 4 + f.len()).sum();
        let mut out = Vec::with_capacity(ENTRY_TAG.len() + 16 + len);
        out.extend_from_slice(ENTRY_TAG);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        for field in fields {
            // Fields are bounded far below 4 GiB on the way in; a stored row that is
            // somehow larger saturates, which only makes its hash not match.
            let n = u32::try_from(field.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }

    /// The leaf hash the content implies (compare with the stored `leaf_hash`).
    pub fn compute_leaf_hash(&self) -> Hash {
        merkle::leaf_hash(&self.canonical_bytes())
    }

    /// The details parsed back into a JSON object.
    pub fn details_map(&self) -> Result<Map<String, Value>, LedgerError> {
        serde_json::from_str(&self.details)
            .map_err(|e| LedgerError::Invalid(format!("stored details are not a JSON object: {e}")))
    }
}

/// `SHA-256(prev || leaf)`: links each entry to everything before it, so a deleted,
/// inserted or reordered row is detectable even between signed tree heads.
pub fn chain_hash(prev: &Hash, leaf: &Hash) -> Hash {
    merkle::sha256_parts(&[prev, leaf])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_round_trips() {
        for o in [Outcome::Success, Outcome::Failure, Outcome::Denied] {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{o}\""));
        }
        assert!("Success".parse::<Outcome>().is_err());
    }

    #[test]
    fn canonical_encoding_is_exact() {
        let e = StoredEntry::seal(
            NewEntry::new("a", "bc", "", Outcome::Denied).detail("k", 1),
            2,
            -1,
            &GENESIS_CHAIN,
        )
        .unwrap();
        let mut want = b"TWL1".to_vec();
        want.extend_from_slice(&2u64.to_be_bytes());
        want.extend_from_slice(&(-1i64).to_be_bytes());
        for f in ["a", "bc", "", "denied", "", "", "{\"k\":1}"] {
            want.extend_from_slice(&(f.len() as u32).to_be_bytes());
            want.extend_from_slice(f.as_bytes());
        }
        assert_eq!(e.canonical_bytes(), want);
        assert_eq!(e.leaf_hash, merkle::leaf_hash(&want));
        assert_eq!(e.chain_hash, chain_hash(&GENESIS_CHAIN, &e.leaf_hash));
    }

    #[test]
    fn details_are_sorted_at_every_level() {
        let entry = NewEntry::new("a", "b", "c", Outcome::Success)
            .detail("z", serde_json::json!({"y": 1, "b": [ {"d": 1, "c": 2} ]}))
            .detail("a", "x");
        let text = canonical_json(&entry.details).unwrap();
        assert_eq!(text, r#"{"a":"x","z":{"b":[{"c":2,"d":1}],"y":1}}"#);
    }

    #[test]
    fn oversize_and_bad_input_is_refused() {
        let big = "x".repeat(MAX_FIELD_BYTES + 1);
        let ok = || NewEntry::new("a", "b", "c", Outcome::Success);
        assert!(matches!(
            ok().source(big.clone()).prepare(),
            Err(LedgerError::Invalid(_))
        ));
        assert!(matches!(
            NewEntry::new("", "b", "c", Outcome::Success).prepare(),
            Err(LedgerError::Invalid(_))
        ));
        assert!(matches!(
            ok().request_id("a\0b").prepare(),
            Err(LedgerError::Invalid(_))
        ));
        let huge = "y".repeat(MAX_DETAILS_BYTES);
        assert!(matches!(
            ok().detail("k", huge).prepare(),
            Err(LedgerError::Invalid(_))
        ));
        let mut deep = Value::Null;
        for _ in 0..100 {
            deep = Value::Array(vec![deep]);
        }
        assert!(matches!(
            ok().detail("k", deep).prepare(),
            Err(LedgerError::Invalid(_))
        ));
        assert!(ok().source("x".repeat(MAX_FIELD_BYTES)).prepare().is_ok());
    }
}
