//! What `plan` and `apply` share: read and validate the source, build the AWS clients,
//! observe, plan.

use ecsd_aws::{AwsConfig, SdkEcs, SdkElbv2, SdkScaling};
use ecsd_model::Manifest;
use ecsd_plan::{Observed, Plan, PlanOptions};
use ecsd_runtime::Clients;

use crate::cli::PassArgs;

/// The SDK-backed clients.
pub(crate) type SdkClients = Clients<SdkEcs, SdkElbv2, SdkScaling>;

/// A planned pass.
pub(crate) struct Pass {
    pub(crate) revision: String,
    pub(crate) manifests: Vec<Manifest>,
    pub(crate) observed: Observed,
    pub(crate) plan: Plan,
    pub(crate) clients: SdkClients,
    pub(crate) config: AwsConfig,
}

/// Why a pass could not be planned; the message is what the user sees.
pub(crate) struct Fatal(pub(crate) String);

/// Reads the source; on any invalid document prints every error and fails.
pub(crate) fn read_source(source: &str) -> Result<(String, Vec<Manifest>), Fatal> {
    let kind = if source.starts_with("s3://") {
        Some("S3")
    } else if source.starts_with("git+") {
        Some("git")
    } else {
        None
    };
    if let Some(kind) = kind {
        return Err(Fatal(
            ecsd_source::SourceError::Unsupported {
                source_url: source.to_owned(),
                kind,
            }
            .to_string(),
        ));
    }
    let files = ecsd_source::read_paths(&[source.into()]).map_err(|e| Fatal(e.to_string()))?;
    let parsed = ecsd_model::parse_source(&files);
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
            "{source}: no manifests found; refusing to act on an empty source (nothing was changed)"
        )));
    }
    let revision = ecsd_source::content_revision(&files);
    Ok((
        revision,
        parsed.documents.into_iter().map(|d| d.manifest).collect(),
    ))
}

/// The SDK clients, from the standard AWS configuration chain.
pub(crate) async fn clients() -> (SdkClients, AwsConfig) {
    let config = ecsd_aws::load_config().await;
    let clients = Clients {
        ecs: SdkEcs::new(&config),
        elb: SdkElbv2::new(&config),
        scaling: SdkScaling::new(&config),
    };
    (clients, config)
}

/// The planner's options from the common flags.
pub(crate) fn plan_options(args: &PassArgs) -> PlanOptions {
    PlanOptions {
        owner: args.owner.clone(),
        adopt: args.adopt,
        prune: args.prune,
        max_prune: args.max_prune,
    }
}

/// Refuses source kinds this version cannot read yet.
pub(crate) fn check_source_kind(source: &str) -> Result<(), Fatal> {
    let kind = if source.starts_with("s3://") {
        Some("S3")
    } else if source.starts_with("git+") {
        Some("git")
    } else {
        None
    };
    match kind {
        Some(kind) => Err(Fatal(
            ecsd_source::SourceError::Unsupported {
                source_url: source.to_owned(),
                kind,
            }
            .to_string(),
        )),
        None => Ok(()),
    }
}

/// Reads, observes and plans.
pub(crate) async fn plan(args: &PassArgs) -> Result<Pass, Fatal> {
    let (revision, manifests) = read_source(&args.source)?;
    let (clients, config) = clients().await;
    let observed = ecsd_runtime::observe(&manifests, &clients, args.prune)
        .await
        .map_err(|e| Fatal(e.to_string()))?;
    let plan = ecsd_plan::plan(&manifests, &observed, &plan_options(args));
    Ok(Pass {
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
    tracing::info!(total = stats.total(), mutating = stats.mutating(), calls = %by_operation, "aws calls");
}
