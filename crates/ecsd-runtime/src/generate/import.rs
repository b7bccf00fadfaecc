//! `ecsd import`: manifests for services that already run, so a team can adopt what
//! Terraform, Copilot, the console or a script made. For each service: a Service (its
//! running task definition, network, load balancers, deployment settings), the
//! TargetGroups it uses with the listener rule that forwards to each, and its
//! ScalingPolicy (target tracking and scheduled actions). AWS tags that are not
//! `aws:` or `ecsd:` ones become labels (ecsd then keeps them as they are). Settings the
//! manifest format has no key for are written as comments, never dropped silently;
//! secrets stay ARNs.
//!
//! Reading is IO ([`import`]); writing the YAML is pure ([`render`]).
//!
//! # Layout
//! - this file: [`import`] reads each service and [`render`] turns it into documents;
//! - `import/read.rs`: [`ServiceRead`], everything read for one service;
//! - `import/service.rs`, `import/target_group.rs`, `import/scaling.rs`: one document
//!   kind each.

use std::collections::BTreeMap;

use ecsd_aws::{AwsError, CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_plan::application_name;
use ecsd_plan::state::{
    DeploymentController, RuleState, ServiceId, ServiceState, TargetGroupState,
};

use crate::generate::yaml::{Document, yaml_documents};
use crate::pass::Clients;

mod read;
mod scaling;
mod service;
mod target_group;

use crate::generate::target_groups::{read_target_groups, target_group_name};
pub use read::ServiceRead;

/// Importing failed for one service (the others are still imported).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("reading AWS: {0}")]
    Aws(#[from] AwsError),
    #[error("service {0} does not exist (or is not ACTIVE)")]
    NoService(ServiceId),
    #[error(
        "service {service} is deployed by CodeDeploy, but no deployment group {group:?} of application {application:?} exists: ecsd names them so; import it after creating them or switch it to an ECS strategy"
    )]
    NoCodeDeployGroup {
        service: ServiceId,
        application: String,
        group: String,
    },
}

/// What was read for one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub service: ServiceId,
    pub documents: Vec<Document>,
}

/// Reads `services` of `cluster` (every ACTIVE one when empty) and turns each into
/// manifests.
pub async fn import<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    clients: &Clients<E, L, S, D, W>,
    cluster: &str,
    services: &[String],
) -> Result<Vec<(ServiceId, Result<Imported, ImportError>)>, ImportError> {
    let names = if services.is_empty() {
        clients.ecs.list_services(cluster).await?
    } else {
        services.to_vec()
    };
    let found = clients.ecs.describe_services(cluster, &names).await?;
    let mut out = Vec::new();
    for name in &names {
        let id = ServiceId::new(ecsd_plan::ownership::cluster_name(cluster), name);
        let result = match found.iter().find(|s| s.id.name == *name) {
            Some(svc) => read_service(clients, svc).await,
            None => Err(ImportError::NoService(id.clone())),
        };
        out.push((id, result));
    }
    Ok(out)
}

/// Which TargetGroup each listener rule belongs to (a manifest carries one rule): the
/// production and test rules of a native deployment go to the service's target group
/// and the alternate; any other rule to the target group it sends the most traffic to,
/// lowest priority first. The rules forwarding to a target group that are not its own
/// are returned too, by target group.
type Assigned<'a> = (
    BTreeMap<String, &'a RuleState>,
    BTreeMap<String, Vec<&'a RuleState>>,
);

fn assign_rules<'a>(
    rules: &'a [RuleState],
    tgs: &[TargetGroupState],
    fixed: &[(Option<&str>, &str)],
) -> Assigned<'a> {
    let mut chosen: BTreeMap<String, &RuleState> = BTreeMap::new();
    let mut taken = std::collections::BTreeSet::new();
    for (rule_arn, tg_arn) in fixed {
        if let Some(r) = rules.iter().find(|r| Some(r.arn.as_str()) == *rule_arn) {
            chosen.insert((*tg_arn).to_owned(), r);
            taken.insert(r.arn.clone());
        }
    }
    let mut sorted: Vec<&RuleState> = rules.iter().filter(|r| r.priority.is_some()).collect();
    sorted.sort_by_key(|r| r.priority);
    for r in &sorted {
        if taken.contains(&r.arn) {
            continue;
        }
        let main = r
            .forward
            .iter()
            .filter(|f| tgs.iter().any(|t| t.arn == f.target_group_arn))
            .max_by_key(|f| f.weight.unwrap_or(1))
            .map(|f| f.target_group_arn.clone());
        if let Some(tg) = main
            && !chosen.contains_key(&tg)
        {
            chosen.insert(tg, r);
            taken.insert(r.arn.clone());
        }
    }
    let mut others: BTreeMap<String, Vec<&RuleState>> = BTreeMap::new();
    for t in tgs {
        others.insert(
            t.arn.clone(),
            sorted
                .iter()
                .copied()
                .filter(|r| r.forwards_to(&t.arn) && !taken.contains(&r.arn))
                .collect(),
        );
    }
    (chosen, others)
}

/// Reads what one service's manifests need, and renders them.
async fn read_service<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    clients: &Clients<E, L, S, D, W>,
    svc: &ServiceState,
) -> Result<Imported, ImportError> {
    let td = clients
        .ecs
        .describe_task_definition(&svc.task_definition_arn)
        .await?;
    let group = match svc.deployment_controller {
        DeploymentController::CodeDeploy => {
            let application = application_name(&svc.id.cluster, &svc.id.name);
            match clients
                .deploy
                .get_deployment_group(&application, &svc.id.name)
                .await?
            {
                Some(g) => Some(g.group),
                None => {
                    return Err(ImportError::NoCodeDeployGroup {
                        service: svc.id.clone(),
                        application,
                        group: svc.id.name.clone(),
                    });
                }
            }
        }
        _ => None,
    };
    // Target groups, by name, each once: those of the load balancers, the alternate of
    // a native deployment, and the pair of a CodeDeploy deployment group.
    let alternate = svc
        .load_balancers
        .first()
        .and_then(|lb| lb.advanced.as_ref())
        .map(|a| &a.alternate_target_group_arn);
    let mut seen = std::collections::BTreeSet::new();
    let tg_names: Vec<String> = svc
        .load_balancers
        .iter()
        .map(|lb| &lb.target_group_arn)
        .chain(alternate)
        .map(|arn| target_group_name(arn))
        .chain(group.iter().flat_map(|g| g.target_groups.iter().cloned()))
        .filter(|n| seen.insert(n.clone()))
        .collect();
    let (mut tgs, rules, delays) = read_target_groups(&clients.elb, &tg_names).await?;
    let arns: Vec<String> = tgs.iter().map(|t| t.arn.clone()).collect();
    let mut tags = clients.elb.describe_tags(&arns).await?;
    for t in &mut tgs {
        if let Some(found) = tags.remove(&t.arn) {
            t.tags = found;
        }
    }
    let rid = svc.id.scaling_resource_id();
    let scaling = clients.scaling.describe(std::slice::from_ref(&rid)).await?;
    let scaling_tags = match scaling.targets.get(&rid) {
        Some(t) => clients.scaling.list_tags(&t.arn).await?,
        None => BTreeMap::new(),
    };
    Ok(render(&ServiceRead {
        svc,
        td: &td,
        tgs: &tgs,
        rules: &rules,
        delays: &delays,
        scaling: &scaling,
        scaling_tags: &scaling_tags,
        group: group.as_ref(),
    }))
}

/// The manifests for what was read.
pub fn render(r: &ServiceRead<'_>) -> Imported {
    let svc = r.svc;
    let mut documents = Vec::new();
    // The rule each target group's manifest carries, and which TargetGroup a rule ARN
    // belongs to (for a native deployment's production and test rules).
    let mut rule_owner: BTreeMap<String, String> = BTreeMap::new();
    let mut fixed = Vec::new();
    if let Some((lb, a)) = svc
        .load_balancers
        .first()
        .and_then(|lb| lb.advanced.as_ref().map(|a| (lb, a)))
    {
        fixed.push((
            a.production_listener_rule.as_deref(),
            lb.target_group_arn.as_str(),
        ));
        fixed.push((
            a.test_listener_rule.as_deref(),
            a.alternate_target_group_arn.as_str(),
        ));
    }
    let (chosen, extra) = assign_rules(r.rules, r.tgs, &fixed);
    for tg in r.tgs {
        let rule = chosen.get(&tg.arn).copied();
        if let Some(rule) = rule {
            rule_owner.insert(rule.arn.clone(), tg.name.clone());
        }
        let others = extra.get(&tg.arn).cloned().unwrap_or_default();
        documents.push(target_group::target_group(r, tg, rule, &others));
    }
    documents.push(service::service(r, &rule_owner));
    documents.extend(scaling::scaling_policy(r));
    Imported {
        service: svc.id.clone(),
        documents,
    }
}

/// The YAML of one service's manifests, with a header and each document's comments.
pub fn yaml(imported: &Imported, revision_note: &str) -> String {
    yaml_documents(
        &format!(
            "# Imported by `ecsd import` from service {} ({revision_note}).\n# Every value is what AWS had (`# the default`: what ecsd assumes when the field is left out);\n# review it, then `ecsd apply --adopt` takes the resources over.",
            imported.service
        ),
        &imported.documents,
    )
}
