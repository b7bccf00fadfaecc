//! The fake's Application Auto Scaling: scalable targets, policies, scheduled actions.

use ecsd_plan::ops::{ScheduledActionInput, TargetTrackingInput};
use ecsd_plan::signals::ScalingActivity;
use ecsd_plan::state::{ScalableTargetState, ScalingPolicyState, ScheduledActionState, Tags};

use crate::error::AwsError;
use crate::scaling::{ScalingApi, ServiceScaling};

#[allow(unused_imports)]
use super::{
    ACCOUNT, DRAIN, FakeAws, FakeGroup, FakeServiceDeployment, FakeState, REGION, error, not_found,
};

impl ScalingApi for FakeAws {
    async fn describe(&self, resource_ids: &[String]) -> Result<ServiceScaling, AwsError> {
        let s = self
            .call("ApplicationAutoScaling", "DescribeScalableTargets")
            .await?;
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
        let mut s = self
            .call("ApplicationAutoScaling", "RegisterScalableTarget")
            .await?;
        let existing = s.scaling.targets.get(resource_id).map(|t| t.arn.clone());
        let arn = match existing {
            Some(arn) => arn,
            None => {
                let arn = format!(
                    "arn:aws:application-autoscaling:{REGION}:{ACCOUNT}:scalable-target/{}",
                    s.id()
                );
                // AWS applies tags only when the target is created.
                s.scaling_tags
                    .insert(arn.clone(), tags.cloned().unwrap_or_default());
                arn
            }
        };
        let created_at = s
            .scaling
            .targets
            .get(resource_id)
            .and_then(|t| t.created_at)
            .unwrap_or_else(|| s.now_epoch());
        s.scaling.targets.insert(
            resource_id.to_owned(),
            ScalableTargetState {
                resource_id: resource_id.to_owned(),
                arn,
                min_capacity: min,
                max_capacity: max,
                created_at: Some(created_at),
            },
        );
        Ok(())
    }

    async fn deregister_scalable_target(&self, resource_id: &str) -> Result<(), AwsError> {
        let mut s = self
            .call("ApplicationAutoScaling", "DeregisterScalableTarget")
            .await?;
        if let Some(t) = s.scaling.targets.remove(resource_id) {
            s.scaling_tags.remove(&t.arn);
        }
        Ok(())
    }

    async fn put_target_tracking(
        &self,
        input: &TargetTrackingInput,
        _resource_label: Option<&str>,
    ) -> Result<(), AwsError> {
        let mut s = self
            .call("ApplicationAutoScaling", "PutScalingPolicy")
            .await?;
        let policies = s
            .scaling
            .policies
            .entry(input.resource_id.clone())
            .or_default();
        policies.retain(|p| p.name != input.name);
        policies.push(ScalingPolicyState {
            resource_id: input.resource_id.clone(),
            name: input.name.clone(),
            metric_type: input.metric.predefined_metric_type().to_owned(),
            target: input.target,
            scale_in_cooldown_seconds: Some(input.scale_in_cooldown_seconds),
            scale_out_cooldown_seconds: Some(input.scale_out_cooldown_seconds),
            disable_scale_in: Some(input.disable_scale_in),
        });
        Ok(())
    }

    async fn delete_scaling_policy(&self, resource_id: &str, name: &str) -> Result<(), AwsError> {
        let mut s = self
            .call("ApplicationAutoScaling", "DeleteScalingPolicy")
            .await?;
        if let Some(p) = s.scaling.policies.get_mut(resource_id) {
            p.retain(|p| p.name != name);
        }
        Ok(())
    }

    async fn put_scheduled_action(&self, a: &ScheduledActionInput) -> Result<(), AwsError> {
        let mut s = self
            .call("ApplicationAutoScaling", "PutScheduledAction")
            .await?;
        let actions = s.scaling.actions.entry(a.resource_id.clone()).or_default();
        // As AWS: an update changes what the request names; a capacity it leaves out
        // stays as it was.
        let (old_min, old_max) = actions
            .iter()
            .find(|x| x.name == a.name)
            .map_or((None, None), |x| (x.min_capacity, x.max_capacity));
        actions.retain(|x| x.name != a.name);
        actions.push(ScheduledActionState {
            resource_id: a.resource_id.clone(),
            name: a.name.clone(),
            schedule: a.schedule.clone(),
            timezone: Some(a.timezone.clone()),
            min_capacity: a.min_capacity.or(old_min),
            max_capacity: a.max_capacity.or(old_max),
        });
        Ok(())
    }

    async fn delete_scheduled_action(&self, resource_id: &str, name: &str) -> Result<(), AwsError> {
        let mut s = self
            .call("ApplicationAutoScaling", "DeleteScheduledAction")
            .await?;
        if let Some(a) = s.scaling.actions.get_mut(resource_id) {
            a.retain(|x| x.name != name);
        }
        Ok(())
    }

    async fn describe_scaling_activities(
        &self,
        resource_id: &str,
        max: u32,
    ) -> Result<Vec<ScalingActivity>, AwsError> {
        let s = self
            .call("ApplicationAutoScaling", "DescribeScalingActivities")
            .await?;
        Ok(s.scaling_activities
            .get(resource_id)
            .map(|a| a.iter().take(max as usize).cloned().collect())
            .unwrap_or_default())
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let s = self
            .call("ApplicationAutoScaling", "ListTagsForResource")
            .await?;
        s.scaling_tags.get(arn).cloned().ok_or_else(|| {
            not_found(
                "ApplicationAutoScaling",
                "ListTagsForResource",
                "ResourceNotFoundException",
                arn,
            )
        })
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "TagResource").await?;
        s.scaling_tags
            .entry(arn.to_owned())
            .or_default()
            .extend(tags.clone());
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut s = self.call("ApplicationAutoScaling", "UntagResource").await?;
        if let Some(t) = s.scaling_tags.get_mut(arn) {
            t.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }
}
