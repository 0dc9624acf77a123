//! Groups end to end: three devices, removal, tampering and replay, competing commits,
//! saving and restoring a device.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mls_client::{Device, DeviceIdentity, Payload, Received};

fn device(account: &str, name: &str) -> Device {
    Device::create(DeviceIdentity::new(account, name).unwrap()).unwrap()
}

fn kp(d: &mut Device) -> Vec<u8> {
    d.key_packages(1).unwrap().pop().unwrap()
}

/// Alice's phone creates a group and adds her laptop and the clinician in one commit.
fn three() -> (Device, Device, Device, Vec<u8>) {
    let mut phone = device("alice", "phone");
    let mut laptop = device("alice", "laptop");
    let mut clin = device("dr-who", "desk");
    let group = phone.create_group().unwrap();
    assert!(group.len() >= 16);
    let commit = phone
        .add_members(&group, &[kp(&mut laptop), kp(&mut clin)])
        .unwrap();
    assert_eq!(commit.epoch, 0);
    phone.merge_pending(&group).unwrap();
    let welcome = commit.welcome.unwrap();
    assert_eq!(laptop.join(&welcome).unwrap(), group);
    assert_eq!(clin.join(&welcome).unwrap(), group);
    for d in [&phone, &laptop, &clin] {
        assert_eq!(d.epoch(&group).unwrap(), 1);
        assert_eq!(d.members(&group).unwrap().len(), 3);
    }
    (phone, laptop, clin, group)
}

fn expect_message(r: Received, from: &Device, text: &str) {
    match r {
        Received::Message {
            sender, payload, ..
        } => {
            assert_eq!(&sender, from.identity());
            assert_eq!(payload.text, text);
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn three_devices_talk() {
    let (mut phone, mut laptop, mut clin, group) = three();
    let m = phone.encrypt(&group, &Payload::text("from phone")).unwrap();
    expect_message(laptop.process(&m).unwrap(), &phone, "from phone");
    expect_message(clin.process(&m).unwrap(), &phone, "from phone");

    let m = laptop
        .encrypt(&group, &Payload::text("from laptop"))
        .unwrap();
    expect_message(phone.process(&m).unwrap(), &laptop, "from laptop");
    expect_message(clin.process(&m).unwrap(), &laptop, "from laptop");
    // The server fanning a message back to its sender is harmless.
    assert!(matches!(
        laptop.process(&m).unwrap(),
        Received::OwnMessage { .. }
    ));

    let m = clin
        .encrypt(&group, &Payload::text("from clinician"))
        .unwrap();
    expect_message(phone.process(&m).unwrap(), &clin, "from clinician");
    expect_message(laptop.process(&m).unwrap(), &clin, "from clinician");

    let members = clin.members(&group).unwrap();
    let phone_member = members
        .iter()
        .find(|m| &m.identity == phone.identity())
        .unwrap();
    assert_eq!(phone_member.signature_key, phone.signature_key());
    assert_eq!(phone.signature_key().len(), 32);
    assert_eq!(phone.groups(), vec![group.clone()]);
}

#[test]
fn removed_device_cannot_read_later_messages() {
    let (mut phone, mut laptop, mut clin, group) = three();
    let commit = phone
        .remove_members(&group, &[laptop.identity().clone()])
        .unwrap();
    assert_eq!(commit.epoch, 1);
    assert!(commit.welcome.is_none());
    phone.merge_pending(&group).unwrap();

    match clin.process(&commit.commit).unwrap() {
        Received::Commit {
            added,
            removed,
            epoch,
            ..
        } => {
            assert!(added.is_empty());
            assert_eq!(removed, vec![laptop.identity().clone()]);
            assert_eq!(epoch, 2);
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    assert!(matches!(
        laptop.process(&commit.commit).unwrap(),
        Received::RemovedSelf { .. }
    ));
    assert!(laptop.groups().is_empty());

    let m = phone
        .encrypt(&group, &Payload::text("after removal"))
        .unwrap();
    expect_message(clin.process(&m).unwrap(), &phone, "after removal");
    assert!(laptop.process(&m).is_err());
    assert_eq!(clin.members(&group).unwrap().len(), 2);
    // Removing a device that is not there is a clear error.
    assert!(
        phone
            .remove_members(&group, &[laptop.identity().clone()])
            .is_err()
    );
}

#[test]
fn removed_device_that_missed_the_commit_still_cannot_read() {
    let (mut phone, mut laptop, mut clin, group) = three();
    let commit = phone
        .remove_members(&group, &[laptop.identity().clone()])
        .unwrap();
    phone.merge_pending(&group).unwrap();
    clin.process(&commit.commit).unwrap();
    let m = clin.encrypt(&group, &Payload::text("secret")).unwrap();
    // Laptop never processed the commit: it has no key for the new epoch.
    assert!(laptop.process(&m).is_err());
}

#[test]
fn tampered_and_replayed_messages_fail() {
    let (mut phone, mut laptop, _clin, group) = three();
    let m = phone.encrypt(&group, &Payload::text("hello")).unwrap();
    let mut tampered = m.clone();
    let last = tampered.len() - 1;
    tampered[last - 20] ^= 0x01; // inside the AEAD ciphertext
    assert!(laptop.process(&tampered).is_err());

    let m2 = phone.encrypt(&group, &Payload::text("again")).unwrap();
    expect_message(laptop.process(&m2).unwrap(), &phone, "again");
    assert!(laptop.process(&m2).is_err(), "a replay must fail");

    // Unknown group, garbage, empty.
    let mut stranger = device("eve", "x");
    assert!(stranger.process(&m2).is_err());
    assert!(laptop.process(&[]).is_err());
    assert!(laptop.process(&[1, 2, 3, 4]).is_err());
}

#[test]
fn competing_commits_loser_discards_and_retries() {
    let (mut phone, mut laptop, mut clin, group) = three();
    let mut tablet = device("alice", "tablet");
    let mut nurse = device("nurse", "pc");

    // Both commit in epoch 1.
    let a = phone.add_members(&group, &[kp(&mut tablet)]).unwrap();
    let b = clin.add_members(&group, &[kp(&mut nurse)]).unwrap();
    assert_eq!(a.epoch, 1);
    assert_eq!(b.epoch, 1);

    // The server takes the phone's commit.
    phone.merge_pending(&group).unwrap();
    laptop.process(&a.commit).unwrap();
    clin.discard_pending(&group).unwrap();
    assert!(clin.discard_pending(&group).is_err());
    match clin.process(&a.commit).unwrap() {
        Received::Commit { added, epoch, .. } => {
            assert_eq!(added, vec![tablet.identity().clone()]);
            assert_eq!(epoch, 2);
        }
        other => panic!("expected a commit, got {other:?}"),
    }
    tablet.join(&a.welcome.unwrap()).unwrap();

    // The clinician retries in epoch 2.
    let b2 = clin.add_members(&group, &[kp(&mut nurse)]).unwrap();
    assert_eq!(b2.epoch, 2);
    clin.merge_pending(&group).unwrap();
    for d in [&mut phone, &mut laptop, &mut tablet] {
        assert!(matches!(
            d.process(&b2.commit).unwrap(),
            Received::Commit { .. }
        ));
    }
    nurse.join(&b2.welcome.unwrap()).unwrap();

    let m = nurse.encrypt(&group, &Payload::text("hi all")).unwrap();
    for d in [&mut phone, &mut laptop, &mut tablet, &mut clin] {
        expect_message(d.process(&m).unwrap(), &nurse, "hi all");
    }
    assert_eq!(phone.members(&group).unwrap().len(), 5);
    // The losing commit is now stale and rejected.
    assert!(laptop.process(&b.commit).is_err());
}

#[test]
fn export_import_then_continue() {
    let (mut phone, laptop, mut clin, group) = three();
    let saved = laptop.export_state().unwrap();
    drop(laptop);
    let mut laptop = Device::import_state(&saved).unwrap();
    assert_eq!(
        laptop.identity(),
        &DeviceIdentity::new("alice", "laptop").unwrap()
    );
    assert_eq!(laptop.groups(), vec![group.clone()]);
    assert_eq!(laptop.epoch(&group).unwrap(), 1);

    let m = phone
        .encrypt(&group, &Payload::text("after restore"))
        .unwrap();
    expect_message(laptop.process(&m).unwrap(), &phone, "after restore");
    let m = laptop
        .encrypt(&group, &Payload::text("restored laptop"))
        .unwrap();
    expect_message(clin.process(&m).unwrap(), &laptop, "restored laptop");

    // Key packages made before saving still work after restoring.
    let mut fresh = device("new", "one");
    let kp_before = fresh.key_packages(1).unwrap().pop().unwrap();
    let mut fresh = Device::import_state(&fresh.export_state().unwrap()).unwrap();
    let c = phone.add_members(&group, &[kp_before]).unwrap();
    phone.merge_pending(&group).unwrap();
    fresh.join(&c.welcome.unwrap()).unwrap();
    laptop.process(&c.commit).unwrap();
    let m = fresh.encrypt(&group, &Payload::text("joined")).unwrap();
    expect_message(laptop.process(&m).unwrap(), &fresh, "joined");

    assert!(Device::import_state(&saved[..saved.len() - 1]).is_err());
    assert!(Device::import_state(b"nonsense").is_err());
}

#[test]
fn attachments_travel_in_the_payload() {
    let (mut phone, mut laptop, _clin, group) = three();
    let file = b"%PDF-1.7 lab results".to_vec();
    let sealed = mls_client::attachment::seal(&file).unwrap();
    let payload = Payload {
        text: "results".into(),
        attachments: vec![mls_client::AttachmentRef {
            blob_id: "blob-1".into(),
            name: "results.pdf".into(),
            media_type: "application/pdf".into(),
            size: file.len() as u64,
            key: sealed.key,
            sha256: sealed.sha256,
        }],
    };
    let m = phone.encrypt(&group, &payload).unwrap();
    match laptop.process(&m).unwrap() {
        Received::Message { payload: got, .. } => {
            assert_eq!(got, payload);
            let a = &got.attachments[0];
            let opened =
                mls_client::attachment::open(&sealed.ciphertext, &a.key, &a.sha256).unwrap();
            assert_eq!(opened, file);
        }
        other => panic!("expected a message, got {other:?}"),
    }
}
