//! What the records area knows of each FHIR resource type: the elements it accepts,
//! the checks on them, whose compartment an instance belongs to, and the values search
//! finds it by. Request bodies are checked here before anything is stored.

use serde_json::{Map, Value};

use crate::records::identifiers::{IHI_SYSTEM, Ihi, MEDICARE_SYSTEM, MedicareNumber};

/// Why a resource was refused, for an OperationOutcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid(message.into())
}

/// `(search parameter, normalised value)` pairs.
pub type SearchValues = Vec<(&'static str, String)>;

/// One resource type of the API.
#[derive(Debug)]
pub struct Kind {
    pub name: &'static str,
    elements: &'static [&'static str],
    check: fn(&Map<String, Value>) -> Result<(), Invalid>,
    /// `(search parameter, normalised value)` pairs of an instance.
    search_values: fn(&Map<String, Value>) -> SearchValues,
    /// The search parameters this type answers.
    pub search_params: &'static [&'static str],
}

/// Elements every resource may carry.
const COMMON: &[&str] = &[
    "resourceType",
    "id",
    "meta",
    "implicitRules",
    "language",
    "text",
    "contained",
    "extension",
    "modifierExtension",
];

pub static PATIENT: Kind = Kind {
    name: "Patient",
    elements: &[
        "identifier",
        "active",
        "name",
        "telecom",
        "gender",
        "birthDate",
        "deceasedBoolean",
        "deceasedDateTime",
        "address",
        "maritalStatus",
        "multipleBirthBoolean",
        "multipleBirthInteger",
        "photo",
        "contact",
        "communication",
        "generalPractitioner",
        "managingOrganization",
        "link",
    ],
    check: check_patient,
    search_values: patient_search_values,
    search_params: &["name", "identifier", "birthdate"],
};

/// Every resource type the API stores, in the order the CapabilityStatement lists them.
pub static KINDS: &[&Kind] = &[&PATIENT];

/// The resource types of the API, by name.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.name == name)
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
        let unknown: Vec<&str> = resource
            .keys()
            .map(String::as_str)
            .filter(|k| !COMMON.contains(k) && !self.elements.contains(k) && !k.starts_with('_'))
            .collect();
        if !unknown.is_empty() {
            return Err(invalid(format!(
                "{} has no element named {}.",
                self.name,
                unknown.join(", ")
            )));
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
        (self.check)(&resource)?;
        Ok(resource)
    }

    /// The search values of `resource`.
    pub fn search_values(&self, resource: &Map<String, Value>) -> SearchValues {
        (self.search_values)(resource)
    }
}

/// Lower case, single spaces: how names are compared.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn array<'a>(resource: &'a Map<String, Value>, element: &str) -> Result<&'a [Value], Invalid> {
    match resource.get(element) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(invalid(format!("{element} must be a list."))),
    }
}

fn string<'a>(value: &'a Value, element: &str) -> Result<Option<&'a str>, Invalid> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(invalid(format!("{element} must be text."))),
    }
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a real date).
fn valid_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let numeric = |p: &str, len: usize| p.len() == len && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] => numeric(y, 4),
        [y, m] => numeric(y, 4) && numeric(m, 2) && ("01"..="12").contains(m),
        [_, _, _] => jiff::civil::Date::strptime("%Y-%m-%d", text).is_ok(),
        _ => false,
    }
}

fn check_patient(p: &Map<String, Value>) -> Result<(), Invalid> {
    for name in array(p, "name")? {
        let Value::Object(name) = name else {
            return Err(invalid("Each name must be an object (a HumanName)."));
        };
        if let Some(text) = name.get("text") {
            string(text, "name.text")?;
        }
        if let Some(family) = name.get("family") {
            string(family, "name.family")?;
        }
        if let Some(given) = name.get("given") {
            let Value::Array(given) = given else {
                return Err(invalid("name.given must be a list."));
            };
            for g in given {
                string(g, "name.given")?;
            }
        }
    }
    if let Some(gender) = p.get("gender") {
        match string(gender, "gender")? {
            Some("male" | "female" | "other" | "unknown") | None => {}
            Some(_) => return Err(invalid("gender is one of male, female, other, unknown.")),
        }
    }
    if let Some(date) = p.get("birthDate")
        && let Some(d) = string(date, "birthDate")?
        && !valid_date(d)
    {
        return Err(invalid(
            "birthDate is a date: YYYY-MM-DD (or YYYY-MM, or YYYY).",
        ));
    }
    for identifier in array(p, "identifier")? {
        let Value::Object(identifier) = identifier else {
            return Err(invalid("Each identifier must be an object."));
        };
        let system = identifier
            .get("system")
            .map(|s| string(s, "identifier.system"))
            .transpose()?
            .flatten();
        let value = identifier
            .get("value")
            .map(|v| string(v, "identifier.value"))
            .transpose()?
            .flatten();
        match (system, value) {
            (Some(IHI_SYSTEM), Some(v)) => {
                Ihi::parse(v).map_err(|e| invalid(format!("IHI: {e}")))?;
            }
            (Some(MEDICARE_SYSTEM), Some(v)) => {
                MedicareNumber::parse(v).map_err(|e| invalid(format!("Medicare number: {e}")))?;
            }
            (_, None) => return Err(invalid("Each identifier needs a value.")),
            _ => {}
        }
    }
    Ok(())
}

fn patient_search_values(p: &Map<String, Value>) -> SearchValues {
    let mut out = Vec::new();
    for name in p
        .get("name")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut words: Vec<String> = Vec::new();
        for part in ["text", "family"] {
            if let Some(t) = name.get(part).and_then(Value::as_str) {
                words.extend(normalise(t).split(' ').map(str::to_owned));
            }
        }
        for g in name
            .get("given")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = g.as_str() {
                words.extend(normalise(t).split(' ').map(str::to_owned));
            }
        }
        // Each word, so that `name=okonkwo` finds "Wiremu Okonkwo".
        out.extend(
            words
                .into_iter()
                .filter(|w| !w.is_empty())
                .map(|w| ("name", w)),
        );
    }
    for identifier in p
        .get("identifier")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(value) = identifier.get("value").and_then(Value::as_str) {
            let value: String = value.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
            if let Some(system) = identifier.get("system").and_then(Value::as_str) {
                out.push(("identifier", format!("{system}|{value}")));
            }
            out.push(("identifier", value));
        }
    }
    if let Some(date) = p.get("birthDate").and_then(Value::as_str) {
        out.push(("birthdate", date.to_owned()));
    }
    out.sort();
    out.dedup();
    out
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
