//! The work queue of the controller, keyed by object.
//!
//! - Dedup: a key is queued at most once; scheduling it again keeps the earlier due time.
//! - One key is never worked on twice at once: a key scheduled while in flight waits
//!   until it is done.
//! - Bounded concurrency: at most `concurrency` keys in flight.
//! - Dependencies first: a key waits while one of its dependencies is queued or in
//!   flight (a Service waits for its TargetGroup).
//!
//! Time is passed in, so the queue is plain data and tests need no clock.

use std::collections::{BTreeMap, BTreeSet};

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

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
}
