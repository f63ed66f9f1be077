//! Validates JSON documents against the schema files beside this one
//! (`v2/*.json`), for tests: a test binary takes it in with
//! `#[path = "<path to>/schema/validate.rs"] mod schema;`. The schema is
//! picked by the document's top-level member (`services`: table,
//! `connections`, `timeouts`, `daemons`, `steps`: plan).
#![allow(dead_code)] // each test binary uses its own part

use serde_json::Value;

/// Where the schema files say they live (their `$id`s).
pub const BASE: &str = "https://github.com/ipvs-rs/ipvs-rs/raw/main/schema/v2/";

/// Each schema file: its name and text.
pub const SCHEMAS: [(&str, &str); 5] = [
    ("table", include_str!("v2/table.json")),
    ("connections", include_str!("v2/connections.json")),
    ("timeouts", include_str!("v2/timeouts.json")),
    ("daemons", include_str!("v2/daemons.json")),
    ("plan", include_str!("v2/plan.json")),
];

/// The schema of a document, by its top-level member.
pub fn schema_of(doc: &Value) -> Option<&'static str> {
    [
        ("services", "table"),
        ("connections", "connections"),
        ("timeouts", "timeouts"),
        ("daemons", "daemons"),
        ("steps", "plan"),
    ]
    .into_iter()
    .find(|(member, _)| doc.get(member).is_some())
    .map(|(_, schema)| schema)
}

/// Checks `doc` against the schema `name` (formats such as `ipv4`
/// included): every error, with the path of the value.
pub fn check(name: &str, doc: &Value) -> Result<(), String> {
    let registry = jsonschema::Registry::new()
        .extend(SCHEMAS.iter().map(|(n, text)| {
            let schema: Value = serde_json::from_str(text).expect("a schema file is JSON");
            (format!("{BASE}{n}.json"), schema)
        }))
        .and_then(|b| b.prepare())
        .map_err(|e| format!("the schema files: {e}"))?;
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&serde_json::json!({"$ref": format!("{BASE}{name}.json")}))
        .map_err(|e| format!("schema {name}: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not a valid {name} document:\n{}",
            errors.join("\n")
        ))
    }
}

/// Parses a document that a program printed and checks it against its
/// schema; panics, saying why and showing the text, if it is not JSON, has
/// no known top-level member, or does not validate.
pub fn validated(text: &str) -> Value {
    let doc: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    let name = schema_of(&doc).unwrap_or_else(|| panic!("no schema for this document:\n{text}"));
    if let Err(e) = check(name, &doc) {
        panic!("{e}\n{text}");
    }
    doc
}
