//! The JSON Schema of manifest v1, derived from the typed model.
//!
//! One schema serves three purposes, so they cannot drift apart: `ecsd schema` prints it
//! for editors, `crate::check` walks it to report structural errors (types, unknown and
//! missing fields, enums, ranges) with positions, and the typed model it is derived from
//! is what the rest of ecsd uses.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::manifest::{API_VERSION, Kind, Metadata};
use crate::scaling_policy::ScalingPolicySpec;
use crate::service::ServiceSpec;
use crate::target::{TARGET_KIND, TargetSpec};
use crate::target_group::TargetGroupSpec;

/// The schema's `$id`. The schema itself ships in the repository as
/// `docs/schema/manifest-v1.json` and is printed by `ecsd schema`.
pub const SCHEMA_ID: &str = "urn:ecsd:manifest:v1";

/// The draft-07 JSON Schema of one manifest document (what the YAML language server reads).
pub fn json_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(build)
}

/// The schema definitions (`#/definitions/...`), which `$ref`s point into.
pub(crate) fn definitions() -> &'static Map<String, Value> {
    static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
    json_schema()
        .get("definitions")
        .and_then(Value::as_object)
        .unwrap_or_else(|| EMPTY.get_or_init(Map::new))
}

/// The schema of `metadata`.
pub(crate) fn metadata_schema() -> Value {
    json!({"$ref": "#/definitions/Metadata"})
}

/// The schema of `spec` for a kind.
pub(crate) fn spec_schema(kind: Kind) -> Value {
    json!({"$ref": format!("#/definitions/{}", spec_definition(kind))})
}

/// The schema of a Target's `spec` (added).
pub(crate) fn target_spec_schema() -> Value {
    json!({"$ref": "#/definitions/TargetSpec"})
}

fn spec_definition(kind: Kind) -> &'static str {
    match kind {
        Kind::TargetGroup => "TargetGroupSpec",
        Kind::Service => "ServiceSpec",
        Kind::ScalingPolicy => "ScalingPolicySpec",
    }
}

fn build() -> Value {
    let mut generator = SchemaSettings::draft07().into_generator();
    generator.subschema_for::<Metadata>();
    generator.subschema_for::<TargetGroupSpec>();
    generator.subschema_for::<ServiceSpec>();
    generator.subschema_for::<ScalingPolicySpec>();
    generator.subschema_for::<TargetSpec>();
    let definitions = generator.take_definitions(true);
    let mut kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    kinds.push(TARGET_KIND);
    let mut by_kind: Vec<Value> = Kind::ALL
        .iter()
        .map(|k| {
            json!({
                "if": {"properties": {"kind": {"const": k.as_str()}}, "required": ["kind"]},
                "then": {"properties": {"spec": spec_schema(*k)}}
            })
        })
        .collect();
    by_kind.push(json!({
        "if": {"properties": {"kind": {"const": TARGET_KIND}}, "required": ["kind"]},
        "then": {"properties": {"spec": target_spec_schema()}}
    }));
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "ecsd manifest v1",
        "description": "One ecsd object: a Service, TargetGroup or ScalingPolicy; or a Target it is deployed to.",
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": false,
        "properties": {
            "apiVersion": {"const": API_VERSION, "description": "Always ecsd/v1."},
            "kind": {"enum": kinds},
            "metadata": metadata_schema(),
            "spec": {"type": "object"}
        },
        "allOf": by_kind,
        "definitions": definitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_definition_is_present() {
        for kind in Kind::ALL {
            assert!(
                definitions().contains_key(spec_definition(kind)),
                "{kind} is missing from the schema"
            );
        }
        assert!(definitions().contains_key("Metadata"));
    }

    #[test]
    fn unknown_fields_are_closed_in_every_object_definition() {
        for (name, def) in definitions() {
            if def.get("properties").is_some() {
                assert_eq!(
                    def.get("additionalProperties"),
                    Some(&Value::Bool(false)),
                    "{name} accepts unknown fields"
                );
            }
        }
    }
}
