//! The typed manifest: kinds, metadata, and the per-kind specs.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scaling_policy::ScalingPolicySpec;
use crate::service::ServiceSpec;
use crate::target_group::TargetGroupSpec;

/// The only `apiVersion` this version of ecsd reads.
pub const API_VERSION: &str = "ecsd/v1";

/// The kinds of object a manifest can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    TargetGroup,
    Service,
    ScalingPolicy,
}

impl Kind {
    /// Every kind, in dependency order (a Service needs its TargetGroups, a ScalingPolicy its Service).
    pub const ALL: [Kind; 3] = [Kind::TargetGroup, Kind::Service, Kind::ScalingPolicy];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TargetGroup => "TargetGroup",
            Kind::Service => "Service",
            Kind::ScalingPolicy => "ScalingPolicy",
        }
    }

    /// The kind named `s`, exactly as spelt in manifests.
    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An object's identity: its kind and `metadata.name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    pub kind: Kind,
    pub name: String,
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

/// `metadata`: the object's name and the labels that become AWS tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// The AWS name of the object, unique per kind in the source.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Labels, kept in sync as AWS tags on everything created for this object (at most
    /// 45: AWS allows 50 tags and ecsd uses up to 5 of its own).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(extend("maxProperties" = 45))]
    pub labels: BTreeMap<String, String>,
    /// The Target this object is deployed to (added; default: the Target whose folder
    /// holds its file). Only in a source that declares Targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The spec of one object, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    TargetGroup(TargetGroupSpec),
    Service(Box<ServiceSpec>),
    ScalingPolicy(ScalingPolicySpec),
}

/// One validated object: what a document of the source asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub metadata: Metadata,
    pub spec: Spec,
}

impl Manifest {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self.spec {
            Spec::TargetGroup(_) => Kind::TargetGroup,
            Spec::Service(_) => Kind::Service,
            Spec::ScalingPolicy(_) => Kind::ScalingPolicy,
        }
    }

    /// The object's identity.
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            kind: self.kind(),
            name: self.metadata.name.clone(),
        }
    }
}
