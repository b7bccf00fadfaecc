//! Deployment targets (*added*): one controller per target a source declares, each with
//! AWS clients of its own (its account's role, its region), and the promotion order
//! between them.
//!
//! A source without targets gets one controller for the implicit target, whose status
//! is the process's own: everything works as before targets existed. With targets, each
//! declared target gets a controller and a status of its own ([`Status::target`] says
//! which); the targets' set is taken from each valid snapshot (a target added, removed,
//! or moved to another role or region starts, stops or restarts its controller). One
//! target's failure (a denied role, throttling, an outage of its region) shows in its
//! own status and never blocks another's controller.
//!
//! A target with `after` gets a revision only once every target it waits for is Synced
//! and Healthy on it ([`promote::gate`], checked every second and on every snapshot);
//! until then its controller keeps the revision it has, and its status says what it
//! waits for, or where the promotion stopped and why.
//!
//! With `run --lease-table`, each target has a lease of its own and the targets are
//! spread over the replicas ([`shards`]): a controller changes its target's AWS only
//! while this replica holds that target's lease, through clients gated by that
//! target's fence; otherwise it observes.
//!
//! # Layout
//! - this file: the supervisor ([`run`]): starting and stopping controllers, handing
//!   each the events it needs, and the promotions;
//! - [`promote`]: the gate, pure;
//! - [`shards`]: the targets' leases, the replicas' heartbeats and the fair share.

pub mod promote;
pub mod shards;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ecsd_aws::lease::LeaseApi;
use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, Fence, ScalingApi};
use ecsd_model::{Target, Targets, parse_source};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::controller::{self, ControllerOptions, Event, SharedStatus, Snapshot};
use crate::pass::Clients;
use crate::status::Status;
use crate::status::target::{Promotion, TargetInfo};
use promote::Gate;
use shards::Shards;

/// Makes the AWS clients of a target (`None`: the implicit target, ecsd's own
/// credentials and region), whose mutating requests pass the fence given (`None`:
/// ecsd's own).
pub type MakeClients<E, L, S, D, W> = Arc<
    dyn Fn(
            Option<Target>,
            Option<Fence>,
        ) -> Pin<Box<dyn Future<Output = Clients<E, L, S, D, W>> + Send>>
        + Send
        + Sync,
>;

/// Each running target's status by name, for the HTTP endpoints (empty while the source
/// declares no targets: the process's status is the implicit target's).
pub type SharedTargets = Arc<Mutex<BTreeMap<String, SharedStatus>>>;

/// How often a waiting promotion is looked at again (the statuses are in memory).
const PROMOTION_TICK: Duration = Duration::from_secs(1);

struct Running {
    /// What the target was started with (a change restarts it).
    target: Option<Target>,
    events: mpsc::Sender<Event>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    status: SharedStatus,
    /// A snapshot waiting for the targets this one comes after.
    pending: Option<Snapshot>,
}

/// The supervisor's parts: how to make a target's clients, the controllers' options,
/// the process's status (the implicit target's, and the source's errors), the declared
/// targets' statuses, and the targets' elections (with `--lease-table`).
pub struct Supervisor<E, L, S, D, W, A> {
    pub make: MakeClients<E, L, S, D, W>,
    pub opts: ControllerOptions,
    pub main: SharedStatus,
    pub targets: SharedTargets,
    pub shards: Option<Shards<A>>,
}

/// Runs one controller per target until `shutdown`, handing each the events of
/// `events`; then stops them, and releases the targets' leases.
pub async fn run<E, L, S, D, W, A>(
    sup: Supervisor<E, L, S, D, W, A>,
    mut events: mpsc::Receiver<Event>,
    mut shutdown: watch::Receiver<bool>,
) where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
    A: LeaseApi + Clone + 'static,
{
    let Supervisor {
        make,
        opts,
        main,
        targets,
        mut shards,
    } = sup;
    let mut running: BTreeMap<Option<String>, Running> = BTreeMap::new();
    let mut declared = Targets::default();
    let mut tick = tokio::time::interval(PROMOTION_TICK);
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            event = events.recv() => match event {
                None => break,
                Some(Event::Snapshot(snapshot)) => {
                    let source = parse_source(&snapshot.files);
                    {
                        let mut m = lock(&main);
                        m.revision.clone_from(&snapshot.revision);
                        if !source.targets.is_empty() {
                            // The source could be read: an earlier read error is over.
                            m.errors.clear();
                        }
                    }
                    // A Target document with an error: keep the targets there are.
                    if !source.targets_invalid {
                        declared = source.targets;
                        let want = wanted(&declared, opts.target.as_deref());
                        let start = Start { make: &make, opts: &opts, main: &main, shared: &targets, shards: shards.as_mut() };
                        start_and_stop(start, &mut running, want).await;
                    }
                    for (name, r) in &mut running {
                        let waits = name.as_ref().and_then(|n| declared.by_name.get(n)).is_some_and(|t| !t.spec.after.is_empty());
                        if waits {
                            r.pending = Some(snapshot.clone());
                        } else {
                            let _ = r.events.send(Event::Snapshot(snapshot.clone())).await;
                        }
                    }
                    promote(&declared, &mut running).await;
                }
                // Before the first snapshot, or with targets, the process's status
                // shows why the source cannot be read (once); the implicit target's
                // controller shares that status.
                Some(Event::SourceError(e)) if running.is_empty() || !declared.is_empty() => {
                    let mut s = lock(&main);
                    if !s.errors.contains(&e) {
                        tracing::error!(error = %e, "cannot read the source; keeping the last good snapshot");
                        s.errors = vec![e];
                    }
                }
                Some(other) => {
                    if other == Event::Sync && !declared.is_empty() {
                        // The targets' controllers take the sync: another may be asked for.
                        lock(&main).sync_pending = false;
                    }
                    for r in running.values() {
                        let _ = r.events.send(other.clone()).await;
                    }
                }
            },
            _ = tick.tick() => promote(&declared, &mut running).await,
        }
    }
    for r in running.values() {
        let _ = r.shutdown.send(true);
    }
    for (_, r) in running {
        let _ = r.task.await;
    }
    // The leases outlive the controllers: held while work in flight finished.
    if let Some(shards) = shards {
        shards.shutdown().await;
    }
}

/// What starting a target's controller needs.
struct Start<'a, E, L, S, D, W, A> {
    make: &'a MakeClients<E, L, S, D, W>,
    opts: &'a ControllerOptions,
    main: &'a SharedStatus,
    shared: &'a SharedTargets,
    shards: Option<&'a mut Shards<A>>,
}

/// The targets that should run: each declared one (only `only`, when `run --target`
/// names one), or the implicit one.
fn wanted(declared: &Targets, only: Option<&str>) -> BTreeMap<Option<String>, Option<Target>> {
    if declared.is_empty() {
        return BTreeMap::from([(None, None)]);
    }
    declared
        .by_name
        .iter()
        .filter(|(name, _)| only.is_none_or(|o| o == name.as_str()))
        .map(|(name, t)| (Some(name.clone()), Some(t.clone())))
        .collect()
}

/// Stops the controllers of targets no longer wanted (or changed), starts the missing.
async fn start_and_stop<E, L, S, D, W, A>(
    start: Start<'_, E, L, S, D, W, A>,
    running: &mut BTreeMap<Option<String>, Running>,
    want: BTreeMap<Option<String>, Option<Target>>,
) where
    E: EcsApi + Clone + 'static,
    L: Elbv2Api + Clone + 'static,
    S: ScalingApi + Clone + 'static,
    D: CodeDeployApi + Clone + 'static,
    W: CloudWatchApi + Clone + 'static,
    A: LeaseApi + Clone + 'static,
{
    let Start {
        make,
        opts,
        main,
        shared,
        mut shards,
    } = start;
    let stale: Vec<Option<String>> = running
        .iter()
        .filter(|(name, r)| {
            want.get(*name)
                .is_none_or(|t| !same_place(t.as_ref(), r.target.as_ref()))
        })
        .map(|(name, _)| name.clone())
        .collect();
    for name in stale {
        let Some(r) = running.remove(&name) else {
            continue;
        };
        tracing::warn!(
            target_name = name.as_deref().unwrap_or_default(),
            "target removed or changed in the source: its controller stops (its resources are left as they are)"
        );
        let _ = r.shutdown.send(true);
        let _ = r.task.await;
        if let Some(s) = shards.as_deref_mut() {
            s.leave(name.as_deref()).await;
        }
        if let Some(n) = &name {
            lock(shared).remove(n);
        }
    }
    for (name, target) in want {
        if let Some(r) = running.get_mut(&name) {
            // Only `after` or the folder changed: the controller runs on.
            if let (Some(t), Some(info)) = (&target, lock(&r.status).target.as_mut()) {
                info.after.clone_from(&t.spec.after);
            }
            r.target = target;
            continue;
        }
        let status = match &target {
            None => main.clone(),
            Some(t) => Arc::new(Mutex::new(Status {
                source: lock(main).source.clone(),
                target: Some(TargetInfo {
                    name: t.name.clone(),
                    region: t.spec.region.clone(),
                    role_arn: t.spec.role_arn.clone(),
                    after: t.spec.after.clone(),
                    promotion: None,
                }),
                ..Status::default()
            })),
        };
        if let Some(t) = &target {
            tracing::info!(target_name = %t.name, region = t.spec.region.as_deref().unwrap_or("(ecsd's own)"),
                role = t.spec.role_arn.as_deref().unwrap_or("(ecsd's own credentials)"), after = ?t.spec.after, "target: starting its controller");
            lock(shared).insert(t.name.clone(), status.clone());
        }
        // With shards: the target's own lease, and (a declared target) its own fence.
        let fence = (shards.is_some() && target.is_some()).then(Fence::default);
        let leading = shards
            .as_deref_mut()
            .map(|s| s.join(name.as_deref(), status.clone(), fence.clone()));
        let clients = make(target.clone(), fence).await;
        let (events_tx, events_rx) = mpsc::channel(16);
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let opts = ControllerOptions {
            target: name.clone(),
            leading: leading.or_else(|| opts.leading.clone()),
            ..opts.clone()
        };
        let task = tokio::spawn(controller::run(
            clients,
            opts,
            events_rx,
            status.clone(),
            shutdown_rx,
        ));
        running.insert(
            name,
            Running {
                target,
                events: events_tx,
                shutdown: shutdown_tx,
                task,
                status,
                pending: None,
            },
        );
    }
}

/// Whether two declarations deploy to the same place with the same credentials.
fn same_place(a: Option<&Target>, b: Option<&Target>) -> bool {
    let place = |t: Option<&Target>| {
        t.map(|t| {
            (
                t.spec.region.clone(),
                t.spec.role_arn.clone(),
                t.spec.external_id.clone(),
            )
        })
    };
    place(a) == place(b)
}

/// Hands each waiting target its snapshot once the targets it comes after settled on
/// that revision, and records where each promotion stands.
async fn promote(declared: &Targets, running: &mut BTreeMap<Option<String>, Running>) {
    if running.values().all(|r| r.pending.is_none()) {
        return;
    }
    let statuses: BTreeMap<String, Status> = running
        .iter()
        .filter_map(|(name, r)| Some((name.clone()?, lock(&r.status).clone())))
        .collect();
    for (name, r) in running.iter_mut() {
        let Some(t) = name.as_ref().and_then(|n| declared.by_name.get(n)) else {
            continue;
        };
        let Some(revision) = r.pending.as_ref().map(|s| s.revision.clone()) else {
            continue;
        };
        let after = t
            .spec
            .after
            .iter()
            .filter_map(|a| statuses.get(a).map(|s| (a.as_str(), s)));
        let gate = promote::gate(&revision, after);
        let (state, reason) = match &gate {
            Gate::Open => ("promoted", String::new()),
            Gate::Waiting(why) => ("waiting", why.clone()),
            Gate::Held(why) => ("held", why.clone()),
        };
        let next = Promotion {
            revision: revision.clone(),
            state,
            reason: reason.clone(),
        };
        let changed = {
            let mut s = lock(&r.status);
            let info = s.target.get_or_insert_with(TargetInfo::default);
            let changed = info.promotion.as_ref() != Some(&next);
            info.promotion = Some(next);
            changed
        };
        if changed {
            match &gate {
                Gate::Open => {
                    tracing::info!(target_name = %t.name, revision = %revision, after = ?t.spec.after, "promoted: the targets it comes after are Synced and Healthy on this revision")
                }
                Gate::Waiting(_) => {
                    tracing::info!(target_name = %t.name, revision = %revision, reason = %reason, "promotion waiting")
                }
                Gate::Held(_) => {
                    tracing::warn!(target_name = %t.name, revision = %revision, reason = %reason, "promotion held")
                }
            }
        }
        if gate == Gate::Open
            && let Some(snapshot) = r.pending.take()
        {
            let _ = r.events.send(Event::Snapshot(snapshot)).await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
