//! The fake's CodeDeploy: applications, deployment groups, deployments, and the
//! listener rewrites a blue/green deployment makes.

use ecsd_plan::state::{
    AwsVpc, CodeDeployStatus, CodeDeployment, DeploymentGroupState, ForwardTarget, LastDeployment,
    Tags,
};

use crate::codedeploy::{CodeDeployApi, ObservedGroup, appspec_task_definition};
use crate::error::AwsError;

#[allow(unused_imports)]
use super::{
    ACCOUNT, DRAIN, FakeAws, FakeGroup, FakeServiceDeployment, FakeState, REGION, error, not_found,
};

/// The ARN of a CodeDeploy application.
pub fn application_arn(name: &str) -> String {
    format!("arn:aws:codedeploy:{REGION}:{ACCOUNT}:application:{name}")
}

/// The ARN of a CodeDeploy deployment group.
pub fn deployment_group_arn(application: &str, group: &str) -> String {
    format!("arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:{application}/{group}")
}

impl CodeDeployApi for FakeAws {
    async fn application_exists(&self, name: &str) -> Result<bool, AwsError> {
        let s = self.call("CodeDeploy", "GetApplication").await?;
        Ok(s.code_deploy_apps.contains(name))
    }

    async fn create_application(&self, name: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "CreateApplication").await?;
        s.code_deploy_apps.insert(name.to_owned());
        s.code_deploy_tags
            .insert(application_arn(name), tags.clone());
        Ok(())
    }

    async fn get_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> Result<Option<ObservedGroup>, AwsError> {
        let s = self.call("CodeDeploy", "GetDeploymentGroup").await?;
        Ok(s.deployment_groups
            .get(&(application.to_owned(), group.to_owned()))
            .map(|g| ObservedGroup {
                group: g.group.clone(),
                last_attempted: g.last_attempted.clone(),
            }))
    }

    async fn create_deployment_group(
        &self,
        input: &DeploymentGroupState,
        tags: &Tags,
    ) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "CreateDeploymentGroup").await?;
        s.deployment_groups.insert(
            (input.application.clone(), input.name.clone()),
            FakeGroup {
                group: input.clone(),
                last_attempted: None,
            },
        );
        s.code_deploy_tags.insert(
            deployment_group_arn(&input.application, &input.name),
            tags.clone(),
        );
        Ok(())
    }

    async fn update_deployment_group(&self, input: &DeploymentGroupState) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "UpdateDeploymentGroup").await?;
        let g = s
            .deployment_groups
            .get_mut(&(input.application.clone(), input.name.clone()))
            .ok_or_else(|| {
                not_found(
                    "CodeDeploy",
                    "UpdateDeploymentGroup",
                    "DeploymentGroupDoesNotExistException",
                    &input.name,
                )
            })?;
        g.group = input.clone();
        Ok(())
    }

    async fn delete_deployment_group(
        &self,
        application: &str,
        group: &str,
    ) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "DeleteDeploymentGroup").await?;
        s.deployment_groups
            .remove(&(application.to_owned(), group.to_owned()));
        s.code_deploy_tags
            .remove(&deployment_group_arn(application, group));
        Ok(())
    }

    async fn delete_application(&self, name: &str) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "DeleteApplication").await?;
        s.code_deploy_apps.remove(name);
        s.deployment_groups.retain(|(app, _), _| app != name);
        s.code_deploy_tags.remove(&application_arn(name));
        Ok(())
    }

    async fn get_deployment(&self, id: &str) -> Result<CodeDeployment, AwsError> {
        let s = self.call("CodeDeploy", "GetDeployment").await?;
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
        let mut s = self.call("CodeDeploy", "CreateDeployment").await?;
        let key = (application.to_owned(), group.to_owned());
        let Some(g) = s.deployment_groups.get(&key).map(|g| g.group.clone()) else {
            return Err(not_found(
                "CodeDeploy",
                "CreateDeployment",
                "DeploymentGroupDoesNotExistException",
                group,
            ));
        };
        let id = format!("d-{}", s.id());
        let deployment = CodeDeployment {
            id: id.clone(),
            status: CodeDeployStatus::Created,
            task_definition_arn: appspec_task_definition(appspec),
            error: None,
        };
        s.code_deployments.push((key.clone(), deployment));
        s.appspecs.insert(id.clone(), appspec.to_owned());
        if let Some(fg) = s.deployment_groups.get_mut(&key) {
            fg.last_attempted = Some(LastDeployment {
                id: id.clone(),
                status: CodeDeployStatus::Created,
            });
        }
        shift_traffic(&mut s, &g);
        drop(s);
        self.deliver("CodeDeploy", "CreateDeployment", id)
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let s = self.call("CodeDeploy", "ListTagsForResource").await?;
        Ok(s.code_deploy_tags.get(arn).cloned().unwrap_or_default())
    }

    async fn tag_resource(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "TagResource").await?;
        s.code_deploy_tags
            .entry(arn.to_owned())
            .or_default()
            .extend(tags.clone());
        Ok(())
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), AwsError> {
        let mut s = self.call("CodeDeploy", "UntagResource").await?;
        if let Some(t) = s.code_deploy_tags.get_mut(arn) {
            t.retain(|k, _| !keys.contains(k));
        }
        Ok(())
    }
}

/// The network an ECS AppSpec (JSON) gives the new task set.
pub(super) fn appspec_network(content: &str) -> Option<AwsVpc> {
    let v: serde_json::Value = serde_json::from_str(content).ok()?;
    let vpc = v.get("Resources")?.as_array()?.iter().find_map(|r| {
        r.pointer("/TargetService/Properties/NetworkConfiguration/AwsvpcConfiguration")
    })?;
    let list = |k: &str| -> Vec<String> {
        vpc.get(k)
            .and_then(|l| l.as_array())
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    Some(AwsVpc {
        subnets: list("Subnets"),
        security_groups: list("SecurityGroups"),
        assign_public_ip: vpc.get("AssignPublicIp").and_then(|x| x.as_str()) == Some("ENABLED"),
    })
}

/// What CodeDeploy does to the listeners of a deployment group: the rules of its
/// production and test listeners that forward to either target group of the pair
/// become a weighted forward that sends everything to the other one.
pub(super) fn shift_traffic(s: &mut FakeState, g: &DeploymentGroupState) {
    let arns: Vec<String> = g
        .target_groups
        .iter()
        .filter_map(|n| s.target_groups.get(n).map(|t| t.arn.clone()))
        .collect();
    let [blue, green] = arns.as_slice() else {
        return;
    };
    let listeners: Vec<&String> = g
        .prod_listener_arns
        .iter()
        .chain(&g.test_listener_arns)
        .collect();
    for listener in listeners {
        for rule in s.rules.get_mut(listener).into_iter().flatten() {
            if !rule.forwards_to(blue) && !rule.forwards_to(green) {
                continue;
            }
            let serving_green = rule.forwards_only_to(green);
            let weight = |arn: &String, to: bool| ForwardTarget {
                target_group_arn: arn.clone(),
                weight: Some(if to { 100 } else { 0 }),
            };
            rule.forward = vec![weight(blue, serving_green), weight(green, !serving_green)];
        }
    }
    s.relink();
}
