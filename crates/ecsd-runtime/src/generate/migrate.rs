//! `ecsd migrate --asg`: manifests for the Fargate equivalent of an EC2 Auto Scaling
//! group behind an Application Load Balancer. For the group: a Service (its subnets,
//! its launch template's security groups, a Fargate size suggested from the instance
//! type), for each of its instance target groups a new `ip` TargetGroup with the same
//! port, protocol, health check and deregistration delay whose listener rule sits just
//! ahead of the fleet's rule with the same conditions and forwards by weight (0% to
//! Fargate, 100% to the fleet: the first commit moves no traffic), and a ScalingPolicy
//! mapping the group's CPU and request-count target tracking to ECS's metrics with the
//! same targets and min/max. Tags become labels. What has no Fargate counterpart is a
//! comment, never dropped silently. Nothing is changed in AWS: the group, its target
//! groups and rules stay as they are.
//!
//! Reading is IO ([`read`]); turning what was read into manifests is pure ([`render`]).
//!
//! # Layout
//! - this file: [`render`] and [`yaml`];
//! - `migrate/read.rs`: [`read`] and what it returns ([`FleetRead`]), the user's
//!   [`Options`], [`MigrateError`];
//! - `migrate/size.rs`: the Fargate size for an instance type; `migrate/names.rs`:
//!   names, listener priorities and labels;
//! - `migrate/target_group.rs`, `migrate/service.rs`, `migrate/scaling.rs`: one
//!   document kind each.

use super::yaml::Document;

mod names;
mod read;
mod scaling;
mod service;
mod size;
mod target_group;

use names::sanitize;
pub use read::{FleetRead, MigrateError, Options, read};
pub use size::{instance_size, suggest_size};

/// The manifests for the group: TargetGroups, the Service, the ScalingPolicy.
pub fn render(r: &FleetRead, opts: &Options) -> Vec<Document> {
    let fleet = &r.fleet;
    let service = sanitize(&fleet.name, ecsd_model::limits::ECS_NAME_MAX, "_-");
    let mut documents = Vec::new();
    let mut service_comments = vec![format!(
        "Written by `ecsd migrate` from Auto Scaling group {:?}: the Fargate service that replaces it.",
        fleet.name
    )];
    let for_service =
        target_group::target_groups(r, &service, &mut service_comments, &mut documents);
    let (svc, labels) = service::service(r, opts, &service, service_comments, for_service);
    documents.push(svc);
    documents.extend(scaling::scaling_policy(fleet, &service, labels));
    documents
}

/// The YAML of the group's manifests.
pub fn yaml(group: &str, documents: &[Document], note: &str) -> String {
    super::yaml::yaml_documents(
        &format!(
            "# Written by `ecsd migrate --asg {group}` ({note}).\n# Review it, `ecsd validate` it, then commit: `ecsd apply` creates the Fargate stack with\n# all traffic still on the fleet. docs/migrate-from-ec2.md walks through the cutover."
        ),
        documents,
    )
}

#[cfg(test)]
mod tests {
    use ecsd_aws::FleetPolicy;
    use ecsd_model::service::IMAGE_TO_FILL_IN;
    use serde_json::json;

    use std::collections::{BTreeMap, BTreeSet};

    use ecsd_aws::Fleet;
    use ecsd_aws::FleetHealthCheck;
    use ecsd_model::fargate;
    use ecsd_plan::state::{RuleState, TargetGroupProtocol, TargetGroupState, TargetKind};

    use super::names::priority_ahead;
    use super::*;

    #[test]
    fn instance_types_map_to_their_size() {
        assert_eq!(instance_size("t3.medium"), Some((2, 4096, true)));
        assert_eq!(instance_size("t2.micro"), Some((1, 1024, true)));
        assert_eq!(instance_size("m5.large"), Some((2, 8192, false)));
        assert_eq!(instance_size("c6i.2xlarge"), Some((8, 16384, false)));
        assert_eq!(instance_size("r6g.medium"), Some((1, 8192, false)));
        assert_eq!(instance_size("m7i.12xlarge"), Some((48, 196_608, false)));
        assert_eq!(instance_size("x2idn.metal"), None);
        assert_eq!(instance_size("p4d.24xlarge"), None);
        assert_eq!(instance_size("nonsense"), None);
    }

    #[test]
    fn the_suggested_size_is_a_valid_fargate_size_with_its_reason() {
        let (cpu, memory, why) = suggest_size(Some("t3.medium"));
        assert_eq!((cpu, memory), (1024, 4096));
        assert!(
            why.contains("burstable") && why.contains("1 vCPU, 4 GiB"),
            "{why}"
        );
        assert_eq!(suggest_size(Some("m5.xlarge")).0, 4096);
        assert_eq!(
            suggest_size(Some("m7i.12xlarge")).0,
            16384,
            "capped at 16 vCPU"
        );
        for t in [None, Some("t2.nano"), Some("c5.large"), Some("weird.type")] {
            let (cpu, memory, why) = suggest_size(t);
            assert!(fargate::check(cpu, memory).is_ok(), "{t:?}: {cpu}/{memory}");
            assert!(!why.is_empty());
        }
    }

    const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2";
    const FLEET_TG: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fleet/73e2d6bc24d8a067";

    fn rule(arn: &str, priority: u32, hosts: &[&str], target: &str) -> RuleState {
        RuleState {
            arn: arn.into(),
            listener_arn: LISTENER.into(),
            priority: Some(priority),
            path_patterns: Vec::new(),
            host_headers: hosts.iter().map(|h| (*h).to_owned()).collect(),
            forward: vec![ecsd_plan::state::ForwardTarget {
                target_group_arn: target.into(),
                weight: None,
            }],
            tags: BTreeMap::new(),
        }
    }

    /// The classic fleet: one instance target group behind a rule at 41, with 40 taken.
    fn read() -> FleetRead {
        FleetRead {
            fleet: Fleet {
                name: "legacy fleet".into(),
                min_size: 2,
                max_size: 10,
                desired_capacity: 12,
                subnets: vec!["subnet-1".into(), "subnet-2".into()],
                target_group_arns: vec![FLEET_TG.into()],
                health_check_type: FleetHealthCheck::Elb,
                health_check_grace_period: 90,
                tags: BTreeMap::from([
                    ("team".to_owned(), "storefront".to_owned()),
                    ("aws:cloudformation:stack-name".to_owned(), "x".to_owned()),
                    ("bad key".to_owned(), "x".to_owned()),
                    ("owner".to_owned(), "a|b".to_owned()),
                ]),
                template: Some(ecsd_aws::LaunchTemplate {
                    name: "web".into(),
                    version: "3".into(),
                    instance_type: Some("m5.large".into()),
                    security_groups: vec!["sg-1".into()],
                    image_id: Some("ami-1".into()),
                    has_user_data: true,
                }),
                override_types: Vec::new(),
                launch_configuration: None,
                policies: vec![
                    FleetPolicy::TargetTracking {
                        name: "cpu".into(),
                        metric: "ASGAverageCPUUtilization".into(),
                        target: 65.0,
                        disable_scale_in: false,
                    },
                    FleetPolicy::TargetTracking {
                        name: "requests".into(),
                        metric: "ALBRequestCountPerTarget".into(),
                        target: 1000.0,
                        disable_scale_in: true,
                    },
                    FleetPolicy::TargetTracking {
                        name: "net".into(),
                        metric: "ASGAverageNetworkIn".into(),
                        target: 1e6,
                        disable_scale_in: false,
                    },
                    FleetPolicy::Other {
                        name: "steps".into(),
                        kind: "StepScaling".into(),
                    },
                ],
                scheduled: vec![("nightly".into(), Some("0 22 * * *".into()))],
            },
            target_groups: vec![TargetGroupState {
                arn: FLEET_TG.into(),
                name: "fleet".into(),
                vpc_id: "vpc-1".into(),
                port: 8080,
                protocol: TargetGroupProtocol::Http,
                target_type: TargetKind::Instance,
                health_check: ecsd_plan::state::HealthCheckState {
                    path: Some("/healthz".into()),
                    interval_seconds: 15,
                    timeout_seconds: 5,
                    healthy_threshold: 3,
                    unhealthy_threshold: 2,
                    matcher: "200-299".into(),
                },
                load_balancer_arns: Vec::new(),
                tags: BTreeMap::new(),
                deregistration_delay_seconds: None,
            }],
            rules: vec![
                rule("r-41", 41, &["www.example.com"], FLEET_TG),
                rule("r-40", 40, &["other.example.com"], "arn:other"),
            ],
            delays: BTreeMap::from([(FLEET_TG.to_owned(), Some(60))]),
        }
    }

    fn doc<'a>(docs: &'a [Document], kind: &str) -> &'a Document {
        docs.iter()
            .find(|d| d.kind == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    }

    #[test]
    fn a_fleet_becomes_a_service_an_ip_target_group_with_a_weighted_rule_and_its_scaling() {
        let opts = Options {
            image: Some("web:1".into()),
            cluster: "prod".into(),
        };
        let docs = render(&read(), &opts);
        let tg = doc(&docs, "TargetGroup");
        assert_eq!(tg.name, "legacy-fleet");
        assert_eq!(tg.spec["targetType"], "ip");
        assert_eq!(tg.spec["port"], 8080);
        assert_eq!(tg.spec["deregistrationDelaySeconds"], 60);
        assert_eq!(tg.spec["healthCheck"]["matcher"], "200-299");
        let r = &tg.spec["listenerRule"];
        assert_eq!(
            r["priority"], 39,
            "40 is taken: the next free one ahead of 41"
        );
        assert_eq!(r["hostHeaders"], json!(["www.example.com"]));
        assert_eq!(r["weight"], 0);
        assert_eq!(
            r["alsoForwardTo"],
            json!([{"targetGroupArn": FLEET_TG, "weight": 100}])
        );

        let svc = doc(&docs, "Service");
        assert_eq!(svc.spec["desiredCount"], 10, "clamped into min..max");
        assert_eq!(svc.spec["taskDefinition"]["cpu"], 2048);
        assert_eq!(svc.spec["taskDefinition"]["memory"], 8192);
        assert_eq!(svc.spec["network"]["securityGroups"], json!(["sg-1"]));
        assert_eq!(svc.spec["healthCheckGracePeriodSeconds"], 90);
        assert_eq!(
            svc.spec["loadBalancers"],
            json!([{"targetGroup": "legacy-fleet", "containerName": "app", "containerPort": 8080}])
        );
        assert_eq!(
            svc.labels,
            BTreeMap::from([("team".to_owned(), "storefront".to_owned())])
        );
        assert!(
            svc.comments
                .iter()
                .any(|c| c.contains("bad key") && c.contains("owner")),
            "a key with a space and a value with a '|' are no labels: {:?}",
            svc.comments
        );
        assert!(svc.comments.iter().any(|c| c.contains("with user data")));

        let sp = doc(&docs, "ScalingPolicy");
        assert_eq!(
            sp.spec["targetTracking"],
            json!([
                {"metric": "cpu", "target": 65.0},
                {"metric": "requestsPerTarget", "target": 1000.0, "disableScaleIn": true}
            ])
        );
        assert_eq!(
            (
                sp.spec["minCapacity"].clone(),
                sp.spec["maxCapacity"].clone()
            ),
            (json!(2), json!(10))
        );
        for left_out in ["ASGAverageNetworkIn", "StepScaling", "nightly"] {
            assert!(
                sp.comments.iter().any(|c| c.contains(left_out)),
                "{left_out}: {:?}",
                sp.comments
            );
        }
    }

    #[test]
    fn a_private_ecr_image_gets_the_console_s_execution_role_and_validates() {
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2";
        let docs = render(
            &read(),
            &Options {
                image: Some(image.into()),
                cluster: "prod".into(),
            },
        );
        let svc = doc(&docs, "Service");
        assert_eq!(
            svc.spec["taskDefinition"]["executionRoleArn"],
            "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
        );
        let text = yaml("legacy fleet", &docs, "test");
        let source = ecsd_model::parse_source(&[ecsd_model::SourceFile {
            name: "m.yaml".into(),
            bytes: text.into_bytes(),
        }]);
        assert!(source.is_valid(), "{:?}", source.diagnostics);
    }

    #[test]
    fn what_cannot_be_carried_over_is_said_in_a_comment() {
        let mut r = read();
        r.fleet.template = None;
        r.fleet.launch_configuration = Some("old-lc".into());
        r.rules = vec![rule("r-1", 1, &[], FLEET_TG)];
        let docs = render(
            &r,
            &Options {
                image: None,
                cluster: "prod".into(),
            },
        );
        let tg = doc(&docs, "TargetGroup");
        assert!(tg.spec.get("listenerRule").is_none());
        assert!(
            tg.comments
                .iter()
                .any(|c| c.contains("conditions other than paths and hosts"))
        );
        let svc = doc(&docs, "Service");
        let image = svc.spec["taskDefinition"]["containers"][0]["image"]
            .as_str()
            .unwrap_or_default();
        assert!(image.starts_with(IMAGE_TO_FILL_IN), "{image}");
        for said in ["old-lc", "no security groups", "no instance type"] {
            assert!(
                svc.comments.iter().any(|c| c.contains(said)),
                "{said}: {:?}",
                svc.comments
            );
        }
    }

    #[test]
    fn the_rule_goes_just_ahead_of_the_fleet_s_on_a_free_priority() {
        let used: BTreeSet<u32> = [49, 50].into();
        assert_eq!(priority_ahead(50, &used), Some(48));
        assert_eq!(priority_ahead(1, &used), None);
        assert_eq!(sanitize("my fleet/prod", 32, "-"), "my-fleet-prod");
        assert_eq!(sanitize("--", 32, "-"), "app");
    }
}
