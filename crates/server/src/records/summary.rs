//! One-line summaries of resources for the record pages: what a person reads at a glance
//! (the condition, the medicine, the result), never the raw JSON.

use serde_json::Value;

/// A resource as one row of a record page.
#[derive(Debug, Clone)]
pub struct Summary {
    /// "Condition", "Medication" …, as a person says it.
    pub label: &'static str,
    pub text: String,
    pub status: String,
    pub date: String,
}

fn label(resource_type: &str) -> &'static str {
    match resource_type {
        "Patient" => "Details",
        "Appointment" => "Appointment",
        "Encounter" => "Visit",
        "Condition" => "Condition",
        "Observation" => "Result",
        "AllergyIntolerance" => "Allergy",
        "MedicationRequest" => "Medication",
        "CarePlan" => "Care plan",
        "DocumentReference" => "Document",
        "Binary" => "File",
        "Consent" => "Consent",
        _ => "Record",
    }
}

/// The readable text of a CodeableConcept: its text, else its first coding's display.
fn concept(value: &Value) -> Option<String> {
    value["text"].as_str().map(str::to_owned).or_else(|| {
        value["coding"]
            .as_array()?
            .iter()
            .find_map(|c| c["display"].as_str().or(c["code"].as_str()))
            .map(str::to_owned)
    })
}

fn first_text(resource: &Value, elements: &[&str]) -> Option<String> {
    elements.iter().find_map(|e| {
        let v = &resource[*e];
        v.as_str()
            .map(str::to_owned)
            .or_else(|| concept(v))
            .or_else(|| v["display"].as_str().map(str::to_owned))
    })
}

fn name(resource: &Value) -> Option<String> {
    let n = resource["name"].as_array()?.first()?;
    if let Some(text) = n["text"].as_str() {
        return Some(text.to_owned());
    }
    let given: Vec<&str> = n["given"]
        .as_array()
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let family = n["family"].as_str().unwrap_or_default();
    Some(format!("{} {family}", given.join(" ")).trim().to_owned())
}

/// The summary of one resource.
pub fn summarise(resource: &Value) -> Summary {
    let resource_type = resource["resourceType"].as_str().unwrap_or_default();
    let text = match resource_type {
        "Patient" => {
            let born = resource["birthDate"]
                .as_str()
                .map(|b| format!(", born {b}"))
                .unwrap_or_default();
            format!("{}{born}", name(resource).unwrap_or_default())
        }
        "MedicationRequest" => first_text(
            resource,
            &["medicationCodeableConcept", "medicationReference"],
        )
        .unwrap_or_default(),
        "Observation" => {
            let what = first_text(resource, &["code"]).unwrap_or_default();
            let value = &resource["valueQuantity"];
            let amount = match (value["value"].as_f64(), value["unit"].as_str()) {
                (Some(v), Some(u)) => format!(": {v} {u}"),
                (Some(v), None) => format!(": {v}"),
                _ => resource["valueString"]
                    .as_str()
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default(),
            };
            format!("{what}{amount}")
        }
        "CarePlan" => first_text(resource, &["title", "description"]).unwrap_or_default(),
        "DocumentReference" => first_text(resource, &["description", "type"]).unwrap_or_default(),
        "Binary" => resource["contentType"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        "Consent" => first_text(resource, &["scope"]).unwrap_or_default(),
        "Appointment" | "Encounter" => {
            first_text(resource, &["description", "serviceType", "class", "type"])
                .unwrap_or_default()
        }
        _ => first_text(resource, &["code"]).unwrap_or_default(),
    };
    let status = resource["status"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| concept(&resource["clinicalStatus"]))
        .unwrap_or_default();
    let date = [
        "recordedDate",
        "onsetDateTime",
        "effectiveDateTime",
        "issued",
        "authoredOn",
        "created",
        "date",
        "dateTime",
        "start",
    ]
    .iter()
    .find_map(|e| resource[*e].as_str())
    .or_else(|| resource["period"]["start"].as_str())
    .map(|d| d.chars().take(10).collect())
    .unwrap_or_default();
    Summary {
        label: label(resource_type),
        text: if text.is_empty() {
            "(no description)".into()
        } else {
            text
        },
        status,
        date,
    }
}
