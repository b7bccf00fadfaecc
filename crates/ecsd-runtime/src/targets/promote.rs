//! Promotion order, pure: whether a revision may reach a target that waits for others
//! (`spec.after`), judged from what those targets' controllers report.
//!
//! A revision reaches a target once every object of each target it waits for is
//! Synced and Healthy on that revision, as a full pass of that target found it. A
//! failure there (an object in error, a Degraded one: a failed or rolled-back
//! deployment) holds the promotion; anything else still under way makes it wait.

use serde::Serialize;

use crate::status::{Health, Status, SyncStatus};

/// Where a promotion stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Gate {
    /// Every target waited for is Synced and Healthy on the revision.
    Open,
    /// Still under way somewhere; the reason names where.
    Waiting(String),
    /// Failed somewhere: the promotion stops until that target recovers or the source
    /// moves on. The reason names the target, the object and why.
    Held(String),
}

/// The gate for `revision`, given each waited-for target's name and status.
pub fn gate<'a>(revision: &str, after: impl IntoIterator<Item = (&'a str, &'a Status)>) -> Gate {
    let mut waiting = Vec::new();
    for (name, s) in after {
        if s.revision != revision {
            waiting.push(format!("{name}: revision {revision} not read yet"));
            continue;
        }
        let failed = s
            .objects
            .iter()
            .find(|(_, o)| o.sync == SyncStatus::Error || o.health == Health::Degraded);
        if let Some((key, o)) = failed {
            let what = if o.sync == SyncStatus::Error {
                "failed"
            } else {
                "is Degraded"
            };
            return Gate::Held(format!(
                "held at {name}: {key} {what} on revision {revision}: {}",
                o.message
            ));
        }
        if s.settled.as_deref() != Some(revision) {
            let busy = s
                .objects
                .iter()
                .find(|(_, o)| o.sync != SyncStatus::Synced || o.health != Health::Healthy);
            waiting.push(match busy {
                Some((key, o)) => format!("{name}: {key} is {} and {}", o.sync, o.health),
                None => format!("{name}: a full pass on revision {revision} has not finished"),
            });
        }
    }
    if waiting.is_empty() {
        Gate::Open
    } else {
        Gate::Waiting(format!("waiting for {}", waiting.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use ecsd_model::{Kind, ObjectKey};

    use super::*;
    use crate::status::ObjectStatus;

    fn status(revision: &str, settled: Option<&str>, objects: &[(SyncStatus, Health)]) -> Status {
        let mut s = Status {
            revision: revision.into(),
            settled: settled.map(str::to_owned),
            ..Status::default()
        };
        for (i, (sync, health)) in objects.iter().enumerate() {
            s.objects.insert(
                ObjectKey {
                    kind: Kind::Service,
                    name: format!("web{i}"),
                },
                ObjectStatus {
                    sync: *sync,
                    health: *health,
                    message: "deployment rolled back: tasks failed to start".into(),
                    ..ObjectStatus::default()
                },
            );
        }
        s
    }

    #[test]
    fn a_revision_passes_once_every_target_waited_for_settled_on_it() {
        let staging = status("r2", Some("r2"), &[(SyncStatus::Synced, Health::Healthy)]);
        assert_eq!(gate("r2", [("staging", &staging)]), Gate::Open);
        let dev = status("r2", Some("r1"), &[(SyncStatus::Synced, Health::Healthy)]);
        assert_eq!(
            gate("r2", [("staging", &staging), ("dev", &dev)]),
            Gate::Waiting("waiting for dev: a full pass on revision r2 has not finished".into())
        );
    }

    #[test]
    fn an_older_revision_or_a_deployment_under_way_waits() {
        let old = status("r1", Some("r1"), &[(SyncStatus::Synced, Health::Healthy)]);
        assert_eq!(
            gate("r2", [("staging", &old)]),
            Gate::Waiting("waiting for staging: revision r2 not read yet".into())
        );
        let rolling = status("r2", None, &[(SyncStatus::Synced, Health::Progressing)]);
        assert_eq!(
            gate("r2", [("staging", &rolling)]),
            Gate::Waiting("waiting for staging: Service/web0 is Synced and Progressing".into())
        );
    }

    #[test]
    fn a_failure_holds_the_promotion_and_says_where_and_why() {
        let failed = status(
            "r2",
            None,
            &[
                (SyncStatus::Synced, Health::Healthy),
                (SyncStatus::Synced, Health::Degraded),
            ],
        );
        assert_eq!(
            gate("r2", [("staging", &failed)]),
            Gate::Held("held at staging: Service/web1 is Degraded on revision r2: deployment rolled back: tasks failed to start".into())
        );
        // A failure on an older revision is not this revision's: it waits.
        let old = status("r1", None, &[(SyncStatus::Error, Health::Unknown)]);
        assert!(matches!(gate("r2", [("staging", &old)]), Gate::Waiting(_)));
    }
}
