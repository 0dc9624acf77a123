//! The resource types of the API: their elements (FHIR R4), what each must have, the
//! codes it takes, where its patient, date and status are, and what it is searched by.

use serde_json::{Map, Value};

use crate::records::identifiers::{IHI_SYSTEM, Ihi, MEDICARE_SYSTEM, MedicareNumber};
use crate::records::resource::{
    Compartment, Invalid, Kind, SearchValues, Status, array, invalid, no_check, no_values,
    normalise, string, valid_date,
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
const CLINICAL_PARAMS: &[&str] = &["patient", "subject", "date", "status"];

pub static PATIENT: Kind = Kind {
    name: "Patient",
    domain: true,
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
        "identifier",
        "active",
        "name",
        "telecom",
        "address",
        "gender",
        "birthDate",
        "photo",
        "qualification",
        "communication",
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

pub static APPOINTMENT: Kind = Kind {
    name: "Appointment",
    domain: true,
    elements: &[
        "identifier",
        "status",
        "cancelationReason",
        "serviceCategory",
        "serviceType",
        "specialty",
        "appointmentType",
        "reasonCode",
        "reasonReference",
        "priority",
        "description",
        "supportingInformation",
        "start",
        "end",
        "minutesDuration",
        "slot",
        "created",
        "comment",
        "patientInstruction",
        "basedOn",
        "participant",
        "requestedPeriod",
    ],
    required: &[&["status"], &["participant"]],
    codes: &[(
        "status",
        &[
            "proposed",
            "pending",
            "booked",
            "arrived",
            "fulfilled",
            "cancelled",
            "noshow",
            "entered-in-error",
            "checked-in",
            "waitlist",
        ],
    )],
    compartment: Compartment::Participant,
    status: Some(Status::Code("status")),
    dates: &["start", "end"],
    check: check_appointment,
    own_search_values: no_values,
    search_params: &["patient", "date", "status"],
};

pub static ENCOUNTER: Kind = Kind {
    name: "Encounter",
    domain: true,
    elements: &[
        "identifier",
        "status",
        "statusHistory",
        "class",
        "classHistory",
        "type",
        "serviceType",
        "priority",
        "subject",
        "episodeOfCare",
        "basedOn",
        "participant",
        "appointment",
        "period",
        "length",
        "reasonCode",
        "reasonReference",
        "diagnosis",
        "account",
        "hospitalization",
        "location",
        "serviceProvider",
        "partOf",
    ],
    required: &[&["status"], &["class"], &["subject"]],
    codes: &[(
        "status",
        &[
            "planned",
            "arrived",
            "triaged",
            "in-progress",
            "onleave",
            "finished",
            "cancelled",
            "entered-in-error",
            "unknown",
        ],
    )],
    compartment: Compartment::Reference("subject"),
    status: Some(Status::Code("status")),
    dates: &["period"],
    check: no_check,
    own_search_values: no_values,
    search_params: CLINICAL_PARAMS,
};

pub static CONDITION: Kind = Kind {
    name: "Condition",
    domain: true,
    elements: &[
        "identifier",
        "clinicalStatus",
        "verificationStatus",
        "category",
        "severity",
        "code",
        "bodySite",
        "subject",
        "encounter",
        "onsetDateTime",
        "onsetAge",
        "onsetPeriod",
        "onsetRange",
        "onsetString",
        "abatementDateTime",
        "abatementAge",
        "abatementPeriod",
        "abatementRange",
        "abatementString",
        "recordedDate",
        "recorder",
        "asserter",
        "stage",
        "evidence",
        "note",
    ],
    required: &[&["subject"]],
    codes: &[],
    compartment: Compartment::Reference("subject"),
    status: Some(Status::Concept("clinicalStatus")),
    dates: &["recordedDate", "onsetDateTime", "onsetPeriod"],
    check: no_check,
    own_search_values: no_values,
    search_params: CLINICAL_PARAMS,
};

pub static OBSERVATION: Kind = Kind {
    name: "Observation",
    domain: true,
    elements: &[
        "identifier",
        "basedOn",
        "partOf",
        "status",
        "category",
        "code",
        "subject",
        "focus",
        "encounter",
        "effectiveDateTime",
        "effectivePeriod",
        "effectiveTiming",
        "effectiveInstant",
        "issued",
        "performer",
        "valueQuantity",
        "valueCodeableConcept",
        "valueString",
        "valueBoolean",
        "valueInteger",
        "valueRange",
        "valueRatio",
        "valueSampledData",
        "valueTime",
        "valueDateTime",
        "valuePeriod",
        "dataAbsentReason",
        "interpretation",
        "note",
        "bodySite",
        "method",
        "specimen",
        "device",
        "referenceRange",
        "hasMember",
        "derivedFrom",
        "component",
    ],
    required: &[&["status"], &["code"], &["subject"]],
    codes: &[(
        "status",
        &[
            "registered",
            "preliminary",
            "final",
            "amended",
            "corrected",
            "cancelled",
            "entered-in-error",
            "unknown",
        ],
    )],
    compartment: Compartment::Reference("subject"),
    status: Some(Status::Code("status")),
    dates: &[
        "effectiveDateTime",
        "effectivePeriod",
        "effectiveInstant",
        "issued",
    ],
    check: no_check,
    own_search_values: no_values,
    search_params: CLINICAL_PARAMS,
};

pub static ALLERGY_INTOLERANCE: Kind = Kind {
    name: "AllergyIntolerance",
    domain: true,
    elements: &[
        "identifier",
        "clinicalStatus",
        "verificationStatus",
        "type",
        "category",
        "criticality",
        "code",
        "patient",
        "encounter",
        "onsetDateTime",
        "onsetAge",
        "onsetPeriod",
        "onsetRange",
        "onsetString",
        "recordedDate",
        "recorder",
        "asserter",
        "lastOccurrence",
        "note",
        "reaction",
    ],
    required: &[&["patient"]],
    codes: &[
        ("type", &["allergy", "intolerance"]),
        ("criticality", &["low", "high", "unable-to-assess"]),
    ],
    compartment: Compartment::Reference("patient"),
    status: Some(Status::Concept("clinicalStatus")),
    dates: &["recordedDate", "onsetDateTime", "onsetPeriod"],
    check: no_check,
    own_search_values: no_values,
    search_params: &["patient", "date", "status"],
};

pub static MEDICATION_REQUEST: Kind = Kind {
    name: "MedicationRequest",
    domain: true,
    elements: &[
        "identifier",
        "status",
        "statusReason",
        "intent",
        "category",
        "priority",
        "doNotPerform",
        "reportedBoolean",
        "reportedReference",
        "medicationCodeableConcept",
        "medicationReference",
        "subject",
        "encounter",
        "supportingInformation",
        "authoredOn",
        "requester",
        "performer",
        "performerType",
        "recorder",
        "reasonCode",
        "reasonReference",
        "instantiatesCanonical",
        "instantiatesUri",
        "basedOn",
        "groupIdentifier",
        "courseOfTherapyType",
        "insurance",
        "note",
        "dosageInstruction",
        "dispenseRequest",
        "substitution",
        "priorPrescription",
        "detectedIssue",
        "eventHistory",
    ],
    required: &[
        &["status"],
        &["intent"],
        &["medicationCodeableConcept", "medicationReference"],
        &["subject"],
    ],
    codes: &[
        (
            "status",
            &[
                "active",
                "on-hold",
                "cancelled",
                "completed",
                "entered-in-error",
                "stopped",
                "draft",
                "unknown",
            ],
        ),
        (
            "intent",
            &[
                "proposal",
                "plan",
                "order",
                "original-order",
                "reflex-order",
                "filler-order",
                "instance-order",
                "option",
            ],
        ),
    ],
    compartment: Compartment::Reference("subject"),
    status: Some(Status::Code("status")),
    dates: &["authoredOn"],
    check: no_check,
    own_search_values: no_values,
    search_params: CLINICAL_PARAMS,
};

pub static CARE_PLAN: Kind = Kind {
    name: "CarePlan",
    domain: true,
    elements: &[
        "identifier",
        "instantiatesCanonical",
        "instantiatesUri",
        "basedOn",
        "replaces",
        "partOf",
        "status",
        "intent",
        "category",
        "title",
        "description",
        "subject",
        "encounter",
        "period",
        "created",
        "author",
        "contributor",
        "careTeam",
        "addresses",
        "supportingInfo",
        "goal",
        "activity",
        "note",
    ],
    required: &[&["status"], &["intent"], &["subject"]],
    codes: &[
        (
            "status",
            &[
                "draft",
                "active",
                "on-hold",
                "revoked",
                "completed",
                "entered-in-error",
                "unknown",
            ],
        ),
        ("intent", &["proposal", "plan", "order", "option"]),
    ],
    compartment: Compartment::Reference("subject"),
    status: Some(Status::Code("status")),
    dates: &["period", "created"],
    check: no_check,
    own_search_values: no_values,
    search_params: CLINICAL_PARAMS,
};

pub static DOCUMENT_REFERENCE: Kind = Kind {
    name: "DocumentReference",
    domain: true,
    elements: &[
        "masterIdentifier",
        "identifier",
        "status",
        "docStatus",
        "type",
        "category",
        "subject",
        "date",
        "author",
        "authenticator",
        "custodian",
        "relatesTo",
        "description",
        "securityLabel",
        "content",
        "context",
    ],
    required: &[&["status"], &["content"], &["subject"]],
    codes: &[
        ("status", &["current", "superseded", "entered-in-error"]),
        (
            "docStatus",
            &["preliminary", "final", "amended", "entered-in-error"],
        ),
    ],
    compartment: Compartment::Reference("subject"),
    status: Some(Status::Code("status")),
    dates: &["date"],
    check: check_document_reference,
    own_search_values: no_values,
    search_params: CLINICAL_PARAMS,
};

/// A file of a patient's record (a DocumentReference's attachment points at it). Not a
/// DomainResource: no narrative or extensions.
pub static BINARY: Kind = Kind {
    name: "Binary",
    domain: false,
    elements: &["contentType", "securityContext", "data"],
    required: &[&["contentType"], &["securityContext"]],
    codes: &[],
    compartment: Compartment::Reference("securityContext"),
    status: None,
    dates: &[],
    check: check_binary,
    own_search_values: no_values,
    search_params: &["patient"],
};

pub static CONSENT: Kind = Kind {
    name: "Consent",
    domain: true,
    elements: &[
        "identifier",
        "status",
        "scope",
        "category",
        "patient",
        "dateTime",
        "performer",
        "organization",
        "sourceAttachment",
        "sourceReference",
        "policy",
        "policyRule",
        "verification",
        "provision",
    ],
    required: &[
        &["status"],
        &["scope"],
        &["category"],
        &["patient"],
        &["policy", "policyRule"],
    ],
    codes: &[(
        "status",
        &[
            "draft",
            "proposed",
            "active",
            "rejected",
            "inactive",
            "entered-in-error",
        ],
    )],
    compartment: Compartment::Reference("patient"),
    status: Some(Status::Code("status")),
    dates: &["dateTime"],
    check: no_check,
    own_search_values: no_values,
    search_params: &["patient", "date", "status"],
};

fn check_appointment(a: &Map<String, Value>) -> Result<(), Invalid> {
    for participant in array(a, "participant")? {
        match participant.get("status").and_then(Value::as_str) {
            Some("accepted" | "declined" | "tentative" | "needs-action") => {}
            _ => {
                return Err(invalid(
                    "Each participant has a status: accepted, declined, tentative or needs-action.",
                ));
            }
        }
    }
    Ok(())
}

fn check_document_reference(d: &Map<String, Value>) -> Result<(), Invalid> {
    for content in array(d, "content")? {
        if !content.get("attachment").is_some_and(Value::is_object) {
            return Err(invalid("Each content has an attachment (an object)."));
        }
    }
    Ok(())
}

fn check_binary(b: &Map<String, Value>) -> Result<(), Invalid> {
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
fn check_person(p: &Map<String, Value>) -> Result<(), Invalid> {
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
fn person_search_values(p: &Map<String, Value>) -> SearchValues {
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
    out.sort();
    out.dedup();
    out
}

/// Patient's search values: a person's, and the birth date at day, month and year.
fn patient_search_values(p: &Map<String, Value>) -> SearchValues {
    let mut out = person_search_values(p);
    if let Some(date) = p.get("birthDate").and_then(Value::as_str) {
        out.extend(crate::records::resource::date_values("birthdate", date));
    }
    out
}
