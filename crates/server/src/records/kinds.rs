//! The resource types of the API: their elements (FHIR R4), what each must have, the
//! codes it takes, where its patient, date and status are, and what it is searched by.
//! The people (Patient, Practitioner) and Binary are here; the clinical types in
//! [`clinical`]. Each element is `(name, cardinality(datatype))`, as
//! [`crate::records::datatypes`] checks them.

mod clinical;

use serde_json::{Map, Value};

pub use self::clinical::{
    ALLERGY_INTOLERANCE, APPOINTMENT, CARE_PLAN, CONDITION, CONSENT, DOCUMENT_REFERENCE, ENCOUNTER,
    MEDICATION_REQUEST, OBSERVATION,
};
use crate::records::datatypes::Card::{Choice, Many, One};
use crate::records::datatypes::Struct;
use crate::records::datatypes::Type::{
    Address, Attachment, Backbone, Base64Binary, Boolean, Code, CodeableConcept, ContactPoint,
    Date, DateTime, HumanName, Identifier, Integer, Period, Reference,
};
use crate::records::identifiers::{IHI_SYSTEM, Ihi, MEDICARE_SYSTEM, MedicareNumber};
use crate::records::resource::{
    Compartment, Invalid, Kind, SearchValues, array, invalid, no_values, normalise, string,
    valid_date,
};

/// Every resource type the API stores, in the order the CapabilityStatement lists them.
pub static KINDS: &[&Kind] = &[
    &PATIENT,
    &PRACTITIONER,
    &APPOINTMENT,
    &ENCOUNTER,
    &CONDITION,
    &OBSERVATION,
    &ALLERGY_INTOLERANCE,
    &MEDICATION_REQUEST,
    &CARE_PLAN,
    &DOCUMENT_REFERENCE,
    &BINARY,
    &CONSENT,
];

/// The resource types of the API, by name.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.name == name)
}

/// What a patient may change in their own Patient resource: how to reach them.
pub const PATIENT_CONTACT_ELEMENTS: &[&str] = &["telecom", "address", "contact", "communication"];

/// The parameters of a type whose instances name their patient, with a date and a status.
pub(crate) const CLINICAL_PARAMS: &[&str] = &["patient", "subject", "date", "status"];

pub static PATIENT: Kind = Kind {
    name: "Patient",
    domain: true,
    elements: &[
        ("identifier", Many(Identifier)),
        ("active", One(Boolean)),
        ("name", Many(HumanName)),
        ("telecom", Many(ContactPoint)),
        ("gender", One(Code)),
        ("birthDate", One(Date)),
        ("deceased[x]", Choice(&[Boolean, DateTime])),
        ("address", Many(Address)),
        ("maritalStatus", One(CodeableConcept)),
        ("multipleBirth[x]", Choice(&[Boolean, Integer])),
        ("photo", Many(Attachment)),
        ("contact", Many(Backbone(&PATIENT_CONTACT))),
        ("communication", Many(Backbone(&PATIENT_COMMUNICATION))),
        ("generalPractitioner", Many(Reference)),
        ("managingOrganization", One(Reference)),
        ("link", Many(Backbone(&PATIENT_LINK))),
    ],
    required: &[],
    codes: &[],
    compartment: Compartment::Itself,
    status: None,
    dates: &[],
    check: check_person,
    own_search_values: patient_search_values,
    search_params: &["name", "identifier", "birthdate"],
};

pub static PRACTITIONER: Kind = Kind {
    name: "Practitioner",
    domain: true,
    elements: &[
        ("identifier", Many(Identifier)),
        ("active", One(Boolean)),
        ("name", Many(HumanName)),
        ("telecom", Many(ContactPoint)),
        ("address", Many(Address)),
        ("gender", One(Code)),
        ("birthDate", One(Date)),
        ("photo", Many(Attachment)),
        ("qualification", Many(Backbone(&PRACTITIONER_QUALIFICATION))),
        ("communication", Many(CodeableConcept)),
    ],
    required: &[],
    codes: &[],
    compartment: Compartment::Practice,
    status: None,
    dates: &[],
    check: check_person,
    own_search_values: person_search_values,
    search_params: &["name", "identifier"],
};

/// A file of a patient's record (a DocumentReference's attachment points at it). Not a
/// DomainResource: no narrative or extensions.
pub static BINARY: Kind = Kind {
    name: "Binary",
    domain: false,
    elements: &[
        ("contentType", One(Code)),
        ("securityContext", One(Reference)),
        ("data", One(Base64Binary)),
    ],
    required: &[&["contentType"], &["securityContext"]],
    codes: &[],
    compartment: Compartment::Reference("securityContext"),
    status: None,
    dates: &[],
    check: check_binary,
    own_search_values: no_values,
    search_params: &["patient"],
};

fn check_binary(b: &Map<std::string::String, Value>) -> Result<(), Invalid> {
    use base64::Engine as _;
    if let Some(t) = b.get("contentType") {
        string(t, "contentType")?;
    }
    if let Some(data) = b.get("data")
        && let Some(data) = string(data, "data")?
        && base64::engine::general_purpose::STANDARD
            .decode(data)
            .is_err()
    {
        return Err(invalid("data must be base64."));
    }
    Ok(())
}

/// Patient and Practitioner: names, gender, birth date and identifiers.
fn check_person(p: &Map<std::string::String, Value>) -> Result<(), Invalid> {
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

/// A person's search values: each word of their names, and their identifiers.
fn person_search_values(p: &Map<std::string::String, Value>) -> SearchValues {
    let mut out = Vec::new();
    for name in p
        .get("name")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut words: Vec<std::string::String> = Vec::new();
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
    out.sort();
    out.dedup();
    out
}

/// Patient's search values: a person's, and the birth date at day, month and year.
fn patient_search_values(p: &Map<std::string::String, Value>) -> SearchValues {
    let mut out = person_search_values(p);
    if let Some(date) = p.get("birthDate").and_then(Value::as_str) {
        out.extend(crate::records::resource::date_values("birthdate", date));
    }
    out
}

/// Patient.contact
pub(crate) static PATIENT_CONTACT: Struct = Struct {
    name: "Patient.contact",
    elements: &[
        ("address", One(Address)),
        ("gender", One(Code)),
        ("name", One(HumanName)),
        ("organization", One(Reference)),
        ("period", One(Period)),
        ("relationship", Many(CodeableConcept)),
        ("telecom", Many(ContactPoint)),
    ],
    required: &[],
};
/// Patient.communication
pub(crate) static PATIENT_COMMUNICATION: Struct = Struct {
    name: "Patient.communication",
    elements: &[
        ("language", One(CodeableConcept)),
        ("preferred", One(Boolean)),
    ],
    required: &["language"],
};
/// Patient.link
pub(crate) static PATIENT_LINK: Struct = Struct {
    name: "Patient.link",
    elements: &[("other", One(Reference)), ("type", One(Code))],
    required: &["other", "type"],
};
/// Practitioner.qualification
pub(crate) static PRACTITIONER_QUALIFICATION: Struct = Struct {
    name: "Practitioner.qualification",
    elements: &[
        ("code", One(CodeableConcept)),
        ("identifier", Many(Identifier)),
        ("issuer", One(Reference)),
        ("period", One(Period)),
    ],
    required: &["code"],
};
