//! Hex text for hashes and signatures in JSON.
//!
//! Tree heads and proofs travel to browsers and files, where byte arrays as JSON
//! number lists would be both bulky and unidiomatic; lowercase hex is what every
//! transparency tool prints.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

use crate::{Hash, LedgerError};

/// Lowercase hex of a hash.
pub fn hash_to_hex(hash: &Hash) -> String {
    hex::encode(hash)
}

/// Parses 64 hex characters into a hash.
pub fn hash_from_hex(text: &str) -> Result<Hash, LedgerError> {
    fixed_from_hex::<32>(text).map_err(LedgerError::Invalid)
}

fn fixed_from_hex<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out)
        .map_err(|e| format!("expected {} hex characters: {e}", N * 2))?;
    Ok(out)
}

/// `#[serde(with = "hexser::hash")]` for a [`Hash`].
pub(crate) mod hash {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        fixed_from_hex::<32>(&text).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "hexser::hashes")]` for a `Vec<Hash>`.
pub(crate) mod hashes {
    use super::*;
    use serde::ser::SerializeSeq;

    pub fn serialize<S: Serializer>(value: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(value.len()))?;
        for h in value {
            seq.serialize_element(&hex::encode(h))?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| fixed_from_hex::<32>(t).map_err(D::Error::custom))
            .collect()
    }
}

/// `#[serde(with = "hexser::signature")]` for a 64-byte signature.
pub(crate) mod signature {
    use super::*;

    pub fn serialize<S: Serializer>(value: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(value))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let text = String::deserialize(d)?;
        fixed_from_hex::<64>(&text).map_err(D::Error::custom)
    }
}
