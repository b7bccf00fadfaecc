//! `ecsd run`: wires the source, the controller, the HTTP endpoints and the signals.

use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use ecsd_runtime::controller::backoff::Backoff;
use ecsd_runtime::controller::feed::feed;
use ecsd_runtime::controller::lease::LeaseOptions;
use ecsd_runtime::controller::listen::{ListenOptions, listen};
use ecsd_runtime::controller::{ControllerOptions, DriftMode, Event};
use ecsd_runtime::status::{FeedStatus, Status};
use ecsd_runtime::targets::shards::Shards;
use ecsd_runtime::targets::{self, MakeClients, SharedTargets, Supervisor};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::hooks::GitHook;

use crate::cli::{Drift, RunArgs};
use crate::http::{self, Endpoints};
use crate::setup;

pub(crate) async fn run(args: &RunArgs) -> ExitCode {
    let listener = match TcpListener::bind(&args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", args.listen);
            return ExitCode::from(1);
        }
    };
    let (mut term, mut int, mut hup) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(t), Ok(i), Ok(h)) => (t, i, h),
        _ => {
            eprintln!("error: cannot install signal handlers");
            return ExitCode::from(1);
        }
    };
    let rps = (args.aws_rps > 0.0).then_some(args.aws_rps);
    let config = ecsd_aws::load_config_limited(rps).await;
    let source = match setup::source(&args.pass, &config) {
        Ok(s) => s,
        Err(setup::Fatal(message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    let lease = args.lease_table.clone().map(|table| LeaseOptions {
        table,
        owner: args.pass.owner.clone(),
        replica: args.replica_id.clone().unwrap_or_else(replica_id),
        duration: args.lease_duration,
        renew: args.lease_renew,
    });
    if let Some(Err(e)) = lease.as_ref().map(LeaseOptions::check) {
        eprintln!("error: {e}");
        return ExitCode::from(1);
    }
    let sync_token = match std::env::var("ECSD_SYNC_TOKEN") {
        Ok(t) if !t.is_empty() => Some(t),
        _ => None,
    };
    let webhook_secret = match std::env::var("ECSD_WEBHOOK_SECRET") {
        Ok(t) if !t.is_empty() => Some(t.into_bytes()),
        _ => None,
    };
    let status = Arc::new(Mutex::new(Status {
        source: ecsd_source::git::redact(&args.pass.source),
        ..Status::default()
    }));
    let notifier = match crate::notify::notifier(
        &args.notify,
        args.notify_queue,
        args.public_url.as_deref(),
        &args.pass.owner,
        &status,
    ) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    let events_queue = args.events.as_deref().filter(|q| !q.is_empty());
    if let Some(queue) = events_queue {
        status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .event_feed = Some(FeedStatus {
            queue: queue.to_owned(),
            resync: args.resync,
            ..FeedStatus::default()
        });
    }
    if let Some(queue) = events_queue
        && !queue.starts_with("https://")
        && !queue.starts_with("http://")
    {
        eprintln!(
            "error: --events takes an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), not {queue:?}"
        );
        return ExitCode::from(1);
    }
    let (events_tx, events_rx) = mpsc::channel(16);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // One lease per target (the owner's own, without targets), taken as the source
    // declares them; the leases outlive the controllers' shutdown (held while work in
    // flight finishes, released after). `leading`: whether this replica leads any.
    let (shards, leading) = match &lease {
        Some(opts) => {
            let api = ecsd_aws::SdkLease::new(&config);
            let (shards, any) =
                Shards::new(api, opts.clone(), config.fence().clone(), status.clone());
            (Some(shards), Some(any))
        }
        None => (None, None),
    };
    let opts = ControllerOptions {
        plan: setup::plan_options(&args.pass),
        resync: args.resync,
        backstop: events_queue.map(|_| args.events_resync),
        drift: match args.drift {
            Drift::Correct => DriftMode::Correct,
            Drift::Report => DriftMode::Report,
        },
        concurrency: args.concurrency,
        backoff: Backoff::default(),
        shutdown_timeout: args.shutdown_timeout,
        pass_retry: std::time::Duration::from_secs(5),
        health_interval: args.health_interval,
        scaling_bound_warning: args.scaling_bound_warning,
        // Each target's controller gets its own lease's (the supervisor's).
        leading: None,
        notifier,
        // With --target, the supervisor keeps only that target's controller.
        target: args.pass.target.clone(),
    };
    tracing::info!(
        source = %ecsd_source::git::redact(&args.pass.source), listen = %args.listen, interval_s = args.interval.as_secs(),
        resync_s = args.resync.as_secs(), owner = %args.pass.owner, prune = args.pass.prune, aws_rps = args.aws_rps,
        "ecsd controller starting"
    );
    match &lease {
        Some(l) => {
            tracing::info!(lease_table = %l.table, replica = %l.replica, lease_duration_s = l.duration.as_secs_f64(),
            lease_renew_s = l.renew.as_secs_f64(), "leader election on: only the lease holder changes AWS; standing by until this replica holds it")
        }
        None => tracing::info!(owner = %args.pass.owner,
            "no --lease-table: this replica runs alone and changes AWS; run exactly one per owner"),
    }
    if let Some(queue) = events_queue {
        tracing::info!(queue = %queue, events_resync_s = args.events_resync.as_secs(),
            "reading AWS events from the queue; the full resync is a backstop while it can be read");
    }
    if sync_token.is_some() {
        tracing::info!("POST /sync requires the bearer token of ECSD_SYNC_TOKEN");
    }
    if webhook_secret.is_some() {
        tracing::info!(
            "POST /hooks/git fetches the source now, for a delivery signed with ECSD_WEBHOOK_SECRET"
        );
    }
    // One refresh waits at a time; a webhook while it waits gets 429.
    let (refresh_tx, refresh_rx) = mpsc::channel(1);
    let (interval, tx, rx) = (args.interval, events_tx.clone(), shutdown_rx.clone());
    let feeder = tokio::spawn(feed(source, interval, tx, refresh_rx, rx));
    let event_listener = events_queue.map(|queue| {
        let opts = ListenOptions {
            source: ecsd_source::s3::location(&args.pass.source),
            leading: leading.clone(),
            max_backoff: std::time::Duration::from_secs(30),
        };
        let queue = ecsd_aws::SdkQueue::new(&config, queue);
        tokio::spawn(listen(
            queue,
            opts,
            events_tx.clone(),
            refresh_tx.clone(),
            status.clone(),
            shutdown_rx.clone(),
        ))
    });
    let shared_targets = SharedTargets::default();
    let endpoints = Endpoints {
        status: status.clone(),
        targets: shared_targets.clone(),
        calls: config.stats().clone(),
        events: events_tx.clone(),
        sync_token: sync_token.map(|t| http::digest(t.as_bytes())),
        git_hook: webhook_secret.map(|secret| GitHook {
            secret,
            refresh: refresh_tx,
        }),
    };
    let server = tokio::spawn(http::serve(listener, endpoints, shutdown_rx.clone()));
    // One controller per deployment target (one, the process's own, without targets).
    let base = config.clone();
    let make: MakeClients<_, _, _, _, _> = Arc::new(move |target, fence| {
        let base = base.clone();
        Box::pin(async move {
            let config = setup::target_config(&base, target.as_ref()).await;
            match fence {
                Some(fence) => setup::clients_of(&config.with_fence(fence)),
                None => setup::clients_of(&config),
            }
        })
    });
    let supervisor = Supervisor {
        make,
        opts,
        main: status,
        targets: shared_targets,
        shards,
    };
    let mut controller = tokio::spawn(targets::run(supervisor, events_rx, shutdown_rx));
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                tracing::info!("SIGHUP: starting a full pass");
                let _ = events_tx.try_send(Event::Sync);
            }
            _ = &mut controller => {
                tracing::error!("the controller stopped unexpectedly");
                return ExitCode::from(1);
            }
        }
    }
    tracing::info!("stopping: no new work is taken");
    let _ = shutdown_tx.send(true);
    let _ = controller.await;
    feeder.abort();
    if let Some(task) = event_listener {
        task.abort();
    }
    server.abort();
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// A name for this replica: the host name (on Fargate, the task's own), the process
/// id, and a random suffix so a restarted process is a new replica.
fn replica_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "ecsd".to_owned());
    format!("{host}-{}-{:04x}", std::process::id(), fastrand::u16(..))
}
