//! What `plan`, `apply` and `status` share: read and validate the source, build the
//! AWS clients, observe, plan (one reconcile pass of `ecsd_runtime::pass`, planned).

use ecsd_aws::{
    AssumeRole, AwsConfig, SdkCloudWatch, SdkCodeDeploy, SdkEcs, SdkElbv2, SdkS3, SdkScaling,
};
use ecsd_model::{Manifest, Target};
use ecsd_plan::{Observed, Plan, PlanOptions};
use ecsd_runtime::Clients;
use ecsd_source::{AnySource, ManifestSource, Snapshot};

use crate::cli::PassArgs;

/// The SDK-backed clients.
pub(crate) type SdkClients = Clients<SdkEcs, SdkElbv2, SdkScaling, SdkCodeDeploy, SdkCloudWatch>;

/// A planned pass.
pub(crate) struct Planned {
    pub(crate) revision: String,
    pub(crate) manifests: Vec<Manifest>,
    pub(crate) observed: Observed,
    pub(crate) plan: Plan,
    pub(crate) clients: SdkClients,
    pub(crate) config: AwsConfig,
}

/// Why a pass could not be planned; the message is what the user sees.
pub(crate) struct Fatal(pub(crate) String);

/// The source `--source` names.
pub(crate) type Source = AnySource<SdkS3>;

/// The source `--source` names: `git+URL[#REF]`, `s3://BUCKET/PREFIX` or a local path.
pub(crate) fn source(args: &PassArgs, config: &AwsConfig) -> Result<Source, Fatal> {
    let cache = args.cache_dir.clone().unwrap_or_else(std::env::temp_dir);
    AnySource::open(&args.source, &cache, || SdkS3::new(config)).map_err(|e| Fatal(e.to_string()))
}

/// Reads the source once; on any invalid document prints every error and fails. In a
/// source that declares targets, keeps the objects of the one `--target` names (and
/// returns it); without `--target` that is an error, as objects of different targets
/// may share names.
pub(crate) async fn read_source(
    args: &PassArgs,
    config: &AwsConfig,
) -> Result<(String, Vec<Manifest>, Option<Target>), Fatal> {
    let url = ecsd_source::git::redact(&args.source);
    let fetched: Result<Snapshot, _> = source(args, config)?.fetch().await;
    let snapshot = fetched.map_err(|e| Fatal(e.to_string()))?;
    let parsed = ecsd_model::parse_source(&snapshot.files);
    if !parsed.is_valid() {
        for d in &parsed.diagnostics {
            eprintln!("{d}");
        }
        return Err(Fatal(format!(
            "{} error(s) in the source; nothing was changed",
            parsed.diagnostics.len()
        )));
    }
    if parsed.documents.is_empty() {
        return Err(Fatal(format!(
            "{url}: no manifests found; refusing to act on an empty source (nothing was changed)"
        )));
    }
    let names = parsed
        .targets
        .by_name
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let target = match (&args.target, parsed.targets.is_empty()) {
        (None, true) => None,
        (Some(t), true) => {
            return Err(Fatal(format!(
                "--target {t}: {url} declares no targets (kind: Target)"
            )));
        }
        (None, false) => {
            return Err(Fatal(format!(
                "{url} declares deployment targets ({names}): name one with --target NAME"
            )));
        }
        (Some(t), false) => match parsed.targets.by_name.get(t) {
            Some(target) => Some(target.clone()),
            None => {
                return Err(Fatal(format!(
                    "--target {t}: no such target in {url}; it declares {names}"
                )));
            }
        },
    };
    let name = target.as_ref().map(|t| t.name.clone());
    let manifests = parsed
        .documents
        .into_iter()
        .filter(|d| d.target == name)
        .map(|d| d.manifest)
        .collect();
    Ok((snapshot.revision, manifests, target))
}

/// The SDK clients, from the standard AWS configuration chain, optionally rate-limited.
pub(crate) async fn clients_limited(requests_per_second: Option<f64>) -> (SdkClients, AwsConfig) {
    let config = ecsd_aws::load_config_limited(requests_per_second).await;
    (clients_of(&config), config)
}

/// The SDK clients of one configuration.
pub(crate) fn clients_of(config: &AwsConfig) -> SdkClients {
    Clients {
        ecs: SdkEcs::new(config),
        elb: SdkElbv2::new(config),
        scaling: SdkScaling::new(config),
        deploy: SdkCodeDeploy::new(config),
        cloudwatch: SdkCloudWatch::new(config),
    }
}

/// The configuration of a deployment target: its role assumed with ecsd's own
/// credentials, its region (`None`: ecsd's own configuration).
pub(crate) async fn target_config(base: &AwsConfig, target: Option<&Target>) -> AwsConfig {
    let Some(t) = target else {
        return base.clone();
    };
    let assume = t.spec.role_arn.as_ref().map(|role| AssumeRole {
        role_arn: role.clone(),
        external_id: t.spec.external_id.clone(),
    });
    base.for_target(assume.as_ref(), t.spec.region.as_deref())
        .await
}

/// The SDK clients without a rate limit (one-shot commands).
pub(crate) async fn clients() -> (SdkClients, AwsConfig) {
    clients_limited(None).await
}

/// The planner's options from the common flags.
pub(crate) fn plan_options(args: &PassArgs) -> PlanOptions {
    PlanOptions {
        owner: args.owner.clone(),
        adopt: args.adopt,
        prune: args.prune,
        max_prune: args.max_prune,
        recreate: args.recreate,
        retry_rolled_back: args.retry_rolled_back,
    }
}

/// Reads, observes and plans.
pub(crate) async fn plan(args: &PassArgs) -> Result<Planned, Fatal> {
    let (clients, config) = clients().await;
    if args.target.is_none() {
        return plan_with(args, clients, config).await;
    }
    // With --target, as that target's role in its region.
    let (_, _, target) = read_source(args, &config).await?;
    let config = target_config(&config, target.as_ref()).await;
    plan_with(args, clients_of(&config), config).await
}

/// [`plan`] with clients already made (their calls count with the earlier ones').
pub(crate) async fn plan_with(
    args: &PassArgs,
    clients: SdkClients,
    config: AwsConfig,
) -> Result<Planned, Fatal> {
    let (revision, manifests, _) = read_source(args, &config).await?;
    let observed = ecsd_runtime::observe(&manifests, &clients, args.prune)
        .await
        .map_err(|e| Fatal(e.to_string()))?;
    let plan = ecsd_plan::plan(&manifests, &observed, &plan_options(args));
    Ok(Planned {
        revision,
        manifests,
        observed,
        plan,
        clients,
        config,
    })
}

/// Logs how many AWS calls the pass made, by operation.
pub(crate) fn log_calls(config: &AwsConfig) {
    let stats = config.stats();
    let by_operation = serde_json::to_string(&stats.by_operation()).unwrap_or_default();
    let throttled = stats.throttled();
    tracing::info!(total = stats.total(), mutating = stats.mutating(), calls = %by_operation,
        throttled = throttled.values().sum::<u64>(), "aws calls");
}
