//! Shards (*added*): with `run --lease-table` and deployment targets, the targets are
//! spread over the replicas.
//!
//! - **One lease per target.** Each target has its own lease item (key
//!   `OWNER#target#NAME`) and its own [`Elector`], with the same rules as the single
//!   lease (taken only when free or unrenewed for a whole lease duration, renewed by
//!   its holder, a fence per target that closes one renew period before any other
//!   replica may take over). Each target's AWS clients pass that target's fence only,
//!   so a target is never changed by two replicas, whatever happens to the others.
//! - **Bounded load.** Every replica writes a heartbeat item (`OWNER#replica#ID`) each
//!   renew period and reads all heartbeats each poll (one `Scan`). A heartbeat whose
//!   version stayed the same for a whole lease duration, as measured on the reader's
//!   own clock, is a dead replica's (the reader marks it gone). A replica takes a
//!   target's lease only while it holds fewer than its fair share,
//!   `ceil(targets / live replicas)` ([`Share`]), and hands one back when it holds more
//!   (a replica started later, or one come back). With one replica, it leads every
//!   target; when one dies, its targets' leases expire and the others, whose share grew,
//!   take them.
//! - Without targets (the implicit one), there is one lease keyed by the owner, as
//!   before targets existed, and no heartbeats.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use ecsd_aws::Fence;
use ecsd_aws::lease::{Condition, LeaseApi, LeaseRecord};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep_until, timeout};

use crate::controller::SharedStatus;
use crate::controller::lease::{Elector, Leading, LeaseOptions, Quota, prepare};
use crate::status::ShardStatus;

/// This replica's share of the targets' leases: how many it may hold, and which it
/// holds. Pure bookkeeping behind a lock, shared by the targets' electors.
#[derive(Debug)]
pub struct Share {
    state: Mutex<ShareState>,
    /// Whether this replica leads any target (the event queue is read while it does).
    any: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct ShareState {
    targets: usize,
    live: usize,
    led: BTreeSet<String>,
}

impl ShareState {
    /// `ceil(targets / live replicas)`, this replica counted.
    fn cap(&self) -> usize {
        self.targets.div_ceil(self.live.max(1))
    }
}

impl Share {
    /// A share of `targets` targets among this replica alone (until heartbeats say
    /// otherwise), and whether it leads any.
    pub fn new(targets: usize) -> (Arc<Share>, Leading) {
        let (any, rx) = watch::channel(false);
        let share = Share {
            state: Mutex::new(ShareState {
                targets,
                live: 1,
                led: BTreeSet::new(),
            }),
            any,
        };
        (Arc::new(share), rx)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ShareState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of targets to share.
    pub fn set_targets(&self, targets: usize) {
        self.state().targets = targets;
    }

    /// The number of live replicas, this one included.
    pub fn set_live(&self, live: usize) {
        self.state().live = live.max(1);
    }

    /// How many targets this replica may lead now.
    pub fn cap(&self) -> usize {
        self.state().cap()
    }

    /// The live replicas counted, this one included.
    pub fn live(&self) -> usize {
        self.state().live
    }

    /// The leases this replica holds.
    pub fn led(&self) -> Vec<String> {
        self.state().led.iter().cloned().collect()
    }

    fn tell(&self, state: &ShareState) {
        let any = !state.led.is_empty();
        self.any
            .send_if_modified(|a| std::mem::replace(a, any) != any);
    }
}

impl Quota for Share {
    fn try_take(&self, key: &str) -> bool {
        let mut s = self.state();
        if s.led.contains(key) {
            return true;
        }
        if s.led.len() >= s.cap() {
            return false;
        }
        s.led.insert(key.to_owned());
        self.tell(&s);
        true
    }

    fn give_back(&self, key: &str) {
        let mut s = self.state();
        s.led.remove(key);
        self.tell(&s);
    }

    fn shed(&self, key: &str) -> bool {
        let mut s = self.state();
        if s.led.len() > s.cap() && s.led.remove(key) {
            self.tell(&s);
            return true;
        }
        false
    }
}

/// The lease key of a target (`None`: the implicit target, keyed by the owner alone).
pub fn lease_key(owner: &str, target: Option<&str>) -> String {
    match target {
        None => owner.to_owned(),
        Some(t) => format!("{owner}#target#{t}"),
    }
}

/// The key of a replica's heartbeat.
fn heartbeat_key(owner: &str, replica: &str) -> String {
    format!("{owner}#replica#{replica}")
}

struct Slot<A> {
    stop: watch::Sender<bool>,
    task: JoinHandle<Elector<A>>,
}

/// The targets' elections of one replica, and its heartbeat.
pub struct Shards<A> {
    api: A,
    opts: LeaseOptions,
    /// The fence of ecsd's own clients: the implicit target's.
    own_fence: Fence,
    share: Arc<Share>,
    /// The process's status, where the shards are shown.
    main: SharedStatus,
    slots: BTreeMap<Option<String>, Slot<A>>,
    /// The heartbeat task, once a target is declared.
    members: Option<(watch::Sender<bool>, JoinHandle<()>)>,
}

impl<A: LeaseApi + Clone + 'static> Shards<A> {
    /// No elections yet; `opts.owner` is the `--owner`. Also returns whether this
    /// replica leads any target.
    pub fn new(
        api: A,
        opts: LeaseOptions,
        own_fence: Fence,
        main: SharedStatus,
    ) -> (Self, Leading) {
        let (share, any) = Share::new(0);
        let shards = Shards {
            api,
            opts,
            own_fence,
            share,
            main,
            slots: BTreeMap::new(),
            members: None,
        };
        (shards, any)
    }

    /// Starts the election of `target` (`None`: the implicit target), publishing its
    /// lease to `status` and opening `fence` (`None`: ecsd's own) while it leads.
    pub fn join(
        &mut self,
        target: Option<&str>,
        status: SharedStatus,
        fence: Option<Fence>,
    ) -> Leading {
        let fence = fence.unwrap_or_else(|| self.own_fence.clone());
        let opts = LeaseOptions {
            owner: lease_key(&self.opts.owner, target),
            ..self.opts.clone()
        };
        let (elector, leading) = Elector::new(self.api.clone(), opts, fence, status);
        let mut elector = elector.with_quota(self.share.clone());
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            elector.run(stop_rx).await;
            elector
        });
        self.slots
            .insert(target.map(str::to_owned), Slot { stop, task });
        self.count_targets();
        leading
    }

    /// Ends the election of `target` (its controller has stopped): its lease is
    /// released for another replica.
    pub async fn leave(&mut self, target: Option<&str>) {
        if let Some(slot) = self.slots.remove(&target.map(str::to_owned)) {
            let _ = slot.stop.send(true);
            if let Ok(mut elector) = slot.task.await {
                elector.release().await;
            }
            if target.is_none() {
                // ecsd's own clients (the source, the event queue, assuming the
                // targets' roles) no longer deploy anything: they are not fenced.
                self.own_fence.lift();
            }
        }
        self.count_targets();
    }

    /// Releases every lease and marks this replica's heartbeat gone (SIGTERM).
    pub async fn shutdown(mut self) {
        let names: Vec<Option<String>> = self.slots.keys().cloned().collect();
        for name in names {
            self.leave(name.as_deref()).await;
        }
        if let Some((stop, task)) = self.members.take() {
            let _ = stop.send(true);
            let _ = task.await;
        }
    }

    /// The share follows the targets elected; the heartbeats start with the first
    /// declared target.
    fn count_targets(&mut self) {
        let declared = self.slots.keys().filter(|k| k.is_some()).count();
        self.share.set_targets(self.slots.len());
        if declared > 0 && self.members.is_none() {
            let (stop, stop_rx) = watch::channel(false);
            let members = Members {
                api: self.api.clone(),
                opts: self.opts.clone(),
                share: self.share.clone(),
                main: self.main.clone(),
                seen: BTreeMap::new(),
            };
            self.members = Some((stop, tokio::spawn(members.run(stop_rx))));
        }
        if declared > 0 {
            publish(&self.main, &self.opts, &self.share);
        }
    }
}

/// Shows the shards in the process's status.
fn publish(main: &SharedStatus, opts: &LeaseOptions, share: &Share) {
    let prefix = lease_key(&opts.owner, Some(""));
    let leads = share
        .led()
        .iter()
        .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
        .collect();
    main.lock().unwrap_or_else(PoisonError::into_inner).shards = Some(ShardStatus {
        table: opts.table.clone(),
        replica: opts.replica.clone(),
        replicas: share.live(),
        share: share.cap(),
        leads,
    });
}

/// The heartbeats: this replica's written, the others' read and judged.
struct Members<A> {
    api: A,
    opts: LeaseOptions,
    share: Arc<Share>,
    main: SharedStatus,
    /// Each other replica's heartbeat version, and when this replica first read it.
    seen: BTreeMap<String, (String, Instant)>,
}

impl<A: LeaseApi> Members<A> {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        tokio::select! {
            () = prepare(&self.api, &self.opts.table) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let mut beat = Instant::now();
        let mut next = Instant::now();
        loop {
            tokio::select! {
                () = sleep_until(next) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            if Instant::now() >= beat {
                beat = Instant::now() + self.opts.renew;
                self.write(Some(&self.opts.replica), &Condition::Always)
                    .await;
            }
            self.count().await;
            next = Instant::now() + self.opts.poll();
        }
        // Gone: the others' share grows at their next poll.
        self.write(None, &Condition::Always).await;
    }

    fn record(&self, replica: &str, holder: Option<&str>) -> LeaseRecord {
        LeaseRecord {
            owner: heartbeat_key(&self.opts.owner, replica),
            holder: holder.map(str::to_owned),
            generation: 0,
            version: format!("{:016x}", fastrand::u64(..)),
            duration_ms: u64::try_from(self.opts.duration.as_millis()).unwrap_or(u64::MAX),
            written_at_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        }
    }

    /// Writes this replica's heartbeat (`holder` `None`: gone).
    async fn write(&self, holder: Option<&str>, condition: &Condition) {
        let record = self.record(&self.opts.replica, holder);
        let call = self.api.write(&self.opts.table, &record, condition);
        if let Ok(Err(e)) = timeout(self.opts.renew, call).await {
            tracing::debug!(error = %e, "cannot write this replica's heartbeat; trying again");
        }
    }

    /// Reads the heartbeats, counts the live replicas and marks the dead ones gone.
    async fn count(&mut self) {
        let prefix = heartbeat_key(&self.opts.owner, "");
        let call = self.api.scan(&self.opts.table, &prefix);
        let Ok(Ok(records)) = timeout(self.opts.renew, call).await else {
            // Unknown: the count stays as it was.
            return;
        };
        let now = Instant::now();
        let mut live = 1;
        let mut present = BTreeSet::new();
        for r in records {
            let Some(replica) = r.owner.strip_prefix(&prefix).map(str::to_owned) else {
                continue;
            };
            if replica == self.opts.replica || r.holder.is_none() {
                continue;
            }
            present.insert(replica.clone());
            let since = match self.seen.get(&replica) {
                Some((v, since)) if *v == r.version => *since,
                _ => {
                    self.seen.insert(replica.clone(), (r.version.clone(), now));
                    now
                }
            };
            let promised = self
                .opts
                .duration
                .max(std::time::Duration::from_millis(r.duration_ms));
            if now < since + promised {
                live += 1;
                continue;
            }
            tracing::warn!(replica = %replica, "replica stopped: no heartbeat for a whole lease duration; its targets move to the others");
            let gone = self.record(&replica, None);
            let condition = Condition::Version(r.version.clone());
            let _ = timeout(
                self.opts.renew,
                self.api.write(&self.opts.table, &gone, &condition),
            )
            .await;
        }
        self.seen.retain(|k, _| present.contains(k));
        if live != self.share.live() {
            tracing::info!(
                replicas = live,
                "live replicas changed: this replica leads at most its share of the targets"
            );
        }
        self.share.set_live(live);
        publish(&self.main, &self.opts, &self.share);
    }
}

#[cfg(test)]
mod tests;
