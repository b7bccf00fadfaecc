//! `--concurrency N` means the same in `ecsd apply` and `ecsd run`: both run a plan's
//! objects through the one scheduler (`ecsd_runtime::pass::schedule`), so at most N
//! objects are worked on at once and independent ones overlap. Measured on the fake
//! with a latency on every call, on tokio's paused clock: how many CreateTargetGroup
//! calls were waiting for AWS at the same moment.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecsd_aws::fake::FakeAws;
use ecsd_model::{Kind, ObjectKey, SourceFile, parse_source};
use ecsd_plan::{PlanOptions, plan};
use ecsd_runtime::controller::backoff::Backoff;
use ecsd_runtime::controller::{ControllerOptions, DriftMode, Event, SharedStatus, Snapshot, run};
use ecsd_runtime::status::{Status, SyncStatus};
use ecsd_runtime::{ApplyOptions, Clients, ObjectOutcome, apply, observe};
use tokio::sync::{mpsc, watch};

const OBJECTS: usize = 6;
const CREATE: &str = "ELBv2.CreateTargetGroup";
const LATENCY: Duration = Duration::from_millis(200);

/// Six TargetGroups that depend on nothing.
fn source() -> Vec<SourceFile> {
    (0..OBJECTS)
        .map(|i| SourceFile {
            name: format!("tg-{i}.yaml"),
            bytes: format!(
                "apiVersion: ecsd/v1\nkind: TargetGroup\nmetadata: {{name: tg-{i}}}\nspec: {{vpcId: vpc-1, port: 80}}\n"
            )
            .into_bytes(),
        })
        .collect()
}

fn slow_account() -> FakeAws {
    let aws = FakeAws::with(&["prod"], &[]);
    aws.set_latency(LATENCY);
    aws
}

/// `ecsd apply --concurrency N`: the peak of creates in flight, and how long it took.
async fn apply_at(concurrency: usize) -> (usize, Duration) {
    let aws = slow_account();
    let clients = Clients::all(&aws);
    let parsed = parse_source(&source());
    assert!(parsed.is_valid(), "{:?}", parsed.diagnostics);
    let manifests: Vec<_> = parsed.documents.into_iter().map(|d| d.manifest).collect();
    let observed = observe(&manifests, &clients, false).await.expect("observe");
    let planned = plan(&manifests, &observed, &PlanOptions::default());
    let started = tokio::time::Instant::now();
    let report = apply(
        &planned,
        &observed,
        &clients,
        ApplyOptions {
            concurrency,
            ..ApplyOptions::default()
        },
    )
    .await;
    assert!(
        report
            .outcomes
            .iter()
            .all(|(_, o)| matches!(o, ObjectOutcome::Done(_))),
        "{:?}",
        report.outcomes
    );
    (aws.peak_calls(CREATE), started.elapsed())
}

/// `ecsd run --concurrency N`: the peak of creates in flight until every object is
/// Synced, and how long that took.
async fn run_at(concurrency: usize) -> (usize, Duration) {
    let aws = slow_account();
    let opts = ControllerOptions {
        plan: PlanOptions::default(),
        resync: Duration::from_secs(300),
        drift: DriftMode::Correct,
        concurrency,
        backoff: Backoff::default(),
        shutdown_timeout: Duration::from_secs(20),
        pass_retry: Duration::from_secs(5),
        health_interval: Duration::from_secs(300),
        scaling_bound_warning: Duration::from_secs(3_600),
        backstop: None,
        leading: None,
        notifier: None,
        target: None,
    };
    let (events, rx) = mpsc::channel(4);
    let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let task = tokio::spawn(run(
        Clients::all(&aws),
        opts,
        rx,
        status.clone(),
        shutdown_rx,
    ));
    let started = tokio::time::Instant::now();
    events
        .send(Event::Snapshot(Snapshot {
            revision: "r1".to_owned(),
            files: source(),
        }))
        .await
        .expect("controller running");
    let synced = |s: &Status| {
        (0..OBJECTS).all(|i| {
            let key = ObjectKey {
                kind: Kind::TargetGroup,
                name: format!("tg-{i}"),
            };
            s.objects.get(&key).map(|o| o.sync) == Some(SyncStatus::Synced)
        })
    };
    let mut took = None;
    for _ in 0..600 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if status.lock().map(|s| synced(&s)).unwrap_or(false) {
            took = Some(started.elapsed());
            break;
        }
    }
    let _ = shutdown.send(true);
    let _ = task.await;
    let took = took.expect("every target group synced within 30 s");
    (aws.peak_calls(CREATE), took)
}

#[tokio::test(start_paused = true)]
async fn apply_and_run_work_on_at_most_concurrency_objects_at_once_and_overlap_independent_ones() {
    for concurrency in [1, 3] {
        let (apply_peak, _) = apply_at(concurrency).await;
        let (run_peak, _) = run_at(concurrency).await;
        assert_eq!(
            apply_peak, concurrency,
            "ecsd apply --concurrency {concurrency}"
        );
        assert_eq!(
            run_peak, concurrency,
            "ecsd run --concurrency {concurrency}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn with_latency_overlapping_objects_is_what_makes_a_pass_fast() {
    let (_, apply_one) = apply_at(1).await;
    let (_, apply_three) = apply_at(3).await;
    let (_, run_one) = run_at(1).await;
    let (_, run_three) = run_at(3).await;
    // Six objects in two waves instead of six: at least twice as fast in both.
    assert!(
        apply_three * 2 <= apply_one,
        "apply: {apply_three:?} at 3 vs {apply_one:?} at 1"
    );
    assert!(
        run_three * 2 <= run_one,
        "run: {run_three:?} at 3 vs {run_one:?} at 1"
    );
}
