//! `cargo xtask wasm`: builds `mls-wasm` for the browser and writes the wasm-bindgen
//! output (`mls_wasm.js`, `mls_wasm_bg.wasm`) into `crates/server/static/mls/`, where
//! the server embeds it. The output is committed, so serving needs no wasm toolchain.
//!
//! Beside the output it writes `SOURCES.sha256`, a digest of the sources it was built
//! from; a test here fails when those sources change and the output was not rebuilt
//! (CI cannot cheaply rebuild the wasm itself).
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Must equal the `wasm-bindgen` crate pin in the root Cargo.toml.
const WASM_BINDGEN_VERSION: &str = "0.2.130";
const TARGET: &str = "wasm32-unknown-unknown";
const PROFILE: &str = "wasm";
/// Where the output goes, and the digest of its sources.
const OUT_DIR: &str = "crates/server/static/mls";
const STAMP: &str = "SOURCES.sha256";
/// What the wasm is built from (besides locked dependencies): these crates' manifests
/// and sources.
const SOURCE_DIRS: [&str; 2] = ["crates/mls-client", "crates/mls-wasm"];

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "wasm" => wasm(),
        _ => Err("usage: cargo xtask wasm".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed ({status})"))
    }
}

/// The installed CLI's version, if there is one.
fn cli_version() -> Option<String> {
    let out = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // "wasm-bindgen 0.2.130"
    text.split_whitespace().nth(1).map(str::to_owned)
}

fn ensure_cli() -> Result<(), String> {
    match cli_version() {
        Some(v) if v == WASM_BINDGEN_VERSION => return Ok(()),
        Some(v) => println!("wasm-bindgen {v} found, {WASM_BINDGEN_VERSION} needed: installing"),
        None => println!("wasm-bindgen not found: installing {WASM_BINDGEN_VERSION}"),
    }
    let install = |locked: bool| {
        let mut cmd = Command::new(cargo());
        cmd.args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN_VERSION,
            "--force",
        ]);
        if locked {
            cmd.arg("--locked");
        }
        run(&mut cmd)
    };
    if let Err(e) = install(true) {
        // A registry mirror may lack a version named in the CLI's own lock file.
        println!("{e}; retrying without --locked");
        install(false)?;
    }
    match cli_version() {
        Some(v) if v == WASM_BINDGEN_VERSION => Ok(()),
        other => Err(format!(
            "wasm-bindgen on PATH is {other:?} after installing {WASM_BINDGEN_VERSION} \
             (is ~/.cargo/bin on PATH?)"
        )),
    }
}

fn wasm() -> Result<(), String> {
    let root = root();
    ensure_cli()?;
    run(Command::new(cargo()).current_dir(&root).args([
        "build",
        "--package",
        "mls-wasm",
        "--target",
        TARGET,
        "--profile",
        PROFILE,
    ]))?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let input = target_dir.join(TARGET).join(PROFILE).join("mls_wasm.wasm");
    let out = root.join(OUT_DIR);
    run(Command::new("wasm-bindgen")
        .arg(&input)
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&out))?;
    let size = std::fs::metadata(out.join("mls_wasm_bg.wasm"))
        .map_err(|e| format!("no output: {e}"))?
        .len();
    let digest = sources_digest(&root)?;
    std::fs::write(out.join(STAMP), format!("{digest}\n"))
        .map_err(|e| format!("cannot write {STAMP}: {e}"))?;
    println!("wrote {} ({size} bytes of wasm)", out.display());
    Ok(())
}

/// Every file under `dir` (Cargo.toml and src/), sorted, as paths relative to `root`.
fn source_files(root: &Path, dir: &str) -> Result<Vec<PathBuf>, String> {
    let mut files = vec![PathBuf::from(dir).join("Cargo.toml")];
    let mut stack = vec![root.join(dir).join("src")];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in entries {
            let path = entry.map_err(|e| format!("{}: {e}", d.display()))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                files.push(rel.to_path_buf());
            }
        }
    }
    files.sort();
    Ok(files)
}

/// SHA-256 over each source file's relative path and contents, in order, as hex.
fn sources_digest(root: &Path) -> Result<String, String> {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for dir in SOURCE_DIRS {
        for rel in source_files(root, dir)? {
            let bytes =
                std::fs::read(root.join(&rel)).map_err(|e| format!("{}: {e}", rel.display()))?;
            let name = rel.to_string_lossy().replace('\\', "/");
            hash.update((name.len() as u64).to_be_bytes());
            hash.update(name.as_bytes());
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(&bytes);
        }
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_wasm_was_built_from_the_current_sources() {
        let root = root();
        let stamp = std::fs::read_to_string(root.join(OUT_DIR).join(STAMP))
            .expect("the wasm output has a SOURCES.sha256");
        let now = sources_digest(&root).expect("the sources can be read");
        assert_eq!(
            stamp.trim(),
            now,
            "crates/mls-client or crates/mls-wasm changed since the browser's wasm was built: \
             run `cargo xtask wasm` and commit crates/server/static/mls"
        );
    }
}
