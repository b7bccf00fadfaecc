//! `ecsd plan`: what would change, for people or as JSON; exits 0 (nothing to change),
//! 2 (changes pending) or 1 (error).

use std::process::ExitCode;

use crate::cli::{Output, PlanArgs};
use crate::output::plan_text;
use crate::setup;

use super::fatal;

/// `ecsd plan`: 0 nothing to change, 2 changes pending, 1 error.
pub(crate) async fn run(args: &PlanArgs) -> ExitCode {
    let planned = match setup::plan(&args.pass).await {
        Ok(p) => p,
        Err(f) => return fatal(f),
    };
    match args.output {
        Output::Json => println!("{}", planned.plan.to_json(&planned.revision)),
        Output::Text => print!("{}", plan_text(&planned.plan, &planned.revision)),
    }
    setup::log_calls(&planned.config);
    if !planned.plan.errors.is_empty() {
        ExitCode::from(1)
    } else if !planned.plan.changes.is_empty() || !planned.plan.holds.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
