//! Application Auto Scaling of ECS services: the [`ScalingApi`] trait and its SDK
//! implementation. Everything is read per service namespace (`ecs`) in pages and
//! filtered by exact resource id here (AWS, and the emulator, match resource ids in
//! some filters by prefix or substring).

use futures_util::future::try_join_all;
use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_applicationautoscaling as aas;
use aws_sdk_applicationautoscaling::types as sdk;
use ecsd_plan::ops::{ScheduledActionInput, TargetTrackingInput};
use ecsd_plan::signals::ScalingActivity;
use ecsd_plan::state::{ScalableTargetState, ScalingPolicyState, ScheduledActionState, Tags};

use crate::config::sdk_client;
use crate::error::{AwsError, failed};
use crate::int::{i32_of, u32_of};

/// Scaling of one service: its scalable target, policies and scheduled actions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceScaling {
    pub targets: BTreeMap<String, ScalableTargetState>,
    pub policies: BTreeMap<String, Vec<ScalingPolicyState>>,
    pub actions: BTreeMap<String, Vec<ScheduledActionState>>,
}

/// The Application Auto Scaling calls ecsd makes.
pub trait ScalingApi: Send + Sync {
    /// Scalable targets, policies and scheduled actions of the given ECS resource ids
    /// (`service/CLUSTER/SERVICE`), read per namespace in pages.
    fn describe(
        &self,
        resource_ids: &[String],
    ) -> impl Future<Output = Result<ServiceScaling, AwsError>> + Send;
    /// Registers (or updates) a scalable target; `tags` are applied when it is created.
    fn register_scalable_target(
        &self,
        resource_id: &str,
        min: u32,
        max: u32,
        tags: Option<&Tags>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn deregister_scalable_target(
        &self,
        resource_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Puts a target-tracking policy; `resource_label` (`app/LB/ID/targetgroup/TG/ID`)
    /// for `requestsPerTarget`.
    fn put_target_tracking(
        &self,
        input: &TargetTrackingInput,
        resource_label: Option<&str>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_scaling_policy(
        &self,
        resource_id: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn put_scheduled_action(
        &self,
        action: &ScheduledActionInput,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn delete_scheduled_action(
        &self,
        resource_id: &str,
        name: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The newest scaling activities of one ECS resource id, newest first (one call, at
    /// most `max`).
    fn describe_scaling_activities(
        &self,
        resource_id: &str,
        max: u32,
    ) -> impl Future<Output = Result<Vec<ScalingActivity>, AwsError>> + Send;
    /// The tags of a scalable target.
    fn list_tags(&self, arn: &str) -> impl Future<Output = Result<Tags, AwsError>> + Send;
    fn tag_resource(
        &self,
        arn: &str,
        tags: &Tags,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn untag_resource(
        &self,
        arn: &str,
        keys: &[String],
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

sdk_client!(
    /// [`ScalingApi`] over the aws-sdk-applicationautoscaling client.
    SdkScaling,
    aas
);

const DIMENSION: sdk::ScalableDimension = sdk::ScalableDimension::EcsServiceDesiredCount;
/// DescribeScalableTargets takes at most 50 resource ids per call.
const RESOURCE_IDS_BATCH: usize = 50;

/// Every page of a paginated `ecs` namespace call (policies or scheduled actions) for
/// each scope, a resource id or the whole namespace, the scopes at the same time.
macro_rules! each_scope {
    ($self:ident, $scopes:expr, $call:ident, $items:ident, $operation:literal) => {
        try_join_all($scopes.iter().map(|scope| async move {
            let mut found = Vec::new();
            let mut pages = $self
                .client
                .$call()
                .service_namespace(sdk::ServiceNamespace::Ecs)
                .set_resource_id(scope.clone())
                .max_results(50)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(failed("ApplicationAutoScaling", $operation))?;
                found.extend(page.$items().iter().cloned());
            }
            Ok::<_, AwsError>(found)
        }))
    };
}

/// Up to this many services, their policies and scheduled actions are read per service
/// (one call each, at the same time) rather than by paging the whole `ecs` namespace.
const PER_RESOURCE_MAX: usize = 5;

impl ScalingApi for SdkScaling {
    async fn describe(&self, resource_ids: &[String]) -> Result<ServiceScaling, AwsError> {
        let mut out = ServiceScaling::default();
        if resource_ids.is_empty() {
            return Ok(out);
        }
        let wanted: std::collections::BTreeSet<&str> =
            resource_ids.iter().map(String::as_str).collect();
        // Targets (in batches), policies and scheduled actions are read at the same time.
        let targets = async {
            let mut targets = BTreeMap::new();
            for batch in resource_ids.chunks(RESOURCE_IDS_BATCH) {
                let mut pages = self
                    .client
                    .describe_scalable_targets()
                    .service_namespace(sdk::ServiceNamespace::Ecs)
                    .set_resource_ids(Some(batch.to_vec()))
                    .scalable_dimension(DIMENSION)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page =
                        page.map_err(failed("ApplicationAutoScaling", "DescribeScalableTargets"))?;
                    for t in page.scalable_targets() {
                        if wanted.contains(t.resource_id()) {
                            targets.insert(
                                t.resource_id().to_owned(),
                                ScalableTargetState {
                                    resource_id: t.resource_id().to_owned(),
                                    arn: t.scalable_target_arn().unwrap_or_default().to_owned(),
                                    min_capacity: u32_of(t.min_capacity()),
                                    max_capacity: u32_of(t.max_capacity()),
                                    created_at: u64::try_from(t.creation_time().secs()).ok(),
                                },
                            );
                        }
                    }
                }
            }
            Ok::<_, AwsError>(targets)
        };
        // A few services (a controller's job, a small apply): their own policies and
        // actions, one call each at the same time; more: the namespace, 50 a page.
        let scopes: Vec<Option<String>> = if resource_ids.len() <= PER_RESOURCE_MAX {
            resource_ids.iter().cloned().map(Some).collect()
        } else {
            vec![None]
        };
        let policies = async {
            let found = each_scope!(
                self,
                scopes,
                describe_scaling_policies,
                scaling_policies,
                "DescribeScalingPolicies"
            )
            .await?;
            let mut policies: BTreeMap<String, Vec<ScalingPolicyState>> = BTreeMap::new();
            for p in found.iter().flatten() {
                if !wanted.contains(p.resource_id()) || p.scalable_dimension() != &DIMENSION {
                    continue;
                }
                let Some(tt) = p.target_tracking_scaling_policy_configuration() else {
                    continue;
                };
                policies
                    .entry(p.resource_id().to_owned())
                    .or_default()
                    .push(ScalingPolicyState {
                        resource_id: p.resource_id().to_owned(),
                        name: p.policy_name().to_owned(),
                        metric_type: tt
                            .predefined_metric_specification()
                            .map(|m| m.predefined_metric_type().as_str().to_owned())
                            .unwrap_or_default(),
                        target: tt.target_value(),
                        scale_in_cooldown_seconds: tt.scale_in_cooldown().map(u32_of),
                        scale_out_cooldown_seconds: tt.scale_out_cooldown().map(u32_of),
                        disable_scale_in: tt.disable_scale_in(),
                    });
            }
            Ok::<_, AwsError>(policies)
        };
        let actions = async {
            let found = each_scope!(
                self,
                scopes,
                describe_scheduled_actions,
                scheduled_actions,
                "DescribeScheduledActions"
            )
            .await?;
            let mut actions: BTreeMap<String, Vec<ScheduledActionState>> = BTreeMap::new();
            for a in found.iter().flatten() {
                if !wanted.contains(a.resource_id()) {
                    continue;
                }
                let action = a.scalable_target_action();
                actions
                    .entry(a.resource_id().to_owned())
                    .or_default()
                    .push(ScheduledActionState {
                        resource_id: a.resource_id().to_owned(),
                        name: a.scheduled_action_name().to_owned(),
                        schedule: a.schedule().to_owned(),
                        timezone: a.timezone().map(str::to_owned),
                        min_capacity: action.and_then(|x| x.min_capacity()).map(u32_of),
                        max_capacity: action.and_then(|x| x.max_capacity()).map(u32_of),
                    });
            }
            Ok::<_, AwsError>(actions)
        };
        (out.targets, out.policies, out.actions) = tokio::try_join!(targets, policies, actions)?;
        Ok(out)
    }

    async fn register_scalable_target(
        &self,
        resource_id: &str,
        min: u32,
        max: u32,
        tags: Option<&Tags>,
    ) -> Result<(), AwsError> {
        self.client
            .register_scalable_target()
            .set_tags(tags.map(|t| t.clone().into_iter().collect()))
            .service_namespace(sdk::ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(DIMENSION)
            .min_capacity(i32_of(min))
            .max_capacity(i32_of(max))
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "RegisterScalableTarget"))?;
        Ok(())
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> Result<(), AwsError> {
        self.client
            .deregister_scalable_target()
            .service_namespace(sdk::ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(DIMENSION)
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "DeregisterScalableTarget"))?;
        Ok(())
    }

    async fn put_target_tracking(
        &self,
        input: &TargetTrackingInput,
        resource_label: Option<&str>,
    ) -> Result<(), AwsError> {
        let metric = sdk::PredefinedMetricSpecification::builder()
            .predefined_metric_type(sdk::MetricType::from(input.metric.predefined_metric_type()))
            .set_resource_label(resource_label.map(str::to_owned))
            .build()
            .map_err(|e| {
                AwsError::invalid("ApplicationAutoScaling", "PredefinedMetricSpecification", e)
            })?;
        let config = sdk::TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(input.target)
            .predefined_metric_specification(metric)
            .scale_in_cooldown(i32_of(input.scale_in_cooldown_seconds))
            .scale_out_cooldown(i32_of(input.scale_out_cooldown_seconds))
            .disable_scale_in(input.disable_scale_in)
            .build()
            .map_err(|e| {
                AwsError::invalid(
                    "ApplicationAutoScaling",
                    "TargetTrackingScalingPolicyConfiguration",
                    e,
                )
            })?;
        self.client
            .put_scaling_policy()
            .policy_name(&input.name)
            .service_namespace(sdk::ServiceNamespace::Ecs)
            .resource_id(&input.resource_id)
            .scalable_dimension(DIMENSION)
            .policy_type(sdk::PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(config)
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "PutScalingPolicy"))?;
        Ok(())
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> Result<(), AwsError> {
        self.client
            .delete_scaling_policy()
            .policy_name(name)
            .service_namespace(sdk::ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(DIMENSION)
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "DeleteScalingPolicy"))?;
        Ok(())
    }

    async fn put_scheduled_action(&self, a: &ScheduledActionInput) -> Result<(), AwsError> {
        self.client
            .put_scheduled_action()
            .service_namespace(sdk::ServiceNamespace::Ecs)
            .scheduled_action_name(&a.name)
            .resource_id(&a.resource_id)
            .scalable_dimension(DIMENSION)
            .schedule(&a.schedule)
            .timezone(&a.timezone)
            .scalable_target_action(
                sdk::ScalableTargetAction::builder()
                    .set_min_capacity(a.min_capacity.map(i32_of))
                    .set_max_capacity(a.max_capacity.map(i32_of))
                    .build(),
            )
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "PutScheduledAction"))?;
        Ok(())
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> Result<(), AwsError> {
        self.client
            .delete_scheduled_action()
            .service_namespace(sdk::ServiceNamespace::Ecs)
            .scheduled_action_name(name)
            .resource_id(resource_id)
            .scalable_dimension(DIMENSION)
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "DeleteScheduledAction"))?;
        Ok(())
    }

    async fn describe_scaling_activities(
        &self,
        resource_id: &str,
        max: u32,
    ) -> Result<Vec<ScalingActivity>, AwsError> {
        let out = self
            .client
            .describe_scaling_activities()
            .service_namespace(sdk::ServiceNamespace::Ecs)
            .resource_id(resource_id)
            .scalable_dimension(DIMENSION)
            .max_results(i32_of(max))
            .send()
            .await
            .map_err(failed(
                "ApplicationAutoScaling",
                "DescribeScalingActivities",
            ))?;
        let secs = |t: &aws_smithy_types::DateTime| u64::try_from(t.secs()).unwrap_or(0);
        Ok(out
            .scaling_activities()
            .iter()
            .map(|a| ScalingActivity {
                status: a.status_code().as_str().to_owned(),
                status_message: a.status_message().map(str::to_owned),
                description: a.description().to_owned(),
                cause: a.cause().to_owned(),
                start: secs(a.start_time()),
                end: a.end_time().map(secs),
            })
            .collect())
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "ListTagsForResource"))?;
        Ok(out
            .tags()
            .map(|t| t.clone().into_iter().collect())
            .unwrap_or_default())
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "TagResource"))?;
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(failed("ApplicationAutoScaling", "UntagResource"))?;
        Ok(())
    }
}
