//! The fake's ECS: clusters, services and their deployments, task sets, task
//! definitions, tags.

use ecsd_model::service::{HookAction, TaskDefinition};
use ecsd_plan::ops::DeploymentInput;
use ecsd_plan::ownership::cluster_name;
use ecsd_plan::state::ClusterStatus;
use ecsd_plan::state::{
    DeploymentConfigurationState, DeploymentController, DeploymentState, DeploymentStatus,
    NativeDeployment, RolloutState, ServiceDeploymentStatus, ServiceId, ServiceLoadBalancer,
    ServiceState, ServiceStatus, StabilityStatus, Tags, TaskDefinitionState, TaskSetState,
    TaskSetStatus,
};
use tokio::time::Instant;

use crate::ecs::{
    Cluster, ClusterLookup, CreateService, EcsApi, ResolvedLoadBalancer, RollbackFound,
    UpdateService,
};
use crate::error::AwsError;

#[allow(unused_imports)]
use super::native::{self, NativeRun, Outcome};
use super::{ACCOUNT, DRAIN, FakeAws, FakeServiceDeployment, REGION, error, not_found};

pub(super) fn service_arn(id: &ServiceId) -> String {
    format!(
        "arn:aws:ecs:{REGION}:{ACCOUNT}:service/{}/{}",
        id.cluster, id.name
    )
}

/// The deployment configuration ECS stores for a request's (every field of it).
pub(super) fn configuration(d: &DeploymentInput) -> DeploymentConfigurationState {
    DeploymentConfigurationState {
        minimum_healthy_percent: Some(d.minimum_healthy_percent),
        maximum_percent: Some(d.maximum_percent),
        circuit_breaker: d.circuit_breaker,
        alarms: d.alarms.clone(),
        early_success_criteria: d.early_success_criteria,
        strategy: d.strategy.map(|s| s.ecs_name().to_owned()),
        bake_time_minutes: d.native.as_ref().map(|n| n.bake_time_minutes),
        linear: d.native.as_ref().and_then(|n| n.linear),
        canary: d.native.as_ref().and_then(|n| n.canary),
        lifecycle_hooks: d.lifecycle_hooks.clone(),
    }
}

pub(super) fn lbs(l: &[ResolvedLoadBalancer]) -> Vec<ServiceLoadBalancer> {
    l.iter()
        .map(|lb| ServiceLoadBalancer {
            advanced: lb.advanced.clone(),
            target_group_arn: lb.target_group_arn.clone(),
            container_name: lb.container_name.clone(),
            container_port: lb.container_port,
        })
        .collect()
}

pub(super) fn deployment(id: &str, td: &str, desired: u32) -> DeploymentState {
    DeploymentState {
        id: format!("ecs-svc/{id}"),
        status: DeploymentStatus::Primary,
        rollout_state: Some(RolloutState::InProgress),
        rollout_state_reason: None,
        task_definition_arn: td.to_owned(),
        desired_count: desired,
        running_count: 0,
        failed_tasks: 0,
    }
}

pub(super) fn task_set(
    id: &str,
    td: &str,
    desired: u32,
    external_id: Option<String>,
) -> TaskSetState {
    TaskSetState {
        id: format!("ecs-svc/{id}"),
        status: TaskSetStatus::Primary,
        task_definition_arn: td.to_owned(),
        computed_desired_count: desired,
        running_count: 0,
        pending_count: 0,
        stability_status: StabilityStatus::Stabilizing,
        external_id,
    }
}

impl EcsApi for FakeAws {
    async fn describe_clusters(&self, clusters: &[String]) -> Result<ClusterLookup, AwsError> {
        let s = self.call("ECS", "DescribeClusters").await?;
        let mut lookup = ClusterLookup::default();
        for c in clusters {
            let name = cluster_name(c);
            if s.clusters.contains(name) {
                lookup.found.push(Cluster {
                    name: name.to_owned(),
                    arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"),
                    status: ClusterStatus::Active,
                });
            } else {
                lookup.missing.push(name.to_owned());
            }
        }
        Ok(lookup)
    }

    async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<Vec<ServiceState>, AwsError> {
        self.hang_if_stalled("ECS.DescribeServices").await;
        let s = self.call("ECS", "DescribeServices").await?;
        // AWS answers ClusterNotFoundException for a cluster that does not exist.
        if !s.clusters.iter().any(|c| c == cluster) {
            return Err(not_found(
                "ECS",
                "DescribeServices",
                "ClusterNotFoundException",
                cluster,
            ));
        }
        Ok(names
            .iter()
            .filter_map(|n| s.services.get(&ServiceId::new(cluster, n.clone())).cloned())
            .collect())
    }

    async fn list_clusters(&self) -> Result<Vec<String>, AwsError> {
        let s = self.call("ECS", "ListClusters").await?;
        Ok(s.clusters.iter().cloned().collect())
    }

    async fn list_services(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        let s = self.call("ECS", "ListServices").await?;
        // ListServices leaves out DRAINING services.
        Ok(s.services
            .values()
            .filter(|svc| svc.id.cluster == cluster && svc.status == ServiceStatus::Active)
            .map(|svc| svc.id.name.clone())
            .collect())
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinitionState, AwsError> {
        let s = self.call("ECS", "DescribeTaskDefinition").await?;
        s.task_definitions
            .get(arn)
            .cloned()
            .ok_or_else(|| not_found("ECS", "DescribeTaskDefinition", "ClientException", arn))
    }

    async fn latest_task_definition(
        &self,
        family: &str,
    ) -> Result<Option<TaskDefinitionState>, AwsError> {
        let s = self.call("ECS", "ListTaskDefinitions").await?;
        Ok(s.task_definitions
            .values()
            .filter(|t| t.family == family)
            .max_by_key(|t| t.revision)
            .cloned())
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let mut s = self.call("ECS", "RegisterTaskDefinition").await?;
        let family = definition.family.clone().unwrap_or_default();
        let revision = 1 + s
            .task_definitions
            .values()
            .filter(|t| t.family == family)
            .count() as u32;
        let arn = format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}");
        s.task_definitions.insert(
            arn.clone(),
            TaskDefinitionState {
                arn: arn.clone(),
                family,
                revision,
                definition: definition.clone(),
                unmodeled: Vec::new(),
            },
        );
        s.ecs_tags.insert(arn.clone(), tags.clone());
        drop(s);
        self.deliver("ECS", "RegisterTaskDefinition", arn)
    }

    async fn create_service(&self, input: &CreateService) -> Result<ServiceState, AwsError> {
        let mut s = self.call("ECS", "CreateService").await?;
        let invalid = |m: String| error("ECS", "CreateService", "InvalidParameterException", m);
        if !s.clusters.contains(&input.settings.id.cluster) {
            return Err(not_found(
                "ECS",
                "CreateService",
                "ClusterNotFoundException",
                &input.settings.id.cluster,
            ));
        }
        match s.services.get(&input.settings.id).map(|svc| &svc.status) {
            Some(ServiceStatus::Draining) => {
                return Err(invalid(
                    "Unable to Start a service that is still Draining.".to_owned(),
                ));
            }
            Some(_) => {
                return Err(invalid(
                    "Creation of service was not idempotent.".to_owned(),
                ));
            }
            None => {}
        }
        if let Some(lb) = input
            .load_balancers
            .iter()
            .find(|lb| !s.behind_load_balancer(&lb.target_group_arn))
        {
            return Err(invalid(format!(
                "The target group with targetGroupArn {} does not have an associated load balancer.",
                lb.target_group_arn
            )));
        }
        let code_deploy = input.settings.deployment_controller == DeploymentController::CodeDeploy;
        if code_deploy && input.settings.deployment.circuit_breaker.is_some() {
            return Err(invalid(
                "The deployment circuit breaker is only supported for services using the rolling update (ECS) deployment type.".to_owned(),
            ));
        }
        let dc = configuration(&input.settings.deployment);
        native::check(
            &dc,
            input
                .load_balancers
                .first()
                .and_then(|lb| lb.advanced.as_ref()),
        )
        .map_err(invalid)?;
        let id = s.id();
        let td = input.task_definition_arn.clone();
        let svc = ServiceState {
            arn: service_arn(&input.settings.id),
            id: input.settings.id.clone(),
            status: ServiceStatus::Active,
            desired_count: input.settings.desired_count,
            running_count: 0,
            pending_count: 0,
            task_definition_arn: td.clone(),
            network: input.settings.network.clone(),
            load_balancers: lbs(&input.load_balancers),
            deployment_configuration: dc,
            health_check_grace_period_seconds: input.settings.health_check_grace_period_seconds,
            deployment_controller: input.settings.deployment_controller.clone(),
            deployments: (!code_deploy)
                .then(|| deployment(&id, &td, input.settings.desired_count))
                .into_iter()
                .collect(),
            task_sets: code_deploy
                .then(|| task_set(&id, &td, input.settings.desired_count, None))
                .into_iter()
                .collect(),
            unmodeled: Vec::new(),
            start_impaired: None,
            tags: input.tags.clone(),
        };
        s.services.insert(input.settings.id.clone(), svc.clone());
        if !code_deploy {
            s.record_deployment(&input.settings.id, &td);
        }
        drop(s);
        self.deliver("ECS", "CreateService", svc)
    }

    async fn update_service(&self, input: &UpdateService) -> Result<ServiceState, AwsError> {
        let mut s = self.call("ECS", "UpdateService").await?;
        let invalid = |m: &str| {
            error(
                "ECS",
                "UpdateService",
                "InvalidParameterException",
                m.to_owned(),
            )
        };
        let id = s.id();
        let svc = s
            .services
            .get_mut(&input.settings.id)
            .filter(|svc| svc.status == ServiceStatus::Active)
            .ok_or_else(|| {
                not_found(
                    "ECS",
                    "UpdateService",
                    "ServiceNotActiveException",
                    &input.settings.id.name,
                )
            })?;
        // The move from CodeDeploy to ECS's own blue/green (AWS's documented migration):
        // the service keeps its tasks; its task set becomes its PRIMARY deployment.
        if svc.deployment_controller == DeploymentController::CodeDeploy
            && input.settings.to_ecs_controller
        {
            let native = input
                .settings
                .deployment
                .as_ref()
                .and_then(|d| d.strategy)
                .is_some_and(|st| st.is_native());
            if !native || input.load_balancers.is_none() {
                return Err(invalid(
                    "A service moves from the CODE_DEPLOY to the ECS deployment controller only with a BLUE_GREEN, LINEAR or CANARY strategy and its load balancers' advancedConfiguration.",
                ));
            }
            svc.deployment_controller = DeploymentController::Ecs;
            let running = svc
                .primary_task_set()
                .map_or(svc.task_definition_arn.clone(), |t| {
                    t.task_definition_arn.clone()
                });
            let mut primary = deployment(&id, &running, svc.desired_count);
            primary.rollout_state = Some(RolloutState::Completed);
            primary.running_count = svc.desired_count;
            svc.deployments = vec![primary];
            svc.task_sets.clear();
            svc.task_definition_arn = running;
        }
        if svc.deployment_controller == DeploymentController::CodeDeploy {
            if input.task_definition_arn.is_some()
                || input.settings.network.is_some()
                || input.load_balancers.is_some()
            {
                return Err(invalid(
                    "Unable to update task definition on services with a CODE_DEPLOY deployment controller. Use AWS CodeDeploy to trigger a new deployment.",
                ));
            }
            if input
                .settings
                .deployment
                .as_ref()
                .is_some_and(|d| d.circuit_breaker.is_some())
            {
                return Err(invalid(
                    "The deployment circuit breaker is only supported for services using the rolling update (ECS) deployment type.",
                ));
            }
        }
        // The new settings govern the deployment this update starts.
        if let Some(d) = &input.settings.deployment {
            let mut dc = configuration(d);
            // What a request leaves out, ECS keeps.
            if d.circuit_breaker.is_none() {
                dc.circuit_breaker = svc.deployment_configuration.circuit_breaker;
            }
            if d.alarms.is_none() {
                dc.alarms = svc.deployment_configuration.alarms.clone();
            }
            if d.early_success_criteria.is_none() {
                dc.early_success_criteria = svc.deployment_configuration.early_success_criteria;
            }
            let lbs_now = input
                .load_balancers
                .as_ref()
                .map_or(svc.load_balancers.clone(), |l| lbs(l));
            native::check(&dc, lbs_now.first().and_then(|lb| lb.advanced.as_ref()))
                .map_err(|m| invalid(&m))?;
            svc.deployment_configuration = dc;
        }
        let mut deployed = None;
        if let Some(td) = &input.task_definition_arn {
            svc.task_definition_arn = td.clone();
            // The running deployment becomes ACTIVE and drains; the new one is PRIMARY.
            svc.deployments
                .iter_mut()
                .for_each(|d| d.status = DeploymentStatus::Active);
            svc.deployments
                .insert(0, deployment(&id, td, svc.desired_count));
            deployed = Some(td.clone());
        }
        if let Some(n) = input.settings.desired_count {
            svc.desired_count = n;
        }
        if let Some(n) = &input.settings.network {
            svc.network = n.clone();
        }
        if let Some(l) = &input.load_balancers {
            svc.load_balancers = lbs(l);
        }
        if let Some(g) = input.settings.health_check_grace_period_seconds {
            svc.health_check_grace_period_seconds = Some(g);
        }
        let updated = svc.clone();
        if let Some(td) = deployed {
            s.record_deployment(&input.settings.id, &td);
        }
        Ok(updated)
    }

    async fn delete_service(&self, id: &ServiceId) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "DeleteService").await?;
        let svc = s
            .services
            .get_mut(id)
            .filter(|svc| svc.status == ServiceStatus::Active)
            .ok_or_else(|| {
                not_found("ECS", "DeleteService", "ServiceNotFoundException", &id.name)
            })?;
        svc.status = ServiceStatus::Draining;
        svc.desired_count = 0;
        s.draining_until.insert(id.clone(), Instant::now() + DRAIN);
        Ok(())
    }

    async fn rolled_back_deployment(
        &self,
        id: &ServiceId,
    ) -> Result<Option<RollbackFound>, AwsError> {
        let s = self.call("ECS", "ListServiceDeployments").await?;
        let mine: Vec<&FakeServiceDeployment> = s
            .service_deployments
            .iter()
            .filter(|d| d.service == *id)
            .collect();
        let Some(rolled) = mine
            .iter()
            .filter(|d| d.status.rolled_back())
            .max_by_key(|d| d.created)
        else {
            return Ok(None);
        };
        if mine.iter().any(|d| d.created > rolled.created) {
            return Ok(None);
        }
        Ok(Some(RollbackFound {
            deployment_arn: rolled.arn.clone(),
            status: rolled.status.clone(),
            reason: rolled
                .reason
                .clone()
                .unwrap_or_else(|| "no reason given".into()),
            task_definition_arn: rolled.task_definition_arn.clone(),
        }))
    }

    async fn current_deployment(
        &self,
        id: &ServiceId,
    ) -> Result<Option<NativeDeployment>, AwsError> {
        let mut s = self.call("ECS", "ListServiceDeployments").await?;
        let Some(d) = s
            .service_deployments
            .iter()
            .filter(|d| d.service == *id && d.status.in_flight())
            .max_by_key(|d| d.created)
            .cloned()
        else {
            return Ok(None);
        };
        s.calls.push("ECS.DescribeServiceDeployments".to_owned());
        let run = d.native.as_ref();
        Ok(Some(NativeDeployment {
            arn: d.arn.clone(),
            status: d.status.clone(),
            status_reason: d.reason.clone(),
            stage: run.map(|r| r.stage().to_owned()),
            target_revision_arn: Some(d.arn.replace(":service-deployment/", ":service-revision/")),
            production_weight: run.map(|r| r.weight),
            hooks: run.map(NativeRun::hook_details).unwrap_or_default(),
            rollback_reason: None,
        }))
    }

    async fn continue_deployment(
        &self,
        deployment_arn: &str,
        hook_id: &str,
        action: HookAction,
    ) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "ContinueServiceDeployment").await?;
        let invalid = |m: String| {
            error(
                "ECS",
                "ContinueServiceDeployment",
                "InvalidParameterException",
                m,
            )
        };
        let Some(d) = s
            .service_deployments
            .iter_mut()
            .find(|d| d.arn == deployment_arn)
        else {
            return Err(not_found(
                "ECS",
                "ContinueServiceDeployment",
                "ServiceDeploymentNotFoundException",
                deployment_arn,
            ));
        };
        if d.status != ServiceDeploymentStatus::InProgress {
            return Err(invalid(format!(
                "The service deployment {deployment_arn} is not IN_PROGRESS."
            )));
        }
        let service = d.service.clone();
        let run = d.native.as_mut().ok_or_else(|| {
            invalid(format!(
                "The lifecycle hook {hook_id} is not in AWAITING_ACTION status."
            ))
        })?;
        match run
            .resolve(hook_id, action, Instant::now())
            .map_err(invalid)?
        {
            Outcome::RolledBack(reason) => s.roll_back_newest(&service, &reason, false),
            Outcome::Succeeded => s.complete_newest(&service),
            Outcome::Running => s.run_deployments(),
        }
        drop(s);
        self.deliver("ECS", "ContinueServiceDeployment", ())
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let s = self.call("ECS", "ListTagsForResource").await?;
        Ok(s.services
            .values()
            .find(|x| x.arn == arn)
            .map(|x| x.tags.clone())
            .or_else(|| s.ecs_tags.get(arn).cloned())
            .unwrap_or_default())
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "TagResource").await?;
        if let Some(svc) = s.services.values_mut().find(|x| x.arn == arn) {
            svc.tags.extend(tags.clone());
        } else {
            s.ecs_tags
                .entry(arn.to_owned())
                .or_default()
                .extend(tags.clone());
        }
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "UntagResource").await?;
        let tags = match s.services.values_mut().find(|x| x.arn == arn) {
            Some(svc) => &mut svc.tags,
            None => s.ecs_tags.entry(arn.to_owned()).or_default(),
        };
        tags.retain(|k, _| !keys.contains(k));
        Ok(())
    }
}
