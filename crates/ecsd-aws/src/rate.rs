//! A client-side cap on ecsd's AWS request rate (`--aws-rps`), so a busy controller
//! never starves other tools in the account of their API quota.
//!
//! The pacer (`pace.rs`) makes every request (retries and pages included) wait for a
//! token of this bucket as well as its action's. Tokens refill at `rate` per second up
//! to `burst`.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// A token bucket.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    /// `rate` tokens a second, at most `burst` saved up; `None` if `rate` is not positive.
    pub fn new(rate: f64, burst: f64) -> Option<Self> {
        (rate > 0.0 && rate.is_finite()).then(|| {
            let burst = burst.max(1.0);
            TokenBucket {
                rate,
                burst,
                state: Mutex::new((burst, Instant::now())),
            }
        })
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut state = self.state.lock().await;
                let now = Instant::now();
                let (tokens, last) = *state;
                let tokens =
                    (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
                if tokens >= 1.0 {
                    *state = (tokens - 1.0, now);
                    return;
                }
                *state = (tokens, now);
                Duration::from_secs_f64((1.0 - tokens) / self.rate)
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_bucket_spends_its_burst_then_keeps_the_rate() {
        let bucket = TokenBucket::new(10.0, 5.0).expect("valid");
        let started = Instant::now();
        for _ in 0..5 {
            bucket.acquire().await;
        }
        assert_eq!(started.elapsed(), Duration::ZERO, "the burst is free");
        for _ in 0..20 {
            bucket.acquire().await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        assert!(
            (elapsed - 2.0).abs() < 0.05,
            "20 more tokens at 10/s take 2 s, took {elapsed}"
        );
    }

    #[test]
    fn a_rate_must_be_positive() {
        assert!(TokenBucket::new(0.0, 5.0).is_none());
        assert!(TokenBucket::new(-1.0, 5.0).is_none());
        assert!(TokenBucket::new(f64::NAN, 5.0).is_none());
    }
}
