//! What ecsd tells people (`run --notify`): the [`Notification`]s a change of state
//! makes, and the [`Notifier`] they are handed to. Delivery (Slack, webhooks, GitHub
//! commit statuses, retries) lives in the `ecsd-notify` crate; this room only decides
//! what is said and when, so it is pure and tested on plain data.
//!
//! # Layout
//! - this file: the vocabulary ([`Notification`], [`Event`], [`CommitState`]), the
//!   [`Notifier`] trait, the delivery counters `/status` and `/metrics` show
//!   ([`TargetStats`]), and [`Scrubber`] (no environment value leaves in a body);
//! - [`changes`]: an object's status before and after → what to say, once per change;
//! - [`revision`]: a revision's overall state (applying, applied, failed), for
//!   `revision.applied` and commit statuses.

pub mod changes;
pub mod revision;

use std::collections::BTreeMap;

use ecsd_model::{Manifest, ObjectKey, Spec};
use serde::Serialize;

pub use changes::{ObjectContext, object_changes};
pub use revision::RevisionWatch;

/// What happened. The names are the `event` field of the webhook body
/// (`docs/schema/notification-v1.json`); the set is fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Event {
    /// Every object of a revision is Synced and Healthy.
    #[serde(rename = "revision.applied")]
    RevisionApplied,
    /// An object of a revision failed to apply (with AWS's error code).
    #[serde(rename = "revision.failed")]
    RevisionFailed,
    /// Another client changed an object and ecsd only reports it (`--drift report`).
    #[serde(rename = "drift.found")]
    DriftFound,
    /// Another client changed an object and ecsd put it back.
    #[serde(rename = "drift.corrected")]
    DriftCorrected,
    /// An ECS deployment waits at a PAUSE hook for `approve:` or `rollback:`.
    #[serde(rename = "deployment.paused")]
    DeploymentPaused,
    /// ecsd continued a paused deployment on an `approve:` commit.
    #[serde(rename = "deployment.approved")]
    DeploymentApproved,
    /// A canary analysis judged a paused deployment (pass, fail or no data, and what
    /// ecsd does about it).
    #[serde(rename = "deployment.analysed")]
    DeploymentAnalysed,
    /// ECS (or CodeDeploy) rolled a deployment back.
    #[serde(rename = "deployment.rolledBack")]
    DeploymentRolledBack,
    /// An object's health turned Degraded (for a reason other than a rollback).
    #[serde(rename = "object.degraded")]
    ObjectDegraded,
    /// This replica became the leader (with `--lease-table`).
    #[serde(rename = "controller.leading")]
    ControllerLeading,
    /// The event queue of `--events` cannot be read: ecsd falls back to `--resync`.
    #[serde(rename = "controller.feedLost")]
    ControllerFeedLost,
}

impl Event {
    /// The name in the webhook body and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::RevisionApplied => "revision.applied",
            Event::RevisionFailed => "revision.failed",
            Event::DriftFound => "drift.found",
            Event::DriftCorrected => "drift.corrected",
            Event::DeploymentPaused => "deployment.paused",
            Event::DeploymentApproved => "deployment.approved",
            Event::DeploymentAnalysed => "deployment.analysed",
            Event::DeploymentRolledBack => "deployment.rolledBack",
            Event::ObjectDegraded => "object.degraded",
            Event::ControllerLeading => "controller.leading",
            Event::ControllerFeedLost => "controller.feedLost",
        }
    }
}

/// The object a notification is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub kind: String,
    pub name: String,
    /// The Service it belongs to (its own name for a Service).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub application: String,
}

impl Subject {
    pub fn of(key: &ObjectKey, application: &str) -> Self {
        Subject {
            kind: key.kind.as_str().to_owned(),
            name: key.name.clone(),
            application: application.to_owned(),
        }
    }
}

/// A paused deployment and the lines that act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pause {
    pub deployment: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// The exact lines to commit under `spec.deployment`.
    pub approve: String,
    pub rollback: String,
    /// When ECS takes its timeout action, and which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_action: Option<String>,
}

/// One thing to tell people: what happened, to what, in which revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub event: Event,
    /// RFC 3339, UTC.
    pub at: String,
    pub revision: String,
    pub subject: Option<Subject>,
    /// One sentence for people.
    pub summary: String,
    /// AWS's error code, for `revision.failed`.
    pub error_code: Option<String>,
    /// Who made the drift, when an event from AWS said (CloudTrail's user ARN).
    pub by: Option<String>,
    /// A paused deployment, for `deployment.paused` and `deployment.approved`.
    pub pause: Option<Pause>,
    /// A canary analysis's verdict and numbers, for `deployment.analysed` (the
    /// `analysis` object of `/status`).
    pub analysis: Option<serde_json::Value>,
}

/// A revision's state as a commit status: `pending` while it applies, `success` when
/// every object is Synced and Healthy, `failure` with the first error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitState {
    pub revision: String,
    pub state: CommitStatus,
    /// Why, in GitHub's 140 characters or fewer.
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitStatus {
    Pending,
    Success,
    Failure,
}

impl CommitStatus {
    /// GitHub's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CommitStatus::Pending => "pending",
            CommitStatus::Success => "success",
            CommitStatus::Failure => "failure",
        }
    }
}

/// Where notifications go. `send` and `commit` must return at once (queue, never
/// block): reconciling never waits for a receiver.
pub trait Notifier: Send + Sync + std::fmt::Debug {
    fn send(&self, n: &Notification);
    fn commit(&self, c: &CommitState);
}

/// One delivery target's counters, for `/status` and `ecsd_notifications_total`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetStats {
    /// `slack`, `webhook` or `github`.
    pub kind: &'static str,
    /// Messages by outcome: `sent`, `retried` (an attempt that will be repeated),
    /// `rejected` (the receiver refused it for good: a 4xx other than 429), `dropped`
    /// (the queue was full, or it could not be delivered within the retry window).
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Waiting to be sent.
    pub queued: usize,
    /// The last failed attempt, for people (no URL, no token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Removes the values of the manifests' environment variables from text that leaves
/// ecsd (an AWS error message can quote what it was sent). Values shorter than
/// [`Scrubber::MIN_LEN`] are left: they would mangle ordinary words and cannot hide a
/// credential. Secrets are never in a manifest (only their ARNs, which are not sent).
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    values: Vec<String>,
}

impl Scrubber {
    pub const MIN_LEN: usize = 6;

    /// The values to remove: environment values and secret ARNs of every container.
    pub fn of<'a>(manifests: impl IntoIterator<Item = &'a Manifest>) -> Self {
        let mut values: Vec<String> = Vec::new();
        for m in manifests {
            let Spec::Service(svc) = &m.spec else {
                continue;
            };
            for c in &svc.task_definition.containers {
                values.extend(c.environment.values().cloned());
                values.extend(c.secrets.values().cloned());
            }
        }
        values.retain(|v| v.len() >= Self::MIN_LEN);
        // Longest first, so a value that contains another is removed whole.
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Scrubber { values }
    }

    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "[redacted]");
            }
        }
        out
    }

    /// The notification with every text field scrubbed.
    pub fn notification(&self, mut n: Notification) -> Notification {
        n.summary = self.text(&n.summary);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubbing_removes_environment_values_and_leaves_short_ones() {
        let s = Scrubber {
            values: vec!["hunter2-secret".into(), "s3cr3t".into()],
        };
        assert_eq!(
            s.text("bad value hunter2-secret for s3cr3t, ok"),
            "bad value [redacted] for [redacted], ok"
        );
    }
}
