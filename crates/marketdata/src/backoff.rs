//! Reconnection delays: exponential backoff with jitter (seed 000 FR-MD-001,
//! `reconnect_base_delay_ms`, `reconnect_max_delay_ms`, `reconnect_max_attempts`).
//!
//! Attempt `n` (from 0) waits a uniformly random time in `[d/2, d]` where
//! `d = min(max, base × 2ⁿ)`: the exponential part spaces retries out, the jitter keeps many
//! clients from reconnecting in lock-step after a venue-wide drop. The random source is a small
//! seeded generator, so tests are exact.

use std::time::Duration;

/// The delays between reconnection attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    base_ms: u64,
    max_ms: u64,
    max_attempts: u32,
    attempt: u32,
    state: u64,
}

impl Backoff {
    /// Delays from `base_ms` doubling up to `max_ms`, for at most `max_attempts` attempts in a
    /// row (0 = unlimited), jittered from `seed`.
    #[must_use]
    pub fn new(base_ms: u64, max_ms: u64, max_attempts: u32, seed: u64) -> Self {
        Self {
            base_ms: base_ms.max(1),
            max_ms: max_ms.max(base_ms.max(1)),
            max_attempts,
            attempt: 0,
            state: splitmix64(seed) | 1,
        }
    }

    /// The delay before the next attempt, or `None` when the attempts are used up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        if self.max_attempts > 0 && self.attempt >= self.max_attempts {
            return None;
        }
        let ceiling = self
            .base_ms
            .saturating_mul(1u64 << self.attempt.min(40))
            .min(self.max_ms);
        self.attempt += 1;
        let half = ceiling / 2;
        let jitter = self.next_random() % (ceiling - half + 1);
        Some(Duration::from_millis(half + jitter))
    }

    /// Attempts made since the last success.
    #[must_use]
    pub const fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Starts over after a successful connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// xorshift64* (seeded through [`splitmix64`]): plenty for jitter, and reproducible.
    fn next_random(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Scrambles a seed so that neighbouring seeds (1, 2, 3, ...) start far apart.
const fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_jitter_and_stop_at_the_ceiling() {
        let mut backoff = Backoff::new(1000, 60_000, 0, 7);
        let mut previous_ceiling = 0;
        for attempt in 0..10u32 {
            let ceiling = (1000u64 << attempt).min(60_000);
            let delay = backoff.next_delay().unwrap().as_millis() as u64;
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "attempt {attempt}: {delay} outside [{}, {ceiling}]",
                ceiling / 2
            );
            assert!(ceiling >= previous_ceiling);
            previous_ceiling = ceiling;
        }
    }

    #[test]
    fn attempts_run_out_and_reset_restores_them() {
        let mut backoff = Backoff::new(10, 100, 3, 1);
        assert!(
            backoff.next_delay().is_some()
                && backoff.next_delay().is_some()
                && backoff.next_delay().is_some()
        );
        assert_eq!(backoff.next_delay(), None);
        assert_eq!(backoff.attempts(), 3);
        backoff.reset();
        let first = backoff.next_delay().unwrap();
        assert!(first >= Duration::from_millis(5) && first <= Duration::from_millis(10));
    }

    #[test]
    fn jitter_spreads_clients_with_different_seeds() {
        let delays: Vec<Duration> = (1..20u64)
            .map(|seed| Backoff::new(1000, 60_000, 0, seed).next_delay().unwrap())
            .collect();
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 10, "{delays:?}");
    }
}
