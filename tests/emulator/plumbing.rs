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
