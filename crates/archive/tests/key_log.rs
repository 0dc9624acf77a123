//! The archive's key pins against a real Telewarden (in this process, SQLite): a key
//! proof under a larger tree head is accepted by `Pins::check_consistent` only with the
//! server's consistency proof from the remembered head; without one, or with one that
//! does not start from the remembered head (a split view), it is refused and nothing
//! is remembered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use archive::kt::{Pins, parse_ledger_key};
use clock::{Clock, SystemClock};
use tw_bench::messaging::Api;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_larger_tree_head_must_extend_the_remembered_one() {
    let data = tempfile::tempdir().unwrap();
    let mut config = server::Config {
        data_dir: data.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        metrics_listen: None,
        ..server::Config::default()
    };
    config.log_level = server::LogLevel::Error;
    config.training.required_before_records = false;
    let db_url = config.effective_database_url().expose().to_owned();
    let running = server::start(config, Arc::new(SystemClock)).await.unwrap();
    tw_bench::complete_setup(&running, &tw_bench::http_client()).await;
    let api = Api::new(&format!("http://{}", running.addr), &running.origin);
    let db = store::Db::connect(&db_url, &store::PoolSettings::default())
        .await
        .unwrap();
    let keyring = store::keyring::Keyring::load_or_create(&data.path().join("master.key")).unwrap();
    let email = "kl-patient@archive.example";
    let account = tw_bench::enrol(
        &db,
        &keyring,
        "kl-patient",
        email,
        "Mere Log",
        "patient",
        None,
    )
    .await;
    let now = SystemClock.now_ms();
    let cookie = store::testing::session_cookie(&db, &keyring, email, now, now).await;
    let key = parse_ledger_key(&running.ledger_public_key).unwrap();
    let proof_of = |id: String| {
        let (api, cookie) = (&api, cookie.clone());
        async move {
            let (status, proof) = api
                .get(&cookie, &format!("/api/messaging/devices/{id}/key-proof"))
                .await;
            assert_eq!(status, 200, "{proof}");
            serde_json::from_value::<ledger::InclusionProof>(proof).unwrap()
        }
    };

    // The first key proof: its head is remembered.
    let (first_id, first) = api.register(&cookie, &account, "Phone", "member", 2).await;
    let first_proof = proof_of(first_id.clone()).await;
    let mut pins = Pins::default();
    pins.check_consistent(
        &key,
        &first_id,
        &account,
        &first.signature_key(),
        &first_proof,
        None,
    )
    .unwrap();
    assert_eq!(pins.head.as_ref(), Some(&first_proof.sth));

    // Another key, under a larger head.
    let (second_id, second) = api.register(&cookie, &account, "Tablet", "member", 2).await;
    let proof = proof_of(second_id.clone()).await;
    let sig = second.signature_key();
    let from = pins
        .consistency_from(&proof)
        .expect("a larger head needs a proof");
    assert_eq!(from, first_proof.sth.head.size);
    let (status, body) = api
        .get(
            &cookie,
            &format!("/api/messaging/key-log/consistency?from={from}"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let consistency: ledger::ConsistencyProof = serde_json::from_value(body).unwrap();

    // Without the proof, or with one from another tree of that size: refused, nothing
    // remembered.
    let before = pins.clone();
    let why = pins
        .check_consistent(&key, &second_id, &account, &sig, &proof, None)
        .unwrap_err()
        .to_string();
    assert!(why.contains("without a proof"), "{why}");
    let mut split = consistency.clone();
    split.old.head.root[0] ^= 1;
    let why = pins
        .check_consistent(&key, &second_id, &account, &sig, &proof, Some(&split))
        .unwrap_err()
        .to_string();
    assert!(why.contains("does not verify"), "{why}");
    let mut altered = consistency.clone();
    altered.path[0][0] ^= 1;
    assert!(
        pins.check_consistent(&key, &second_id, &account, &sig, &proof, Some(&altered))
            .is_err()
    );
    assert_eq!(pins, before, "nothing is remembered from a refused proof");

    // The genuine proof (it may end later than the key proof if the log grew; then the
    // key proof is fetched again at that head).
    let proof = if consistency.new.head.size == proof.sth.head.size {
        proof
    } else {
        proof_of(second_id.clone()).await
    };
    pins.check_consistent(&key, &second_id, &account, &sig, &proof, Some(&consistency))
        .unwrap();
    assert_eq!(pins.max_tree_size, proof.sth.head.size);
    assert!(pins.is_verified(&second_id, &sig));

    db.close().await;
    running.shutdown().await.unwrap();
}
