//! Reading the signals health needs beyond the observation: each TargetGroup's targets
//! (DescribeTargetHealth, one call per group), the state of every deployment alarm the
//! Services name (DescribeAlarms, 100 names per call) and each ScalingPolicy's newest
//! scaling activities (DescribeScalingActivities, one call per scalable target).
//!
//! What to read is decided by the caller: one-shot commands read everything; the
//! controller reads an object's signals only when they are due (see
//! [`crate::controller`]), so a quiet fleet costs a fraction of a call per object.

use std::borrow::Borrow;
use std::collections::BTreeSet;

use futures_util::future::join_all;

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::service::ServiceSpec;
use ecsd_model::{Manifest, ObjectKey, Spec};
use ecsd_plan::Observed;
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::signals::Signals;
use ecsd_plan::state::ServiceId;

use super::clients::Clients;

/// How many scaling activities are kept per scalable target.
pub const ACTIVITIES_KEPT: u32 = 5;

/// Which signals to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Target groups: (name, ARN).
    pub target_groups: Vec<(String, String)>,
    /// Alarm names.
    pub alarms: Vec<String>,
    /// Scalable target resource ids.
    pub scaling: Vec<String>,
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.target_groups.is_empty() && self.alarms.is_empty() && self.scaling.is_empty()
    }
}

/// The target groups a Service routes to: its load balancers', and the alternate one
/// of a blue/green, linear or canary deployment.
pub fn service_target_groups(svc: &ServiceSpec) -> Vec<String> {
    let mut out: Vec<String> = svc
        .load_balancers
        .iter()
        .map(|lb| lb.target_group.clone())
        .collect();
    if let Some(bg) = &svc.deployment.blue_green {
        out.push(bg.alternate_target_group.clone());
    }
    if let Some(t) = &svc.deployment.traffic {
        out.push(t.alternate_target_group.clone());
    }
    out.dedup();
    out
}

/// The signals of the objects of `manifests` that `due` accepts, as far as what was
/// observed lets them be read (a target group or scalable target that does not exist
/// has nothing to read).
pub fn wanted<M: Borrow<Manifest>>(
    manifests: &[M],
    observed: &Observed,
    due: impl Fn(&ObjectKey) -> bool,
) -> Wanted {
    let mut out = Wanted::default();
    let mut alarms = BTreeSet::new();
    for m in manifests.iter().map(Borrow::borrow) {
        let key = m.key();
        if !due(&key) {
            continue;
        }
        match &m.spec {
            Spec::TargetGroup(_) => {
                if let Some(tg) = observed.target_groups.get(&key.name) {
                    out.target_groups.push((key.name.clone(), tg.arn.clone()));
                }
            }
            Spec::Service(svc) => {
                if let Some(a) = &svc.deployment.alarms {
                    alarms.extend(a.alarm_names.iter().cloned());
                }
            }
            Spec::ScalingPolicy(sp) => {
                let rid = observed
                    .services
                    .keys()
                    .find(|id| id.name == sp.service)
                    .map(ServiceId::scaling_resource_id);
                if let Some(rid) = rid.filter(|r| observed.scalable_targets.contains_key(r)) {
                    out.scaling.push(rid);
                }
            }
        }
    }
    out.alarms = alarms.into_iter().collect();
    out
}

/// The id of the service an object's health depends on: a Service's own, a
/// TargetGroup's (the Service that routes to it) and a ScalingPolicy's.
pub fn service_of<M: Borrow<Manifest>>(manifests: &[M], m: &Manifest) -> Option<ServiceId> {
    let id = |svc: &ServiceSpec, name: &str| ServiceId::new(cluster_name(&svc.cluster), name);
    match &m.spec {
        Spec::Service(svc) => Some(id(svc, &m.metadata.name)),
        Spec::TargetGroup(_) => manifests
            .iter()
            .map(Borrow::borrow)
            .find_map(|s| match &s.spec {
                Spec::Service(svc) if service_target_groups(svc).contains(&m.metadata.name) => {
                    Some(id(svc, &s.metadata.name))
                }
                _ => None,
            }),
        Spec::ScalingPolicy(sp) => {
            manifests
                .iter()
                .map(Borrow::borrow)
                .find_map(|s| match &s.spec {
                    Spec::Service(svc) if s.metadata.name == sp.service => {
                        Some(id(svc, &s.metadata.name))
                    }
                    _ => None,
                })
        }
    }
}

/// Reads what `wanted` names, every part at the same time. A part that fails is left
/// out (what was read before stays in force) and its error returned beside the rest.
pub async fn read<E, L, S, D, W>(
    wanted: &Wanted,
    clients: &Clients<E, L, S, D, W>,
) -> (Signals, Vec<String>)
where
    E: EcsApi,
    L: Elbv2Api,
    S: ScalingApi,
    D: CodeDeployApi,
    W: CloudWatchApi,
{
    let targets =
        join_all(wanted.target_groups.iter().map(|(name, arn)| async move {
            (name, clients.elb.describe_target_health(arn).await)
        }));
    let activities = join_all(wanted.scaling.iter().map(|rid| async move {
        (
            rid,
            clients
                .scaling
                .describe_scaling_activities(rid, ACTIVITIES_KEPT)
                .await,
        )
    }));
    let alarms = async {
        if wanted.alarms.is_empty() {
            Ok(Vec::new())
        } else {
            clients.cloudwatch.describe_alarms(&wanted.alarms).await
        }
    };
    let (targets, activities, alarms) = tokio::join!(targets, activities, alarms);
    let mut out = Signals::default();
    let mut errors = Vec::new();
    for (name, r) in targets {
        match r {
            Ok(t) => {
                out.targets.insert(name.clone(), t);
            }
            Err(e) => errors.push(format!("target health of {name}: {e}")),
        }
    }
    for (rid, r) in activities {
        match r {
            Ok(a) => {
                out.activities.insert(rid.clone(), a);
            }
            Err(e) => errors.push(format!("scaling activities of {rid}: {e}")),
        }
    }
    match alarms {
        Ok(found) => {
            for name in &wanted.alarms {
                if !found.iter().any(|a| &a.name == name) {
                    out.missing_alarms.push(name.clone());
                }
            }
            out.alarms = found.into_iter().map(|a| (a.name.clone(), a)).collect();
        }
        Err(e) => errors.push(format!("deployment alarms: {e}")),
    }
    (out, errors)
}
