//! TLS: rustls with TLS 1.2 and 1.3 and AEAD cipher suites only (the only kind rustls
//! implements), from operator-supplied PEM files or a generated self-signed certificate.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The certificate and key files in use.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The protocol versions offered: TLS 1.3 and 1.2, nothing older.
pub(crate) const PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Builds the acceptor from PEM files.
pub fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, String> {
    let certs = read_certs(&files.cert)?;
    let key = read_key(&files.key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "TLS certificate {} and key {} do not fit: {e}",
                files.cert.display(),
                files.key.display()
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = fs::read(path)
        .map_err(|e| format!("cannot read TLS certificate {}: {e}", path.display()))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("TLS certificate {} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "TLS certificate {} holds no certificate",
            path.display()
        ));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = fs::read(path).map_err(|e| format!("cannot read TLS key {}: {e}", path.display()))?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        format!(
            "TLS key {} holds no usable private key: {e}",
            path.display()
        )
    })
}

/// Returns the self-signed certificate in `dir`, creating it (key file 0600) on first use.
/// `names` become the certificate's subject alternative names.
pub fn self_signed(dir: &Path, names: &[String]) -> Result<TlsFiles, String> {
    let files = TlsFiles {
        cert: dir.join("self-signed-cert.pem"),
        key: dir.join("self-signed-key.pem"),
    };
    if files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let generated = rcgen::generate_simple_self_signed(names.to_vec())
        .map_err(|e| format!("cannot generate a self-signed certificate: {e}"))?;
    write_new(
        &files.key,
        generated.signing_key.serialize_pem().as_bytes(),
        0o600,
    )?;
    write_new(&files.cert, generated.cert.pem().as_bytes(), 0o644)?;
    Ok(files)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), String> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use rustls::ProtocolVersion;

    #[test]
    fn only_tls_1_2_and_1_3_are_enabled() {
        let versions: Vec<_> = PROTOCOL_VERSIONS.iter().map(|v| v.version).collect();
        assert_eq!(
            versions,
            [ProtocolVersion::TLSv1_3, ProtocolVersion::TLSv1_2]
        );
    }

    #[test]
    fn every_cipher_suite_offered_is_aead_on_tls_1_2_or_1_3() {
        let dir = tempfile::tempdir().unwrap();
        let files = self_signed(dir.path(), &["localhost".to_owned()]).unwrap();
        let config = acceptor(&files).unwrap().config().clone();
        let suites = &config.crypto_provider().cipher_suites;
        assert!(!suites.is_empty());
        let mut seen = Vec::new();
        for suite in suites {
            let name = format!("{:?}", suite.suite());
            let aead = name.contains("_AES_128_GCM_")
                || name.contains("_AES_256_GCM_")
                || name.contains("_CHACHA20_POLY1305_");
            assert!(aead, "{name} is not an AEAD suite");
            assert!(!name.contains("CBC") && !name.contains("NULL"), "{name}");
            let version = suite.version().version;
            assert!(
                matches!(version, ProtocolVersion::TLSv1_2 | ProtocolVersion::TLSv1_3),
                "{name} is for {version:?}"
            );
            seen.push(version);
        }
        // Both versions can actually be negotiated.
        assert!(seen.contains(&ProtocolVersion::TLSv1_3), "{suites:?}");
        assert!(seen.contains(&ProtocolVersion::TLSv1_2), "{suites:?}");
    }
}
