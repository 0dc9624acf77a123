//! The OAIC statement and plain-language notice drafts, filled in from the record.
//!
//! Drafts never invent facts: anything not recorded appears as a visible placeholder in
//! square brackets (e.g. `[number of people affected]`) that the practice must replace
//! before sending. Short sentences and everyday words, because the readers are patients.

use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::clock::{self, local_date_text};
use crate::duties::{NDB_ASSESSMENT_DAYS, PRACTICE_TARGET_DAYS};
use crate::duty::Duty;
use crate::incident::Incident;

/// Who the practice is and how people reach it; quoted in every notice.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Practice {
    /// The entity's name.
    pub name: String,
    /// The person people should ask for (privacy officer).
    pub contact_name: String,
    /// Phone; for HIPAA notices this should be toll-free (§164.404(c)(1)(E)).
    pub phone: String,
    /// Email.
    pub email: String,
    /// Postal address.
    pub address: String,
    /// Website.
    pub website: String,
}

/// The statement to the Commissioner, with the s26WK(3) contents; (a) is split into the
/// entity's name and its contact details so a missing half is noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// s26WK(3)(a): identity of the entity.
    pub entity_name: String,
    /// s26WK(3)(a): contact details (contact person, phone, email, address), one line.
    pub contact_details: String,
    /// s26WK(3)(b): description of the eligible data breach.
    pub description: String,
    /// s26WK(3)(c): kinds of information concerned.
    pub kinds_of_information: Vec<String>,
    /// s26WK(3)(d): recommended steps for individuals.
    pub recommended_steps: Vec<String>,
}

impl Statement {
    /// The s26WK(3) items still empty; the statement should not be sent until this is
    /// empty.
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.entity_name.trim().is_empty() {
            out.push("identity of the entity (s26WK(3)(a))");
        }
        if self.contact_details.trim().is_empty() {
            out.push("contact details (s26WK(3)(a))");
        }
        if self.description.trim().is_empty() {
            out.push("description of the breach (s26WK(3)(b))");
        }
        if self.kinds_of_information.is_empty() {
            out.push("kinds of information concerned (s26WK(3)(c))");
        }
        if self.recommended_steps.is_empty() {
            out.push("recommended steps for individuals (s26WK(3)(d))");
        }
        out
    }
}

fn clean(list: &[String]) -> Vec<String> {
    list.iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn contact_line(p: &Practice) -> String {
    let parts = [
        p.contact_name.trim(),
        p.phone.trim(),
        p.email.trim(),
        p.address.trim(),
        p.website.trim(),
    ];
    parts
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The OAIC statement built from the record.
pub fn oaic_statement(incident: &Incident, practice: &Practice) -> Statement {
    Statement {
        entity_name: practice.name.trim().to_string(),
        contact_details: contact_line(practice),
        description: incident.description.trim().to_string(),
        kinds_of_information: clean(&incident.kinds_of_information),
        recommended_steps: clean(&incident.recommended_steps),
    }
}

fn or(value: &str, placeholder: &str) -> String {
    let v = value.trim();
    if v.is_empty() {
        format!("[{placeholder}]")
    } else {
        v.to_string()
    }
}

fn date(ms: Option<i64>, tz: &TimeZone, placeholder: &str) -> String {
    ms.map_or_else(|| format!("[{placeholder}]"), |ms| local_date_text(ms, tz))
}

fn bullets(items: &[String], placeholder: &str) -> String {
    let items = clean(items);
    if items.is_empty() {
        return format!("- [{placeholder}]");
    }
    items
        .iter()
        .map(|s| format!("- {s}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn count(n: u64) -> String {
    if n == 0 {
        "[number of people affected]".into()
    } else {
        n.to_string()
    }
}

/// Containment and remedial steps in date order, as bullets.
fn actions(incident: &Incident, tz: &TimeZone) -> String {
    let mut all: Vec<_> = incident
        .containment
        .iter()
        .chain(&incident.remedial)
        .filter(|a| !a.text.trim().is_empty())
        .collect();
    all.sort_by_key(|a| a.at_ms);
    if all.is_empty() {
        return "- [what we are doing to stop the breach, limit harm and stop it happening again]"
            .into();
    }
    all.iter()
        .map(|a| format!("- {}: {}", local_date_text(a.at_ms, tz), a.text.trim()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn contacts(p: &Practice) -> String {
    let web_or_post = match (p.website.trim(), p.address.trim()) {
        ("", "") => "- Website or postal address: [website or postal address]".to_string(),
        (w, "") => format!("- Website: {w}"),
        ("", a) => format!("- Post: {a}"),
        (w, a) => format!("- Website: {w}\n- Post: {a}"),
    };
    format!(
        "Please contact {} at {}.\n- Phone (free call): {}\n- Email: {}\n{web_or_post}",
        or(&p.contact_name, "contact name"),
        or(&p.name, "practice name"),
        or(&p.phone, "toll-free phone number"),
        or(&p.email, "email address"),
    )
}

/// When the practice found out, in the terms of the regime the notice is for.
fn found_out(duty: &Duty, incident: &Incident) -> Option<i64> {
    if duty.is_hipaa() {
        incident.discovered_ms.or(incident.first_known_ms())
    } else {
        incident.first_known_ms()
    }
}

/// The shared body of notices to people: what happened, what information, what we are
/// doing, what you can do, how to reach us (§164.404(c); s26WL with s26WK(3)).
fn body(duty: &Duty, incident: &Incident, p: &Practice, tz: &TimeZone) -> String {
    format!(
        "What happened\n{}\nThe breach happened on {}. We found out on {}.\n\n\
         What information was involved\n{}\n\n\
         What we are doing\n{}\n\n\
         What you can do\n{}\n\n\
         For more information\n{}",
        or(&incident.description, "what happened, in plain words"),
        date(incident.occurred_ms, tz, "date the breach happened"),
        date(found_out(duty, incident), tz, "date we found out"),
        bullets(
            &incident.kinds_of_information,
            "kinds of information involved"
        ),
        actions(incident, tz),
        bullets(
            &incident.recommended_steps,
            "steps people should take to protect themselves"
        ),
        contacts(p),
    )
}

fn signature(p: &Practice) -> String {
    format!(
        "{}\n{}",
        or(&p.contact_name, "contact name"),
        or(&p.name, "practice name")
    )
}

/// A plain-language draft for `duty`, pre-filled from the record. Placeholders in
/// square brackets mark facts not yet recorded.
pub fn draft_notice(
    duty: &Duty,
    incident: &Incident,
    practice: &Practice,
    tz: &TimeZone,
) -> String {
    let name = or(&practice.name, "practice name");
    match duty {
        Duty::NdbIndividuals | Duty::HipaaIndividuals => format!(
            "Subject: A data breach at {name} may involve your information\n\n\
             Dear [name],\n\n\
             We are writing to tell you about a data breach at {name}. It may involve your information.\n\n{}\n\n{}\n",
            body(duty, incident, practice, tz),
            signature(practice)
        ),
        Duty::SubstituteNotice => format!(
            "Notice of a data breach at {name}\n\n\
             We could not reach everyone affected by letter, so we are posting this notice. \
             It stays on our website's home page for 90 days.\n\n{}\n\n\
             To find out if your information was involved, call our free number, {}. \
             The number is open for at least 90 days.\n",
            body(duty, incident, practice, tz),
            or(&practice.phone, "toll-free phone number"),
        ),
        Duty::Media { state } => {
            let n = incident.affected_by_state.get(state).copied().unwrap_or(0);
            format!(
                "For immediate release\n\n\
                 {name} announces a data breach affecting {} residents of {state}\n\n{}\n",
                count(n),
                body(duty, incident, practice, tz),
            )
        }
        Duty::HhsImmediate | Duty::HhsAnnualLog => hhs(incident, practice, tz),
        Duty::OaicStatement => oaic(incident, practice, tz),
        Duty::AdhaMyHealthRecord => format!(
            "To: Australian Digital Health Agency (My Health Record System Operator) and the OAIC\n\n\
             Subject: My Health Record data breach at {name}\n\n\
             {name} is reporting a breach, or possible breach, involving My Health Record information.\n\n\
             What happened: {}\n\
             It happened on {}. We became aware on {}.\n\
             People affected: {}.\n\n\
             What we have done:\n{}\n\n\
             Contact: {}\n",
            or(&incident.description, "what happened"),
            date(incident.occurred_ms, tz, "date the breach happened"),
            date(incident.first_known_ms(), tz, "date we became aware"),
            count(incident.affected_total),
            actions(incident, tz),
            or(&contact_line(practice), "contact details"),
        ),
        Duty::NdbAssessment => assessment(incident, tz),
    }
}

fn hhs(incident: &Incident, p: &Practice, tz: &TimeZone) -> String {
    let sent = |d: &Duty| date(incident.first_sent_ms(d), tz, "date sent");
    format!(
        "Breach report to HHS (45 CFR 164.408), for the HHS breach portal\n\n\
         Covered entity: {}\n\
         Contact: {}\n\
         Breach date: {}\n\
         Discovery date: {}\n\
         People affected: {}\n\
         Type of breach: [type of breach, e.g. hacking, theft, unauthorized access]\n\
         Where the information was: [location, e.g. email, network server, laptop]\n\
         Information involved: {}\n\
         What happened: {}\n\
         Safeguards in place before the breach: [safeguards in place before the breach]\n\
         Actions taken in response:\n{}\n\
         Individual notice sent: {}\n",
        or(&p.name, "practice name"),
        or(&contact_line(p), "contact details"),
        date(incident.occurred_ms, tz, "date the breach happened"),
        date(incident.discovered_ms, tz, "discovery date"),
        count(incident.affected_total),
        or(
            &clean(&incident.kinds_of_information).join(", "),
            "kinds of information involved"
        ),
        or(&incident.description, "what happened"),
        actions(incident, tz),
        sent(&Duty::HipaaIndividuals),
    )
}

fn oaic(incident: &Incident, p: &Practice, tz: &TimeZone) -> String {
    let s = oaic_statement(incident, p);
    let mhr = if incident.my_health_record {
        "\nMy Health Record information was involved.\n"
    } else {
        ""
    };
    format!(
        "Statement about an eligible data breach (Privacy Act 1988, section 26WK)\n\n\
         1. Who we are and how to contact us\n{}\nContact: {}\n\n\
         2. What happened\n{}\nIt happened on {}. We became aware on {}. \
         We had reasonable grounds to believe it was an eligible data breach on {}.\n\
         People affected: {}.\n{mhr}\n\
         3. Kinds of information involved\n{}\n\n\
         4. What we recommend people do\n{}\n",
        or(&s.entity_name, "practice name"),
        or(&s.contact_details, "contact details"),
        or(&s.description, "description of the breach"),
        date(incident.occurred_ms, tz, "date the breach happened"),
        date(incident.ndb_aware_ms(), tz, "date we became aware"),
        date(
            incident.reasonable_grounds_ms,
            tz,
            "date of reasonable grounds"
        ),
        count(incident.affected_total),
        bullets(&s.kinds_of_information, "kinds of information involved"),
        bullets(
            &s.recommended_steps,
            "steps people should take to protect themselves"
        ),
    )
}

fn assessment(incident: &Incident, tz: &TimeZone) -> String {
    let aware = incident.ndb_aware_ms();
    let due = aware
        .and_then(|a| clock::deadline_ms(a, NDB_ASSESSMENT_DAYS, tz).ok())
        .map_or_else(
            || "[assessment due date]".to_string(),
            |d| local_date_text(d, tz),
        );
    let outcome = match &incident.ndb {
        None => "[not yet decided]".to_string(),
        Some(a) => format!(
            "Serious harm likely: {}. Remedial action prevented it: {}. Eligible data breach: {}.\n\
             Reason: {}\nDecided by {} on {}.",
            yes_no(a.likely_serious_harm),
            yes_no(a.remedial_action_prevented_harm),
            yes_no(a.eligible()),
            or(&a.rationale, "reason"),
            or(&a.decided_by, "decision maker"),
            local_date_text(a.decided_ms, tz),
        ),
    };
    format!(
        "Assessment of a suspected eligible data breach (Privacy Act 1988, section 26WH)\n\n\
         Incident: {}\nAware since: {}\nAssessment due by: {due}\n\
         If eligible, notify the OAIC and individuals as soon as practicable (our target: {PRACTICE_TARGET_DAYS} days).\n\n\
         What happened\n{}\n\nInformation involved\n{}\n\nSteps taken\n{}\n\nOutcome\n{outcome}\n",
        or(&incident.title, "title"),
        date(aware, tz, "date we became aware"),
        or(&incident.description, "what happened"),
        bullets(
            &incident.kinds_of_information,
            "kinds of information involved"
        ),
        actions(incident, tz),
    )
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
