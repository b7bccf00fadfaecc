//! `ecsd run`: wires the source, the controller, the HTTP endpoints and the signals.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use ecsd_runtime::backoff::Backoff;
use ecsd_runtime::controller::{self, ControllerOptions, DriftMode, Event};
use ecsd_runtime::feed::feed;
use ecsd_runtime::status::Status;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use crate::cli::{Drift, RunArgs};
use crate::http::{self, Endpoints};
use crate::pass::{self, SourceKind};

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
    let (clients, config) = pass::clients_limited(rps).await;
    let source = match pass::source(&args.pass, &config) {
        Ok(s) => s,
        Err(pass::Fatal(message)) => {
            eprintln!("error: {message}");
            return ExitCode::from(1);
        }
    };
    let status = Arc::new(Mutex::new(Status::default()));
    let (events_tx, events_rx) = mpsc::channel(16);
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let opts = ControllerOptions {
        plan: pass::plan_options(&args.pass),
        resync: args.resync,
        drift: match args.drift {
            Drift::Correct => DriftMode::Correct,
            Drift::Report => DriftMode::Report,
        },
        concurrency: args.concurrency,
        backoff: Backoff::default(),
        shutdown_timeout: args.shutdown_timeout,
        pass_retry: std::time::Duration::from_secs(5),
    };
    tracing::info!(
        source = %ecsd_source::git::redact(&args.pass.source), listen = %args.listen, interval_s = args.interval.as_secs(),
        resync_s = args.resync.as_secs(), owner = %args.pass.owner, prune = args.pass.prune, aws_rps = args.aws_rps,
        "ecsd controller starting"
    );
    let (interval, tx, rx) = (args.interval, events_tx.clone(), shutdown_rx.clone());
    let feeder = match source {
        SourceKind::Dir(s) => tokio::spawn(feed(s, interval, tx, rx)),
        SourceKind::S3(s) => tokio::spawn(feed(s, interval, tx, rx)),
        SourceKind::Git(s) => tokio::spawn(feed(s, interval, tx, rx)),
    };
    let endpoints = Endpoints {
        status: status.clone(),
        calls: config.stats().clone(),
        events: events_tx.clone(),
    };
    let server = tokio::spawn(http::serve(listener, endpoints, shutdown_rx.clone()));
    let mut controller = tokio::spawn(controller::run(
        clients,
        opts,
        events_rx,
        status,
        shutdown_rx,
    ));
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
    server.abort();
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
