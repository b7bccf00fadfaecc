//! `ecsd`: GitOps for AWS ECS Fargate. This binary parses the command line and calls the
//! libraries; it holds no logic of its own beyond wiring and printing.
//!
//! # Layout
//! - [`cli`]: the command line (clap), every flag also settable as `ECSD_<FLAG>`.
//! - [`commands`]: one file per command, `commands/<command>.rs` with its `run`:
//!   validate, plan, apply, status, run, import, migrate, healthcheck, schema.
//! - [`setup`]: what plan, apply and status share: the source (parsed once into an
//!   `ecsd_source::AnySource`), the AWS clients, observe, plan.
//! - [`http`] serves `ecsd run`'s endpoints and [`ui`] its status page.
//! - [`output`] prints plans for people and [`progress`] shows `apply --wait`'s
//!   deployments as they go.
//! - [`logging`]: JSON or text logs on stderr.
//! - [`notify`]: `run --notify`'s targets from flags and environment, and their dispatcher.

// The binary's job is to print: results to stdout, diagnostics to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod hooks;
mod http;
mod logging;
mod notify;
mod output;
mod progress;
mod setup;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors. Usage errors exit 1, never 2: for
            // `plan`, 2 means "changes pending" and a typo must not look like that.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    logging::init(cli.log_format);
    match cli.command {
        Command::Validate(args) => commands::validate::run(&args),
        Command::Plan(args) => block_on(commands::plan::run(&args)),
        Command::Apply(args) => block_on(commands::apply::run(&args)),
        Command::Status(args) => block_on(commands::status::run(&args)),
        Command::Run(args) => block_on(commands::run::run(&args)),
        Command::Import(args) => block_on(commands::import::run(&args)),
        Command::Migrate(args) => block_on(commands::migrate::run(&args)),
        Command::Healthcheck(args) => commands::healthcheck::run(&args),
        Command::Schema => commands::schema::run(),
    }
}

/// Runs an async command on a multi-threaded runtime.
fn block_on(command: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    runtime().map_or_else(runtime_failed, |rt| rt.block_on(command))
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

fn runtime_failed(e: std::io::Error) -> ExitCode {
    eprintln!("error: cannot start the async runtime: {e}");
    ExitCode::from(1)
}
