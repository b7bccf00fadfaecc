//! The plan: which objects change, how (field diffs), and with which AWS operations.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use ecsd_model::{Kind, Manifest, ObjectKey, Spec};

use crate::diff::{FieldDiff, diff};
use crate::ops::Op;
use crate::state::Observed;
use crate::{scaling, service, target_group};

/// How to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// The `ecsd:owner` tag value.
    pub owner: String,
    /// Take over same-named resources that lack the owner tag.
    pub adopt: bool,
    /// Delete owned resources whose manifest is gone.
    pub prune: bool,
    /// Refuse to prune more than this many objects.
    pub max_prune: usize,
    /// Replace services whose deployment strategy changed (rolling <-> blueGreen).
    pub recreate: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            owner: "ecsd".to_owned(),
            adopt: false,
            prune: false,
            max_prune: 3,
            recreate: false,
        }
    }
}

/// What happens to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// One object's change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub key: ObjectKey,
    pub action: Action,
    pub diff: Vec<FieldDiff>,
    /// Things the operator should know (an adoption, a replacement).
    pub notes: Vec<String>,
    pub ops: Vec<Op>,
    /// Objects whose changes must succeed first.
    pub depends_on: Vec<ObjectKey>,
}

/// An object that cannot be planned, and why. Nothing is done for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanError {
    pub key: Option<ObjectKey>,
    pub message: String,
}

/// The whole plan, in the order it is applied: creates and updates of target groups,
/// services, scaling policies; then deletes in the reverse kind order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub errors: Vec<PlanError>,
}

impl Plan {
    /// True when nothing is to change and nothing failed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.errors.is_empty()
    }

    /// The plan as the CLI contract's JSON (`plan --output json`), plus `errors`.
    pub fn to_json(&self, revision: &str) -> Value {
        let changes: Vec<Value> = self
            .changes
            .iter()
            .map(|c| {
                json!({
                    "kind": c.key.kind.as_str(),
                    "name": c.key.name,
                    "action": c.action,
                    "diff": c.diff,
                    "notes": c.notes,
                })
            })
            .collect();
        let errors: Vec<Value> = self
            .errors
            .iter()
            .map(|e| match &e.key {
                Some(k) => json!({"kind": k.kind.as_str(), "name": k.name, "message": e.message}),
                None => json!({"message": e.message}),
            })
            .collect();
        json!({"revision": revision, "changes": changes, "errors": errors})
    }
}

/// Plans the changes that make AWS match `manifests` (a valid source).
pub fn plan(manifests: &[Manifest], observed: &Observed, opts: &PlanOptions) -> Plan {
    let ctx = Context::new(manifests, observed, opts);
    let mut plan = Plan::default();
    for kind in Kind::ALL {
        for m in manifests.iter().filter(|m| m.kind() == kind) {
            let outcome = match &m.spec {
                Spec::TargetGroup(spec) => target_group::plan(&ctx, m, spec),
                Spec::Service(spec) => service::plan(&ctx, m, spec),
                Spec::ScalingPolicy(spec) => scaling::plan(&ctx, m, spec),
            };
            match outcome {
                Ok(Some(change)) => plan.changes.push(change),
                Ok(None) => {}
                Err(message) => plan.errors.push(PlanError {
                    key: Some(m.key()),
                    message,
                }),
            }
        }
    }
    hold_back_dependents(&mut plan);
    if opts.prune {
        crate::prune::plan(&ctx, &mut plan);
    }
    plan
}

/// A change that depends on an object with an error is not made either: a Service must
/// not be wired to a target group ecsd could not take charge of.
fn hold_back_dependents(plan: &mut Plan) {
    let mut errored: BTreeSet<ObjectKey> =
        plan.errors.iter().filter_map(|e| e.key.clone()).collect();
    let mut kept = Vec::new();
    for c in std::mem::take(&mut plan.changes) {
        match c.depends_on.iter().find(|d| errored.contains(*d)) {
            Some(dep) => {
                plan.errors.push(PlanError {
                    key: Some(c.key.clone()),
                    message: format!("not planned: it depends on {dep}, which has an error"),
                });
                errored.insert(c.key);
            }
            None => kept.push(c),
        }
    }
    plan.changes = kept;
}

/// What the per-kind planners share: options, observations, and the desired objects.
pub(crate) struct Context<'a> {
    pub(crate) opts: &'a PlanOptions,
    pub(crate) observed: &'a Observed,
    pub(crate) manifests: &'a [Manifest],
    /// Names of desired objects, per kind.
    pub(crate) desired: BTreeMap<Kind, BTreeSet<&'a str>>,
}

impl<'a> Context<'a> {
    fn new(manifests: &'a [Manifest], observed: &'a Observed, opts: &'a PlanOptions) -> Self {
        let mut desired: BTreeMap<Kind, BTreeSet<&str>> = BTreeMap::new();
        for m in manifests {
            desired
                .entry(m.kind())
                .or_default()
                .insert(&m.metadata.name);
        }
        Context {
            opts,
            observed,
            manifests,
            desired,
        }
    }

    /// Whether a desired object of `kind` is called `name`.
    pub(crate) fn is_desired(&self, kind: Kind, name: &str) -> bool {
        self.desired.get(&kind).is_some_and(|s| s.contains(name))
    }

    /// The Service manifest called `name`.
    pub(crate) fn service(
        &self,
        name: &str,
    ) -> Option<(&'a Manifest, &'a ecsd_model::service::ServiceSpec)> {
        self.manifests.iter().find_map(|m| match &m.spec {
            Spec::Service(s) if m.metadata.name == name => Some((m, s.as_ref())),
            _ => None,
        })
    }

    /// The ScalingPolicy manifest that targets the Service called `service`.
    pub(crate) fn scaling_for(
        &self,
        service: &str,
    ) -> Option<(
        &'a Manifest,
        &'a ecsd_model::scaling_policy::ScalingPolicySpec,
    )> {
        self.manifests.iter().find_map(|m| match &m.spec {
            Spec::ScalingPolicy(s) if s.service == service => Some((m, s)),
            _ => None,
        })
    }

    /// A target group's name from its ARN, if it was observed.
    pub(crate) fn target_group_name(&self, arn: &str) -> Option<&'a str> {
        self.observed
            .target_groups
            .values()
            .find(|t| t.arn == arn)
            .map(|t| t.name.as_str())
    }
}

/// A change from a desired and an observed rendering; `None` when they agree and there
/// is nothing else to do.
pub(crate) fn change(
    key: ObjectKey,
    exists: bool,
    desired: &Value,
    observed: &Value,
    ops: Vec<Op>,
    notes: Vec<String>,
    depends_on: Vec<ObjectKey>,
) -> Option<Change> {
    let diff = diff(desired, observed);
    if ops.is_empty() && diff.is_empty() {
        return None;
    }
    Some(Change {
        key,
        action: if exists {
            Action::Update
        } else {
            Action::Create
        },
        diff,
        notes,
        ops,
        depends_on,
    })
}
