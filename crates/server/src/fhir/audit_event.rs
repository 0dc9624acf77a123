//! Ledger entries as FHIR R4 `AuditEvent` resources (for `telewarden audit export`, and
//! the read-only `/fhir/AuditEvent` API).

use ledger::{Outcome, StoredEntry};
use serde_json::{Value, json};

const DCM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const ACTION_SYSTEM: &str = "https://telewarden.org/fhir/CodeSystem/audit-action";

/// The entry as an `AuditEvent`. The ledger's sequence number is the resource id, and
/// the leaf hash travels with it so an exported event can be matched to a proof.
pub fn audit_event(entry: &StoredEntry) -> Value {
    let (type_code, type_display) = event_type(&entry.action);
    let details = serde_json::from_str::<Value>(&entry.details).unwrap_or(Value::Null);
    json!({
        "resourceType": "AuditEvent",
        "id": entry.seq.to_string(),
        "type": { "system": DCM, "code": type_code, "display": type_display },
        "subtype": [{ "system": ACTION_SYSTEM, "code": entry.action }],
        "action": action_code(&entry.action),
        "recorded": clock::rfc3339_ms(entry.time_ms),
        "outcome": match entry.outcome {
            Outcome::Success => "0",
            Outcome::Failure => "4",
            Outcome::Denied => "8",
        },
        "outcomeDesc": entry.outcome.as_str(),
        "agent": [{
            "who": { "identifier": { "value": entry.actor } },
            "requestor": true,
            "network": { "address": entry.source, "type": network_type(&entry.source) }
        }],
        "source": {
            "observer": { "display": "Telewarden" },
            "type": [{
                "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                "code": "4",
                "display": "Application Server"
            }]
        },
        "entity": [{
            "what": { "identifier": { "value": entry.target } },
            "detail": [
                { "type": "request_id", "valueString": entry.request_id },
                { "type": "details", "valueString": details.to_string() },
                { "type": "ledger_seq", "valueString": entry.seq.to_string() },
                { "type": "ledger_leaf_hash", "valueString": hex::encode(entry.leaf_hash) }
            ]
        }]
    })
}

fn event_type(action: &str) -> (&'static str, &'static str) {
    if action.starts_with("signin") || action.starts_with("signout") {
        ("110114", "User Authentication")
    } else if action.starts_with("record.") {
        ("110110", "Patient Record")
    } else if action.starts_with("export.") {
        ("110106", "Export")
    } else {
        ("110100", "Application Activity")
    }
}

/// C(reate), R(ead), U(pdate), D(elete) or E(xecute), from the action's verb.
fn action_code(action: &str) -> &'static str {
    let verb = action.rsplit('.').next().unwrap_or(action);
    match verb {
        "create" | "created" | "completed" | "issued" | "link_issued" => "C",
        "read" | "search" | "viewed" => "R",
        "update" | "updated" | "changed" => "U",
        "delete" | "deleted" | "revoked" => "D",
        _ => "E",
    }
}

/// FHIR network type: 2 for an IP address, 5 for anything else (a job or process name).
fn network_type(source: &str) -> &'static str {
    if source.parse::<std::net::IpAddr>().is_ok() {
        "2"
    } else {
        "5"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> StoredEntry {
        StoredEntry {
            seq: 42,
            time_ms: 1_764_000_000_000,
            actor: "user:abc".into(),
            action: "signin.password".into(),
            target: "user:abc".into(),
            outcome: Outcome::Failure,
            source: "203.0.113.7".into(),
            request_id: "r1".into(),
            details: "{\"reason\":\"wrong_password\"}".into(),
            leaf_hash: [1; 32],
            chain_hash: [2; 32],
        }
    }

    #[test]
    fn maps_an_entry_to_a_fhir_audit_event() {
        let v = audit_event(&entry());
        assert_eq!(v["resourceType"], "AuditEvent");
        assert_eq!(v["id"], "42");
        assert_eq!(v["type"]["code"], "110114");
        assert_eq!(v["subtype"][0]["code"], "signin.password");
        assert_eq!(v["outcome"], "4");
        assert_eq!(v["recorded"], "2025-11-24T16:00:00Z");
        assert_eq!(v["agent"][0]["network"]["address"], "203.0.113.7");
        assert_eq!(v["agent"][0]["network"]["type"], "2");
        assert_eq!(v["entity"][0]["what"]["identifier"]["value"], "user:abc");
        assert_eq!(
            v["entity"][0]["detail"][3]["valueString"],
            hex::encode([1u8; 32])
        );
    }

    #[test]
    fn verbs_map_to_fhir_actions() {
        assert_eq!(action_code("setup.completed"), "C");
        assert_eq!(action_code("record.read"), "R");
        assert_eq!(action_code("config.changed"), "U");
        assert_eq!(action_code("session.revoked"), "D");
        assert_eq!(action_code("server.started"), "E");
    }
}
