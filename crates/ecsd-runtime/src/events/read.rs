//! The event shapes ecsd reads, as EventBridge delivers them to an SQS target (the
//! message body is the event itself). Each is documented, with AWS's sample and where
//! it comes from, in docs/aws-behaviours.md ("event-feed"):
//! - `aws.ecs` `ECS Service Action`, `ECS Deployment State Change`, `ECS Hook State
//!   Change`: the service's ARN in `resources`;
//! - `AWS API Call via CloudTrail` from `ecs`, `elasticloadbalancing`,
//!   `application-autoscaling` and `codedeploy`: the resources in `requestParameters`
//!   and `responseElements` (ARNs, or the names the API takes);
//! - `aws.s3` `Object Created` / `Object Deleted`: `detail.bucket.name`, `detail.object.key`.
//!
//! Anything else is an error naming what it was, so the listener can log each unknown
//! shape once. Reading never trusts an event's values beyond naming what to look at.

use serde_json::Value;

use super::{EventKind, Notice, Resource, S3Object};

/// An event ecsd cannot act on, and why (for the log; one line per distinct `shape`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Unreadable {
    /// What kind of message it was (`source` and `detail-type`), to log each once.
    pub shape: String,
    pub reason: String,
    /// Understood, but deliberately not acted on (not an unknown shape).
    pub ignored: bool,
}

/// The largest message body read (SQS allows 256 KiB; an EventBridge event is at most
/// 256 KB).
pub const MAX_BODY: usize = 256 * 1024;

/// Reads one SQS message body.
pub fn read(body: &str) -> Result<Notice, Unreadable> {
    let unknown = |shape: &str, reason: String| Unreadable {
        shape: shape.to_owned(),
        reason,
        ignored: false,
    };
    if body.len() > MAX_BODY {
        return Err(unknown(
            "oversized",
            format!("a message of {} bytes", body.len()),
        ));
    }
    let event: Value = serde_json::from_str(body)
        .map_err(|e| unknown("not JSON", format!("not a JSON event: {e}")))?;
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let source = text(&event, "source").unwrap_or_default();
    let detail_type = text(&event, "detail-type").unwrap_or_default();
    let shape = format!("{source} / {detail_type}");
    let detail = event.get("detail").cloned().unwrap_or(Value::Null);
    let named = |kind: EventKind, deployment: bool| {
        let mut resources = Vec::new();
        arns(event.get("resources"), &mut resources);
        arns(Some(&detail), &mut resources);
        dedup(&mut resources);
        let name = text(&detail, "eventName").unwrap_or_default();
        Notice {
            kind,
            resources,
            deployment,
            object: None,
            what: format!("{detail_type} {name}").trim_end().to_owned(),
            who: None,
        }
    };
    match (source.as_str(), detail_type.as_str()) {
        ("aws.ecs", "ECS Service Action") => Ok(named(EventKind::ServiceAction, true)),
        ("aws.ecs", "ECS Deployment State Change") => {
            Ok(named(EventKind::DeploymentStateChange, true))
        }
        ("aws.ecs", "ECS Hook State Change") => Ok(named(EventKind::HookStateChange, true)),
        ("aws.ecs", "ECS Task State Change" | "ECS Container Instance State Change") => {
            Err(Unreadable {
                shape,
                reason: format!(
                    "{detail_type} events are not read (ecsd manages services, not tasks); leave them out of the rule"
                ),
                ignored: true,
            })
        }
        (_, "AWS API Call via CloudTrail") => api_call(&detail, shape),
        ("aws.s3", "Object Created" | "Object Deleted") => {
            let bucket = detail
                .get("bucket")
                .and_then(|b| text(b, "name"))
                .ok_or_else(|| unknown(&shape, "an S3 event without detail.bucket.name".into()))?;
            let key = detail
                .get("object")
                .and_then(|o| text(o, "key"))
                .ok_or_else(|| unknown(&shape, "an S3 event without detail.object.key".into()))?;
            Ok(Notice {
                kind: EventKind::S3Object,
                resources: Vec::new(),
                deployment: false,
                what: format!("{detail_type} s3://{bucket}/{key}"),
                object: Some(S3Object { bucket, key }),
                who: None,
            })
        }
        _ => Err(unknown(
            &shape,
            format!("an event of source {source:?} and detail-type {detail_type:?}"),
        )),
    }
}

/// A CloudTrail API call: the resources it names, by the service that was called.
fn api_call(detail: &Value, shape: String) -> Result<Notice, Unreadable> {
    let text = |k: &str| detail.get(k).and_then(Value::as_str).unwrap_or_default();
    let (event_source, event_name) = (text("eventSource"), text("eventName"));
    let shape = format!("{shape} / {event_source}");
    let what = format!(
        "{} {event_name}",
        event_source.trim_end_matches(".amazonaws.com")
    );
    if let Some(code) = detail.get("errorCode").and_then(Value::as_str) {
        return Err(Unreadable {
            shape,
            reason: format!("{what} failed ({code}): it changed nothing"),
            ignored: true,
        });
    }
    let request = detail.get("requestParameters").unwrap_or(&Value::Null);
    let response = detail.get("responseElements").unwrap_or(&Value::Null);
    let param = |k: &str| request.get(k).and_then(Value::as_str);
    let mut resources = Vec::new();
    arns(Some(request), &mut resources);
    arns(Some(response), &mut resources);
    let mut deployment = false;
    match event_source {
        "ecs.amazonaws.com" => {
            // UpdateService, DeleteService, CreateService take the service and its
            // cluster by name or ARN (a name's cluster defaults to `default`).
            if let Some(service) = param("service").or_else(|| param("serviceName"))
                && !service.starts_with("arn:")
            {
                let cluster =
                    param("cluster").map_or("default", |c| c.rsplit('/').next().unwrap_or(c));
                resources.push(Resource::Service {
                    cluster: Some(cluster.to_owned()),
                    name: service.to_owned(),
                });
            }
            deployment = matches!(
                event_name,
                "UpdateService"
                    | "CreateService"
                    | "ContinueServiceDeployment"
                    | "StopServiceDeployment"
            );
        }
        "elasticloadbalancing.amazonaws.com" => {
            // CreateTargetGroup names the group; the rest take ARNs.
            if let Some(name) = param("name")
                && event_name == "CreateTargetGroup"
            {
                resources.push(Resource::TargetGroup(name.to_owned()));
            }
        }
        "application-autoscaling.amazonaws.com" => {
            if param("serviceNamespace") == Some("ecs")
                && let Some((cluster, name)) = param("resourceId")
                    .and_then(|r| r.strip_prefix("service/"))
                    .and_then(|r| r.split_once('/'))
            {
                resources.push(Resource::ScalableService {
                    cluster: cluster.to_owned(),
                    name: name.to_owned(),
                });
            }
        }
        "codedeploy.amazonaws.com" => {
            if let Some(app) = param("applicationName") {
                resources.push(Resource::CodeDeployApplication(app.to_owned()));
            }
            deployment = true;
        }
        _ => {
            return Err(Unreadable {
                shape,
                reason: format!("{what}: a service ecsd does not manage"),
                ignored: true,
            });
        }
    }
    dedup(&mut resources);
    if resources.is_empty() {
        return Err(Unreadable {
            shape,
            reason: format!("{what} names no resource ecsd could identify"),
            ignored: false,
        });
    }
    Ok(Notice {
        kind: EventKind::ApiCall,
        resources,
        deployment,
        object: None,
        what,
        who: detail
            .get("userIdentity")
            .and_then(|u| u.get("arn"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn dedup(resources: &mut Vec<Resource>) {
    resources.sort();
    resources.dedup();
}

/// Every resource ARN found anywhere in `value` (strings, arrays, objects).
fn arns(value: Option<&Value>, out: &mut Vec<Resource>) {
    match value {
        Some(Value::String(s)) => out.extend(arn(s)),
        Some(Value::Array(items)) => items.iter().for_each(|v| arns(Some(v), out)),
        Some(Value::Object(map)) => map.values().for_each(|v| arns(Some(v), out)),
        _ => {}
    }
}

/// The resource an ARN names, if it is one ecsd manages: an ECS service, an ELBv2
/// target group, listener or listener rule (a rule's listener).
pub fn arn(s: &str) -> Option<Resource> {
    // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
    let mut parts = s.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let (_, service, _, _) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let resource = parts.next()?;
    match service {
        "ecs" => {
            let path = resource.strip_prefix("service/")?;
            Some(match path.split_once('/') {
                Some((cluster, name)) => Resource::Service {
                    cluster: Some(cluster.to_owned()),
                    name: name.to_owned(),
                },
                None => Resource::Service {
                    cluster: None,
                    name: path.to_owned(),
                },
            })
        }
        "elasticloadbalancing" => {
            if let Some(path) = resource.strip_prefix("targetgroup/") {
                let name = path.split('/').next()?;
                return Some(Resource::TargetGroup(name.to_owned()));
            }
            if let Some(path) = resource.strip_prefix("listener-rule/") {
                // listener-rule/app/LB/LBID/LISTENERID/RULEID -> listener/app/LB/LBID/LISTENERID
                let (listener, _rule) = path.rsplit_once('/')?;
                let prefix = &s[..s.len() - resource.len()];
                return Some(Resource::Listener(format!("{prefix}listener/{listener}")));
            }
            resource
                .starts_with("listener/")
                .then(|| Resource::Listener(s.to_owned()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn svc(cluster: &str, name: &str) -> Resource {
        Resource::Service {
            cluster: Some(cluster.into()),
            name: name.into(),
        }
    }

    /// AWS's sample "ECS Deployment State Change" event (ECS developer guide,
    /// "Amazon ECS service deployment state change events").
    #[test]
    fn the_documented_deployment_event_names_its_service_and_asks_for_a_look_at_deployments() {
        let body = json!({
            "version": "0", "id": "ddca6449-b258-46c0-8653-e0e3a6EXAMPLE",
            "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
            "account": "111122223333", "time": "2020-05-23T12:31:14Z", "region": "us-west-2",
            "resources": ["arn:aws:ecs:us-west-2:111122223333:service/default/servicetest"],
            "detail": {"eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS",
                "deploymentId": "ecs-svc/123", "updatedAt": "2020-05-23T11:11:11Z",
                "reason": "ECS deployment ecs-svc/123 in progress."}
        });
        let n = read(&body.to_string()).expect("read");
        assert_eq!(n.kind, EventKind::DeploymentStateChange);
        assert_eq!(n.resources, vec![svc("default", "servicetest")]);
        assert!(n.deployment);
        assert_eq!(
            n.what,
            "ECS Deployment State Change SERVICE_DEPLOYMENT_IN_PROGRESS"
        );
    }

    #[test]
    fn a_hook_awaiting_action_names_its_service() {
        let body = json!({
            "source": "aws.ecs", "detail-type": "ECS Hook State Change",
            "resources": ["arn:aws:ecs:us-east-1:1:service/prod/web"],
            "detail": {"eventName": "HOOK_AWAITING_ACTION", "hookId": "ecs-pause-x"}
        });
        let n = read(&body.to_string()).expect("read");
        assert_eq!(n.kind, EventKind::HookStateChange);
        assert_eq!(n.resources, vec![svc("prod", "web")]);
        assert!(n.deployment);
    }

    #[test]
    fn a_cloudtrail_update_service_by_name_names_the_service_in_its_cluster_and_who() {
        let body = json!({
            "source": "aws.ecs", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "ecs.amazonaws.com", "eventName": "UpdateService",
                "userIdentity": {"arn": "arn:aws:sts::1:assumed-role/Admin/alice"},
                "requestParameters": {"cluster": "prod", "service": "web", "desiredCount": 5},
                "responseElements": {"service": {"serviceArn": "arn:aws:ecs:us-east-1:1:service/prod/web",
                    "taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/web:7"}}}
        });
        let n = read(&body.to_string()).expect("read");
        assert_eq!(n.kind, EventKind::ApiCall);
        assert_eq!(n.resources, vec![svc("prod", "web")]);
        assert_eq!(n.what, "ecs UpdateService");
        assert_eq!(
            n.who.as_deref(),
            Some("arn:aws:sts::1:assumed-role/Admin/alice")
        );
    }

    #[test]
    fn a_modified_rule_names_its_listener_and_the_target_groups_it_forwards_to() {
        let rule = "arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/app/edge/50dc/f2f7/9683";
        let body = json!({
            "source": "aws.elasticloadbalancing", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "elasticloadbalancing.amazonaws.com", "eventName": "ModifyRule",
                "requestParameters": {"ruleArn": rule, "conditions": [{"field": "host-header", "values": ["x.example.com"]}]},
                "responseElements": {"rules": [{"ruleArn": rule, "actions": [{"type": "forward",
                    "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web-blue/73e2"}]}]}}
        });
        let n = read(&body.to_string()).expect("read");
        assert_eq!(
            n.resources,
            vec![
                Resource::TargetGroup("web-blue".into()),
                Resource::Listener(
                    "arn:aws:elasticloadbalancing:us-east-1:1:listener/app/edge/50dc/f2f7".into()
                ),
            ]
        );
    }

    #[test]
    fn scaling_and_codedeploy_calls_name_the_service_they_act_for() {
        let body = json!({
            "source": "aws.application-autoscaling", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "application-autoscaling.amazonaws.com", "eventName": "PutScalingPolicy",
                "requestParameters": {"serviceNamespace": "ecs", "resourceId": "service/prod/web",
                    "scalableDimension": "ecs:service:DesiredCount"}}
        });
        assert_eq!(
            read(&body.to_string()).expect("read").resources,
            vec![Resource::ScalableService {
                cluster: "prod".into(),
                name: "web".into()
            }]
        );
        let body = json!({
            "source": "aws.codedeploy", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "codedeploy.amazonaws.com", "eventName": "UpdateDeploymentGroup",
                "requestParameters": {"applicationName": "ecsd-prod-web", "currentDeploymentGroupName": "web"}}
        });
        let n = read(&body.to_string()).expect("read");
        assert_eq!(
            n.resources,
            vec![Resource::CodeDeployApplication("ecsd-prod-web".into())]
        );
        assert!(n.deployment);
    }

    /// The sample "Object Created" event of the S3 user guide ("EventBridge event
    /// message structure").
    #[test]
    fn an_s3_object_event_names_bucket_and_key() {
        let body = json!({
            "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": "Object Created", "source": "aws.s3", "account": "123456789012",
            "time": "2021-11-12T00:00:00Z", "region": "ca-central-1",
            "resources": ["arn:aws:s3:::example-bucket"],
            "detail": {"version": "0", "bucket": {"name": "example-bucket"},
                "object": {"key": "example-key", "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184",
                    "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e", "sequencer": "617f08299329d189"},
                "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                "source-ip-address": "1.2.3.4", "reason": "PutObject"}
        });
        let n = read(&body.to_string()).expect("read");
        assert_eq!(
            n.object,
            Some(S3Object {
                bucket: "example-bucket".into(),
                key: "example-key".into()
            })
        );
    }

    #[test]
    fn unknown_broken_failed_and_task_events_are_refused_with_their_shape() {
        let e = read("{not json").expect_err("not json");
        assert!(!e.ignored);
        let e = read(
            &json!({"source": "acme.app", "detail-type": "Order Placed", "detail": {}}).to_string(),
        )
        .expect_err("unknown");
        assert_eq!(e.shape, "acme.app / Order Placed");
        assert!(!e.ignored);
        let failed = json!({"source": "aws.ecs", "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "ecs.amazonaws.com", "eventName": "UpdateService", "errorCode": "AccessDenied",
                "requestParameters": {"cluster": "prod", "service": "web"}}});
        assert!(read(&failed.to_string()).expect_err("failed call").ignored);
        let task =
            json!({"source": "aws.ecs", "detail-type": "ECS Task State Change", "detail": {}});
        assert!(read(&task.to_string()).expect_err("task").ignored);
        assert!(read(&"x".repeat(MAX_BODY + 1)).is_err());
    }

    #[test]
    fn arns_of_other_services_and_kinds_name_nothing() {
        assert_eq!(arn("arn:aws:ecs:us-east-1:1:task-definition/web:3"), None);
        assert_eq!(arn("arn:aws:iam::1:role/x"), None);
        assert_eq!(
            arn("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/edge/1"),
            None
        );
        assert_eq!(arn("not an arn"), None);
        assert_eq!(
            arn("arn:aws:ecs:us-east-1:1:service/web"),
            Some(Resource::Service {
                cluster: None,
                name: "web".into()
            })
        );
    }
}
