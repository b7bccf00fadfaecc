//! `ecsd status`: sync and health of every object; exits 0 when all are Synced and
//! Healthy, 2 otherwise, 1 on error.

use std::process::ExitCode;

use ecsd_runtime::pass::health::evaluate;
use ecsd_runtime::status::{Health, SyncStatus};

use crate::cli::{Output, StatusArgs};
use crate::setup;

use super::fatal;

/// `ecsd status`: 0 all synced and healthy, 2 otherwise, 1 error.
pub(crate) async fn run(args: &StatusArgs) -> ExitCode {
    let planned = match setup::plan(&args.pass).await {
        Ok(p) => p,
        Err(f) => return fatal(f),
    };
    let objects = evaluate(&planned.manifests, &planned.observed, &planned.plan);
    let status = ecsd_runtime::status::Status {
        revision: planned.revision.clone(),
        objects,
        ..Default::default()
    };
    match args.output {
        Output::Json => println!("{}", status.to_json()),
        Output::Text => {
            for (key, o) in &status.objects {
                println!(
                    "{key:<40} {:<10} {:<12} {}",
                    o.sync.as_str(),
                    o.health.as_str(),
                    o.message
                );
            }
            println!("revision {}", status.revision);
        }
    }
    setup::log_calls(&planned.config);
    let all_good = status
        .objects
        .values()
        .all(|o| o.sync == SyncStatus::Synced && o.health == Health::Healthy);
    if all_good {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}
