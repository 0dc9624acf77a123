//! Runs the real `telewarden` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_telewarden");

/// A `telewarden` command with a clean environment (no TW_ settings leak in).
pub fn telewarden(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("TW_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir);
    cmd.kill_on_drop(true);
    cmd
}

/// Runs a command to completion.
pub async fn run(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, args, &[]).await
}

pub async fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = telewarden(dir);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("command timed out")
        .expect("command runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `telewarden serve`.
#[derive(Debug)]
pub struct ServeProcess {
    pub child: Child,
    /// The default data directory under the test's directory (`telewarden-data`).
    pub data_dir: std::path::PathBuf,
    pub origin: String,
    pub setup_link: Option<String>,
    pub stdout: Arc<Mutex<String>>,
    pub stderr: Arc<Mutex<String>>,
}

impl ServeProcess {
    /// Starts `telewarden serve` in `dir` with `args` and waits for its banner.
    pub async fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = telewarden(dir);
        cmd.arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn telewarden serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let err_buf = stderr.clone();
        tokio::spawn(async move {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                err_buf
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&chunk[..n]));
            }
        });
        let stdout = Arc::new(Mutex::new(String::new()));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut origin = None;
        let mut setup_link = None;
        let banner = async {
            while let Ok(Some(line)) = lines.next_line().await {
                stdout.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(rest) = line.strip_prefix("Telewarden is listening on ") {
                    origin = Some(rest.trim_end_matches('/').to_owned());
                }
                if line.trim_start().contains("/setup/") {
                    setup_link = Some(line.trim().to_owned());
                }
                if line.starts_with("Ready.") {
                    break;
                }
            }
        };
        if tokio::time::timeout(Duration::from_secs(60), banner)
            .await
            .is_err()
        {
            panic!("no banner; stderr: {}", stderr.lock().unwrap());
        }
        let out_buf = stdout.clone();
        tokio::spawn(async move {
            while let Ok(Some(l)) = lines.next_line().await {
                out_buf.lock().unwrap().push_str(&format!("{l}\n"));
            }
        });
        let origin = origin
            .unwrap_or_else(|| panic!("no listening line; stderr: {}", stderr.lock().unwrap()));
        Self {
            child,
            data_dir: dir.join("telewarden-data"),
            origin,
            setup_link,
            stdout,
            stderr,
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub async fn terminate(mut self) -> (i32, String, String) {
        let pid = self.child.id().expect("pid").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("telewarden did not stop after SIGTERM")
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let out = self.stdout.lock().unwrap().clone();
        let err = self.stderr.lock().unwrap().clone();
        (exit.code().unwrap_or(-1), out, err)
    }
}

pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
