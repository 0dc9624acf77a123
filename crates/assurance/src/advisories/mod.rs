//! Dependency advisories of the running build, read from the operator's copy of the
//! RustSec advisory database.
//!
//! Telehealth servers often run without internet access, so nothing here fetches: the
//! operator keeps a checkout of github.com/rustsec/advisory-db up to date and the server
//! reads `crates/<package>/RUSTSEC-YYYY-NNNN.md` from it. Because a stale copy quietly
//! reports "no findings", [`AdvisoryDb::newest_date`] says how fresh the copy is, and a
//! copy that cannot be read is an error rather than an empty list.
//!
//! Matching follows RustSec: an advisory affects a version that matches none of its
//! `patched` and none of its `unaffected` requirements, unless it was withdrawn.
//! Informational advisories (unmaintained, unsound, notice) are reported too, flagged,
//! so the check decides how much they weigh.

mod dates;
mod parse;
#[cfg(test)]
mod tests;

use std::fs;
use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};
use serde::Serialize;

use crate::AssuranceError;

pub use dates::{date_from_days, days_between, days_since_epoch};
pub use parse::lockfile_packages;

/// One advisory file, reduced to what the assessment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    /// `RUSTSEC-YYYY-NNNN`.
    pub id: String,
    /// The crates.io package the advisory is about.
    pub package: String,
    /// The `# Title` line of the markdown body.
    pub title: String,
    /// Publication date, `YYYY-MM-DD`.
    pub date: String,
    /// Where to read more (often the upstream issue or CVE).
    pub url: Option<String>,
    /// CVSS v3 vector string, when RustSec scored it.
    pub cvss: Option<String>,
    /// `unmaintained`, `unsound` or `notice` for informational advisories; `None` for
    /// vulnerabilities.
    pub informational: Option<String>,
    /// Withdrawn advisories were found to be wrong and never affect anything.
    pub withdrawn: bool,
    /// Versions with the fix.
    pub patched: Vec<VersionReq>,
    /// Versions that never had the problem.
    pub unaffected: Vec<VersionReq>,
}

impl Advisory {
    /// Whether `version` of [`Advisory::package`] is affected.
    ///
    /// As with every `semver` requirement, a pre-release such as `2.0.0-rc.1` matches
    /// `>= 1.2.3` only if the requirement names a pre-release of 2.0.0 itself, so
    /// pre-release dependencies may be reported as affected when they are not.
    pub fn affects(&self, version: &Version) -> bool {
        !self.withdrawn
            && !self
                .patched
                .iter()
                .chain(&self.unaffected)
                .any(|req| req.matches(version))
    }
}

/// The advisories read from disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisoryDb {
    /// Sorted by id; withdrawn advisories are kept (they never match).
    pub advisories: Vec<Advisory>,
    /// The newest advisory `date` seen: how fresh the operator's copy is. RustSec
    /// publishes several advisories a week, so a newest date weeks old means the copy
    /// has not been updated.
    pub newest_date: Option<String>,
}

impl AdvisoryDb {
    /// A database from already parsed advisories; sorts them and works out
    /// [`AdvisoryDb::newest_date`].
    pub fn new(mut advisories: Vec<Advisory>) -> Self {
        advisories.sort_by(|a, b| a.id.cmp(&b.id));
        // "YYYY-MM-DD" strings (validated on load) sort like the dates they name.
        let newest_date = advisories.iter().map(|a| a.date.clone()).max();
        Self {
            advisories,
            newest_date,
        }
    }
}

/// A package of the running build, from its `Cargo.lock`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Package {
    pub name: String,
    pub version: Version,
}

/// An advisory that affects a package of the build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub advisory_id: String,
    pub package: String,
    /// The version in the build.
    pub version: String,
    pub title: String,
    /// Publication date of the advisory, `YYYY-MM-DD`: the patch clock (48 hours or
    /// two weeks under Essential Eight) runs from here at the latest.
    pub date: String,
    pub url: Option<String>,
    /// CVSS v3 vector, if scored; lets the check tell critical from the rest.
    pub cvss: Option<String>,
    /// Set for unmaintained/unsound/notice advisories, which are not vulnerabilities.
    pub informational: Option<String>,
    /// The fixed versions, to tell the operator what to upgrade to (empty: no fix).
    pub patched: Vec<String>,
}

fn error(message: String) -> AssuranceError {
    AssuranceError::Advisories(message)
}

/// Reads every `crates/*/RUSTSEC-*.md` under `dir`, a checkout of
/// github.com/rustsec/advisory-db.
///
/// A missing directory, a checkout without advisories, or any file that cannot be read
/// or parsed is an error naming the path: silently skipping a file could hide the one
/// advisory that matters. Files not named `RUSTSEC-*.md` (READMEs) are ignored.
pub fn load_db(dir: &Path) -> Result<AdvisoryDb, AssuranceError> {
    if !dir.is_dir() {
        return Err(error(format!(
            "{} is not a directory; point it at a checkout of github.com/rustsec/advisory-db",
            dir.display()
        )));
    }
    let crates = dir.join("crates");
    if !crates.is_dir() {
        return Err(error(format!(
            "{} has no `crates` directory; is it a checkout of github.com/rustsec/advisory-db?",
            dir.display()
        )));
    }
    let mut advisories = Vec::new();
    for package_dir in sorted_entries(&crates)? {
        if !package_dir.is_dir() {
            continue;
        }
        for file in sorted_entries(&package_dir)? {
            let is_advisory = file
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("RUSTSEC-") && n.ends_with(".md"));
            if !is_advisory || !file.is_file() {
                continue;
            }
            let text = fs::read_to_string(&file)
                .map_err(|e| error(format!("cannot read {}: {e}", file.display())))?;
            let advisory = parse::advisory(&text)
                .map_err(|why| error(format!("{}: {why}", file.display())))?;
            advisories.push(advisory);
        }
    }
    if advisories.is_empty() {
        return Err(error(format!(
            "no advisories under {}; the checkout looks empty or incomplete",
            crates.display()
        )));
    }
    Ok(AdvisoryDb::new(advisories))
}

/// The entries of a directory in name order, so loading is deterministic.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, AssuranceError> {
    let read_error = |e: std::io::Error| error(format!("cannot read {}: {e}", dir.display()));
    let mut paths = fs::read_dir(dir)
        .map_err(read_error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    paths.sort();
    Ok(paths)
}

/// The advisories that affect `packages`, sorted by advisory id, then package and
/// version (a build can hold two versions of one package).
pub fn affecting(db: &AdvisoryDb, packages: &[Package]) -> Vec<Finding> {
    let mut findings: Vec<Finding> = db
        .advisories
        .iter()
        .flat_map(|advisory| {
            packages
                .iter()
                .filter(|p| p.name == advisory.package && advisory.affects(&p.version))
                .map(move |p| (advisory, p))
        })
        .map(|(advisory, p)| Finding {
            advisory_id: advisory.id.clone(),
            package: p.name.clone(),
            version: p.version.to_string(),
            title: advisory.title.clone(),
            date: advisory.date.clone(),
            url: advisory.url.clone(),
            cvss: advisory.cvss.clone(),
            informational: advisory.informational.clone(),
            patched: advisory.patched.iter().map(ToString::to_string).collect(),
        })
        .collect();
    findings.sort_by(|a, b| {
        (&a.advisory_id, &a.package)
            .cmp(&(&b.advisory_id, &b.package))
            .then_with(|| version_order(&a.version, &b.version))
    });
    findings
}

/// Semver order for versions we printed ourselves; plain text order as a fallback.
fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (Version::parse(a), Version::parse(b)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}
