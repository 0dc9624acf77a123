//! Scheduling on SQLite and PostgreSQL: slots are booked once, cancellations free them,
//! rescheduling is all-or-nothing, guest passes are counted and used once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use store::accounts::UserRow;
use store::consults::{AppointmentEvent, AppointmentRow, GuestPassRow, SlotRow};
use store::invitations::InvitationRow;
use store::testing::{self, keyring};

fn user(id: &str, role: &str) -> UserRow {
    UserRow {
        id: id.into(),
        email: format!("{id}@example.org"),
        display_name: id.into(),
        role: role.into(),
        password_hash: None,
        created_ms: 1,
        disabled_ms: None,
    }
}

fn inv(id: &str, user: &str) -> InvitationRow {
    InvitationRow {
        id: id.into(),
        token_hash: format!("h-{id}"),
        kind: "enrol".into(),
        user_id: user.into(),
        invited_by: None,
        created_ms: 1,
        expires_ms: 2,
        used_ms: None,
        revoked_ms: None,
    }
}

fn slot(id: &str, starts: i64) -> SlotRow {
    SlotRow {
        id: id.into(),
        clinician_id: "doc".into(),
        starts_ms: starts,
        ends_ms: starts + 900_000,
        appointment_id: None,
        created_ms: 1,
    }
}

fn appointment(id: &str, slot: &SlotRow, patient: Option<&str>) -> AppointmentRow {
    AppointmentRow {
        id: id.into(),
        clinician_id: slot.clinician_id.clone(),
        patient_id: patient.map(str::to_owned),
        slot_id: Some(slot.id.clone()),
        starts_ms: slot.starts_ms,
        ends_ms: slot.ends_ms,
        status: "booked".into(),
        booked_by: "pat".into(),
        created_ms: 10,
        cancelled_ms: None,
        reminded_ms: None,
        started_ms: None,
        ended_ms: None,
        verified_ms: None,
    }
}

#[tokio::test]
async fn booking_cancelling_and_rescheduling() {
    for t in testing::backends().await {
        let db = &t.db;
        db.invite_user(&keyring(), &user("doc", "clinician"), &inv("i1", "doc"))
            .await
            .unwrap();
        db.invite_user(&keyring(), &user("pat", "patient"), &inv("i2", "pat"))
            .await
            .unwrap();
        let (a, b, c) = (
            slot("s1", 1_000_000),
            slot("s2", 2_000_000),
            slot("s3", 3_000_000),
        );
        assert_eq!(
            db.insert_slots(&[a.clone(), b.clone(), c.clone()])
                .await
                .unwrap(),
            3
        );
        assert_eq!(
            db.insert_slots(&[slot("dup", 1_000_000)]).await.unwrap(),
            0,
            "one slot per time"
        );
        assert_eq!(
            db.insert_slots(&[slot("overlap", 1_500_000)])
                .await
                .unwrap(),
            0,
            "no slot overlapping another: overlapping times could both be booked"
        );
        assert_eq!(
            db.free_slots(Some("doc"), 0, 10_000_000)
                .await
                .unwrap()
                .len(),
            3
        );

        let first = appointment("ap1", &a, Some("pat"));
        assert!(db.book(&first, 500).await.unwrap());
        assert!(
            !db.book(&appointment("ap2", &a, Some("pat")), 500)
                .await
                .unwrap(),
            "taken"
        );
        assert!(
            db.appointment("ap2").await.unwrap().is_none(),
            "nothing half-written"
        );
        assert!(
            !db.book(&appointment("ap3", &b, Some("pat")), 2_000_000)
                .await
                .unwrap(),
            "already started"
        );
        assert_eq!(db.free_slots(None, 0, 10_000_000).await.unwrap().len(), 2);
        assert!(
            !db.delete_free_slot("doc", "s1").await.unwrap(),
            "a booked slot stays"
        );

        assert!(db.reschedule("ap1", &b, b.ends_ms, 600).await.unwrap());
        let moved = db.appointment("ap1").await.unwrap().unwrap();
        assert_eq!(
            (moved.slot_id.as_deref(), moved.starts_ms),
            (Some("s2"), 2_000_000)
        );
        assert!(
            db.slot("s1")
                .await
                .unwrap()
                .unwrap()
                .appointment_id
                .is_none(),
            "old slot freed"
        );
        assert!(
            !db.reschedule("ap1", &b, b.ends_ms, 700).await.unwrap(),
            "not into a taken slot"
        );

        assert!(db.cancel_appointment("ap1", 800).await.unwrap());
        assert!(!db.cancel_appointment("ap1", 900).await.unwrap());
        assert!(
            db.slot("s2")
                .await
                .unwrap()
                .unwrap()
                .appointment_id
                .is_none()
        );
        assert_eq!(
            db.appointment("ap1").await.unwrap().unwrap().status,
            "cancelled"
        );

        let second = appointment("ap4", &c, Some("pat"));
        assert!(db.book(&second, 900).await.unwrap());
        assert_eq!(db.appointments("", "pat", 0, 10).await.unwrap().len(), 2);
        assert_eq!(
            db.due_reminders(2_500_000, 3_500_000).await.unwrap().len(),
            1
        );
        assert!(db.mark_reminded("ap4", 1_000).await.unwrap());
        assert!(!db.mark_reminded("ap4", 1_001).await.unwrap());
        assert!(
            db.mark_appointment("ap4", AppointmentEvent::Started, 3_000_100)
                .await
                .unwrap()
        );
        assert!(
            db.mark_appointment("ap4", AppointmentEvent::Started, 3_000_200)
                .await
                .unwrap()
        );
        assert!(
            db.mark_appointment("ap4", AppointmentEvent::Ended, 3_500_000)
                .await
                .unwrap()
        );
        let done = db.appointment("ap4").await.unwrap().unwrap();
        assert_eq!(
            (done.started_ms, done.status.as_str()),
            (Some(3_000_100), "completed")
        );

        db.put_note("ap4", "doc", "sealed-1", 1).await.unwrap();
        db.put_note("ap4", "doc", "sealed-2", 2).await.unwrap();
        assert_eq!(db.note("ap4").await.unwrap(), Some(("sealed-2".into(), 2)));
    }
}

#[tokio::test]
async fn guest_passes_are_counted_and_used_once() {
    for t in testing::backends().await {
        let db = &t.db;
        db.invite_user(&keyring(), &user("doc", "clinician"), &inv("i1", "doc"))
            .await
            .unwrap();
        let s = slot("s1", 1_000_000);
        db.insert_slots(std::slice::from_ref(&s)).await.unwrap();
        let pass = GuestPassRow {
            appointment_id: "ap1".into(),
            token_hash: "tok".into(),
            code_hash: "code".into(),
            name_sealed: "sealed".into(),
            email: "guest@example.org".into(),
            created_ms: 1,
            expires_ms: s.ends_ms,
            used_ms: None,
            attempts: 0,
        };
        assert!(
            db.book_for_guest(&appointment("ap1", &s, None), &pass, 100)
                .await
                .unwrap()
        );
        assert_eq!(
            db.guest_pass_by_token_hash("tok")
                .await
                .unwrap()
                .unwrap()
                .appointment_id,
            "ap1"
        );
        for _ in 0..3 {
            assert!(db.guest_pass_attempt("ap1", 3, 200).await.unwrap());
        }
        assert!(
            !db.guest_pass_attempt("ap1", 3, 200).await.unwrap(),
            "three tries"
        );
        assert!(db.use_guest_pass("ap1", 300).await.unwrap());
        assert!(!db.use_guest_pass("ap1", 301).await.unwrap());
        assert_eq!(
            db.guest_name_sealed("ap1").await.unwrap().as_deref(),
            Some("sealed")
        );
    }
}
