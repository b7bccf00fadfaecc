//! `ecsd apply`: the plan, executed; with `--wait`, the deployments it started followed
//! to the end (through a canary analysis's pause: [`analysis`]). Exits 0 when
//! everything converged, 1 otherwise.

mod analysis;

use std::process::ExitCode;

use ecsd_runtime::{ApplyOptions, DrainWait, ObjectOutcome, WaitOutcome};

use crate::cli::ApplyArgs;
use crate::output::plan_text;
use crate::progress::LiveProgress;
use crate::setup;

use super::fatal;

/// `ecsd apply`: 0 converged, 1 error.
pub(crate) async fn run(args: &ApplyArgs) -> ExitCode {
    let planned = match setup::plan(&args.pass).await {
        Ok(p) => p,
        Err(f) => return fatal(f),
    };
    print!("{}", plan_text(&planned.plan, &planned.revision));
    // A deleted service (pruned, or replaced with --recreate) drains before AWS lets a
    // same-named one be created: apply waits for that as long as --wait-timeout.
    let opts = ApplyOptions {
        drain: DrainWait::Poll {
            interval: args.wait_interval,
            timeout: args.wait_timeout,
        },
        concurrency: args.concurrency,
    };
    let report =
        ecsd_runtime::apply(&planned.plan, &planned.observed, &planned.clients, opts).await;
    let mut ok = planned.plan.errors.is_empty();
    for hold in &planned.plan.holds {
        ok = false;
        eprintln!("error: {}: not deployed: {}", hold.key, hold.reason);
    }
    for (key, outcome) in &report.outcomes {
        match outcome {
            ObjectOutcome::Done(action) => println!("{key}: {}", action.past_tense()),
            ObjectOutcome::Failed { doing, error } => {
                ok = false;
                eprintln!("error: {key}: {doing}: {error}");
            }
            ObjectOutcome::Skipped { because } => {
                ok = false;
                eprintln!("error: {key}: not applied because {because} failed");
            }
            ObjectOutcome::Waiting { reason } => {
                ok = false;
                eprintln!("error: {key}: {reason}");
            }
        }
    }
    let live = LiveProgress::for_stdout();
    let on_progress = |p: ecsd_runtime::Progress| live.update(&p);
    if args.wait && !report.rolled_out.is_empty() {
        println!(
            "waiting for {} deployment(s) (up to {}s)...",
            report.rolled_out.len(),
            args.wait_timeout.as_secs()
        );
        let waited = analysis::wait(args, &planned, &report.rolled_out, &on_progress).await;
        let named = waited.into_iter().map(|(id, o)| (analysis::label(&id), o));
        ok &= report_waits(named, "deployment completed");
    }
    if args.wait && !report.code_deployments.is_empty() {
        println!(
            "waiting for {} CodeDeploy deployment(s) (up to {}s)...",
            report.code_deployments.len(),
            args.wait_timeout.as_secs()
        );
        let waited = ecsd_runtime::wait_for_code_deployments(
            &planned.clients.deploy,
            &report.code_deployments,
            args.wait_interval,
            args.wait_timeout,
            &on_progress,
        )
        .await;
        let named = waited
            .into_iter()
            .map(|(id, o)| (format!("Service/{}", id.name), o));
        ok &= report_waits(named, "CodeDeploy deployment succeeded");
    }
    setup::log_calls(&planned.config);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Prints each waited-for deployment's outcome; true when all completed.
fn report_waits(
    outcomes: impl IntoIterator<Item = (String, WaitOutcome)>,
    completed: &str,
) -> bool {
    let mut ok = true;
    for (who, outcome) in outcomes {
        match outcome {
            WaitOutcome::Completed => println!("{who}: {completed}"),
            WaitOutcome::Failed(m)
            | WaitOutcome::RolledBack(m)
            | WaitOutcome::TimedOut(m)
            | WaitOutcome::AwaitingApproval(m) => {
                ok = false;
                eprintln!("error: {who}: {m}");
            }
        }
    }
    ok
}
