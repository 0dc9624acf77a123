//! Key-free inspection of messages, as the server does it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mls_client::frame::{
    FrameKind, canonical_key_package, inspect, inspect_commit, inspect_key_package,
};
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

/// `MlsMessage.wire_format` (bytes 2..4): 1 PublicMessage, 2 PrivateMessage.
fn wire_format(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[2], bytes[3]])
}

#[test]
fn commits_are_public_and_application_messages_stay_private() {
    let mut a = device("alice", "phone");
    let mut b = device("bob", "pc");
    let group = a.create_group().unwrap();
    let kp = b.key_packages(1).unwrap();
    let c = a.add_members(&group, &kp).unwrap();
    assert_eq!(wire_format(&c.commit), 1, "commits are PublicMessages");
    a.merge_pending(&group).unwrap();
    b.join(c.welcome.as_ref().unwrap()).unwrap();

    let secret = "canary 5d1a-Numbat";
    let m = a.encrypt(&group, &Payload::text(secret)).unwrap();
    assert_eq!(
        wire_format(&m),
        2,
        "application messages are PrivateMessages"
    );
    assert!(!m.windows(secret.len()).any(|w| w == secret.as_bytes()));
    // And the receiver, whose policy asks for PublicMessage handshakes, still accepts
    // encrypted application messages and public commits.
    match b.process(&m).unwrap() {
        mls_client::Received::Message { payload, .. } => assert_eq!(payload.text, secret),
        other => panic!("{other:?}"),
    }
    let u = b.update(&group).unwrap();
    assert_eq!(wire_format(&u.commit), 1);
    b.merge_pending(&group).unwrap();
    assert!(matches!(
        a.process(&u.commit).unwrap(),
        mls_client::Received::Commit { epoch: 2, .. }
    ));
}

#[test]
fn inspect_commit_reads_adds_removes_and_the_path() {
    let mut a = device("alice", "phone");
    let mut b = device("bob", "pc");
    let mut c = device("carol", "tab");
    let group = a.create_group().unwrap();
    let kb = b.key_packages(1).unwrap().remove(0);
    let kc = c.key_packages(1).unwrap().remove(0);
    let add = a.add_members(&group, &[kb.clone(), kc.clone()]).unwrap();
    let info = inspect_commit(&add.commit).unwrap();
    assert_eq!(info.group_id, group);
    assert_eq!(info.epoch, 0);
    assert_eq!(info.sender_leaf, 0);
    assert_eq!(info.removes, Vec::<u32>::new());
    let ids: Vec<_> = info.adds.iter().map(|x| x.identity.clone()).collect();
    assert_eq!(ids, vec![b.identity().clone(), c.identity().clone()]);
    assert_eq!(
        info.adds[0].key_package,
        canonical_key_package(&kb).unwrap()
    );
    assert_eq!(
        info.adds[0].key_package, kb,
        "uploaded key packages are canonical"
    );
    assert_eq!(info.adds[1].signature_key, c.signature_key());
    let (who, key) = info.path_leaf.clone().unwrap();
    assert_eq!(&who, a.identity());
    assert_eq!(key, a.signature_key());
    a.merge_pending(&group).unwrap();
    b.join(add.welcome.as_ref().unwrap()).unwrap();

    // Bob removes Carol (leaf 2).
    let rm = b.remove_members(&group, &[c.identity().clone()]).unwrap();
    let info = inspect_commit(&rm.commit).unwrap();
    assert_eq!((info.epoch, info.sender_leaf), (1, 1));
    assert_eq!(info.removes, vec![2]);
    assert!(info.adds.is_empty());
    assert_eq!(info.path_leaf.unwrap().0, b.identity().clone());

    // Not commits: an application message, a key package, a Welcome, garbage.
    b.discard_pending(&group).unwrap();
    let m = b.encrypt(&group, &Payload::text("x")).unwrap();
    for bytes in [&m, &kb, add.welcome.as_ref().unwrap(), &b"garbage".to_vec()] {
        assert!(inspect_commit(bytes).is_err());
    }
    for cut in [1, 4, rm.commit.len() / 2, rm.commit.len() - 1] {
        assert!(inspect_commit(&rm.commit[..cut]).is_err());
    }
}

/// An update commit (no proposals) with a proposal by reference put in: well formed
/// (the frame inspection accepts it as a commit) but not something Telewarden sends.
pub fn with_proposal_reference(update_commit: &[u8]) -> Vec<u8> {
    // version, wire format, group id <V>, epoch, sender (type + leaf), authenticated
    // data <V>, content type, then the empty proposals vector (a single 0 byte).
    let gid_len = update_commit[4] as usize;
    assert!(gid_len < 64, "one-byte length");
    let mut at = 4 + 1 + gid_len + 8 + 5;
    assert_eq!(update_commit[at], 0, "no authenticated data");
    at += 1;
    assert_eq!(update_commit[at], 3, "a commit");
    at += 1;
    assert_eq!(update_commit[at], 0, "no proposals");
    let mut forged = update_commit[..at].to_vec();
    forged.extend([34, 2, 32]);
    forged.extend([7u8; 32]);
    forged.extend(&update_commit[at + 1..]);
    forged
}

#[test]
fn inspect_commit_refuses_other_proposals() {
    let mut a = device("alice", "phone");
    let group = a.create_group().unwrap();
    let u = a.update(&group).unwrap();
    let info = inspect_commit(&u.commit).unwrap();
    assert!(info.adds.is_empty() && info.removes.is_empty());
    let forged = with_proposal_reference(&u.commit);
    assert_eq!(inspect(&forged).unwrap().kind, FrameKind::Commit);
    let err = inspect_commit(&forged).unwrap_err().to_string();
    assert!(err.contains("by reference"), "{err}");
}

#[test]
fn a_member_refuses_a_commit_adding_someone_already_in_the_group() {
    let mut a = device("alice", "phone");
    let mut b = device("bob", "pc");
    let mut m = device("mallory", "laptop");
    let group = a.create_group().unwrap();
    let kb = b.key_packages(1).unwrap();
    let km = m.key_packages(1).unwrap();
    let c = a
        .add_members(&group, &[kb[0].clone(), km[0].clone()])
        .unwrap();
    a.merge_pending(&group).unwrap();
    b.join(c.welcome.as_ref().unwrap()).unwrap();
    m.join(c.welcome.as_ref().unwrap()).unwrap();
    // Mallory forges a key package under Alice's name (its own key) and adds it.
    let mut fake_alice = device("alice", "phone");
    let forged = fake_alice.key_packages(1).unwrap();
    let bad = m.add_members(&group, &forged).unwrap();
    let err = b.process(&bad.commit).unwrap_err().to_string();
    assert!(err.contains("already a member"), "{err}");
    assert_eq!(b.epoch(&group).unwrap(), 1, "not merged");
    assert_eq!(b.members(&group).unwrap().len(), 3);
}
