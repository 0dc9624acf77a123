//! Key-free inspection of messages, as the server does it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mls_client::frame::{FrameKind, inspect, inspect_key_package};
use mls_client::{Device, DeviceIdentity, Payload};

fn device(account: &str, name: &str) -> Device {
    Device::create(DeviceIdentity::new(account, name).unwrap()).unwrap()
}

#[test]
fn inspect_each_kind() {
    let mut a = device("alice", "phone");
    let mut b = device("bob", "pc");
    let kp = b.key_packages(2).unwrap();
    assert_eq!(kp.len(), 2);
    assert_eq!(inspect(&kp[0]).unwrap().kind, FrameKind::KeyPackage);

    let group = a.create_group().unwrap();
    let c = a.add_members(&group, &kp[..1]).unwrap();
    let f = inspect(&c.commit).unwrap();
    assert_eq!(f.kind, FrameKind::Commit);
    assert_eq!(f.group_id.as_deref(), Some(group.as_slice()));
    assert_eq!(f.epoch, Some(0));
    let welcome = c.welcome.unwrap();
    let f = inspect(&welcome).unwrap();
    assert_eq!(f.kind, FrameKind::Welcome);
    assert_eq!(f.group_id, None);
    a.merge_pending(&group).unwrap();
    b.join(&welcome).unwrap();

    let m = a.encrypt(&group, &Payload::text("x")).unwrap();
    let f = inspect(&m).unwrap();
    assert_eq!(f.kind, FrameKind::Application);
    assert_eq!(f.group_id.as_deref(), Some(group.as_slice()));
    assert_eq!(f.epoch, Some(1));

    // Garbage, empty, truncated, trailing bytes.
    assert!(inspect(&[]).is_err());
    assert!(inspect(b"garbage garbage garbage").is_err());
    assert!(inspect(&[0xff; 64]).is_err());
    for bytes in [&m, &c.commit, &welcome, &kp[0]] {
        for cut in [1, 2, 4, bytes.len() / 2, bytes.len() - 1] {
            assert!(inspect(&bytes[..cut]).is_err(), "truncated at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(inspect(&longer).is_err());
    }
}

#[test]
fn key_package_validation() {
    let mut b = device("bob", "pc");
    let kp = b.key_packages(1).unwrap().pop().unwrap();
    let info = inspect_key_package(&kp).unwrap();
    assert_eq!(info.identity, DeviceIdentity::new("bob", "pc").unwrap());
    assert_eq!(info.signature_key, b.signature_key());

    // Flip each byte in turn in the part after the header: every change must be refused
    // (or at least never accepted with a different identity or key).
    let mut refused = 0;
    for i in 4..kp.len() {
        let mut t = kp.clone();
        t[i] ^= 0x01;
        match inspect_key_package(&t) {
            Err(_) => refused += 1,
            Ok(other) => panic!("tampered byte {i} accepted: {other:?}"),
        }
    }
    assert_eq!(refused, kp.len() - 4);

    // Not a key package at all.
    let mut a = device("alice", "phone");
    let g = a.create_group().unwrap();
    let m = a.encrypt(&g, &Payload::text("x")).unwrap();
    assert!(inspect_key_package(&m).is_err());
    assert!(inspect_key_package(&[]).is_err());
    let mut longer = kp.clone();
    longer.push(0);
    assert!(inspect_key_package(&longer).is_err());
    // And add_members refuses a tampered one too.
    let mut t = kp.clone();
    let n = t.len();
    t[n - 10] ^= 1;
    assert!(a.add_members(&g, &[t]).is_err());
}
