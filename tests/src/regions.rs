//! Resources in a region of the emulator other than the default one, for deployment
//! targets: a boto3 call there, a network there, the image a Service runs there.

use serde_json::{Value, json};

use crate::env::Env;
use crate::fixture_with;

/// One boto3 call in `region`.
pub fn aws_in(region: &str, service: &str, operation: &str, params: &Value) -> Value {
    let text = fixture_with(
        &["call", service, operation, &params.to_string()],
        &[("AWS_DEFAULT_REGION", region), ("AWS_REGION", region)],
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{operation}: {e}: {text}"))
}

/// The image a Service in `region` runs, if it exists there.
pub fn image_in(env: &Env, region: &str, service: &str) -> Option<String> {
    let out = aws_in(
        region,
        "ecs",
        "describe_services",
        &json!({"cluster": env.cluster, "services": [service]}),
    );
    let svc = out["services"].as_array()?.first()?.clone();
    if svc["status"] != "ACTIVE" {
        return None;
    }
    let td = aws_in(
        region,
        "ecs",
        "describe_task_definition",
        &json!({"taskDefinition": svc["taskDefinition"]}),
    );
    td["taskDefinition"]["containerDefinitions"][0]["image"]
        .as_str()
        .map(str::to_owned)
}

/// A subnet and a security group in `region`, for a Service there.
pub fn network_in(region: &str, name: &str) -> (String, String) {
    let vpc = aws_in(
        region,
        "ec2",
        "create_vpc",
        &json!({"CidrBlock": "10.1.0.0/16"}),
    );
    let vpc = vpc["Vpc"]["VpcId"].as_str().expect("vpc id").to_owned();
    let subnet = aws_in(
        region,
        "ec2",
        "create_subnet",
        &json!({"VpcId": vpc, "CidrBlock": "10.1.1.0/24", "AvailabilityZone": format!("{region}a")}),
    );
    let sg = aws_in(
        region,
        "ec2",
        "create_security_group",
        &json!({"VpcId": vpc, "GroupName": format!("{name}-sg"), "Description": "ecsd test"}),
    );
    (
        subnet["Subnet"]["SubnetId"]
            .as_str()
            .expect("subnet id")
            .to_owned(),
        sg["GroupId"].as_str().expect("group id").to_owned(),
    )
}

/// A Service without a load balancer, in the environment's cluster, on `net`
/// (subnet, security group).
pub fn service(env: &Env, net: &(String, String), name: &str, image: &str) -> String {
    format!(
        r#"apiVersion: ecsd/v1
kind: Service
metadata: {{name: {name}}}
spec:
  cluster: {cluster}
  desiredCount: 1
  network: {{subnets: [{s0}], securityGroups: [{sg}]}}
  taskDefinition:
    cpu: 256
    memory: 512
    containers: [{{name: app, image: "{image}"}}]
"#,
        cluster = env.cluster,
        s0 = net.0,
        sg = net.1,
    )
}
