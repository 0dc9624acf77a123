//! The Debian attack tools: installed when missing (as root), each run with a timeout
//! and killed if it overruns.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

pub const TOOLS: [&str; 4] = ["hydra", "sqlmap", "slowhttptest", "wrk"];

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(tool).is_file()))
}

/// Installs the tools that are missing (`apt-get install -y`, when root); returns the
/// ones still missing, with why.
pub async fn ensure() -> Vec<(String, String)> {
    let missing: Vec<&str> = TOOLS.iter().copied().filter(|t| !on_path(t)).collect();
    if missing.is_empty() {
        return Vec::new();
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .await
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root {
        eprintln!("installing {missing:?}");
        let _ = run(
            "apt-get",
            &["update", "-q"],
            Path::new("/"),
            Duration::from_secs(180),
        )
        .await;
        let mut args = vec!["install", "-y", "-q"];
        args.extend(missing.iter().copied());
        let _ = run("apt-get", &args, Path::new("/"), Duration::from_secs(600)).await;
    }
    TOOLS
        .iter()
        .filter(|t| !on_path(t))
        .map(|t| {
            (
                (*t).to_owned(),
                if root {
                    "apt-get install failed".to_owned()
                } else {
                    "not installed, and not root to install it".to_owned()
                },
            )
        })
        .collect()
}

/// What a tool run gave.
#[derive(Debug, Clone)]
pub struct Output {
    pub text: String,
    pub took: Duration,
    /// Killed at the timeout.
    pub timed_out: bool,
    pub status: Option<i32>,
}

/// Runs `program args` in `dir`, killing it (and its process group) after `limit`.
pub async fn run(program: &str, args: &[&str], dir: &Path, limit: Duration) -> Output {
    let started = Instant::now();
    let child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("TERM", "dumb")
        .process_group(0)
        .kill_on_drop(true)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            return Output {
                text: format!("could not start {program}: {e}"),
                took: started.elapsed(),
                timed_out: false,
                status: None,
            };
        }
    };
    let pid = child.id();
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(out)) => Output {
            text: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            took: started.elapsed(),
            timed_out: false,
            status: out.status.code(),
        },
        Ok(Err(e)) => Output {
            text: format!("{program}: {e}"),
            took: started.elapsed(),
            timed_out: false,
            status: None,
        },
        Err(_) => {
            // The child was dropped (killed); its helpers in the group go too.
            if let Some(pid) = pid {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status()
                    .await;
            }
            Output {
                text: String::new(),
                took: started.elapsed(),
                timed_out: true,
                status: None,
            }
        }
    }
}

/// The last number after `label` in `text` (e.g. "connected:" in slowhttptest's
/// status lines).
pub fn last_number_after(text: &str, label: &str) -> Option<u64> {
    text.rmatch_indices(label).find_map(|(i, _)| {
        let rest = text[i + label.len()..].trim_start();
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}
