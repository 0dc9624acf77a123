//! FHIR R4 datatypes: what each element of a resource may hold, and the checks of a
//! value against its datatype. A resource type ([`crate::records::kinds`]) lists its
//! elements as `(name, cardinality)`, e.g. `("telecom", Many(ContactPoint))` or
//! `("deceased[x]", Choice(&[Boolean, DateTime]))`; complex datatypes and backbone
//! elements are lists of the same kind ([`Struct`]), so one walk checks a whole body.
//!
//! The rules are FHIR's JSON representation: primitives are JSON strings, numbers or
//! booleans of a fixed lexical form (FHIR forbids empty strings), a primitive's id and
//! extensions sit beside it in `_element`, complex values are objects that name only
//! their own elements (and `id`, `extension`), lists are never empty, and a choice
//! `value[x]` takes at most one of its typed names (`valueQuantity`, `valueString`…).

use serde_json::{Map, Value};

use crate::records::resource::{Invalid, invalid, valid_id};

/// A FHIR datatype.
#[derive(Debug, Clone, Copy)]
pub enum Type {
    // Primitives.
    Boolean,
    Integer,
    PositiveInt,
    UnsignedInt,
    Decimal,
    String,
    Markdown,
    Code,
    Id,
    Uri,
    Url,
    Canonical,
    Oid,
    Uuid,
    Base64Binary,
    Date,
    DateTime,
    Instant,
    Time,
    /// A Narrative's XHTML `div`.
    Xhtml,
    // Complex datatypes.
    Address,
    Age,
    Annotation,
    Attachment,
    CodeableConcept,
    Coding,
    ContactPoint,
    Duration,
    Extension,
    HumanName,
    Identifier,
    Meta,
    Narrative,
    Period,
    Quantity,
    Range,
    Ratio,
    Reference,
    SampledData,
    Timing,
    Dosage,
    /// A resource type's own part (Patient.contact, Encounter.participant…).
    Backbone(&'static Struct),
    /// A contained resource, checked as its own type.
    Resource,
}

/// How many values an element takes.
#[derive(Debug, Clone, Copy)]
pub enum Card {
    /// 0..1
    One(Type),
    /// 0..* (a JSON list)
    Many(Type),
    /// `name[x]`: 0..1 of these types, as `name<Type>` (e.g. `deceasedBoolean`).
    Choice(&'static [Type]),
}

/// One element: its name (`name[x]` for a choice) and what it holds.
pub type Element = (&'static str, Card);

/// The elements of a complex datatype or a backbone element.
#[derive(Debug)]
pub struct Struct {
    pub name: &'static str,
    pub elements: &'static [Element],
    /// Elements a value must have (`name[x]`: any of the choice).
    pub required: &'static [&'static str],
}

use Card::{Choice, Many, One};
use Type::*;

static CODEABLE_CONCEPT: Struct = Struct {
    name: "CodeableConcept",
    elements: &[("coding", Many(Coding)), ("text", One(String))],
    required: &[],
};

static CODING: Struct = Struct {
    name: "Coding",
    elements: &[
        ("system", One(Uri)),
        ("version", One(String)),
        ("code", One(Code)),
        ("display", One(String)),
        ("userSelected", One(Boolean)),
    ],
    required: &[],
};

static REFERENCE: Struct = Struct {
    name: "Reference",
    elements: &[
        ("reference", One(String)),
        ("type", One(Uri)),
        ("identifier", One(Identifier)),
        ("display", One(String)),
    ],
    required: &[],
};

static PERIOD: Struct = Struct {
    name: "Period",
    elements: &[("start", One(DateTime)), ("end", One(DateTime))],
    required: &[],
};

static IDENTIFIER: Struct = Struct {
    name: "Identifier",
    elements: &[
        ("use", One(Code)),
        ("type", One(CodeableConcept)),
        ("system", One(Uri)),
        ("value", One(String)),
        ("period", One(Period)),
        ("assigner", One(Reference)),
    ],
    required: &[],
};

static HUMAN_NAME: Struct = Struct {
    name: "HumanName",
    elements: &[
        ("use", One(Code)),
        ("text", One(String)),
        ("family", One(String)),
        ("given", Many(String)),
        ("prefix", Many(String)),
        ("suffix", Many(String)),
        ("period", One(Period)),
    ],
    required: &[],
};

static CONTACT_POINT: Struct = Struct {
    name: "ContactPoint",
    elements: &[
        ("system", One(Code)),
        ("value", One(String)),
        ("use", One(Code)),
        ("rank", One(PositiveInt)),
        ("period", One(Period)),
    ],
    required: &[],
};

static ADDRESS: Struct = Struct {
    name: "Address",
    elements: &[
        ("use", One(Code)),
        ("type", One(Code)),
        ("text", One(String)),
        ("line", Many(String)),
        ("city", One(String)),
        ("district", One(String)),
        ("state", One(String)),
        ("postalCode", One(String)),
        ("country", One(String)),
        ("period", One(Period)),
    ],
    required: &[],
};

/// Quantity, and Age and Duration, which are Quantities.
static QUANTITY: Struct = Struct {
    name: "Quantity",
    elements: &[
        ("value", One(Decimal)),
        ("comparator", One(Code)),
        ("unit", One(String)),
        ("system", One(Uri)),
        ("code", One(Code)),
    ],
    required: &[],
};

static RANGE: Struct = Struct {
    name: "Range",
    elements: &[("low", One(Quantity)), ("high", One(Quantity))],
    required: &[],
};

static RATIO: Struct = Struct {
    name: "Ratio",
    elements: &[("numerator", One(Quantity)), ("denominator", One(Quantity))],
    required: &[],
};

static ANNOTATION: Struct = Struct {
    name: "Annotation",
    elements: &[
        ("author[x]", Choice(&[Reference, String])),
        ("time", One(DateTime)),
        ("text", One(Markdown)),
    ],
    required: &["text"],
};

static ATTACHMENT: Struct = Struct {
    name: "Attachment",
    elements: &[
        ("contentType", One(Code)),
        ("language", One(Code)),
        ("data", One(Base64Binary)),
        ("url", One(Url)),
        ("size", One(UnsignedInt)),
        ("hash", One(Base64Binary)),
        ("title", One(String)),
        ("creation", One(DateTime)),
    ],
    required: &[],
};

static NARRATIVE: Struct = Struct {
    name: "Narrative",
    elements: &[("status", One(Code)), ("div", One(Xhtml))],
    required: &["status", "div"],
};

/// The types an extension's `value[x]` takes here (FHIR R4's open type, less the
/// metadata types no record needs).
pub static EXTENSION_VALUES: &[Type] = &[
    Base64Binary,
    Boolean,
    Canonical,
    Code,
    Date,
    DateTime,
    Decimal,
    Id,
    Instant,
    Integer,
    Markdown,
    Oid,
    PositiveInt,
    String,
    Time,
    UnsignedInt,
    Uri,
    Url,
    Uuid,
    Address,
    Age,
    Annotation,
    Attachment,
    CodeableConcept,
    Coding,
    ContactPoint,
    Duration,
    HumanName,
    Identifier,
    Period,
    Quantity,
    Range,
    Ratio,
    Reference,
    SampledData,
    Timing,
    Dosage,
];

static EXTENSION: Struct = Struct {
    name: "Extension",
    elements: &[("url", One(Uri)), ("value[x]", Choice(EXTENSION_VALUES))],
    required: &["url"],
};

static META: Struct = Struct {
    name: "Meta",
    elements: &[
        ("versionId", One(Id)),
        ("lastUpdated", One(Instant)),
        ("source", One(Uri)),
        ("profile", Many(Canonical)),
        ("security", Many(Coding)),
        ("tag", Many(Coding)),
    ],
    required: &[],
};

static SAMPLED_DATA: Struct = Struct {
    name: "SampledData",
    elements: &[
        ("origin", One(Quantity)),
        ("period", One(Decimal)),
        ("factor", One(Decimal)),
        ("lowerLimit", One(Decimal)),
        ("upperLimit", One(Decimal)),
        ("dimensions", One(PositiveInt)),
        ("data", One(String)),
    ],
    required: &["origin", "period", "dimensions"],
};

static TIMING: Struct = Struct {
    name: "Timing",
    elements: &[
        ("event", Many(DateTime)),
        ("repeat", One(Backbone(&TIMING_REPEAT))),
        ("code", One(CodeableConcept)),
    ],
    required: &[],
};

static TIMING_REPEAT: Struct = Struct {
    name: "Timing.repeat",
    elements: &[
        ("bounds[x]", Choice(&[Duration, Range, Period])),
        ("count", One(PositiveInt)),
        ("countMax", One(PositiveInt)),
        ("duration", One(Decimal)),
        ("durationMax", One(Decimal)),
        ("durationUnit", One(Code)),
        ("frequency", One(PositiveInt)),
        ("frequencyMax", One(PositiveInt)),
        ("period", One(Decimal)),
        ("periodMax", One(Decimal)),
        ("periodUnit", One(Code)),
        ("dayOfWeek", Many(Code)),
        ("timeOfDay", Many(Time)),
        ("when", Many(Code)),
        ("offset", One(UnsignedInt)),
    ],
    required: &[],
};

static DOSAGE: Struct = Struct {
    name: "Dosage",
    elements: &[
        ("sequence", One(Integer)),
        ("text", One(String)),
        ("additionalInstruction", Many(CodeableConcept)),
        ("patientInstruction", One(String)),
        ("timing", One(Timing)),
        ("asNeeded[x]", Choice(&[Boolean, CodeableConcept])),
        ("site", One(CodeableConcept)),
        ("route", One(CodeableConcept)),
        ("method", One(CodeableConcept)),
        ("doseAndRate", Many(Backbone(&DOSAGE_DOSE_AND_RATE))),
        ("maxDosePerPeriod", One(Ratio)),
        ("maxDosePerAdministration", One(Quantity)),
        ("maxDosePerLifetime", One(Quantity)),
    ],
    required: &[],
};

static DOSAGE_DOSE_AND_RATE: Struct = Struct {
    name: "Dosage.doseAndRate",
    elements: &[
        ("type", One(CodeableConcept)),
        ("dose[x]", Choice(&[Range, Quantity])),
        ("rate[x]", Choice(&[Ratio, Range, Quantity])),
    ],
    required: &[],
};

/// A Narrative's status.
const NARRATIVE_STATUS: &[&str] = &["generated", "extensions", "additional", "empty"];

impl Type {
    /// The FHIR name, as a choice element spells it (`valueCodeableConcept`).
    pub fn name(self) -> &'static str {
        match self {
            Boolean => "Boolean",
            Integer => "Integer",
            PositiveInt => "PositiveInt",
            UnsignedInt => "UnsignedInt",
            Decimal => "Decimal",
            String => "String",
            Markdown => "Markdown",
            Code => "Code",
            Id => "Id",
            Uri => "Uri",
            Url => "Url",
            Canonical => "Canonical",
            Oid => "Oid",
            Uuid => "Uuid",
            Base64Binary => "Base64Binary",
            Date => "Date",
            DateTime => "DateTime",
            Instant => "Instant",
            Time => "Time",
            Xhtml => "Xhtml",
            Address => "Address",
            Age => "Age",
            Annotation => "Annotation",
            Attachment => "Attachment",
            CodeableConcept => "CodeableConcept",
            Coding => "Coding",
            ContactPoint => "ContactPoint",
            Duration => "Duration",
            Extension => "Extension",
            HumanName => "HumanName",
            Identifier => "Identifier",
            Meta => "Meta",
            Narrative => "Narrative",
            Period => "Period",
            Quantity => "Quantity",
            Range => "Range",
            Ratio => "Ratio",
            Reference => "Reference",
            SampledData => "SampledData",
            Timing => "Timing",
            Dosage => "Dosage",
            Backbone(s) => s.name,
            Resource => "Resource",
        }
    }

    /// The elements of a complex type (None for primitives and contained resources).
    pub fn structure(self) -> Option<&'static Struct> {
        Some(match self {
            Address => &ADDRESS,
            Age | Duration | Quantity => &QUANTITY,
            Annotation => &ANNOTATION,
            Attachment => &ATTACHMENT,
            CodeableConcept => &CODEABLE_CONCEPT,
            Coding => &CODING,
            ContactPoint => &CONTACT_POINT,
            Extension => &EXTENSION,
            HumanName => &HUMAN_NAME,
            Identifier => &IDENTIFIER,
            Meta => &META,
            Narrative => &NARRATIVE,
            Period => &PERIOD,
            Range => &RANGE,
            Ratio => &RATIO,
            Reference => &REFERENCE,
            SampledData => &SAMPLED_DATA,
            Timing => &TIMING,
            Dosage => &DOSAGE,
            Backbone(s) => s,
            _ => return None,
        })
    }

    /// Whether values are JSON primitives (and so may have an `_element` sibling).
    pub fn is_primitive(self) -> bool {
        self.structure().is_none() && !matches!(self, Resource)
    }

    /// Whether values may carry modifierExtension (backbone elements, Timing, Dosage).
    fn modifiable(self) -> bool {
        matches!(self, Backbone(_) | Timing | Dosage)
    }
}

/// Which of the elements every element may carry a value may have.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Common {
    /// `id` (an element's id; a resource's is one of its elements).
    pub id: bool,
    pub extension: bool,
    pub modifier_extension: bool,
}

/// What an element name in a body stands for: its cardinality, with a choice's typed
/// name (`deceasedBoolean`) resolved to that one type.
pub(crate) fn find(lists: &[&'static [Element]], key: &str) -> Option<Card> {
    for list in lists {
        for (name, card) in *list {
            if let Some(prefix) = name.strip_suffix("[x]") {
                if let (Some(rest), Choice(types)) = (key.strip_prefix(prefix), card)
                    && let Some(t) = types.iter().find(|t| t.name() == rest)
                {
                    return Some(One(*t));
                }
            } else if *name == key {
                return Some(*card);
            }
        }
    }
    None
}

fn join(path: &str, name: &str) -> std::string::String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

/// Whether a value counts as given (null and empty lists do not).
pub(crate) fn present(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    }
}

/// Checks an object's elements against `lists`: every key known (else the error says
/// `<what> has no element named …`), every value of its datatype, at most one name of
/// each choice, and the `required` ones present. `path` prefixes element names in errors.
pub(crate) fn check_object(
    object: &Map<std::string::String, Value>,
    lists: &[&'static [Element]],
    required: &[&str],
    common: Common,
    path: &str,
    what: &str,
) -> Result<(), Invalid> {
    let mut unknown: Vec<&str> = Vec::new();
    for (key, value) in object {
        let here = join(path, key);
        match key.as_str() {
            "id" if common.id => {
                check_card(value, One(String), &here)?;
                continue;
            }
            "extension" if common.extension => {
                check_card(value, Many(Extension), &here)?;
                continue;
            }
            "modifierExtension" if common.modifier_extension => {
                check_card(value, Many(Extension), &here)?;
                continue;
            }
            _ => {}
        }
        if let Some(name) = key.strip_prefix('_') {
            let primitive = if matches!(name, "id") && common.id {
                Some(One(String))
            } else {
                find(lists, name)
            };
            match primitive {
                Some(card @ (One(t) | Many(t))) if t.is_primitive() => {
                    check_primitive_extras(value, object.get(name), card, &here)?;
                }
                _ => unknown.push(key),
            }
            continue;
        }
        match find(lists, key) {
            Some(card) => check_card(value, card, &here)?,
            None => unknown.push(key),
        }
    }
    if !unknown.is_empty() {
        return Err(invalid(format!(
            "{what} has no element named {}.",
            unknown.join(", ")
        )));
    }
    for list in lists {
        for (name, card) in *list {
            if let (Some(prefix), Choice(types)) = (name.strip_suffix("[x]"), card) {
                let given: Vec<std::string::String> = types
                    .iter()
                    .map(|t| format!("{prefix}{}", t.name()))
                    .filter(|n| present(object.get(n)))
                    .collect();
                if given.len() > 1 {
                    return Err(invalid(format!(
                        "{} takes one value, not several ({}).",
                        join(path, name),
                        given.join(", ")
                    )));
                }
            }
        }
    }
    for name in required {
        let given = match name.strip_suffix("[x]") {
            Some(prefix) => object
                .iter()
                .any(|(k, v)| k.starts_with(prefix) && present(Some(v))),
            None => present(object.get(*name)),
        };
        if !given {
            return Err(invalid(format!("{} is required.", join(path, name))));
        }
    }
    Ok(())
}

/// A value of an element of cardinality `card` (null is no value).
pub(crate) fn check_card(value: &Value, card: Card, path: &str) -> Result<(), Invalid> {
    match (card, value) {
        (_, Value::Null) => Ok(()),
        (One(t), v) => check_value(v, t, path),
        (Many(t), Value::Array(items)) => {
            if items.is_empty() {
                return Err(invalid(format!(
                    "{path} must not be an empty list: leave it out."
                )));
            }
            for (i, item) in items.iter().enumerate() {
                let here = format!("{path}[{i}]");
                if item.is_null() {
                    return Err(invalid(format!("{here} must not be null.")));
                }
                check_value(item, t, &here)?;
            }
            Ok(())
        }
        (Many(t), _) => Err(invalid(format!("{path} must be a list of {}.", t.name()))),
        (Choice(_), _) => Err(invalid(format!(
            "{path} names a choice: use its typed name."
        ))),
    }
}

/// `_element`: a primitive's id and extensions (a list of them, or nulls, for a list).
fn check_primitive_extras(
    value: &Value,
    sibling: Option<&Value>,
    card: Card,
    path: &str,
) -> Result<(), Invalid> {
    let one = |v: &Value, path: &str| -> Result<(), Invalid> {
        let bad = || {
            invalid(format!(
                "{path} must be an object with the id and/or extension of its primitive."
            ))
        };
        let Value::Object(o) = v else {
            return Err(bad());
        };
        if o.is_empty() {
            return Err(bad());
        }
        check_object(
            o,
            &[],
            &[],
            Common {
                id: true,
                extension: true,
                modifier_extension: false,
            },
            path,
            path,
        )
    };
    match (card, value) {
        (_, Value::Null) => Ok(()),
        (Many(_), Value::Array(items)) => {
            if items.is_empty() || items.iter().all(Value::is_null) {
                return Err(invalid(format!("{path} must not be empty: leave it out.")));
            }
            if let Some(Value::Array(values)) = sibling
                && values.len() != items.len()
            {
                return Err(invalid(format!(
                    "{path} must have one entry (or null) per value."
                )));
            }
            for (i, item) in items.iter().enumerate() {
                if !item.is_null() {
                    one(item, &format!("{path}[{i}]"))?;
                }
            }
            Ok(())
        }
        (Many(_), _) => Err(invalid(format!(
            "{path} must be a list of objects (or nulls), one per value."
        ))),
        (_, v) => one(v, path),
    }
}

/// One value of datatype `t`.
pub(crate) fn check_value(value: &Value, t: Type, path: &str) -> Result<(), Invalid> {
    if let Resource = t {
        let Value::Object(o) = value else {
            return Err(invalid(format!("{path} must be an object (a resource).")));
        };
        return crate::records::resource::check_contained(o, path);
    }
    let Some(s) = t.structure() else {
        return check_primitive(value, t, path);
    };
    let Value::Object(o) = value else {
        return Err(invalid(format!(
            "{path} must be an object (a {}).",
            t.name()
        )));
    };
    if o.is_empty() {
        return Err(invalid(format!("{path} must not be empty: leave it out.")));
    }
    check_object(
        o,
        &[s.elements],
        s.required,
        Common {
            id: true,
            extension: true,
            modifier_extension: t.modifiable(),
        },
        path,
        path,
    )?;
    match t {
        Narrative => {
            if let Some(Value::String(status)) = o.get("status")
                && !NARRATIVE_STATUS.contains(&status.as_str())
            {
                return Err(invalid(format!(
                    "{path}.status is one of {}.",
                    NARRATIVE_STATUS.join(", ")
                )));
            }
        }
        Extension => {
            let has_value = o
                .iter()
                .any(|(k, v)| k.starts_with("value") && present(Some(v)));
            let has_extensions = present(o.get("extension"));
            if has_value == has_extensions {
                return Err(invalid(format!(
                    "{path} has either one value[x] or nested extensions (not both, not neither)."
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

/// White space FHIR's text does not take: all but space, tab, carriage return and line
/// feed (FHIR's string is `[ \r\n\t\S]+`), and control characters.
fn odd_char(c: char) -> bool {
    (c.is_whitespace() || c.is_control() || ('\u{1c}'..='\u{1f}').contains(&c))
        && !matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Non-empty text with something other than white space, and no odd characters.
fn valid_string(s: &str) -> bool {
    !s.trim().is_empty() && !s.chars().any(odd_char)
}

/// A code: no leading or trailing white space, single spaces within.
pub(crate) fn valid_code(s: &str) -> bool {
    !s.is_empty()
        && s.split(' ')
            .all(|part| !part.is_empty() && !part.chars().any(|c| c.is_whitespace() || odd_char(c)))
}

fn valid_uri(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn valid_oid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:oid:") else {
        return false;
    };
    let arcs: Vec<&str> = rest.split('.').collect();
    arcs.len() >= 2
        && matches!(arcs[0], "0" | "1" | "2")
        && arcs.iter().all(|a| {
            !a.is_empty()
                && a.bytes().all(|b| b.is_ascii_digit())
                && (a.len() == 1 || !a.starts_with('0'))
        })
}

fn valid_uuid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let groups: Vec<&str> = rest.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (a real date, year 0001 or later).
pub(crate) fn valid_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let year = |y: &str| digits(y, 4).is_some_and(|y| y >= 1);
    match parts.as_slice() {
        [y] => year(y),
        [y, m] => year(y) && digits(m, 2).is_some_and(|m| (1..=12).contains(&m)),
        [y, _, _] => year(y) && jiff::civil::Date::strptime("%Y-%m-%d", text).is_ok(),
        _ => false,
    }
}

/// `hh:mm:ss` with optional fractions of a second (no leap seconds, no 24:00).
pub(crate) fn valid_time(text: &str) -> bool {
    let (hms, fraction) = match text.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (text, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let parts: Vec<&str> = hms.split(':').collect();
    match parts.as_slice() {
        [h, m, s] => {
            digits(h, 2).is_some_and(|h| h < 24)
                && digits(m, 2).is_some_and(|m| m < 60)
                && digits(s, 2).is_some_and(|s| s < 60)
        }
        _ => false,
    }
}

/// A full time with its offset: `YYYY-MM-DDThh:mm:ss(.s…)(Z|±hh:mm)` (FHIR's instant).
pub(crate) fn valid_instant(text: &str) -> bool {
    let Some((date, time)) = text.split_once('T') else {
        return false;
    };
    if date.len() != 10 || !valid_date(date) {
        return false;
    }
    let (clock, offset) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, None)
    } else if time.len() > 6 {
        let (clock, offset) = time.split_at(time.len() - 6);
        (clock, Some(offset))
    } else {
        return false;
    };
    let offset_ok = match offset {
        None => true,
        Some(o) => {
            let (sign, hm) = o.split_at(1);
            let parts: Vec<&str> = hm.split(':').collect();
            matches!(sign, "+" | "-")
                && match parts.as_slice() {
                    [h, m] => match (digits(h, 2), digits(m, 2)) {
                        (Some(h), Some(m)) => (h < 14 && m < 60) || (h == 14 && m == 0),
                        _ => false,
                    },
                    _ => false,
                }
        }
    };
    offset_ok && valid_time(clock)
}

/// A FHIR dateTime: a date as [`valid_date`], or a full time with its offset.
pub(crate) fn valid_date_time(text: &str) -> bool {
    if text.contains('T') {
        valid_instant(text)
    } else {
        valid_date(text)
    }
}

fn check_primitive(value: &Value, t: Type, path: &str) -> Result<(), Invalid> {
    // A string-valued primitive: the check of its text, and what it must be.
    let text = |good: fn(&str) -> bool, why: &str| {
        if value.as_str().is_some_and(good) {
            Ok(())
        } else {
            Err(invalid(format!("{path} {why}")))
        }
    };
    let whole = |min: i64| -> Result<(), Invalid> {
        match value.as_i64() {
            Some(n) if (min..=i64::from(i32::MAX)).contains(&n) => Ok(()),
            _ => Err(invalid(format!(
                "{path} must be a whole number from {min} to {} (a JSON number without a fraction).",
                i32::MAX
            ))),
        }
    };
    let json = |good: bool, why: &str| {
        if good {
            Ok(())
        } else {
            Err(invalid(format!("{path} {why}")))
        }
    };
    match t {
        Boolean => json(value.is_boolean(), "must be true or false."),
        Integer => whole(i64::from(i32::MIN)),
        PositiveInt => whole(1),
        UnsignedInt => whole(0),
        Decimal => json(value.is_number(), "must be a number (a JSON number)."),
        String | Markdown => text(
            valid_string,
            "must be text: not empty, not only spaces, no control characters.",
        ),
        Code => text(
            valid_code,
            "must be a code: text without leading, trailing or double spaces.",
        ),
        Id => text(valid_id, "must be an id: 1 to 64 of A-Z, a-z, 0-9, - and ."),
        Uri | Url | Canonical => text(valid_uri, "must be a URI: text without spaces."),
        Oid => text(valid_oid, "must be an OID: urn:oid:1.2.3…"),
        Uuid => text(
            valid_uuid,
            "must be a UUID: urn:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.",
        ),
        Base64Binary => text(valid_base64, "must be base64."),
        Date => text(valid_date, "is a date: YYYY-MM-DD (or YYYY-MM, or YYYY)."),
        DateTime => text(
            valid_date_time,
            "is a dateTime: a date (2026-11-28, 2026-11 or 2026) or a full time with its offset (2026-11-28T09:30:00+11:00).",
        ),
        Instant => text(
            valid_instant,
            "is an instant: a full time with its offset (2026-11-28T09:30:00+11:00).",
        ),
        Time => text(valid_time, "is a time: hh:mm:ss (09:30:00)."),
        Xhtml => text(
            valid_xhtml,
            "must be XHTML: <div xmlns=\"http://www.w3.org/1999/xhtml\">…</div>.",
        ),
        _ => Ok(()),
    }
}

fn valid_base64(s: &str) -> bool {
    use base64::Engine as _;
    !s.is_empty() && base64::engine::general_purpose::STANDARD.decode(s).is_ok()
}

/// A Narrative's div, as far as checked here: `<div …>…</div>`.
fn valid_xhtml(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("<div") && s.ends_with("</div>")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ok(t: Type, v: Value) {
        assert!(check_value(&v, t, "x").is_ok(), "{t:?} should take {v}");
    }

    fn bad(t: Type, v: Value, why: &str) {
        let err = check_value(&v, t, "x").expect_err(&format!("{t:?} should refuse {v}"));
        assert!(err.0.contains(why), "{t:?} {v}: {}", err.0);
    }

    #[test]
    fn primitives_take_their_lexical_forms_only() {
        let cases: &[(Type, &[Value], &[Value])] = &[
            (
                Boolean,
                &[json!(true), json!(false)],
                &[json!("true"), json!(1)],
            ),
            (
                Integer,
                &[json!(0), json!(-5), json!(2_147_483_647)],
                &[json!(1.5), json!("3"), json!(2_147_483_648_i64), json!(5.0)],
            ),
            (PositiveInt, &[json!(1)], &[json!(0), json!(-1)]),
            (
                UnsignedInt,
                &[json!(0), json!(7)],
                &[json!(-1), json!(true)],
            ),
            (
                Decimal,
                &[json!(1.5), json!(-2), json!(0)],
                &[json!("1.5"), json!(null)],
            ),
            (
                String,
                &[json!("Wiremu"), json!("two\nlines")],
                &[
                    json!(""),
                    json!("   "),
                    json!(5),
                    json!("bell\u{7}"),
                    json!("nbsp\u{a0}"),
                    json!("tab\u{b}"),
                ],
            ),
            (Markdown, &[json!("**yes**")], &[json!("")]),
            (
                Code,
                &[json!("final"), json!("in-progress"), json!("a b")],
                &[
                    json!(""),
                    json!(" a"),
                    json!("a "),
                    json!("a  b"),
                    json!("a\tb"),
                    json!(false),
                ],
            ),
            (
                Id,
                &[json!("a-1.B")],
                &[json!("a/b"), json!(""), json!("a".repeat(65))],
            ),
            (
                Uri,
                &[json!("http://loinc.org"), json!("urn:x")],
                &[json!("a b"), json!("")],
            ),
            (
                Url,
                &[json!("https://x.example/a")],
                &[json!("https://x .example")],
            ),
            (
                Canonical,
                &[json!("http://hl7.org/fhir/StructureDefinition/x|4.0.1")],
                &[json!(" ")],
            ),
            (
                Oid,
                &[json!("urn:oid:1.2.36.1")],
                &[json!("urn:oid:3.1"), json!("1.2.3"), json!("urn:oid:1.02")],
            ),
            (
                Uuid,
                &[json!("urn:uuid:c757873d-ec9a-4326-a141-556f43239520")],
                &[
                    json!("c757873d-ec9a-4326-a141-556f43239520"),
                    json!("urn:uuid:xyz"),
                ],
            ),
            (
                Base64Binary,
                &[json!("YWJj"), json!("YQ==")],
                &[json!("abc"), json!(""), json!("YW Jj")],
            ),
            (
                Date,
                &[
                    json!("1950"),
                    json!("1950-02"),
                    json!("1950-02-28"),
                    json!("2024-02-29"),
                ],
                &[
                    json!("0000"),
                    json!("1950-13"),
                    json!("1950-02-30"),
                    json!("28/02/1950"),
                    json!("1950-02-28T00:00:00Z"),
                    json!(1950),
                ],
            ),
            (
                DateTime,
                &[
                    json!("2026"),
                    json!("2026-11-28"),
                    json!("2026-11-28T09:30:00+11:00"),
                    json!("2026-11-28T09:30:00.123Z"),
                    json!("2026-11-28T09:30:00-14:00"),
                ],
                &[
                    json!("2026-11-28T09:30+11:00"),
                    json!("2026-11-28T09:30:00"),
                    json!("2026-11-28T24:00:00Z"),
                    json!("2026-11-28T09:30:60Z"),
                    json!("2026-11-28T09:30:00+15:00"),
                    json!("2026-11T09:30:00Z"),
                    json!({ "start": "2026-11-28" }),
                ],
            ),
            (
                Instant,
                &[
                    json!("2026-11-28T09:30:00Z"),
                    json!("2026-11-28T09:30:00.5+05:30"),
                ],
                &[json!("2026-11-28"), json!("2026-11-28T09:30:00")],
            ),
            (
                Time,
                &[json!("09:30:00"), json!("23:59:59.999")],
                &[json!("09:30"), json!("24:00:00"), json!("9:30:00")],
            ),
            (
                Xhtml,
                &[json!(
                    "<div xmlns=\"http://www.w3.org/1999/xhtml\">Hi</div>"
                )],
                &[json!("Hi"), json!("<p>Hi</p>")],
            ),
        ];
        for (t, good, bads) in cases {
            for v in *good {
                ok(*t, v.clone());
            }
            for v in *bads {
                assert!(check_value(v, *t, "x").is_err(), "{t:?} should refuse {v}");
            }
        }
        bad(
            Instant,
            json!("2026-11-28"),
            "x is an instant: a full time with its offset",
        );
        bad(String, json!(""), "x must be text");
        bad(Date, json!("1950-02-30"), "x is a date");
    }

    #[test]
    fn complex_types_name_only_their_elements() {
        ok(
            CodeableConcept,
            json!({ "coding": [{ "system": "http://loinc.org", "code": "8867-4" }], "text": "Heart rate" }),
        );
        bad(
            CodeableConcept,
            json!(false),
            "x must be an object (a CodeableConcept)",
        );
        bad(CodeableConcept, json!({}), "must not be empty");
        bad(
            CodeableConcept,
            json!({ "coding": { "code": "a" } }),
            "x.coding must be a list of Coding",
        );
        bad(
            CodeableConcept,
            json!({ "coding": [] }),
            "x.coding must not be an empty list",
        );
        bad(
            CodeableConcept,
            json!({ "coding": [null] }),
            "x.coding[0] must not be null",
        );
        bad(
            Coding,
            json!({ "code": "a", "colour": "red" }),
            "x has no element named colour",
        );
        ok(
            Reference,
            json!({ "reference": "Patient/1", "display": "Wiremu", "id": "r1" }),
        );
        bad(
            Reference,
            json!({ "reference": "Patient/1", "extra": 1 }),
            "no element named extra",
        );
        bad(
            Reference,
            json!({ "reference": "" }),
            "x.reference must be text",
        );
        ok(
            Period,
            json!({ "start": "2026-11-28", "end": "2026-11-28T10:00:00Z" }),
        );
        bad(
            Period,
            json!("2026-11-28"),
            "x must be an object (a Period)",
        );
        bad(Period, json!({ "start": "soon" }), "x.start is a dateTime");
        ok(
            Identifier,
            json!({ "system": "urn:x", "value": "1", "assigner": { "display": "AIHW" } }),
        );
        ok(
            HumanName,
            json!({ "family": "Okonkwo", "given": ["Wiremu", "Tane"], "use": "official" }),
        );
        bad(
            HumanName,
            json!({ "given": "Wiremu" }),
            "x.given must be a list of String",
        );
        bad(HumanName, json!({ "family": "" }), "x.family must be text");
        ok(
            ContactPoint,
            json!({ "system": "phone", "value": "0400 000 000", "rank": 1 }),
        );
        bad(
            ContactPoint,
            json!({ "rank": 0 }),
            "x.rank must be a whole number from 1",
        );
        ok(
            Address,
            json!({ "line": ["1 Main St"], "city": "Hobart", "postalCode": "7000" }),
        );
        ok(
            Quantity,
            json!({ "value": 72, "unit": "beats/min", "system": "http://unitsofmeasure.org", "code": "/min" }),
        );
        bad(
            Quantity,
            json!({ "value": "72" }),
            "x.value must be a number",
        );
        ok(Age, json!({ "value": 40, "unit": "a" }));
        ok(
            Range,
            json!({ "low": { "value": 1 }, "high": { "value": 2 } }),
        );
        ok(
            Ratio,
            json!({ "numerator": { "value": 1 }, "denominator": { "value": 2 } }),
        );
        ok(
            Annotation,
            json!({ "text": "Seen", "authorString": "Dr A", "time": "2026-11-28" }),
        );
        bad(
            Annotation,
            json!({ "authorString": "Dr A" }),
            "x.text is required",
        );
        bad(
            Annotation,
            json!({ "text": "a", "authorString": "Dr A", "authorReference": { "display": "B" } }),
            "x.author[x] takes one value",
        );
        ok(
            Attachment,
            json!({ "contentType": "application/pdf", "data": "YWJj", "size": 3 }),
        );
        bad(
            Attachment,
            json!({ "size": -1 }),
            "x.size must be a whole number from 0",
        );
        ok(
            Narrative,
            json!({ "status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Hi</div>" }),
        );
        bad(
            Narrative,
            json!({ "status": "made-up", "div": "<div>Hi</div>" }),
            "x.status is one of",
        );
        bad(
            Narrative,
            json!({ "status": "generated" }),
            "x.div is required",
        );
        ok(
            Extension,
            json!({ "url": "http://x.example/e", "valueString": "a" }),
        );
        ok(
            Extension,
            json!({ "url": "http://x.example/e", "extension": [{ "url": "a", "valueBoolean": true }] }),
        );
        bad(
            Extension,
            json!({ "valueString": "a" }),
            "x.url is required",
        );
        bad(
            Extension,
            json!({ "url": "http://x.example/e" }),
            "one value[x] or nested extensions",
        );
        bad(
            Extension,
            json!({ "url": "u", "valueString": "a", "valueBoolean": true }),
            "takes one value",
        );
        bad(
            Extension,
            json!({ "url": "u", "valueNope": 1 }),
            "no element named valueNope",
        );
        ok(
            Timing,
            json!({ "repeat": { "frequency": 2, "period": 1, "periodUnit": "d", "timeOfDay": ["08:00:00"] } }),
        );
        bad(
            Timing,
            json!({ "repeat": { "timeOfDay": ["8am"] } }),
            "x.repeat.timeOfDay[0] is a time",
        );
        ok(
            Dosage,
            json!({ "text": "1 tablet daily", "doseAndRate": [{ "doseQuantity": { "value": 1 } }], "modifierExtension": [{ "url": "u", "valueBoolean": true }] }),
        );
        bad(
            Coding,
            json!({ "code": "a", "modifierExtension": [{ "url": "u", "valueBoolean": true }] }),
            "no element named modifierExtension",
        );
        ok(
            SampledData,
            json!({ "origin": { "value": 0 }, "period": 10, "dimensions": 1, "data": "1 2 3" }),
        );
        bad(
            SampledData,
            json!({ "origin": { "value": 0 }, "period": 10 }),
            "x.dimensions is required",
        );
    }

    #[test]
    fn primitive_siblings_carry_only_an_id_and_extensions() {
        ok(
            HumanName,
            json!({ "family": "O", "_family": { "extension": [{ "url": "u", "valueString": "a" }] } }),
        );
        ok(
            HumanName,
            json!({ "given": ["A", "B"], "_given": [null, { "id": "g2" }] }),
        );
        bad(
            HumanName,
            json!({ "_family": 5 }),
            "x._family must be an object",
        );
        bad(
            HumanName,
            json!({ "_family": {} }),
            "x._family must be an object",
        );
        bad(
            HumanName,
            json!({ "_family": { "colour": "red" } }),
            "no element named colour",
        );
        bad(
            HumanName,
            json!({ "given": ["A"], "_given": [null, { "id": "g" }] }),
            "one entry (or null) per value",
        );
        bad(
            HumanName,
            json!({ "_period": { "id": "p" } }),
            "no element named _period",
        );
        bad(
            HumanName,
            json!({ "_nope": { "id": "p" } }),
            "no element named _nope",
        );
    }

    #[test]
    fn element_lookup_resolves_choices() {
        let list: &'static [Element] = &[
            ("deceased[x]", Choice(&[Boolean, DateTime])),
            ("name", Many(HumanName)),
        ];
        assert!(matches!(
            find(&[list], "deceasedBoolean"),
            Some(One(Boolean))
        ));
        assert!(matches!(
            find(&[list], "deceasedDateTime"),
            Some(One(DateTime))
        ));
        assert!(find(&[list], "deceased").is_none());
        assert!(find(&[list], "deceasedString").is_none());
        assert!(matches!(find(&[list], "name"), Some(Many(HumanName))));
    }
}
