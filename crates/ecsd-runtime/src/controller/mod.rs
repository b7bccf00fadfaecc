//! The controller: keeps AWS matching a source, for weeks.
//!
//! One task owns the state (one `Record` per object) and the [`WorkQueue`]; per-object
//! work runs on a bounded set of worker tasks. Triggers:
//! - a new source snapshot, a resync tick (`--resync`; with an event feed that can be
//!   read, the `--events-resync` backstop), a sync request (`POST /sync`, SIGHUP), or an
//!   event saying a deployment moved → a full pass: observe everything in bulk, plan,
//!   queue what differs;
//! - an event naming AWS resources (`run --events`) → the objects it concerns are
//!   queued now (a hint: their reconcile reads and compares as always);
//! - a queued object falls due → a worker re-observes that object (and what it depends
//!   on), plans it and applies its change. Re-observing first means a retry after a
//!   lost answer sees what the first attempt did instead of creating it twice.
//!
//! Failures back off per object ([`Backoff`]), harder when AWS throttles; others carry
//! on. Invalid documents keep their object's last valid desired state, and disable
//! pruning. A deployment ECS rolled back is held (the planner's [`ecsd_plan::Hold`])
//! until the manifest changes or a sync asks for one retry. Each object's state changes
//! are logged once, not on every pass.
//!
//! # Layout
//! - this file: the loop, the per-object records and what a finished job changes;
//! - the work queue is the pass's scheduler ([`crate::pass::schedule`]), the same one
//!   `ecsd apply` runs a plan through;
//! - [`backoff`]: per-object exponential backoff with full jitter, a checked type;
//! - [`lease`]: leader election on a DynamoDB lease (`run --lease-table`): only the
//!   holder changes AWS, enforced by the fence in front of every mutating request;
//! - [`feed`]: fetches snapshots from a source on an interval and on change ([`Event`]);
//! - [`listen`]: reads the event queue of `run --events` (only while leading) and
//!   hands what the events name to the loop; `hints.rs`: what the loop does with
//!   them, and which full resync is in force;
//! - [`metrics`]: renders the shared [`Status`] for Prometheus;
//! - `health.rs`: reading the health signals that are due (at each pass, and every
//!   30 s between passes) and refreshing health from them;
//! - `job.rs`: one object's reconcile on a worker, and how it can fail;
//! - `notify.rs`: what each status change, revision and leadership change tells people
//!   (`run --notify`), once, from the leader only;
//! - `outcome.rs`: what a finished job changes (status, history, record, queue);
//! - `record.rs`: what the controller keeps per object, and the manifests a job needs;
//! - `transition.rs`: recording an object's new status, its transition logged and kept
//!   among the events once.

pub mod backoff;
pub mod feed;
mod health;
mod hints;
mod job;
pub mod lease;
pub mod listen;
pub mod metrics;
mod notify;
mod outcome;
mod record;
mod transition;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

pub use crate::status::SharedStatus;
use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::{Manifest, ObjectKey, parse_source};
use ecsd_plan::signals::Signals;
use ecsd_plan::{Action, Change, Observed, Plan, PlanOptions};
pub use ecsd_source::Snapshot;
pub use feed::Event;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::notify::Notifier;
use crate::pass::Clients;
use crate::pass::health::evaluate;
use crate::pass::observe;
use crate::pass::schedule::WorkQueue;
use crate::status::{Health, ObjectStatus, Status, SyncStatus, shown_diff};
use backoff::Backoff;
use job::{Job, WorkResult};
use lease::Leading;
use record::Record;

/// What to do about drift made outside ecsd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftMode {
    /// Correct it.
    Correct,
    /// Only report it (OutOfSync); manifest changes are still applied.
    Report,
}

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct ControllerOptions {
    pub plan: PlanOptions,
    pub resync: Duration,
    pub drift: DriftMode,
    /// With an event feed (`run --events`): the full resync while the queue can be
    /// read; `resync` applies while it cannot (and without a feed).
    pub backstop: Option<Duration>,
    pub concurrency: usize,
    pub backoff: Backoff,
    /// How long in-flight work may run on after a shutdown request.
    pub shutdown_timeout: Duration,
    /// After a failed full pass (AWS unreachable), when to try again.
    pub pass_retry: Duration,
    /// How often the health signals of a quiet object (Healthy, its service not
    /// deploying) are read again: target health, deployment alarms, scaling activities.
    pub health_interval: Duration,
    /// How long a scalable target may sit at its minimum or maximum before a warning.
    pub scaling_bound_warning: Duration,
    /// With leader election: whether this replica leads. A standby reads the source
    /// and observes AWS (so `/status` is true everywhere) but starts no work; `None`:
    /// this replica always leads.
    pub leading: Option<Leading>,
    /// Where to tell people what happened (`run --notify`); only the leader does.
    pub notifier: Option<Arc<dyn Notifier>>,
    /// The deployment target this controller keeps (`None`: the implicit one of a
    /// source without targets); it takes only that target's objects from a snapshot.
    pub target: Option<String>,
}

/// The longest a full pass may spend reading AWS (each read retries on its own within
/// it); past it, objects are reconciled one by one, each with its own backoff.
const PASS_DEADLINE: Duration = Duration::from_secs(120);

/// While a change waits for AWS (a deleted service still draining), how often to look.
const WAITING_RECHECK: Duration = Duration::from_secs(5);
/// While a Service deployment may be under way (one was started, or ECS reports a
/// native one), the next full pass comes this soon at the latest: a pause waiting for
/// an approval, a rollback or the end of a rollout shows without waiting for a resync.
const DEPLOYMENT_RECHECK: Duration = Duration::from_secs(30);

/// Runs until `shutdown` turns true (or `events` closes), then lets in-flight work
/// finish within the shutdown timeout.
pub async fn run<E, L, S, D, W>(
    clients: Clients<E, L, S, D, W>,
    opts: ControllerOptions,
    mut events: mpsc::Receiver<Event>,
    status: SharedStatus,
    mut shutdown: watch::Receiver<bool>,
) where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
{
    let mut leading_rx = opts.leading.clone();
    let mut c = Controller::new(clients, opts, status);
    let mut workers: JoinSet<WorkResult> = JoinSet::new();
    let mut pass_due: Option<Instant> = None;
    let mut last_pass: Option<Instant> = None;
    let mut health_due: Option<Instant> = None;
    loop {
        // A standby starts no work: its queue does not wake it.
        let work_due = if c.leading { c.queue.next_due() } else { None };
        let wake = [pass_due, work_due, health_due].into_iter().flatten().min();
        tokio::select! {
            Some(leading) = leadership(&mut leading_rx) => {
                if leading != c.leading {
                    c.set_leading(leading, &mut workers).await;
                    if leading {
                        pass_due = Some(Instant::now());
                    }
                }
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            event = events.recv() => match event {
                None => break,
                Some(Event::Snapshot(s)) => {
                    c.load(s);
                    pass_due = Some(Instant::now());
                }
                Some(Event::SourceError(e)) => c.source_error(e),
                // At most one requested pass per second, however often asked. An
                // explicit sync also retries changes held after a rollback, once.
                Some(Event::Sync) => {
                    c.retry_held();
                    pass_due = Some(pass_soon(pass_due, last_pass));
                }
                Some(Event::Notices(notices)) => {
                    if c.hear(notices) {
                        pass_due = Some(pass_soon(pass_due, last_pass));
                    }
                }
                Some(Event::Feed(up)) => {
                    c.set_feed(up);
                    // The backstop may be far off: the short resync starts from the last pass.
                    if !up {
                        let due = last_pass.map_or_else(Instant::now, |t| t + c.opts.resync);
                        pass_due = Some(pass_due.map_or(due, |d| d.min(due)));
                    }
                }
            },
            Some(done) = workers.join_next(), if !workers.is_empty() => {
                if let Ok(result) = done {
                    c.finish(result);
                }
                if std::mem::take(&mut c.recheck_soon) {
                    let soon = Instant::now() + DEPLOYMENT_RECHECK.min(c.resync());
                    pass_due = Some(pass_due.map_or(soon, |d| d.min(soon)));
                }
            }
            () = sleep_until(wake) => {}
        }
        let now = Instant::now();
        if pass_due.is_some_and(|d| d <= now) && c.loaded {
            last_pass = Some(now);
            c.pass_running(true);
            let ok = tokio::select! {
                ok = c.full_pass() => ok,
                _ = shutdown.changed() => break,
            };
            c.pass_running(false);
            let next = match (ok, std::mem::take(&mut c.recheck_soon)) {
                (false, _) => c.opts.pass_retry,
                (true, true) => DEPLOYMENT_RECHECK.min(c.resync()),
                (true, false) => c.resync(),
            };
            let next = Instant::now() + next;
            pass_due = Some(c.analysis_due.take().map_or(next, |at| at.min(next)));
            health_due = Some(Instant::now() + c.health_tick());
        } else if health_due.is_some_and(|d| d <= now) {
            tokio::select! {
                () = c.refresh_health() => {},
                _ = shutdown.changed() => break,
            }
            health_due = Some(Instant::now() + c.health_tick());
        }
        if c.leading {
            for key in c.queue.take_ready(Instant::now()) {
                let job = c.job(&key);
                let clients = c.clients.clone();
                workers.spawn(job.run(clients));
            }
        }
        c.update_readiness(workers.len());
    }
    tracing::info!(
        in_flight = workers.len(),
        "shutting down: finishing work in flight"
    );
    let timeout = c.opts.shutdown_timeout;
    let drain = async {
        while let Some(done) = workers.join_next().await {
            if let Ok(result) = done {
                c.finish(result);
            }
        }
    };
    if tokio::time::timeout(timeout, drain).await.is_err() {
        tracing::warn!("shutdown timeout reached; abandoning work in flight");
        workers.abort_all();
    }
}

/// The next change of leadership (`None` when there is no election to follow).
async fn leadership(rx: &mut Option<Leading>) -> Option<bool> {
    let Some(r) = rx.as_mut() else {
        return std::future::pending().await;
    };
    if r.changed().await.is_err() {
        // The election stopped (shutting down): nothing more will change.
        *rx = None;
        return std::future::pending().await;
    }
    Some(*r.borrow_and_update())
}

/// When a requested pass starts: now, but at most one per second however often asked.
fn pass_soon(pass_due: Option<Instant>, last_pass: Option<Instant>) -> Instant {
    let now = Instant::now();
    let earliest = last_pass.map_or(now, |t| (t + Duration::from_secs(1)).max(now));
    pass_due.map_or(earliest, |d| d.min(earliest))
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

struct Controller<E, L, S, D, W> {
    clients: Clients<E, L, S, D, W>,
    opts: ControllerOptions,
    status: SharedStatus,
    queue: WorkQueue<ObjectKey>,
    records: BTreeMap<ObjectKey, Record>,
    /// The snapshot has errors: no pruning.
    snapshot_has_errors: bool,
    revision: String,
    loaded: bool,
    first_pass_done: bool,
    /// This replica leads (always, without leader election).
    leading: bool,
    /// A deployment may be under way: the next pass comes within DEPLOYMENT_RECHECK.
    recheck_soon: bool,
    /// The end of the earliest canary analysis window still being observed: the next
    /// pass comes then, so the verdict does not wait for a resync.
    analysis_due: Option<Instant>,
    /// The event queue can be read: the full resync is the backstop.
    feed_up: bool,
    /// The health signals read so far, and when each object's were last read.
    signals: Signals,
    signals_read: BTreeMap<ObjectKey, Instant>,
    /// What the last full pass observed, for health between passes.
    last_observed: Option<Arc<Observed>>,
    /// What was told to people, so each change is told once.
    telling: notify::SharedTelling,
    /// The event feed reported its state at least once.
    feed_seen: bool,
}

impl<E, L, S, D, W> Controller<E, L, S, D, W>
where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
{
    fn new(clients: Clients<E, L, S, D, W>, opts: ControllerOptions, status: SharedStatus) -> Self {
        let queue = WorkQueue::new(opts.concurrency);
        let leading = opts.leading.as_ref().is_none_or(|r| *r.borrow());
        Controller {
            clients,
            opts,
            status,
            queue,
            records: BTreeMap::new(),
            snapshot_has_errors: false,
            revision: String::new(),
            loaded: false,
            first_pass_done: false,
            leading,
            recheck_soon: false,
            analysis_due: None,
            signals: Signals::default(),
            signals_read: BTreeMap::new(),
            last_observed: None,
            feed_up: false,
            telling: notify::SharedTelling::default(),
            feed_seen: false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The desired manifests, in key order.
    fn desired(&self) -> Vec<Arc<Manifest>> {
        self.records
            .values()
            .filter_map(|r| r.desired.clone())
            .collect()
    }

    /// Takes in a snapshot, per document: valid objects replace their desired state,
    /// invalid ones keep the last valid one.
    fn load(&mut self, snapshot: Snapshot) {
        let source = parse_source(&snapshot.files).for_target(self.opts.target.as_deref());
        // An empty snapshot (a wiped or half-uploaded bucket, an emptied directory) is
        // far more likely a mistake than an intent: keep the last good state.
        if source.documents.is_empty() && source.diagnostics.is_empty() {
            let what = match &self.opts.target {
                Some(t) => format!("the source has no manifests for target {t}"),
                None => "the source is empty".to_owned(),
            };
            self.source_error(format!(
                "{what} (revision {}); keeping the last good snapshot",
                snapshot.revision
            ));
            return;
        }
        let invalid = source.invalid_objects();
        let valid: BTreeMap<ObjectKey, Manifest> = source
            .valid_documents()
            .map(|doc| (doc.manifest.key(), doc.manifest.clone()))
            .collect();
        self.snapshot_has_errors = !source.diagnostics.is_empty();
        let mut invalid_messages: BTreeMap<ObjectKey, String> = BTreeMap::new();
        let mut file_errors = Vec::new();
        for d in &source.diagnostics {
            match &d.object {
                Some(key) => {
                    invalid_messages
                        .entry(key.clone())
                        .or_insert_with(|| d.to_string());
                }
                None => file_errors.push(d.to_string()),
            }
        }
        // Objects whose document is invalid, or (when the snapshot has errors at all)
        // that may sit in an unreadable part of it, keep their last valid state. The
        // others leave the source and lose their record.
        let has_errors = self.snapshot_has_errors;
        let gone: Vec<ObjectKey> = self
            .records
            .iter()
            .filter(|(key, r)| {
                let kept = valid.contains_key(*key)
                    || invalid.contains(*key)
                    || (has_errors && r.desired.is_some());
                !kept && r.delete.is_none()
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in &gone {
            self.queue.cancel(key);
            self.records.remove(key);
            self.lock().objects.remove(key);
        }
        for (key, manifest) in valid {
            let record = self.records.entry(key).or_default();
            // An unchanged manifest keeps its allocation, which `applied` shares.
            if record.desired.as_deref() != Some(&manifest) {
                record.desired = Some(Arc::new(manifest));
            }
        }
        for record in self.records.values_mut() {
            record.invalid = None;
        }
        for (key, message) in &invalid_messages {
            tracing::error!(kind = %key.kind, name = %key.name, revision = %snapshot.revision, error = %message, "invalid document; keeping the last valid desired state");
            self.records.entry(key.clone()).or_default().invalid = Some(message.clone());
        }
        for message in &file_errors {
            tracing::error!(revision = %snapshot.revision, error = %message, "invalid source file");
        }
        // Invalid objects are shown, and never reconciled without a valid state.
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        let mut changes = Vec::new();
        for (key, message) in &invalid_messages {
            let entry = status.objects.entry(key.clone()).or_default();
            let previous = entry.clone();
            entry.sync = SyncStatus::Error;
            entry.message = message.clone();
            changes.push((key, previous, entry.clone()));
        }
        status.errors = file_errors.clone();
        status.revision = snapshot.revision.clone();
        drop(status);
        for (key, previous, next) in changes {
            self.tell_change(key, Some(&previous), &next, None);
        }
        if self.revision != snapshot.revision {
            tracing::info!(revision = %snapshot.revision, objects = self.records.values().filter(|r| r.desired.is_some()).count(), invalid = invalid_messages.len(), "new source revision");
        }
        self.revision = snapshot.revision;
        self.loaded = true;
        self.tell_snapshot(&file_errors);
    }

    fn source_error(&mut self, message: String) {
        let mut status = self.lock();
        if !status.errors.contains(&message) {
            tracing::error!(revision = %self.revision, error = %message, "cannot read the source; keeping the last good snapshot");
            status.errors = vec![message];
        }
    }

    /// A full pass: observe everything, plan, and queue what differs. False if AWS
    /// could not be observed.
    async fn full_pass(&mut self) -> bool {
        let manifests = self.desired();
        let prune = self.opts.plan.prune && !self.snapshot_has_errors;
        // Each read is retried on its own; the pass as a whole has a deadline, after
        // which its objects are reconciled one by one.
        let observing = observe::observe(&manifests, &self.clients, prune);
        let result = match tokio::time::timeout(PASS_DEADLINE, observing).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(_) => Err(format!(
                "reading AWS state took longer than {}s",
                PASS_DEADLINE.as_secs()
            )),
        };
        let observed = match result {
            Ok(o) => o,
            Err(e) => {
                let mut status = self.lock();
                status.passes += 1;
                status.failed_passes += 1;
                let message = format!("cannot observe AWS: {e}");
                if !status.errors.contains(&message) {
                    tracing::error!(revision = %self.revision, error = %message, "pass failed; retrying");
                    status.errors.push(message);
                }
                drop(status);
                self.reconcile_one_by_one();
                return false;
            }
        };
        let opts = PlanOptions {
            prune,
            ..self.opts.plan.clone()
        };
        let plan = ecsd_plan::plan(&manifests, &observed, &opts);
        self.read_signals(&manifests, &observed).await;
        self.take_plan(&manifests, &plan, &observed);
        self.tell_pass_done();
        self.last_observed = Some(Arc::new(observed));
        self.recheck_soon |= self
            .last_observed
            .as_ref()
            .is_some_and(|o| !o.native_deployments.is_empty());
        self.analysis_due = self.last_observed.as_ref().and_then(|o| {
            let now = crate::status::now_epoch();
            o.analyses
                .values()
                .filter(|a| matches!(a.progress, ecsd_plan::analysis::Progress::Observing))
                // A second past the end, so the window has ended by the pass.
                .map(|a| Instant::now() + Duration::from_secs(a.window.end.saturating_sub(now) + 1))
                .min()
        });
        let progressing = {
            let mut status = self.lock();
            status.passes += 1;
            status
                .errors
                .retain(|e| !e.starts_with("cannot observe AWS"));
            let settled = plan.changes.is_empty()
                && status
                    .objects
                    .values()
                    .all(|o| o.sync == SyncStatus::Synced && o.health == Health::Healthy);
            status.settled = settled.then(|| self.revision.clone());
            status
                .objects
                .values()
                .any(|o| o.health == Health::Progressing)
        };
        // A deployment under way: look again soon, so a promotion waiting for it (and
        // the status) follows it closely.
        self.recheck_soon |= progressing;
        self.first_pass_done = true;
        true
    }

    /// A pass could not read everything: each object that is not known to be in sync
    /// gets a job of its own, which reads only that object's inputs. An object whose
    /// reads succeed is reconciled; one whose reads fail backs off on its own. Objects
    /// in sync wait for the next pass (no burst of reads while AWS is failing), as does
    /// drift when drift is only reported.
    fn reconcile_one_by_one(&mut self) {
        let now = Instant::now();
        let keys: Vec<ObjectKey> = self
            .records
            .iter()
            .filter(|(key, r)| {
                r.desired.is_some()
                    && r.invalid.is_none()
                    && (r.manifest_changed() || self.opts.drift == DriftMode::Correct)
                    && self.current(key).sync != SyncStatus::Synced
                    && self.queue.due(key).is_none()
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in keys {
            self.queue.schedule(key, now);
        }
    }

    fn take_plan(&mut self, manifests: &[Arc<Manifest>], plan: &Plan, observed: &Observed) {
        let now = Instant::now();
        let mut retried: BTreeSet<ObjectKey> = BTreeSet::new();
        let changes: BTreeMap<&ObjectKey, &Change> =
            plan.changes.iter().map(|c| (&c.key, c)).collect();
        for e in plan.errors.iter().filter(|e| e.key.is_none()) {
            tracing::error!(revision = %self.revision, error = %e.message, "plan error");
        }
        let inputs = self.health_inputs();
        for (key, base) in evaluate(manifests, observed, inputs, plan) {
            let Some(record) = self.records.get(&key) else {
                continue;
            };
            let manifest_changed = record.manifest_changed();
            let held = plan.holds.iter().any(|h| h.key == key);
            let retry = held && record.retry_rolled_back;
            let mut next = self.current(&key);
            next.sync = base.sync;
            next.health = base.health;
            next.message = base.message;
            next.awaiting_approval = base.awaiting_approval;
            // The last analysis stays until the next one: its verdict outlives the pause.
            if base.analysis.is_some() {
                next.analysis = base.analysis;
            }
            next.application = base.application;
            next.warnings = base.warnings;
            next.details = base.details;
            next.deployment = base.deployment;
            next.tasks = base.tasks;
            next.diff = if base.sync == SyncStatus::OutOfSync {
                changes
                    .get(&key)
                    .map(|c| shown_diff(&c.diff))
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            match base.sync {
                SyncStatus::OutOfSync => {
                    let correct = manifest_changed || self.opts.drift == DriftMode::Correct;
                    let queued = self.queue.due(&key).is_some();
                    let depends_on = changes.get(&key).map(|c| c.depends_on.clone());
                    if correct && !queued && (!held || retry) {
                        self.queue
                            .set_dependencies(key.clone(), depends_on.unwrap_or_default());
                        self.queue.schedule(key.clone(), now);
                        if retry {
                            retried.insert(key.clone());
                        }
                    }
                    if held && !retry {
                        tracing::warn!(kind = %key.kind, name = %key.name, revision = %self.revision, reason = %next.message,
                            "deployment rolled back; not retrying this revision until the manifest changes or a sync is requested");
                    }
                }
                SyncStatus::Synced => {
                    next.error_code = None;
                    next.failures = 0;
                    next.backoff_seconds = 0.0;
                    if let Some(r) = self.records.get_mut(&key) {
                        r.applied = r.desired.clone();
                    }
                }
                SyncStatus::Error => {}
            }
            if let Some(message) = self.records.get(&key).and_then(|r| r.invalid.clone()) {
                next.sync = SyncStatus::Error;
                next.message = message;
            }
            self.set(&key, next, None);
        }
        // A sync's retry applies to this pass only: the jobs it queued take it along.
        for (key, r) in &mut self.records {
            if !retried.contains(key) {
                r.retry_rolled_back = false;
            }
        }
        for change in plan.changes.iter().filter(|c| c.action == Action::Delete) {
            self.records.entry(change.key.clone()).or_default().delete = Some(change.clone());
            self.queue.schedule(change.key.clone(), now);
        }
    }

    /// A sync: changes held after a rollback are tried once more.
    fn retry_held(&mut self) {
        for (key, record) in &mut self.records {
            if record.desired.is_some() {
                record.retry_rolled_back = true;
                tracing::debug!(kind = %key.kind, name = %key.name, "sync requested: a held rollback is retried once");
            }
        }
    }

    fn current(&self, key: &ObjectKey) -> ObjectStatus {
        self.lock().objects.get(key).cloned().unwrap_or_default()
    }

    /// The work for one key.
    fn job(&mut self, key: &ObjectKey) -> Job {
        let manifests = record::subset(&self.records, key);
        let record = self.records.entry(key.clone()).or_default();
        let retry = std::mem::take(&mut record.retry_rolled_back);
        Job {
            key: key.clone(),
            manifests,
            delete: record.delete.take(),
            opts: PlanOptions {
                prune: false,
                retry_rolled_back: retry || self.opts.plan.retry_rolled_back,
                ..self.opts.plan.clone()
            },
            drift: !record.manifest_changed(),
        }
    }

    /// Leadership changed. A new leader's first full pass starts at once (the caller
    /// schedules it) and it is ready after that; a replica that stops leading drops
    /// its work in flight (its mutating calls are refused by the fence anyway) and
    /// its queue: the next leader plans afresh from what AWS shows.
    async fn set_leading(&mut self, leading: bool, workers: &mut JoinSet<WorkResult>) {
        self.leading = leading;
        self.first_pass_done = false;
        if leading {
            tracing::info!(revision = %self.revision, "leading: reconciling");
            self.tell_controller(
                crate::notify::Event::ControllerLeading,
                format!("this replica now leads (revision {})", self.revision),
            );
        } else {
            tracing::warn!(revision = %self.revision, in_flight = workers.len(), "not leading: work stopped, observing only");
            workers.shutdown().await;
            self.queue = WorkQueue::new(self.opts.concurrency);
            for record in self.records.values_mut() {
                record.delete = None;
            }
        }
        self.lock().ready = false;
    }

    fn pass_running(&self, running: bool) {
        let mut status = self.lock();
        status.pass_running = running;
        if running {
            status.sync_pending = false;
        }
    }

    fn update_readiness(&self, in_flight: usize) {
        if self.leading && self.first_pass_done && in_flight == 0 && self.queue.pending() == 0 {
            let mut status = self.lock();
            if !status.ready {
                tracing::info!(revision = %self.revision, "first full reconcile done; ready");
                status.ready = true;
            }
        }
    }
}
