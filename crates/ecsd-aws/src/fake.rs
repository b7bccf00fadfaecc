//! An in-memory AWS account implementing [`EcsApi`], [`Elbv2Api`] and [`ScalingApi`],
//! for unit tests of the code above them. It records every call, can fail chosen
//! operations, and lets a test change its state as someone outside ecsd would (drift).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ecsd_model::service::TaskDefinition;
use ecsd_plan::ops::{HealthCheckInput, TargetGroupInput};
use ecsd_plan::state::{
    CodeDeployment, DeploymentGroupState, DeploymentState, HealthCheckState, RuleState,
    ScalableTargetState, ScalingPolicyState, ScheduledActionState, ServiceLoadBalancer,
    ServiceState, Tags, TargetGroupState, TaskDefinitionState,
};

use crate::codedeploy::{CodeDeployApi, appspec_task_definition};
use ecsd_plan::ownership::cluster_name;

use crate::ecs::{Cluster, ClusterLookup, CreateService, EcsApi, UpdateService};
use crate::elbv2::Elbv2Api;
use crate::error::AwsError;
use crate::scaling::{ScalingApi, ServiceScaling, TargetTrackingInput};
use crate::stats::is_mutating;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// The fake account's state; tests may read and change it through [`FakeAws::edit`].
#[derive(Debug, Default)]
pub struct FakeState {
    pub clusters: BTreeSet<String>,
    pub services: BTreeMap<(String, String), ServiceState>,
    pub task_definitions: BTreeMap<String, TaskDefinitionState>,
    pub target_groups: BTreeMap<String, TargetGroupState>,
    pub deregistration_delays: BTreeMap<String, u32>,
    /// Listener ARN -> rules.
    pub rules: BTreeMap<String, Vec<RuleState>>,
    pub scaling: ServiceScaling,
    /// Tags given to scalable targets when they were created, by resource id.
    pub scalable_target_tags: BTreeMap<String, Tags>,
    /// CodeDeploy applications.
    pub code_deploy_apps: BTreeSet<String>,
    /// CodeDeploy deployment groups by (application, group).
    pub deployment_groups: BTreeMap<(String, String), DeploymentGroupState>,
    /// CodeDeploy deployments, oldest first, with their (application, group).
    pub code_deployments: Vec<((String, String), CodeDeployment)>,
    /// Every call, as `Service.Operation`.
    pub calls: Vec<String>,
    /// Operations that fail with this AWS error code.
    pub failures: BTreeMap<String, String>,
    /// Operations whose next answer is lost: they take effect, then fail like a
    /// dropped connection.
    pub lost_answers: BTreeSet<String>,
    next_id: u64,
}

impl FakeState {
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("{:016x}", self.next_id)
    }
}

/// An in-memory AWS account. Clones share the account, so one fake can serve as the
/// ECS, ELBv2 and Application Auto Scaling client at once.
#[derive(Debug, Default, Clone)]
pub struct FakeAws {
    state: Arc<Mutex<FakeState>>,
}

impl FakeAws {
    /// An account with these (ACTIVE) clusters and listeners.
    pub fn with(clusters: &[&str], listeners: &[&str]) -> Self {
        let fake = FakeAws::default();
        fake.edit(|s| {
            s.clusters.extend(clusters.iter().map(|c| (*c).to_owned()));
            s.rules
                .extend(listeners.iter().map(|l| ((*l).to_owned(), Vec::new())));
        });
        fake
    }

    /// Adds an ACTIVE cluster.
    pub fn add_cluster(&self, name: &str) {
        self.edit(|s| {
            s.clusters.insert(name.to_owned());
        });
    }

    /// Reads or changes the state, as something outside ecsd would.
    pub fn edit<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.lock())
    }

    /// Calls made so far.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    /// Calls made so far that change something.
    pub fn mutating_calls(&self) -> Vec<String> {
        self.calls()
            .into_iter()
            .filter(|c| is_mutating(c.rsplit('.').next().unwrap_or_default()))
            .collect()
    }

    /// Makes the next `Service.Operation` take effect but lose its answer.
    pub fn lose_next_answer(&self, call: &str) {
        self.lock().lost_answers.insert(call.to_owned());
    }

    /// The answer to a call that took effect, unless it is to be lost.
    fn deliver<T>(
        &self,
        service: &'static str,
        operation: &'static str,
        value: T,
    ) -> Result<T, AwsError> {
        if self
            .lock()
            .lost_answers
            .remove(&format!("{service}.{operation}"))
        {
            return Err(AwsError::Transport {
                service,
                operation,
                message: "connection closed before the answer arrived (injected)".to_owned(),
            });
        }
        Ok(value)
    }

    /// Forgets the calls made so far.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// Makes `Service.Operation` fail with an AWS error code from now on.
    pub fn fail(&self, call: &str, code: &str) {
        self.lock()
            .failures
            .insert(call.to_owned(), code.to_owned());
    }

    fn lock(&self) -> MutexGuard<'_, FakeState> {
        // A panic in another test thread must not hide this test's result.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a call and fails it if asked to; returns the locked state.
    fn call(
        &self,
        service: &'static str,
        operation: &'static str,
    ) -> Result<MutexGuard<'_, FakeState>, AwsError> {
        let mut s = self.lock();
        let name = format!("{service}.{operation}");
        s.calls.push(name.clone());
        if let Some(code) = s.failures.get(&name) {
            return Err(AwsError::Service {
                service,
                operation,
                code: code.clone(),
                message: format!("injected failure of {name}"),
            });
        }
        Ok(s)
    }
}

fn not_found(service: &'static str, operation: &'static str, code: &str, what: &str) -> AwsError {
    AwsError::Service {
        service,
        operation,
        code: code.to_owned(),
        message: format!("{what} not found"),
    }
}

impl EcsApi for FakeAws {
    async fn describe_clusters(&self, clusters: &[String]) -> Result<ClusterLookup, AwsError> {
        let s = self.call("ECS", "DescribeClusters")?;
        let mut lookup = ClusterLookup::default();
        for c in clusters {
            let name = cluster_name(c);
            if s.clusters.contains(name) {
                lookup.found.push(Cluster {
                    name: name.to_owned(),
                    arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{name}"),
                    status: "ACTIVE".to_owned(),
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
        let s = self.call("ECS", "DescribeServices")?;
        Ok(names
            .iter()
            .filter_map(|n| s.services.get(&(cluster.to_owned(), n.clone())).cloned())
            .collect())
    }

    async fn list_clusters(&self) -> Result<Vec<String>, AwsError> {
        let s = self.call("ECS", "ListClusters")?;
        Ok(s.clusters.iter().cloned().collect())
    }

    async fn list_services(&self, cluster: &str) -> Result<Vec<String>, AwsError> {
        let s = self.call("ECS", "ListServices")?;
        Ok(s.services
            .keys()
            .filter(|(c, _)| c == cluster)
            .map(|(_, n)| n.clone())
            .collect())
    }

    async fn describe_task_definition(&self, arn: &str) -> Result<TaskDefinitionState, AwsError> {
        let s = self.call("ECS", "DescribeTaskDefinition")?;
        s.task_definitions
            .get(arn)
            .cloned()
            .ok_or_else(|| not_found("ECS", "DescribeTaskDefinition", "ClientException", arn))
    }

    async fn latest_task_definition(
        &self,
        family: &str,
    ) -> Result<Option<TaskDefinitionState>, AwsError> {
        let s = self.call("ECS", "ListTaskDefinitions")?;
        Ok(s.task_definitions
            .values()
            .filter(|t| t.family == family)
            .max_by_key(|t| t.revision)
            .cloned())
    }

    async fn register_task_definition(
        &self,
        definition: &TaskDefinition,
        _tags: &Tags,
    ) -> Result<String, AwsError> {
        let mut s = self.call("ECS", "RegisterTaskDefinition")?;
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
            },
        );
        drop(s);
        self.deliver("ECS", "RegisterTaskDefinition", arn)
    }

    async fn create_service(&self, input: &CreateService) -> Result<ServiceState, AwsError> {
        let mut s = self.call("ECS", "CreateService")?;
        if !s.clusters.contains(&input.cluster) {
            return Err(not_found(
                "ECS",
                "CreateService",
                "ClusterNotFoundException",
                &input.cluster,
            ));
        }
        let id = s.id();
        let svc = ServiceState {
            arn: format!(
                "arn:aws:ecs:{REGION}:{ACCOUNT}:service/{}/{}",
                input.cluster, input.name
            ),
            name: input.name.clone(),
            cluster_arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{}", input.cluster),
            status: "ACTIVE".to_owned(),
            desired_count: input.desired_count,
            running_count: 0,
            pending_count: 0,
            task_definition_arn: input.task_definition_arn.clone(),
            subnets: input.network.subnets.clone(),
            security_groups: input.network.security_groups.clone(),
            assign_public_ip: input.network.assign_public_ip,
            load_balancers: lbs(&input.load_balancers),
            minimum_healthy_percent: input.deployment.minimum_healthy_percent,
            maximum_percent: input.deployment.maximum_percent,
            circuit_breaker: input.deployment.circuit_breaker,
            health_check_grace_period_seconds: input.health_check_grace_period_seconds,
            deployment_controller: input
                .deployment_controller
                .clone()
                .unwrap_or_else(|| "ECS".to_owned()),
            deployments: vec![deployment(
                &id,
                &input.task_definition_arn,
                input.desired_count,
            )],
            tags: input.tags.clone(),
        };
        s.services
            .insert((input.cluster.clone(), input.name.clone()), svc.clone());
        drop(s);
        self.deliver("ECS", "CreateService", svc)
    }

    async fn update_service(&self, input: &UpdateService) -> Result<ServiceState, AwsError> {
        let mut s = self.call("ECS", "UpdateService")?;
        let id = s.id();
        let svc = s
            .services
            .get_mut(&(input.cluster.clone(), input.name.clone()))
            .ok_or_else(|| {
                not_found(
                    "ECS",
                    "UpdateService",
                    "ServiceNotFoundException",
                    &input.name,
                )
            })?;
        if let Some(td) = &input.task_definition_arn {
            svc.task_definition_arn = td.clone();
            // The running deployment becomes ACTIVE and drains; the new one is PRIMARY.
            svc.deployments
                .iter_mut()
                .for_each(|d| d.status = "ACTIVE".to_owned());
            svc.deployments
                .insert(0, deployment(&id, td, svc.desired_count));
        }
        if let Some(n) = input.desired_count {
            svc.desired_count = n;
        }
        if let Some(n) = &input.network {
            svc.subnets = n.subnets.clone();
            svc.security_groups = n.security_groups.clone();
            svc.assign_public_ip = n.assign_public_ip;
        }
        if let Some(l) = &input.load_balancers {
            svc.load_balancers = lbs(l);
        }
        if let Some(g) = input.health_check_grace_period_seconds {
            svc.health_check_grace_period_seconds = Some(g);
        }
        if let Some(d) = &input.deployment {
            svc.minimum_healthy_percent = d.minimum_healthy_percent.or(svc.minimum_healthy_percent);
            svc.maximum_percent = d.maximum_percent.or(svc.maximum_percent);
            svc.circuit_breaker = d.circuit_breaker.or(svc.circuit_breaker);
        }
        Ok(svc.clone())
    }

    async fn delete_service(&self, cluster: &str, name: &str) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "DeleteService")?;
        s.services
            .remove(&(cluster.to_owned(), name.to_owned()))
            .map(|_| ())
            .ok_or_else(|| not_found("ECS", "DeleteService", "ServiceNotFoundException", name))
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("ECS", "TagResource")?;
        if let Some(svc) = s.services.values_mut().find(|x| x.arn == arn) {
            svc.tags.extend(tags.clone());
        }
        Ok(())
    }
}

fn lbs(l: &[(String, String, u16)]) -> Vec<ServiceLoadBalancer> {
    l.iter()
        .map(|(a, c, p)| ServiceLoadBalancer {
            target_group_arn: a.clone(),
            container_name: c.clone(),
            container_port: *p,
        })
        .collect()
}

fn deployment(id: &str, td: &str, desired: u32) -> DeploymentState {
    DeploymentState {
        id: format!("ecs-svc/{id}"),
        status: "PRIMARY".to_owned(),
        rollout_state: Some("IN_PROGRESS".to_owned()),
        rollout_state_reason: None,
        task_definition_arn: td.to_owned(),
        desired_count: desired,
        running_count: 0,
        failed_tasks: 0,
    }
}

fn apply_health(h: &mut HealthCheckState, input: &HealthCheckInput) {
    if let Some(p) = &input.path {
        h.path = Some(p.clone());
    }
    h.interval_seconds = input.interval_seconds.unwrap_or(h.interval_seconds);
    h.timeout_seconds = input.timeout_seconds.unwrap_or(h.timeout_seconds);
    h.healthy_threshold = input.healthy_threshold.unwrap_or(h.healthy_threshold);
    h.unhealthy_threshold = input.unhealthy_threshold.unwrap_or(h.unhealthy_threshold);
    if let Some(m) = &input.matcher {
        h.matcher = m.clone();
    }
}

impl Elbv2Api for FakeAws {
    async fn describe_target_groups(
        &self,
        names: &[String],
    ) -> Result<Vec<TargetGroupState>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroups")?;
        Ok(names
            .iter()
            .filter_map(|n| s.target_groups.get(n))
            .map(|t| TargetGroupState {
                tags: Tags::new(),
                ..t.clone()
            })
            .collect())
    }

    async fn list_target_groups(&self) -> Result<Vec<TargetGroupState>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroups")?;
        Ok(s.target_groups
            .values()
            .map(|t| TargetGroupState {
                tags: Tags::new(),
                ..t.clone()
            })
            .collect())
    }

    async fn describe_tags(&self, arns: &[String]) -> Result<BTreeMap<String, Tags>, AwsError> {
        let s = self.call("ELBv2", "DescribeTags")?;
        let mut out = BTreeMap::new();
        for arn in arns {
            let tags = s
                .target_groups
                .values()
                .find(|t| &t.arn == arn)
                .map(|t| t.tags.clone())
                .or_else(|| {
                    s.rules
                        .values()
                        .flatten()
                        .find(|r| &r.arn == arn)
                        .map(|r| r.tags.clone())
                });
            if let Some(tags) = tags {
                out.insert(arn.clone(), tags);
            }
        }
        Ok(out)
    }

    async fn deregistration_delay(&self, arn: &str) -> Result<Option<u32>, AwsError> {
        let s = self.call("ELBv2", "DescribeTargetGroupAttributes")?;
        Ok(Some(
            s.deregistration_delays.get(arn).copied().unwrap_or(300),
        ))
    }

    async fn create_target_group(
        &self,
        input: &TargetGroupInput,
    ) -> Result<TargetGroupState, AwsError> {
        let mut s = self.call("ELBv2", "CreateTargetGroup")?;
        if s.target_groups.contains_key(&input.name) {
            return Err(not_found(
                "ELBv2",
                "CreateTargetGroup",
                "DuplicateTargetGroupName",
                &input.name,
            ));
        }
        let id = s.id();
        let mut health = HealthCheckState {
            path: Some("/".to_owned()),
            interval_seconds: 30,
            timeout_seconds: 5,
            healthy_threshold: 5,
            unhealthy_threshold: 2,
            matcher: "200".to_owned(),
        };
        apply_health(&mut health, &input.health_check);
        let tg = TargetGroupState {
            arn: format!(
                "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{}/{id}",
                input.name
            ),
            name: input.name.clone(),
            vpc_id: input.vpc_id.clone(),
            port: input.port,
            protocol: input.protocol.clone(),
            target_type: "ip".to_owned(),
            health_check: health,
            load_balancer_arns: Vec::new(),
            tags: input.tags.clone(),
            deregistration_delay_seconds: None,
        };
        s.target_groups.insert(input.name.clone(), tg.clone());
        drop(s);
        self.deliver("ELBv2", "CreateTargetGroup", tg)
    }

    async fn modify_health_check(&self, arn: &str, hc: &HealthCheckInput) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyTargetGroup")?;
        let tg = s
            .target_groups
            .values_mut()
            .find(|t| t.arn == arn)
            .ok_or_else(|| not_found("ELBv2", "ModifyTargetGroup", "TargetGroupNotFound", arn))?;
        apply_health(&mut tg.health_check, hc);
        Ok(())
    }

    async fn set_deregistration_delay(&self, arn: &str, seconds: u32) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyTargetGroupAttributes")?;
        s.deregistration_delays.insert(arn.to_owned(), seconds);
        Ok(())
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "AddTags")?;
        if let Some(t) = s.target_groups.values_mut().find(|t| t.arn == arn) {
            t.tags.extend(tags.clone());
        } else if let Some(r) = s.rules.values_mut().flatten().find(|r| r.arn == arn) {
            r.tags.extend(tags.clone());
        }
        Ok(())
    }

    async fn delete_target_group(&self, arn: &str) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "DeleteTargetGroup")?;
        s.target_groups.retain(|_, t| t.arn != arn);
        Ok(())
    }

    async fn describe_rules(&self, listener_arn: &str) -> Result<Vec<RuleState>, AwsError> {
        let s = self.call("ELBv2", "DescribeRules")?;
        let rules = s
            .rules
            .get(listener_arn)
            .ok_or_else(|| not_found("ELBv2", "DescribeRules", "ListenerNotFound", listener_arn))?;
        Ok(rules
            .iter()
            .map(|r| RuleState {
                tags: Tags::new(),
                ..r.clone()
            })
            .collect())
    }

    async fn describe_listeners(&self, _load_balancer_arn: &str) -> Result<Vec<String>, AwsError> {
        let s = self.call("ELBv2", "DescribeListeners")?;
        Ok(s.rules.keys().cloned().collect())
    }

    async fn create_rule(
        &self,
        listener_arn: &str,
        priority: u32,
        path_patterns: &[String],
        host_headers: &[String],
        target_group_arn: &str,
        tags: &Tags,
    ) -> Result<String, AwsError> {
        let mut s = self.call("ELBv2", "CreateRule")?;
        let id = s.id();
        let rules = s
            .rules
            .get_mut(listener_arn)
            .ok_or_else(|| not_found("ELBv2", "CreateRule", "ListenerNotFound", listener_arn))?;
        if rules.iter().any(|r| r.priority == Some(priority)) {
            return Err(not_found(
                "ELBv2",
                "CreateRule",
                "PriorityInUse",
                &priority.to_string(),
            ));
        }
        let arn = format!(
            "{}/{id}",
            listener_arn.replace(":listener/", ":listener-rule/")
        );
        rules.push(RuleState {
            arn: arn.clone(),
            listener_arn: listener_arn.to_owned(),
            priority: Some(priority),
            path_patterns: path_patterns.to_vec(),
            host_headers: host_headers.to_vec(),
            forward_to: vec![target_group_arn.to_owned()],
            tags: tags.clone(),
        });
        if let Some(tg) = s
            .target_groups
            .values_mut()
            .find(|t| t.arn == target_group_arn)
        {
            tg.load_balancer_arns = vec![format!(
                "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/edge/0"
            )];
        }
        Ok(arn)
    }

    async fn modify_rule(
        &self,
        rule_arn: &str,
        path_patterns: &[String],
        host_headers: &[String],
        target_group_arn: &str,
    ) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "ModifyRule")?;
        let rule = s
            .rules
            .values_mut()
            .flatten()
            .find(|r| r.arn == rule_arn)
            .ok_or_else(|| not_found("ELBv2", "ModifyRule", "RuleNotFound", rule_arn))?;
        rule.path_patterns = path_patterns.to_vec();
        rule.host_headers = host_headers.to_vec();
        rule.forward_to = vec![target_group_arn.to_owned()];
        Ok(())
    }

    async fn set_rule_priority(&self, rule_arn: &str, priority: u32) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "SetRulePriorities")?;
        if let Some(r) = s.rules.values_mut().flatten().find(|r| r.arn == rule_arn) {
            r.priority = Some(priority);
        }
        Ok(())
    }

    async fn delete_rule(&self, rule_arn: &str) -> Result<(), AwsError> {
        let mut s = self.call("ELBv2", "DeleteRule")?;
        for rules in s.rules.values_mut() {
            rules.retain(|r| r.arn != rule_arn);
        }
        Ok(())
    }
}

impl ScalingApi for FakeAws {
    async fn describe(&self, resource_ids: &[String]) -> Result<ServiceScaling, AwsError> {
        let s = self.call("ApplicationAutoScaling", "DescribeScalableTargets")?;
        let keep = |rid: &String| resource_ids.contains(rid);
        Ok(ServiceScaling {
            targets: s
                .scaling
                .targets
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            policies: s
                .scaling
                .policies
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            actions: s
                .scaling
                .actions
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    async fn register_scalable_target(
        &self,
        resource_id: &str,
        min: u32,
        max: u32,
        tags: Option<&Tags>,
    ) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "RegisterScalableTarget")?;
        if let Some(tags) = tags.filter(|_| !s.scaling.targets.contains_key(resource_id)) {
            s.scalable_target_tags
                .insert(resource_id.to_owned(), tags.clone());
        }
        s.scaling.targets.insert(
            resource_id.to_owned(),
            ScalableTargetState {
                resource_id: resource_id.to_owned(),
                min_capacity: min,
                max_capacity: max,
            },
        );
        Ok(())
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "DeregisterScalableTarget")?;
        s.scaling.targets.remove(resource_id);
        Ok(())
    }

    async fn put_target_tracking(&self, input: &TargetTrackingInput) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "PutScalingPolicy")?;
        let policies = s
            .scaling
            .policies
            .entry(input.resource_id.clone())
            .or_default();
        policies.retain(|p| p.name != input.name);
        policies.push(ScalingPolicyState {
            resource_id: input.resource_id.clone(),
            name: input.name.clone(),
            metric_type: ecsd_plan::scaling::metric_type(input.metric).to_owned(),
            target: input.target,
            scale_in_cooldown_seconds: input.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds: input.scale_out_cooldown_seconds,
            disable_scale_in: input.disable_scale_in,
        });
        Ok(())
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "DeleteScalingPolicy")?;
        if let Some(p) = s.scaling.policies.get_mut(resource_id) {
            p.retain(|p| p.name != name);
        }
        Ok(())
    }

    async fn put_scheduled_action(&self, a: &ScheduledActionState) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "PutScheduledAction")?;
        let actions = s.scaling.actions.entry(a.resource_id.clone()).or_default();
        actions.retain(|x| x.name != a.name);
        actions.push(a.clone());
        Ok(())
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "DeleteScheduledAction")?;
        if let Some(a) = s.scaling.actions.get_mut(resource_id) {
            a.retain(|x| x.name != name);
        }
        Ok(())
    }
}

impl CodeDeployApi for FakeAws {
    async fn application_exists(&self, name: &str) -> Result<bool, AwsError> {
        let s = self.call("CodeDeploy", "GetApplication")?;
        Ok(s.code_deploy_apps.contains(name))
    }

    async fn create_application(&self, name: &str, _tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "CreateApplication")?;
        s.code_deploy_apps.insert(name.to_owned());
        Ok(())
    }

    async fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Option<DeploymentGroupState>, AwsError> {
        let s = self.call("CodeDeploy", "GetDeploymentGroup")?;
        Ok(s.deployment_groups
            .get(&(application.to_owned(), group.to_owned()))
            .cloned())
    }

    async fn create_deployment_group(&self, input: &DeploymentGroupState) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "CreateDeploymentGroup")?;
        s.deployment_groups.insert(
            (input.application.clone(), input.name.clone()),
            input.clone(),
        );
        Ok(())
    }

    async fn update_deployment_group(&self, input: &DeploymentGroupState) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "UpdateDeploymentGroup")?;
        s.deployment_groups.insert(
            (input.application.clone(), input.name.clone()),
            input.clone(),
        );
        Ok(())
    }

    async fn list_deployments(
        &self,
        application: &str,
        group: &str,
        statuses: &[&str],
    ) -> Result<Vec<String>, AwsError> {
        let s = self.call("CodeDeploy", "ListDeployments")?;
        let key = (application.to_owned(), group.to_owned());
        Ok(s.code_deployments
            .iter()
            .rev()
            .filter(|(k, d)| *k == key && statuses.contains(&d.status.as_str()))
            .map(|(_, d)| d.id.clone())
            .collect())
    }

    async fn get_deployment(&self, id: &str) -> Result<CodeDeployment, AwsError> {
        let s = self.call("CodeDeploy", "GetDeployment")?;
        s.code_deployments
            .iter()
            .find(|(_, d)| d.id == id)
            .map(|(_, d)| d.clone())
            .ok_or_else(|| {
                not_found(
                    "CodeDeploy",
                    "GetDeployment",
                    "DeploymentDoesNotExistException",
                    id,
                )
            })
    }

    async fn create_deployment(
        &self,
        application: &str,
        group: &str,
        appspec: &str,
    ) -> Result<String, AwsError> {
        let mut s = self.call("CodeDeploy", "CreateDeployment")?;
        let id = format!("d-{}", s.id());
        let deployment = CodeDeployment {
            id: id.clone(),
            status: "Created".to_owned(),
            task_definition_arn: appspec_task_definition(appspec),
            error: None,
        };
        s.code_deployments
            .push(((application.to_owned(), group.to_owned()), deployment));
        drop(s);
        self.deliver("CodeDeploy", "CreateDeployment", id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fake_ecs_reports_found_and_missing_clusters() {
        let aws = FakeAws::with(&["prod"], &[]);
        let lookup = aws
            .describe_clusters(&[
                "prod".to_owned(),
                "arn:aws:ecs:us-east-1:123456789012:cluster/gone".to_owned(),
            ])
            .await
            .expect("lookup");
        assert_eq!(lookup.found.len(), 1);
        assert_eq!(lookup.missing, vec!["gone".to_owned()]);
    }

    #[tokio::test]
    async fn injected_failures_carry_the_code_and_are_recorded() {
        let aws = FakeAws::with(&["prod"], &[]);
        aws.fail("ECS.DescribeServices", "ThrottlingException");
        let e = aws
            .describe_services("prod", &["web".to_owned()])
            .await
            .expect_err("fails");
        assert!(e.is_throttling());
        assert_eq!(aws.calls(), vec!["ECS.DescribeServices".to_owned()]);
        assert!(aws.mutating_calls().is_empty());
    }
}
