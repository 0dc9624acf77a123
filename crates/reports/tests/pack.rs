//! Evidence packs: determinism, verification, name rules.

// Helpers outside #[test] functions are not covered by allow-unwrap-in-tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use reports::{EvidencePack, MANIFEST_NAME, ReportError, verify_pack};

fn sample_pack() -> EvidencePack {
    let mut pack = EvidencePack::new();
    pack.add("reports/risk.pdf", b"%PDF-1.7 fake".to_vec())
        .unwrap();
    pack.add("incidents.csv", b"when,what\n".to_vec()).unwrap();
    pack.add("reports/e8.html", b"<p>e8</p>".to_vec()).unwrap();
    pack.add("empty.txt", Vec::new()).unwrap();
    pack
}

#[test]
fn same_inputs_give_identical_bytes() {
    let a = sample_pack().finish(1_740_000_000).unwrap();
    let b = sample_pack().finish(1_740_000_000).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.archive.len() % 512, 0);
    let c = sample_pack().finish(1_740_000_001).unwrap();
    assert_ne!(
        a.archive_sha256, c.archive_sha256,
        "the time is part of the archive"
    );
    assert_eq!(a.archive_sha256.len(), 64);
}

#[test]
fn manifest_is_sorted_sha256sums() {
    let out = sample_pack().finish(0).unwrap();
    let names: Vec<&str> = out.manifest.lines().map(|l| &l[66..]).collect();
    assert_eq!(
        names,
        [
            "empty.txt",
            "incidents.csv",
            "reports/e8.html",
            "reports/risk.pdf"
        ]
    );
    assert!(
        out.manifest.contains(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  empty.txt\n"
        )
    );
    assert!(out.manifest.ends_with('\n'));
}

#[test]
fn verify_passes_and_headers_are_fixed() {
    let out = sample_pack().finish(1_740_000_000).unwrap();
    let names = verify_pack(&out.archive).unwrap();
    assert_eq!(
        names,
        [
            "empty.txt",
            "incidents.csv",
            "reports/e8.html",
            "reports/risk.pdf"
        ]
    );

    let mut archive = tar::Archive::new(out.archive.as_slice());
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        assert!(h.as_ustar().is_some(), "POSIX ustar headers");
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.mtime().unwrap(), 1_740_000_000);
        assert_eq!(h.username().unwrap(), Some(""));
        assert_eq!(h.groupname().unwrap(), Some(""));
        seen.push(String::from_utf8(entry.path_bytes().into_owned()).unwrap());
    }
    assert_eq!(seen.first().map(String::as_str), Some(MANIFEST_NAME));
    assert_eq!(seen.len(), 5);
}

#[test]
fn a_flipped_byte_fails_verification() {
    let out = sample_pack().finish(0).unwrap();
    // Find the content of incidents.csv and flip one byte of it.
    let at = out
        .archive
        .windows(10)
        .position(|w| w == b"when,what\n")
        .unwrap();
    let mut damaged = out.archive.clone();
    damaged[at] ^= 0x01;
    match verify_pack(&damaged) {
        Err(ReportError::HashMismatch { name, .. }) => assert_eq!(name, "incidents.csv"),
        other => panic!("expected a hash mismatch, got {other:?}"),
    }
    // A flipped byte in a header breaks its checksum instead.
    let mut damaged = out.archive.clone();
    damaged[513 + 512 * 2] ^= 0x01;
    assert!(verify_pack(&damaged).is_err());
}

/// Builds a raw tar with the given members, bypassing EvidencePack's rules.
fn raw_tar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut header = tar::Header::new_ustar();
        header.set_path(name).unwrap();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, *bytes).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn missing_extra_and_malformed_members_fail() {
    let hash = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"; // "hello"
    let good = format!("{hash}  a.txt\n");
    assert_eq!(
        verify_pack(&raw_tar(&[
            ("SHA256SUMS", good.as_bytes()),
            ("a.txt", b"hello")
        ]))
        .unwrap(),
        ["a.txt"]
    );
    assert!(matches!(
        verify_pack(&raw_tar(&[("SHA256SUMS", good.as_bytes())])),
        Err(ReportError::MissingMember(n)) if n == "a.txt"
    ));
    assert!(matches!(
        verify_pack(&raw_tar(&[("SHA256SUMS", good.as_bytes()), ("a.txt", b"hello"), ("b.txt", b"x")])),
        Err(ReportError::UnlistedMember(n)) if n == "b.txt"
    ));
    assert!(matches!(
        verify_pack(&raw_tar(&[("a.txt", b"hello")])),
        Err(ReportError::ManifestMissing)
    ));
    assert!(matches!(
        verify_pack(&raw_tar(&[
            ("SHA256SUMS", b"nonsense\n"),
            ("a.txt", b"hello")
        ])),
        Err(ReportError::ManifestMalformed { line: 1 })
    ));
    assert!(matches!(
        verify_pack(&raw_tar(&[
            ("SHA256SUMS", good.as_bytes()),
            ("a.txt", b"hello"),
            ("a.txt", b"hello")
        ])),
        Err(ReportError::DuplicateMember(_))
    ));
    let err = verify_pack(b"not a tar at all").unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[test]
fn bad_names_are_rejected() {
    let mut pack = EvidencePack::new();
    for name in [
        "",
        "/etc/passwd",
        "../x",
        "a/../b",
        "a/..",
        "./a",
        "a//b",
        "a/",
        "tab\there",
        "new\nline",
        "nul\0",
        "esc\u{1b}",
        "back\\slash",
        "SHA256SUMS",
        &"x".repeat(300),
    ] {
        assert!(
            matches!(pack.add(name, vec![]), Err(ReportError::InvalidName { .. })),
            "{name:?} should be rejected"
        );
    }
    pack.add("a/b.txt", vec![1]).unwrap();
    assert!(matches!(
        pack.add("a/b.txt", vec![2]),
        Err(ReportError::DuplicateName(_))
    ));
    assert!(
        matches!(pack.add("a", vec![]), Err(ReportError::DuplicateName(_))),
        "file/directory clash"
    );
    assert!(matches!(
        pack.add("a/b.txt/c", vec![]),
        Err(ReportError::DuplicateName(_))
    ));
    pack.add("a.txt", vec![]).unwrap();
    pack.add("ünïcode name.pdf", vec![]).unwrap();
    pack.add(&format!("{}/{}", "d".repeat(120), "f".repeat(90)), vec![])
        .unwrap();
    let out = pack.finish(0).unwrap();
    assert_eq!(verify_pack(&out.archive).unwrap().len(), 4);
}
