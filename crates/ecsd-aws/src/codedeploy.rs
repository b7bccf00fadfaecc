//! AWS CodeDeploy for blue/green ECS services: the [`CodeDeployApi`] trait and its SDK
//! implementation.
//!
//! The newest deployment of a group comes from GetDeploymentGroup's
//! `lastAttemptedDeployment` ("the most recent attempted deployment"), so ecsd never
//! pages through a group's history or relies on the order ListDeployments returns.

use std::future::Future;

use aws_sdk_codedeploy as cd;
use aws_sdk_codedeploy::types as sdk;
use ecsd_plan::state::{
    CodeDeployStatus, CodeDeployment, DeploymentGroupState, LastDeployment, ServiceId, Tags,
};

use crate::config::sdk_client;
use crate::error::{AwsError, failed};
use crate::int::i32_of;

/// A deployment group as GetDeploymentGroup reports it: its settings and its newest
/// deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedGroup {
    pub group: DeploymentGroupState,
    pub last_attempted: Option<LastDeployment>,
}

/// The CodeDeploy calls ecsd makes.
pub trait CodeDeployApi: Send + Sync {
    fn application_exists(&self, name: &str)
    -> impl Future<Output = Result<bool, AwsError>> + Send;
    fn create_application(
        &self,
        name: &str,
        tags: &Tags,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// The deployment group, if it exists.
    fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> impl Future<Output = Result<Option<ObservedGroup>, AwsError>> + Send;
    fn create_deployment_group(
        &self,
        input: &DeploymentGroupState,
        tags: &Tags,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn update_deployment_group(
        &self,
        input: &DeploymentGroupState,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Deletes a deployment group; one already gone is not an error.
    fn delete_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Deletes an application (with any groups left in it); one already gone is not
    /// an error.
    fn delete_application(&self, name: &str) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn get_deployment(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<CodeDeployment, AwsError>> + Send;
    /// Starts a deployment of `appspec` (ECS AppSpec JSON); returns its id.
    fn create_deployment(
        &self,
        application: &str,
        group: &str,
        appspec: &str,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;
    /// The tags of an application or deployment group.
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
    /// [`CodeDeployApi`] over the aws-sdk-codedeploy client.
    SdkCodeDeploy,
    cd
);

const SERVICE: &str = "CodeDeploy";

/// A deletion whose target is already gone (one of `codes`) has done its job.
fn gone_is_done(out: Result<(), AwsError>, codes: &[&str]) -> Result<(), AwsError> {
    match out {
        Err(e) if e.code().is_some_and(|c| codes.contains(&c)) => Ok(()),
        other => other,
    }
}

fn sdk_tags(tags: &Tags) -> Vec<sdk::Tag> {
    tags.iter()
        .map(|(k, v)| sdk::Tag::builder().key(k).value(v).build())
        .collect()
}

/// The deployment group's settings in the SDK's shape.
struct GroupParts {
    style: sdk::DeploymentStyle,
    blue_green: sdk::BlueGreenDeploymentConfiguration,
    services: sdk::EcsService,
    load_balancer: sdk::LoadBalancerInfo,
    rollback: sdk::AutoRollbackConfiguration,
    alarms: sdk::AlarmConfiguration,
}

fn group_parts(g: &DeploymentGroupState) -> GroupParts {
    let route = |arns: &[String]| {
        sdk::TrafficRoute::builder()
            .set_listener_arns(Some(arns.to_vec()))
            .build()
    };
    let mut pair = sdk::TargetGroupPairInfo::builder()
        .set_target_groups(Some(
            g.target_groups
                .iter()
                .map(|n| sdk::TargetGroupInfo::builder().name(n).build())
                .collect(),
        ))
        .prod_traffic_route(route(&g.prod_listener_arns));
    if !g.test_listener_arns.is_empty() {
        pair = pair.test_traffic_route(route(&g.test_listener_arns));
    }
    GroupParts {
        style: sdk::DeploymentStyle::builder()
            .deployment_type(sdk::DeploymentType::BlueGreen)
            .deployment_option(sdk::DeploymentOption::WithTrafficControl)
            .build(),
        blue_green: sdk::BlueGreenDeploymentConfiguration::builder()
            .terminate_blue_instances_on_deployment_success(
                sdk::BlueInstanceTerminationOption::builder()
                    .action(sdk::InstanceAction::Terminate)
                    .termination_wait_time_in_minutes(i32_of(g.terminate_blue_after_minutes))
                    .build(),
            )
            .deployment_ready_option(
                sdk::DeploymentReadyOption::builder()
                    .action_on_timeout(sdk::DeploymentReadyAction::ContinueDeployment)
                    .build(),
            )
            .build(),
        services: sdk::EcsService::builder()
            .service_name(&g.service.name)
            .cluster_name(&g.service.cluster)
            .build(),
        load_balancer: sdk::LoadBalancerInfo::builder()
            .target_group_pair_info_list(pair.build())
            .build(),
        rollback: sdk::AutoRollbackConfiguration::builder()
            .enabled(g.auto_rollback)
            .set_events(g.auto_rollback.then(|| {
                vec![
                    sdk::AutoRollbackEvent::DeploymentFailure,
                    sdk::AutoRollbackEvent::DeploymentStopOnAlarm,
                ]
            }))
            .build(),
        alarms: sdk::AlarmConfiguration::builder()
            .enabled(!g.alarms.is_empty())
            .set_alarms(Some(
                g.alarms
                    .iter()
                    .map(|a| sdk::Alarm::builder().name(a).build())
                    .collect(),
            ))
            .build(),
    }
}

impl CodeDeployApi for SdkCodeDeploy {
    async fn application_exists(&self, name: &str) -> Result<bool, AwsError> {
        match self
            .client
            .get_application()
            .application_name(name)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_application_does_not_exist_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(AwsError::from_sdk(SERVICE, "GetApplication", e)),
        }
    }

    async fn create_application(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        self.client
            .create_application()
            .application_name(name)
            .compute_platform(sdk::ComputePlatform::Ecs)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(failed(SERVICE, "CreateApplication"))?;
        Ok(())
    }

    async fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Option<ObservedGroup>, AwsError> {
        let out = match self
            .client
            .get_deployment_group()
            .application_name(application)
            .deployment_group_name(group)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_deployment_group_does_not_exist_exception()
                        || s.is_application_does_not_exist_exception()
                }) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(AwsError::from_sdk(SERVICE, "GetDeploymentGroup", e)),
        };
        let Some(g) = out.deployment_group_info() else {
            return Ok(None);
        };
        let pair = g
            .load_balancer_info()
            .and_then(|l| l.target_group_pair_info_list().first());
        let ecs = g.ecs_services().first();
        let last_attempted = g.last_attempted_deployment().and_then(|d| {
            Some(LastDeployment {
                id: d.deployment_id()?.to_owned(),
                status: CodeDeployStatus::parse(d.status()?.as_str()),
            })
        });
        let group = DeploymentGroupState {
            application: application.to_owned(),
            name: group.to_owned(),
            service_role_arn: g.service_role_arn().unwrap_or_default().to_owned(),
            deployment_config: g.deployment_config_name().unwrap_or_default().to_owned(),
            service: ServiceId::new(
                ecs.and_then(|e| e.cluster_name()).unwrap_or_default(),
                ecs.and_then(|e| e.service_name()).unwrap_or_default(),
            ),
            target_groups: pair
                .map(|p| {
                    p.target_groups()
                        .iter()
                        .filter_map(|t| t.name().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            prod_listener_arns: pair
                .and_then(|p| p.prod_traffic_route())
                .map(|r| r.listener_arns().to_vec())
                .unwrap_or_default(),
            test_listener_arns: pair
                .and_then(|p| p.test_traffic_route())
                .map(|r| r.listener_arns().to_vec())
                .unwrap_or_default(),
            terminate_blue_after_minutes: g
                .blue_green_deployment_configuration()
                .and_then(|b| b.terminate_blue_instances_on_deployment_success())
                .and_then(|t| u32::try_from(t.termination_wait_time_in_minutes()).ok())
                .unwrap_or(0),
            auto_rollback: g.auto_rollback_configuration().is_some_and(|a| a.enabled()),
            alarms: g
                .alarm_configuration()
                .map(|a| {
                    a.alarms()
                        .iter()
                        .filter_map(|x| x.name().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        };
        Ok(Some(ObservedGroup {
            group,
            last_attempted,
        }))
    }

    async fn create_deployment_group(
        &self,
        g: &DeploymentGroupState,
        tags: &Tags,
    ) -> Result<(), AwsError> {
        let p = group_parts(g);
        self.client
            .create_deployment_group()
            .application_name(&g.application)
            .deployment_group_name(&g.name)
            .service_role_arn(&g.service_role_arn)
            .deployment_config_name(&g.deployment_config)
            .deployment_style(p.style)
            .blue_green_deployment_configuration(p.blue_green)
            .ecs_services(p.services)
            .load_balancer_info(p.load_balancer)
            .auto_rollback_configuration(p.rollback)
            .alarm_configuration(p.alarms)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(failed(SERVICE, "CreateDeploymentGroup"))?;
        Ok(())
    }

    async fn update_deployment_group(&self, g: &DeploymentGroupState) -> Result<(), AwsError> {
        let p = group_parts(g);
        self.client
            .update_deployment_group()
            .application_name(&g.application)
            .current_deployment_group_name(&g.name)
            .service_role_arn(&g.service_role_arn)
            .deployment_config_name(&g.deployment_config)
            .deployment_style(p.style)
            .blue_green_deployment_configuration(p.blue_green)
            .ecs_services(p.services)
            .load_balancer_info(p.load_balancer)
            .auto_rollback_configuration(p.rollback)
            .alarm_configuration(p.alarms)
            .send()
            .await
            .map_err(failed(SERVICE, "UpdateDeploymentGroup"))?;
        Ok(())
    }

    async fn delete_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> Result<(), AwsError> {
        let out = self
            .client
            .delete_deployment_group()
            .application_name(application)
            .deployment_group_name(group)
            .send()
            .await
            .map(|_| ())
            .map_err(failed(SERVICE, "DeleteDeploymentGroup"));
        gone_is_done(
            out,
            &[
                "ApplicationDoesNotExistException",
                "DeploymentGroupDoesNotExistException",
            ],
        )
    }

    async fn delete_application(&self, name: &str) -> Result<(), AwsError> {
        let out = self
            .client
            .delete_application()
            .application_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(failed(SERVICE, "DeleteApplication"));
        gone_is_done(out, &["ApplicationDoesNotExistException"])
    }

    async fn get_deployment(&self, id: &str) -> Result<CodeDeployment, AwsError> {
        let out = self
            .client
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .map_err(failed(SERVICE, "GetDeployment"))?;
        let info = out.deployment_info();
        let content = info
            .and_then(|i| i.revision())
            .and_then(|r| r.app_spec_content())
            .and_then(|c| c.content());
        Ok(CodeDeployment {
            id: id.to_owned(),
            status: CodeDeployStatus::parse(
                info.and_then(|i| i.status())
                    .map(|s| s.as_str())
                    .unwrap_or_default(),
            ),
            task_definition_arn: content.and_then(appspec_task_definition),
            error: info
                .and_then(|i| i.error_information())
                .and_then(|e| e.message())
                .map(str::to_owned),
        })
    }

    async fn create_deployment(
        &self,
        application: &str,
        group: &str,
        appspec: &str,
    ) -> Result<String, AwsError> {
        let revision = sdk::RevisionLocation::builder()
            .revision_type(sdk::RevisionLocationType::AppSpecContent)
            .app_spec_content(sdk::AppSpecContent::builder().content(appspec).build())
            .build();
        // One attempt: a lost answer must not start a second deployment; the controller
        // re-observes in-flight deployments before trying again.
        let out = self
            .client
            .create_deployment()
            .application_name(application)
            .deployment_group_name(group)
            .revision(revision)
            .customize()
            .config_override(
                cd::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(failed(SERVICE, "CreateDeployment"))?;
        out.deployment_id()
            .map(str::to_owned)
            .ok_or_else(|| AwsError::missing(SERVICE, "CreateDeployment", "deploymentId"))
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(failed(SERVICE, "ListTagsForResource"))?;
        Ok(out
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                ))
            })
            .collect())
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(sdk_tags(tags)))
            .send()
            .await
            .map_err(failed(SERVICE, "TagResource"))?;
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        self.client
            .untag_resource()
            .resource_arn(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(failed(SERVICE, "UntagResource"))?;
        Ok(())
    }
}

/// The task definition ARN an ECS AppSpec (JSON) deploys.
pub fn appspec_task_definition(content: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(content).ok()?;
    v.get("Resources")?.as_array()?.iter().find_map(|r| {
        r.get("TargetService")?
            .get("Properties")?
            .get("TaskDefinition")?
            .as_str()
            .map(str::to_owned)
    })
}
