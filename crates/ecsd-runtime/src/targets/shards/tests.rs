//! The shards over the fake lease table, on tokio's paused clock: the fair share, a
//! replica started later, a killed replica, and never two open fences for one target.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ecsd_aws::Fence;
use ecsd_aws::lease::FakeLeaseTable;
use tokio::time::Instant;

use super::*;
use crate::status::Status;

const DURATION: Duration = Duration::from_secs(15);
const RENEW: Duration = Duration::from_secs(5);
const TARGETS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];

#[test]
fn the_share_is_the_ceiling_of_targets_over_live_replicas_and_bounds_taking() {
    let (share, any) = Share::new(6);
    share.set_live(3);
    assert_eq!(share.cap(), 2);
    assert!(share.try_take("a") && share.try_take("b"));
    assert!(*any.borrow(), "it leads some");
    assert!(!share.try_take("c"), "beyond its share");
    assert!(share.try_take("a"), "one it holds already");
    assert!(!share.shed("a"), "not over its share");
    // A replica died: the share grows, and the third is taken.
    share.set_live(2);
    assert_eq!(share.cap(), 3);
    assert!(share.try_take("c"));
    // Two more replicas came: it holds 3 of a share of 2, and hands one back.
    share.set_live(4);
    assert!(share.shed("c"));
    assert!(!share.shed("b"));
    assert_eq!(share.led(), ["a", "b"]);
    share.give_back("a");
    share.give_back("b");
    assert!(!*any.borrow());
    // Five targets over three replicas: 2 + 2 + 1.
    let (five, _) = Share::new(5);
    five.set_live(3);
    assert_eq!(five.cap(), 2);
    let (none, _) = Share::new(0);
    assert_eq!(none.cap(), 0);
}

#[test]
fn lease_keys_keep_the_owner_s_own_lease_without_targets() {
    assert_eq!(lease_key("ecsd", None), "ecsd");
    assert_eq!(lease_key("ecsd", Some("prod")), "ecsd#target#prod");
    assert_eq!(heartbeat_key("ecsd", "r1"), "ecsd#replica#r1");
}

/// One replica: its shards, each target's fence and whether it leads it.
struct Replica {
    shards: Shards<ecsd_aws::lease::FakeLease>,
    fences: Vec<Fence>,
    leading: Vec<Leading>,
}

impl Replica {
    fn start(table: &FakeLeaseTable, name: &str) -> Replica {
        let opts = LeaseOptions {
            table: "ecsd-leases".to_owned(),
            owner: "ecsd".to_owned(),
            replica: name.to_owned(),
            duration: DURATION,
            renew: RENEW,
        };
        let main: SharedStatus = Arc::new(Mutex::new(Status::default()));
        let (mut shards, _) = Shards::new(table.client(), opts, Fence::default(), main);
        let mut fences = Vec::new();
        let mut leading = Vec::new();
        for t in TARGETS {
            let fence = Fence::default();
            let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
            leading.push(shards.join(Some(t), status, Some(fence.clone())));
            fences.push(fence);
        }
        Replica {
            shards,
            fences,
            leading,
        }
    }

    fn leads(&self) -> usize {
        self.leading.iter().filter(|l| *l.borrow()).count()
    }

    /// kill -9: every task stops where it is, nothing is released.
    fn kill(self) {
        for slot in self.shards.slots.values() {
            slot.task.abort();
        }
        if let Some((_, task)) = &self.shards.members {
            task.abort();
        }
    }
}

/// Advances time in steps until `done`, asserting at every step that no target has two
/// open fences; returns the time it took.
async fn until(replicas: &[&Replica], limit: Duration, done: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "not done within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = Instant::now();
        for (i, t) in TARGETS.iter().enumerate() {
            let open = replicas.iter().filter(|r| r.fences[i].allows(now)).count();
            assert!(open <= 1, "two replicas may change target {t} at once");
        }
    }
    started.elapsed()
}

#[tokio::test(start_paused = true)]
async fn three_replicas_lead_two_targets_each_and_a_killed_one_s_targets_move() {
    let table = FakeLeaseTable::default();
    let a = Replica::start(&table, "a");
    // Alone, it leads everything.
    until(&[&a], Duration::from_secs(30), || a.leads() == 6).await;
    let b = Replica::start(&table, "b");
    let c = Replica::start(&table, "c");
    let balanced = || a.leads() == 2 && b.leads() == 2 && c.leads() == 2;
    until(&[&a, &b, &c], Duration::from_secs(60), balanced).await;
    // It stays so.
    let _ = tokio::time::timeout(
        Duration::from_secs(60),
        until(&[&a, &b, &c], Duration::from_secs(61), || !balanced()),
    )
    .await;
    assert!(balanced(), "{} {} {}", a.leads(), b.leads(), c.leads());
    let before: Vec<String> = (0..6)
        .filter_map(|i| table.lease(&lease_key("ecsd", Some(TARGETS[i]))))
        .filter_map(|l| l.holder)
        .collect();
    assert_eq!(before.len(), 6);
    c.kill();
    // Its two targets are led again within the lease bounds: unrenewed for a whole
    // duration as the others see it, after their last read (a poll), plus the time
    // their heartbeat judgment takes to grow the share (as long again).
    let took = until(&[&a, &b], Duration::from_secs(120), || {
        a.leads() + b.leads() == 6
    })
    .await;
    assert!(
        took <= DURATION * 2 + RENEW * 2,
        "the killed replica's targets were led again after {took:?}"
    );
    assert_eq!((a.leads(), b.leads()), (3, 3));
    let after: Vec<String> = (0..6)
        .filter_map(|i| table.lease(&lease_key("ecsd", Some(TARGETS[i]))))
        .filter_map(|l| l.holder)
        .collect();
    assert!(!after.contains(&"c".to_owned()), "{after:?}");
    // SIGTERM of one: the other leads all six at its next polls.
    a.shards.shutdown().await;
    let leads = || b.leads() == 6;
    until(&[&b], Duration::from_secs(10), leads).await;
}
