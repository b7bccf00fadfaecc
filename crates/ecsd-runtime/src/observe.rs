//! Observing AWS for a set of manifests, in bulk.
//!
//! Reads only what the manifests name (apply-what-you-own), batched: services 10 per
//! DescribeServices, target groups 20 names per call, ELB tags 20 ARNs per call,
//! scaling per namespace in pages. A task definition is described only when the
//! service's `ecsd:task-definition` tag does not already prove it runs the desired one;
//! target group attributes only when the `ecsd:attributes` tag does not match.

use std::collections::{BTreeMap, BTreeSet};

use ecsd_aws::{AwsError, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::{Manifest, Spec};
use ecsd_plan::ownership::{ATTRIBUTES_TAG, cluster_name, scaling_resource_id};
use ecsd_plan::service::{desired_task_definition, marker_matches, task_definition_hash};
use ecsd_plan::state::{BlueGreenState, Inventory, Observed};

/// CodeDeploy deployment states that are not finished, and those that are.
const IN_FLIGHT: [&str; 5] = ["Created", "Queued", "InProgress", "Baking", "Ready"];
const FINISHED: [&str; 3] = ["Succeeded", "Failed", "Stopped"];
use ecsd_plan::target_group::attributes_marker;

use crate::Clients;

/// Observation failed: no plan can be made without it.
#[derive(Debug, thiserror::Error)]
pub enum ObserveError {
    #[error("reading AWS state: {0}")]
    Aws(#[from] AwsError),
}

/// Observes what `manifests` need; with `prune`, also the inventory of what ecsd may own.
pub async fn observe<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi>(
    manifests: &[Manifest],
    clients: &Clients<E, L, S, D>,
    prune: bool,
) -> Result<Observed, ObserveError> {
    let mut observed = Observed::default();
    let mut clusters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut tg_names = BTreeSet::new();
    let mut listeners = BTreeSet::new();
    let mut desired_delay: BTreeMap<&str, u32> = BTreeMap::new();
    let mut hashes: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut scaled: Vec<String> = Vec::new();
    for m in manifests {
        match &m.spec {
            Spec::TargetGroup(tg) => {
                tg_names.insert(m.metadata.name.clone());
                if let Some(rule) = &tg.listener_rule {
                    listeners.insert(rule.listener_arn.clone());
                }
                if let Some(d) = tg.deregistration_delay_seconds {
                    desired_delay.insert(&m.metadata.name, d);
                }
            }
            Spec::Service(svc) => {
                let cluster = cluster_name(&svc.cluster).to_owned();
                clusters
                    .entry(cluster.clone())
                    .or_default()
                    .push(m.metadata.name.clone());
                let td = desired_task_definition(&m.metadata.name, svc);
                hashes.insert(
                    (cluster, m.metadata.name.clone()),
                    task_definition_hash(&td),
                );
                tg_names.extend(svc.load_balancers.iter().map(|lb| lb.target_group.clone()));
            }
            Spec::ScalingPolicy(sp) => {
                let cluster = manifests.iter().find_map(|s| match &s.spec {
                    Spec::Service(svc) if s.metadata.name == sp.service => {
                        Some(cluster_name(&svc.cluster).to_owned())
                    }
                    _ => None,
                });
                if let Some(cluster) = cluster {
                    scaled.push(scaling_resource_id(&cluster, &sp.service));
                }
            }
        }
    }

    if !clusters.is_empty() {
        let names: Vec<String> = clusters.keys().cloned().collect();
        let lookup = clients.ecs.describe_clusters(&names).await?;
        observed.missing_clusters = lookup.missing;
    }

    // Target groups, then their tags in batches; attributes only where tags cannot vouch.
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
    for mut tg in tgs {
        tg.tags = tags.remove(&tg.arn).unwrap_or_default();
        if let Some(wanted) = desired_delay.get(tg.name.as_str())
            && tg.tags.get(ATTRIBUTES_TAG) != Some(&attributes_marker(*wanted))
        {
            tg.deregistration_delay_seconds = clients.elb.deregistration_delay(&tg.arn).await?;
        }
        observed.target_groups.insert(tg.name.clone(), tg);
    }

    // Listener rules; tags only for the rules that matter (ours, or in our way).
    let our_arns: BTreeSet<String> = observed
        .target_groups
        .values()
        .map(|t| t.arn.clone())
        .collect();
    let priorities: BTreeSet<u32> = manifests
        .iter()
        .filter_map(|m| match &m.spec {
            Spec::TargetGroup(tg) => tg.listener_rule.as_ref().map(|r| r.priority),
            _ => None,
        })
        .collect();
    for listener in listeners {
        let mut rules = clients.elb.describe_rules(&listener).await?;
        let relevant: Vec<String> = rules
            .iter()
            .filter(|r| {
                r.forward_to.iter().any(|a| our_arns.contains(a))
                    || r.priority.is_some_and(|p| priorities.contains(&p))
            })
            .map(|r| r.arn.clone())
            .collect();
        if !relevant.is_empty() {
            let mut rule_tags = clients.elb.describe_tags(&relevant).await?;
            for r in &mut rules {
                r.tags = rule_tags.remove(&r.arn).unwrap_or_default();
            }
        }
        observed.rules.insert(listener, rules);
    }

    // Services, 10 per call per cluster; task definitions only when the tag can't vouch.
    for (cluster, names) in &clusters {
        if observed.missing_clusters.contains(cluster) {
            continue;
        }
        for svc in clients.ecs.describe_services(cluster, names).await? {
            let key = (cluster.clone(), svc.name.clone());
            let vouched = hashes.get(&key).is_some_and(|h| marker_matches(&svc, h));
            if !vouched
                && !observed
                    .task_definitions
                    .contains_key(&svc.task_definition_arn)
            {
                let td = clients
                    .ecs
                    .describe_task_definition(&svc.task_definition_arn)
                    .await?;
                observed
                    .task_definitions
                    .insert(svc.task_definition_arn.clone(), td);
            }
            observed.services.insert(key, svc);
        }
    }

    // The CodeDeploy side of blue/green services.
    for m in manifests {
        let Spec::Service(svc) = &m.spec else {
            continue;
        };
        if svc.deployment.strategy != ecsd_model::service::Strategy::BlueGreen {
            continue;
        }
        let cluster = cluster_name(&svc.cluster).to_owned();
        let app = ecsd_plan::blue_green::application_name(&cluster, &m.metadata.name);
        let group = m.metadata.name.clone();
        let mut state = BlueGreenState {
            group: clients.deploy.get_deployment_group(&app, &group).await?,
            ..BlueGreenState::default()
        };
        state.application_exists =
            state.group.is_some() || clients.deploy.application_exists(&app).await?;
        if state.group.is_some() {
            for id in clients
                .deploy
                .list_deployments(&app, &group, &IN_FLIGHT)
                .await?
            {
                state
                    .in_flight
                    .push(clients.deploy.get_deployment(&id).await?);
            }
            if let Some(id) = clients
                .deploy
                .list_deployments(&app, &group, &FINISHED)
                .await?
                .first()
            {
                state.last_finished = Some(clients.deploy.get_deployment(id).await?);
            }
        }
        observed
            .blue_green
            .insert((cluster, m.metadata.name.clone()), state);
    }

    if prune {
        // Every owned service's scaling, so scaling whose ScalingPolicy is gone is found.
        let inventory = inventory(&observed, clients).await?;
        scaled.extend(
            inventory
                .services
                .iter()
                .map(|s| scaling_resource_id(cluster_name(&s.cluster_arn), &s.name)),
        );
        observed.inventory = Some(inventory);
    }
    scaled.sort();
    scaled.dedup();
    if !scaled.is_empty() {
        let scaling = clients.scaling.describe(&scaled).await?;
        observed.scalable_targets = scaling.targets;
        observed.scaling_policies = scaling.policies;
        observed.scheduled_actions = scaling.actions;
    }
    Ok(observed)
}

/// Everything ecsd may own beyond what the manifests name: every service of every
/// cluster (a source may have dropped a cluster's last service), every target group,
/// and the rules that route to them. Read only with `--prune`.
async fn inventory<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi>(
    observed: &Observed,
    clients: &Clients<E, L, S, D>,
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
        .filter(|t| t.tags.contains_key(ecsd_plan::ownership::OWNER_TAG))
        .flat_map(|t| t.load_balancer_arns.iter().cloned())
        .collect();
    for lb in lbs {
        for listener in clients.elb.describe_listeners(&lb).await? {
            let mut rules = match observed.rules.get(&listener) {
                Some(r) => r.clone(),
                None => clients.elb.describe_rules(&listener).await?,
            };
            let untagged: Vec<String> = rules
                .iter()
                .filter(|r| r.tags.is_empty() && r.priority.is_some())
                .map(|r| r.arn.clone())
                .collect();
            if !untagged.is_empty() {
                let mut rule_tags = clients.elb.describe_tags(&untagged).await?;
                for r in &mut rules {
                    if let Some(t) = rule_tags.remove(&r.arn) {
                        r.tags = t;
                    }
                }
            }
            inv.rules.extend(rules);
        }
    }
    inv.target_groups = tgs;
    Ok(inv)
}
