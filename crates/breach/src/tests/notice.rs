use super::*;

/// Square-bracket placeholders in a draft.
fn placeholders(text: &str) -> Vec<String> {
    // Everything after each `[` (the text before the first one is not a placeholder).
    let mut parts = text.split('[');
    parts.next();
    parts
        .filter_map(|s| s.split_once(']').map(|(p, _)| p.to_string()))
        .collect()
}

#[test]
fn individual_notice_carries_the_recorded_facts() {
    let text = draft_notice(
        &Duty::NdbIndividuals,
        &full_incident(),
        &practice(),
        &sydney(),
    );
    for fact in [
        "Harbour Family Clinic",
        "A staff laptop with patient files was stolen from a car.",
        "The breach happened on 2 March 2026. We found out on 3 March 2026.",
        "- Medicare numbers",
        "- 3 March 2026: We locked the laptop's account and wiped it remotely.",
        "- 5 March 2026: We now require disk encryption on every laptop.",
        "- Watch for letters or calls",
        "Phone (free call): 1800 123 456",
        "Email: privacy@harbour.example",
        "Website: https://harbour.example",
        "Post: 1 George St, Sydney NSW 2000",
        "Sam Privacy",
    ] {
        assert!(text.contains(fact), "missing {fact:?} in:\n{text}");
    }
    // Only the recipient's name is left to fill in.
    assert_eq!(placeholders(&text), vec!["name"]);
}

#[test]
fn missing_facts_become_visible_placeholders() {
    let i = Incident {
        title: "Unknown".into(),
        discovered_ms: Some(ms("2026-03-01T10:00:00-05:00")),
        ..Incident::default()
    };
    let p = Practice {
        name: "Clinic".into(),
        ..Practice::default()
    };
    let ny = new_york();
    let letter = placeholders(&draft_notice(&Duty::HipaaIndividuals, &i, &p, &ny));
    for ph in [
        "what happened, in plain words",
        "date the breach happened",
        "kinds of information involved",
        "steps people should take to protect themselves",
        "toll-free phone number",
        "email address",
        "website or postal address",
        "contact name",
    ] {
        assert!(letter.iter().any(|x| x == ph), "no [{ph}] in {letter:?}");
    }
    assert!(!letter.iter().any(|x| x == "date we found out"));

    let hhs = draft_notice(&Duty::HhsAnnualLog, &i, &p, &ny);
    assert!(
        hhs.contains("People affected: [number of people affected]"),
        "{hhs}"
    );
    assert!(hhs.contains("Discovery date: 1 March 2026"), "{hhs}");
    assert!(hhs.contains("Individual notice sent: [date sent]"), "{hhs}");
}

#[test]
fn hipaa_and_ndb_use_their_own_found_out_dates() {
    let mut i = full_incident();
    i.aware_suspected_ms = Some(ms("2026-03-03T09:00:00+11:00"));
    i.discovered_ms = Some(ms("2026-03-05T09:00:00+11:00"));
    let tz = sydney();
    let hipaa = draft_notice(&Duty::HipaaIndividuals, &i, &practice(), &tz);
    assert!(hipaa.contains("We found out on 5 March 2026."), "{hipaa}");
    let ndb = draft_notice(&Duty::NdbIndividuals, &i, &practice(), &tz);
    assert!(ndb.contains("We found out on 3 March 2026."), "{ndb}");
}

#[test]
fn oaic_statement_fields_and_missing() {
    let s = oaic_statement(&full_incident(), &practice());
    assert!(s.missing().is_empty());
    assert_eq!(s.entity_name, "Harbour Family Clinic");
    assert!(s.contact_details.contains("1800 123 456"));
    assert_eq!(s.kinds_of_information.len(), 3);

    let bare = oaic_statement(&Incident::default(), &Practice::default());
    assert_eq!(bare.missing().len(), 5);
    let mut i = full_incident();
    i.recommended_steps = vec!["  ".into()];
    let s = oaic_statement(
        &i,
        &Practice {
            name: "X".into(),
            ..Practice::default()
        },
    );
    assert_eq!(
        s.missing(),
        vec![
            "contact details (s26WK(3)(a))",
            "recommended steps for individuals (s26WK(3)(d))"
        ]
    );

    let text = draft_notice(
        &Duty::OaicStatement,
        &full_incident(),
        &practice(),
        &sydney(),
    );
    assert!(
        text.contains(
            "reasonable grounds to believe it was an eligible data breach on 6 March 2026"
        ),
        "{text}"
    );
    assert!(text.contains("People affected: 120."), "{text}");
    assert!(placeholders(&text).is_empty(), "{text}");
}

#[test]
fn media_hhs_substitute_adha_and_assessment_drafts() {
    let mut i = full_incident();
    i.affected_by_state.insert("TX".into(), 0);
    let tz = sydney();
    let p = practice();
    let media = draft_notice(
        &Duty::Media {
            state: "NSW".into(),
        },
        &i,
        &p,
        &tz,
    );
    assert!(media.contains("affecting 100 residents of NSW"), "{media}");
    let media = draft_notice(&Duty::Media { state: "TX".into() }, &i, &p, &tz);
    assert!(media.contains("affecting [number of people affected] residents of TX"));

    let hhs = draft_notice(&Duty::HhsImmediate, &i, &p, &tz);
    assert!(hhs.contains("People affected: 120"));
    assert!(hhs.contains("Information involved: names, dates of birth, Medicare numbers"));
    // Facts the record does not hold are left for the practice, not guessed.
    assert!(
        placeholders(&hhs)
            .iter()
            .any(|x| x.starts_with("type of breach"))
    );

    let sub = draft_notice(&Duty::SubstituteNotice, &i, &p, &tz);
    assert!(sub.contains("call our free number, 1800 123 456"));

    i.my_health_record = true;
    let adha = draft_notice(&Duty::AdhaMyHealthRecord, &i, &p, &tz);
    assert!(adha.contains("We became aware on 3 March 2026."), "{adha}");
    assert!(draft_notice(&Duty::OaicStatement, &i, &p, &tz).contains("My Health Record"));

    let assess = draft_notice(&Duty::NdbAssessment, &i, &p, &tz);
    assert!(
        assess.contains("Assessment due by: 2 April 2026"),
        "{assess}"
    );
    assert!(assess.contains("Eligible data breach: yes."));
    assert!(assess.contains("Decided by Dr Lee on 6 March 2026."));
    i.ndb = None;
    assert!(draft_notice(&Duty::NdbAssessment, &i, &p, &tz).contains("[not yet decided]"));
}
