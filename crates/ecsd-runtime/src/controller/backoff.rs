//! Per-object exponential backoff with full jitter.
//!
//! The n-th consecutive failure waits a random time in `[0, min(max, min * 2^n)]`
//! ("full jitter": retries of many objects spread out instead of arriving together).
//! A throttling error counts as one more failure, so it backs off at least as much as
//! any other error. Success resets the count (the caller forgets it).

use std::time::Duration;

/// Why a backoff cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackoffError {
    #[error("the minimum backoff must be more than zero")]
    ZeroMinimum,
    #[error("the minimum backoff ({min:?}) exceeds the maximum ({max:?})")]
    MinAboveMax { min: Duration, max: Duration },
}

/// A checked backoff policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    min: Duration,
    max: Duration,
}

impl Default for Backoff {
    /// 1 s doubling up to 5 minutes.
    fn default() -> Self {
        Backoff {
            min: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// A policy from `min` doubling up to `max`.
    pub fn try_new(min: Duration, max: Duration) -> Result<Self, BackoffError> {
        if min.is_zero() {
            return Err(BackoffError::ZeroMinimum);
        }
        if min > max {
            return Err(BackoffError::MinAboveMax { min, max });
        }
        Ok(Backoff { min, max })
    }

    /// The longest wait after `failures` consecutive failures (1 = the first failure).
    pub fn ceiling(&self, failures: u32, throttled: bool) -> Duration {
        let exponent = failures
            .saturating_sub(1)
            .saturating_add(u32::from(throttled))
            .min(32);
        let factor = 1u64 << exponent;
        let nanos = self.min.as_nanos().saturating_mul(u128::from(factor));
        let max = self.max.as_nanos();
        Duration::from_nanos(u64::try_from(nanos.min(max)).unwrap_or(u64::MAX))
    }

    /// The wait after `failures` consecutive failures; `unit` is a random number in [0, 1).
    pub fn delay(&self, failures: u32, throttled: bool, unit: f64) -> Duration {
        self.ceiling(failures, throttled)
            .mul_f64(unit.clamp(0.0, 1.0))
    }

    /// [`Backoff::delay`] with a fresh random number.
    pub fn jittered(&self, failures: u32, throttled: bool) -> Duration {
        self.delay(failures, throttled, fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn invalid_policies_are_refused() {
        assert_eq!(
            Backoff::try_new(Duration::ZERO, Duration::from_secs(1)),
            Err(BackoffError::ZeroMinimum)
        );
        assert!(matches!(
            Backoff::try_new(Duration::from_secs(2), Duration::from_secs(1)),
            Err(BackoffError::MinAboveMax { .. })
        ));
    }

    #[test]
    fn the_default_doubles_from_one_second_to_five_minutes() {
        let b = Backoff::default();
        let secs: Vec<u64> = (1..=10).map(|n| b.ceiling(n, false).as_secs()).collect();
        assert_eq!(secs, vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(b.ceiling(1000, true), Duration::from_secs(300));
    }

    proptest! {
        #[test]
        fn delays_stay_within_the_ceiling_and_the_maximum(
            min_ms in 1u64..10_000, extra_ms in 0u64..1_000_000, failures in 1u32..100, unit in 0.0f64..1.0, throttled: bool,
        ) {
            let b = Backoff::try_new(Duration::from_millis(min_ms), Duration::from_millis(min_ms + extra_ms)).expect("valid");
            let d = b.delay(failures, throttled, unit);
            prop_assert!(d <= b.ceiling(failures, throttled));
            prop_assert!(b.ceiling(failures, throttled) <= Duration::from_millis(min_ms + extra_ms));
        }

        #[test]
        fn ceilings_never_shrink_and_throttling_backs_off_at_least_as_much(
            min_ms in 1u64..10_000, extra_ms in 0u64..1_000_000, failures in 1u32..100,
        ) {
            let b = Backoff::try_new(Duration::from_millis(min_ms), Duration::from_millis(min_ms + extra_ms)).expect("valid");
            prop_assert!(b.ceiling(failures + 1, false) >= b.ceiling(failures, false));
            prop_assert!(b.ceiling(failures, true) >= b.ceiling(failures, false));
        }
    }
}
