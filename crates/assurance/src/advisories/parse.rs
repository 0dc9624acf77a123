//! Parsing of advisory files and of `Cargo.lock`.

use semver::{Version, VersionReq};
use serde::Deserialize;

use super::{Advisory, Package, dates};
use crate::AssuranceError;

/// The TOML front matter of an advisory. Unknown keys and sections (`[affected]`,
/// `references`, `license`, ...) are ignored so that new RustSec fields do not break
/// loading.
#[derive(Deserialize)]
struct FrontMatter {
    advisory: AdvisorySection,
    #[serde(default)]
    versions: VersionsSection,
}

#[derive(Deserialize)]
struct AdvisorySection {
    id: String,
    package: String,
    date: String,
    url: Option<String>,
    /// Only in the old all-TOML format; current files carry the title in markdown.
    title: Option<String>,
    cvss: Option<String>,
    informational: Option<String>,
    /// The date the advisory was withdrawn.
    withdrawn: Option<String>,
}

#[derive(Deserialize, Default)]
struct VersionsSection {
    #[serde(default)]
    patched: Vec<String>,
    #[serde(default)]
    unaffected: Vec<String>,
}

/// Parses one `RUSTSEC-*.md` file; the error says what is wrong (the caller adds the
/// path).
pub(super) fn advisory(text: &str) -> Result<Advisory, String> {
    let (front, body) = split_front_matter(text)?;
    let parsed: FrontMatter =
        toml::from_str(front).map_err(|e| format!("invalid TOML front matter: {e}"))?;
    let section = parsed.advisory;
    if section.id.trim().is_empty() || section.package.trim().is_empty() {
        return Err("`id` and `package` must not be empty".to_owned());
    }
    if dates::days_since_epoch(&section.date).is_none() {
        return Err(format!(
            "`date` {:?} is not a YYYY-MM-DD date",
            section.date
        ));
    }
    if let Some(withdrawn) = &section.withdrawn
        && dates::days_since_epoch(withdrawn).is_none()
    {
        return Err(format!(
            "`withdrawn` {withdrawn:?} is not a YYYY-MM-DD date"
        ));
    }
    let title = markdown_title(body)
        .or(section.title)
        .ok_or("no `# Title` line after the TOML block")?;
    Ok(Advisory {
        id: section.id,
        package: section.package,
        title,
        date: section.date,
        url: section.url,
        cvss: section.cvss,
        informational: section.informational,
        withdrawn: section.withdrawn.is_some(),
        patched: requirements("patched", &parsed.versions.patched)?,
        unaffected: requirements("unaffected", &parsed.versions.unaffected)?,
    })
}

/// Splits a file into the body of its leading ```` ```toml ```` fence and the markdown
/// after it.
fn split_front_matter(text: &str) -> Result<(&str, &str), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut offset = 0;
    let mut toml_start = None;
    for line in text.split_inclusive('\n') {
        let end = offset + line.len();
        let trimmed = line.trim();
        match toml_start {
            None if trimmed.is_empty() => {}
            None if trimmed == "```toml" => toml_start = Some(end),
            None => return Err("does not start with a ```toml block".to_owned()),
            Some(start) if trimmed == "```" => {
                let front = text.get(start..offset);
                let body = text.get(end..);
                return front.zip(body).ok_or_else(|| "unreadable fence".to_owned());
            }
            Some(_) => {}
        }
        offset = end;
    }
    Err(match toml_start {
        Some(_) => "the ```toml block is never closed".to_owned(),
        None => "the file is empty".to_owned(),
    })
}

/// The first non-blank markdown line, if it is a `#` heading.
fn markdown_title(body: &str) -> Option<String> {
    let first = body.lines().map(str::trim).find(|l| !l.is_empty())?;
    let title = first.strip_prefix('#')?.trim_start_matches('#').trim();
    (!title.is_empty()).then(|| title.to_owned())
}

fn requirements(key: &str, texts: &[String]) -> Result<Vec<VersionReq>, String> {
    texts
        .iter()
        .map(|text| {
            VersionReq::parse(text).map_err(|e| {
                format!("[versions] {key}: `{text}` is not a version requirement: {e}")
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct Lockfile {
    #[serde(default, rename = "package")]
    packages: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
    source: Option<String>,
}

/// The two ways a `Cargo.lock` names crates.io (the sparse form appears with some
/// registry configurations).
const CRATES_IO: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// The crates.io packages of a `Cargo.lock` (format v1 to v4: all list
/// `[[package]]` tables), in file order.
///
/// Workspace members and path dependencies (no `source`), git dependencies and other
/// registries are left out: RustSec covers crates.io only, and our own crates share
/// names with unrelated crates.io packages (`store`, `proto`, `server`, ...) that have
/// advisories of their own.
pub fn lockfile_packages(cargo_lock: &str) -> Result<Vec<Package>, AssuranceError> {
    let invalid = |why: String| AssuranceError::Advisories(format!("Cargo.lock: {why}"));
    let lock: Lockfile = toml::from_str(cargo_lock).map_err(|e| invalid(e.to_string()))?;
    if lock.packages.is_empty() {
        return Err(invalid("no [[package]] entries".to_owned()));
    }
    lock.packages
        .into_iter()
        .filter(|p| p.source.as_deref().is_some_and(|s| CRATES_IO.contains(&s)))
        .map(|p| {
            let version = Version::parse(&p.version).map_err(|e| {
                invalid(format!(
                    "package `{}` has version `{}`: {e}",
                    p.name, p.version
                ))
            })?;
            Ok(Package {
                name: p.name,
                version,
            })
        })
        .collect()
}
