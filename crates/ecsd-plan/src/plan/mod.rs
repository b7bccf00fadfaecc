//! The plan: which objects change, how (field diffs), and with which AWS operations.
//!
//! [`plan`] dispatches each manifest to the planner of its kind (`target_group`,
//! `service`, `scaling`); they share one `Context` (options, observations, the desired
//! objects). `prune` plans deletions behind the safety valve; `shift` knows the pair of
//! target groups ECS shifts traffic between in a native deployment, as ECS has it now.

mod prune;
mod scaling;
pub(crate) mod service;
mod shift;
mod target_group;

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use ecsd_model::scaling_policy::ScalingPolicySpec;
use ecsd_model::service::ServiceSpec;
use ecsd_model::{Kind, Manifest, ObjectKey, Spec};

use crate::diff::{FieldDiff, diff};
use crate::ops::{Op, RuleRef, Tagged, TargetGroupRef};
use crate::ownership::{self, LabelSync, Labels, cluster_name, label_sync};
use crate::state::{Observed, RuleState, ServiceId, Tags};

pub use service::{application_name, desired_task_definition};

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
    /// Deploy a task definition again although ECS rolled back its last deployment.
    pub retry_rolled_back: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            owner: "ecsd".to_owned(),
            adopt: false,
            prune: false,
            max_prune: 3,
            recreate: false,
            retry_rolled_back: false,
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

impl Action {
    /// `create`, `update` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }

    /// `created`, `updated` or `deleted`: how outcomes and logs say it happened.
    pub fn past_tense(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Delete => "deleted",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
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

/// Why an object cannot be planned. The names are stable: they appear in JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanErrorKind {
    /// A same-named resource exists without ecsd's owner tag (see `--adopt`).
    NotOwned,
    /// The Service's cluster does not exist.
    MissingCluster,
    /// rolling <-> blueGreen needs a new service (see `--recreate`).
    StrategySwitch,
    /// A field AWS cannot change on an existing resource.
    Immutable,
    /// The listener rule's priority is taken by another rule.
    PriorityTaken,
    /// A load-balanced Service whose target group no load balancer uses.
    NoLoadBalancer,
    /// Something the plan needs could not be read.
    Unobserved,
    /// A Service that a ScalingPolicy refers to is not in the source.
    MissingReference,
    /// It depends on an object with an error.
    Dependency,
    /// Pruning would delete too much.
    PruneValve,
}

impl PlanErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanErrorKind::NotOwned => "notOwned",
            PlanErrorKind::MissingCluster => "missingCluster",
            PlanErrorKind::StrategySwitch => "strategySwitch",
            PlanErrorKind::Immutable => "immutable",
            PlanErrorKind::PriorityTaken => "priorityTaken",
            PlanErrorKind::NoLoadBalancer => "noLoadBalancer",
            PlanErrorKind::Unobserved => "unobserved",
            PlanErrorKind::MissingReference => "missingReference",
            PlanErrorKind::Dependency => "dependency",
            PlanErrorKind::PruneValve => "pruneValve",
        }
    }
}

/// An object that cannot be planned, and why. Nothing is done for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanError {
    pub key: Option<ObjectKey>,
    pub kind: PlanErrorKind,
    pub message: String,
}

impl PlanError {
    pub(crate) fn new(kind: PlanErrorKind, message: impl Into<String>) -> Self {
        PlanError {
            key: None,
            kind,
            message: message.into(),
        }
    }
}

/// A change the plan deliberately does not make: ECS rolled back the last deployment of
/// exactly this task definition, so deploying it again would fail the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    pub key: ObjectKey,
    pub reason: String,
}

/// The whole plan, in the order it is applied: creates and updates of target groups,
/// services, scaling policies; then deletes in the reverse kind order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub changes: Vec<Change>,
    pub errors: Vec<PlanError>,
    pub holds: Vec<Hold>,
}

impl Plan {
    /// True when nothing is to change, nothing is held back and nothing failed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.errors.is_empty() && self.holds.is_empty()
    }

    /// The plan as the CLI contract's JSON (`plan --output json`), plus `errors` and
    /// `held`.
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
                Some(k) => json!({"kind": k.kind.as_str(), "name": k.name, "reason": e.kind, "message": e.message}),
                None => json!({"reason": e.kind, "message": e.message}),
            })
            .collect();
        let held: Vec<Value> = self
            .holds
            .iter()
            .map(|h| json!({"kind": h.key.kind.as_str(), "name": h.key.name, "reason": h.reason}))
            .collect();
        json!({"revision": revision, "changes": changes, "errors": errors, "held": held})
    }
}

/// Plans the changes that make AWS match `manifests` (a valid source).
pub fn plan<M: Borrow<Manifest>>(manifests: &[M], observed: &Observed, opts: &PlanOptions) -> Plan {
    // The controller hands in shared manifests: plan over references, never copies.
    let manifests: Vec<&Manifest> = manifests.iter().map(Borrow::borrow).collect();
    let manifests = manifests.as_slice();
    let ctx = Context::new(manifests, observed, opts);
    let mut plan = Plan::default();
    for kind in Kind::ALL {
        for m in manifests.iter().filter(|m| m.kind() == kind) {
            let planned = match &m.spec {
                Spec::TargetGroup(spec) => target_group::plan(&ctx, m, spec),
                Spec::Service(spec) => service::plan(&ctx, m, spec),
                Spec::ScalingPolicy(spec) => scaling::plan(&ctx, m, spec),
            };
            match planned {
                Ok(Planned { change, hold }) => {
                    plan.changes.extend(change);
                    plan.holds.extend(hold);
                }
                Err(e) => plan.errors.push(PlanError {
                    key: Some(m.key()),
                    ..e
                }),
            }
        }
    }
    hold_back_dependents(&mut plan);
    if opts.prune {
        prune::plan(&ctx, &mut plan);
    }
    with_owner_tag(&mut plan, &opts.owner);
    plan
}

/// Every tagging request carries the owner tag (the value it already has, or takes
/// over with `--adopt`): the shipped IAM policy allows tagging only with
/// `aws:RequestTag/ecsd:owner`, the one condition every service's TagResource supports
/// (see deploy/README.md).
fn with_owner_tag(plan: &mut Plan, owner: &str) {
    for op in plan.changes.iter_mut().flat_map(|c| c.ops.iter_mut()) {
        if let Op::TagResource { tags, .. } = op {
            tags.entry(ownership::OWNER_TAG.to_owned())
                .or_insert_with(|| owner.to_owned());
        }
    }
}

/// What one object's planner decided.
#[derive(Debug, Default)]
pub(crate) struct Planned {
    pub(crate) change: Option<Change>,
    pub(crate) hold: Option<Hold>,
}

impl From<Option<Change>> for Planned {
    fn from(change: Option<Change>) -> Self {
        Planned { change, hold: None }
    }
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
                    kind: PlanErrorKind::Dependency,
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
    pub(crate) manifests: &'a [&'a Manifest],
    /// Names of desired objects, per kind.
    desired: BTreeMap<Kind, BTreeSet<&'a str>>,
}

impl<'a> Context<'a> {
    fn new(manifests: &'a [&'a Manifest], observed: &'a Observed, opts: &'a PlanOptions) -> Self {
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
    pub(crate) fn service(&self, name: &str) -> Option<(&'a Manifest, &'a ServiceSpec)> {
        self.manifests.iter().copied().find_map(|m| match &m.spec {
            Spec::Service(s) if m.metadata.name == name => Some((m, s.as_ref())),
            _ => None,
        })
    }

    /// The ScalingPolicy manifest that targets the Service called `service`.
    pub(crate) fn scaling_for(
        &self,
        service: &str,
    ) -> Option<(&'a Manifest, &'a ScalingPolicySpec)> {
        self.manifests.iter().copied().find_map(|m| match &m.spec {
            Spec::ScalingPolicy(s) if s.service == service => Some((m, s)),
            _ => None,
        })
    }

    /// Services whose blue/green deployments use the target group called `name` (as blue
    /// or alternate): CodeDeploy owns where its listener rule forwards.
    pub(crate) fn in_blue_green(&self, target_group: &str) -> bool {
        self.manifests.iter().any(|m| match &m.spec {
            Spec::Service(s) => {
                s.deployment.blue_green.as_ref().is_some_and(|bg| {
                    bg.alternate_target_group == target_group
                        || s.load_balancers
                            .iter()
                            .any(|lb| lb.target_group == target_group)
                }) || self.shifted_rule(target_group).is_some()
            }
            _ => false,
        })
    }

    /// A TargetGroup's listener rule, if observed: the one ecsd made (found by its
    /// tags), or with `--adopt` the one this pass takes over (see [`Self::adoptable_rule`]).
    pub(crate) fn owned_rule(&self, target_group: &str) -> Option<&'a RuleState> {
        let key = format!("{}/{target_group}", Kind::TargetGroup);
        self.observed
            .rules
            .values()
            .flatten()
            .find(|r| {
                ownership::is_owned(&r.tags, &self.opts.owner)
                    && r.tags
                        .get(ownership::MANIFEST_TAG)
                        .is_some_and(|k| *k == key)
            })
            .or_else(|| self.adoptable_rule(target_group))
    }

    /// With `--adopt`, a rule ecsd does not own where the TargetGroup's manifest puts
    /// its rule (the listener and priority) that forwards to the observed target group,
    /// alone or weighted: taken over like the target group (tagged, then kept in line).
    fn adoptable_rule(&self, target_group: &str) -> Option<&'a RuleState> {
        if !self.opts.adopt {
            return None;
        }
        let want = self.manifests.iter().find_map(|m| match &m.spec {
            Spec::TargetGroup(tg) if m.metadata.name == target_group => tg.listener_rule.as_ref(),
            _ => None,
        })?;
        let arn = &self.observed.target_groups.get(target_group)?.arn;
        self.observed
            .rules
            .get(&want.listener_arn)
            .into_iter()
            .flatten()
            .find(|r| {
                r.priority == Some(want.priority)
                    && !ownership::is_owned(&r.tags, &self.opts.owner)
                    && r.forwards_to(arn)
            })
    }

    /// The TargetGroup whose rule this is: by ecsd's tags, or the one adopting it.
    pub(crate) fn rule_owner(&self, rule_arn: &str) -> Option<&'a str> {
        let prefix = format!("{}/", Kind::TargetGroup);
        let tagged = self
            .observed
            .rules
            .values()
            .flatten()
            .find(|r| r.arn == rule_arn && ownership::is_owned(&r.tags, &self.opts.owner))
            .and_then(|r| r.tags.get(ownership::MANIFEST_TAG))
            .and_then(|k| k.strip_prefix(&prefix));
        tagged.or_else(|| {
            self.manifests.iter().find_map(|m| {
                let name = m.metadata.name.as_str();
                (matches!(m.spec, Spec::TargetGroup(_))
                    && self.adoptable_rule(name).is_some_and(|r| r.arn == rule_arn))
                .then_some(name)
            })
        })
    }

    /// A TargetGroup's listener rule: by ARN when it exists where the manifest puts it,
    /// else by where this apply creates it.
    pub(crate) fn rule_ref(&self, target_group: &str) -> RuleRef {
        let want = self.manifests.iter().find_map(|m| match &m.spec {
            Spec::TargetGroup(tg) if m.metadata.name == target_group => tg.listener_rule.as_ref(),
            _ => None,
        });
        let existing = self.owned_rule(target_group);
        match (want, existing) {
            (Some(w), Some(r)) if r.listener_arn == w.listener_arn => RuleRef::Arn(r.arn.clone()),
            (Some(w), _) => RuleRef::At {
                listener_arn: w.listener_arn.clone(),
                priority: w.priority,
            },
            (None, Some(r)) => RuleRef::Arn(r.arn.clone()),
            (None, None) => RuleRef::Arn(String::new()),
        }
    }

    /// A target group's name from its ARN, if it was observed.
    pub(crate) fn target_group_name(&self, arn: &str) -> Option<&'a str> {
        self.observed
            .target_groups
            .values()
            .find(|t| t.arn == arn)
            .map(|t| t.name.as_str())
    }

    /// A target group by ARN when it exists, by name when it is still to be created.
    pub(crate) fn target_group_ref(&self, name: &str) -> TargetGroupRef {
        self.observed.target_groups.get(name).map_or_else(
            || TargetGroupRef::Name(name.to_owned()),
            |t| TargetGroupRef::Arn(t.arn.clone()),
        )
    }

    /// The ECS service a Service manifest names.
    pub(crate) fn service_id(&self, name: &str, spec: &ServiceSpec) -> ServiceId {
        ServiceId::new(cluster_name(&spec.cluster), name)
    }
}

/// A change being planned: diffs and operations collected by a kind's planner.
pub(crate) struct Draft {
    pub(crate) key: ObjectKey,
    pub(crate) exists: bool,
    pub(crate) diff: Vec<FieldDiff>,
    pub(crate) ops: Vec<Op>,
    pub(crate) notes: Vec<String>,
    pub(crate) depends_on: Vec<ObjectKey>,
}

impl Draft {
    pub(crate) fn new(key: ObjectKey, exists: bool) -> Self {
        Draft {
            key,
            exists,
            diff: Vec::new(),
            ops: Vec::new(),
            notes: Vec::new(),
            depends_on: Vec::new(),
        }
    }

    /// Adds the differences between a desired and an observed rendering.
    pub(crate) fn compare(&mut self, desired: &Value, observed: &Value) {
        self.diff.extend(diff(desired, observed));
    }

    /// Whether a diff touches the field at `prefix` or anything under it.
    pub(crate) fn touches(&self, prefix: &str) -> bool {
        self.diff.iter().any(|f| {
            f.path == prefix
                || f.path
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        })
    }

    /// Takes over a resource ecsd does not own (`--adopt`): says so, and tags it.
    pub(crate) fn adopt(&mut self, what: &str, arn: &str, resource: Tagged, tags: &Tags) {
        self.notes.push(format!("adopts the existing {what} {arn}"));
        self.ops.push(Op::TagResource {
            resource,
            tags: tags.clone(),
        });
    }

    /// Adds a resource's label differences and the tag operations that fix them.
    pub(crate) fn sync_labels(&mut self, resource: Tagged, tags: &Tags, labels: &Labels) {
        let (diff, sync) = label_sync(tags, labels);
        self.diff.extend(diff);
        self.sync_tags(resource, sync);
    }

    /// Adds tag operations only (for another resource of the same object, whose label
    /// differences the first one already shows).
    pub(crate) fn sync_tags(&mut self, resource: Tagged, sync: LabelSync) {
        if !sync.set.is_empty() {
            self.ops.push(Op::TagResource {
                resource: resource.clone(),
                tags: sync.set,
            });
        }
        if !sync.remove.is_empty() {
            self.ops.push(Op::UntagResource {
                resource,
                keys: sync.remove,
            });
        }
    }

    /// The change, or `None` when there is nothing to show and nothing to do.
    pub(crate) fn finish(self) -> Option<Change> {
        if self.ops.is_empty() && self.diff.is_empty() {
            return None;
        }
        Some(Change {
            key: self.key,
            action: if self.exists {
                Action::Update
            } else {
                Action::Create
            },
            diff: self.diff,
            notes: self.notes,
            ops: self.ops,
            depends_on: self.depends_on,
        })
    }
}

#[cfg(test)]
mod tests;
