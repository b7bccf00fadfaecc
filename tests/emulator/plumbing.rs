//! The AWS plumbing against the local emulator: clients built from the standard AWS
//! configuration chain (AWS_ENDPOINT_URL, AWS_REGION, credentials from the environment)
//! make real HTTP calls, and answers come back as ecsd's own types.

use aws_config::BehaviorVersion;
use ecsd_aws::{EcsApi, SdkEcs, load_config};
use ecsd_tests::{emulator_endpoint, unique_name};

#[tokio::test]
async fn an_sdk_client_from_the_standard_chain_reaches_the_emulator() {
    let endpoint = emulator_endpoint();
    // Arrange with the plain SDK, from the same chain ecsd uses.
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let raw = aws_sdk_ecs::Client::new(&sdk);
    let name = unique_name("plumbing");
    raw.create_cluster()
        .cluster_name(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateCluster at {endpoint}: {e:?}"));

    let config = load_config().await;
    assert_eq!(
        config.region().as_deref(),
        std::env::var("AWS_REGION").ok().as_deref()
    );
    let lookup = SdkEcs::new(&config)
        .describe_clusters(&[name.clone(), "ecsd-no-such-cluster".to_owned()])
        .await
        .expect("DescribeClusters");
    assert_eq!(lookup.found.len(), 1, "{lookup:?}");
    assert_eq!(lookup.found[0].name, name);
    assert_eq!(
        lookup.found[0].status,
        ecsd_plan::state::ClusterStatus::Active
    );
    assert!(
        lookup.found[0].arn.ends_with(&format!(":cluster/{name}")),
        "{lookup:?}"
    );
    assert_eq!(lookup.missing, vec!["ecsd-no-such-cluster".to_owned()]);
}

#[tokio::test]
async fn a_closed_fence_refuses_a_change_before_it_is_sent_and_lets_reads_through() {
    let _ = emulator_endpoint();
    let config = load_config().await;
    let ecs = SdkEcs::new(&config);
    let name = unique_name("fenced");
    // Leader election closes the fence until this replica holds the lease.
    config.fence().close();
    let refused = ecs
        .delete_service(&ecsd_plan::state::ServiceId::new(&name, "web"))
        .await
        .expect_err("a change while not leading");
    assert!(refused.is_fenced(), "{refused}");
    let calls = config.stats().snapshot();
    let not_sent = calls
        .iter()
        .find(|((_, op, outcome), _)| op == "DeleteService" && *outcome == "not_sent");
    assert_eq!(not_sent.map(|(_, n)| *n), Some(1), "{calls:?}");
    // Reads are no change: they still go out.
    let lookup = ecs
        .describe_clusters(std::slice::from_ref(&name))
        .await
        .expect("DescribeClusters while fenced");
    assert_eq!(lookup.missing, vec![name]);
}

#[tokio::test]
async fn get_metric_data_reads_data_points_percentiles_and_metric_math_over_the_wire() {
    use ecsd_aws::CloudWatchApi;
    use ecsd_plan::signals::{MetricQuery, MetricQueryKind};

    let group = format!("targetgroup/{}/0123456789abcdef", unique_name("metrics"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let minute = now - now % 60;
    // Five minutes of an ALB target group's requests and 5xx answers, written with boto3.
    for m in 1..=5u64 {
        let at = minute - 60 * m + 10;
        for (name, value) in [("RequestCount", 200.0), ("HTTPCode_Target_5XX_Count", 10.0)] {
            ecsd_tests::aws(
                "cloudwatch",
                "put_metric_data",
                &serde_json::json!({
                    "Namespace": "AWS/ApplicationELB",
                    "MetricData": [{
                        "MetricName": name, "Value": value, "Unit": "Count", "Timestamp": at,
                        "Dimensions": [{"Name": "TargetGroup", "Value": group}],
                    }],
                }),
            );
        }
    }
    // Ten response times in one minute: their p90 (nearest rank) is the ninth, 0.9 s.
    let times: Vec<serde_json::Value> = (1..=10u64)
        .map(|i| {
            serde_json::json!({
                "MetricName": "TargetResponseTime", "Value": i as f64 / 10.0, "Unit": "Seconds",
                "Timestamp": minute - 60 + i, "Dimensions": [{"Name": "TargetGroup", "Value": group}],
            })
        })
        .collect();
    ecsd_tests::aws(
        "cloudwatch",
        "put_metric_data",
        &serde_json::json!({"Namespace": "AWS/ApplicationELB", "MetricData": times}),
    );
    let stat = |id: &str, name: &str, dims: Vec<(String, String)>| MetricQuery {
        id: id.to_owned(),
        kind: MetricQueryKind::Stat {
            namespace: "AWS/ApplicationELB".to_owned(),
            name: name.to_owned(),
            dimensions: dims,
            period: 60,
            stat: "Sum".to_owned(),
        },
        return_data: id == "requests",
    };
    let dims = vec![("TargetGroup".to_owned(), group.clone())];
    let other = vec![("TargetGroup".to_owned(), format!("{group}-none"))];
    let queries = vec![
        stat("requests", "RequestCount", dims.clone()),
        stat("errors", "HTTPCode_Target_5XX_Count", dims),
        MetricQuery {
            id: "ratio".to_owned(),
            kind: MetricQueryKind::Expression {
                expression: "errors / requests".to_owned(),
                period: 60,
            },
            return_data: true,
        },
        MetricQuery {
            return_data: true,
            ..stat("quiet", "RequestCount", other)
        },
        MetricQuery {
            id: "p90".to_owned(),
            kind: MetricQueryKind::Stat {
                namespace: "AWS/ApplicationELB".to_owned(),
                name: "TargetResponseTime".to_owned(),
                dimensions: vec![("TargetGroup".to_owned(), group.clone())],
                period: 60,
                stat: "p90".to_owned(),
            },
            return_data: true,
        },
    ];
    let config = load_config().await;
    let series = ecsd_aws::SdkCloudWatch::new(&config)
        .metric_data(&queries, minute - 600, minute + 60)
        .await
        .expect("GetMetricData");
    let by_id = |id: &str| {
        series
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no {id} in {series:?}"))
    };
    let requests = by_id("requests");
    assert_eq!(requests.values, vec![200.0; 5], "{requests:?}");
    assert!(
        requests.timestamps.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {requests:?}"
    );
    assert_eq!(by_id("ratio").values, vec![0.05; 5], "{series:?}");
    assert!(by_id("quiet").values.is_empty(), "{series:?}");
    assert_eq!(by_id("p90").values, vec![0.9], "{series:?}");
    assert!(series.iter().all(|s| s.id != "errors"), "{series:?}");
    assert_eq!(
        config
            .stats()
            .by_operation()
            .get("CloudWatch.GetMetricData"),
        Some(&1)
    );
}

#[tokio::test]
async fn a_target_configuration_assumes_its_role_in_its_region() {
    use ecsd_aws::AssumeRole;
    // A cluster in another region than the chain's, made with the plain SDK.
    let region = "eu-west-1";
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .load()
        .await;
    let name = unique_name("target");
    aws_sdk_ecs::Client::new(&sdk)
        .create_cluster()
        .cluster_name(&name)
        .send()
        .await
        .expect("CreateCluster in eu-west-1");

    let base = load_config().await;
    let own = base.access_key_id().await.expect("the chain's credentials");
    let role = AssumeRole {
        role_arn: "arn:aws:iam::123456789012:role/ecsd-target".to_owned(),
        external_id: Some("ecsd-staging".to_owned()),
    };
    let target = base.for_target(Some(&role), Some(region)).await;
    assert_eq!(target.region().as_deref(), Some(region));
    // The emulator's STS answered AssumeRole with other, temporary credentials.
    let assumed = target.access_key_id().await.expect("AssumeRole");
    assert_ne!(assumed, own, "the target signs with the assumed role's key");
    let there = SdkEcs::new(&target)
        .describe_clusters(std::slice::from_ref(&name))
        .await
        .expect("DescribeClusters as the target");
    assert_eq!(there.found.len(), 1, "{there:?}");
    let here = SdkEcs::new(&base)
        .describe_clusters(std::slice::from_ref(&name))
        .await
        .expect("DescribeClusters in the chain's region");
    assert!(here.found.is_empty(), "{here:?}");
    // Both count in the shared call counters.
    assert_eq!(
        base.stats().by_operation().get("ECS.DescribeClusters"),
        Some(&2)
    );
}
