//! The controller against the in-memory AWS fake on tokio's paused clock: no real sleeps,
//! time jumps to the next timer whenever every task is waiting.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecsd_aws::fake::FakeAws;
use ecsd_model::{Kind, ObjectKey, SourceFile};
use ecsd_plan::PlanOptions;
use ecsd_plan::state::{CodeDeployStatus, DeploymentController, ServiceId, ServiceStatus};
use ecsd_runtime::Clients;
use ecsd_runtime::controller::backoff::Backoff;
use ecsd_runtime::controller::{ControllerOptions, DriftMode, Event, SharedStatus, Snapshot, run};
use ecsd_runtime::status::{Health, Status, SyncStatus as Sync};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

const RESYNC: Duration = Duration::from_secs(300);
/// Shorter than the resync: health between passes is read on its own cadence.
const HEALTH_INTERVAL: Duration = Duration::from_secs(120);
const LISTENER: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/0a1b2c3d4e5f6a7b";

/// A TargetGroup (with a listener rule: ECS refuses a target group no load balancer
/// uses) and a Service called `name`.
fn stack(name: &str, image: &str, port: &str) -> String {
    let priority: u32 = name.bytes().map(u32::from).sum();
    format!(
        r#"apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: {name}}}
spec:
  vpcId: vpc-1
  port: {port}
  healthCheck: {{path: /healthz}}
  listenerRule: {{listenerArn: "{LISTENER}", priority: {priority}, pathPatterns: ["/{name}/*"]}}
---
apiVersion: ecsd/v1
kind: Service
metadata: {{name: {name}}}
spec:
  cluster: prod
  desiredCount: 2
  network: {{subnets: [subnet-1]}}
  taskDefinition:
    cpu: 256
    memory: 512
    containers: [{{name: app, image: "{image}", portMappings: [{{containerPort: 5001}}]}}]
  loadBalancers: [{{targetGroup: {name}, containerName: app, containerPort: 5001}}]
"#
    )
}

struct Harness {
    aws: FakeAws,
    events: mpsc::Sender<Event>,
    status: SharedStatus,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

fn start(drift: DriftMode) -> Harness {
    start_with(drift, PlanOptions::default())
}

fn start_with(drift: DriftMode, plan: PlanOptions) -> Harness {
    start_full(drift, plan, None)
}

fn start_full(
    drift: DriftMode,
    plan: PlanOptions,
    leading: Option<watch::Receiver<bool>>,
) -> Harness {
    start_on(FakeAws::with(&["prod"], &[LISTENER]), drift, plan, leading)
}

/// A controller on an existing fake account (as after a restart).
fn start_on(
    aws: FakeAws,
    drift: DriftMode,
    plan: PlanOptions,
    leading: Option<watch::Receiver<bool>>,
) -> Harness {
    let clients = Clients::all(&aws);
    let opts = ControllerOptions {
        plan,
        resync: RESYNC,
        drift,
        concurrency: 4,
        backoff: Backoff::default(),
        shutdown_timeout: Duration::from_secs(20),
        pass_retry: Duration::from_secs(5),
        health_interval: HEALTH_INTERVAL,
        scaling_bound_warning: Duration::from_secs(3_600),
        backstop: None,
        leading,
        notifier: None,
        target: None,
    };
    let (events, rx) = mpsc::channel(16);
    let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let task = tokio::spawn(run(clients, opts, rx, status.clone(), shutdown_rx));
    Harness {
        aws,
        events,
        status,
        shutdown,
        task,
    }
}

impl Harness {
    async fn snapshot(&self, revision: &str, files: &[(&str, String)]) {
        let files = files
            .iter()
            .map(|(name, text)| SourceFile {
                name: (*name).to_owned(),
                bytes: text.as_bytes().to_vec(),
            })
            .collect();
        self.events
            .send(Event::Snapshot(Snapshot {
                revision: revision.to_owned(),
                files,
            }))
            .await
            .expect("controller running");
        settle().await;
    }

    fn sync(&self, kind: Kind, name: &str) -> Option<Sync> {
        let key = ObjectKey {
            kind,
            name: name.to_owned(),
        };
        self.status.lock().ok()?.objects.get(&key).map(|o| o.sync)
    }

    fn message(&self, kind: Kind, name: &str) -> String {
        let key = ObjectKey {
            kind,
            name: name.to_owned(),
        };
        self.status
            .lock()
            .ok()
            .and_then(|s| s.objects.get(&key).map(|o| o.message.clone()))
            .unwrap_or_default()
    }

    fn image(&self, name: &str) -> String {
        self.aws.edit(|s| {
            let svc = &s.services[&ServiceId::new("prod", name)];
            s.task_definitions[&svc.task_definition_arn]
                .definition
                .containers[0]
                .image
                .clone()
        })
    }
}

impl Harness {
    /// Changes every service's count, as someone outside ecsd would.
    fn drift_count(&self, n: u32) {
        self.aws
            .edit(|s| s.services.values_mut().for_each(|x| x.desired_count = n));
    }

    /// The sum of every service's desired count.
    fn desired_count(&self) -> u32 {
        self.aws
            .edit(|s| s.services.values().map(|x| x.desired_count).sum())
    }
}

/// Lets one resync happen.
async fn after_resync() {
    tokio::time::sleep(RESYNC + Duration::from_secs(1)).await;
    settle().await;
}

/// Lets the controller and its workers run until they wait on a timer or an event.
async fn settle() {
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_snapshot_is_applied_reported_synced_and_then_ready() {
    let h = start(DriftMode::Correct);
    assert!(!h.status.lock().map(|s| s.ready).unwrap_or(true));
    h.snapshot("r1", &[("web.yaml", stack("web", "web:1", "5001"))])
        .await;
    assert_eq!(h.image("web"), "web:1");
    assert_eq!(h.sync(Kind::Service, "web"), Some(Sync::Synced));
    assert_eq!(h.sync(Kind::TargetGroup, "web"), Some(Sync::Synced));
    let status = h
        .status
        .lock()
        .map(|s| (s.ready, s.revision.clone()))
        .expect("status");
    assert_eq!(status, (true, "r1".to_owned()));

    h.aws.clear_calls();
    h.snapshot("r2", &[("web.yaml", stack("web", "web:2", "5001"))])
        .await;
    assert_eq!(h.image("web"), "web:2");
    let registers = h.aws.count("ECS.RegisterTaskDefinition");
    assert_eq!(registers, 1);
}

#[tokio::test(start_paused = true)]
async fn a_standby_shows_what_differs_but_changes_nothing_until_it_leads() {
    let (lead, leading) = watch::channel(false);
    let h = start_full(DriftMode::Correct, PlanOptions::default(), Some(leading));
    let ready = || h.status.lock().map(|s| s.ready).unwrap_or(true);
    h.snapshot("r1", &[("web.yaml", stack("web", "web:1", "5001"))])
        .await;
    assert_eq!(
        h.aws.count("ECS.CreateService"),
        0,
        "a standby creates nothing"
    );
    assert_eq!(
        h.sync(Kind::Service, "web"),
        Some(Sync::OutOfSync),
        "but shows the difference"
    );
    assert!(!ready(), "a standby is not ready");

    let _ = lead.send(true);
    settle().await;
    assert_eq!(h.image("web"), "web:1", "the new leader applies at once");
    assert_eq!(h.sync(Kind::Service, "web"), Some(Sync::Synced));
    assert!(ready());

    let _ = lead.send(false);
    settle().await;
    assert!(!ready());
    h.snapshot("r2", &[("web.yaml", stack("web", "web:2", "5001"))])
        .await;
    after_resync().await;
    assert_eq!(
        h.aws.count("ECS.RegisterTaskDefinition"),
        1,
        "nothing after stepping down"
    );
    assert_eq!(h.image("web"), "web:1");
    assert_eq!(h.sync(Kind::Service, "web"), Some(Sync::OutOfSync));
}

#[tokio::test(start_paused = true)]
async fn target_health_is_read_on_its_own_cadence_between_passes_and_turns_a_group_degraded() {
    let h = start(DriftMode::Correct);
    h.snapshot("r1", &[("web.yaml", stack("web", "web:1", "5001"))])
        .await;
    let key = ObjectKey {
        kind: Kind::TargetGroup,
        name: "web".to_owned(),
    };
    let health = || {
        h.status
            .lock()
            .ok()
            .and_then(|s| s.objects.get(&key).map(|o| (o.health, o.message.clone())))
            .unwrap_or((Health::Unknown, String::new()))
    };
    // Its tasks run; the pass after the service's creation (30 s later) sees them and
    // reads its targets.
    h.aws.complete_deployment(&ServiceId::new("prod", "web"));
    tokio::time::sleep(Duration::from_secs(31)).await;
    settle().await;
    assert_eq!(health().0, Health::Healthy, "{}", health().1);
    // Every target starts failing its health check.
    h.aws.edit(|s| {
        let arn = s.target_groups["web"].arn.clone();
        let failing = ecsd_plan::signals::TargetHealth {
            id: "10.0.0.1".into(),
            port: Some(5001),
            state: ecsd_plan::signals::TargetState::Unhealthy,
            reason: Some("Target.Timeout".into()),
            description: Some("Request timed out".into()),
        };
        s.targets.insert(arn, vec![failing.clone(), failing]);
    });
    let reads = h.aws.count("ELBv2.DescribeTargetHealth");
    // A healthy group is not read again before its interval is up.
    tokio::time::sleep(Duration::from_secs(60)).await;
    settle().await;
    assert_eq!(
        h.aws.count("ELBv2.DescribeTargetHealth"),
        reads,
        "{:?}",
        h.status.lock().map(|s| s.objects.clone())
    );
    assert_eq!(health().0, Health::Healthy);
    // Once it is, the health tick reads it (before the next full pass) and says why.
    tokio::time::sleep(HEALTH_INTERVAL).await;
    settle().await;
    let (h2, message) = health();
    assert_eq!(h2, Health::Degraded, "{message}");
    assert!(
        message.contains("Target.Timeout (Request timed out)"),
        "{message}"
    );
    // Degraded, it is read at every tick (30 s) until it recovers.
    let degraded_reads = h.aws.count("ELBv2.DescribeTargetHealth");
    tokio::time::sleep(Duration::from_secs(31)).await;
    settle().await;
    assert_eq!(
        h.aws.count("ELBv2.DescribeTargetHealth"),
        degraded_reads + 1
    );
}

#[tokio::test(start_paused = true)]
async fn drift_is_corrected_within_one_resync() {
    let h = start(DriftMode::Correct);
    h.snapshot("r1", &[("web.yaml", stack("web", "web:1", "5001"))])
        .await;
    h.drift_count(9);
    after_resync().await;
    assert_eq!(h.desired_count(), 2);
    assert_eq!(h.sync(Kind::Service, "web"), Some(Sync::Synced));
}

#[tokio::test(start_paused = true)]
async fn drift_report_mode_only_reports_drift_but_applies_manifest_changes() {
    let h = start(DriftMode::Report);
    h.snapshot("r1", &[("web.yaml", stack("web", "web:1", "5001"))])
        .await;
    h.drift_count(9);
    after_resync().await;
    assert_eq!(h.desired_count(), 9, "reported, not corrected");
    assert_eq!(h.sync(Kind::Service, "web"), Some(Sync::OutOfSync));
    assert!(
        h.message(Kind::Service, "web").contains("desiredCount"),
        "{}",
        h.message(Kind::Service, "web")
    );
    h.snapshot("r2", &[("web.yaml", stack("web", "web:2", "5001"))])
        .await;
    assert_eq!(
        h.image("web"),
        "web:2",
        "a manifest change is applied in report mode"
    );
}

#[tokio::test(start_paused = true)]
async fn a_broken_document_keeps_its_object_as_it_was_and_the_others_carry_on() {
    let h = start(DriftMode::Correct);
    let good = |img: &str| ("b.yaml", stack("b", img, "5001"));
    h.snapshot("r1", &[("a.yaml", stack("a", "a:1", "5001")), good("b:1")])
        .await;
    // a's Service document is broken (a count as a word) and carries a new image too.
    let broken = stack("a", "a:2", "5001").replace("desiredCount: 2", "desiredCount: two");
    h.snapshot("r2", &[("a.yaml", broken.clone()), good("b:2")])
        .await;
    assert_eq!(
        h.image("a"),
        "a:1",
        "the broken object is left exactly as it was"
    );
    assert_eq!(h.image("b"), "b:2", "the others keep reconciling");
    assert_eq!(h.sync(Kind::Service, "a"), Some(Sync::Error));
    assert_eq!(
        h.sync(Kind::TargetGroup, "a"),
        Some(Sync::Synced),
        "a's valid TargetGroup document is fine"
    );
    let message = h.message(Kind::Service, "a");
    assert!(
        message.starts_with("a.yaml:15:17: error: spec.desiredCount must be an integer"),
        "{message}"
    );
    // Drift on the broken object is still corrected, from its last valid state.
    h.aws.edit(|s| {
        s.services
            .values_mut()
            .filter(|x| x.id.name == "a")
            .for_each(|x| x.desired_count = 7)
    });
    after_resync().await;
    assert_eq!(
        h.aws
            .edit(|s| s.services[&ServiceId::new("prod", "a")].desired_count),
        2
    );
    assert_eq!(h.image("a"), "a:1");
    assert_eq!(
        h.sync(Kind::Service, "a"),
        Some(Sync::Error),
        "still reported until the document is fixed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_object_backs_off_and_recovers_without_holding_up_the_others() {
    let h = start(DriftMode::Correct);
    h.aws.fail("ECS.CreateService", "ThrottlingException");
    h.snapshot("r1", &[("a.yaml", stack("a", "a:1", "5001"))])
        .await;
    assert_eq!(h.sync(Kind::Service, "a"), Some(Sync::Error));
    assert_eq!(
        h.sync(Kind::TargetGroup, "a"),
        Some(Sync::Synced),
        "the target group is not held up"
    );
    let (code, failures, backoff) = h
        .status
        .lock()
        .map(|s| {
            let o = &s.objects[&ObjectKey {
                kind: Kind::Service,
                name: "a".into(),
            }];
            (o.error_code.clone(), o.failures, o.backoff_seconds)
        })
        .expect("status");
    assert_eq!(code.as_deref(), Some("ThrottlingException"));
    assert!(failures >= 1);
    assert!(
        backoff <= 2.0 * f64::from(1u32 << failures.min(8)),
        "{backoff}"
    );
    h.aws.edit(|s| s.failures.clear());
    tokio::time::sleep(Duration::from_secs(600)).await;
    settle().await;
    assert_eq!(h.sync(Kind::Service, "a"), Some(Sync::Synced));
    assert_eq!(h.aws.edit(|s| s.services.len()), 1);
}

#[tokio::test(start_paused = true)]
async fn when_a_read_for_one_object_keeps_failing_the_others_are_still_reconciled() {
    let h = start(DriftMode::Correct);
    // Every DescribeServices fails: no full pass can observe AWS, and neither can the
    // Service's own job, but the TargetGroup needs no ECS read.
    h.aws.fail("ECS.DescribeServices", "ServerException");
    h.snapshot("r1", &[("a.yaml", stack("a", "a:1", "5001"))])
        .await;
    assert_eq!(
        h.sync(Kind::TargetGroup, "a"),
        Some(Sync::Synced),
        "{:?}",
        h.status.lock().map(|s| s.errors.clone())
    );
    assert_eq!(h.aws.count("ELBv2.CreateTargetGroup"), 1);
    assert_eq!(h.sync(Kind::Service, "a"), Some(Sync::Error));
    assert_eq!(h.aws.edit(|s| s.services.len()), 0);
    h.aws.edit(|s| s.failures.clear());
    tokio::time::sleep(Duration::from_secs(600)).await;
    settle().await;
    assert_eq!(h.sync(Kind::Service, "a"), Some(Sync::Synced));
    assert_eq!(h.aws.edit(|s| s.services.len()), 1);
    assert_eq!(
        h.aws.count("ELBv2.CreateTargetGroup"),
        1,
        "nothing is created twice"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pass_that_hangs_on_a_read_gives_up_at_its_deadline_and_the_others_are_reconciled() {
    let h = start(DriftMode::Correct);
    h.aws.stall("ECS.DescribeServices");
    h.snapshot("r1", &[("a.yaml", stack("a", "a:1", "5001"))])
        .await;
    assert_eq!(
        h.aws.count("ELBv2.CreateTargetGroup"),
        0,
        "the pass still reads"
    );
    tokio::time::sleep(Duration::from_secs(130)).await;
    settle().await;
    assert_eq!(
        h.sync(Kind::TargetGroup, "a"),
        Some(Sync::Synced),
        "{:?}",
        h.status.lock().map(|s| s.errors.clone())
    );
    let errors = h
        .status
        .lock()
        .map(|s| s.errors.clone())
        .unwrap_or_default();
    assert!(
        errors.iter().any(|e| e.contains("took longer than 120s")),
        "{errors:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_never_creates_anything_twice() {
    let h = start(DriftMode::Correct);
    for call in [
        "ELBv2.CreateTargetGroup",
        "ECS.RegisterTaskDefinition",
        "ECS.CreateService",
    ] {
        h.aws.lose_next_answer(call);
    }
    h.snapshot("r1", &[("a.yaml", stack("a", "a:1", "5001"))])
        .await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    settle().await;
    assert_eq!(h.sync(Kind::Service, "a"), Some(Sync::Synced));
    let (tgs, revisions, services) = h.aws.edit(|s| {
        (
            s.target_groups.len(),
            s.task_definitions.len(),
            s.services.len(),
        )
    });
    assert_eq!(
        (tgs, revisions, services),
        (1, 1, 1),
        "one target group, one revision, one service"
    );
    let creates = h.aws.count("ECS.CreateService");
    assert_eq!(
        creates, 1,
        "the retry saw the service the lost call created"
    );
}

#[tokio::test(start_paused = true)]
async fn a_service_added_back_while_draining_waits_progressing_and_is_then_created() {
    let prune = PlanOptions {
        prune: true,
        ..PlanOptions::default()
    };
    let h = start_with(DriftMode::Correct, prune);
    let a = ("a.yaml", stack("a", "a:1", "5001"));
    let b = ("b.yaml", stack("b", "b:1", "5001"));
    h.snapshot("r1", &[a.clone(), b.clone()]).await;
    h.snapshot("r2", std::slice::from_ref(&a)).await;
    let b_id = ServiceId::new("prod", "b");
    let status = h
        .aws
        .edit(|s| s.services.get(&b_id).map(|x| x.status.clone()));
    assert_eq!(
        status,
        Some(ServiceStatus::Draining),
        "pruned: AWS drains it"
    );

    // Added back within the 30 s AWS takes to drain it: the controller waits.
    h.snapshot("r3", &[a, b]).await;
    assert_eq!(h.sync(Kind::Service, "b"), Some(Sync::OutOfSync));
    assert_eq!(h.health(Kind::Service, "b"), Some(Health::Progressing));
    let message = h.message(Kind::Service, "b");
    assert!(message.contains("still DRAINING"), "{message}");

    tokio::time::sleep(Duration::from_secs(40)).await;
    settle().await;
    assert_eq!(h.sync(Kind::Service, "b"), Some(Sync::Synced));
    let status = h
        .aws
        .edit(|s| s.services.get(&b_id).map(|x| x.status.clone()));
    assert_eq!(status, Some(ServiceStatus::Active));
    assert_eq!(
        h.aws.count("ECS.DeleteService"),
        1,
        "deleted once, by the prune"
    );
    assert_eq!(h.aws.count("ECS.CreateService"), 3, "a and b, then b again");
}

#[tokio::test(start_paused = true)]
async fn shutdown_returns_after_work_in_flight() {
    let h = start(DriftMode::Correct);
    h.snapshot("r1", &[("a.yaml", stack("a", "a:1", "5001"))])
        .await;
    h.shutdown.send(true).expect("send");
    tokio::time::timeout(Duration::from_secs(21), h.task)
        .await
        .expect("stops within the shutdown timeout")
        .expect("no panic");
}

#[tokio::test(start_paused = true)]
async fn a_rolled_back_deployment_is_degraded_and_not_pushed_again_until_the_manifest_changes_or_a_sync()
 {
    let h = start(DriftMode::Correct);
    h.snapshot("r1", &[("web.yaml", stack("web", "web:1", "5001"))])
        .await;
    h.snapshot("r2", &[("web.yaml", stack("web", "web:2", "5001"))])
        .await;
    assert_eq!(h.image("web"), "web:2");
    // The circuit breaker rolls web:2 back: the service runs web:1 again, and the failed
    // deployment has already left DescribeServices' `deployments`: only
    // ListServiceDeployments still tells.
    h.aws.roll_back(
        &ServiceId::new("prod", "web"),
        "ECS deployment circuit breaker: tasks failed to start",
        false,
    );
    assert_eq!(h.image("web"), "web:1");
    h.aws.clear_calls();
    after_resync().await;
    after_resync().await;
    assert_eq!(
        h.aws.mutating_calls(),
        Vec::<String>::new(),
        "no deploy-rollback loop"
    );
    let (health, message) = h
        .status
        .lock()
        .map(|s| {
            let o = &s.objects[&ObjectKey {
                kind: Kind::Service,
                name: "web".into(),
            }];
            (o.health, o.message.clone())
        })
        .expect("status");
    assert_eq!(health, Health::Degraded);
    assert!(
        message.contains("circuit breaker") && message.contains("POST /sync"),
        "{message}"
    );

    // An explicit sync retries the change once.
    h.events.send(Event::Sync).await.expect("running");
    settle().await;
    assert_eq!(h.image("web"), "web:2");
    let updates = h.aws.count("ECS.UpdateService");
    assert_eq!(updates, 1);
    let registers = h.aws.count("ECS.RegisterTaskDefinition");
    assert_eq!(
        registers, 0,
        "the rolled-back revision is reused, not registered again"
    );

    // A new manifest revision is applied without a sync.
    h.snapshot("r3", &[("web.yaml", stack("web", "web:3", "5001"))])
        .await;
    assert_eq!(h.image("web"), "web:3");
}

const PROD: &str = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/edge/50dc6c495c0c9188/f2f7dc8efc522ab2";

fn blue_green(image: &str) -> String {
    two_groups(
        "bg",
        image,
        None,
        &format!(
            r#"    strategy: blueGreen
    blueGreen:
      alternateTargetGroup: bg-green
      prodListenerArn: {PROD}
      autoRollback: true
      alarms: [bg-5xx]
      serviceRoleArn: arn:aws:iam::123456789012:role/codedeploy
"#
        ),
    )
}

/// Target groups `{name}-blue` (priority `rule` on the production listener, 1 when the
/// green one has none) and `{name}-green` (priority `rule` on the test listener, if
/// any), and a Service `name` behind the blue one with `deployment`.
fn two_groups(name: &str, image: &str, rule: Option<u32>, deployment: &str) -> String {
    let blue_priority = rule.unwrap_or(1);
    let green_rule = rule.map_or(String::new(), |p| {
        format!("\n  listenerRule: {{listenerArn: \"{LISTENER}\", priority: {p}, pathPatterns: [\"/*\"]}}")
    });
    format!(
        r#"apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: {name}-blue}}
spec:
  vpcId: vpc-1
  port: 5001
  listenerRule: {{listenerArn: "{PROD}", priority: {blue_priority}, pathPatterns: ["/*"]}}
---
apiVersion: ecsd/v1
kind: TargetGroup
metadata: {{name: {name}-green}}
spec:
  vpcId: vpc-1
  port: 5001{green_rule}
---
apiVersion: ecsd/v1
kind: Service
metadata: {{name: {name}}}
spec:
  cluster: prod
  desiredCount: 2
  network: {{subnets: [subnet-1]}}
  taskDefinition:
    cpu: 256
    memory: 512
    containers: [{{name: app, image: "{image}", portMappings: [{{containerPort: 5001}}]}}]
  loadBalancers: [{{targetGroup: {name}-blue, containerName: app, containerPort: 5001}}]
  deployment:
{deployment}"#
    )
}

impl Harness {
    fn health(&self, kind: Kind, name: &str) -> Option<Health> {
        let key = ObjectKey {
            kind,
            name: name.to_owned(),
        };
        self.status.lock().ok()?.objects.get(&key).map(|o| o.health)
    }

    fn code_deployments(&self) -> Vec<ecsd_plan::state::CodeDeployment> {
        self.aws
            .edit(|s| s.code_deployments.iter().map(|(_, d)| d.clone()).collect())
    }

    /// CodeDeploy ends the newest deployment with `status`; on success the service runs
    /// its revision with every task up.
    fn finish_deployment(&self, status: CodeDeployStatus, error: Option<&str>) {
        let Some(d) = self.code_deployments().pop() else {
            return;
        };
        self.aws.finish_code_deployment(&d.id, status, error);
        self.aws.complete_deployment(&ServiceId::new("prod", "bg"));
    }
}

#[tokio::test(start_paused = true)]
async fn blue_green_rolls_out_through_codedeploy_and_reports_its_outcome() {
    let h = start(DriftMode::Correct);
    h.aws.edit(|s| {
        s.rules.insert(PROD.to_owned(), Vec::new());
    });
    h.snapshot("r1", &[("bg.yaml", blue_green("web:1"))]).await;
    assert_eq!(
        h.aws.edit(|s| s
            .services
            .values()
            .next()
            .map(|x| x.deployment_controller.clone())),
        Some(DeploymentController::CodeDeploy)
    );
    assert_eq!(h.aws.edit(|s| s.deployment_groups.len()), 1);

    // A new image: one CodeDeploy deployment, never an UpdateService of the task definition.
    h.aws.clear_calls();
    h.snapshot("r2", &[("bg.yaml", blue_green("web:2"))]).await;
    assert_eq!(h.code_deployments().len(), 1);
    assert!(!h.aws.calls().iter().any(|c| c == "ECS.UpdateService"));
    assert_eq!(h.health(Kind::Service, "bg"), Some(Health::Progressing));

    // CodeDeploy moved the production rule to a weighted forward to green: not
    // ecsd's business, during the deployment and after it.
    let shifted = h.aws.edit(|s| {
        let green = s.target_groups["bg-green"].arn.clone();
        s.rules[PROD].iter().any(|r| r.forwards_only_to(&green))
    });
    assert!(shifted, "the fake shifts traffic as CodeDeploy does");
    h.aws.clear_calls();
    after_resync().await;
    assert_eq!(
        h.aws.mutating_calls(),
        Vec::<String>::new(),
        "nothing touched while CodeDeploy shifts traffic"
    );
    assert_eq!(
        h.code_deployments().len(),
        1,
        "no second deployment while one is in flight"
    );

    h.finish_deployment(CodeDeployStatus::Succeeded, None);
    after_resync().await;
    assert_eq!(h.health(Kind::Service, "bg"), Some(Health::Healthy));
    assert_eq!(h.image("bg"), "web:2");
    assert_eq!(h.sync(Kind::Service, "bg"), Some(Sync::Synced));

    // A bad image: CodeDeploy fails it and rolls back; ecsd reports it and does not retry.
    h.snapshot("r3", &[("bg.yaml", blue_green("web:3"))]).await;
    assert_eq!(h.code_deployments().len(), 2);
    h.finish_deployment(
        CodeDeployStatus::Failed,
        Some("alarm bg-5xx went off; the deployment was rolled back"),
    );
    h.aws.clear_calls();
    after_resync().await;
    after_resync().await;
    assert_eq!(h.code_deployments().len(), 2, "no deploy-rollback loop");
    assert_eq!(h.health(Kind::Service, "bg"), Some(Health::Degraded));
    assert!(
        h.message(Kind::Service, "bg").contains("bg-5xx"),
        "{}",
        h.message(Kind::Service, "bg")
    );
    assert_eq!(
        h.image("bg"),
        "web:2",
        "the service still runs the last good revision"
    );
}

/// A Service ECS deploys with `strategy` (ecsBlueGreen, linear or canary) between
/// `nb-blue` (its rule on the production listener) and `nb-green` (its rule on the test
/// listener), with `extra` lines appended to its `deployment` block.
fn native(strategy: &str, image: &str, extra: &str) -> String {
    two_groups(
        "nb",
        image,
        Some(2),
        &format!(
            r#"    strategy: {strategy}
    bakeTimeMinutes: 5
    traffic:
      alternateTargetGroup: nb-green
      productionListenerRule: nb-blue
      testListenerRule: nb-green
      roleArn: arn:aws:iam::123456789012:role/ecs-infrastructure-elb
{extra}"#
        ),
    )
}

/// A PAUSE hook after the test traffic shift, with this timeout.
fn pause(minutes: u32, action: &str) -> String {
    format!(
        "    lifecycleHooks:\n      - {{type: pause, stages: [POST_TEST_TRAFFIC_SHIFT], timeoutMinutes: {minutes}, timeoutAction: {action}}}\n"
    )
}

impl Harness {
    /// A native stack created and its first deployment finished.
    async fn native_stack(&self, strategy: &str, extra: &str) {
        self.aws.edit(|s| {
            s.rules.insert(PROD.to_owned(), Vec::new());
        });
        self.snapshot("r1", &[("nb.yaml", native(strategy, "web:1", extra))])
            .await;
        self.aws.complete_deployment(&nb());
        after_resync().await;
        assert_eq!(
            self.health(Kind::Service, "nb"),
            Some(Health::Healthy),
            "{}",
            self.message(Kind::Service, "nb")
        );
    }

    fn awaiting(&self) -> Option<ecsd_runtime::status::AwaitingApproval> {
        let key = ObjectKey {
            kind: Kind::Service,
            name: "nb".to_owned(),
        };
        self.status
            .lock()
            .ok()?
            .objects
            .get(&key)
            .and_then(|o| o.awaiting_approval.clone())
    }
}

fn nb() -> ServiceId {
    ServiceId::new("prod", "nb")
}

#[tokio::test(start_paused = true)]
async fn a_canary_shifts_its_share_bakes_and_only_then_is_healthy_with_one_deployment() {
    let h = start(DriftMode::Correct);
    h.native_stack(
        "canary",
        "    canary: {canaryPercent: 10, canaryBakeTimeMinutes: 5}\n",
    )
    .await;
    // ECS gets the strategy and where to shift traffic; the rules forward to both target
    // groups. The first deployment moved all traffic to nb-green, which now serves: ECS
    // reports the pair swapped (native-traffic).
    let (dc, lb, prod) = h.aws.edit(|s| {
        let svc = &s.services[&nb()];
        (
            svc.deployment_configuration.clone(),
            svc.load_balancers[0].clone(),
            s.rules[PROD][0].clone(),
        )
    });
    assert_eq!(dc.strategy.as_deref(), Some("CANARY"));
    assert_eq!(dc.bake_time_minutes, Some(5));
    assert_eq!(dc.canary.map(|c| c.canary_percent), Some(10.0));
    let advanced = lb.advanced.expect("advancedConfiguration");
    assert_eq!(
        advanced.production_listener_rule.as_deref(),
        Some(prod.arn.as_str())
    );
    assert!(advanced.test_listener_rule.is_some());
    let test = h.aws.edit(|s| s.rules[LISTENER][0].clone());
    let (blue, green) = h.aws.edit(|s| {
        (
            s.target_groups["nb-blue"].arn.clone(),
            s.target_groups["nb-green"].arn.clone(),
        )
    });
    assert_eq!(
        lb.target_group_arn, green,
        "the service serves from nb-green"
    );
    assert_eq!(advanced.alternate_target_group_arn, blue);
    for rule in [&prod, &test] {
        let weights: Vec<(String, Option<u32>)> = rule
            .forward
            .iter()
            .map(|f| (f.target_group_arn.clone(), f.weight))
            .collect();
        assert_eq!(
            weights,
            vec![(blue.clone(), Some(0)), (green.clone(), Some(100))],
            "{rule:?}"
        );
    }

    h.aws.clear_calls();
    h.snapshot(
        "r2",
        &[(
            "nb.yaml",
            native(
                "canary",
                "web:2",
                "    canary: {canaryPercent: 10, canaryBakeTimeMinutes: 5}\n",
            ),
        )],
    )
    .await;
    assert_eq!(h.aws.count("ECS.UpdateService"), 1);
    // ECS moves traffic (the fake rewrites the rules as it goes): the weights are ECS's,
    // never "corrected".
    after_resync().await;
    assert_eq!(h.health(Kind::Service, "nb"), Some(Health::Progressing));
    let message = h.message(Kind::Service, "nb");
    assert!(
        message.contains("PRODUCTION_TRAFFIC_SHIFT")
            && message.contains("10% of production traffic"),
        "{message}"
    );
    after_resync().await;
    let message = h.message(Kind::Service, "nb");
    assert_eq!(
        h.health(Kind::Service, "nb"),
        Some(Health::Progressing),
        "{message}"
    );
    assert!(message.contains("BAKE_TIME"), "{message}");
    after_resync().await;
    assert_eq!(
        h.health(Kind::Service, "nb"),
        Some(Health::Healthy),
        "{}",
        h.message(Kind::Service, "nb")
    );
    assert_eq!(h.image("nb"), "web:2");
    assert_eq!(
        h.aws.count("ECS.UpdateService"),
        1,
        "one deployment per change"
    );
    assert_eq!(
        h.aws.count("ELBv2.ModifyRule"),
        0,
        "ECS's weights are left alone"
    );
    assert_eq!(h.sync(Kind::TargetGroup, "nb-blue"), Some(Sync::Synced));
    // web:2 went to nb-blue, which serves now.
    let prod = h.aws.edit(|s| s.rules[PROD][0].clone());
    let weight = |arn: &str| {
        prod.forward
            .iter()
            .find(|f| f.target_group_arn == arn)
            .and_then(|f| f.weight)
    };
    assert_eq!(
        (weight(&blue), weight(&green)),
        (Some(100), Some(0)),
        "{prod:?}"
    );
    let svc_lb = h.aws.edit(|s| s.services[&nb()].load_balancers[0].clone());
    assert_eq!(svc_lb.target_group_arn, blue);
}

#[tokio::test(start_paused = true)]
async fn a_pause_waits_for_an_approval_committed_to_git_and_continues_exactly_once() {
    let h = start(DriftMode::Correct);
    let hook = pause(60, "rollback");
    h.native_stack("ecsBlueGreen", &hook).await;
    h.snapshot("r2", &[("nb.yaml", native("ecsBlueGreen", "web:2", &hook))])
        .await;
    // The deployment pauses 60 s in: the controller looks again well before a resync.
    tokio::time::sleep(Duration::from_secs(95)).await;
    settle().await;
    let waiting = h
        .awaiting()
        .expect("awaiting approval, seen within two rechecks");
    assert_eq!(waiting.stage.as_deref(), Some("POST_TEST_TRAFFIC_SHIFT"));
    assert_eq!(waiting.timeout_action.as_deref(), Some("ROLLBACK"));
    let message = h.message(Kind::Service, "nb");
    assert!(
        message.contains("awaiting approval") && message.contains(&waiting.deployment),
        "{message}"
    );
    assert_eq!(h.health(Kind::Service, "nb"), Some(Health::Progressing));
    assert_eq!(
        h.aws.count("ECS.ContinueServiceDeployment"),
        0,
        "nothing continues a pause by itself"
    );

    // An approval of another deployment is reported and ignored.
    let stale = format!("{hook}    approve: 0123456789abcdef\n");
    h.snapshot(
        "r3",
        &[("nb.yaml", native("ecsBlueGreen", "web:2", &stale))],
    )
    .await;
    assert_eq!(h.aws.count("ECS.ContinueServiceDeployment"), 0);
    let message = h.message(Kind::Service, "nb");
    assert!(message.contains("stale"), "{message}");

    // The approval names the deployment: one ContinueServiceDeployment, then never again
    // although the approval stays in git.
    let approved = format!("{hook}    approve: {}\n", waiting.deployment);
    h.snapshot(
        "r4",
        &[("nb.yaml", native("ecsBlueGreen", "web:2", &approved))],
    )
    .await;
    assert_eq!(h.aws.count("ECS.ContinueServiceDeployment"), 1);
    assert!(h.awaiting().is_none());
    for _ in 0..3 {
        after_resync().await;
    }
    assert_eq!(h.aws.count("ECS.ContinueServiceDeployment"), 1);
    assert_eq!(
        h.health(Kind::Service, "nb"),
        Some(Health::Healthy),
        "{}",
        h.message(Kind::Service, "nb")
    );
    assert_eq!(h.image("nb"), "web:2");

    // The next deployment pauses again: the old approval does not continue it.
    h.snapshot(
        "r5",
        &[("nb.yaml", native("ecsBlueGreen", "web:3", &approved))],
    )
    .await;
    after_resync().await;
    let again = h.awaiting().expect("the next deployment pauses");
    assert_ne!(again.deployment, waiting.deployment);
    assert_eq!(h.aws.count("ECS.ContinueServiceDeployment"), 1);
}

#[tokio::test(start_paused = true)]
async fn an_approval_acts_once_even_when_the_answer_is_lost_and_the_controller_restarts() {
    let h = start(DriftMode::Correct);
    let hook = pause(60, "rollback");
    let hook = format!("{hook}    linear: {{stepPercent: 50, stepBakeTimeMinutes: 1}}\n");
    h.native_stack("linear", &hook).await;
    h.snapshot("r2", &[("nb.yaml", native("linear", "web:2", &hook))])
        .await;
    after_resync().await;
    let waiting = h.awaiting().expect("awaiting approval");
    // ECS continues the deployment, but the answer never arrives; then the controller
    // is restarted before it could look again.
    h.aws.lose_next_answer("ECS.ContinueServiceDeployment");
    let approved = format!("{hook}    approve: {}\n", waiting.deployment_arn);
    h.snapshot("r3", &[("nb.yaml", native("linear", "web:2", &approved))])
        .await;
    assert_eq!(h.aws.count("ECS.ContinueServiceDeployment"), 1);
    let _ = h.shutdown.send(true);
    let _ = h.task.await;
    let again = start_on(
        h.aws.clone(),
        DriftMode::Correct,
        PlanOptions::default(),
        None,
    );
    again
        .snapshot("r3", &[("nb.yaml", native("linear", "web:2", &approved))])
        .await;
    for _ in 0..4 {
        after_resync().await;
    }
    assert_eq!(
        again.aws.count("ECS.ContinueServiceDeployment"),
        1,
        "exactly once"
    );
    assert_eq!(
        again.health(Kind::Service, "nb"),
        Some(Health::Healthy),
        "{}",
        again.message(Kind::Service, "nb")
    );
    assert_eq!(again.image("nb"), "web:2");
}

#[tokio::test(start_paused = true)]
async fn a_pause_that_times_out_rolls_back_or_continues_as_its_timeout_action_says() {
    let h = start(DriftMode::Correct);
    let hook = pause(10, "rollback");
    h.native_stack("ecsBlueGreen", &hook).await;
    h.snapshot("r2", &[("nb.yaml", native("ecsBlueGreen", "web:2", &hook))])
        .await;
    after_resync().await;
    assert!(h.awaiting().is_some());
    after_resync().await;
    after_resync().await;
    assert_eq!(h.health(Kind::Service, "nb"), Some(Health::Degraded));
    let message = h.message(Kind::Service, "nb");
    assert!(message.contains("timed out"), "{message}");
    assert_eq!(h.image("nb"), "web:1", "ECS rolled back");
    after_resync().await;
    assert_eq!(
        h.aws.count("ECS.UpdateService"),
        1,
        "a rolled-back revision is not pushed again"
    );

    let h = start(DriftMode::Correct);
    let hook = pause(10, "continue");
    h.native_stack("ecsBlueGreen", &hook).await;
    h.snapshot("r2", &[("nb.yaml", native("ecsBlueGreen", "web:2", &hook))])
        .await;
    for _ in 0..4 {
        after_resync().await;
    }
    assert_eq!(
        h.health(Kind::Service, "nb"),
        Some(Health::Healthy),
        "{}",
        h.message(Kind::Service, "nb")
    );
    assert_eq!(h.image("nb"), "web:2");
    assert_eq!(h.aws.count("ECS.ContinueServiceDeployment"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_rollback_from_git_or_a_failing_lambda_hook_leaves_the_old_revision_and_is_degraded() {
    let h = start(DriftMode::Correct);
    let hook = pause(60, "continue");
    h.native_stack("canary", &hook).await;
    h.snapshot("r2", &[("nb.yaml", native("canary", "web:2", &hook))])
        .await;
    after_resync().await;
    let waiting = h.awaiting().expect("awaiting approval");
    let rollback = format!("{hook}    rollback: {}\n", waiting.hook);
    h.snapshot("r3", &[("nb.yaml", native("canary", "web:2", &rollback))])
        .await;
    assert_eq!(h.aws.count("ECS.ContinueServiceDeployment"), 1);
    after_resync().await;
    assert_eq!(h.health(Kind::Service, "nb"), Some(Health::Degraded));
    assert_eq!(h.image("nb"), "web:1");
    assert_eq!(
        h.aws.count("ECS.UpdateService"),
        1,
        "not redeployed after the rollback"
    );

    let h = start(DriftMode::Correct);
    let smoke = "arn:aws:lambda:us-east-1:123456789012:function:smoke";
    let hook = format!(
        "    lifecycleHooks:\n      - {{type: lambda, functionArn: {smoke}, roleArn: arn:aws:iam::123456789012:role/hooks, stages: [POST_TEST_TRAFFIC_SHIFT], details: {{suite: smoke}}}}\n"
    );
    h.native_stack("linear", &hook).await;
    let hooks = h.aws.edit(|s| {
        s.services[&nb()]
            .deployment_configuration
            .lifecycle_hooks
            .clone()
    });
    assert_eq!(hooks[0].function_arn.as_deref(), Some(smoke));
    h.aws.fail_hook(smoke);
    h.snapshot("r2", &[("nb.yaml", native("linear", "web:2", &hook))])
        .await;
    after_resync().await;
    assert_eq!(h.health(Kind::Service, "nb"), Some(Health::Degraded));
    let message = h.message(Kind::Service, "nb");
    assert!(message.contains("smoke"), "{message}");
    assert_eq!(h.image("nb"), "web:1");
}

#[tokio::test(start_paused = true)]
async fn rolling_and_native_strategies_switch_in_place_but_codedeploy_needs_recreate() {
    let h = start(DriftMode::Correct);
    h.aws.edit(|s| {
        s.rules.insert(PROD.to_owned(), Vec::new());
    });
    let rolling = native("canary", "web:1", "").replace(
        "    strategy: canary\n    bakeTimeMinutes: 5\n    traffic:\n      alternateTargetGroup: nb-green\n      productionListenerRule: nb-blue\n      testListenerRule: nb-green\n      roleArn: arn:aws:iam::123456789012:role/ecs-infrastructure-elb\n",
        "    strategy: rolling\n",
    );
    assert!(rolling.contains("strategy: rolling"));
    h.snapshot("r1", &[("nb.yaml", rolling)]).await;
    h.aws.complete_deployment(&nb());
    h.aws.clear_calls();
    h.snapshot("r2", &[("nb.yaml", native("canary", "web:1", ""))])
        .await;
    assert_eq!(h.aws.count("ECS.DeleteService"), 0);
    assert_eq!(h.aws.count("ECS.UpdateService"), 1);
    let strategy = h
        .aws
        .edit(|s| s.services[&nb()].deployment_configuration.strategy.clone());
    assert_eq!(strategy.as_deref(), Some("CANARY"));
    assert_eq!(
        h.sync(Kind::Service, "nb"),
        Some(Sync::Synced),
        "{}",
        h.message(Kind::Service, "nb")
    );

    // Deleting the hooks and the strategy block reaches AWS like adding them.
    h.snapshot(
        "r3",
        &[("nb.yaml", native("linear", "web:1", &pause(30, "rollback")))],
    )
    .await;
    h.snapshot("r4", &[("nb.yaml", native("linear", "web:1", ""))])
        .await;
    let hooks = h.aws.edit(|s| {
        s.services[&nb()]
            .deployment_configuration
            .lifecycle_hooks
            .len()
    });
    assert_eq!(hooks, 0);

    h.snapshot(
        "r5",
        &[("nb.yaml", blue_green("web:1").replace("bg", "nb"))],
    )
    .await;
    assert_eq!(h.sync(Kind::Service, "nb"), Some(Sync::Error));
    assert!(
        h.message(Kind::Service, "nb").contains("--recreate"),
        "{}",
        h.message(Kind::Service, "nb")
    );
}

/// What an event on the `--events` queue would tell the controller.
fn notice(kind: ecsd_runtime::events::EventKind, deployment: bool, service: &str) -> Event {
    Event::Notices(vec![ecsd_runtime::events::Notice {
        kind,
        resources: vec![ecsd_runtime::events::Resource::Service {
            cluster: Some("prod".to_owned()),
            name: service.to_owned(),
        }],
        deployment,
        object: None,
        what: "test".to_owned(),
        who: None,
    }])
}

#[tokio::test(start_paused = true)]
async fn an_event_naming_a_service_corrects_its_drift_before_any_resync() {
    let h = start(DriftMode::Correct);
    h.snapshot("r1", &[("web.yaml", stack("web", "web:1", "5001"))])
        .await;
    h.drift_count(9);
    // About someone else's service: nothing is looked at.
    h.events
        .send(notice(
            ecsd_runtime::events::EventKind::ApiCall,
            false,
            "other",
        ))
        .await
        .expect("send");
    settle().await;
    assert_eq!(h.desired_count(), 9);
    h.events
        .send(notice(
            ecsd_runtime::events::EventKind::ApiCall,
            false,
            "web",
        ))
        .await
        .expect("send");
    tokio::time::sleep(Duration::from_secs(1)).await;
    settle().await;
    assert_eq!(h.desired_count(), 2, "corrected long before the resync");
    assert_eq!(h.aws.count("ECS.UpdateService"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_deployment_or_hook_event_starts_a_full_pass_at_once_and_a_storm_of_them_one_a_second() {
    let h = start(DriftMode::Correct);
    h.snapshot("r1", &[("web.yaml", stack("web", "web:1", "5001"))])
        .await;
    after_resync().await;
    let passes = || h.status.lock().map(|s| s.passes).unwrap_or(0);
    let before = passes();
    let hook = || {
        notice(
            ecsd_runtime::events::EventKind::HookStateChange,
            true,
            "web",
        )
    };
    h.events.send(hook()).await.expect("send");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    settle().await;
    assert_eq!(passes(), before + 1, "the hook's pause is looked at now");
    for _ in 0..50 {
        h.events.send(hook()).await.expect("send");
    }
    tokio::time::sleep(Duration::from_millis(2500)).await;
    settle().await;
    let more = passes() - before - 1;
    assert!(
        (1..=3).contains(&more),
        "{more} passes for 50 events in 2.5 s"
    );
}
