//! Executing a plan: each change's operations in order; independent objects at the same
//! time (up to [`ApplyOptions::concurrency`]), each after what it depends on (a target
//! group before the service that uses it, a service before its scaling; deletions after
//! everything else, one kind after another in the plan's order). An object whose
//! operation fails stops there and is reported with the typed error (the AWS error
//! keeps its code, so backoff and metrics can read it); objects that depend on it are
//! skipped; every other object carries on.
//!
//! # Layout
//! - this file: [`apply`], the plan's changes through the scheduler
//!   ([`crate::pass::schedule`]);
//! - `outcome.rs`: what an apply reports ([`ApplyReport`], [`ObjectOutcome`], [`ApplyError`]);
//! - `executor.rs`: one change's operations in order, references resolved;
//! - `ecs.rs`, `elbv2.rs`, `scaling.rs`, `codedeploy.rs`: the operations of each AWS service.

mod codedeploy;
mod ecs;
mod elbv2;
mod executor;
mod outcome;
mod scaling;

use std::sync::{Mutex, PoisonError};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::time::Instant;

use ecsd_aws::{CloudWatchApi, CodeDeployApi, EcsApi, Elbv2Api, ScalingApi};
use ecsd_plan::Plan;

use executor::{Executor, Shared};
pub use outcome::{
    ApplyError, ApplyOptions, ApplyReport, DrainWait, ObjectOutcome, RolledOut, StartedDeployment,
};

use crate::pass::clients::Clients;
use crate::pass::schedule::Order;

/// Executes `plan` against AWS. `observed` is the state the plan was made from.
pub async fn apply<E: EcsApi, L: Elbv2Api, S: ScalingApi, D: CodeDeployApi, W: CloudWatchApi>(
    plan: &Plan,
    observed: &ecsd_plan::Observed,
    clients: &Clients<E, L, S, D, W>,
    opts: ApplyOptions,
) -> ApplyReport {
    let shared = Shared {
        target_groups: Mutex::new(
            observed
                .target_groups
                .values()
                .map(|t| (t.name.clone(), t.arn.clone()))
                .collect(),
        ),
        services: Mutex::new(
            observed
                .services
                .iter()
                .map(|(id, s)| (id.clone(), s.arn.clone()))
                .collect(),
        ),
        rolled_out: Mutex::default(),
        code_deployments: Mutex::default(),
        rules: Mutex::default(),
    };
    let changes = &plan.changes;
    let order = Order::of(changes);
    let mut queue = order.queue(opts.concurrency, Instant::now());
    let mut outcomes: Vec<Option<ObjectOutcome>> = vec![None; changes.len()];
    let mut running = FuturesUnordered::new();
    loop {
        let mut skipped = false;
        for slot in queue.take_ready(Instant::now()) {
            let i = slot.index;
            if let Some(dep) =
                order.failed_dependency(i, |j| matches!(outcomes[j], Some(ObjectOutcome::Done(_))))
            {
                let change = &changes[i];
                tracing::warn!(kind = %change.key.kind, name = %change.key.name, depends_on = %dep, "skipped: a dependency failed");
                outcomes[i] = Some(ObjectOutcome::Skipped { because: dep });
                queue.done(&slot);
                skipped = true;
                continue;
            }
            let exec = Executor {
                clients,
                opts,
                shared: &shared,
                registered: None,
            };
            running.push(async move { (slot, exec.change(&changes[slot.index]).await) });
        }
        if running.is_empty() {
            // Everything ran, or nothing can start (never so for the planner's orders).
            if !skipped {
                break;
            }
            continue;
        }
        if let Some((slot, outcome)) = running.next().await {
            outcomes[slot.index] = Some(outcome);
            queue.done(&slot);
        }
    }
    drop(running);
    let mut rolled_out = take(shared.rolled_out);
    rolled_out.sort_by(|a, b| a.service.cmp(&b.service));
    let mut code_deployments = take(shared.code_deployments);
    code_deployments.sort_by(|a, b| a.service.cmp(&b.service));
    ApplyReport {
        outcomes: changes
            .iter()
            .zip(outcomes)
            .map(|(c, o)| {
                let outcome = o.unwrap_or_else(|| ObjectOutcome::Waiting {
                    reason: "not started".to_owned(),
                });
                (c.key.clone(), outcome)
            })
            .collect(),
        rolled_out,
        code_deployments,
    }
}

fn take<T>(m: Mutex<Vec<T>>) -> Vec<T> {
    m.into_inner().unwrap_or_else(PoisonError::into_inner)
}
