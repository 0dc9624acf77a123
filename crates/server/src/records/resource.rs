//! What the records area knows of a FHIR resource type in general: the elements it
//! accepts, the checks every type shares (required elements, fixed codes, dates, the
//! reference to its patient), whose compartment an instance belongs to, and the values
//! search finds it by. The types themselves are in [`crate::records::kinds`]. Request
//! bodies are checked here before anything is stored.

use serde_json::{Map, Value};

use crate::records::datatypes::{Card, Common, Element, Type, check_object, present};
pub(crate) use crate::records::datatypes::{valid_date, valid_date_time};
pub use crate::records::kinds::{KINDS, PATIENT, PRACTITIONER, kind};

/// Why a resource was refused, for an OperationOutcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

pub(crate) fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// `(search parameter, normalised value)` pairs.
pub type SearchValues = Vec<(&'static str, String)>;

/// Whose record an instance belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compartment {
    /// The resource is the patient: its id is the compartment (Patient).
    Itself,
    /// The resource names its patient in this element, a Reference to `Patient/<id>`.
    Reference(&'static str),
    /// The patient is the participant whose actor is a `Patient/<id>` (Appointment).
    Participant,
    /// The practice's own directory, not clinical content (Practitioner).
    Practice,
}

/// Where an instance's status is, for the `status` search parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// A `code` element.
    Code(&'static str),
    /// A CodeableConcept (e.g. Condition.clinicalStatus): its codings' codes.
    Concept(&'static str),
}

/// One resource type of the API.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    /// A DomainResource may carry text, contained resources and extensions; Binary may not.
    pub(crate) domain: bool,
    /// The type's own elements, each with its datatype and cardinality.
    pub(crate) elements: &'static [Element],
    /// Elements an instance must have (a choice like `medication[x]` as its variants, any one).
    pub(crate) required: &'static [&'static [&'static str]],
    /// Elements holding one code of a fixed set.
    pub(crate) codes: &'static [(&'static str, &'static [&'static str])],
    pub compartment: Compartment,
    pub(crate) status: Option<Status>,
    /// Elements (dateTime, date, instant or Period) the `date` parameter finds, in order.
    pub(crate) dates: &'static [&'static str],
    /// The type's own checks, after the shared ones.
    pub(crate) check: fn(&Map<String, Value>) -> Result<(), Invalid>,
    /// The type's own search values, besides patient, date and status.
    pub(crate) own_search_values: fn(&Map<String, Value>) -> SearchValues,
    /// The search parameters this type answers.
    pub search_params: &'static [&'static str],
}

/// Elements every resource may carry.
pub(crate) const RESOURCE: &[Element] = &[
    ("resourceType", Card::One(Type::Code)),
    ("id", Card::One(Type::Id)),
    ("meta", Card::One(Type::Meta)),
    ("implicitRules", Card::One(Type::Uri)),
    ("language", Card::One(Type::Code)),
];
/// And every DomainResource.
pub(crate) const DOMAIN_RESOURCE: &[Element] = &[
    ("text", Card::One(Type::Narrative)),
    ("contained", Card::Many(Type::Resource)),
    ("extension", Card::Many(Type::Extension)),
    ("modifierExtension", Card::Many(Type::Extension)),
];

/// No checks of its own.
pub(crate) fn no_check(_: &Map<String, Value>) -> Result<(), Invalid> {
    Ok(())
}

/// No search values of its own.
pub(crate) fn no_values(_: &Map<String, Value>) -> SearchValues {
    Vec::new()
}

/// Whether `id` is a FHIR id: 1–64 of `A–Z a–z 0–9 - .`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

impl Kind {
    /// Parses and checks a request body. `url_id` is the id in the URL of an update,
    /// which the body's id must match; a create's body id is ignored (FHIR says so).
    /// Returns the resource without `id` and `meta`, which the server sets.
    pub fn parse(&self, body: &[u8], url_id: Option<&str>) -> Result<Map<String, Value>, Invalid> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| invalid(format!("The body is not valid JSON: {e}.")))?;
        let Value::Object(mut resource) = value else {
            return Err(invalid("The body must be a JSON object (a FHIR resource)."));
        };
        match resource.get("resourceType") {
            Some(Value::String(t)) if t == self.name => {}
            Some(Value::String(t)) => {
                return Err(invalid(format!(
                    "This address takes a {}, but the body is a {t}.",
                    self.name
                )));
            }
            _ => return Err(invalid("The body has no resourceType.")),
        }
        match (url_id, resource.get("id")) {
            (Some(url), Some(Value::String(body))) if url != body => {
                return Err(invalid(format!(
                    "The id in the body ({body}) is not the id in the address ({url})."
                )));
            }
            (Some(_), None) => return Err(invalid("An update must carry the resource's id.")),
            (Some(_), Some(v)) if !v.is_string() => return Err(invalid("id must be a string.")),
            _ => {}
        }
        resource.remove("id");
        resource.remove("meta");
        self.check_elements(&resource, "")?;
        self.check_shared(&resource)?;
        self.check_compartment(&resource)?;
        (self.check)(&resource)?;
        Ok(resource)
    }

    /// The lists of elements an instance may have: the resource's, a DomainResource's
    /// and the type's own.
    pub(crate) fn element_lists(&self) -> Vec<&'static [Element]> {
        if self.domain {
            vec![RESOURCE, DOMAIN_RESOURCE, self.elements]
        } else {
            vec![RESOURCE, self.elements]
        }
    }

    /// Every element known and of its datatype (`path` is where a contained resource is).
    fn check_elements(&self, resource: &Map<String, Value>, path: &str) -> Result<(), Invalid> {
        let what = if path.is_empty() {
            self.name.to_owned()
        } else {
            format!("{path} (a {})", self.name)
        };
        check_object(
            resource,
            &self.element_lists(),
            &[],
            Common {
                id: false,
                extension: false,
                modifier_extension: false,
            },
            path,
            &what,
        )
    }

    fn check_shared(&self, resource: &Map<String, Value>) -> Result<(), Invalid> {
        for choices in self.required {
            if !choices.iter().any(|c| present(resource.get(*c))) {
                return Err(invalid(format!(
                    "A {} must have {}.",
                    self.name,
                    choices.join(" or ")
                )));
            }
        }
        for (element, allowed) in self.codes {
            if let Some(v) = resource.get(*element)
                && let Some(code) = string(v, element)?
                && !allowed.contains(&code)
            {
                return Err(invalid(format!(
                    "{element} is one of {}.",
                    allowed.join(", ")
                )));
            }
        }
        for element in self.dates {
            if let Some(v) = resource.get(*element) {
                check_when(v, element)?;
            }
        }
        if let Some(Status::Concept(element)) = self.status
            && let Some(v) = resource.get(element)
        {
            check_concept(v, element)?;
        }
        Ok(())
    }

    /// The reference to the patient the instance belongs to.
    fn check_compartment(&self, resource: &Map<String, Value>) -> Result<(), Invalid> {
        match self.compartment {
            Compartment::Reference(element) => {
                patient_reference(resource.get(element), element)?;
            }
            Compartment::Participant => {
                patient_participant(resource)?;
            }
            Compartment::Itself | Compartment::Practice => {}
        }
        Ok(())
    }

    /// The patient an instance of a clinical type belongs to (None for Patient itself
    /// and for the practice's directory). Only for resources [`Kind::parse`] accepted.
    pub fn patient_of(&self, resource: &Map<String, Value>) -> Result<Option<String>, Invalid> {
        match self.compartment {
            Compartment::Reference(element) => {
                patient_reference(resource.get(element), element).map(Some)
            }
            Compartment::Participant => patient_participant(resource).map(Some),
            Compartment::Itself | Compartment::Practice => Ok(None),
        }
    }

    /// Whether instances belong to a patient's record (everything but the directory).
    pub fn is_clinical(&self) -> bool {
        self.compartment != Compartment::Practice
    }

    /// The search values of `resource`: the type's own, and its patient, date and status.
    pub fn search_values(&self, resource: &Map<String, Value>) -> SearchValues {
        let mut out = (self.own_search_values)(resource);
        if let Ok(Some(patient)) = self.patient_of(resource) {
            out.push(("patient", patient.clone()));
            out.push(("subject", patient));
        }
        if let Some(day) = self
            .dates
            .iter()
            .find_map(|e| resource.get(*e).and_then(date_of))
        {
            out.extend(date_values("date", &day));
        }
        match self.status {
            Some(Status::Code(element)) => {
                if let Some(code) = resource.get(element).and_then(Value::as_str) {
                    out.push(("status", code.to_owned()));
                }
            }
            Some(Status::Concept(element)) => {
                for coding in codings(resource.get(element)) {
                    if let Some(code) = coding.get("code").and_then(Value::as_str) {
                        out.push(("status", code.to_owned()));
                    }
                }
            }
            None => {}
        }
        out.sort();
        out.dedup();
        out
    }

    /// A search parameter's value as the index holds it, or why it cannot be searched.
    pub fn search_value(&self, param: &str, raw: &str) -> Result<String, Invalid> {
        if !self.search_params.contains(&param) {
            return Err(invalid(if self.search_params.is_empty() {
                format!("{} cannot be searched.", self.name)
            } else {
                format!(
                    "{} cannot be searched by {param}; it can be searched by {}.",
                    self.name,
                    self.search_params.join(", ")
                )
            }));
        }
        if raw.is_empty() || raw.len() > 256 {
            return Err(invalid(format!(
                "The value of {param} must be 1 to 256 characters."
            )));
        }
        let value = match param {
            "name" => normalise(raw),
            "identifier" => raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect(),
            "patient" | "subject" => {
                let id = raw.strip_prefix("Patient/").unwrap_or(raw);
                if !valid_id(id) {
                    return Err(invalid(format!(
                        "{param} names a patient: Patient/<id> or <id>."
                    )));
                }
                id.to_owned()
            }
            "date" | "birthdate" => {
                let date = raw.strip_prefix("eq").unwrap_or(raw);
                if !valid_date(date) {
                    return Err(invalid(format!(
                        "{param} is searched by a day, month or year (2026-11-28, 2026-11, 2026); ranges (ge, le…) are not supported."
                    )));
                }
                date.to_owned()
            }
            _ => raw.to_owned(),
        };
        if value.is_empty() {
            return Err(invalid(format!("Say what {param} to search for.")));
        }
        Ok(value)
    }
}

/// The day, month and year of a date, each a value the `date` parameter finds.
pub(crate) fn date_values(param: &'static str, day: &str) -> SearchValues {
    [4, 7, 10]
        .into_iter()
        .filter(|n| day.len() >= *n)
        .map(|n| (param, day[..n].to_owned()))
        .collect()
}

/// Lower case, single spaces: how names are compared.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

pub(crate) fn array<'a>(
    resource: &'a Map<String, Value>,
    element: &str,
) -> Result<&'a [Value], Invalid> {
    match resource.get(element) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(format!("{element} must be a list."))),
    }
}

pub(crate) fn string<'a>(value: &'a Value, element: &str) -> Result<Option<&'a str>, Invalid> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(invalid(format!("{element} must be text."))),
    }
}

/// A contained resource (at `path`): a known type, with an id, checked as that type
/// (its elements, required elements and codes, its own checks), containing nothing itself.
pub(crate) fn check_contained(resource: &Map<String, Value>, path: &str) -> Result<(), Invalid> {
    let Some(kind) = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .and_then(kind)
    else {
        return Err(invalid(format!(
            "{path} must be a resource of a type this server stores, with its resourceType ({}).",
            KINDS.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
        )));
    };
    match resource.get("id") {
        Some(Value::String(id)) if valid_id(id) => {}
        _ => {
            return Err(invalid(format!(
                "{path} needs an id (1 to 64 of A-Z, a-z, 0-9, - and .) for references (#id) to it."
            )));
        }
    }
    if present(resource.get("contained")) {
        return Err(invalid(format!(
            "{path}: a contained resource contains no resources itself."
        )));
    }
    kind.check_elements(resource, path)?;
    kind.check_shared(resource)
        .and_then(|()| (kind.check)(resource))
        .map_err(|e| invalid(format!("{path}: {}", e.0)))
}

/// A dateTime/date/instant string, or a Period with a start and/or end.
fn check_when(value: &Value, element: &str) -> Result<(), Invalid> {
    let bad = || {
        invalid(format!(
            "{element} is a date (2026-11-28) or a time with its offset (2026-11-28T09:30:00+11:00)."
        ))
    };
    match value {
        Value::String(s) if valid_date_time(s) => Ok(()),
        Value::Object(period) => {
            for end in ["start", "end"] {
                match period.get(end) {
                    None => {}
                    Some(Value::String(s)) if valid_date_time(s) => {}
                    Some(_) => return Err(bad()),
                }
            }
            Ok(())
        }
        _ => Err(bad()),
    }
}

/// The day (`YYYY-MM-DD`, or shorter if that is all there is) of a date or a Period's start.
fn date_of(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.as_str(),
        Value::Object(period) => period.get("start").and_then(Value::as_str)?,
        _ => return None,
    };
    Some(text.chars().take(10).collect())
}

fn codings(value: Option<&Value>) -> impl Iterator<Item = &Map<String, Value>> {
    value
        .and_then(|v| v.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
}

fn check_concept(value: &Value, element: &str) -> Result<(), Invalid> {
    let Value::Object(concept) = value else {
        return Err(invalid(format!(
            "{element} must be an object (a CodeableConcept)."
        )));
    };
    match concept.get("coding") {
        None => Ok(()),
        Some(Value::Array(codings)) if codings.iter().all(Value::is_object) => Ok(()),
        Some(_) => Err(invalid(format!(
            "{element}.coding must be a list of codings."
        ))),
    }
}

/// The id in a `{"reference": "Patient/<id>"}`.
fn patient_reference(value: Option<&Value>, element: &str) -> Result<String, Invalid> {
    let reference = value
        .and_then(|v| v.get("reference"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            invalid(format!(
                "{element} must name the patient: {{\"reference\": \"Patient/<id>\"}}."
            ))
        })?;
    match reference.strip_prefix("Patient/") {
        Some(id) if valid_id(id) => Ok(id.to_owned()),
        _ => Err(invalid(format!(
            "{element} must refer to a patient as Patient/<id>, not {reference}."
        ))),
    }
}

/// Appointment: exactly one participant is a patient.
fn patient_participant(resource: &Map<String, Value>) -> Result<String, Invalid> {
    let mut patients = Vec::new();
    for participant in array(resource, "participant")? {
        let Value::Object(participant) = participant else {
            return Err(invalid("Each participant must be an object."));
        };
        let reference = participant
            .get("actor")
            .and_then(|a| a.get("reference"))
            .and_then(Value::as_str);
        if let Some(reference) = reference
            && reference.starts_with("Patient/")
        {
            patients.push(patient_reference(
                participant.get("actor"),
                "participant.actor",
            )?);
        }
    }
    match patients.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(invalid(
            "An Appointment must have a participant whose actor is the patient (Patient/<id>).",
        )),
        _ => Err(invalid("An Appointment is with one patient.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str, url_id: Option<&str>) -> Result<Map<String, Value>, Invalid> {
        PATIENT.parse(body.as_bytes(), url_id)
    }

    #[test]
    fn a_good_patient_is_accepted_without_id_and_meta() {
        let p = parse(
            r#"{"resourceType":"Patient","id":"x","meta":{"versionId":"9"},"name":[{"given":["Wiremu"],"family":"Okonkwo"}],
               "gender":"male","birthDate":"1950-02-28",
               "identifier":[{"system":"http://ns.electronichealth.net.au/id/hi/ihi/1.0","value":"8003 6081 6669 0503"}]}"#,
            None,
        )
        .unwrap();
        assert!(!p.contains_key("id") && !p.contains_key("meta"));
        let values = PATIENT.search_values(&p);
        assert!(values.contains(&("name", "okonkwo".into())));
        assert!(values.contains(&("name", "wiremu".into())));
        assert!(values.contains(&("identifier", "8003608166690503".into())));
        assert!(values.contains(&("birthdate", "1950-02-28".into())));
    }

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        let cases = [
            ("not json", "not valid JSON"),
            ("[1,2]", "JSON object"),
            (r#"{"name":[]}"#, "no resourceType"),
            (r#"{"resourceType":"Observation"}"#, "body is a Observation"),
            (
                r#"{"resourceType":"Patient","favouriteColour":"red"}"#,
                "no element named favouriteColour",
            ),
            (
                r#"{"resourceType":"Patient","gender":"M"}"#,
                "gender is one of",
            ),
            (
                r#"{"resourceType":"Patient","birthDate":"1950-02-30"}"#,
                "birthDate",
            ),
            (
                r#"{"resourceType":"Patient","birthDate":"28/02/1950"}"#,
                "birthDate",
            ),
            (
                r#"{"resourceType":"Patient","name":"Wiremu"}"#,
                "name must be a list",
            ),
            (
                r#"{"resourceType":"Patient","identifier":[{"system":"http://ns.electronichealth.net.au/id/hi/ihi/1.0","value":"8003608166690504"}]}"#,
                "IHI",
            ),
            (
                r#"{"resourceType":"Patient","identifier":[{"system":"http://ns.electronichealth.net.au/id/medicare-number","value":"2123456711"}]}"#,
                "Medicare number",
            ),
        ];
        for (body, why) in cases {
            let err = parse(body, None).unwrap_err();
            assert!(err.0.contains(why), "{body}: {}", err.0);
        }
    }

    #[test]
    fn element_datatypes_are_checked_with_their_path() {
        use crate::records::kinds::{BINARY, CONSENT, DOCUMENT_REFERENCE, ENCOUNTER, OBSERVATION};
        let obs = |extra: &str| {
            format!(
                r#"{{"resourceType":"Observation","status":"final","code":{{"text":"HR"}},"subject":{{"reference":"Patient/p1"}}{extra}}}"#
            )
        };
        let cases: Vec<(&Kind, String, &str)> = vec![
            (&PATIENT, r#"{"resourceType":"Patient","photo":5}"#.into(), "photo must be a list of Attachment"),
            (&PATIENT, r#"{"resourceType":"Patient","telecom":{"a":1}}"#.into(), "telecom must be a list of ContactPoint"),
            (&PATIENT, r#"{"resourceType":"Patient","text":7}"#.into(), "text must be an object (a Narrative)"),
            (&PATIENT, r#"{"resourceType":"Patient","extension":5}"#.into(), "extension must be a list of Extension"),
            (&PATIENT, r#"{"resourceType":"Patient","_gender":5}"#.into(), "_gender must be an object"),
            (&PATIENT, r#"{"resourceType":"Patient","contained":[{"resourceType":"Nope"}]}"#.into(), "contained[0] must be a resource of a type"),
            (&PATIENT, r#"{"resourceType":"Patient","name":[{"family":""}]}"#.into(), "name[0].family must be text"),
            (&PATIENT, r#"{"resourceType":"Patient","extension":[{"valueString":"a"}]}"#.into(), "extension[0].url is required"),
            (&PATIENT, r#"{"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"}"#.into(), "deceased[x] takes one value"),
            (&PATIENT, r#"{"resourceType":"Patient","contact":[{"colour":"red"}]}"#.into(), "contact[0] has no element named colour"),
            (&PATIENT, r#"{"resourceType":"Patient","communication":[{"preferred":true}]}"#.into(), "communication[0].language is required"),
            (&OBSERVATION, obs(r#","code":false"#).replace(r#""code":{"text":"HR"},"#, ""), "code must be an object (a CodeableConcept)"),
            (&OBSERVATION, obs(r#","issued":"2026-11-28""#), "issued is an instant: a full time with its offset"),
            (&OBSERVATION, obs(r#","effectiveInstant":"2026-11-28""#), "effectiveInstant is an instant"),
            (&OBSERVATION, obs(r#","effectiveDateTime":{"start":"2026-11-28"}"#), "effectiveDateTime is a dateTime"),
            (&OBSERVATION, obs(r#","component":[{"valueString":"a"}]"#), "component[0].code is required"),
            (&OBSERVATION, obs(r#","referenceRange":[{"low":5}]"#), "referenceRange[0].low must be an object (a Quantity)"),
            (&OBSERVATION, obs(r#","subject":{"reference":"Patient/p1","extra":1}"#).replace(r#""subject":{"reference":"Patient/p1"},"#, ""), "subject has no element named extra"),
            (&OBSERVATION, obs(r#","contained":[{"resourceType":"Observation","id":"o","status":"final","code":{"text":"a"},"contained":[{"resourceType":"Patient","id":"p"}]}]"#), "contains no resources itself"),
            (&OBSERVATION, obs(r#","contained":[{"resourceType":"Observation","id":"o"}]"#), "contained[0]: A Observation must have status"),
            (&OBSERVATION, obs(r#","contained":[{"resourceType":"Patient"}]"#), "contained[0] needs an id"),
            (&ENCOUNTER, r#"{"resourceType":"Encounter","status":"finished","class":{"code":"VR"},"subject":{"reference":"Patient/p1"},"period":"2026-11-28"}"#.into(), "period must be an object (a Period)"),
            (&CONSENT, r#"{"resourceType":"Consent","status":"active","scope":{"text":"a"},"category":true,"patient":{"reference":"Patient/p1"},"policyRule":{"text":"a"}}"#.into(), "category must be a list of CodeableConcept"),
            (&DOCUMENT_REFERENCE, r#"{"resourceType":"DocumentReference","status":"current","subject":{"reference":"Patient/p1"},"content":[{"format":{"code":"a"}}]}"#.into(), "content[0].attachment is required"),
            (&BINARY, r#"{"resourceType":"Binary","contentType":"text/plain","securityContext":{"reference":"Patient/p1"},"text":{"status":"empty","div":"<div></div>"}}"#.into(), "Binary has no element named text"),
        ];
        for (kind, body, why) in cases {
            let err = kind.parse(body.as_bytes(), None).expect_err(&body);
            assert!(err.0.contains(why), "{body}: {}", err.0);
        }
        // And good ones pass, contained resources kept as sent.
        let good = obs(
            r#","issued":"2026-11-28T09:30:00+11:00","valueQuantity":{"value":72,"unit":"/min"},
               "contained":[{"resourceType":"Patient","id":"mum","name":[{"family":"O"}]}],
               "_status":{"extension":[{"url":"http://x.example/e","valueString":"a"}]},
               "component":[{"code":{"text":"systolic"},"valueQuantity":{"value":120}}]"#,
        );
        let parsed = OBSERVATION.parse(good.as_bytes(), None).unwrap();
        assert_eq!(parsed["contained"][0]["id"], "mum");
    }

    #[test]
    fn an_update_must_name_the_same_id() {
        assert!(parse(r#"{"resourceType":"Patient","id":"a"}"#, Some("a")).is_ok());
        assert!(parse(r#"{"resourceType":"Patient","id":"b"}"#, Some("a")).is_err());
        assert!(parse(r#"{"resourceType":"Patient"}"#, Some("a")).is_err());
    }

    #[test]
    fn ids_follow_fhir() {
        assert!(valid_id("a-1.B"));
        assert!(!valid_id(""));
        assert!(!valid_id(&"a".repeat(65)));
        assert!(!valid_id("a/b"));
        assert!(!valid_id("1' OR '1'='1"));
    }
}
