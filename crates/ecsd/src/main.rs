//! `ecsd`: GitOps for AWS ECS Fargate. This binary parses the command line and calls the
//! libraries; it holds no logic of its own beyond wiring and printing.
//!
//! # Layout
//! - [`cli`]: the command line (clap), every flag also settable as `ECSD_<FLAG>`.
//! - [`validate`]: `ecsd validate`, offline checks of manifests.
//! - [`run`]: `ecsd run`, the controller, with [`http`] serving its endpoints and [`ui`]
//!   its status page.
//! - [`commands`]: `ecsd plan`, `ecsd apply` and `ecsd status`; [`pass`] is what they share (source,
//!   clients, observe, plan), [`output`] prints plans for people and [`progress`] shows
//!   `apply --wait`'s deployments as they go.
//! - `schema`: `ecsd schema`, the JSON Schema of manifest v1 for editors.
//! - [`logging`]: JSON or text logs on stderr.

// The binary's job is to print: results to stdout, diagnostics to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod healthcheck;
mod http;
mod logging;
mod output;
mod pass;
mod progress;
mod run;
mod ui;
mod validate;

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
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => {
            runtime().map_or_else(runtime_failed, |rt| rt.block_on(commands::plan(&args)))
        }
        Command::Apply(args) => {
            runtime().map_or_else(runtime_failed, |rt| rt.block_on(commands::apply(&args)))
        }
        Command::Status(args) => {
            runtime().map_or_else(runtime_failed, |rt| rt.block_on(commands::status(&args)))
        }
        Command::Run(args) => {
            runtime().map_or_else(runtime_failed, |rt| rt.block_on(run::run(&args)))
        }
        Command::Import(args) => {
            runtime().map_or_else(runtime_failed, |rt| rt.block_on(commands::import(&args)))
        }
        Command::Migrate(args) => {
            runtime().map_or_else(runtime_failed, |rt| rt.block_on(commands::migrate(&args)))
        }
        Command::Healthcheck(args) => healthcheck::run(&args),
        Command::Schema => match serde_json::to_string_pretty(ecsd_model::schema::json_schema()) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot print the schema: {e}");
                ExitCode::from(1)
            }
        },
    }
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
