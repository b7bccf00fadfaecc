//! The command line, as pinned by the cli-v1 contract (documented in `docs/cli.md`).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// GitOps for AWS ECS Fargate: keeps ECS services, task definitions, target groups and
/// autoscaling matching the YAML manifests in a directory, S3 bucket or git repository.
#[derive(Debug, Parser)]
#[command(
    name = "ecsd",
    version,
    about,
    propagate_version = true,
    max_term_width = 100
)]
pub(crate) struct Cli {
    /// Log format on stderr (default: json when stdout is not a terminal, text otherwise).
    #[arg(long, global = true, env = "ECSD_LOG_FORMAT", value_enum)]
    pub(crate) log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Json,
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse and validate manifests offline (no AWS calls). Prints every error as
    /// `file:line:col: error: message` on stderr; exits 0 when valid, 1 otherwise.
    Validate(ValidateArgs),
    /// Show what `apply` would change, without changing anything. Exits 0 when nothing
    /// is to change, 2 when changes are pending, 1 on any error.
    Plan(PlanArgs),
    /// Make AWS match the manifests (one reconcile pass). Exits 0 when converged, 1 on
    /// any error.
    Apply(ApplyArgs),
    /// The long-running controller: keeps AWS matching the source, with HTTP endpoints
    /// for health, readiness, metrics and status. Runs until SIGTERM or SIGINT, then 0.
    Run(Box<RunArgs>),
    /// Sync and health of every object in the source. Exits 0 when all are synced and
    /// healthy, 2 otherwise, 1 on error.
    Status(StatusArgs),
    /// Write manifests for services that already run (made by Terraform, Copilot, the
    /// console, a script), to adopt them with `apply --adopt`. Exits 0 when every
    /// service was written, 1 otherwise.
    Import(ImportArgs),
    /// Write manifests for the Fargate equivalent of an EC2 Auto Scaling group behind an
    /// ALB (Service, `ip` TargetGroups whose rules start with all traffic on the fleet,
    /// ScalingPolicy), to migrate it a commit at a time. Changes nothing in AWS. Exits 0
    /// when written, 1 otherwise.
    Migrate(MigrateArgs),
    /// Print the JSON Schema of manifest v1 (for editors: see docs/editor.md).
    Schema,
    /// Ask a running `ecsd run` on this host whether it works (`GET /healthz`, or
    /// `--url`): exits 0 when it answers 200, 1 otherwise. For container health checks
    /// (the image has no curl).
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The cluster the services run in (name or ARN).
    #[arg(long, env = "ECSD_CLUSTER")]
    pub(crate) cluster: String,
    /// A service to import (repeatable); every ACTIVE service of the cluster when left out.
    #[arg(long = "service")]
    pub(crate) services: Vec<String>,
    /// Where to write `<service>.yaml`, one file per service (created when missing;
    /// an existing file is never overwritten). Without it, one multi-document YAML
    /// stream on stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct MigrateArgs {
    /// The Auto Scaling group to migrate.
    #[arg(long)]
    pub(crate) asg: String,
    /// The container image of the app; without it the manifest holds a placeholder
    /// that `ecsd validate` points at.
    #[arg(long)]
    pub(crate) image: Option<String>,
    /// The ECS cluster the service goes to (it must exist).
    #[arg(long, env = "ECSD_CLUSTER", default_value = "default")]
    pub(crate) cluster: String,
    /// Where to write `<service>.yaml` (created when missing; an existing file is
    /// never overwritten). Without it, the YAML stream goes to stdout.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct HealthcheckArgs {
    /// The address `ecsd run` listens on (its port is used, on 127.0.0.1).
    #[arg(long, env = "ECSD_LISTEN", default_value = "0.0.0.0:9090")]
    pub(crate) listen: String,
    /// What to ask instead: `http://HOST:PORT/PATH` (plain HTTP; default
    /// `http://127.0.0.1:<port of --listen>/healthz`).
    #[arg(long)]
    pub(crate) url: Option<String>,
    /// How long to wait for the answer.
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Drift {
    /// Correct drift made outside ecsd.
    Correct,
    /// Only report it (OutOfSync); manifest changes are still applied.
    Report,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    #[command(flatten)]
    pub(crate) pass: PassArgs,
    /// How often to re-read the source (a watched directory is also re-read on change).
    #[arg(long, env = "ECSD_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    pub(crate) interval: Duration,
    /// How often to re-observe everything in AWS to find drift made outside ecsd
    /// (with --events: only while the event queue cannot be read).
    #[arg(long, env = "ECSD_RESYNC", default_value = "5m", value_parser = parse_duration)]
    pub(crate) resync: Duration,
    /// Read AWS's events from this SQS queue (EventBridge delivers ECS, CloudTrail and
    /// S3 events to it, see deploy/): drift, deployments and source uploads are acted
    /// on within seconds, and the full resync becomes a backstop (--events-resync).
    #[arg(long, env = "ECSD_EVENTS_QUEUE", value_name = "SQS_QUEUE_URL")]
    pub(crate) events: Option<String>,
    /// With --events: how often to re-observe everything while the queue can be read.
    #[arg(long, env = "ECSD_EVENTS_RESYNC", default_value = "30m", value_parser = parse_duration)]
    pub(crate) events_resync: Duration,
    /// How often the health signals of a quiet object are read again (target health,
    /// deployment alarms, scaling activities); those of an object that is not Healthy,
    /// or whose Service is deploying or not Healthy, are read every 30 s.
    #[arg(long, env = "ECSD_HEALTH_INTERVAL", default_value = "30m", value_parser = parse_duration)]
    pub(crate) health_interval: Duration,
    /// How long a service may sit at its scaling minimum or maximum before its
    /// ScalingPolicy shows a warning.
    #[arg(long, env = "ECSD_SCALING_BOUND_WARNING", default_value = "1h", value_parser = parse_duration)]
    pub(crate) scaling_bound_warning: Duration,
    /// Where to tell people what happened (repeatable; ECSD_NOTIFY takes a
    /// comma-separated list): a Slack incoming webhook (https://hooks.slack.com/...), a
    /// signed JSON webhook (any other https URL; ECSD_NOTIFY_SECRET signs it), or
    /// github://OWNER/REPO for commit statuses (ECSD_GITHUB_TOKEN). A slack+ or webhook+
    /// prefix forces the kind. Only the leader notifies.
    #[arg(
        long,
        env = "ECSD_NOTIFY",
        value_delimiter = ',',
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) notify: Vec<String>,
    /// Notifications kept waiting per --notify target while its receiver is slow or
    /// down; past it, new ones are dropped (counted in ecsd_notifications_total).
    #[arg(long, env = "ECSD_NOTIFY_QUEUE", default_value_t = ecsd_notify::QUEUE_MAX, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000), value_name = "N")]
    pub(crate) notify_queue: usize,
    /// The address people open ecsd's /ui at, for links in notifications.
    #[arg(long, env = "ECSD_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// Where to serve /healthz, /readyz, /metrics, /status and POST /sync.
    #[arg(long, env = "ECSD_LISTEN", default_value = "0.0.0.0:9090")]
    pub(crate) listen: String,
    /// What to do about drift: correct it, or only report it.
    #[arg(long, env = "ECSD_DRIFT", value_enum, default_value = "correct")]
    pub(crate) drift: Drift,
    /// Objects reconciled at once.
    #[arg(long, env = "ECSD_CONCURRENCY", default_value_t = DEFAULT_CONCURRENCY)]
    pub(crate) concurrency: usize,
    /// The most AWS requests a second ecsd makes (bursts of up to twice as many), so it
    /// never starves other tools in the account; 0 for no limit.
    #[arg(long, env = "ECSD_AWS_RPS", default_value_t = 20.0)]
    pub(crate) aws_rps: f64,
    /// How long work in flight may finish after SIGTERM (Fargate stops a task after 30 s).
    #[arg(long, env = "ECSD_SHUTDOWN_TIMEOUT", default_value = "20s", value_parser = parse_duration)]
    pub(crate) shutdown_timeout: Duration,
    /// Leader election on this DynamoDB table (created when missing), so that two or
    /// more replicas can run: only the lease holder changes AWS. Without it this
    /// replica runs alone: run exactly one per --owner.
    #[arg(long, env = "ECSD_LEASE_TABLE")]
    pub(crate) lease_table: Option<String>,
    /// How long a lease lasts without renewal.
    #[arg(long, env = "ECSD_LEASE_DURATION", default_value = "15s", value_parser = parse_duration)]
    pub(crate) lease_duration: Duration,
    /// How often the leader renews its lease (below half the lease duration).
    #[arg(long, env = "ECSD_LEASE_RENEW", default_value = "5s", value_parser = parse_duration)]
    pub(crate) lease_renew: Duration,
    /// This replica's name in the lease and in /status (default: host name, process
    /// id and a random suffix).
    #[arg(long, env = "ECSD_REPLICA_ID")]
    pub(crate) replica_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) pass: PassArgs,
    /// text or json (the same document as GET /status).
    #[arg(long, env = "ECSD_OUTPUT", value_enum, default_value = "text")]
    pub(crate) output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Files or directories to validate together as one source (directories are read
    /// recursively for *.yaml and *.yml).
    #[arg(default_value = "manifests")]
    pub(crate) paths: Vec<PathBuf>,
}

/// Flags every command that talks to AWS shares.
#[derive(Debug, Args)]
pub(crate) struct PassArgs {
    /// Where the manifests are: a directory or file, s3://BUCKET/PREFIX, or
    /// git+URL[#REF] (https, ssh or file URL; REF a branch, tag or commit).
    #[arg(long, env = "ECSD_SOURCE", default_value = "./manifests")]
    pub(crate) source: String,
    /// The value of the ecsd:owner tag on everything ecsd creates and manages.
    #[arg(long, env = "ECSD_OWNER", default_value = "ecsd")]
    pub(crate) owner: String,
    /// Take over existing resources with the manifests' names that lack the owner tag.
    #[arg(long, env = "ECSD_ADOPT")]
    pub(crate) adopt: bool,
    /// Delete owned resources whose manifest is gone (see --max-prune).
    #[arg(long, env = "ECSD_PRUNE")]
    pub(crate) prune: bool,
    /// Refuse to prune more than this many objects (and never more than half of the owned ones).
    #[arg(long, env = "ECSD_MAX_PRUNE", default_value_t = 3)]
    pub(crate) max_prune: usize,
    /// Replace services whose strategy changed between rolling and blueGreen (deletes and
    /// recreates them: their tasks stop and start again).
    #[arg(long, env = "ECSD_RECREATE")]
    pub(crate) recreate: bool,
    /// Deploy a task definition again although ECS (or CodeDeploy) rolled back its last
    /// deployment; without it such a Service is held until its manifest changes.
    #[arg(long, env = "ECSD_RETRY_ROLLED_BACK")]
    pub(crate) retry_rolled_back: bool,
    /// Where git sources are cloned (default: the system's temporary directory).
    #[arg(long, env = "ECSD_CACHE_DIR")]
    pub(crate) cache_dir: Option<PathBuf>,
    /// In a source that declares deployment targets (kind: Target): the one to act on,
    /// with its role and region (plan, apply and status need one; run keeps only it).
    #[arg(long, env = "ECSD_TARGET")]
    pub(crate) target: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) pass: PassArgs,
    /// text (a readable diff) or json (the CLI contract's format).
    #[arg(long, env = "ECSD_OUTPUT", value_enum, default_value = "text")]
    pub(crate) output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub(crate) pass: PassArgs,
    /// Also wait until changed services' deployments complete (or fail, or roll back).
    #[arg(long, env = "ECSD_WAIT")]
    pub(crate) wait: bool,
    /// How long --wait waits (e.g. 900s, 15m, 1h).
    #[arg(long, env = "ECSD_WAIT_TIMEOUT", default_value = "15m", value_parser = parse_duration)]
    pub(crate) wait_timeout: Duration,
    /// How often --wait polls.
    #[arg(long, env = "ECSD_WAIT_INTERVAL", default_value = "5s", value_parser = parse_duration)]
    pub(crate) wait_interval: Duration,
    /// Objects applied at once, each after what it depends on.
    #[arg(long, env = "ECSD_CONCURRENCY", default_value_t = DEFAULT_CONCURRENCY)]
    pub(crate) concurrency: usize,
}

/// Objects `run` reconciles and `apply` applies at once: enough to overlap AWS's
/// latency for a fleet, few enough that AWS's throttling is met by pacing, not a burst.
const DEFAULT_CONCURRENCY: usize = 8;

/// `90`, `90s`, `15m`, `1h`.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30s, 5m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("{s:?} is not a duration like 30s, 5m or 1h")),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("m").is_err());
    }
}
