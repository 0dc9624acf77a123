//! Attachments and safety numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mls_client::attachment::{open, seal, sha256};
use mls_client::safety::safety_number;
use mls_client::{Device, DeviceIdentity};

#[test]
fn seal_open_round_trip_and_failures() {
    let plain = vec![42u8; 10_000];
    let s = seal(&plain).unwrap();
    assert_eq!(s.sha256, sha256(&s.ciphertext));
    assert_ne!(&s.ciphertext[12..12 + 100], &plain[..100]);
    assert_eq!(open(&s.ciphertext, &s.key, &s.sha256).unwrap(), plain);

    // Fresh key and nonce each time.
    let s2 = seal(&plain).unwrap();
    assert_ne!(s.key, s2.key);
    assert_ne!(s.ciphertext, s2.ciphertext);

    let mut wrong_key = s.key;
    wrong_key[0] ^= 1;
    assert!(open(&s.ciphertext, &wrong_key, &s.sha256).is_err());

    // A tampered byte with the hash recomputed (the attacker controls the blob store but
    // not the hash inside the MLS message): the hash check fails…
    let mut tampered = s.ciphertext.clone();
    tampered[20] ^= 1;
    assert!(open(&tampered, &s.key, &s.sha256).is_err());
    // …and even with a matching hash, GCM refuses it.
    assert!(open(&tampered, &s.key, &sha256(&tampered)).is_err());

    let mut wrong_hash = s.sha256;
    wrong_hash[31] ^= 1;
    assert!(open(&s.ciphertext, &s.key, &wrong_hash).is_err());

    assert!(open(&[], &s.key, &sha256(&[])).is_err());
    let empty = seal(&[]).unwrap();
    assert_eq!(
        open(&empty.ciphertext, &empty.key, &empty.sha256).unwrap(),
        Vec::<u8>::new()
    );
}

#[test]
fn safety_numbers_from_real_device_keys() {
    let d = |a: &str, n: &str| Device::create(DeviceIdentity::new(a, n).unwrap()).unwrap();
    let alice = [
        d("alice", "phone").signature_key(),
        d("alice", "laptop").signature_key(),
    ];
    let clin = [d("dr", "desk").signature_key()];
    let n1 = safety_number(("alice", &alice), ("dr", &clin));
    let n2 = safety_number(("dr", &clin), ("alice", &alice));
    assert_eq!(n1, n2);
    assert_eq!(n1.len(), 60 + 11);
    assert_eq!(n1.split(' ').count(), 12);
    let replaced = [alice[0].clone(), d("alice", "laptop").signature_key()];
    assert_ne!(n1, safety_number(("alice", &replaced), ("dr", &clin)));
}
