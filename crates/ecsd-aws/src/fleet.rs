//! An EC2 Auto Scaling group, read for `ecsd migrate --asg`: the [`FleetApi`] trait and
//! its implementation over the Auto Scaling SDK client and [`crate::ec2`]'s one EC2 call. Read only: ecsd never
//! changes an Auto Scaling group, its policies or its launch template.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_autoscaling as asg;

use crate::config::AwsConfig;
use crate::ec2::{Ec2, TemplateRef};
use crate::error::{AwsError, failed};

/// What replaces an unhealthy instance of an Auto Scaling group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FleetHealthCheck {
    /// EC2's own status checks (AWS's default).
    #[default]
    Ec2,
    /// The load balancer's health check.
    Elb,
}

/// An Auto Scaling group as `ecsd migrate` needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    pub name: String,
    pub min_size: u32,
    pub max_size: u32,
    pub desired_capacity: u32,
    /// The subnets of `VPCZoneIdentifier`.
    pub subnets: Vec<String>,
    pub target_group_arns: Vec<String>,
    pub health_check_type: FleetHealthCheck,
    pub health_check_grace_period: u32,
    pub tags: BTreeMap<String, String>,
    /// The launch template's data at the group's version, when it uses one.
    pub template: Option<LaunchTemplate>,
    /// The instance types of a mixed instances policy's overrides.
    pub override_types: Vec<String>,
    /// A (deprecated) launch configuration's name, when the group uses one instead.
    pub launch_configuration: Option<String>,
    pub policies: Vec<FleetPolicy>,
    /// Scheduled actions: name and recurrence (cron), if recurring.
    pub scheduled: Vec<(String, Option<String>)>,
}

/// What a launch template version sets that a Fargate service can use or must replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchTemplate {
    /// `name` (or id) and version, as the group names them.
    pub name: String,
    pub version: String,
    pub instance_type: Option<String>,
    /// Its security groups (of its first network interface when it sets them there).
    pub security_groups: Vec<String>,
    pub image_id: Option<String>,
    pub has_user_data: bool,
}

/// A scaling policy of the group.
#[derive(Debug, Clone, PartialEq)]
pub enum FleetPolicy {
    /// Target tracking of a predefined metric (`ASGAverageCPUUtilization`,
    /// `ALBRequestCountPerTarget`, ...).
    TargetTracking {
        name: String,
        metric: String,
        target: f64,
        disable_scale_in: bool,
    },
    /// Anything else: step, simple or predictive scaling, or a customized metric.
    Other { name: String, kind: String },
}

/// The Auto Scaling and EC2 reads of `ecsd migrate`.
pub trait FleetApi: Send + Sync {
    /// The group `name` with its policies, scheduled actions and launch template, or
    /// `None` when there is no such group.
    fn describe_fleet(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<Fleet>, AwsError>> + Send;
}

/// [`FleetApi`] over the aws-sdk-autoscaling client and [`Ec2`].
#[derive(Debug, Clone)]
pub struct SdkFleet {
    asg: asg::Client,
    ec2: Ec2,
}

impl SdkFleet {
    /// Clients from the shared configuration, reporting to its call counters.
    pub fn new(config: &AwsConfig) -> Self {
        let a = asg::config::Builder::from(&config.sdk)
            .interceptor(config.interceptor())
            .retry_partition(config.retry_partition.clone())
            .build();
        SdkFleet {
            asg: asg::Client::from_conf(a),
            ec2: Ec2::new(config),
        }
    }

    async fn template(
        &self,
        spec: &asg::types::LaunchTemplateSpecification,
    ) -> Result<Option<LaunchTemplate>, AwsError> {
        let version = spec.version().unwrap_or("$Default").to_owned();
        let template = match (spec.launch_template_id(), spec.launch_template_name()) {
            (Some(id), _) => TemplateRef::Id(id.to_owned()),
            (None, Some(name)) => TemplateRef::Name(name.to_owned()),
            (None, None) => return Ok(None),
        };
        let Some(data) = self.ec2.launch_template_data(&template, &version).await? else {
            return Ok(None);
        };
        let security_groups = if data.security_group_ids.is_empty() {
            data.interface_groups
        } else {
            data.security_group_ids
        };
        Ok(Some(LaunchTemplate {
            name: spec
                .launch_template_name()
                .or(spec.launch_template_id())
                .unwrap_or_default()
                .to_owned(),
            version,
            instance_type: data.instance_type,
            security_groups,
            image_id: data.image_id,
            has_user_data: data.has_user_data,
        }))
    }
}

fn count(v: Option<i32>) -> u32 {
    v.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

impl FleetApi for SdkFleet {
    async fn describe_fleet(&self, name: &str) -> Result<Option<Fleet>, AwsError> {
        let out = self
            .asg
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(name)
            .send()
            .await
            .map_err(failed("Auto Scaling", "DescribeAutoScalingGroups"))?;
        let Some(g) = out.auto_scaling_groups().first() else {
            return Ok(None);
        };
        let mixed = g.mixed_instances_policy().and_then(|m| m.launch_template());
        let spec = g
            .launch_template()
            .or_else(|| mixed.and_then(|m| m.launch_template_specification()));
        let template = match spec {
            Some(s) => self.template(s).await?,
            None => None,
        };
        let mut policies = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .asg
                .describe_policies()
                .auto_scaling_group_name(name)
                .set_next_token(token)
                .send()
                .await
                .map_err(failed("Auto Scaling", "DescribePolicies"))?;
            for p in page.scaling_policies() {
                let pname = p.policy_name().unwrap_or_default().to_owned();
                let tracked = p.target_tracking_configuration().and_then(|t| {
                    let metric = t.predefined_metric_specification()?;
                    Some((
                        metric.predefined_metric_type()?.as_str().to_owned(),
                        t.target_value()?,
                        t.disable_scale_in().unwrap_or(false),
                    ))
                });
                policies.push(match tracked {
                    Some((metric, target, disable_scale_in)) => FleetPolicy::TargetTracking {
                        name: pname,
                        metric,
                        target,
                        disable_scale_in,
                    },
                    None => FleetPolicy::Other {
                        name: pname,
                        kind: p.policy_type().unwrap_or("unknown").to_owned(),
                    },
                });
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        let actions = self
            .asg
            .describe_scheduled_actions()
            .auto_scaling_group_name(name)
            .send()
            .await
            .map_err(failed("Auto Scaling", "DescribeScheduledActions"))?;
        Ok(Some(Fleet {
            name: g.auto_scaling_group_name().unwrap_or(name).to_owned(),
            min_size: count(g.min_size()),
            max_size: count(g.max_size()),
            desired_capacity: count(g.desired_capacity()),
            subnets: g
                .vpc_zone_identifier()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            target_group_arns: g.target_group_arns().to_vec(),
            health_check_type: match g.health_check_type() {
                Some("ELB") => FleetHealthCheck::Elb,
                _ => FleetHealthCheck::Ec2,
            },
            health_check_grace_period: count(g.health_check_grace_period()),
            tags: g
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
                .collect(),
            template,
            override_types: mixed
                .map(|m| {
                    m.overrides()
                        .iter()
                        .filter_map(|o| o.instance_type().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            launch_configuration: g.launch_configuration_name().map(str::to_owned),
            policies,
            scheduled: actions
                .scheduled_update_group_actions()
                .iter()
                .map(|a| {
                    (
                        a.scheduled_action_name().unwrap_or_default().to_owned(),
                        a.recurrence().map(str::to_owned),
                    )
                })
                .collect(),
        }))
    }
}
