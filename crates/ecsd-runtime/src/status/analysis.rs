//! A canary analysis as people read it: one line for messages, the event log and
//! notifications, and the `analysis` object of `/status` with every metric's numbers.

use ecsd_model::service::Verdict;
use ecsd_plan::analysis::{AnalysisState, Progress};
use serde_json::{Value, json};

use super::rfc3339;

/// What a canary analysis says now: `observing`, `judged` or `unreadable`.
pub fn state_name(s: &AnalysisState) -> &'static str {
    match s.progress {
        Progress::Observing => "observing",
        Progress::Judged(_) => "judged",
        Progress::Unreadable(_) => "unreadable",
    }
}

/// One line: what the analysis found and what follows from it.
pub fn message(s: &AnalysisState) -> String {
    let head = format!("canary analysis of deployment {}", s.deployment);
    match &s.progress {
        Progress::Observing => format!(
            "{head}: observing the window {} to {}",
            rfc3339(s.window.start),
            rfc3339(s.window.end)
        ),
        Progress::Unreadable(why) => {
            format!("{head}: the metrics cannot be read ({why}); it waits and tries again")
        }
        Progress::Judged(j) => {
            let then = match j.action {
                Verdict::Continue => "continue it".to_owned(),
                Verdict::Rollback => "roll it back".to_owned(),
                Verdict::Wait => format!(
                    "wait for a person: commit spec.deployment.approve: {id} or rollback: {id}",
                    id = s.deployment
                ),
            };
            format!("{head}: {} ({}) -> {then}", j.outcome.as_str(), j.reason())
        }
    }
}

/// The `analysis` object of an object's `/status` entry.
pub fn to_json(s: &AnalysisState) -> Value {
    let mut v = json!({
        "deployment": s.deployment,
        "deploymentArn": s.deployment_arn,
        "hook": s.hook,
        "stage": s.stage,
        "pausedAt": rfc3339(s.window.paused_at),
        "windowStart": rfc3339(s.window.start),
        "windowEnd": rfc3339(s.window.end),
        "state": state_name(s),
        "message": message(s),
    });
    match &s.progress {
        Progress::Observing => {}
        Progress::Unreadable(why) => v["error"] = json!(why),
        Progress::Judged(j) => {
            v["outcome"] = json!(j.outcome.as_str());
            v["action"] = json!(j.action.as_str());
            v["reason"] = json!(j.reason());
            v["metrics"] = json!(j.metrics);
        }
    }
    v
}

/// A metric's `value` (or `baseline`) from the `/status` object, for a table or a line:
/// the number, or `no data`.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "no data".to_owned(),
        v => v.to_string(),
    }
}
