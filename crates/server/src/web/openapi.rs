//! `GET /fhir/openapi.json`: an OpenAPI 3.0.3 description of the FHIR API, generated
//! from [`resource::KINDS`] so that every resource type the API stores is described the
//! same way, with the statuses the handlers ([`crate::web::fhir`]), the middleware
//! (session, CSRF, body limit) and the error pages ([`crate::http::errors`]) really
//! produce. The contract test (`tests/fhir_contract.rs`) runs schemathesis against it.
//!
//! Public, like `/fhir/metadata`: it says what the API is, nothing about anyone's data.

use std::sync::LazyLock;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};

use crate::records::datatypes::{Card, Struct, Type};
use crate::records::resource::{self, Compartment, Kind};

/// The FHIR id pattern (FHIR R4 `id` datatype), as [`resource::valid_id`] checks it.
const ID_PATTERN: &str = r"^[A-Za-z0-9\-\.]{1,64}$";
/// A version in a URL or `If-Match`: a positive integer.
const VERSION_PATTERN: &str = r"^[1-9][0-9]{0,17}$";
const FHIR_JSON: &str = "application/fhir+json";

/// The document, built once: it depends only on the compiled-in resource types.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

pub async fn openapi() -> Response {
    let mut res = (StatusCode::OK, DOCUMENT.as_str()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn response_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

/// A FHIR JSON response with `schema`.
fn fhir_response(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { FHIR_JSON: { "schema": schema } } })
}

/// A response carrying a version of a resource: the resource, its ETag and Location.
fn versioned_response(description: &str, kind: &Kind) -> Value {
    let mut r = fhir_response(description, schema_ref(kind.name));
    r["headers"] = json!({
        "ETag": {
            "description": "The version, as a weak ETag: W/\"n\".",
            "schema": { "type": "string", "pattern": "^W/\"[0-9]+\"$" },
        },
        "Location": {
            "description": "The address of this version (…/_history/n).",
            "schema": { "type": "string" },
        },
    });
    r
}

/// The error responses of an operation, by status.
fn errors(responses: &mut Map<String, Value>, statuses: &[&str]) {
    for status in statuses {
        responses.insert((*status).to_owned(), response_ref(status));
    }
}

/// Statuses every signed-in operation can answer with: a malformed request (400), no
/// session (401), a role or Policy refusal — or, for changes, a request from another
/// origin (403) — and the records or the audit ledger being unreachable (503).
const SIGNED_IN_ERRORS: &[&str] = &["400", "401", "403", "503"];

fn id_param() -> Value {
    json!({
        "name": "id", "in": "path", "required": true,
        "description": "The resource's logical id.",
        "schema": { "type": "string", "pattern": ID_PATTERN },
    })
}

fn version_param() -> Value {
    json!({
        "name": "version", "in": "path", "required": true,
        "description": "A version of the resource (its meta.versionId).",
        "schema": { "type": "string", "pattern": VERSION_PATTERN },
    })
}

fn if_match_param() -> Value {
    json!({
        "name": "If-Match", "in": "header", "required": false,
        "description": "The version the change is based on (W/\"n\"): the update is refused \
                        with 412 if the resource has changed since.",
        "schema": { "type": "string", "pattern": "^W/\"[1-9][0-9]{0,17}\"$" },
    })
}

/// OpenAPI links from a response carrying a resource to the operations on that resource
/// (for clients, and schemathesis's stateful phase).
fn links(kind: &Kind) -> Value {
    let id = json!({ "id": "$response.body#/id" });
    json!({
        "Read": { "operationId": format!("read{}", kind.name), "parameters": id },
        "Update": { "operationId": format!("update{}", kind.name), "parameters": id },
        "Delete": { "operationId": format!("delete{}", kind.name), "parameters": id },
        "History": { "operationId": format!("history{}", kind.name), "parameters": id },
        "ReadVersion": {
            "operationId": format!("vread{}", kind.name),
            "parameters": { "id": "$response.body#/id", "version": "$response.body#/meta/versionId" },
        },
    })
}

fn operation(
    kind: &Kind,
    id: &str,
    summary: &str,
    parameters: Vec<Value>,
    body: Option<&str>,
    responses: Map<String, Value>,
) -> Value {
    let mut op = json!({
        "operationId": format!("{id}{}", kind.name),
        "summary": summary,
        "tags": [kind.name],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(schema) = body {
        op["requestBody"] = json!({
            "required": true,
            "content": { FHIR_JSON: { "schema": schema_ref(schema) } },
        });
    }
    op
}

/// The five paths of one resource type.
fn paths_of(kind: &Kind, paths: &mut Map<String, Value>) {
    let name = kind.name;

    // GET (search) and POST (create) on the type.
    let search_params: Vec<Value> = kind
        .search_params
        .iter()
        .map(|p| {
            json!({
                "name": p, "in": "query", "required": false,
                "description": format!("Search {name} by {p} (exact match after normalising)."),
                "schema": { "type": "string" },
            })
        })
        .collect();
    let mut search = Map::new();
    search.insert(
        "200".into(),
        fhir_response(
            &format!("A searchset Bundle of the {name} resources found that you may read."),
            schema_ref(&format!("{name}SearchBundle")),
        ),
    );
    errors(&mut search, SIGNED_IN_ERRORS);
    let mut create = Map::new();
    let mut created = versioned_response(&format!("The {name} was created."), kind);
    created["links"] = links(kind);
    create.insert("201".into(), created);
    errors(&mut create, SIGNED_IN_ERRORS);
    errors(&mut create, &["409", "413"]);
    paths.insert(
        format!("/fhir/{name}"),
        json!({
            "get": operation(kind, "search", &format!("Search {name}"), search_params, None, search),
            "post": operation(kind, "create", &format!("Create a {name} (the server chooses its id)"), vec![], Some(&format!("{name}Create")), create),
        }),
    );

    // GET (read), PUT (update or create), DELETE on an instance.
    let mut read = Map::new();
    read.insert(
        "200".into(),
        versioned_response(&format!("The current version of the {name}."), kind),
    );
    errors(&mut read, SIGNED_IN_ERRORS);
    errors(&mut read, &["404", "410"]);
    let mut update = Map::new();
    let mut updated = versioned_response(&format!("The {name} was updated."), kind);
    updated["links"] = links(kind);
    update.insert("200".into(), updated);
    let mut created = versioned_response(
        &format!("There was no {name} with this id: it was created."),
        kind,
    );
    created["links"] = links(kind);
    update.insert("201".into(), created);
    errors(&mut update, SIGNED_IN_ERRORS);
    errors(&mut update, &["404", "409", "412", "413"]);
    let mut delete = Map::new();
    delete.insert(
        "204".into(),
        json!({ "description": format!("The {name} is deleted (or already was): a new version, a tombstone.") }),
    );
    errors(&mut delete, SIGNED_IN_ERRORS);
    errors(&mut delete, &["404", "409"]);
    paths.insert(
        format!("/fhir/{name}/{{id}}"),
        json!({
            "get": operation(kind, "read", &format!("Read a {name}"), vec![id_param()], None, read),
            "put": operation(kind, "update", &format!("Update a {name}, or create it with this id"), vec![id_param(), if_match_param()], Some(&format!("{name}Update")), update),
            "delete": operation(kind, "delete", &format!("Delete a {name}"), vec![id_param()], None, delete),
        }),
    );

    // GET the history, and one version.
    let mut history = Map::new();
    history.insert(
        "200".into(),
        fhir_response(
            &format!("A history Bundle of every version of the {name}, newest first."),
            schema_ref(&format!("{name}HistoryBundle")),
        ),
    );
    errors(&mut history, SIGNED_IN_ERRORS);
    errors(&mut history, &["404"]);
    paths.insert(
        format!("/fhir/{name}/{{id}}/_history"),
        json!({
            "get": operation(kind, "history", &format!("Every version of a {name}"), vec![id_param()], None, history),
        }),
    );
    let mut vread = Map::new();
    vread.insert(
        "200".into(),
        versioned_response(&format!("That version of the {name}."), kind),
    );
    errors(&mut vread, SIGNED_IN_ERRORS);
    errors(&mut vread, &["404", "410"]);
    paths.insert(
        format!("/fhir/{name}/{{id}}/_history/{{version}}"),
        json!({
            "get": operation(kind, "vread", &format!("Read one version of a {name}"), vec![id_param(), version_param()], None, vread),
        }),
    );
}

/// The complex datatypes described once, under components/schemas, by name.
const DATATYPES: &[Type] = &[
    Type::Address,
    Type::Annotation,
    Type::Attachment,
    Type::CodeableConcept,
    Type::Coding,
    Type::ContactPoint,
    Type::Dosage,
    Type::Extension,
    Type::HumanName,
    Type::Identifier,
    Type::Narrative,
    Type::Period,
    Type::Quantity,
    Type::Range,
    Type::Ratio,
    Type::Reference,
    Type::SampledData,
    Type::Timing,
];
/// How deep backbone elements within backbone elements are described (Consent.provision
/// nests itself); deeper ones are left out of the document, though the server takes them.
const BACKBONE_DEPTH: usize = 2;

/// A date: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
const DATE_PATTERN: &str = r"^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$";
/// An instant: a full time with its offset.
const INSTANT_PATTERN: &str = r"^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])$";
const TIME_PATTERN: &str = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?$";

/// The schema of a value of datatype `t` (`depth`: how deep in backbone elements).
fn type_schema(t: Type, depth: usize) -> Value {
    let int = |min: i64| json!({ "type": "integer", "minimum": min, "maximum": i32::MAX });
    match t {
        Type::Boolean => json!({ "type": "boolean" }),
        Type::Integer => int(i64::from(i32::MIN)),
        Type::PositiveInt => int(1),
        Type::UnsignedInt => int(0),
        Type::Decimal => json!({ "type": "number" }),
        Type::String | Type::Markdown => {
            json!({ "type": "string", "pattern": r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$" })
        }
        Type::Code => json!({ "type": "string", "pattern": r"^[^\s]+( [^\s]+)*$" }),
        Type::Id => json!({ "type": "string", "pattern": ID_PATTERN }),
        Type::Uri | Type::Url | Type::Canonical => {
            json!({ "type": "string", "pattern": r"^[!-~]+$" })
        }
        Type::Oid => json!({ "type": "string", "pattern": r"^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$" }),
        Type::Uuid => {
            json!({ "type": "string", "pattern": r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" })
        }
        Type::Base64Binary => json!({ "type": "string", "pattern": r"^([A-Za-z0-9+/]{4})+$" }),
        Type::Date => json!({ "type": "string", "pattern": DATE_PATTERN }),
        Type::DateTime => json!({
            "type": "string",
            "description": "A date (2026, 2026-11, 2026-11-28) or a full time with its offset.",
            "anyOf": [{ "pattern": DATE_PATTERN }, { "pattern": INSTANT_PATTERN }],
        }),
        Type::Instant => json!({ "type": "string", "pattern": INSTANT_PATTERN }),
        Type::Time => json!({ "type": "string", "pattern": TIME_PATTERN }),
        Type::Xhtml => json!({
            "type": "string",
            "description": "XHTML: <div xmlns=\"http://www.w3.org/1999/xhtml\">…</div>",
            "pattern": r"^<div[^<>]*>[^<>]*</div>$",
        }),
        Type::Age | Type::Duration | Type::Quantity => schema_ref("Quantity"),
        Type::Meta => json!({ "type": "object", "description": "Ignored: the server sets it." }),
        Type::Resource => json!({
            "type": "object",
            "description": "A contained resource: a type this server stores, with an id; checked as that type.",
            "required": ["resourceType", "id"],
            "properties": {
                "resourceType": { "type": "string", "enum": resource::KINDS.iter().map(|k| k.name).collect::<Vec<_>>() },
                "id": { "type": "string", "pattern": ID_PATTERN },
            },
        }),
        Type::Backbone(s) => struct_schema(s, depth + 1, &[]),
        complex => schema_ref(complex.name()),
    }
}

/// The `(name, schema)` pairs of one element: a choice has one per type.
fn element_schemas(name: &str, card: Card, depth: usize) -> Vec<(String, Value)> {
    match card {
        Card::One(t) => vec![(name.to_owned(), type_schema(t, depth))],
        Card::Many(t) => vec![(
            name.to_owned(),
            json!({ "type": "array", "minItems": 1, "items": type_schema(t, depth) }),
        )],
        Card::Choice(types) => {
            let prefix = name.trim_end_matches("[x]");
            types
                .iter()
                .map(|t| (format!("{prefix}{}", t.name()), type_schema(*t, depth)))
                .collect()
        }
    }
}

/// An object of `s`'s elements (less `omit`), with its required ones.
fn struct_schema(s: &Struct, depth: usize, omit: &[&str]) -> Value {
    let mut properties = Map::new();
    for (name, card) in s.elements {
        let deep = matches!(
            card,
            Card::One(Type::Backbone(_)) | Card::Many(Type::Backbone(_))
        ) && depth >= BACKBONE_DEPTH;
        if omit.contains(name) || deep {
            continue;
        }
        for (n, schema) in element_schemas(name, *card, depth) {
            properties.insert(n, schema);
        }
    }
    let required: Vec<&str> = s
        .required
        .iter()
        .copied()
        .filter(|r| !r.ends_with("[x]"))
        .collect();
    let mut schema = json!({
        "type": "object",
        "description": s.name,
        "minProperties": 1,
        "properties": properties,
        "additionalProperties": false,
    });
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// The JSON type of a datatype's values within a datatype, without lexical rules: a
/// complex one as an object of its primitive elements only (None if it has none).
fn json_type(t: Type) -> Option<Value> {
    Some(match t {
        Type::Boolean => json!({ "type": "boolean" }),
        Type::Integer | Type::PositiveInt | Type::UnsignedInt => json!({ "type": "integer" }),
        Type::Decimal => json!({ "type": "number" }),
        t if t.is_primitive() => json!({ "type": "string", "minLength": 1 }),
        t => {
            let s = t.structure()?;
            let properties: Map<String, Value> = s
                .elements
                .iter()
                .filter_map(|(name, card)| match card {
                    Card::One(p) if p.is_primitive() => {
                        json_type(*p).map(|v| ((*name).to_owned(), v))
                    }
                    _ => None,
                })
                .collect();
            if properties.is_empty() {
                return None;
            }
            json!({
                "type": "object",
                "minProperties": 1,
                "properties": properties,
                "additionalProperties": false,
            })
        }
    })
}

/// The schema of a complex datatype under components/schemas: its elements and their
/// JSON types, the required ones, nothing else. Shallow on purpose: nested datatypes
/// are described as objects (the server checks them through), which keeps the
/// document free of cycles (Identifier has a Reference, which has an Identifier) and
/// schemathesis's coverage phase within its time.
fn datatype_schema(t: Type) -> Value {
    let Some(s) = t.structure() else {
        return json!({});
    };
    let mut properties = Map::new();
    for (name, card) in s.elements {
        match card {
            Card::One(t) => {
                if let Some(v) = json_type(*t) {
                    properties.insert((*name).to_owned(), v);
                }
            }
            Card::Many(t) => {
                if let Some(v) = json_type(*t) {
                    properties.insert(
                        (*name).to_owned(),
                        json!({ "type": "array", "minItems": 1, "items": v }),
                    );
                }
            }
            Card::Choice(types) => {
                let prefix = name.trim_end_matches("[x]");
                for t in *types {
                    if let Some(v) = json_type(*t) {
                        properties.insert(format!("{prefix}{}", t.name()), v);
                    }
                }
            }
        }
    }
    let mut schema = json!({
        "type": "object",
        "description": s.name,
        "minProperties": 1,
        "properties": properties,
        "additionalProperties": false,
    });
    let required: Vec<&str> = s
        .required
        .iter()
        .copied()
        .filter(|r| !r.ends_with("[x]"))
        .collect();
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    match t {
        Type::Extension => {
            schema["minProperties"] = json!(2);
            schema["maxProperties"] = json!(2);
            schema["description"] = json!("An extension: its url and one value[x].");
        }
        Type::Narrative => {
            schema["properties"]["status"] = json!({
                "type": "string",
                "enum": ["generated", "extensions", "additional", "empty"],
            });
            schema["properties"]["div"] = type_schema(Type::Xhtml, 0);
        }
        _ => {}
    }
    schema
}

/// The schema of one element of a request body: the codes it takes, the patient it
/// names, otherwise its datatype (a choice: one property per type).
fn element_schema(kind: &Kind, element: &str, card: Card) -> Vec<(String, Value)> {
    if let Some((_, codes)) = kind.codes.iter().find(|(e, _)| *e == element) {
        return vec![(
            element.to_owned(),
            json!({ "type": "string", "enum": codes }),
        )];
    }
    if matches!(kind.compartment, Compartment::Reference(e) if e == element) {
        return vec![(element.to_owned(), schema_ref("PatientReference"))];
    }
    if kind.compartment == Compartment::Participant && element == "participant" {
        let Card::Many(Type::Backbone(s)) = card else {
            return element_schemas(element, card, 0);
        };
        let mut item = struct_schema(s, 1, &[]);
        item["properties"]["actor"] = schema_ref("PatientReference");
        item["properties"]["status"] = json!({
            "type": "string",
            "enum": ["accepted", "declined", "tentative", "needs-action"],
        });
        item["required"] = json!(["actor", "status"]);
        return vec![(
            element.to_owned(),
            json!({
                "type": "array",
                "description": "Exactly one participant's actor is the patient.",
                "minItems": 1,
                "maxItems": 1,
                "items": item,
            }),
        )];
    }
    if element == "language" {
        return vec![(
            element.to_owned(),
            json!({ "type": "string", "pattern": r"^[a-z]{2,3}(-[A-Z]{2})?$" }),
        )];
    }
    element_schemas(element, card, 0)
}

/// The body of a create (`update` false) or an update of `kind`: the elements the
/// server accepts (besides these, `_element` for a primitive's extensions), the ones it
/// requires, the codes it takes and the patient the resource belongs to.
fn request_body(kind: &Kind, update: bool) -> Value {
    let name = kind.name;
    let mut properties = Map::new();
    properties.insert(
        "resourceType".into(),
        json!({ "type": "string", "enum": [name] }),
    );
    for (element, card) in kind.element_lists().into_iter().flatten() {
        if !matches!(*element, "id" | "resourceType") {
            for (name, schema) in element_schema(kind, element, *card) {
                properties.insert(name, schema);
            }
        }
    }
    properties.insert(
        "id".into(),
        if update {
            json!({ "type": "string", "pattern": ID_PATTERN, "description": "The id in the address." })
        } else {
            json!({ "type": "string", "description": "Ignored: the server chooses the id." })
        },
    );
    let mut required = vec![json!("resourceType")];
    if update {
        required.push(json!("id"));
    }
    let mut any_of = Vec::new();
    for choices in kind.required {
        match choices {
            [one] => required.push(json!(one)),
            several => any_of.push(json!({
                "anyOf": several.iter().map(|c| json!({ "required": [c] })).collect::<Vec<_>>(),
            })),
        }
    }
    let patient_element = match kind.compartment {
        Compartment::Reference(element) => Some(element),
        Compartment::Participant => Some("participant"),
        Compartment::Itself | Compartment::Practice => None,
    };
    if let Some(element) = patient_element
        && !required.contains(&json!(element))
    {
        required.push(json!(element));
    }
    let mut schema = json!({
        "type": "object",
        "description": if update {
            format!("A FHIR R4 {name} to store as the new version; its id must be the one in the address. Other elements are refused (400).")
        } else {
            format!("A FHIR R4 {name} to create. Other elements are refused (400).")
        },
        "required": required,
        "properties": properties,
        "additionalProperties": false,
    });
    if !any_of.is_empty() {
        schema["allOf"] = Value::Array(any_of);
    }
    schema
}

/// The schemas of one resource type: the resource as returned, the bodies of a create
/// and an update, and its two kinds of Bundle.
fn schemas_of(kind: &Kind, schemas: &mut Map<String, Value>) {
    let name = kind.name;
    let resource_type = json!({ "type": "string", "enum": [name] });
    schemas.insert(
        name.to_owned(),
        json!({
            "type": "object",
            "description": format!("A FHIR R4 {name} as the server returns it."),
            "required": ["resourceType", "id", "meta"],
            "properties": {
                "resourceType": resource_type,
                "id": { "type": "string", "pattern": ID_PATTERN },
                "meta": schema_ref("Meta"),
            },
            "additionalProperties": true,
        }),
    );
    schemas.insert(format!("{name}Create"), request_body(kind, false));
    schemas.insert(format!("{name}Update"), request_body(kind, true));
    schemas.insert(
        format!("{name}SearchBundle"),
        json!({
            "type": "object",
            "required": ["resourceType", "type", "total", "entry"],
            "properties": {
                "resourceType": { "type": "string", "enum": ["Bundle"] },
                "type": { "type": "string", "enum": ["searchset"] },
                "total": { "type": "integer", "minimum": 0 },
                "entry": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["fullUrl", "resource", "search"],
                        "properties": {
                            "fullUrl": { "type": "string" },
                            "resource": schema_ref(name),
                            "search": {
                                "type": "object",
                                "properties": { "mode": { "type": "string", "enum": ["match"] } },
                            },
                        },
                    },
                },
            },
        }),
    );
    schemas.insert(
        format!("{name}HistoryBundle"),
        json!({
            "type": "object",
            "required": ["resourceType", "type", "total", "entry"],
            "properties": {
                "resourceType": { "type": "string", "enum": ["Bundle"] },
                "type": { "type": "string", "enum": ["history"] },
                "total": { "type": "integer", "minimum": 1 },
                "entry": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "description": "A version; a deletion has no resource.",
                        "required": ["fullUrl", "request", "response"],
                        "properties": {
                            "fullUrl": { "type": "string" },
                            "resource": schema_ref(name),
                            "request": {
                                "type": "object",
                                "required": ["method", "url"],
                                "properties": {
                                    "method": { "type": "string", "enum": ["POST", "PUT", "DELETE"] },
                                    "url": { "type": "string" },
                                },
                            },
                            "response": {
                                "type": "object",
                                "required": ["status"],
                                "properties": {
                                    "status": { "type": "string" },
                                    "etag": { "type": "string" },
                                    "lastModified": { "type": "string" },
                                },
                            },
                        },
                    },
                },
            },
        }),
    );
}

/// What each error status means here; every error body is an OperationOutcome.
const ERROR_STATUSES: &[(&str, &str)] = &[
    (
        "400",
        "The request is malformed or the body is not an acceptable resource (invalid JSON, \
         another resourceType, unknown elements, an id that differs from the address, a \
         malformed identifier, an unknown search parameter, a malformed If-Match).",
    ),
    ("401", "No valid session: sign in first."),
    (
        "403",
        "Refused: the Policy does not let you do this to this record (for a record you \
         may not read, even whether it exists is not said), or a change came from another \
         origin (CSRF protection: send an Origin header equal to the server's origin).",
    ),
    (
        "404",
        "There is no such resource or version (or the id is malformed).",
    ),
    (
        "409",
        "The record changed at the same moment elsewhere: try again.",
    ),
    ("410", "The resource was deleted; its history is kept."),
    (
        "412",
        "If-Match named a version that is no longer the current one.",
    ),
    ("413", "The body is larger than the server accepts."),
    (
        "503",
        "The records or the audit ledger are not reachable just now; nothing was done.",
    ),
];

fn components() -> Value {
    let mut schemas = Map::new();
    schemas.insert(
        "Meta".into(),
        json!({
            "type": "object",
            "required": ["versionId", "lastUpdated"],
            "properties": {
                "versionId": { "type": "string", "pattern": VERSION_PATTERN },
                "lastUpdated": { "type": "string", "format": "date-time" },
            },
        }),
    );
    schemas.insert(
        "PatientReference".into(),
        json!({
            "type": "object",
            "description": "The patient whose record the resource belongs to.",
            "required": ["reference"],
            "properties": {
                "reference": { "type": "string", "pattern": r"^Patient/[A-Za-z0-9\-\.]{1,64}$" },
                "display": { "type": "string", "pattern": r"\S" },
            },
            "additionalProperties": false,
        }),
    );
    for t in DATATYPES {
        schemas.insert(t.name().to_owned(), datatype_schema(*t));
    }
    schemas.insert(
        "OperationOutcome".into(),
        json!({
            "type": "object",
            "description": "A FHIR R4 OperationOutcome: why a request was refused.",
            "required": ["resourceType", "issue"],
            "properties": {
                "resourceType": { "type": "string", "enum": ["OperationOutcome"] },
                "issue": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["severity", "code"],
                        "properties": {
                            "severity": { "type": "string", "enum": ["fatal", "error", "warning", "information"] },
                            "code": { "type": "string" },
                            "details": {
                                "type": "object",
                                "properties": {
                                    "coding": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "properties": {
                                                "system": { "type": "string" },
                                                "code": { "type": "string" },
                                            },
                                        },
                                    },
                                    "text": { "type": "string" },
                                },
                            },
                            "diagnostics": { "type": "string" },
                        },
                    },
                },
            },
        }),
    );
    schemas.insert(
        "CapabilityStatement".into(),
        json!({
            "type": "object",
            "description": "A FHIR R4 CapabilityStatement: what this server does.",
            "required": ["resourceType", "status", "kind", "fhirVersion", "format", "rest"],
            "properties": {
                "resourceType": { "type": "string", "enum": ["CapabilityStatement"] },
                "status": { "type": "string" },
                "date": { "type": "string" },
                "kind": { "type": "string", "enum": ["instance"] },
                "fhirVersion": { "type": "string", "enum": ["4.0.1"] },
                "format": { "type": "array", "items": { "type": "string" } },
                "rest": { "type": "array", "minItems": 1, "items": { "type": "object" } },
            },
        }),
    );
    for kind in resource::KINDS {
        schemas_of(kind, &mut schemas);
    }
    let mut responses = Map::new();
    for (status, description) in ERROR_STATUSES {
        responses.insert(
            (*status).to_owned(),
            fhir_response(description, schema_ref("OperationOutcome")),
        );
    }
    json!({
        "schemas": schemas,
        "responses": responses,
        "securitySchemes": {
            "tw_session": {
                "type": "apiKey",
                "in": "cookie",
                "name": "tw_session",
                "description": "The session cookie a sign-in sets (`__Host-tw_session` under HTTPS). \
                                Changes (POST, PUT, DELETE) must also carry an Origin header equal \
                                to the server's origin.",
            },
        },
    })
}

/// The whole OpenAPI document.
pub fn document() -> Value {
    let mut paths = Map::new();
    paths.insert(
        "/fhir/metadata".into(),
        json!({
            "get": {
                "operationId": "capabilities",
                "summary": "What this server does (CapabilityStatement)",
                "tags": ["Server"],
                "security": [],
                "responses": {
                    "200": fhir_response("The CapabilityStatement.", schema_ref("CapabilityStatement")),
                },
            },
        }),
    );
    paths.insert(
        "/fhir/openapi.json".into(),
        json!({
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["Server"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document of the FHIR API.",
                        "content": { "application/json": { "schema": { "type": "object", "required": ["openapi", "paths"] } } },
                    },
                },
            },
        }),
    );
    for kind in resource::KINDS {
        paths_of(kind, &mut paths);
    }
    let mut tags = vec![json!({ "name": "Server" })];
    tags.extend(resource::KINDS.iter().map(|k| json!({ "name": k.name })));
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Telewarden FHIR R4 API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "FHIR R4 (4.0.1) REST API, JSON only (application/fhir+json). \
                            Versions are weak ETags; every error is an OperationOutcome. \
                            Generated from the resource types the server stores.",
        },
        "tags": tags,
        "security": [{ "tw_session": [] }],
        "paths": paths,
        "components": components(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_resource_type_has_all_its_operations() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.0.3");
        assert!(!resource::KINDS.is_empty());
        for kind in resource::KINDS {
            let name = kind.name;
            let ops = [
                (format!("/fhir/{name}"), "get"),
                (format!("/fhir/{name}"), "post"),
                (format!("/fhir/{name}/{{id}}"), "get"),
                (format!("/fhir/{name}/{{id}}"), "put"),
                (format!("/fhir/{name}/{{id}}"), "delete"),
                (format!("/fhir/{name}/{{id}}/_history"), "get"),
                (format!("/fhir/{name}/{{id}}/_history/{{version}}"), "get"),
            ];
            for (path, method) in &ops {
                let op = &doc["paths"][path][method];
                assert!(op.is_object(), "{method} {path} is missing");
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{method} {path}"
                );
                for (status, r) in responses {
                    if status.starts_with('4') || status.starts_with('5') {
                        let target = r["$ref"].as_str().unwrap();
                        let name = target.rsplit('/').next().unwrap();
                        assert_eq!(
                            doc["components"]["responses"][name]["content"][FHIR_JSON]["schema"]["$ref"],
                            "#/components/schemas/OperationOutcome",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
            let search = &doc["paths"][format!("/fhir/{name}")]["get"]["parameters"];
            for p in kind.search_params {
                assert!(
                    search
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|q| q["name"] == *p && q["in"] == "query"),
                    "{name} search parameter {p}"
                );
            }
            for schema in [
                name.to_owned(),
                format!("{name}Create"),
                format!("{name}Update"),
                format!("{name}SearchBundle"),
                format!("{name}HistoryBundle"),
            ] {
                assert!(
                    doc["components"]["schemas"][&schema].is_object(),
                    "{schema}"
                );
            }
            assert_eq!(
                doc["components"]["schemas"][format!("{name}Create")]["properties"]["resourceType"]
                    ["enum"],
                json!([name])
            );
        }
    }

    #[test]
    fn request_bodies_name_the_elements_the_server_accepts() {
        let doc = document();
        for kind in resource::KINDS {
            let name = kind.name;
            for which in ["Create", "Update"] {
                let schema = &doc["components"]["schemas"][format!("{name}{which}")];
                assert_eq!(schema["additionalProperties"], false);
                let properties = schema["properties"].as_object().unwrap();
                for (element, card) in kind.elements {
                    for (element, _) in element_schemas(element, *card, 0) {
                        assert!(properties.contains_key(&element), "{name}.{element}");
                    }
                }
                // Every documented element is one the server knows (whatever it then
                // says of the value).
                for element in properties.keys() {
                    let body = json!({ "resourceType": name, element.as_str(): null });
                    if let Err(e) = kind.parse(body.to_string().as_bytes(), None) {
                        assert!(
                            !e.0.contains("no element named"),
                            "{name}{which} documents {element}: {}",
                            e.0
                        );
                    }
                }
                let required = schema["required"].as_array().unwrap();
                for choices in kind.required {
                    if let [one] = choices {
                        assert!(required.contains(&json!(one)), "{name} requires {one}");
                    }
                }
                for (element, codes) in kind.codes {
                    assert_eq!(
                        properties[*element]["enum"],
                        json!(codes),
                        "{name}.{element}"
                    );
                }
            }
        }
    }

    #[test]
    fn every_reference_resolves_and_ids_follow_fhir() {
        fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(r)) = m.get("$ref") {
                        out.push(r);
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for r in found {
            let pointer = r.strip_prefix('#').unwrap();
            assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
        }
        assert_eq!(ID_PATTERN, r"^[A-Za-z0-9\-\.]{1,64}$");
        assert!(resource::valid_id(&"a".repeat(64)) && !resource::valid_id(&"a".repeat(65)));
        // Every operationId a link names exists.
        let ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|p| p.as_object().unwrap().values())
            .filter_map(|op| op["operationId"].as_str())
            .collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "operationIds are unique");
        for kind in resource::KINDS {
            let created = &doc["paths"][format!("/fhir/{}", kind.name)]["post"]["responses"]["201"];
            for link in created["links"].as_object().unwrap().values() {
                assert!(ids.contains(&link["operationId"].as_str().unwrap()));
            }
        }
    }
}
