//! `ecsd status`: sync and health of every object, grouped by application (a Service
//! with the target groups and scaling that serve it), with the health signals read
//! (target health, deployment alarms, scaling activities); exits 0 when all are Synced
//! and Healthy, 2 otherwise, 1 on error.

use std::process::ExitCode;

use ecsd_runtime::pass::health::{HealthInputs, evaluate};
use ecsd_runtime::pass::signals;
use ecsd_runtime::status::{Health, Status, SyncStatus};
use serde_json::Value;

use crate::cli::{Output, StatusArgs};
use crate::setup;

use super::fatal;

/// `ecsd status`: 0 all synced and healthy, 2 otherwise, 1 error.
pub(crate) async fn run(args: &StatusArgs) -> ExitCode {
    let planned = match setup::plan(&args.pass).await {
        Ok(p) => p,
        Err(f) => return fatal(f),
    };
    let wanted = signals::wanted(&planned.manifests, &planned.observed, |_| true);
    let (read, errors) = signals::read(&wanted, &planned.clients).await;
    for e in &errors {
        tracing::warn!(error = %e, "health signal not read");
    }
    let objects = evaluate(
        &planned.manifests,
        &planned.observed,
        HealthInputs::now(&read),
        &planned.plan,
    );
    let status = Status {
        revision: planned.revision.clone(),
        objects,
        errors,
        ..Default::default()
    };
    match args.output {
        Output::Json => println!("{}", status.to_json()),
        Output::Text => print!("{}", text(&status)),
    }
    setup::log_calls(&planned.config);
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

fn field<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_default()
}

/// The terminal view: one line per application (sync, health, tasks, revision, a
/// deployment under way), its objects indented under it with their message, warnings
/// and the line to commit for a paused deployment.
pub(crate) fn text(status: &Status) -> String {
    let doc = status.to_json();
    let objects: Vec<&Value> = doc["objects"].as_array().into_iter().flatten().collect();
    let mut out = String::new();
    for app in doc["applications"].as_array().into_iter().flatten() {
        let mut line = format!(
            "{:<28} {:<10} {:<12}",
            field(app, "name"),
            field(app, "sync"),
            field(app, "health")
        );
        if let (Some(r), Some(d)) = (app["running"].as_u64(), app["desired"].as_u64()) {
            line.push_str(&format!(" {r}/{d} tasks  {}", field(app, "taskDefinition")));
        }
        let d = &app["deployment"];
        if d.is_object() {
            line.push_str(&format!(
                "  deploying ({} {}",
                field(d, "strategy"),
                field(d, "status")
            ));
            if let Some(stage) = d["stage"].as_str() {
                line.push_str(&format!(" at {stage}"));
            }
            if let Some(p) = d["productionPercent"].as_f64() {
                line.push_str(&format!(", {p}% of production traffic"));
            }
            line.push(')');
        }
        out.push_str(line.trim_end());
        out.push('\n');
        for member in app["objects"].as_array().into_iter().flatten() {
            let Some(o) = objects.iter().find(|o| {
                member.as_str() == Some(&format!("{}/{}", field(o, "kind"), field(o, "name")))
            }) else {
                continue;
            };
            out.push_str(&format!(
                "  {:<36} {:<10} {:<12} {}\n",
                format!("{}/{}", field(o, "kind"), field(o, "name")),
                field(o, "sync"),
                field(o, "health"),
                field(o, "message")
            ));
            for w in o["warnings"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "    warning: {}\n",
                    w.as_str().unwrap_or_default()
                ));
            }
            let a = &o["awaitingApproval"];
            if a.is_object() {
                out.push_str(&format!(
                    "    paused: commit under spec.deployment  {}  (or  {})\n",
                    field(a, "approve"),
                    field(a, "rollback")
                ));
            }
            out.push_str(&analysis_lines(&o["analysis"]));
        }
    }
    for e in doc["errors"].as_array().into_iter().flatten() {
        out.push_str(&format!("error: {}\n", e.as_str().unwrap_or_default()));
    }
    out.push_str(&format!("revision {}\n", status.revision));
    out
}

/// A canary analysis: its one-line message, then a line per metric.
fn analysis_lines(a: &Value) -> String {
    if !a.is_object() {
        return String::new();
    }
    let mut out = format!("    analysis: {}\n", field(a, "message"));
    for m in a["metrics"].as_array().into_iter().flatten() {
        let value = ecsd_runtime::status::analysis::value_text(&m["value"]);
        let baseline = match &m["baseline"] {
            Value::Null => String::new(),
            b => format!("  baseline {b}"),
        };
        out.push_str(&format!(
            "      {:<20} {:<10} {:<8} {}{baseline}  ({} data points, {} needed)\n",
            field(m, "name"),
            value,
            field(m, "outcome"),
            field(m, "bound"),
            m["dataPoints"],
            m["needed"]
        ));
    }
    out
}
