//! Evidence packs: one POSIX tar holding report files and a `SHA256SUMS`
//! manifest of them.
//!
//! The manifest lets an auditor check each file with the standard
//! `sha256sum -c SHA256SUMS` after extraction, and the hash of the whole
//! archive (recorded by the server in its audit ledger) vouches for the
//! manifest itself. Both only mean something if the archive is reproducible,
//! so the tar headers carry no host details: a fixed mtime supplied by the
//! caller, mode 0644, uid/gid 0, no user or group names, members in name order.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use sha2::{Digest, Sha256};
use tar::{Archive, Builder, EntryType, Header};

use crate::ReportError;

/// The manifest's member name, in `sha256sum` format.
pub const MANIFEST_NAME: &str = "SHA256SUMS";

/// Collects the files of an evidence pack before [`EvidencePack::finish`]
/// turns them into an archive.
#[derive(Debug, Default, Clone)]
pub struct EvidencePack {
    files: BTreeMap<String, Vec<u8>>,
}

/// A finished evidence pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackOutput {
    /// The POSIX (ustar) tar archive: `SHA256SUMS` first, then the members in
    /// name order.
    pub archive: Vec<u8>,
    /// The `SHA256SUMS` text (`<hex>  <name>\n` per member, sorted by name),
    /// also included in the archive.
    pub manifest: String,
    /// Lower-case hex SHA-256 of `archive`, for the audit ledger.
    pub archive_sha256: String,
}

impl EvidencePack {
    /// An empty pack.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file under `name` (a relative path with `/` separators, e.g.
    /// `reports/risk-assessment.pdf`).
    ///
    /// Names that could escape the extraction directory or confuse a reader
    /// are refused: empty, absolute, `..` or `.` components, empty
    /// components, backslashes, control characters, the reserved
    /// `SHA256SUMS`, or too long for a ustar header. A name already added, or
    /// one that would need to be both a file and a directory (`a` and `a/b`),
    /// is refused too.
    pub fn add(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), ReportError> {
        validate_name(name)?;
        let as_dir = format!("{name}/");
        let clashes = self.files.contains_key(name)
            || self
                .files
                .range(as_dir.clone()..)
                .next()
                .is_some_and(|(k, _)| k.starts_with(&as_dir))
            || parents(name).any(|parent| self.files.contains_key(parent));
        if clashes {
            return Err(ReportError::DuplicateName(name.to_owned()));
        }
        self.files.insert(name.to_owned(), bytes);
        Ok(())
    }

    /// Builds the archive. `generated_unix_secs` becomes every member's mtime,
    /// so the same files and time always give the same bytes.
    pub fn finish(self, generated_unix_secs: u64) -> Result<PackOutput, ReportError> {
        let manifest: String = self
            .files
            .iter()
            .map(|(name, bytes)| format!("{}  {name}\n", sha256_hex(bytes)))
            .collect();
        let mut builder = Builder::new(Vec::new());
        append(
            &mut builder,
            MANIFEST_NAME,
            manifest.as_bytes(),
            generated_unix_secs,
        )?;
        for (name, bytes) in &self.files {
            append(&mut builder, name, bytes, generated_unix_secs)?;
        }
        let archive = builder.into_inner().map_err(ReportError::Archive)?;
        let archive_sha256 = sha256_hex(&archive);
        Ok(PackOutput {
            archive,
            manifest,
            archive_sha256,
        })
    }
}

fn append(
    builder: &mut Builder<Vec<u8>>,
    name: &str,
    bytes: &[u8],
    mtime: u64,
) -> Result<(), ReportError> {
    let mut header = header_for(name)?;
    header.set_size(bytes.len() as u64);
    header.set_mtime(mtime);
    header.set_cksum();
    builder.append(&header, bytes).map_err(ReportError::Archive)
}

/// A regular-file ustar header with everything but size and mtime fixed.
fn header_for(name: &str) -> Result<Header, ReportError> {
    let mut header = Header::new_ustar();
    header.set_entry_type(EntryType::Regular);
    header
        .set_path(name)
        .map_err(|_| invalid(name, "too long or not representable in a POSIX tar header"))?;
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    Ok(header)
}

fn invalid(name: &str, reason: &'static str) -> ReportError {
    ReportError::InvalidName {
        name: name.to_owned(),
        reason,
    }
}

fn validate_name(name: &str) -> Result<(), ReportError> {
    if name.is_empty() {
        return Err(invalid(name, "empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(name, "contains control characters"));
    }
    if name.starts_with('/') {
        return Err(invalid(name, "absolute path"));
    }
    // A backslash is a separator on Windows (and `sha256sum` escapes it in
    // manifests), so it would not mean the same thing everywhere.
    if name.contains('\\') {
        return Err(invalid(name, "contains a backslash"));
    }
    if name.split('/').any(|part| part == "..") {
        return Err(invalid(name, "contains a \"..\" component"));
    }
    if name.split('/').any(|part| part.is_empty() || part == ".") {
        return Err(invalid(name, "contains an empty or \".\" component"));
    }
    if name == MANIFEST_NAME {
        return Err(invalid(name, "reserved for the manifest"));
    }
    header_for(name).map(|_| ())
}

/// `a/b/c` → `a`, `a/b`.
fn parents(name: &str) -> impl Iterator<Item = &str> {
    name.match_indices('/').map(move |(i, _)| &name[..i])
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Re-reads an evidence pack and checks every member against its
/// `SHA256SUMS`, returning the member names (sorted, without the manifest).
///
/// Fails on the first problem: an unreadable archive, a non-file member, a
/// name present twice, a missing or malformed manifest, a hash mismatch, a
/// listed file missing from the archive, or a file the manifest does not
/// list. Verification is strict on purpose: an evidence pack with anything
/// unaccounted for is not evidence.
pub fn verify_pack(archive: &[u8]) -> Result<Vec<String>, ReportError> {
    let mut members: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut reader = Archive::new(archive);
    for entry in reader.entries().map_err(ReportError::Archive)? {
        let mut entry = entry.map_err(ReportError::Archive)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !entry.header().entry_type().is_file() {
            return Err(ReportError::NotAFile(name));
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(ReportError::Archive)?;
        if members.insert(name.clone(), bytes).is_some() {
            return Err(ReportError::DuplicateMember(name));
        }
    }
    let manifest = members
        .remove(MANIFEST_NAME)
        .ok_or(ReportError::ManifestMissing)?;
    let listed = parse_manifest(&manifest)?;
    for (name, expected) in &listed {
        let bytes = members
            .get(name)
            .ok_or_else(|| ReportError::MissingMember(name.clone()))?;
        let actual = sha256_hex(bytes);
        if &actual != expected {
            return Err(ReportError::HashMismatch {
                name: name.clone(),
                expected: expected.clone(),
                actual,
            });
        }
    }
    let listed_names: BTreeSet<&String> = listed.keys().collect();
    if let Some(extra) = members.keys().find(|name| !listed_names.contains(name)) {
        return Err(ReportError::UnlistedMember(extra.clone()));
    }
    Ok(listed.into_keys().collect())
}

/// Parses `sha256sum` output: `<64 hex>  <name>` (or `<hex> *<name>`, the
/// binary-mode marker) per line.
fn parse_manifest(manifest: &[u8]) -> Result<BTreeMap<String, String>, ReportError> {
    let text =
        std::str::from_utf8(manifest).map_err(|_| ReportError::ManifestMalformed { line: 0 })?;
    let mut listed = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let malformed = || ReportError::ManifestMalformed { line: index + 1 };
        let (hash, rest) = line.split_at_checked(64).ok_or_else(malformed)?;
        let name = rest
            .strip_prefix("  ")
            .or_else(|| rest.strip_prefix(" *"))
            .filter(|name| !name.is_empty())
            .ok_or_else(malformed)?;
        if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        if listed
            .insert(name.to_owned(), hash.to_ascii_lowercase())
            .is_some()
        {
            return Err(ReportError::DuplicateMember(name.to_owned()));
        }
    }
    Ok(listed)
}
