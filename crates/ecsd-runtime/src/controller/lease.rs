//! Leader election on a DynamoDB lease (`run --lease-table`): with two or more
//! replicas, exactly one changes AWS.
//!
//! One lease item per `--owner` ([`ecsd_aws::lease`]). No clocks are compared between
//! replicas; each only measures time on its own monotonic clock:
//!
//! - **Taking.** A standby reads the lease every [`poll`](LeaseOptions::poll). A lease
//!   that is absent, released, or still in this replica's own name (its renewals
//!   failed, or an answer was lost) is taken at once with a conditional write. A held
//!   lease is taken only after its `version` stayed the same for a whole lease duration,
//!   counted from when this replica *received* the read that first showed it, and
//!   only with a write conditioned on that version; the generation goes up by one.
//! - **Holding.** The leader renews every [`renew`](LeaseOptions::renew) period with a
//!   write conditioned on holder and generation. A renewal whose success came back
//!   opens the [`Fence`] until the instant the renewal was *sent* plus the lease
//!   duration minus one renew period. Every mutating AWS request passes the fence right
//!   before it is sent, so a leader that cannot renew stops mutating one renew period
//!   before any standby can take over, however long its scheduler or network stalls.
//! - **Losing.** A renewal refused by its condition (another replica took over) closes
//!   the fence at once; a renewal that fails or hangs leaves the fence to close by
//!   itself at its deadline. Either way the replica becomes a standby.
//! - **Releasing.** On SIGTERM, after the controller stopped, the fence closes and the
//!   lease is written back without a holder, so a standby takes it at its next poll
//!   instead of after a lease duration.
//!
//! - **Sharing** (*added*, deployment targets): with targets, each target has a lease
//!   of its own and an elector of its own, and a [`Quota`] bounds how many this
//!   replica holds (its fair share: `ecsd_runtime::targets::shards`). A standby does
//!   not take a lease beyond it; a leader over it hands one lease back (released, as
//!   on SIGTERM) for a replica under its share to take.
//!
//! Why the windows cannot overlap: the version a standby takes over was written by the
//! leader's last successful renewal, sent at `s`, no later than the standby first read
//! it; the standby writes at least a lease duration `d` after that read, so after
//! `s + d`, while the old leader's fence closed at `s + d - renew`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ecsd_aws::Fence;
use ecsd_aws::lease::{Condition, LeaseApi, LeaseRecord, TableState};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout};

use crate::status::{LeaseStatus, SharedStatus};

/// How the election runs.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    /// The DynamoDB table.
    pub table: String,
    /// The lease's key: the `--owner`.
    pub owner: String,
    /// This replica's name in the lease.
    pub replica: String,
    /// How long a lease lasts without renewal (default 15 s).
    pub duration: Duration,
    /// How often the leader renews (default 5 s); below half the duration.
    pub renew: Duration,
}

impl LeaseOptions {
    /// How often a standby reads the lease: every renew period, at most a second, so a
    /// released lease is taken within about a second.
    pub fn poll(&self) -> Duration {
        self.renew.min(Duration::from_secs(1))
    }

    /// How long the fence stays open after a renewal is sent.
    fn fence_for(&self) -> Duration {
        self.duration.saturating_sub(self.renew)
    }

    /// A problem with the timings, if any.
    pub fn check(&self) -> Result<(), TimingError> {
        if self.renew.is_zero() || self.renew.saturating_mul(2) >= self.duration {
            return Err(TimingError {
                renew: self.renew,
                duration: self.duration,
            });
        }
        Ok(())
    }
}

/// Whether this replica leads, as the controller needs it.
pub type Leading = watch::Receiver<bool>;

/// How many leases this replica may hold, shared by the electors of its deployment
/// targets. Each method is atomic: two electors cannot both take the last place.
pub trait Quota: Send + Sync {
    /// Reserves a place for the lease `key`, if this replica holds fewer than its
    /// share; `false`: leave it to another replica.
    fn try_take(&self, key: &str) -> bool;
    /// The lease `key` is no longer held (or its taking failed).
    fn give_back(&self, key: &str);
    /// Whether the holder of `key` should hand it over because this replica holds more
    /// than its share; `true` also gives its place back.
    fn shed(&self, key: &str) -> bool;
}

/// How often to look again while the lease table is being created, or could not be
/// prepared.
const TABLE_POLL: Duration = Duration::from_secs(1);
const TABLE_RETRY: Duration = Duration::from_secs(10);

/// Why a lease call failed.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// DynamoDB refused or did not answer.
    #[error(transparent)]
    Aws(#[from] ecsd_aws::AwsError),
    /// No answer within the bound: a hung call must not hold the election.
    #[error("no answer within {}s", .0.as_secs_f64())]
    TimedOut(Duration),
}

/// The lease timings do not work together.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the lease renew period ({}s) must be above zero and below half the lease duration ({}s)",
    .renew.as_secs_f64(),
    .duration.as_secs_f64()
)]
pub struct TimingError {
    pub renew: Duration,
    pub duration: Duration,
}

/// A lease call, bounded by `limit` so a hung call cannot hold the election.
async fn bounded<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, ecsd_aws::AwsError>>,
) -> Result<T, LeaseError> {
    match timeout(limit, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(LeaseError::TimedOut(limit)),
    }
}

/// Makes sure the table exists and is active: created (on-demand) when missing, then
/// waited for. Retries until it works; a replica never leads (nor joins the shards)
/// before.
pub async fn prepare<A: LeaseApi>(api: &A, table: &str) {
    let mut created = false;
    loop {
        let wait = match api.table_state(table).await {
            Ok(TableState::Active) => {
                if created {
                    tracing::info!(table = %table, "lease table active");
                }
                return;
            }
            Ok(TableState::Creating) => TABLE_POLL,
            Ok(TableState::WrongKey(key)) => {
                tracing::error!(table = %table, key = %key,
                    "the lease table's key is {key}; ecsd needs a table whose only key is the string partition key owner: \
                     name another table (--lease-table) or let ecsd create it; this replica stays a standby and looks again");
                TABLE_RETRY
            }
            Ok(TableState::Missing) => match api.create_table(table).await {
                Ok(()) => {
                    tracing::info!(table = %table, "lease table missing; creating it (on-demand billing, partition key owner)");
                    created = true;
                    TABLE_POLL
                }
                Err(e) => {
                    tracing::error!(table = %table, error = %e, "cannot create the lease table; this replica stays a standby and tries again");
                    TABLE_RETRY
                }
            },
            Err(e) => {
                tracing::error!(table = %table, error = %e, "cannot read the lease table; this replica stays a standby and tries again");
                TABLE_RETRY
            }
        };
        tokio::time::sleep(wait).await;
    }
}

/// The election of one replica.
pub struct Elector<A> {
    api: A,
    opts: LeaseOptions,
    fence: Fence,
    status: SharedStatus,
    leading: watch::Sender<bool>,
    /// The generation held, while leading.
    held: Option<u64>,
    /// The lease version last read while standing by, and when that read came back.
    seen: Option<(String, Instant)>,
    /// Whether the last lease call failed (its error is logged once per streak).
    failing: bool,
    /// This replica's share of the targets' leases (`None`: one lease, no sharing).
    quota: Option<Arc<dyn Quota>>,
}

impl<A: LeaseApi> Elector<A> {
    /// An elector that starts as a standby with the fence closed.
    pub fn new(api: A, opts: LeaseOptions, fence: Fence, status: SharedStatus) -> (Self, Leading) {
        fence.close();
        let (leading, rx) = watch::channel(false);
        let elector = Elector {
            api,
            opts,
            fence,
            status,
            leading,
            held: None,
            seen: None,
            failing: false,
            quota: None,
        };
        elector.publish(None, 0);
        (elector, rx)
    }

    /// This elector takes its lease only within `quota`, and hands it over when over.
    #[must_use]
    pub fn with_quota(mut self, quota: Arc<dyn Quota>) -> Self {
        self.quota = Some(quota);
        self
    }

    /// Prepares the table, then takes part in the election until `shutdown` turns true.
    /// The lease is not released here: call [`Elector::release`] once the controller
    /// has stopped.
    pub async fn run(&mut self, mut shutdown: watch::Receiver<bool>) {
        tokio::select! {
            () = self.prepare() => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let mut next = Instant::now();
        loop {
            tokio::select! {
                () = sleep_until(next) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            next = match self.held {
                Some(generation) => self.renew(generation).await,
                None => self.stand_by().await,
            };
        }
    }

    async fn prepare(&self) {
        prepare(&self.api, &self.opts.table).await;
    }

    fn record(&self, holder: Option<&str>, generation: u64) -> LeaseRecord {
        LeaseRecord {
            owner: self.opts.owner.clone(),
            holder: holder.map(str::to_owned),
            generation,
            version: format!("{:016x}", fastrand::u64(..)),
            duration_ms: u64::try_from(self.opts.duration.as_millis()).unwrap_or(u64::MAX),
            written_at_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }

    /// Shows who leads in `/status` and tells the controller whether this replica does.
    fn publish(&self, leader: Option<&str>, generation: u64) {
        let leading = self.held.is_some();
        {
            let mut status = self
                .status
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            status.lease = Some(LeaseStatus {
                table: self.opts.table.clone(),
                replica: self.opts.replica.clone(),
                leader: leader.map(str::to_owned),
                generation,
                leading,
            });
        }
        self.leading
            .send_if_modified(|l| std::mem::replace(l, leading) != leading);
    }

    /// Logs a failed lease call once per streak of failures.
    fn settle<T>(&mut self, what: &str, result: Result<T, LeaseError>) -> Option<T> {
        match result {
            Ok(v) => {
                if std::mem::take(&mut self.failing) {
                    tracing::info!(table = %self.opts.table, "the lease table answers again");
                }
                Some(v)
            }
            Err(e) => {
                if !std::mem::replace(&mut self.failing, true) {
                    tracing::warn!(table = %self.opts.table, error = %e, "{what} failed");
                }
                None
            }
        }
    }

    /// The leader's step: renew (or hand the lease over, when this replica holds more
    /// than its share), and say when to act next.
    async fn renew(&mut self, generation: u64) -> Instant {
        if self
            .quota
            .as_ref()
            .is_some_and(|q| q.shed(&self.opts.owner))
        {
            tracing::info!(lease = %self.opts.owner, generation,
                "this replica leads more than its share of the targets: handing this one over");
            self.hand_back(generation).await;
            self.seen = None;
            return Instant::now() + self.opts.poll();
        }
        let record = self.record(Some(&self.opts.replica), generation);
        let condition = Condition::HeldBy {
            holder: self.opts.replica.clone(),
            generation,
        };
        let sent = Instant::now();
        let limit = self.opts.renew;
        let written = bounded(limit, self.api.write(&self.opts.table, &record, &condition)).await;
        match written {
            Ok(true) => {
                self.fence.open_until(sent + self.opts.fence_for());
                if std::mem::take(&mut self.failing) {
                    tracing::info!(generation, "lease renewed again");
                }
                sent + self.opts.renew
            }
            Ok(false) => {
                tracing::warn!(
                    generation,
                    "lost the lease to another replica; stopped changing AWS"
                );
                self.step_down(generation);
                Instant::now()
            }
            Err(e) => {
                if !std::mem::replace(&mut self.failing, true) {
                    tracing::warn!(generation, error = %e, "cannot renew the lease; retrying");
                }
                let now = Instant::now();
                if !self.fence.allows(now) {
                    // The fence closed by itself: this replica no longer leads.
                    tracing::error!(
                        generation,
                        "the lease could not be renewed in time; stopped changing AWS"
                    );
                    self.step_down(generation);
                    return now;
                }
                now + (self.opts.renew / 4).max(Duration::from_millis(100))
            }
        }
    }

    /// No longer the leader: the fence closes (if it has not by itself) and the
    /// controller is told.
    fn step_down(&mut self, generation: u64) {
        self.fence.close();
        if self.held.take().is_some()
            && let Some(q) = &self.quota
        {
            q.give_back(&self.opts.owner);
        }
        self.seen = None;
        self.publish(None, generation);
    }

    /// A standby's step: read the lease, take it when it is free or expired.
    async fn stand_by(&mut self) -> Instant {
        let read = {
            let call = self.api.read(&self.opts.table, &self.opts.owner);
            let result = bounded(self.opts.renew, call).await;
            self.settle("reading the lease", result)
        };
        let now = Instant::now();
        let poll = now + self.opts.poll();
        let Some(current) = read else {
            return poll;
        };
        let (condition, generation) = match &current {
            None => (Condition::Absent, 1),
            // Released, or still held in this replica's name (its renewals failed or
            // its answer was lost): nobody else may write, so take it at once.
            Some(r) if r.holder.is_none() || r.holder.as_deref() == Some(&self.opts.replica) => {
                (Condition::Version(r.version.clone()), r.generation + 1)
            }
            Some(r) => {
                // The holder's promise, or ours if longer: never take over early.
                let duration = self.opts.duration.max(Duration::from_millis(r.duration_ms));
                let since = match &self.seen {
                    Some((v, since)) if *v == r.version => *since,
                    _ => {
                        self.seen = Some((r.version.clone(), now));
                        now
                    }
                };
                self.publish(r.holder.as_deref(), r.generation);
                if now < since + duration {
                    return poll.min(since + duration);
                }
                tracing::info!(
                    previous = r.holder.as_deref().unwrap_or(""),
                    generation = r.generation,
                    "the lease was not renewed for a whole lease duration; taking over"
                );
                (Condition::Version(r.version.clone()), r.generation + 1)
            }
        };
        // Within this replica's share only: beyond it, another replica takes it.
        if let Some(q) = &self.quota
            && !q.try_take(&self.opts.owner)
        {
            self.publish(
                current.as_ref().and_then(|r| r.holder.as_deref()),
                current.as_ref().map_or(0, |r| r.generation),
            );
            return poll;
        }
        let record = self.record(Some(&self.opts.replica), generation);
        let sent = Instant::now();
        let written = {
            let call = self.api.write(&self.opts.table, &record, &condition);
            let result = bounded(self.opts.renew, call).await;
            self.settle("taking the lease", result)
        };
        if written != Some(true)
            && let Some(q) = &self.quota
        {
            q.give_back(&self.opts.owner);
        }
        match written {
            Some(true) => {
                self.fence.open_until(sent + self.opts.fence_for());
                self.held = Some(generation);
                self.seen = None;
                tracing::info!(replica = %self.opts.replica, generation, "this replica leads");
                self.publish(Some(&self.opts.replica), generation);
                sent + self.opts.renew
            }
            // Another replica was faster (or the answer was lost: the next read tells).
            _ => Instant::now() + self.opts.poll(),
        }
    }

    /// Gives the lease up (SIGTERM): closes the fence first, then writes the lease back
    /// without a holder so a standby takes it at its next poll.
    pub async fn release(&mut self) {
        self.fence.close();
        let Some(generation) = self.held else {
            return;
        };
        self.hand_back(generation).await;
    }

    /// Closes the fence, writes the lease back without a holder and gives its place in
    /// the quota back.
    async fn hand_back(&mut self, generation: u64) {
        self.fence.close();
        self.held = None;
        if let Some(q) = &self.quota {
            q.give_back(&self.opts.owner);
        }
        let record = self.record(None, generation);
        let condition = Condition::HeldBy {
            holder: self.opts.replica.clone(),
            generation,
        };
        let written = {
            let call = self.api.write(&self.opts.table, &record, &condition);
            let result = bounded(self.opts.renew, call).await;
            self.settle("releasing the lease", result)
        };
        match written {
            Some(true) => tracing::info!(generation, "lease released"),
            Some(false) => tracing::info!(
                generation,
                "the lease had already passed to another replica"
            ),
            None => tracing::warn!(
                generation,
                "the lease could not be released; a standby takes over when it expires"
            ),
        }
        self.publish(None, generation);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use ecsd_aws::lease::{FakeLease, FakeLeaseTable};

    use super::*;
    use crate::status::Status;

    const DURATION: Duration = Duration::from_secs(15);
    const RENEW: Duration = Duration::from_secs(5);

    struct Replica {
        fence: Fence,
        client: FakeLease,
        status: SharedStatus,
        leading: Leading,
        stop: watch::Sender<bool>,
        task: tokio::task::JoinHandle<Elector<FakeLease>>,
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
            let (fence, client) = (Fence::default(), table.client());
            let status: SharedStatus = Arc::new(Mutex::new(Status::default()));
            let (mut elector, leading) =
                Elector::new(client.clone(), opts, fence.clone(), status.clone());
            let (stop, stop_rx) = watch::channel(false);
            let task = tokio::spawn(async move {
                elector.run(stop_rx).await;
                elector
            });
            Replica {
                fence,
                client,
                status,
                leading,
                stop,
                task,
            }
        }

        /// `a`, leading, and `b`, started after it.
        async fn pair(table: &FakeLeaseTable) -> (Replica, Replica) {
            let a = Replica::start(table, "a");
            until(&[&a], Duration::from_secs(10), || a.leads()).await;
            (a, Replica::start(table, "b"))
        }

        fn leads(&self) -> bool {
            *self.leading.borrow()
        }

        fn leader_shown(&self) -> Option<String> {
            let status = self
                .status
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            status.lease.as_ref().and_then(|l| l.leader.clone())
        }

        /// SIGTERM: stop the election, then release.
        async fn terminate(self) {
            let _ = self.stop.send(true);
            if let Ok(mut elector) = self.task.await {
                elector.release().await;
            }
        }
    }

    /// Advances time in steps until `done`, asserting at every step that at most one
    /// fence is open; returns the time it took.
    async fn until(replicas: &[&Replica], limit: Duration, done: impl Fn() -> bool) -> Duration {
        let started = Instant::now();
        while !done() {
            assert!(started.elapsed() < limit, "not done within {limit:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = Instant::now();
            let open = replicas.iter().filter(|r| r.fence.allows(now)).count();
            assert!(open <= 1, "two replicas may change AWS at the same instant");
        }
        started.elapsed()
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_replica_creates_the_table_waits_for_it_and_leads_alone() {
        let table = FakeLeaseTable::default();
        let a = Replica::start(&table, "a");
        until(&[&a], Duration::from_secs(10), || a.leads()).await;
        assert!(table.exists());
        assert_eq!(table.lease("ecsd").map(|l| l.generation), Some(1));
        let b = Replica::start(&table, "b");
        // b waits a whole minute as a standby, showing a as the leader; a keeps renewing.
        let _ = tokio::time::timeout(
            Duration::from_secs(60),
            until(&[&a, &b], Duration::from_secs(61), || b.leads()),
        )
        .await;
        assert!(a.leads() && !b.leads());
        assert_eq!(b.leader_shown().as_deref(), Some("a"));
        assert!(a.fence.allows(Instant::now()) && !b.fence.allows(Instant::now()));
        let renewals = table
            .writes()
            .iter()
            .filter(|(who, c, ok)| who == "a" && matches!(c, Condition::HeldBy { .. }) && *ok)
            .count();
        assert!(renewals >= 11, "a renews every 5 s: {renewals}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_leader_cut_off_from_the_table_stops_before_a_standby_takes_over() {
        let table = FakeLeaseTable::default();
        let (a, b) = Replica::pair(&table).await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        a.client.cut(true);
        let took = until(&[&a, &b], DURATION + RENEW + RENEW, || b.leads()).await;
        assert!(!a.leads(), "a stood down");
        assert!(took <= DURATION + RENEW, "b led after {took:?}");
        assert_eq!(table.lease("ecsd").map(|l| l.generation), Some(2));
        // Back on the network, a sees it lost and stays a standby.
        a.client.cut(false);
        until(&[&a, &b], Duration::from_secs(30), || {
            a.leader_shown().as_deref() == Some("b")
        })
        .await;
        assert!(!a.leads() && b.leads());
    }

    #[tokio::test(start_paused = true)]
    async fn a_leader_whose_calls_hang_closes_its_fence_by_itself() {
        let table = FakeLeaseTable::default();
        let (a, b) = Replica::pair(&table).await;
        a.client.hang(true);
        let hung = Instant::now();
        until(&[&a, &b], Duration::from_secs(60), || {
            !a.fence.allows(Instant::now())
        })
        .await;
        assert!(
            hung.elapsed() <= DURATION - RENEW,
            "fence closed after {:?}",
            hung.elapsed()
        );
        until(&[&a, &b], Duration::from_secs(60), || b.leads()).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_killed_leader_is_replaced_within_lease_duration_and_renew_period() {
        let table = FakeLeaseTable::default();
        let (a, b) = Replica::pair(&table).await;
        tokio::time::sleep(Duration::from_millis(7300)).await;
        // kill -9: no release, no more renewals.
        a.task.abort();
        let took = until(&[&b], Duration::from_secs(60), || b.leads()).await;
        assert!(took <= DURATION + RENEW, "b led after {took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_released_lease_is_taken_within_a_second() {
        let table = FakeLeaseTable::default();
        let (a, b) = Replica::pair(&table).await;
        tokio::time::sleep(Duration::from_secs(4)).await;
        let fence_a = a.fence.clone();
        a.terminate().await;
        assert!(
            !fence_a.allows(Instant::now()),
            "released: the fence is closed"
        );
        assert_eq!(table.lease("ecsd").and_then(|l| l.holder), None);
        let took = until(&[&b], Duration::from_secs(5), || b.leads()).await;
        // A poll (1 s), measured in 50 ms steps.
        assert!(took <= Duration::from_millis(1050), "b led after {took:?}");
        assert_eq!(table.lease("ecsd").map(|l| l.generation), Some(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_lease_still_in_this_replicas_name_is_taken_back_at_once() {
        let table = FakeLeaseTable::default();
        let a = Replica::start(&table, "a");
        until(&[&a], Duration::from_secs(10), || a.leads()).await;
        // Its calls hang until its fence closes and it stands down; nobody took over.
        a.client.hang(true);
        until(&[&a], Duration::from_secs(30), || !a.leads()).await;
        a.client.hang(false);
        let took = until(&[&a], Duration::from_secs(30), || a.leads()).await;
        assert!(
            took < DURATION,
            "took {took:?}: no need to wait for its own lease to expire"
        );
        assert_eq!(table.lease("ecsd").map(|l| l.generation), Some(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_table_with_another_key_is_never_used() {
        let table = FakeLeaseTable::with_wrong_key();
        let a = Replica::start(&table, "a");
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!a.leads() && !a.fence.allows(Instant::now()));
        assert!(
            table.writes().is_empty(),
            "nothing written to someone else's table"
        );
    }

    #[test]
    fn the_renew_period_must_leave_room_for_one_failed_renewal() {
        let opts = |duration: u64, renew: u64| LeaseOptions {
            table: "t".to_owned(),
            owner: "o".to_owned(),
            replica: "r".to_owned(),
            duration: Duration::from_secs(duration),
            renew: Duration::from_secs(renew),
        };
        assert!(opts(15, 5).check().is_ok());
        assert!(opts(10, 5).check().is_err());
        assert!(opts(15, 0).check().is_err());
        assert_eq!(opts(15, 5).poll(), Duration::from_secs(1));
    }
}
