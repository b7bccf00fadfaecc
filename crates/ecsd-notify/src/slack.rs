//! The Slack message of a notification, in Block Kit (Slack's "Creating rich message
//! layouts" and "Blocks" reference): a `text` fallback for notifications and screen
//! readers, a header, the summary, the exact line to commit at a pause, the owner and
//! revision as context, and a button to the object's page when `--public-url` is set.
//! Limits kept: a header's text at most 150 characters, a section's 3000, a button's
//! 75; `&`, `<` and `>` escaped in mrkdwn as Slack requires.

use ecsd_runtime::notify::revision::shorten;
use ecsd_runtime::notify::{Event, Notification};
use serde_json::{Value, json};

use crate::webhook::{Context, link};

/// A heading per event.
fn title(n: &Notification) -> String {
    let what = match n.event {
        Event::RevisionApplied => "Revision applied",
        Event::RevisionFailed => "Apply failed",
        Event::DriftFound => "Drift found",
        Event::DriftCorrected => "Drift corrected",
        Event::DeploymentPaused => "Deployment paused: awaiting approval",
        Event::DeploymentApproved => "Deployment approved",
        Event::DeploymentAnalysed => "Canary analysis",
        Event::DeploymentRolledBack => "Deployment rolled back",
        Event::ObjectDegraded => "Degraded",
        Event::ControllerLeading => "ecsd is leading",
        Event::ControllerFeedLost => "ecsd lost its event feed",
    };
    match &n.subject {
        Some(s) => format!("{what}: {} {}", s.kind, s.name),
        None => what.to_owned(),
    }
}

/// One metric of a canary analysis: `errors  0.2  max 0.01  fail  (5 data points)`.
fn metric_line(m: &Value) -> String {
    let value = ecsd_runtime::status::analysis::value_text(&m["value"]);
    format!(
        "{}  {value}  {}  {}  ({} data points, {} needed)",
        m["name"].as_str().unwrap_or_default(),
        m["bound"].as_str().unwrap_or_default(),
        m["outcome"].as_str().unwrap_or_default(),
        m["dataPoints"],
        m["needed"]
    )
}

/// Escapes text for mrkdwn.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The message body.
pub fn body(ctx: &Context, n: &Notification) -> Value {
    let title = shorten(&title(n), 150);
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": title, "emoji": false}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": shorten(&escape(&n.summary), 3000)}}),
    ];
    if let Some(p) = &n.pause
        && n.event == Event::DeploymentPaused
    {
        let text = format!(
            "To continue it, commit under `spec.deployment`:\n```{}```\nor, to roll it back:\n```{}```",
            escape(&p.approve),
            escape(&p.rollback)
        );
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
    }
    if let Some(metrics) = n
        .analysis
        .as_ref()
        .and_then(|a| a["metrics"].as_array())
        .filter(|m| !m.is_empty())
    {
        let lines: Vec<String> = metrics.iter().map(metric_line).collect();
        let text = format!("```{}```", escape(&lines.join("\n")));
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": shorten(&text, 3000)}}),
        );
    }
    let mut context = format!("owner `{}`", escape(&ctx.owner));
    if !n.revision.is_empty() {
        context.push_str(&format!(" · revision `{}`", escape(&n.revision)));
    }
    if let Some(code) = &n.error_code {
        context.push_str(&format!(" · AWS error `{}`", escape(code)));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": shorten(&context, 3000)}]}));
    if let Some(url) = link(ctx, n) {
        blocks.push(json!({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open in ecsd"}, "url": url,
        }]}));
    }
    json!({"text": shorten(&format!("{title}: {}", n.summary), 3000), "blocks": blocks})
}

#[cfg(test)]
mod tests {
    use ecsd_runtime::notify::{Pause, Subject};

    use super::*;

    #[test]
    fn a_pause_shows_the_line_to_commit_and_escapes_mrkdwn() {
        let n = Notification {
            event: Event::DeploymentPaused,
            at: "2026-12-04T00:00:00Z".into(),
            revision: "abc".into(),
            subject: Some(Subject {
                kind: "Service".into(),
                name: "web".into(),
                application: "web".into(),
            }),
            summary: "paused <now> & waiting".into(),
            error_code: None,
            by: None,
            pause: Some(Pause {
                deployment: "d1".into(),
                stage: None,
                approve: "approve: d1".into(),
                rollback: "rollback: d1".into(),
                expires_at: None,
                timeout_action: None,
            }),
            analysis: None,
        };
        let ctx = Context {
            owner: "prod".into(),
            public_url: None,
        };
        let b = body(&ctx, &n);
        let blocks = b["blocks"].as_array().expect("blocks");
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            blocks[1]["text"]["text"],
            "paused &lt;now&gt; &amp; waiting"
        );
        assert!(
            blocks[2]["text"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("```approve: d1```"))
        );
        assert!(blocks.iter().all(|b| b["type"] != "actions"));
    }

    #[test]
    fn an_analysis_lists_each_metric_with_its_value_bound_and_data_points() {
        let n = Notification {
            event: Event::DeploymentAnalysed,
            at: "2026-12-04T00:00:00Z".into(),
            revision: "abc".into(),
            subject: None,
            summary: "canary analysis: fail".into(),
            error_code: None,
            by: None,
            pause: None,
            analysis: Some(json!({"metrics": [
                {"name": "errors", "value": 0.2, "bound": "max 0.01", "outcome": "fail", "dataPoints": 5, "needed": 3},
                {"name": "p99", "value": null, "bound": "maxRatio 1.5 of the baseline", "outcome": "noData", "dataPoints": 1, "needed": 3},
            ]})),
        };
        let ctx = Context {
            owner: "prod".into(),
            public_url: None,
        };
        let b = body(&ctx, &n);
        assert_eq!(b["blocks"][0]["text"]["text"], "Canary analysis");
        let table = b["blocks"][2]["text"]["text"].as_str().unwrap_or_default();
        assert!(
            table.contains("errors  0.2  max 0.01  fail  (5 data points, 3 needed)"),
            "{table}"
        );
        assert!(table.contains("p99  no data"), "{table}");
    }
}
