//! Resources made by another tool (boto3 through the emulator, no ecsd), for the tests
//! of adopting and importing what ecsd did not create.

use serde_json::json;

use crate::aws;
use crate::env::Env;

/// A target group `n` and the rule at priority 10 of the test's listener forwarding
/// `/n/*` to it, made by another tool (boto3, no ecsd): their ARNs.
pub fn foreign_target_group(env: &Env, n: &str) -> (String, String) {
    env.foreign_target_group(
        &json!({"Name": n, "Protocol": "HTTP", "Port": 5001, "VpcId": env.id("vpc"), "TargetType": "ip", "HealthCheckPath": "/healthz"}),
        10,
        n,
    )
}

/// A stack made by another tool (boto3, no ecsd) named `n`: target group, rule,
/// service, scalable target, a CPU target-tracking policy (target 60) called `policy`
/// and a scheduled action `nightly`.
pub fn foreign_stack(env: &Env, n: &str, policy: &str) {
    let (tg, _) = foreign_target_group(env, n);
    let td = aws(
        "ecs",
        "register_task_definition",
        &json!({"family": n, "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "512", "memory": "1024",
                "volumes": [{"name": "scratch"}],
                "containerDefinitions": [{"name": "app", "image": "web:1", "portMappings": [{"containerPort": 5001}],
                                          "mountPoints": [{"sourceVolume": "scratch", "containerPath": "/scratch"}]}]}),
    )["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    aws(
        "ecs",
        "create_service",
        &json!({"cluster": env.cluster, "serviceName": n, "taskDefinition": td, "desiredCount": 2, "launchType": "FARGATE",
                "networkConfiguration": {"awsvpcConfiguration": {"subnets": [env.id("subnet0")], "securityGroups": [env.id("security_group")]}},
                "loadBalancers": [{"targetGroupArn": tg, "containerName": "app", "containerPort": 5001}]}),
    );
    let rid = env.resource_id(n);
    aws(
        "application-autoscaling",
        "register_scalable_target",
        &json!({"ServiceNamespace": "ecs", "ResourceId": rid, "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 2, "MaxCapacity": 10}),
    );
    aws(
        "application-autoscaling",
        "put_scaling_policy",
        &json!({"PolicyName": policy, "ServiceNamespace": "ecs", "ResourceId": rid, "ScalableDimension": "ecs:service:DesiredCount",
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 60.0, "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}}}),
    );
    aws(
        "application-autoscaling",
        "put_scheduled_action",
        &json!({"ScheduledActionName": "nightly", "ServiceNamespace": "ecs", "ResourceId": rid, "ScalableDimension": "ecs:service:DesiredCount",
                "Schedule": "cron(0 22 * * ? *)", "Timezone": "Europe/Berlin", "ScalableTargetAction": {"MinCapacity": 1, "MaxCapacity": 4}}),
    );
}

/// Target groups `{n}-b` and `{n}-g` made by another tool, each with a rule at
/// priority 1 of the production and the test listener; `weighted` makes the rules
/// forward to both groups, 100/0, as ECS's own blue/green needs.
pub fn foreign_pair(env: &Env, n: &str, weighted: bool) -> (String, String) {
    let group = |suffix: &str| {
        aws(
            "elbv2",
            "create_target_group",
            &json!({"Name": format!("{n}-{suffix}"), "Protocol": "HTTP", "Port": 5001, "VpcId": env.id("vpc"), "TargetType": "ip"}),
        )["TargetGroups"][0]["TargetGroupArn"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let (blue, green) = (group("b"), group("g"));
    for (listener, first, second) in [
        ("listener", &blue, &green),
        ("test_listener", &green, &blue),
    ] {
        let action = if weighted {
            json!({"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": first, "Weight": 100}, {"TargetGroupArn": second, "Weight": 0}]}})
        } else {
            json!({"Type": "forward", "TargetGroupArn": first})
        };
        aws(
            "elbv2",
            "create_rule",
            &json!({"ListenerArn": env.id(listener), "Priority": 1,
                    "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
                    "Actions": [action]}),
        );
    }
    (blue, green)
}

/// A Fargate task definition of family `n` made by another tool: its ARN.
pub fn foreign_task_definition(n: &str) -> String {
    aws(
        "ecs",
        "register_task_definition",
        &json!({"family": n, "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "512", "memory": "1024",
                "containerDefinitions": [{"name": "app", "image": "web:1", "portMappings": [{"containerPort": 5001}]}]}),
    )["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}
