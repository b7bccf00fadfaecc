//! The one scheduler of ecsd: `ecsd apply` runs a plan's changes through it and `ecsd
//! run`'s controller its per-object jobs, so `--concurrency` means the same in both: at
//! most that many objects worked on at once, independent ones at the same time.
//!
//! - [`WorkQueue`], keyed by anything ordered:
//!   - dedup: a key is queued at most once; scheduling it again keeps the earlier due time;
//!   - one key is never worked on twice at once: a key scheduled while in flight waits
//!     until it is done;
//!   - bounded concurrency: at most `concurrency` keys in flight;
//!   - dependencies first: a key waits while one of its dependencies is queued or in
//!     flight (a Service waits for its TargetGroup).
//! - [`Order`]: what the changes of one plan wait for, as a queue of [`Slot`]s: the objects
//!   each depends on (their failure skips it) and the changes that must come first
//!   (deletions after everything else, one kind after another).
//!
//! Time is passed in, so the queue is plain data and tests need no clock.

use std::collections::{BTreeMap, BTreeSet};

use ecsd_model::ObjectKey;
use ecsd_plan::{Action, Change};

use tokio::time::Instant;

/// Keys with due times, and the keys being worked on.
#[derive(Debug, Clone)]
pub struct WorkQueue<K: Ord + Clone> {
    pending: BTreeMap<K, Instant>,
    in_flight: BTreeSet<K>,
    dependencies: BTreeMap<K, Vec<K>>,
    concurrency: usize,
}

impl<K: Ord + Clone> WorkQueue<K> {
    /// An empty queue running at most `concurrency` keys at once (at least 1).
    pub fn new(concurrency: usize) -> Self {
        WorkQueue {
            pending: BTreeMap::new(),
            in_flight: BTreeSet::new(),
            dependencies: BTreeMap::new(),
            concurrency: concurrency.max(1),
        }
    }

    /// Queues `key` for `due`; if it is already queued, the earlier time wins.
    pub fn schedule(&mut self, key: K, due: Instant) {
        self.pending
            .entry(key)
            .and_modify(|d| *d = (*d).min(due))
            .or_insert(due);
    }

    /// Records what `key` depends on.
    pub fn set_dependencies(&mut self, key: K, dependencies: Vec<K>) {
        self.dependencies.insert(key, dependencies);
    }

    /// Removes `key` from the queue (not from work in flight).
    pub fn cancel(&mut self, key: &K) {
        self.pending.remove(key);
    }

    /// Takes the keys that may start at `now`, earliest due first, and marks them in flight.
    pub fn take_ready(&mut self, now: Instant) -> Vec<K> {
        let mut due: Vec<(Instant, K)> = self
            .pending
            .iter()
            .filter(|(k, d)| **d <= now && !self.in_flight.contains(*k))
            .map(|(k, d)| (*d, k.clone()))
            .collect();
        due.sort();
        let mut taken = Vec::new();
        for (_, key) in due {
            if self.in_flight.len() >= self.concurrency {
                break;
            }
            if self.blocked(&key) {
                continue;
            }
            self.pending.remove(&key);
            self.in_flight.insert(key.clone());
            taken.push(key);
        }
        taken
    }

    /// Marks `key` finished.
    pub fn done(&mut self, key: &K) {
        self.in_flight.remove(key);
    }

    /// When the next queued key that could start falls due, if any. Keys blocked by a
    /// dependency, or waiting for a free worker, do not count: finishing work is what
    /// unblocks them, so a caller that sleeps until this time never spins.
    pub fn next_due(&self) -> Option<Instant> {
        if self.in_flight.len() >= self.concurrency {
            return None;
        }
        self.pending
            .iter()
            .filter(|(k, _)| !self.in_flight.contains(*k) && !self.blocked(k))
            .map(|(_, d)| *d)
            .min()
    }

    fn blocked(&self, key: &K) -> bool {
        self.dependencies.get(key).is_some_and(|deps| {
            deps.iter()
                .any(|d| self.in_flight.contains(d) || self.pending.contains_key(d))
        })
    }

    /// Keys queued (not in flight).
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Keys in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// When `key` is due, if it is queued.
    pub fn due(&self, key: &K) -> Option<Instant> {
        self.pending.get(key).copied()
    }
}

/// One change of a plan in the queue. Changes with dependencies sort before roots, so a
/// fleet's stacks finish one by one and each AWS action's calls spread over the whole
/// apply instead of every target group first (which waits on one action's rate at a
/// time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Slot {
    root: bool,
    /// The change's index in the plan.
    pub index: usize,
}

/// What each change of a plan waits for.
#[derive(Debug)]
pub struct Order {
    keys: Vec<ObjectKey>,
    depends: Vec<Vec<usize>>,
    after: Vec<Vec<usize>>,
}

impl Order {
    /// The order of `changes`.
    pub fn of(changes: &[Change]) -> Order {
        let index: BTreeMap<&ObjectKey, usize> = changes
            .iter()
            .enumerate()
            .map(|(i, c)| (&c.key, i))
            .collect();
        let depends = changes
            .iter()
            .map(|c| {
                c.depends_on
                    .iter()
                    .filter_map(|d| index.get(d).copied())
                    .collect()
            })
            .collect();
        let after = changes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let delete = c.action == Action::Delete;
                (0..i)
                    .filter(|&j| {
                        let earlier = &changes[j];
                        let earlier_delete = earlier.action == Action::Delete;
                        // A deletion waits for every other change but the deletions of
                        // its own kind; anything after a deletion waits for it.
                        (delete && !(earlier_delete && earlier.key.kind == c.key.kind))
                            || (earlier_delete && !delete)
                    })
                    .collect()
            })
            .collect();
        Order {
            keys: changes.iter().map(|c| c.key.clone()).collect(),
            depends,
            after,
        }
    }

    fn slot(&self, index: usize) -> Slot {
        Slot {
            root: self.depends[index].is_empty(),
            index,
        }
    }

    /// Every change queued at `now`, each behind what it waits for.
    pub fn queue(&self, concurrency: usize, now: Instant) -> WorkQueue<Slot> {
        let mut queue = WorkQueue::new(concurrency);
        for i in 0..self.keys.len() {
            let slot = self.slot(i);
            queue.schedule(slot, now);
            let waits = self.depends[i].iter().chain(&self.after[i]);
            queue.set_dependencies(slot, waits.map(|&j| self.slot(j)).collect());
        }
        queue
    }

    /// For a change whose turn has come: the first object it depends on that did not
    /// finish its change (`succeeded` answers for each finished change), if any.
    pub fn failed_dependency(
        &self,
        i: usize,
        succeeded: impl Fn(usize) -> bool,
    ) -> Option<ObjectKey> {
        self.depends[i]
            .iter()
            .find(|&&j| !succeeded(j))
            .map(|&j| self.keys[j].clone())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ecsd_model::Kind;

    use super::*;

    fn t(now: Instant, secs: u64) -> Instant {
        now + Duration::from_secs(secs)
    }

    #[tokio::test(start_paused = true)]
    async fn scheduling_twice_keeps_the_earlier_due_time() {
        let now = Instant::now();
        let mut q = WorkQueue::new(4);
        q.schedule("a", t(now, 10));
        q.schedule("a", t(now, 5));
        q.schedule("a", t(now, 20));
        assert_eq!(q.pending(), 1);
        assert_eq!(q.due(&"a"), Some(t(now, 5)));
        assert!(q.take_ready(t(now, 4)).is_empty());
        assert_eq!(q.take_ready(t(now, 5)), vec!["a"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_in_flight_is_not_taken_again_until_done() {
        let now = Instant::now();
        let mut q = WorkQueue::new(4);
        q.schedule("a", now);
        assert_eq!(q.take_ready(now), vec!["a"]);
        q.schedule("a", now);
        assert!(q.take_ready(now).is_empty(), "never twice at once");
        q.done(&"a");
        assert_eq!(q.take_ready(now), vec!["a"]);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_bounded_and_earliest_due_goes_first() {
        let now = Instant::now();
        let mut q = WorkQueue::new(2);
        q.schedule("c", t(now, 3));
        q.schedule("a", t(now, 1));
        q.schedule("b", t(now, 2));
        assert_eq!(q.take_ready(t(now, 3)), vec!["a", "b"]);
        assert!(q.take_ready(t(now, 3)).is_empty());
        q.done(&"a");
        assert_eq!(q.take_ready(t(now, 3)), vec!["c"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_waits_for_its_dependencies() {
        let now = Instant::now();
        let mut q = WorkQueue::new(4);
        q.set_dependencies("service", vec!["target-group"]);
        q.schedule("service", now);
        q.schedule("target-group", now);
        assert_eq!(q.take_ready(now), vec!["target-group"]);
        assert!(
            q.take_ready(now).is_empty(),
            "the service waits while its target group runs"
        );
        assert_eq!(q.next_due(), None, "a blocked key does not wake anyone");
        q.done(&"target-group");
        assert_eq!(q.next_due(), Some(now));
        assert_eq!(q.take_ready(now), vec!["service"]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_queue_does_not_report_due_keys() {
        let now = Instant::now();
        let mut q = WorkQueue::new(1);
        q.schedule("a", now);
        q.schedule("b", now);
        assert_eq!(q.take_ready(now), vec!["a"]);
        assert_eq!(q.next_due(), None, "no free worker: wait for one to finish");
        q.done(&"a");
        assert_eq!(q.next_due(), Some(now));
    }

    #[tokio::test(start_paused = true)]
    async fn a_backed_off_key_does_not_hold_up_unrelated_keys() {
        let now = Instant::now();
        let mut q = WorkQueue::new(1);
        q.schedule("failing", t(now, 300));
        q.schedule("healthy", now);
        assert_eq!(q.take_ready(now), vec!["healthy"]);
        q.done(&"healthy");
        assert_eq!(q.next_due(), Some(t(now, 300)));
        tokio::time::advance(Duration::from_secs(300)).await;
        assert_eq!(q.take_ready(Instant::now()), vec!["failing"]);
    }

    fn change(kind: Kind, name: &str, action: Action, depends_on: &[&str]) -> Change {
        Change {
            key: ObjectKey {
                kind,
                name: name.to_owned(),
            },
            action,
            diff: Vec::new(),
            notes: Vec::new(),
            ops: Vec::new(),
            depends_on: depends_on
                .iter()
                .map(|d| ObjectKey {
                    kind: Kind::TargetGroup,
                    name: (*d).to_owned(),
                })
                .collect(),
        }
    }

    fn indices(slots: Vec<Slot>) -> Vec<usize> {
        let mut v: Vec<usize> = slots.into_iter().map(|s| s.index).collect();
        v.sort();
        v
    }

    #[test]
    fn independent_objects_start_together_and_dependents_wait_or_are_skipped() {
        let changes = [
            change(Kind::TargetGroup, "a", Action::Create, &[]),
            change(Kind::TargetGroup, "b", Action::Create, &[]),
            change(Kind::Service, "a", Action::Create, &["a"]),
            change(Kind::Service, "b", Action::Update, &["b"]),
        ];
        let order = Order::of(&changes);
        let now = Instant::now();
        let mut q = order.queue(8, now);
        let first = q.take_ready(now);
        assert_eq!(indices(first.clone()), [0, 1]);
        for s in first {
            q.done(&s);
        }
        assert_eq!(indices(q.take_ready(now)), [2, 3]);
        // Target group "b" failed: its service is skipped, "a"'s goes ahead.
        let succeeded = |j: usize| j != 1;
        assert_eq!(order.failed_dependency(2, succeeded), None);
        assert_eq!(
            order.failed_dependency(3, succeeded).map(|k| k.name),
            Some("b".to_owned())
        );
    }

    #[test]
    fn deletions_come_last_one_kind_after_the_other() {
        let changes = [
            change(Kind::TargetGroup, "a", Action::Update, &[]),
            change(Kind::ScalingPolicy, "x", Action::Delete, &[]),
            change(Kind::ScalingPolicy, "y", Action::Delete, &[]),
            change(Kind::Service, "x", Action::Delete, &[]),
            change(Kind::TargetGroup, "x", Action::Delete, &[]),
        ];
        let order = Order::of(&changes);
        let now = Instant::now();
        let mut q = order.queue(8, now);
        let mut waves = Vec::new();
        loop {
            let wave = q.take_ready(now);
            if wave.is_empty() {
                break;
            }
            for s in &wave {
                q.done(s);
            }
            waves.push(indices(wave));
        }
        assert_eq!(
            waves,
            vec![vec![0], vec![1, 2], vec![3], vec![4]],
            "same kind together"
        );
    }

    #[test]
    fn at_most_concurrency_changes_run_and_dependents_go_first() {
        let changes = [
            change(Kind::TargetGroup, "a", Action::Create, &[]),
            change(Kind::TargetGroup, "b", Action::Create, &[]),
            change(Kind::TargetGroup, "c", Action::Create, &[]),
            change(Kind::Service, "a", Action::Create, &["a"]),
        ];
        let order = Order::of(&changes);
        let now = Instant::now();
        let mut q = order.queue(2, now);
        let first = q.take_ready(now);
        assert_eq!(indices(first.clone()), [0, 1]);
        q.done(&first[0]);
        // Service "a" (now unblocked) goes before the root target group "c".
        assert_eq!(indices(q.take_ready(now)), [3]);
    }
}
