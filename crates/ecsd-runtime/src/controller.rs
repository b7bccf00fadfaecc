//! The controller: keeps AWS matching a source, for weeks.
//!
//! One task owns the state and the [`WorkQueue`]; per-object work runs on a bounded set
//! of worker tasks. Triggers:
//! - a new source snapshot, a resync tick (`--resync`), or a sync request (`POST /sync`,
//!   SIGHUP) → a full pass: observe everything in bulk, plan, queue what differs;
//! - a queued object falls due → a worker re-observes that object (and what it depends
//!   on), plans it and applies its change. Re-observing first means a retry after a
//!   lost answer sees what the first attempt did instead of creating it twice.
//!
//! Failures back off per object ([`Backoff`]); others carry on. Invalid documents keep
//! their object's last valid desired state, and disable pruning. Each object's state
//! changes are logged once, not on every pass.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ecsd_aws::{CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_model::{Kind, Manifest, ObjectKey, Spec, parse_source};
use ecsd_plan::{Action, Change, Observed, Plan, PlanOptions};
pub use ecsd_source::Snapshot;
use serde_json::Value;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::apply::ObjectOutcome;
use crate::backoff::Backoff;
use crate::queue::WorkQueue;
use crate::status::{ObjectStatus, Status, Sync, evaluate};
use crate::{Clients, apply, observe};

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
    pub concurrency: usize,
    pub backoff: Backoff,
    /// How long in-flight work may run on after a shutdown request.
    pub shutdown_timeout: Duration,
    /// After a failed full pass (AWS unreachable), when to try again.
    pub pass_retry: Duration,
}

/// What drives the controller from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new snapshot of the source.
    Snapshot(Snapshot),
    /// The source could not be read; the last good snapshot stays in force.
    SourceError(String),
    /// Start a full pass now.
    Sync,
}

/// The state shared with the HTTP endpoints.
pub type SharedStatus = Arc<Mutex<Status>>;

/// Runs until `shutdown` turns true (or `events` closes), then lets in-flight work
/// finish within the shutdown timeout.
pub async fn run<E, L, S, D>(
    clients: Clients<E, L, S, D>,
    opts: ControllerOptions,
    mut events: mpsc::Receiver<Event>,
    status: SharedStatus,
    mut shutdown: watch::Receiver<bool>,
) where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
{
    let mut c = Controller::new(clients, opts, status);
    let mut workers: JoinSet<WorkResult> = JoinSet::new();
    let mut pass_due: Option<Instant> = None;
    let mut last_pass: Option<Instant> = None;
    loop {
        let wake = [pass_due, c.queue.next_due()].into_iter().flatten().min();
        tokio::select! {
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
                // explicit sync also retries changes held after a rollback.
                Some(Event::Sync) => {
                    c.release_held();
                    let now = Instant::now();
                    let earliest = last_pass.map_or(now, |t| (t + Duration::from_secs(1)).max(now));
                    pass_due = Some(pass_due.map_or(earliest, |d| d.min(earliest)));
                }
            },
            Some(done) = workers.join_next(), if !workers.is_empty() => {
                if let Ok(result) = done {
                    c.finish(result);
                }
            }
            () = sleep_until(wake) => {}
        }
        let now = Instant::now();
        if pass_due.is_some_and(|d| d <= now) && c.loaded {
            last_pass = Some(now);
            let ok = tokio::select! {
                ok = c.pass() => ok,
                _ = shutdown.changed() => break,
            };
            let next = if ok { c.opts.resync } else { c.opts.pass_retry };
            pass_due = Some(Instant::now() + next);
        }
        for key in c.queue.take_ready(Instant::now()) {
            let job = c.job(&key);
            let clients = c.clients.clone();
            workers.spawn(job.run(clients));
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

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

struct Controller<E, L, S, D> {
    clients: Clients<E, L, S, D>,
    opts: ControllerOptions,
    status: SharedStatus,
    queue: WorkQueue<ObjectKey>,
    /// The desired state: the last valid manifest of every object.
    desired: BTreeMap<ObjectKey, Manifest>,
    /// Hashes of the manifests last seen in sync or applied, to tell a manifest change
    /// (always applied) from drift (maybe only reported).
    applied: BTreeMap<ObjectKey, String>,
    /// Deletions (pruning) waiting for a worker.
    deletes: BTreeMap<ObjectKey, Change>,
    failures: BTreeMap<ObjectKey, u32>,
    /// Services whose deployment of the current manifest was rolled back: not retried
    /// until the manifest changes or a sync is asked for (no deploy-rollback loop).
    held: BTreeMap<ObjectKey, String>,
    /// Held objects a sync released: the next pass retries them once, whatever the
    /// rollback evidence says; a new rollback holds them again.
    released: BTreeSet<ObjectKey>,
    /// Validation errors of the current snapshot, by object.
    invalid: BTreeMap<ObjectKey, String>,
    /// The snapshot has errors: no pruning.
    snapshot_has_errors: bool,
    revision: String,
    loaded: bool,
    first_pass_done: bool,
}

impl<E, L, S, D> Controller<E, L, S, D>
where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
{
    fn new(clients: Clients<E, L, S, D>, opts: ControllerOptions, status: SharedStatus) -> Self {
        let queue = WorkQueue::new(opts.concurrency);
        Controller {
            clients,
            opts,
            status,
            queue,
            desired: BTreeMap::new(),
            applied: BTreeMap::new(),
            deletes: BTreeMap::new(),
            failures: BTreeMap::new(),
            held: BTreeMap::new(),
            released: BTreeSet::new(),
            invalid: BTreeMap::new(),
            snapshot_has_errors: false,
            revision: String::new(),
            loaded: false,
            first_pass_done: false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes in a snapshot, per document: valid objects replace their desired state,
    /// invalid ones keep the last valid one.
    fn load(&mut self, snapshot: Snapshot) {
        let source = parse_source(&snapshot.files);
        // An empty snapshot (a wiped or half-uploaded bucket, an emptied directory) is
        // far more likely a mistake than an intent: keep the last good state.
        if source.documents.is_empty() && source.diagnostics.is_empty() {
            self.source_error(format!(
                "the source is empty (revision {}); keeping the last good snapshot",
                snapshot.revision
            ));
            return;
        }
        let invalid = source.invalid_objects();
        let mut new_desired: BTreeMap<ObjectKey, Manifest> = BTreeMap::new();
        for doc in source.valid_documents() {
            new_desired.insert(doc.manifest.key(), doc.manifest.clone());
        }
        self.snapshot_has_errors = !source.diagnostics.is_empty();
        // Objects whose document is invalid, or (when the snapshot has errors at all)
        // that may sit in an unreadable part of it, keep their last valid state.
        for (key, manifest) in &self.desired {
            let keep = invalid.contains(key)
                || (self.snapshot_has_errors && !new_desired.contains_key(key));
            if keep {
                new_desired.insert(key.clone(), manifest.clone());
            }
        }
        self.invalid = BTreeMap::new();
        let mut file_errors = Vec::new();
        for d in &source.diagnostics {
            match &d.object {
                Some(key) => {
                    self.invalid
                        .entry(key.clone())
                        .or_insert_with(|| d.to_string());
                }
                None => file_errors.push(d.to_string()),
            }
        }
        for (key, message) in &self.invalid {
            tracing::error!(kind = %key.kind, name = %key.name, revision = %snapshot.revision, error = %message, "invalid document; keeping the last valid desired state");
        }
        for message in &file_errors {
            tracing::error!(revision = %snapshot.revision, error = %message, "invalid source file");
        }
        // Objects gone from a valid snapshot: no longer desired (pruned only with --prune).
        let gone: Vec<ObjectKey> = self
            .desired
            .keys()
            .filter(|k| !new_desired.contains_key(*k))
            .cloned()
            .collect();
        for key in &gone {
            self.queue.cancel(key);
            self.lock().objects.remove(key);
        }
        // Never desired and invalid from the start: shown, never reconciled.
        let mut status = self.status.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, message) in &self.invalid {
            let entry = status.objects.entry(key.clone()).or_default();
            entry.sync = Sync::Error;
            entry.message = message.clone();
        }
        status.errors = file_errors;
        status.revision = snapshot.revision.clone();
        drop(status);
        if self.revision != snapshot.revision {
            tracing::info!(revision = %snapshot.revision, objects = new_desired.len(), invalid = self.invalid.len(), "new source revision");
        }
        self.revision = snapshot.revision;
        self.desired = new_desired;
        self.loaded = true;
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
    async fn pass(&mut self) -> bool {
        let manifests: Vec<Manifest> = self.desired.values().cloned().collect();
        let prune = self.opts.plan.prune && !self.snapshot_has_errors;
        let observed = match observe::observe(&manifests, &self.clients, prune).await {
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
                return false;
            }
        };
        let opts = PlanOptions {
            prune,
            ..self.opts.plan.clone()
        };
        let plan = ecsd_plan::plan(&manifests, &observed, &opts);
        self.take_plan(&plan, &observed);
        {
            let mut status = self.lock();
            status.passes += 1;
            status
                .errors
                .retain(|e| !e.starts_with("cannot observe AWS"));
        }
        self.first_pass_done = true;
        true
    }

    fn take_plan(&mut self, plan: &Plan, observed: &Observed) {
        let now = Instant::now();
        let changes: BTreeMap<&ObjectKey, &Change> =
            plan.changes.iter().map(|c| (&c.key, c)).collect();
        for e in plan.errors.iter().filter(|e| e.key.is_none()) {
            tracing::error!(revision = %self.revision, error = %e.message, "plan error");
        }
        let manifests: Vec<Manifest> = self.desired.values().cloned().collect();
        let evaluated = evaluate(&manifests, observed, plan);
        for (key, base) in evaluated {
            let hash = manifest_hash(&self.desired[&key]);
            let manifest_changed = self.applied.get(&key) != Some(&hash);
            let mut next = self.current(&key);
            next.sync = base.sync;
            next.health = base.health;
            next.message = base.message;
            if manifest_changed {
                self.held.remove(&key);
            } else if base.sync == Sync::OutOfSync
                && !self.held.contains_key(&key)
                && !self.released.remove(&key)
                && let Some(reason) = rolled_back(&key, &self.desired[&key], observed)
            {
                tracing::warn!(kind = %key.kind, name = %key.name, revision = %self.revision, reason = %reason,
                        "deployment rolled back; not retrying this revision until the manifest changes or a sync is requested");
                self.held.insert(key.clone(), reason);
            }
            if let Some(reason) = self.held.get(&key) {
                next.sync = Sync::OutOfSync;
                next.message = format!(
                    "the deployment was rolled back ({reason}); waiting for a new manifest revision or POST /sync before trying again"
                );
                self.set(&key, next, None);
                continue;
            }
            match base.sync {
                Sync::OutOfSync => {
                    let correct = manifest_changed || self.opts.drift == DriftMode::Correct;
                    if let Some(change) = changes
                        .get(&key)
                        .filter(|_| correct && self.queue.due(&key).is_none())
                    {
                        self.queue
                            .set_dependencies(key.clone(), change.depends_on.clone());
                        self.queue.schedule(key.clone(), now);
                    }
                }
                Sync::Synced => {
                    next.error_code = None;
                    self.applied.insert(key.clone(), hash);
                    self.failures.remove(&key);
                }
                Sync::Error => {}
            }
            if let Some(message) = self.invalid.get(&key) {
                next.sync = Sync::Error;
                next.message = message.clone();
            }
            self.set(&key, next, None);
        }
        // A sync's release applies to this pass only.
        self.released.clear();
        for change in plan.changes.iter().filter(|c| c.action == Action::Delete) {
            self.deletes.insert(change.key.clone(), change.clone());
            self.queue.schedule(change.key.clone(), now);
        }
    }

    fn release_held(&mut self) {
        for (key, _) in std::mem::take(&mut self.held) {
            self.released.insert(key.clone());
            tracing::info!(kind = %key.kind, name = %key.name, revision = %self.revision, "sync requested: retrying the change that was rolled back");
        }
    }

    fn current(&self, key: &ObjectKey) -> ObjectStatus {
        self.lock().objects.get(key).cloned().unwrap_or_default()
    }

    /// Records a status, logging the transition once.
    fn set(&self, key: &ObjectKey, next: ObjectStatus, event: Option<&str>) {
        let mut status = self.lock();
        let previous = status.objects.get(key).cloned();
        let changed = previous.as_ref().is_none_or(|p| {
            p.sync != next.sync
                || p.health != next.health
                || p.error_code != next.error_code
                || (next.sync == Sync::Error && p.message != next.message)
        });
        if changed || event.is_some() {
            let what = event.unwrap_or(match next.sync {
                Sync::Synced if previous.as_ref().is_some_and(|p| p.sync == Sync::Error) => {
                    "recovered"
                }
                Sync::Synced => "in sync",
                Sync::OutOfSync => "out of sync",
                Sync::Error => "failed",
            });
            let code = next.error_code.clone().unwrap_or_default();
            if next.sync == Sync::Error {
                tracing::error!(kind = %key.kind, name = %key.name, revision = %self.revision, sync = ?next.sync, health = ?next.health, aws_error_code = %code, error = %next.message, "{what}");
            } else {
                tracing::info!(kind = %key.kind, name = %key.name, revision = %self.revision, sync = ?next.sync, health = ?next.health, detail = %next.message, "{what}");
            }
        }
        status.objects.insert(key.clone(), next);
    }

    /// The work for one key.
    fn job(&mut self, key: &ObjectKey) -> Job {
        Job {
            key: key.clone(),
            manifests: subset(key, &self.desired),
            delete: self.deletes.remove(key),
            opts: PlanOptions {
                prune: false,
                ..self.opts.plan.clone()
            },
            drift: self
                .applied
                .get(key)
                .is_some_and(|h| self.desired.get(key).map(manifest_hash).as_ref() == Some(h)),
        }
    }

    /// Takes a worker's result.
    fn finish(&mut self, r: WorkResult) {
        self.queue.done(&r.key);
        let result_label = if r.outcome.is_ok() {
            "success"
        } else {
            "error"
        };
        {
            let mut status = self.lock();
            *status
                .reconciles
                .entry((r.key.kind, result_label))
                .or_default() += 1;
            status
                .durations
                .entry(r.key.kind)
                .or_default()
                .observe(r.elapsed);
        }
        let mut next = self.current(&r.key);
        match r.outcome {
            Ok(action) => {
                self.failures.remove(&r.key);
                if action == Some(Action::Delete) {
                    tracing::info!(kind = %r.key.kind, name = %r.key.name, revision = %self.revision, "deleted");
                    self.lock().objects.remove(&r.key);
                    return;
                }
                if let Some(m) = self.desired.get(&r.key) {
                    self.applied.insert(r.key.clone(), manifest_hash(m));
                }
                next.sync = if self.invalid.contains_key(&r.key) {
                    Sync::Error
                } else {
                    Sync::Synced
                };
                next.error_code = None;
                next.failures = 0;
                next.backoff_seconds = 0.0;
                let event = match action {
                    Some(Action::Create) => Some("created"),
                    Some(Action::Update) if r.drift => Some("drift corrected"),
                    Some(Action::Update) => Some("updated"),
                    _ => None,
                };
                if next.sync == Sync::Synced {
                    next.message = match action {
                        Some(a) => format!("{a:?}d").to_lowercase(),
                        None => "in sync".to_owned(),
                    };
                }
                self.set(&r.key, next, event);
            }
            Err(f) => {
                let failures = self.failures.entry(r.key.clone()).or_default();
                *failures += 1;
                let delay = self.opts.backoff.jittered(*failures, f.throttled);
                next.sync = Sync::Error;
                next.message = f.message;
                next.error_code = f.code;
                next.failures = *failures;
                next.backoff_seconds = delay.as_secs_f64();
                self.set(&r.key, next, None);
                // A failed deletion is planned again by the next pass.
                if self.desired.contains_key(&r.key) {
                    self.queue.schedule(r.key.clone(), Instant::now() + delay);
                }
            }
        }
    }

    fn update_readiness(&self, in_flight: usize) {
        if self.first_pass_done && in_flight == 0 && self.queue.pending() == 0 {
            let mut status = self.lock();
            if !status.ready {
                tracing::info!(revision = %self.revision, "first full reconcile done; ready");
                status.ready = true;
            }
        }
    }
}

/// For a Service whose deployment was rolled back, why.
fn rolled_back(key: &ObjectKey, m: &Manifest, observed: &Observed) -> Option<String> {
    let Spec::Service(svc) = &m.spec else {
        return None;
    };
    let cluster = ecsd_plan::ownership::cluster_name(&svc.cluster).to_owned();
    let key = (cluster, key.name.clone());
    let code_deploy = observed
        .blue_green
        .get(&key)
        .and_then(crate::status::code_deploy_health)
        .filter(|(h, _)| *h == crate::status::Health::Degraded)
        .map(|(_, reason)| reason);
    code_deploy.or_else(|| {
        observed
            .services
            .get(&key)
            .and_then(crate::status::rollback_reason)
    })
}

/// The manifests one object's reconcile needs: itself and what it refers to, plus the
/// ScalingPolicy of a Service (which decides whether its count is enforced).
fn subset(key: &ObjectKey, desired: &BTreeMap<ObjectKey, Manifest>) -> Vec<Manifest> {
    let mut want: BTreeSet<ObjectKey> = BTreeSet::from([key.clone()]);
    let service_of = |name: &str| ObjectKey {
        kind: Kind::Service,
        name: name.to_owned(),
    };
    let service = match desired.get(key).map(|m| &m.spec) {
        Some(Spec::Service(_)) => Some(key.name.clone()),
        Some(Spec::ScalingPolicy(sp)) => Some(sp.service.clone()),
        _ => None,
    };
    if let Some(service) = service {
        want.insert(service_of(&service));
        if let Some(Spec::Service(svc)) = desired.get(&service_of(&service)).map(|m| &m.spec) {
            for lb in &svc.load_balancers {
                want.insert(ObjectKey {
                    kind: Kind::TargetGroup,
                    name: lb.target_group.clone(),
                });
            }
        }
        for (k, m) in desired {
            if matches!(&m.spec, Spec::ScalingPolicy(sp) if sp.service == service) {
                want.insert(k.clone());
            }
        }
    }
    want.iter()
        .filter_map(|k| desired.get(k).cloned())
        .collect()
}

fn manifest_hash(m: &Manifest) -> String {
    let spec: Value = match &m.spec {
        Spec::TargetGroup(s) => serde_json::to_value(s).unwrap_or_default(),
        Spec::Service(s) => serde_json::to_value(s).unwrap_or_default(),
        Spec::ScalingPolicy(s) => serde_json::to_value(s).unwrap_or_default(),
    };
    let meta = serde_json::to_value(&m.metadata).unwrap_or_default();
    format!("{meta}{spec}")
}

/// One object's reconcile, run on a worker.
struct Job {
    key: ObjectKey,
    manifests: Vec<Manifest>,
    delete: Option<Change>,
    opts: PlanOptions,
    /// The manifest was already applied: a change now is drift.
    drift: bool,
}

struct WorkResult {
    key: ObjectKey,
    /// The action taken (None: nothing to do), or why it failed.
    outcome: Result<Option<Action>, Failure>,
    elapsed: Duration,
    drift: bool,
}

struct Failure {
    message: String,
    code: Option<String>,
    throttled: bool,
}

impl Job {
    async fn run<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi>(
        self,
        clients: Clients<E, L, S, D>,
    ) -> WorkResult {
        let started = Instant::now();
        let outcome = self.reconcile(&clients).await;
        WorkResult {
            key: self.key,
            outcome,
            elapsed: started.elapsed(),
            drift: self.drift,
        }
    }

    async fn reconcile<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi>(
        &self,
        clients: &Clients<E, L, S, D>,
    ) -> Result<Option<Action>, Failure> {
        let (plan, observed) = match &self.delete {
            Some(change) => (
                Plan {
                    changes: vec![change.clone()],
                    errors: Vec::new(),
                },
                Observed::default(),
            ),
            None => {
                let observed = observe::observe(&self.manifests, clients, false)
                    .await
                    .map_err(|e| {
                        let observe::ObserveError::Aws(aws) = &e;
                        Failure {
                            message: e.to_string(),
                            code: aws.code().map(str::to_owned),
                            throttled: aws.is_throttling(),
                        }
                    })?;
                let full = ecsd_plan::plan(&self.manifests, &observed, &self.opts);
                if let Some(err) = full
                    .errors
                    .iter()
                    .find(|e| e.key.as_ref() == Some(&self.key))
                {
                    return Err(Failure {
                        message: err.message.clone(),
                        code: None,
                        throttled: false,
                    });
                }
                let changes: Vec<Change> = full
                    .changes
                    .into_iter()
                    .filter(|c| c.key == self.key)
                    .collect();
                (
                    Plan {
                        changes,
                        errors: Vec::new(),
                    },
                    observed,
                )
            }
        };
        let Some(change) = plan.changes.first() else {
            return Ok(None);
        };
        let action = change.action;
        let report = apply::apply(&plan, &observed, clients).await;
        match report.outcomes.into_iter().next().map(|(_, o)| o) {
            Some(ObjectOutcome::Done(_)) | None => Ok(Some(action)),
            Some(ObjectOutcome::Failed { doing, error, code }) => {
                let throttled = code.as_deref().is_some_and(|c| {
                    c.contains("Throttl")
                        || c == "TooManyRequestsException"
                        || c == "RequestLimitExceeded"
                });
                Err(Failure {
                    message: format!("{doing}: {error}"),
                    code,
                    throttled,
                })
            }
            Some(ObjectOutcome::Skipped { because }) => Err(Failure {
                message: format!("waiting for {because}"),
                code: None,
                throttled: false,
            }),
        }
    }
}
