//! `ecsd plan` and `ecsd apply`.

use std::process::ExitCode;

use ecsd_runtime::pass::health::evaluate;
use ecsd_runtime::status::{Health, SyncStatus};
use ecsd_runtime::{ApplyOptions, DrainWait, ObjectOutcome, WaitOutcome};

use crate::cli::{ApplyArgs, ImportArgs, MigrateArgs, Output, PlanArgs, StatusArgs};
use crate::output::plan_text;
use crate::pass::{self, Fatal};
use crate::progress::LiveProgress;

fn fatal(Fatal(message): Fatal) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}

/// `ecsd plan`: 0 nothing to change, 2 changes pending, 1 error.
pub(crate) async fn plan(args: &PlanArgs) -> ExitCode {
    let pass = match pass::plan(&args.pass).await {
        Ok(p) => p,
        Err(f) => return fatal(f),
    };
    match args.output {
        Output::Json => println!("{}", pass.plan.to_json(&pass.revision)),
        Output::Text => print!("{}", plan_text(&pass.plan, &pass.revision)),
    }
    pass::log_calls(&pass.config);
    if !pass.plan.errors.is_empty() {
        ExitCode::from(1)
    } else if !pass.plan.changes.is_empty() || !pass.plan.holds.is_empty() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// `ecsd apply`: 0 converged, 1 error.
pub(crate) async fn apply(args: &ApplyArgs) -> ExitCode {
    let pass = match pass::plan(&args.pass).await {
        Ok(p) => p,
        Err(f) => return fatal(f),
    };
    print!("{}", plan_text(&pass.plan, &pass.revision));
    // A deleted service (pruned, or replaced with --recreate) drains before AWS lets a
    // same-named one be created: apply waits for that as long as --wait-timeout.
    let opts = ApplyOptions {
        drain: DrainWait::Poll {
            interval: args.wait_interval,
            timeout: args.wait_timeout,
        },
        concurrency: args.concurrency,
    };
    let report = ecsd_runtime::apply(&pass.plan, &pass.observed, &pass.clients, opts).await;
    let mut ok = pass.plan.errors.is_empty();
    for hold in &pass.plan.holds {
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
        let waited = ecsd_runtime::wait_for_services(
            &pass.clients.ecs,
            &report.rolled_out,
            args.wait_interval,
            args.wait_timeout,
            &on_progress,
        )
        .await;
        let named = waited
            .into_iter()
            .map(|(id, o)| (format!("Service/{} ({})", id.name, id.cluster), o));
        ok &= report_waits(named, "deployment completed");
    }
    if args.wait && !report.code_deployments.is_empty() {
        println!(
            "waiting for {} CodeDeploy deployment(s) (up to {}s)...",
            report.code_deployments.len(),
            args.wait_timeout.as_secs()
        );
        let waited = ecsd_runtime::wait_for_code_deployments(
            &pass.clients.deploy,
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
    pass::log_calls(&pass.config);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `ecsd status`: 0 all synced and healthy, 2 otherwise, 1 error.
pub(crate) async fn status(args: &StatusArgs) -> ExitCode {
    let pass = match pass::plan(&args.pass).await {
        Ok(p) => p,
        Err(f) => return fatal(f),
    };
    let objects = evaluate(&pass.manifests, &pass.observed, &pass.plan);
    let status = ecsd_runtime::status::Status {
        revision: pass.revision.clone(),
        objects,
        ..Default::default()
    };
    match args.output {
        Output::Json => println!("{}", status.to_json()),
        Output::Text => {
            for (key, o) in &status.objects {
                println!(
                    "{key:<40} {:<10} {:<12} {}",
                    o.sync.as_str(),
                    o.health.as_str(),
                    o.message
                );
            }
            println!("revision {}", status.revision);
        }
    }
    pass::log_calls(&pass.config);
    let all_good = status
        .objects
        .values()
        .all(|o| o.sync == SyncStatus::Synced && o.health == Health::Healthy);
    if all_good {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
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

/// `ecsd import`: 0 every service written, 1 otherwise.
pub(crate) async fn import(args: &ImportArgs) -> ExitCode {
    let (clients, config) = pass::clients().await;
    let imported =
        match ecsd_runtime::generate::import::import(&clients, &args.cluster, &args.services).await
        {
            Ok(i) => i,
            Err(e) => {
                eprintln!("error: importing from cluster {}: {e}", args.cluster);
                return ExitCode::from(1);
            }
        };
    if let Some(out) = &args.out
        && let Err(e) = std::fs::create_dir_all(out)
    {
        eprintln!("error: cannot create {}: {e}", out.display());
        return ExitCode::from(1);
    }
    let mut ok = true;
    if imported.is_empty() {
        eprintln!("error: cluster {} has no service to import", args.cluster);
        ok = false;
    }
    let at = ecsd_runtime::status::now_rfc3339();
    let mut stream = Vec::new();
    for (id, result) in imported {
        let text = result.map(|i| ecsd_runtime::generate::import::yaml(&i, &format!("read {at}")));
        let written = match (&args.out, text) {
            (_, Err(e)) => Err(e.to_string()),
            (None, Ok(text)) => {
                stream.push(text);
                Ok(None)
            }
            (Some(out), Ok(text)) => {
                write_new(&out.join(format!("{}.yaml", id.name)), &text).map(Some)
            }
        };
        match written {
            Ok(Some(path)) => println!("{id}: wrote {}", path.display()),
            Ok(None) => {}
            Err(e) => {
                ok = false;
                eprintln!("error: {id}: {e}");
            }
        }
    }
    if !stream.is_empty() {
        print!("{}", stream.join("---\n"));
    }
    pass::log_calls(&config);
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `ecsd migrate --asg`: 0 when the manifests were written, 1 otherwise.
pub(crate) async fn migrate(args: &MigrateArgs) -> ExitCode {
    let config = ecsd_aws::load_config().await;
    let fleet = ecsd_aws::SdkFleet::new(&config);
    let elb = ecsd_aws::SdkElbv2::new(&config);
    let code = match migrate_to_file(args, &fleet, &elb).await {
        Ok(path) => {
            if let Some(path) = path {
                println!("{}: wrote {}", args.asg, path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: migrating Auto Scaling group {}: {e}", args.asg);
            ExitCode::from(1)
        }
    };
    pass::log_calls(&config);
    code
}

async fn migrate_to_file(
    args: &MigrateArgs,
    fleet: &ecsd_aws::SdkFleet,
    elb: &ecsd_aws::SdkElbv2,
) -> Result<Option<std::path::PathBuf>, String> {
    use ecsd_runtime::generate::migrate;
    let read = migrate::read(fleet, elb, &args.asg)
        .await
        .map_err(|e| e.to_string())?;
    let documents = migrate::render(
        &read,
        &migrate::Options {
            image: args.image.clone(),
            cluster: args.cluster.clone(),
        },
    );
    let service = documents
        .iter()
        .find(|d| d.kind == "Service")
        .map_or_else(|| args.asg.clone(), |d| d.name.clone());
    let note = format!("read {}", ecsd_runtime::status::now_rfc3339());
    let text = migrate::yaml(&args.asg, &documents, &note);
    match &args.out {
        None => {
            print!("{text}");
            Ok(None)
        }
        Some(out) => {
            std::fs::create_dir_all(out)
                .map_err(|e| format!("cannot create {}: {e}", out.display()))?;
            write_new(&out.join(format!("{service}.yaml")), &text).map(Some)
        }
    }
}

/// Writes `text` to a file that must not exist yet: `path`, or why not.
fn write_new(path: &std::path::Path, text: &str) -> Result<std::path::PathBuf, String> {
    if path.exists() {
        return Err(format!(
            "{} exists; it is not overwritten (remove it or choose another --out)",
            path.display()
        ));
    }
    std::fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(path.to_owned())
}
