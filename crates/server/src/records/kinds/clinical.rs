//! The clinical resource types: appointments, encounters, conditions, observations,
//! allergies, prescriptions, care plans, documents and consents, with their backbone
//! elements.

use serde_json::{Map, Value};

use super::CLINICAL_PARAMS;
use crate::records::datatypes::Card::{Choice, Many, One};
use crate::records::datatypes::Struct;
use crate::records::datatypes::Type::*;
use crate::records::resource::{
    Compartment, Invalid, Kind, Status, array, invalid, no_check, no_values,
};

pub static APPOINTMENT: Kind = Kind {
    name: "Appointment",
    domain: true,
    elements: &[
        ("identifier", Many(Identifier)),
        ("status", One(Code)),
        ("cancelationReason", One(CodeableConcept)),
        ("serviceCategory", Many(CodeableConcept)),
        ("serviceType", Many(CodeableConcept)),
        ("specialty", Many(CodeableConcept)),
        ("appointmentType", One(CodeableConcept)),
        ("reasonCode", Many(CodeableConcept)),
        ("reasonReference", Many(Reference)),
        ("priority", One(UnsignedInt)),
        ("description", One(String)),
        ("supportingInformation", Many(Reference)),
        ("start", One(Instant)),
        ("end", One(Instant)),
        ("minutesDuration", One(PositiveInt)),
        ("slot", Many(Reference)),
        ("created", One(DateTime)),
        ("comment", One(String)),
        ("patientInstruction", One(String)),
        ("basedOn", Many(Reference)),
        ("participant", Many(Backbone(&APPOINTMENT_PARTICIPANT))),
        ("requestedPeriod", Many(Period)),
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
        ("identifier", Many(Identifier)),
        ("status", One(Code)),
        ("statusHistory", Many(Backbone(&ENCOUNTER_STATUS_HISTORY))),
        ("class", One(Coding)),
        ("classHistory", Many(Backbone(&ENCOUNTER_CLASS_HISTORY))),
        ("type", Many(CodeableConcept)),
        ("serviceType", One(CodeableConcept)),
        ("priority", One(CodeableConcept)),
        ("subject", One(Reference)),
        ("episodeOfCare", Many(Reference)),
        ("basedOn", Many(Reference)),
        ("participant", Many(Backbone(&ENCOUNTER_PARTICIPANT))),
        ("appointment", Many(Reference)),
        ("period", One(Period)),
        ("length", One(Duration)),
        ("reasonCode", Many(CodeableConcept)),
        ("reasonReference", Many(Reference)),
        ("diagnosis", Many(Backbone(&ENCOUNTER_DIAGNOSIS))),
        ("account", Many(Reference)),
        ("hospitalization", One(Backbone(&ENCOUNTER_HOSPITALIZATION))),
        ("location", Many(Backbone(&ENCOUNTER_LOCATION))),
        ("serviceProvider", One(Reference)),
        ("partOf", One(Reference)),
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
        ("identifier", Many(Identifier)),
        ("clinicalStatus", One(CodeableConcept)),
        ("verificationStatus", One(CodeableConcept)),
        ("category", Many(CodeableConcept)),
        ("severity", One(CodeableConcept)),
        ("code", One(CodeableConcept)),
        ("bodySite", Many(CodeableConcept)),
        ("subject", One(Reference)),
        ("encounter", One(Reference)),
        ("onset[x]", Choice(&[Age, DateTime, Period, Range, String])),
        (
            "abatement[x]",
            Choice(&[Age, DateTime, Period, Range, String]),
        ),
        ("recordedDate", One(DateTime)),
        ("recorder", One(Reference)),
        ("asserter", One(Reference)),
        ("stage", Many(Backbone(&CONDITION_STAGE))),
        ("evidence", Many(Backbone(&CONDITION_EVIDENCE))),
        ("note", Many(Annotation)),
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
        ("identifier", Many(Identifier)),
        ("basedOn", Many(Reference)),
        ("partOf", Many(Reference)),
        ("status", One(Code)),
        ("category", Many(CodeableConcept)),
        ("code", One(CodeableConcept)),
        ("subject", One(Reference)),
        ("focus", Many(Reference)),
        ("encounter", One(Reference)),
        ("effective[x]", Choice(&[DateTime, Instant, Period, Timing])),
        ("issued", One(Instant)),
        ("performer", Many(Reference)),
        (
            "value[x]",
            Choice(&[
                Boolean,
                CodeableConcept,
                DateTime,
                Integer,
                Period,
                Quantity,
                Range,
                Ratio,
                SampledData,
                String,
                Time,
            ]),
        ),
        ("dataAbsentReason", One(CodeableConcept)),
        ("interpretation", Many(CodeableConcept)),
        ("note", Many(Annotation)),
        ("bodySite", One(CodeableConcept)),
        ("method", One(CodeableConcept)),
        ("specimen", One(Reference)),
        ("device", One(Reference)),
        (
            "referenceRange",
            Many(Backbone(&OBSERVATION_REFERENCE_RANGE)),
        ),
        ("hasMember", Many(Reference)),
        ("derivedFrom", Many(Reference)),
        ("component", Many(Backbone(&OBSERVATION_COMPONENT))),
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
        ("identifier", Many(Identifier)),
        ("clinicalStatus", One(CodeableConcept)),
        ("verificationStatus", One(CodeableConcept)),
        ("type", One(Code)),
        ("category", Many(Code)),
        ("criticality", One(Code)),
        ("code", One(CodeableConcept)),
        ("patient", One(Reference)),
        ("encounter", One(Reference)),
        ("onset[x]", Choice(&[Age, DateTime, Period, Range, String])),
        ("recordedDate", One(DateTime)),
        ("recorder", One(Reference)),
        ("asserter", One(Reference)),
        ("lastOccurrence", One(DateTime)),
        ("note", Many(Annotation)),
        ("reaction", Many(Backbone(&ALLERGY_INTOLERANCE_REACTION))),
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
        ("identifier", Many(Identifier)),
        ("status", One(Code)),
        ("statusReason", One(CodeableConcept)),
        ("intent", One(Code)),
        ("category", Many(CodeableConcept)),
        ("priority", One(Code)),
        ("doNotPerform", One(Boolean)),
        ("reported[x]", Choice(&[Boolean, Reference])),
        ("medication[x]", Choice(&[CodeableConcept, Reference])),
        ("subject", One(Reference)),
        ("encounter", One(Reference)),
        ("supportingInformation", Many(Reference)),
        ("authoredOn", One(DateTime)),
        ("requester", One(Reference)),
        ("performer", One(Reference)),
        ("performerType", One(CodeableConcept)),
        ("recorder", One(Reference)),
        ("reasonCode", Many(CodeableConcept)),
        ("reasonReference", Many(Reference)),
        ("instantiatesCanonical", Many(Canonical)),
        ("instantiatesUri", Many(Uri)),
        ("basedOn", Many(Reference)),
        ("groupIdentifier", One(Identifier)),
        ("courseOfTherapyType", One(CodeableConcept)),
        ("insurance", Many(Reference)),
        ("note", Many(Annotation)),
        ("dosageInstruction", Many(Dosage)),
        (
            "dispenseRequest",
            One(Backbone(&MEDICATION_REQUEST_DISPENSE_REQUEST)),
        ),
        (
            "substitution",
            One(Backbone(&MEDICATION_REQUEST_SUBSTITUTION)),
        ),
        ("priorPrescription", One(Reference)),
        ("detectedIssue", Many(Reference)),
        ("eventHistory", Many(Reference)),
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
        ("identifier", Many(Identifier)),
        ("instantiatesCanonical", Many(Canonical)),
        ("instantiatesUri", Many(Uri)),
        ("basedOn", Many(Reference)),
        ("replaces", Many(Reference)),
        ("partOf", Many(Reference)),
        ("status", One(Code)),
        ("intent", One(Code)),
        ("category", Many(CodeableConcept)),
        ("title", One(String)),
        ("description", One(String)),
        ("subject", One(Reference)),
        ("encounter", One(Reference)),
        ("period", One(Period)),
        ("created", One(DateTime)),
        ("author", One(Reference)),
        ("contributor", Many(Reference)),
        ("careTeam", Many(Reference)),
        ("addresses", Many(Reference)),
        ("supportingInfo", Many(Reference)),
        ("goal", Many(Reference)),
        ("activity", Many(Backbone(&CARE_PLAN_ACTIVITY))),
        ("note", Many(Annotation)),
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
        ("masterIdentifier", One(Identifier)),
        ("identifier", Many(Identifier)),
        ("status", One(Code)),
        ("docStatus", One(Code)),
        ("type", One(CodeableConcept)),
        ("category", Many(CodeableConcept)),
        ("subject", One(Reference)),
        ("date", One(Instant)),
        ("author", Many(Reference)),
        ("authenticator", One(Reference)),
        ("custodian", One(Reference)),
        ("relatesTo", Many(Backbone(&DOCUMENT_REFERENCE_RELATES_TO))),
        ("description", One(String)),
        ("securityLabel", Many(CodeableConcept)),
        ("content", Many(Backbone(&DOCUMENT_REFERENCE_CONTENT))),
        ("context", One(Backbone(&DOCUMENT_REFERENCE_CONTEXT))),
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

pub static CONSENT: Kind = Kind {
    name: "Consent",
    domain: true,
    elements: &[
        ("identifier", Many(Identifier)),
        ("status", One(Code)),
        ("scope", One(CodeableConcept)),
        ("category", Many(CodeableConcept)),
        ("patient", One(Reference)),
        ("dateTime", One(DateTime)),
        ("performer", Many(Reference)),
        ("organization", Many(Reference)),
        ("source[x]", Choice(&[Attachment, Reference])),
        ("policy", Many(Backbone(&CONSENT_POLICY))),
        ("policyRule", One(CodeableConcept)),
        ("verification", Many(Backbone(&CONSENT_VERIFICATION))),
        ("provision", One(Backbone(&CONSENT_PROVISION))),
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

fn check_appointment(a: &Map<std::string::String, Value>) -> Result<(), Invalid> {
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

fn check_document_reference(d: &Map<std::string::String, Value>) -> Result<(), Invalid> {
    for content in array(d, "content")? {
        if !content.get("attachment").is_some_and(Value::is_object) {
            return Err(invalid("Each content has an attachment (an object)."));
        }
    }
    Ok(())
}

/// Appointment.participant
pub(crate) static APPOINTMENT_PARTICIPANT: Struct = Struct {
    name: "Appointment.participant",
    elements: &[
        ("actor", One(Reference)),
        ("period", One(Period)),
        ("required", One(Code)),
        ("status", One(Code)),
        ("type", Many(CodeableConcept)),
    ],
    required: &["status"],
};
/// Encounter.statusHistory
pub(crate) static ENCOUNTER_STATUS_HISTORY: Struct = Struct {
    name: "Encounter.statusHistory",
    elements: &[("period", One(Period)), ("status", One(Code))],
    required: &["period", "status"],
};
/// Encounter.classHistory
pub(crate) static ENCOUNTER_CLASS_HISTORY: Struct = Struct {
    name: "Encounter.classHistory",
    elements: &[("class", One(Coding)), ("period", One(Period))],
    required: &["class", "period"],
};
/// Encounter.participant
pub(crate) static ENCOUNTER_PARTICIPANT: Struct = Struct {
    name: "Encounter.participant",
    elements: &[
        ("individual", One(Reference)),
        ("period", One(Period)),
        ("type", Many(CodeableConcept)),
    ],
    required: &[],
};
/// Encounter.diagnosis
pub(crate) static ENCOUNTER_DIAGNOSIS: Struct = Struct {
    name: "Encounter.diagnosis",
    elements: &[
        ("condition", One(Reference)),
        ("rank", One(PositiveInt)),
        ("use", One(CodeableConcept)),
    ],
    required: &["condition"],
};
/// Encounter.hospitalization
pub(crate) static ENCOUNTER_HOSPITALIZATION: Struct = Struct {
    name: "Encounter.hospitalization",
    elements: &[
        ("admitSource", One(CodeableConcept)),
        ("destination", One(Reference)),
        ("dietPreference", Many(CodeableConcept)),
        ("dischargeDisposition", One(CodeableConcept)),
        ("origin", One(Reference)),
        ("preAdmissionIdentifier", One(Identifier)),
        ("reAdmission", One(CodeableConcept)),
        ("specialArrangement", Many(CodeableConcept)),
        ("specialCourtesy", Many(CodeableConcept)),
    ],
    required: &[],
};
/// Encounter.location
pub(crate) static ENCOUNTER_LOCATION: Struct = Struct {
    name: "Encounter.location",
    elements: &[
        ("location", One(Reference)),
        ("period", One(Period)),
        ("physicalType", One(CodeableConcept)),
        ("status", One(Code)),
    ],
    required: &["location"],
};
/// Condition.stage
pub(crate) static CONDITION_STAGE: Struct = Struct {
    name: "Condition.stage",
    elements: &[
        ("assessment", Many(Reference)),
        ("summary", One(CodeableConcept)),
        ("type", One(CodeableConcept)),
    ],
    required: &[],
};
/// Condition.evidence
pub(crate) static CONDITION_EVIDENCE: Struct = Struct {
    name: "Condition.evidence",
    elements: &[("code", Many(CodeableConcept)), ("detail", Many(Reference))],
    required: &[],
};
/// Observation.referenceRange
pub(crate) static OBSERVATION_REFERENCE_RANGE: Struct = Struct {
    name: "Observation.referenceRange",
    elements: &[
        ("age", One(Range)),
        ("appliesTo", Many(CodeableConcept)),
        ("high", One(Quantity)),
        ("low", One(Quantity)),
        ("text", One(String)),
        ("type", One(CodeableConcept)),
    ],
    required: &[],
};
/// Observation.component
pub(crate) static OBSERVATION_COMPONENT: Struct = Struct {
    name: "Observation.component",
    elements: &[
        ("code", One(CodeableConcept)),
        ("dataAbsentReason", One(CodeableConcept)),
        ("interpretation", Many(CodeableConcept)),
        (
            "referenceRange",
            Many(Backbone(&OBSERVATION_REFERENCE_RANGE)),
        ),
        (
            "value[x]",
            Choice(&[
                Boolean,
                CodeableConcept,
                DateTime,
                Integer,
                Period,
                Quantity,
                Range,
                Ratio,
                SampledData,
                String,
                Time,
            ]),
        ),
    ],
    required: &["code"],
};
/// AllergyIntolerance.reaction
pub(crate) static ALLERGY_INTOLERANCE_REACTION: Struct = Struct {
    name: "AllergyIntolerance.reaction",
    elements: &[
        ("description", One(String)),
        ("exposureRoute", One(CodeableConcept)),
        ("manifestation", Many(CodeableConcept)),
        ("note", Many(Annotation)),
        ("onset", One(DateTime)),
        ("severity", One(Code)),
        ("substance", One(CodeableConcept)),
    ],
    required: &["manifestation"],
};
/// MedicationRequest.dispenseRequest
pub(crate) static MEDICATION_REQUEST_DISPENSE_REQUEST: Struct = Struct {
    name: "MedicationRequest.dispenseRequest",
    elements: &[
        ("dispenseInterval", One(Duration)),
        ("expectedSupplyDuration", One(Duration)),
        (
            "initialFill",
            One(Backbone(&MEDICATION_REQUEST_DISPENSE_REQUEST_INITIAL_FILL)),
        ),
        ("numberOfRepeatsAllowed", One(UnsignedInt)),
        ("performer", One(Reference)),
        ("quantity", One(Quantity)),
        ("validityPeriod", One(Period)),
    ],
    required: &[],
};
/// MedicationRequest.dispenseRequest.initialFill
pub(crate) static MEDICATION_REQUEST_DISPENSE_REQUEST_INITIAL_FILL: Struct = Struct {
    name: "MedicationRequest.dispenseRequest.initialFill",
    elements: &[("duration", One(Duration)), ("quantity", One(Quantity))],
    required: &[],
};
/// MedicationRequest.substitution
pub(crate) static MEDICATION_REQUEST_SUBSTITUTION: Struct = Struct {
    name: "MedicationRequest.substitution",
    elements: &[
        ("allowed[x]", Choice(&[Boolean, CodeableConcept])),
        ("reason", One(CodeableConcept)),
    ],
    required: &["allowed[x]"],
};
/// CarePlan.activity
pub(crate) static CARE_PLAN_ACTIVITY: Struct = Struct {
    name: "CarePlan.activity",
    elements: &[
        ("detail", One(Backbone(&CARE_PLAN_ACTIVITY_DETAIL))),
        ("outcomeCodeableConcept", Many(CodeableConcept)),
        ("outcomeReference", Many(Reference)),
        ("progress", Many(Annotation)),
        ("reference", One(Reference)),
    ],
    required: &[],
};
/// CarePlan.activity.detail
pub(crate) static CARE_PLAN_ACTIVITY_DETAIL: Struct = Struct {
    name: "CarePlan.activity.detail",
    elements: &[
        ("code", One(CodeableConcept)),
        ("dailyAmount", One(Quantity)),
        ("description", One(String)),
        ("doNotPerform", One(Boolean)),
        ("goal", Many(Reference)),
        ("instantiatesCanonical", Many(Canonical)),
        ("instantiatesUri", Many(Uri)),
        ("kind", One(Code)),
        ("location", One(Reference)),
        ("performer", Many(Reference)),
        ("product[x]", Choice(&[CodeableConcept, Reference])),
        ("quantity", One(Quantity)),
        ("reasonCode", Many(CodeableConcept)),
        ("reasonReference", Many(Reference)),
        ("scheduled[x]", Choice(&[Period, String, Timing])),
        ("status", One(Code)),
        ("statusReason", One(CodeableConcept)),
    ],
    required: &["status"],
};
/// DocumentReference.relatesTo
pub(crate) static DOCUMENT_REFERENCE_RELATES_TO: Struct = Struct {
    name: "DocumentReference.relatesTo",
    elements: &[("code", One(Code)), ("target", One(Reference))],
    required: &["code", "target"],
};
/// DocumentReference.content
pub(crate) static DOCUMENT_REFERENCE_CONTENT: Struct = Struct {
    name: "DocumentReference.content",
    elements: &[("attachment", One(Attachment)), ("format", One(Coding))],
    required: &["attachment"],
};
/// DocumentReference.context
pub(crate) static DOCUMENT_REFERENCE_CONTEXT: Struct = Struct {
    name: "DocumentReference.context",
    elements: &[
        ("encounter", Many(Reference)),
        ("event", Many(CodeableConcept)),
        ("facilityType", One(CodeableConcept)),
        ("period", One(Period)),
        ("practiceSetting", One(CodeableConcept)),
        ("related", Many(Reference)),
        ("sourcePatientInfo", One(Reference)),
    ],
    required: &[],
};
/// Consent.policy
pub(crate) static CONSENT_POLICY: Struct = Struct {
    name: "Consent.policy",
    elements: &[("authority", One(Uri)), ("uri", One(Uri))],
    required: &[],
};
/// Consent.verification
pub(crate) static CONSENT_VERIFICATION: Struct = Struct {
    name: "Consent.verification",
    elements: &[
        ("verificationDate", One(DateTime)),
        ("verified", One(Boolean)),
        ("verifiedWith", One(Reference)),
    ],
    required: &["verified"],
};
/// Consent.provision
pub(crate) static CONSENT_PROVISION: Struct = Struct {
    name: "Consent.provision",
    elements: &[
        ("action", Many(CodeableConcept)),
        ("actor", Many(Backbone(&CONSENT_PROVISION_ACTOR))),
        ("class", Many(Coding)),
        ("code", Many(CodeableConcept)),
        ("data", Many(Backbone(&CONSENT_PROVISION_DATA))),
        ("dataPeriod", One(Period)),
        ("period", One(Period)),
        ("provision", Many(Backbone(&CONSENT_PROVISION))),
        ("purpose", Many(Coding)),
        ("securityLabel", Many(Coding)),
        ("type", One(Code)),
    ],
    required: &[],
};
/// Consent.provision.actor
pub(crate) static CONSENT_PROVISION_ACTOR: Struct = Struct {
    name: "Consent.provision.actor",
    elements: &[
        ("reference", One(Reference)),
        ("role", One(CodeableConcept)),
    ],
    required: &["reference", "role"],
};
/// Consent.provision.data
pub(crate) static CONSENT_PROVISION_DATA: Struct = Struct {
    name: "Consent.provision.data",
    elements: &[("meaning", One(Code)), ("reference", One(Reference))],
    required: &["meaning", "reference"],
};
