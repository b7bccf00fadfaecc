//! `apply --wait` at a pause where the manifest's canary analysis runs: waits out the
//! window, judges it with a fresh observation (one GetMetricData call), acts as the
//! verdict says (ContinueServiceDeployment, exactly as the controller would) and
//! follows the deployment on. A verdict of `wait`, unreadable metrics or a pause
//! without an analysis end the wait as awaiting approval, as before.

use std::time::Duration;

use ecsd_model::{Kind, Manifest, Spec};
use ecsd_plan::Plan;
use ecsd_plan::analysis::Progress;
use ecsd_plan::state::ServiceId;
use ecsd_runtime::status::analysis::message;
use ecsd_runtime::status::now_epoch;
use ecsd_runtime::{
    ApplyOptions, DrainWait, ObjectOutcome, Progress as Shown, RolledOut, WaitOutcome,
};
use tokio::time::Instant;

use crate::cli::ApplyArgs;
use crate::setup::{self, Planned};

/// Whether `id`'s manifest has a canary analysis.
fn analysed(manifests: &[Manifest], id: &ServiceId) -> bool {
    manifests.iter().any(|m| {
        m.metadata.name == id.name
            && matches!(&m.spec, Spec::Service(s) if s.deployment.analysis.is_some())
    })
}

/// How a service is named in apply's output.
pub(super) fn label(id: &ServiceId) -> String {
    format!("Service/{} ({})", id.name, id.cluster)
}

/// Follows `rolled_out` to the end, running the analysis at the pauses that have one.
pub(super) async fn wait(
    args: &ApplyArgs,
    planned: &Planned,
    rolled_out: &[RolledOut],
    progress: &(dyn Fn(Shown) + Sync),
) -> Vec<(ServiceId, WaitOutcome)> {
    let deadline = Instant::now() + args.wait_timeout;
    let mut pending = rolled_out.to_vec();
    let mut done = Vec::new();
    while !pending.is_empty() {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let waited = ecsd_runtime::wait_for_services(
            &planned.clients.ecs,
            &pending,
            args.wait_interval,
            remaining,
            progress,
        )
        .await;
        let mut paused = Vec::new();
        for (id, outcome) in waited {
            let r = pending.iter().find(|r| r.service == id).cloned();
            match (outcome, r) {
                (WaitOutcome::AwaitingApproval(m), Some(r))
                    if analysed(&planned.manifests, &id) =>
                {
                    paused.push((r, m));
                }
                // The wait's limit is the user's --wait-timeout, however much of it
                // went on earlier pauses.
                (WaitOutcome::TimedOut(_), _) => done.push((
                    id,
                    WaitOutcome::TimedOut(format!(
                        "the deployment did not complete within {}s",
                        args.wait_timeout.as_secs()
                    )),
                )),
                (outcome, _) => done.push((id, outcome)),
            }
        }
        if paused.is_empty() {
            break;
        }
        let again =
            match setup::plan_with(&args.pass, planned.clients.clone(), planned.config.clone())
                .await
            {
                Ok(p) => p,
                Err(f) => {
                    done.extend(
                        paused
                            .into_iter()
                            .map(|(r, _)| (r.service, WaitOutcome::Failed(f.0.clone()))),
                    );
                    break;
                }
            };
        let (next, act, until) = judged(&again, paused, &mut done);
        if !act.is_empty() {
            continue_or_roll_back(&again, &act).await;
        }
        if let Some(end) = until {
            let wait = Duration::from_secs(end.saturating_sub(now_epoch()) + 1);
            if Instant::now() + wait > deadline {
                done.extend(next.into_iter().map(|r| {
                    (
                        r.service,
                        WaitOutcome::TimedOut(format!(
                            "the canary analysis window ends after --wait-timeout ({}s)",
                            args.wait_timeout.as_secs()
                        )),
                    )
                }));
                break;
            }
            tokio::time::sleep(wait).await;
        }
        pending = next;
    }
    done
}

/// What each paused service's analysis says: follow it on (observing, or acted on),
/// act on it, or end the wait (a person decides). Returns the services to follow, the
/// ones to act on, and the earliest window end still observed.
fn judged(
    again: &Planned,
    paused: Vec<(RolledOut, String)>,
    done: &mut Vec<(ServiceId, WaitOutcome)>,
) -> (Vec<RolledOut>, Vec<ServiceId>, Option<u64>) {
    let (mut next, mut act, mut until) = (Vec::new(), Vec::new(), None::<u64>);
    for (r, awaiting) in paused {
        let Some(s) = again.observed.analyses.get(&r.service) else {
            // Paused at a stage the analysis does not run at: a person decides.
            done.push((r.service, WaitOutcome::AwaitingApproval(awaiting)));
            continue;
        };
        println!("{}: {}", label(&r.service), message(s));
        match &s.progress {
            Progress::Observing => {
                until = Some(until.map_or(s.window.end, |u| u.min(s.window.end)));
                next.push(r);
            }
            Progress::Judged(j) if j.action != ecsd_model::service::Verdict::Wait => {
                act.push(r.service.clone());
                next.push(r);
            }
            _ => done.push((r.service, WaitOutcome::AwaitingApproval(awaiting))),
        }
    }
    (next, act, until)
}

/// Applies the verdicts: the fresh plan's changes of the services in `act`.
async fn continue_or_roll_back(again: &Planned, act: &[ServiceId]) {
    let plan = Plan {
        changes: again
            .plan
            .changes
            .iter()
            .filter(|c| c.key.kind == Kind::Service && act.iter().any(|id| id.name == c.key.name))
            .cloned()
            .collect(),
        ..Plan::default()
    };
    let opts = ApplyOptions {
        drain: DrainWait::Defer,
        concurrency: 1,
    };
    let report = ecsd_runtime::apply(&plan, &again.observed, &again.clients, opts).await;
    for (key, outcome) in &report.outcomes {
        match outcome {
            ObjectOutcome::Done(_) => println!("{key}: acted on the canary analysis's verdict"),
            ObjectOutcome::Failed { doing, error } => {
                eprintln!("error: {key}: {doing}: {error}");
            }
            ObjectOutcome::Skipped { because } => {
                eprintln!("error: {key}: not applied because {because} failed");
            }
            ObjectOutcome::Waiting { reason } => eprintln!("error: {key}: {reason}"),
        }
    }
}
