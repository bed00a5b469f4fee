//! Exponential backoff with jitter (client-go's reflector parameters: 800 ms doubling to 30 s).

use std::time::{Duration, Instant};

use rand::Rng;

/// Delays between retries: `initial × 2ⁿ` capped at `max`, each stretched by up to 50 % of
/// random jitter, reset after a period without failures.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    reset_after: Duration,
    failures: u32,
    last_failure: Option<Instant>,
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::new(Duration::from_millis(800), Duration::from_secs(30))
    }
}

impl Backoff {
    /// A backoff starting at `initial` and never waiting longer than `max` (before jitter).
    pub fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff {
            initial,
            max,
            reset_after: Duration::from_secs(120),
            failures: 0,
            last_failure: None,
        }
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let now = Instant::now();
        if self
            .last_failure
            .is_some_and(|t| now.duration_since(t) > self.reset_after)
        {
            self.failures = 0;
        }
        self.last_failure = Some(now);
        let exp = self.initial.saturating_mul(1u32 << self.failures.min(16));
        self.failures = self.failures.saturating_add(1);
        let base = exp.min(self.max);
        let jitter = rand::thread_rng().gen_range(0.0..0.5);
        base.mul_f64(1.0 + jitter)
    }

    /// Forgets past failures (after a success).
    pub fn reset(&mut self) {
        self.failures = 0;
        self.last_failure = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        let d: Vec<Duration> = (0..6).map(|_| b.next_delay()).collect();
        assert!(d[0] >= Duration::from_millis(100) && d[0] < Duration::from_millis(150));
        assert!(d[1] >= Duration::from_millis(200) && d[1] < Duration::from_millis(300));
        assert!(d[5] >= Duration::from_secs(1) && d[5] < Duration::from_millis(1500));
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(150));
    }
}
