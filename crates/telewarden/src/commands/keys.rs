//! `telewarden keys rotate`: a new key-encryption key, every data key re-wrapped under
//! it. A running server does it online, asked through its control socket; with no
//! server running, the command starts one privately (no network listener) to do it.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clock::SystemClock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::cli::{CommonArgs, FlagOverrides};
use crate::settings;

#[allow(clippy::print_stdout)] // The command's answer.
pub async fn rotate(common: CommonArgs) -> anyhow::Result<ExitCode> {
    let mut config = settings::load(
        &common,
        &FlagOverrides {
            data_dir: common.data_dir.clone(),
            ..FlagOverrides::default()
        },
    )?;
    if !config.data_dir.join("master.key").exists()
        && !config.data_dir.join("telewarden.lock").exists()
    {
        bail!(
            "{} is not a Telewarden data directory (use --data-dir or TW_DATA_DIR)",
            config.data_dir.display()
        );
    }
    let socket = server::control::socket_path(&config.data_dir);
    let (version, rewrapped) = match tokio::net::UnixStream::connect(&socket).await {
        Ok(stream) => {
            let answer = ask(stream, "/keys/rotate").await?;
            let version = answer["kek_version"].as_i64().unwrap_or_default();
            let rewrapped = answer["rewrapped"].as_u64().unwrap_or_default();
            println!("Rotated online by the running server.");
            (version, rewrapped)
        }
        Err(_) => {
            // Nobody answers: start privately, on loopback with an ephemeral port, and
            // without the metrics listener; the data directory lock keeps a real server
            // from starting meanwhile.
            config.listen = "127.0.0.1:0".parse().context("loopback address")?;
            config.metrics_listen = None;
            config.redirect_listen = None;
            let running = server::start(config, Arc::new(SystemClock))
                .await
                .context("could not open the data directory (is a server starting?)")?;
            let result = running.rotate_kek().await;
            running.shutdown().await.context("shutdown")?;
            let r = result.map_err(|e| anyhow::anyhow!("{}", e.message))?;
            println!("Rotated (no server was running).");
            (r.kek_version, r.rewrapped)
        }
    };
    println!(
        "Key-encryption key version {version} is now in use; {rewrapped} data keys re-wrapped."
    );
    Ok(ExitCode::SUCCESS)
}

/// One POST over the control socket; the JSON answer.
pub(crate) async fn ask(
    stream: tokio::net::UnixStream,
    path: &str,
) -> anyhow::Result<serde_json::Value> {
    send(stream, path, None).await
}

/// One POST with a JSON body over the control socket; the JSON answer.
pub(crate) async fn ask_json(
    stream: tokio::net::UnixStream,
    path: &str,
    body: &str,
) -> anyhow::Result<serde_json::Value> {
    send(stream, path, Some(body)).await
}

async fn send(
    mut stream: tokio::net::UnixStream,
    path: &str,
    body: Option<&str>,
) -> anyhow::Result<serde_json::Value> {
    let request = match body {
        None => format!(
            "POST {path} HTTP/1.1\r\nHost: control\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Some(body) => format!(
            "POST {path} HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    };
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream
        .take(1024 * 1024)
        .read_to_end(&mut response)
        .await
        .context("the server did not answer")?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("the server's answer is not HTTP")?;
    let status = head.split(' ').nth(1).unwrap_or_default();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    if status != "200" {
        bail!("the server refused ({status}): {body}");
    }
    serde_json::from_str(&body).context("the server's answer is not JSON")
}

/// The body of a chunked HTTP/1.1 response.
fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}
