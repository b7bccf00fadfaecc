//! A ScalingPolicy's scheduled actions, named `ecsd-<ScalingPolicy>-<action>` (or
//! another tool's, adopted under its own name).

use serde_json::{Map, Value, json};

use ecsd_model::scaling_policy::{ScalingPolicySpec, ScheduledAction};

use super::owned::Owned;
use crate::defaults;
use crate::ops::{Op, ScheduledActionInput};
use crate::ownership::scheduled_action_name;
use crate::plan::Draft;
use crate::state::ScheduledActionState;

/// Another tool's scheduled actions the manifest lists by name, taken over with
/// `--adopt`: each with whether it keeps its name.
pub(super) fn adopt<'a>(
    spec: &ScalingPolicySpec,
    all: impl Iterator<Item = &'a ScheduledActionState>,
    owned: &mut Owned,
    draft: &mut Draft,
) -> Vec<(&'a ScheduledActionState, bool)> {
    let mut adopted = Vec::new();
    for a in all.filter(|a| Owned::foreign(&a.name)) {
        if spec.scheduled.iter().any(|s| s.name == a.name) {
            let delete = Op::DeleteScheduledAction {
                resource_id: owned.rid.clone(),
                name: a.name.clone(),
            };
            let kept = owned.adopt_one("scheduled action", &a.name, delete, draft);
            adopted.push((a, kept));
        }
    }
    adopted
}

/// The scheduled actions the manifest wants and those observed (in the manifest's
/// order, then the owned ones it no longer has), with the operations in `draft`.
pub(super) fn plan(
    spec: &ScalingPolicySpec,
    actions: &[&ScheduledActionState],
    adopted: &[(&ScheduledActionState, bool)],
    owned: &mut Owned,
    draft: &mut Draft,
) -> (Vec<Value>, Vec<Value>) {
    let rid = owned.rid.clone();
    let mut observed_sched = Vec::new();
    let mut matched: Vec<&str> = Vec::new();
    let desired_sched: Vec<Value> = spec.scheduled.iter().map(action_value_of).collect();
    for (s, want) in spec.scheduled.iter().zip(&desired_sched) {
        let aname = scheduled_action_name(&owned.name, &s.name);
        let existing = actions
            .iter()
            .find(|a| a.name == aname || (owned.recorded.contains(&a.name) && a.name == s.name))
            .copied();
        let adopted = existing
            .is_none()
            .then(|| adopted.iter().find(|(a, _)| a.name == s.name))
            .flatten();
        let (current, put_as) = match (existing, adopted) {
            (Some(a), _) => (Some(a), a.name.clone()),
            (None, Some((a, true))) => (Some(*a), a.name.clone()),
            (None, Some((a, false))) => (Some(*a), aname),
            (None, None) => (None, aname),
        };
        matched.extend(current.map(|a| a.name.as_str()));
        let have = current.map(|a| action_value(a, &s.name));
        let renamed = matches!(adopted, Some((_, false)));
        if renamed
            || have
                .as_ref()
                .is_none_or(|h| !crate::diff::diff(want, h).is_empty())
        {
            // PutScheduledAction leaves a capacity the request omits as it was, so one
            // the manifest no longer sets can only go with the action itself.
            if !renamed
                && current.is_some_and(|a| {
                    (a.min_capacity.is_some() && s.min_capacity.is_none())
                        || (a.max_capacity.is_some() && s.max_capacity.is_none())
                })
            {
                draft.notes.push(format!(
                    "puts scheduled action {} again: AWS keeps a capacity an update leaves out",
                    s.name
                ));
                draft.ops.push(Op::DeleteScheduledAction {
                    resource_id: rid.clone(),
                    name: put_as.clone(),
                });
            }
            draft
                .ops
                .push(Op::PutScheduledAction(Box::new(ScheduledActionInput {
                    resource_id: rid.clone(),
                    name: put_as,
                    schedule: s.schedule.clone(),
                    timezone: s
                        .timezone
                        .clone()
                        .unwrap_or_else(|| defaults::SCHEDULE_TIMEZONE.to_owned()),
                    min_capacity: s.min_capacity,
                    max_capacity: s.max_capacity,
                })));
        }
        observed_sched.push(have.unwrap_or_else(|| json!({})));
    }
    for a in actions {
        if !matched.contains(&a.name.as_str()) {
            let short = a.name.strip_prefix(&owned.prefix).unwrap_or(&a.name);
            observed_sched.push(action_value(a, short));
            owned.record.remove(&a.name);
            draft.ops.push(Op::DeleteScheduledAction {
                resource_id: rid.clone(),
                name: a.name.clone(),
            });
        }
    }
    (desired_sched, observed_sched)
}

fn scheduled_value(
    name: &str,
    schedule: &str,
    timezone: Option<&str>,
    min: Option<u32>,
    max: Option<u32>,
) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(name));
    v.insert("schedule".into(), json!(schedule));
    v.insert(
        "timezone".into(),
        json!(timezone.unwrap_or(defaults::SCHEDULE_TIMEZONE)),
    );
    if let Some(c) = min {
        v.insert("minCapacity".into(), json!(c));
    }
    if let Some(c) = max {
        v.insert("maxCapacity".into(), json!(c));
    }
    Value::Object(v)
}

fn action_value_of(s: &ScheduledAction) -> Value {
    scheduled_value(
        &s.name,
        &s.schedule,
        s.timezone.as_deref(),
        s.min_capacity,
        s.max_capacity,
    )
}

fn action_value(a: &ScheduledActionState, short_name: &str) -> Value {
    scheduled_value(
        short_name,
        &a.schedule,
        a.timezone.as_deref(),
        a.min_capacity,
        a.max_capacity,
    )
}
