use crate::simulation::{forbidden_topic, hmac_sha256};
use crate::{
    ClickEvidence, Event, TrainingError, disclosure, is_human_click, lure, lures, render, token,
    validate_template, verify_token,
};

const BODY: &str = "Hi {{name}}, please look at {{link}} today.";
const LANDING: &str = "Sign in to continue.";

fn refused_word(subject: &str) -> Option<String> {
    match validate_template(subject, BODY, LANDING) {
        Err(TrainingError::ForbiddenTopic { word, .. }) => Some(word),
        other => {
            assert!(other.is_ok(), "{subject}: {other:?}");
            None
        }
    }
}

#[test]
fn built_in_lures_are_valid() {
    assert_eq!(lures().len(), 4);
    for l in lures() {
        assert_eq!(
            validate_template(l.subject, l.body, l.landing),
            Ok(()),
            "{}",
            l.id
        );
        assert!(!l.signs.is_empty(), "{}", l.id);
        assert_eq!(lure(l.id), Some(l));
    }
    assert!(lure("nope").is_none());
    assert!(!disclosure().is_empty());
}

#[test]
fn pay_job_gift_and_tax_lures_are_refused() {
    let cases = [
        ("Your holiday BONUS is ready", "bonus"),
        ("Updated payslip attached", "payslip"),
        ("Salary review results", "salary"),
        ("Pay rise approved", "pay"),
        ("About your raise", "raise"),
        ("Announcement: layoffs next month", "layoffs"),
        ("Planned lay-off of clinical staff", "lay off"),
        ("Staff laid off", "laid off"),
        ("Redundancies in the practice", "redundancies"),
        ("Notice of termination", "termination"),
        ("Your holiday gift is waiting", "gift"),
        ("Claim your tax refund", "tax refund"),
        ("Tax-refund for staff", "tax refund"),
        ("Christmas hamper for the team", "hamper"),
        ("Your b0nus is here", "bonus"),
        ("Updated sa1ary bands", "salary"),
        ("Bo\u{00AD}nus payment", "bonus"),
        ("Bo\u{200B}nus", "bonus"),
    ];
    for (subject, word) in cases {
        assert_eq!(refused_word(subject).as_deref(), Some(word), "{subject}");
    }
    // In the body or on the landing page too.
    assert!(matches!(
        validate_template("Hello", "Your bonus: {{link}}", LANDING),
        Err(TrainingError::ForbiddenTopic { field: "body", .. })
    ));
    assert!(matches!(
        validate_template("Hello", BODY, "Enter bank details for your salary"),
        Err(TrainingError::ForbiddenTopic {
            field: "landing",
            ..
        })
    ));
    let msg = validate_template("Bonus", BODY, LANDING)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("\"bonus\"") && msg.contains("must not"),
        "{msg}"
    );
}

#[test]
fn ordinary_words_are_not_refused() {
    for subject in [
        "Your consult is waiting",
        "Payment for invoice 2231",
        "Paying attention to sign-ins",
        "Superb results",
        "Bonanza of referrals",
        "Display settings changed",
        "Staff rostering update",
        "Medicare claim update",
    ] {
        assert_eq!(refused_word(subject), None, "{subject}");
    }
    assert_eq!(forbidden_topic("the gifted clinician"), None);
}

#[test]
fn malformed_templates_are_refused() {
    assert_eq!(
        validate_template("  ", BODY, LANDING),
        Err(TrainingError::Empty { field: "subject" })
    );
    assert_eq!(
        validate_template("Hi", "", LANDING),
        Err(TrainingError::Empty { field: "body" })
    );
    assert_eq!(
        validate_template("Hi", BODY, " "),
        Err(TrainingError::Empty { field: "landing" })
    );
    assert_eq!(
        validate_template("Hi", "No link here, {{name}}", LANDING),
        Err(TrainingError::MissingLink)
    );
    assert_eq!(
        validate_template("Hi {{foo}}", BODY, LANDING),
        Err(TrainingError::UnknownPlaceholder {
            field: "subject",
            name: "foo".into()
        })
    );
    assert_eq!(
        validate_template("Hi", "{{link}} {{ password }}", LANDING),
        Err(TrainingError::UnknownPlaceholder {
            field: "body",
            name: "password".into()
        })
    );
    assert_eq!(
        validate_template("Hi", "{{link}} and {{name", LANDING),
        Err(TrainingError::UnclosedPlaceholder { field: "body" })
    );
    assert_eq!(
        validate_template("Hi\r\nBcc: all@example.org", BODY, LANDING),
        Err(TrainingError::MultilineSubject)
    );
    let long = "x".repeat(121);
    assert_eq!(
        validate_template(&long, BODY, LANDING),
        Err(TrainingError::TooLong {
            field: "subject",
            max: 120,
            got: 121
        })
    );
    let long_body = format!("{{{{link}}}} {}", "a".repeat(5_000));
    assert!(matches!(
        validate_template("Hi", &long_body, LANDING),
        Err(TrainingError::TooLong { field: "body", .. })
    ));
    // Spaces inside the braces are fine.
    assert_eq!(
        validate_template("Hi {{ name }}", "Go: {{ link }}", LANDING),
        Ok(())
    );
}

#[test]
fn render_fills_placeholders_once_and_keeps_one_line() {
    let out = render(
        "Hi {{name}}, see {{ link }} ({{foo}}) {{name",
        "Ana {{link}}",
        "https://x/t/1",
    );
    assert_eq!(out, "Hi Ana {{link}}, see https://x/t/1 ({{foo}}) {{name");
    assert_eq!(
        render("{{name}}: news", "Bob\r\nBcc: all", "l"),
        "Bob  Bcc: all: news"
    );
    let l = lure("fake-shared-record").unwrap();
    assert!(render(l.subject, "Dr Lee", "u").starts_with("Dr Lee, a patient record"));
    assert!(
        render(l.body, "Dr Lee", "https://p.example/t/abc").contains("https://p.example/t/abc")
    );
}

#[test]
fn hmac_matches_rfc_4231() {
    // Test case 1.
    let mac = hmac_sha256(&[0x0b; 20], &[b"Hi There"]);
    assert_eq!(
        hex::encode(mac),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    // Test case 2, the message split across parts.
    let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
    assert_eq!(
        hex::encode(mac),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 6: a key longer than the block is hashed first.
    let mac = hmac_sha256(
        &[0xaa; 131],
        &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
    );
    assert_eq!(
        hex::encode(mac),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn tokens_verify_only_for_their_campaign_and_recipient() {
    let secret = [7u8; 32];
    let t = token(&secret, "c-1", "r-42");
    assert_eq!(t.len(), 32);
    assert!(
        t.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(t, token(&secret, "c-1", "r-42"), "deterministic");
    assert!(verify_token(&secret, "c-1", "r-42", &t));
    assert!(verify_token(&secret, "c-1", "r-42", &t.to_uppercase()));

    assert!(
        !verify_token(&secret, "c-2", "r-42", &t),
        "another campaign"
    );
    assert!(
        !verify_token(&secret, "c-1", "r-43", &t),
        "another recipient"
    );
    assert!(
        !verify_token(&[8u8; 32], "c-1", "r-42", &t),
        "another secret"
    );
    // Length prefixes keep ids from sliding into each other.
    assert_ne!(token(&secret, "ab", "c"), token(&secret, "a", "bc"));

    let mut tampered = t.clone().into_bytes();
    tampered[5] = if tampered[5] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert!(!verify_token(&secret, "c-1", "r-42", &tampered));
    assert!(!verify_token(&secret, "c-1", "r-42", &t[..30]));
    assert!(!verify_token(&secret, "c-1", "r-42", &format!("{t}00")));
    assert!(!verify_token(&secret, "c-1", "r-42", ""));
    assert!(!verify_token(&secret, "c-1", "r-42", &"z".repeat(32)));
}

#[test]
fn only_an_interaction_counts_as_a_click() {
    let browser =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0 Safari/537.36";
    let human = ClickEvidence {
        interaction_beacon: true,
        seconds_after_send: 600,
        user_agent: browser,
    };
    assert!(is_human_click(&human));
    // A scanner's prefetch: a bare GET, no beacon, whatever it claims to be.
    assert!(!is_human_click(&ClickEvidence {
        interaction_beacon: false,
        ..human
    }));
    // A sandbox detonating the page on delivery.
    assert!(!is_human_click(&ClickEvidence {
        seconds_after_send: 2,
        ..human
    }));
    assert!(!is_human_click(&ClickEvidence {
        seconds_after_send: -5,
        ..human
    }));
    for agent in [
        "",
        "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/140.0 Safari/537.36",
        "python-requests/2.32",
        "Microsoft Office Existence Discovery",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
    ] {
        assert!(
            !is_human_click(&ClickEvidence {
                user_agent: agent,
                ..human
            }),
            "{agent}"
        );
    }
}

#[test]
fn events_have_stable_names() {
    for e in [
        Event::Sent,
        Event::Opened,
        Event::Fetched,
        Event::Clicked,
        Event::Submitted,
        Event::Reported,
    ] {
        assert_eq!(Event::parse(e.as_str()), Some(e));
        assert_eq!(serde_json::to_value(e).unwrap(), e.as_str());
    }
    assert_eq!(Event::parse("click"), None);
}

#[test]
fn templates_cannot_point_anywhere_but_their_tracked_link() {
    for body in [
        "Sign in at https://evil.example/login {{link}}",
        "Go to www.evil.example or {{link}}",
        "Reset at evil-clinic.com today: {{link}}",
        "Write to help@evil.example, then {{link}}",
        "Or mailto:help@evil.example {{link}}",
    ] {
        match validate_template("Your consult", body, LANDING) {
            Err(TrainingError::OutsideLink { field: "body", .. }) => {}
            other => panic!("{body}: {other:?}"),
        }
    }
    match validate_template("Visit evil.example now", BODY, LANDING) {
        Err(TrainingError::OutsideLink {
            field: "subject", ..
        }) => {}
        other => panic!("{other:?}"),
    }
    // Ordinary sentences with full stops are fine.
    assert!(
        validate_template(
            "Your consult",
            "Your consult is ready. Join here: {{link}}. Thanks.",
            LANDING
        )
        .is_ok()
    );
}
