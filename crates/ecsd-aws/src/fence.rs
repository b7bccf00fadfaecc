//! The fence that keeps a replica that is not the leader from changing AWS.
//!
//! With leader election (`run --lease-table`), only the lease holder may make mutating
//! AWS calls. AWS APIs take no fencing token, so the fence is local: the paced HTTP
//! client ([`crate::pace`]) asks [`Fence::allows`] right before it sends any mutating
//! request, retries and resends included, and refuses it when the fence is closed.
//! The leader opens the fence until a deadline safely short of its lease's expiry (see
//! `ecsd_runtime::lease`); without a renewal the fence closes by itself at that
//! deadline, whatever the rest of the process is doing.
//!
//! A configuration without leader election is [unfenced](Fence::default): every
//! request passes.

use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::client::result::ConnectorError;

use tokio::time::Instant;

/// Whether mutating AWS calls may be sent now. Clones share one state.
#[derive(Debug, Clone, Default)]
pub struct Fence(Arc<Mutex<State>>);

#[derive(Debug, Clone, Copy, Default)]
enum State {
    /// No leader election: always open.
    #[default]
    Unfenced,
    /// Open until the instant, if any; closed after it.
    Until(Option<Instant>),
}

impl Fence {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Closes the fence: nothing mutating passes until [`Fence::open_until`].
    pub fn close(&self) {
        *self.state() = State::Until(None);
    }

    /// Opens the fence until `deadline` (never later than a deadline already set by a
    /// later renewal: a slow answer to an older renewal cannot move it back out).
    pub fn open_until(&self, deadline: Instant) {
        let mut state = self.state();
        let keep = match *state {
            State::Until(Some(current)) => current.max(deadline),
            _ => deadline,
        };
        *state = State::Until(Some(keep));
    }

    /// Unfences it again: every request passes (its leader election ended).
    pub fn lift(&self) {
        *self.state() = State::Unfenced;
    }

    /// Whether a mutating request may be sent at `now`.
    pub fn allows(&self, now: Instant) -> bool {
        match *self.state() {
            State::Unfenced => true,
            State::Until(deadline) => deadline.is_some_and(|d| now < d),
        }
    }

    /// Whether leader election guards this configuration at all.
    pub fn is_fenced(&self) -> bool {
        matches!(*self.state(), State::Until(_))
    }
}

/// A mutating request the fence refused: this replica does not hold the lease.
#[derive(Debug, Clone, thiserror::Error)]
#[error("not sent: this replica does not hold the leader lease")]
pub struct Fenced;

/// Whether a failed dispatch is the fence's refusal (and so was never sent).
pub(crate) fn refused(error: Option<&ConnectorError>) -> bool {
    error
        .and_then(std::error::Error::source)
        .is_some_and(|s| s.is::<Fenced>())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn unfenced_lets_everything_pass_and_a_closed_fence_nothing() {
        let now = Instant::now();
        let fence = Fence::default();
        assert!(fence.allows(now) && !fence.is_fenced());
        fence.close();
        assert!(!fence.allows(now) && fence.is_fenced());
    }

    #[test]
    fn an_open_fence_closes_by_itself_at_its_deadline_and_never_moves_back() {
        let now = Instant::now();
        let fence = Fence::default();
        fence.close();
        fence.open_until(now + Duration::from_secs(10));
        assert!(fence.allows(now + Duration::from_secs(9)));
        assert!(!fence.allows(now + Duration::from_secs(10)));
        // A late answer to an older renewal does not shorten a newer deadline.
        fence.open_until(now + Duration::from_secs(5));
        assert!(fence.allows(now + Duration::from_secs(9)));
        fence.close();
        assert!(!fence.allows(now));
    }
}
