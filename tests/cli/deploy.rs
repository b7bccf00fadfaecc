//! `deploy/cloudformation/ecsd.yaml` created in the emulator's CloudFormation: the
//! lease table, the roles (the task role carrying `deploy/iam-policy.json` with the
//! lease scoped to the stack's table), the log group, the task definition with its
//! health check, and the two-replica Fargate service.

use ecsd_tests::{aws, repo_root, unique_name};
use serde_json::{Value, json};

fn template() -> String {
    std::fs::read_to_string(repo_root().join("deploy/cloudformation/ecsd.yaml"))
        .expect("read the template")
}

/// The stack's physical resource id of `logical`.
fn physical(resources: &Value, logical: &str) -> String {
    resources["StackResources"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["LogicalResourceId"] == logical)
        .and_then(|r| r["PhysicalResourceId"].as_str())
        .unwrap_or_else(|| panic!("no {logical} in {resources}"))
        .to_owned()
}

#[test]
fn the_cloudformation_stack_creates_everything_ecsd_needs() {
    let stack = unique_name("ecsd-stack");
    let cluster = unique_name("ecsd-home");
    let table = unique_name("ecsd-leases");
    aws("ecs", "create_cluster", &json!({"clusterName": cluster}));
    let params = |pairs: &[(&str, &str)]| -> Value {
        pairs
            .iter()
            .map(|(k, v)| json!({"ParameterKey": k, "ParameterValue": v}))
            .collect()
    };
    aws(
        "cloudformation",
        "create_stack",
        &json!({
            "StackName": stack,
            "TemplateBody": template(),
            "Capabilities": ["CAPABILITY_NAMED_IAM"],
            "Parameters": params(&[
                ("Image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/ecsd:0.1.0"),
                ("Cluster", &cluster),
                ("Source", "s3://manifests/prod/"),
                ("Subnets", "subnet-0a1b2c3d,subnet-4e5f6a7b"),
                ("SecurityGroups", "sg-0abc1234"),
                ("LeaseTableName", &table),
            ]),
        }),
    );
    let described = aws(
        "cloudformation",
        "describe_stacks",
        &json!({"StackName": stack}),
    );
    assert_eq!(
        described["Stacks"][0]["StackStatus"], "CREATE_COMPLETE",
        "{described}"
    );
    let resources = aws(
        "cloudformation",
        "describe_stack_resources",
        &json!({"StackName": stack}),
    );

    // The lease table, as `run --lease-table` expects it.
    assert_eq!(physical(&resources, "LeaseTable"), table);
    let t = ecsd_tests::assert_lease_table(&table);

    // The task role: deploy/iam-policy.json, the lease on this table only.
    let role = physical(&resources, "TaskRole");
    let role_name = role.rsplit('/').next().unwrap_or(&role);
    let inline = aws(
        "iam",
        "get_role_policy",
        &json!({"RoleName": role_name, "PolicyName": "ecsd"}),
    );
    let doc = match &inline["PolicyDocument"] {
        // moto keeps a role's inline policy from CloudFormation as Python's repr of it.
        Value::String(s) => serde_json::from_str(s)
            .or_else(|_| serde_json::from_str(&s.replace('\'', "\"")))
            .unwrap_or_else(|e| panic!("policy document {s}: {e}")),
        v => v.clone(),
    };
    let shipped: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("deploy/iam-policy.json")).expect("policy"),
    )
    .expect("policy JSON");
    let table_arn = t["TableArn"].as_str().expect("table ARN");
    // The event feed: the queue the task role may read, and the task's ECSD_EVENTS_QUEUE.
    let queue_url = physical(&resources, "EventQueue");
    let queue_arn = aws(
        "sqs",
        "get_queue_attributes",
        &json!({"QueueUrl": queue_url, "AttributeNames": ["QueueArn", "RedrivePolicy"]}),
    )["Attributes"]
        .clone();
    assert!(
        queue_arn["RedrivePolicy"]
            .to_string()
            .contains("events-dlq"),
        "{queue_arn}"
    );
    let queue_arn = queue_arn["QueueArn"]
        .as_str()
        .expect("queue ARN")
        .to_owned();
    let rules = aws(
        "events",
        "list_rule_names_by_target",
        &json!({"TargetArn": queue_arn}),
    );
    assert_eq!(
        rules["RuleNames"].as_array().map(Vec::len),
        Some(2),
        "the ECS and API call rules send to the queue: {rules}"
    );
    let mut expected = shipped["Statement"].clone();
    for st in expected.as_array_mut().into_iter().flatten() {
        if st["Sid"] == "LeaderLease" {
            st["Resource"] = json!(table_arn);
        }
        if st["Sid"] == "EventQueue" {
            st["Resource"] = json!(queue_arn);
        }
    }
    assert_eq!(
        doc["Statement"], expected,
        "the task role carries deploy/iam-policy.json"
    );

    // The execution role and the log group.
    let exec = physical(&resources, "ExecutionRole");
    let exec_name = exec.rsplit('/').next().unwrap_or(&exec);
    let exec_role = aws("iam", "get_role", &json!({"RoleName": exec_name}));
    assert!(
        exec_role["Role"]["AssumeRolePolicyDocument"]
            .to_string()
            .contains("ecs-tasks.amazonaws.com"),
        "{exec_role}"
    );
    // moto leaves a CloudFormation role's ManagedPolicyArns out: read the template.
    assert!(template().contains("policy/service-role/AmazonECSTaskExecutionRolePolicy"));
    let groups = aws(
        "logs",
        "describe_log_groups",
        &json!({"logGroupNamePrefix": format!("/ecs/{stack}")}),
    );
    assert_eq!(groups["logGroups"][0]["retentionInDays"], 30, "{groups}");

    // The task definition: the lease table, the health check, the roles.
    let td = aws(
        "ecs",
        "describe_task_definition",
        &json!({"taskDefinition": physical(&resources, "TaskDefinition")}),
    )["taskDefinition"]
        .clone();
    let container = &td["containerDefinitions"][0];
    let env: Vec<(String, String)> = container["environment"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default().to_owned(),
                e["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert!(
        env.contains(&("ECSD_LEASE_TABLE".to_owned(), table.clone())),
        "{env:?}"
    );
    assert!(
        env.contains(&("ECSD_EVENTS_QUEUE".to_owned(), queue_url.clone())),
        "{env:?}"
    );
    assert!(env.contains(&("ECSD_SOURCE".to_owned(), "s3://manifests/prod/".to_owned())));
    assert_eq!(
        container["healthCheck"]["command"],
        json!([
            "CMD",
            "/usr/local/bin/ecsd",
            "healthcheck",
            "--url",
            "http://127.0.0.1:9090/healthz"
        ]),
        "{container}"
    );
    // The service: two replicas on Fargate, rolling 100/200.
    let services = aws(
        "ecs",
        "describe_services",
        &json!({"cluster": cluster, "services": [physical(&resources, "Service")]}),
    );
    let service = &services["services"][0];
    assert_eq!(service["desiredCount"], 2, "{services}");
    let text = template();
    // moto keeps neither the task definition's Fargate settings and roles nor the
    // service's deployment settings from CloudFormation: read the template.
    for needed in [
        "RequiresCompatibilities: [FARGATE]",
        "NetworkMode: awsvpc",
        r#"TaskRoleArn: {"Fn::GetAtt": [TaskRole, Arn]}"#,
        r#"ExecutionRoleArn: {"Fn::GetAtt": [ExecutionRole, Arn]}"#,
        "DesiredCount: 2",
        "MinimumHealthyPercent: 100",
        "MaximumPercent: 200",
        "LaunchType: FARGATE",
    ] {
        assert!(text.contains(needed), "the template sets {needed}");
    }
}

/// An inline policy of a role as moto keeps it (a JSON string, or Python's repr of one).
fn inline_policy(role_name: &str, policy: &str) -> Value {
    let inline = aws(
        "iam",
        "get_role_policy",
        &json!({"RoleName": role_name, "PolicyName": policy}),
    );
    match &inline["PolicyDocument"] {
        Value::String(s) => serde_json::from_str(s)
            .or_else(|_| serde_json::from_str(&s.replace('\'', "\"")))
            .unwrap_or_else(|e| panic!("policy document {s}: {e}")),
        v => v.clone(),
    }
}

#[test]
fn the_target_account_stack_trusts_only_the_hub_role_with_the_external_id_and_carries_the_owner_scoped_policy()
 {
    let stack = unique_name("ecsd-target");
    let role_name = unique_name("ecsd-target");
    let hub = "arn:aws:iam::111111111111:role/ecsd-TaskRole-ABC";
    let template =
        std::fs::read_to_string(repo_root().join("deploy/cloudformation/ecsd-target.yaml"))
            .expect("read the target template");
    let params = json!([
        {"ParameterKey": "HubTaskRoleArn", "ParameterValue": hub},
        {"ParameterKey": "ExternalId", "ParameterValue": "acme-prod"},
        {"ParameterKey": "RoleName", "ParameterValue": role_name},
    ]);
    aws(
        "cloudformation",
        "create_stack",
        &json!({"StackName": stack, "TemplateBody": template,
                "Capabilities": ["CAPABILITY_NAMED_IAM"], "Parameters": params}),
    );
    let described = aws(
        "cloudformation",
        "describe_stacks",
        &json!({"StackName": stack}),
    );
    assert_eq!(
        described["Stacks"][0]["StackStatus"], "CREATE_COMPLETE",
        "{described}"
    );
    let output = described["Stacks"][0]["Outputs"].to_string();
    assert!(output.contains(&format!(":role/{role_name}")), "{output}");

    let role = aws("iam", "get_role", &json!({"RoleName": role_name}));
    let trust = match &role["Role"]["AssumeRolePolicyDocument"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}")),
        v => v.clone(),
    };
    let st = &trust["Statement"][0];
    assert_eq!(st["Principal"]["AWS"], hub, "{trust}");
    assert_eq!(st["Action"], "sts:AssumeRole", "{trust}");
    assert_eq!(
        st["Condition"]["StringEquals"]["sts:ExternalId"], "acme-prod",
        "{trust}"
    );

    // The hub's deployment statements, without what stays in the hub.
    let shipped: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("deploy/iam-policy.json")).expect("policy"),
    )
    .expect("policy JSON");
    let expected: Vec<Value> = shipped["Statement"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| {
            !matches!(
                s["Sid"].as_str(),
                Some("S3Source" | "LeaderLease" | "EventQueue")
            )
        })
        .cloned()
        .collect();
    let doc = inline_policy(&role_name, "ecsd");
    assert_eq!(
        doc["Statement"],
        json!(expected),
        "the target role carries the deployment part of deploy/iam-policy.json"
    );
}
