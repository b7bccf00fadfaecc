//! The command line, as pinned in `shared/spec/cli-v1.md`.

use std::path::PathBuf;

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

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Parse and validate manifests offline (no AWS calls). Prints every error as
    /// `file:line:col: error: message` on stderr; exits 0 when valid, 1 otherwise.
    Validate(ValidateArgs),
    /// Print the JSON Schema of manifest v1 (for editors: see docs/editor.md).
    Schema,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Files or directories to validate together as one source (directories are read
    /// recursively for *.yaml and *.yml).
    #[arg(default_value = "manifests")]
    pub(crate) paths: Vec<PathBuf>,
}
