//! Observing AWS for a set of manifests, in bulk, with independent reads at the same
//! time: ECS (and CodeDeploy), ELBv2 and Application Auto Scaling side by side, and
//! within them clusters, services, target group attributes and listeners.
//!
//! Reads only what the manifests name, batched: services 10 per DescribeServices,
//! target groups 20 names per call, ELB tags 20 ARNs per call, scaling per namespace in
//! pages. Tags ecsd leaves on services and target groups stand in for reads a no-op
//! pass would otherwise make:
//! - a task definition is described only when the service's `ecsd:task-definition`
//!   tag does not vouch for it (its hash covers the whole desired definition);
//! - target group attributes only when `ecsd:attributes` does not match the desired
//!   deregistration delay;
//! - rollback evidence (ListServiceDeployments) only for a service whose running
//!   definition differs from the manifest's;
//! - the unfinished deployment of an `ecsBlueGreen`, `linear` or `canary` service
//!   (ListServiceDeployments, DescribeServiceDeployments) only while DescribeServices
//!   shows one under way, and its canary analysis's metrics (GetMetricData, see
//!   [`analysis`](super::analysis)) only once it has paused where the manifest's
//!   analysis runs and the window has ended;
//! - tags of the resources made for an object (its task definition revision, CodeDeploy
//!   application and group, scalable target) only when the service's tags say its
//!   labels, or its ScalingPolicy's, changed;
//! - listeners the manifests do not name only when a load balancer routes to one of
//!   their target groups and no rule read so far explains it (a deleted or moved
//!   `listenerRule`).

use std::borrow::Borrow;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use futures_util::StreamExt;
use futures_util::future::try_join_all;
use futures_util::stream::FuturesUnordered;

use ecsd_aws::{AwsError, CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::arn::load_balancer_of_listener;
use ecsd_model::service::{ServiceSpec, Strategy, TaskDefinition};
use ecsd_model::{Manifest, Spec};
use ecsd_plan::canonical::{same_task_definition, task_definition_hash};
use ecsd_plan::defaults;
use ecsd_plan::ownership::{self, Labels, attributes_recorded, label_sync, scaling_labels_vouched};
use ecsd_plan::state::{
    BlueGreenState, DeploymentController, Inventory, Observed, RolledBack, RuleState, ServiceId,
    ServiceState,
};
use ecsd_plan::{application_name, desired_task_definition};

use super::clients::Clients;

/// Observation failed: no plan can be made without it.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("reading AWS state: {0}")]
    Aws(#[from] AwsError),
}

impl ObserveError {
    /// The AWS error behind it.
    pub fn aws(&self) -> &AwsError {
        match self {
            ObserveError::Aws(e) => e,
        }
    }
}

/// What a Service manifest asks of the observation.
struct WantedService<'a> {
    spec: &'a ServiceSpec,
    td: TaskDefinition,
    hash: String,
    labels: &'a Labels,
    /// The labels of its ScalingPolicy, if it has one.
    scaling_labels: Option<&'a Labels>,
}

/// Observes what `manifests` need; with `prune`, also the inventory of what ecsd may own.
pub async fn observe<M, E, L, S, D, W>(
    manifests: &[M],
    clients: &Clients<E, L, S, D, W>,
    prune: bool,
) -> Result<Observed, ObserveError>
where
    M: Borrow<Manifest>,
    E: EcsApi,
    L: Elbv2Api,
    S: ScalingApi,
    D: CodeDeployApi,
    W: CloudWatchApi,
{
    let manifests: Vec<&Manifest> = manifests.iter().map(Borrow::borrow).collect();
    let manifests = manifests.as_slice();
    let mut services: BTreeMap<ServiceId, WantedService<'_>> = BTreeMap::new();
    let mut tg_names = BTreeSet::new();
    let mut listeners = BTreeSet::new();
    let mut desired_delay: BTreeMap<&str, u32> = BTreeMap::new();
    for m in manifests {
        match &m.spec {
            Spec::TargetGroup(tg) => {
                tg_names.insert(m.metadata.name.clone());
                if let Some(rule) = &tg.listener_rule {
                    listeners.insert(rule.listener_arn.clone());
                }
                desired_delay.insert(
                    &m.metadata.name,
                    tg.deregistration_delay_seconds
                        .unwrap_or(defaults::TARGET_GROUP_DEREGISTRATION_DELAY),
                );
            }
            Spec::Service(svc) => {
                let id = ServiceId::new(ownership::cluster_name(&svc.cluster), &m.metadata.name);
                let td = desired_task_definition(&m.metadata.name, svc);
                let scaling_labels = manifests.iter().find_map(|p| match &p.spec {
                    Spec::ScalingPolicy(sp) if sp.service == m.metadata.name => {
                        Some(&p.metadata.labels)
                    }
                    _ => None,
                });
                services.insert(
                    id,
                    WantedService {
                        spec: svc,
                        hash: task_definition_hash(&td),
                        td,
                        labels: &m.metadata.labels,
                        scaling_labels,
                    },
                );
                tg_names.extend(svc.load_balancers.iter().map(|lb| lb.target_group.clone()));
            }
            Spec::ScalingPolicy(_) => {}
        }
    }

    let clusters: BTreeSet<String> = services.keys().map(|id| id.cluster.clone()).collect();
    let scaled: Vec<String> = services
        .iter()
        .filter(|(_, w)| w.scaling_labels.is_some())
        .map(|(id, _)| id.scaling_resource_id())
        .collect();
    // ECS (with CodeDeploy behind it), ELBv2 and Application Auto Scaling are read at
    // the same time: nothing one reads decides what another reads.
    let (mut observed, elb, scaling) = tokio::try_join!(
        observe_ecs(clients, &services, &clusters),
        observe_elb(manifests, clients, tg_names, listeners, &desired_delay),
        observe_scaling(clients, &scaled),
    )?;
    absorb(&mut observed, elb);
    absorb(&mut observed, scaling);

    if prune {
        // Every owned service's scaling, so scaling whose ScalingPolicy is gone is found.
        let inventory = inventory(&observed, clients).await?;
        let mut more: Vec<String> = inventory
            .services
            .iter()
            .map(|s| s.id.scaling_resource_id())
            .filter(|rid| !scaled.contains(rid))
            .collect();
        more.sort();
        more.dedup();
        let extra = observe_scaling(clients, &more).await?;
        absorb(&mut observed, extra);
        observed.inventory = Some(inventory);
    }
    // Scalable target tags, only where the service's marker says the labels changed.
    let unvouched: Vec<String> = services
        .iter()
        .filter_map(|(id, want)| {
            let labels = want.scaling_labels?;
            let vouched = observed
                .services
                .get(id)
                .is_some_and(|s| scaling_labels_vouched(&s.tags, labels));
            let target = observed.scalable_targets.get(&id.scaling_resource_id())?;
            (!vouched).then(|| target.arn.clone())
        })
        .collect();
    let tags = try_join_all(unvouched.into_iter().map(|arn| async move {
        let t = clients.scaling.list_tags(&arn).await?;
        Ok::<_, ObserveError>((arn, t))
    }))
    .await?;
    observed.tags.extend(tags);
    // Canary analysis of a paused deployment, on what was observed of it.
    super::analysis::analyse(
        &clients.cloudwatch,
        services.iter().map(|(id, w)| (id, w.spec)),
        &mut observed,
    )
    .await;
    Ok(observed)
}

/// Adds what one part of the observation found to the whole.
fn absorb(into: &mut Observed, part: Observed) {
    into.target_groups.extend(part.target_groups);
    into.rules.extend(part.rules);
    into.services.extend(part.services);
    into.task_definitions.extend(part.task_definitions);
    into.rollbacks.extend(part.rollbacks);
    into.native_deployments.extend(part.native_deployments);
    into.analyses.extend(part.analyses);
    into.scalable_targets.extend(part.scalable_targets);
    into.scaling_policies.extend(part.scaling_policies);
    into.scheduled_actions.extend(part.scheduled_actions);
    into.missing_clusters.extend(part.missing_clusters);
    into.blue_green.extend(part.blue_green);
    into.tags.extend(part.tags);
    if part.inventory.is_some() {
        into.inventory = part.inventory;
    }
}

/// What DescribeServices answers for a cluster that does not exist.
const CLUSTER_NOT_FOUND: &str = "ClusterNotFoundException";

/// Services whose details (running definition, rollback evidence, deployments) are read
/// at the same time. Above the pacer's burst: AWS's rate, not this, bounds a pass.
const SERVICES_AT_ONCE: usize = 32;

/// Clusters, services (10 per call per cluster), and what each service needs beyond
/// its description (its running definition, rollback evidence, CodeDeploy state),
/// services at the same time.
async fn observe_ecs<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    clients: &Clients<E, L, S, D, W>,
    services: &BTreeMap<ServiceId, WantedService<'_>>,
    clusters: &BTreeSet<String>,
) -> Result<Observed, ObserveError> {
    let mut observed = Observed::default();
    // Clusters and their services at the same time: a missing cluster's services
    // answer ClusterNotFoundException, and the cluster lookup says it is missing.
    let lookup = async {
        if clusters.is_empty() {
            return Ok(BTreeSet::new());
        }
        let names: Vec<String> = clusters.iter().cloned().collect();
        let lookup = clients.ecs.describe_clusters(&names).await?;
        Ok::<_, AwsError>(lookup.missing.into_iter().collect::<BTreeSet<String>>())
    };
    let described = try_join_all(clusters.iter().map(|cluster| async move {
        let names: Vec<String> = services
            .keys()
            .filter(|id| id.cluster == *cluster)
            .map(|id| id.name.clone())
            .collect();
        match clients.ecs.describe_services(cluster, &names).await {
            Err(e) if e.code() == Some(CLUSTER_NOT_FOUND) => Ok(Vec::new()),
            other => other,
        }
    }));
    let (missing, found) = tokio::try_join!(lookup, described)?;
    observed.missing_clusters = missing;
    for svc in found.into_iter().flatten() {
        observed.services.insert(svc.id.clone(), svc);
    }
    let observed_services = &observed.services;
    // A bounded number of services at once: each one's reads are a large future, and a
    // future per service of a big fleet (made at once, most of them finishing without a
    // call) was the pass's largest allocation.
    let wanted: Vec<(&ServiceId, &WantedService<'_>)> = services.iter().collect();
    let mut next = 0;
    let mut running = FuturesUnordered::new();
    let mut parts: Vec<Observed> = Vec::new();
    loop {
        while running.len() < SERVICES_AT_ONCE && next < wanted.len() {
            let (id, want) = wanted[next];
            running.push(service_part(clients, observed_services, id, want));
            next += 1;
        }
        match running.next().await {
            Some(part) => parts.push(part?),
            None => break,
        }
    }
    drop(running);
    for part in parts {
        absorb(&mut observed, part);
    }
    Ok(observed)
}

/// What one service needs beyond its description.
async fn service_part<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    clients: &Clients<E, L, S, D, W>,
    observed_services: &BTreeMap<ServiceId, ServiceState>,
    id: &ServiceId,
    want: &WantedService<'_>,
) -> Result<Observed, ObserveError> {
    let svc = observed_services.get(id);
    let mut part = match svc {
        Some(svc) => service_details(clients, svc, want).await?,
        None => Observed::default(),
    };
    // A CODE_DEPLOY service the manifest moves to ECS's own deployments: its CodeDeploy
    // group and application (and whether ecsd owns them) decide what the switch deletes.
    let switching = want.spec.deployment.is_native()
        && svc.is_some_and(|s| s.deployment_controller == DeploymentController::CodeDeploy);
    if want.spec.deployment.strategy == Strategy::BlueGreen || switching {
        let (state, found) = blue_green(clients, svc, id, want, switching).await?;
        absorb(&mut part, found);
        part.blue_green.insert(id.clone(), state);
    }
    Ok::<_, ObserveError>(part)
}

/// Target groups and their tags (attributes only where tags cannot vouch), and the
/// rules of the listeners the manifests name, listeners at the same time.
async fn observe_elb<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    manifests: &[&Manifest],
    clients: &Clients<E, L, S, D, W>,
    tg_names: BTreeSet<String>,
    listeners: BTreeSet<String>,
    desired_delay: &BTreeMap<&str, u32>,
) -> Result<Observed, ObserveError> {
    let target_groups = async {
        let names: Vec<String> = tg_names.into_iter().collect();
        let tgs = if names.is_empty() {
            Vec::new()
        } else {
            clients.elb.describe_target_groups(&names).await?
        };
        let arns: Vec<String> = tgs.iter().map(|t| t.arn.clone()).collect();
        let mut tags = if arns.is_empty() {
            BTreeMap::new()
        } else {
            clients.elb.describe_tags(&arns).await?
        };
        let tgs = try_join_all(tgs.into_iter().map(|mut tg| {
            tg.tags = tags.remove(&tg.arn).unwrap_or_default();
            async move {
                if let Some(wanted) = desired_delay.get(tg.name.as_str())
                    && attributes_recorded(&tg.tags) != Some(*wanted)
                {
                    tg.deregistration_delay_seconds =
                        clients.elb.deregistration_delay(&tg.arn).await?;
                }
                Ok::<_, ObserveError>(tg)
            }
        }))
        .await?;
        Ok::<_, ObserveError>(tgs)
    };
    // Listener rules, with the tags of every rule that has a priority: ecsd finds its
    // rules by their tags (CodeDeploy may have rewritten where they forward).
    let rules = try_join_all(listeners.into_iter().map(|listener| async move {
        let rules = tagged_rules(clients, &listener).await?;
        Ok::<_, ObserveError>((listener, rules))
    }));
    let (tgs, rules) = tokio::try_join!(target_groups, rules)?;
    let mut observed = Observed::default();
    for tg in tgs {
        observed.target_groups.insert(tg.name.clone(), tg);
    }
    observed.rules.extend(rules);
    // A rule ecsd made may sit on a listener the manifests no longer name (the
    // listenerRule was deleted or moved to another listener): read the other listeners
    // of a load balancer that routes to a TargetGroup for a reason not seen yet.
    for lb in unexplained_load_balancers(manifests, &observed) {
        for listener in clients.elb.describe_listeners(&lb).await? {
            if let Entry::Vacant(slot) = observed.rules.entry(listener) {
                let rules = tagged_rules(clients, slot.key()).await?;
                slot.insert(rules);
            }
        }
    }
    Ok(observed)
}

/// Scalable targets, policies and scheduled actions of `resource_ids`.
async fn observe_scaling<
    E: EcsApi,
    L: Elbv2Api,
    S: ScalingApi,
    D: CodeDeployApi,
    W: CloudWatchApi,
>(
    clients: &Clients<E, L, S, D, W>,
    resource_ids: &[String],
) -> Result<Observed, ObserveError> {
    let mut observed = Observed::default();
    if !resource_ids.is_empty() {
        let scaling = clients.scaling.describe(resource_ids).await?;
        observed.scalable_targets = scaling.targets;
        observed.scaling_policies = scaling.policies;
        observed.scheduled_actions = scaling.actions;
    }
    Ok(observed)
}

/// The rules of a listener, with the tags of those that have a priority.
async fn tagged_rules<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    clients: &Clients<E, L, S, D, W>,
    listener: &str,
) -> Result<Vec<RuleState>, ObserveError> {
    let mut rules = clients.elb.describe_rules(listener).await?;
    let prioritised: Vec<String> = rules
        .iter()
        .filter(|r| r.priority.is_some())
        .map(|r| r.arn.clone())
        .collect();
    if !prioritised.is_empty() {
        let mut rule_tags = clients.elb.describe_tags(&prioritised).await?;
        for r in &mut rules {
            r.tags = rule_tags.remove(&r.arn).unwrap_or_default();
        }
    }
    Ok(rules)
}

/// Load balancers that route to a TargetGroup of the manifests without any rule read so
/// far explaining it, while that TargetGroup's own rule was not found: its rule may be
/// on another listener. Empty on a settled pass (the rule is where the manifest says,
/// or, once deleted, nothing routes to the target group any more).
fn unexplained_load_balancers(manifests: &[&Manifest], observed: &Observed) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for m in manifests {
        if !matches!(m.spec, Spec::TargetGroup(_)) {
            continue;
        }
        let Some(tg) = observed.target_groups.get(&m.metadata.name) else {
            continue;
        };
        let key = m.key().to_string();
        let rules = || {
            observed
                .rules
                .iter()
                .flat_map(|(l, rs)| rs.iter().map(move |r| (l, r)))
        };
        if rules().any(|(_, r)| r.tags.get(ownership::MANIFEST_TAG) == Some(&key)) {
            continue;
        }
        for lb in &tg.load_balancer_arns {
            let explained = rules().any(|(listener, r)| {
                load_balancer_of_listener(listener).as_ref() == Some(lb) && r.forwards_to(&tg.arn)
            });
            if !explained {
                out.insert(lb.clone());
            }
        }
    }
    out
}

/// The running task definition (unless the service's tag vouches for it), rollback
/// evidence when it differs from the manifest's, and its tags when the labels changed.
async fn service_details<
    E: EcsApi,
    L: Elbv2Api,
    S: ScalingApi,
    D: CodeDeployApi,
    W: CloudWatchApi,
>(
    clients: &Clients<E, L, S, D, W>,
    svc: &ServiceState,
    want: &WantedService<'_>,
) -> Result<Observed, ObserveError> {
    let mut observed = Observed::default();
    let td_arn = &svc.task_definition_arn;
    let vouched = ownership::task_definition_vouched(&svc.tags, td_arn, &want.hash);
    if !vouched && !td_arn.is_empty() && !observed.task_definitions.contains_key(td_arn) {
        let td = clients.ecs.describe_task_definition(td_arn).await?;
        observed.task_definitions.insert(td_arn.clone(), td);
    }
    let differs = !vouched
        && observed
            .task_definitions
            .get(td_arn)
            .is_none_or(|t| !same_task_definition(&t.definition, &want.td));
    if differs
        && svc.deployment_controller == DeploymentController::Ecs
        && let Some(found) = clients.ecs.rolled_back_deployment(&svc.id).await?
    {
        let td = match observed.task_definitions.get(&found.task_definition_arn) {
            Some(td) => td.clone(),
            None => {
                clients
                    .ecs
                    .describe_task_definition(&found.task_definition_arn)
                    .await?
            }
        };
        observed.rollbacks.insert(
            svc.id.clone(),
            RolledBack {
                deployment_arn: found.deployment_arn,
                status: found.status,
                reason: found.reason,
                task_definition: td,
            },
        );
    }
    if want.spec.deployment.is_native()
        && svc.deployment_controller == DeploymentController::Ecs
        && svc.deploying()
        && let Some(d) = clients.ecs.current_deployment(&svc.id).await?
    {
        observed.native_deployments.insert(svc.id.clone(), d);
    }
    if labels_out_of_sync(svc, want.labels) && !td_arn.is_empty() {
        let t = clients.ecs.list_tags(td_arn).await?;
        observed.tags.insert(td_arn.clone(), t);
    }
    Ok(observed)
}

/// Whether an owned service's labels differ from the manifest's (then the resources
/// made for it are checked too).
fn labels_out_of_sync(svc: &ServiceState, labels: &Labels) -> bool {
    svc.tags.contains_key(ownership::OWNER_TAG) && !label_sync(&svc.tags, labels).1.is_empty()
}

/// The CodeDeploy application and group of a blue/green service, and its newest
/// deployment (from `lastAttemptedDeployment`, never by paging the history).
async fn blue_green<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    clients: &Clients<E, L, S, D, W>,
    svc: Option<&ServiceState>,
    id: &ServiceId,
    want: &WantedService<'_>,
    switching: bool,
) -> Result<(BlueGreenState, Observed), ObserveError> {
    let mut observed = Observed::default();
    let app = application_name(&id.cluster, &id.name);
    let observed_group = clients.deploy.get_deployment_group(&app, &id.name).await?;
    let mut state = BlueGreenState {
        application_exists: observed_group.is_some()
            || clients.deploy.application_exists(&app).await?,
        ..BlueGreenState::default()
    };
    if let Some(prefix) = svc.and_then(|s| arn_prefix(&s.arn, "codedeploy")) {
        if state.application_exists {
            state.application_arn = Some(format!("{prefix}:application:{app}"));
        }
        if observed_group.is_some() {
            state.group_arn = Some(format!("{prefix}:deploymentgroup:{app}/{}", id.name));
        }
    }
    if let Some(g) = observed_group {
        state.group = Some(g.group);
        if let Some(last) = g.last_attempted {
            if last.status.in_flight() {
                state.in_flight = Some(clients.deploy.get_deployment(&last.id).await?);
            } else if last.status.unsuccessful() {
                state.last_finished = Some(clients.deploy.get_deployment(&last.id).await?);
            } else {
                // A success needs no details: the tasks give the verdict.
                state.last_finished = Some(ecsd_plan::state::CodeDeployment {
                    id: last.id,
                    status: last.status,
                    task_definition_arn: None,
                    error: None,
                });
            }
        }
    }
    // The definition a failed deployment tried, to tell whether the manifest still asks
    // for it (then it is not deployed again).
    let unvouched = svc.is_some_and(|s| {
        !ownership::task_definition_vouched(&s.tags, &s.task_definition_arn, &want.hash)
    });
    if let Some(arn) = state
        .last_finished
        .as_ref()
        .filter(|d| d.status.unsuccessful() && unvouched)
        .and_then(|d| d.task_definition_arn.clone())
        && !observed.task_definitions.contains_key(&arn)
    {
        let td = clients.ecs.describe_task_definition(&arn).await?;
        observed.task_definitions.insert(arn, td);
    }
    if switching || svc.is_some_and(|s| labels_out_of_sync(s, want.labels)) {
        for arn in [&state.application_arn, &state.group_arn]
            .into_iter()
            .flatten()
        {
            let t = clients.deploy.list_tags(arn).await?;
            observed.tags.insert(arn.clone(), t);
        }
    }
    Ok((state, observed))
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT` for another service in the same account and
/// region as `arn`.
fn arn_prefix(arn: &str, service: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (_, partition, _, region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    Some(format!("arn:{partition}:{service}:{region}:{account}"))
}

/// Everything ecsd may own beyond what the manifests name: every ACTIVE service of
/// every cluster (a source may have dropped a cluster's last service), every target
/// group, and the rules that route to them. Read only with `--prune`.
async fn inventory<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    observed: &Observed,
    clients: &Clients<E, L, S, D, W>,
) -> Result<Inventory, ObserveError> {
    let mut inv = Inventory::default();
    for cluster in clients.ecs.list_clusters().await? {
        let names = clients.ecs.list_services(&cluster).await?;
        if !names.is_empty() {
            inv.services
                .extend(clients.ecs.describe_services(&cluster, &names).await?);
        }
    }
    let mut tgs = clients.elb.list_target_groups().await?;
    let arns: Vec<String> = tgs.iter().map(|t| t.arn.clone()).collect();
    let mut tags = if arns.is_empty() {
        BTreeMap::new()
    } else {
        clients.elb.describe_tags(&arns).await?
    };
    for tg in &mut tgs {
        tg.tags = tags.remove(&tg.arn).unwrap_or_default();
    }
    // Rules only matter for owned target groups that may be pruned.
    let lbs: BTreeSet<String> = tgs
        .iter()
        .filter(|t| t.tags.contains_key(ownership::OWNER_TAG))
        .flat_map(|t| t.load_balancer_arns.iter().cloned())
        .collect();
    for lb in lbs {
        for listener in clients.elb.describe_listeners(&lb).await? {
            // Rules already read this pass carry their tags.
            let rules = match observed.rules.get(&listener) {
                Some(r) => r.clone(),
                None => tagged_rules(clients, &listener).await?,
            };
            inv.rules.extend(rules);
        }
    }
    inv.target_groups = tgs;
    Ok(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_service_s_arn_shares_partition_region_and_account() {
        assert_eq!(
            arn_prefix(
                "arn:aws-cn:ecs:cn-north-1:123:service/prod/web",
                "codedeploy"
            )
            .as_deref(),
            Some("arn:aws-cn:codedeploy:cn-north-1:123")
        );
        assert_eq!(arn_prefix("not-an-arn", "codedeploy"), None);
    }
}
