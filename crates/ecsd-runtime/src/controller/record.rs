//! What the controller remembers of each object between passes ([`Record`]), and which
//! manifests one object's reconcile needs ([`subset`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use ecsd_model::{Kind, Manifest, ObjectKey, Spec};
use ecsd_plan::Change;

/// Everything the controller keeps about one object. An object that leaves the source
/// loses its record (a deletion waiting for a worker keeps it until done), so one that
/// comes back starts afresh: no old backoff, no old hold.
#[derive(Debug, Default)]
pub(super) struct Record {
    /// The last valid manifest; `None` when the object was never valid (only its
    /// validation error is shown).
    pub(super) desired: Option<Arc<Manifest>>,
    /// The manifest last seen in sync or applied: a change from it is a manifest
    /// change (always applied), otherwise a difference is drift. Usually the same
    /// allocation as `desired`: a snapshot that leaves a manifest as it was keeps it.
    pub(super) applied: Option<Arc<Manifest>>,
    /// A deletion (pruning) waiting for a worker.
    pub(super) delete: Option<Change>,
    /// A sync asked to retry a held rollback once.
    pub(super) retry_rolled_back: bool,
    /// The validation error of the current snapshot's document, if any.
    pub(super) invalid: Option<String>,
}

impl Record {
    /// Whether the desired manifest differs from the last one applied or seen in sync.
    pub(super) fn manifest_changed(&self) -> bool {
        match (&self.applied, &self.desired) {
            (Some(a), Some(d)) => !Arc::ptr_eq(a, d) && a != d,
            (a, d) => a.is_some() != d.is_some(),
        }
    }
}

/// The manifests one object's reconcile needs: itself and what it refers to, plus
/// the ScalingPolicy of a Service (which decides whether its count is enforced).
pub(super) fn subset(records: &BTreeMap<ObjectKey, Record>, key: &ObjectKey) -> Vec<Manifest> {
    let desired = |k: &ObjectKey| records.get(k).and_then(|r| r.desired.as_deref());
    let mut want: BTreeSet<ObjectKey> = BTreeSet::from([key.clone()]);
    let service_of = |name: &str| ObjectKey {
        kind: Kind::Service,
        name: name.to_owned(),
    };
    let tgs_of = |svc: &ecsd_model::service::ServiceSpec| -> Vec<String> {
        svc.load_balancers
            .iter()
            .map(|lb| lb.target_group.clone())
            .chain(
                svc.deployment
                    .blue_green
                    .iter()
                    .map(|bg| bg.alternate_target_group.clone()),
            )
            .chain(
                svc.deployment
                    .traffic
                    .iter()
                    .map(|t| t.alternate_target_group.clone()),
            )
            .collect()
    };
    let service = match desired(key).map(|m| &m.spec) {
        Some(Spec::Service(_)) => Some(key.name.clone()),
        Some(Spec::ScalingPolicy(sp)) => Some(sp.service.clone()),
        _ => None,
    };
    if key.kind == Kind::TargetGroup {
        // A rule ECS shifts is planned with its Service and both target groups.
        for (k, r) in records {
            if let Some(Spec::Service(svc)) = r.desired.as_deref().map(|m| &m.spec)
                && svc.deployment.is_native()
                && tgs_of(svc).contains(&key.name)
            {
                want.insert(k.clone());
                want.extend(tgs_of(svc).into_iter().map(|name| ObjectKey {
                    kind: Kind::TargetGroup,
                    name,
                }));
            }
        }
    }
    if let Some(service) = service {
        want.insert(service_of(&service));
        if let Some(Spec::Service(svc)) = desired(&service_of(&service)).map(|m| &m.spec) {
            for tg in tgs_of(svc) {
                want.insert(ObjectKey {
                    kind: Kind::TargetGroup,
                    name: tg,
                });
            }
        }
        for (k, r) in records {
            if matches!(r.desired.as_deref().map(|m| &m.spec), Some(Spec::ScalingPolicy(sp)) if sp.service == service)
            {
                want.insert(k.clone());
            }
        }
    }
    want.iter().filter_map(|k| desired(k).cloned()).collect()
}
