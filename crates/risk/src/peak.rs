//! [`PeakWindow`]: the highest equity seen within the last `drawdown_window_seconds`, for the
//! window drawdown breaker (seed 001 REQ-RISK-001).
//!
//! A monotonic queue: samples are kept in time order with equity strictly decreasing, so the
//! front is the peak. A new sample first drops every older sample it equals or beats (they
//! can never be the peak again), and samples older than the window leave from the front.
//! Peaks are kept at one-second resolution — a sample lower than one already kept in the
//! same second is not queued — which bounds the queue to `window_seconds + 1` entries
//! however often equity moves; the cost is that a peak may leave the window up to one second
//! early. Each sample costs amortised O(1).

use std::collections::VecDeque;

use kestrel_model::Money;

/// The peaks of equity within a rolling window.
#[derive(Debug, Clone)]
pub(crate) struct PeakWindow {
    window_ms: u64,
    /// `(ms since the epoch, equity)`, time increasing, equity strictly decreasing.
    samples: VecDeque<(u64, Money)>,
}

impl PeakWindow {
    /// A window of `window_seconds`.
    pub fn new(window_seconds: u64) -> Self {
        let capacity = usize::try_from(window_seconds.saturating_add(2)).unwrap_or(usize::MAX);
        Self {
            window_ms: window_seconds.saturating_mul(1_000),
            // The queue's bound, reserved up front so sampling never allocates; capped so a
            // huge configured window does not reserve gigabytes it will rarely use.
            samples: VecDeque::with_capacity(capacity.min(1 << 16)),
        }
    }

    /// Drops samples that have left the window ending at `now_ms`.
    pub fn expire(&mut self, now_ms: u64) {
        while let Some((at, _)) = self.samples.front() {
            if at.saturating_add(self.window_ms) >= now_ms {
                break;
            }
            self.samples.pop_front();
        }
    }

    /// Records equity at `now_ms` (times must not go backwards; earlier ones are taken as the
    /// latest time seen).
    pub fn sample(&mut self, now_ms: u64, equity: Money) {
        let now = self
            .samples
            .back()
            .map_or(now_ms, |(last, _)| now_ms.max(*last));
        self.expire(now);
        while self.samples.back().is_some_and(|(_, e)| *e <= equity) {
            self.samples.pop_back();
        }
        let same_second = self
            .samples
            .back()
            .is_some_and(|(at, _)| at / 1_000 == now / 1_000);
        if !same_second {
            self.samples.push_back((now, equity));
        }
    }

    /// The highest equity within the window, if any sample is in it.
    pub fn peak(&self) -> Option<Money> {
        self.samples.front().map(|(_, equity)| *equity)
    }

    /// Forgets every sample (manual reset of the drawdown breaker).
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// Samples currently queued.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.samples.len()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn usdt(units: i128) -> Money {
        Money::from_raw(units * kestrel_model::money::MONEY_ONE)
    }

    #[test]
    fn the_peak_leaves_the_window_after_window_seconds() {
        let mut window = PeakWindow::new(60);
        window.sample(0, usdt(1_000));
        window.sample(10_000, usdt(900));
        assert_eq!(window.peak(), Some(usdt(1_000)));
        window.expire(60_000);
        assert_eq!(window.peak(), Some(usdt(1_000)));
        window.expire(60_001);
        assert_eq!(window.peak(), Some(usdt(900)));
    }

    #[test]
    fn a_steady_fall_is_bounded_by_the_window_in_seconds() {
        let mut window = PeakWindow::new(10);
        for ms in 0..100_000u64 {
            window.sample(ms, usdt(1_000_000 - i128::from(ms)));
        }
        assert!(window.len() <= 11, "{}", window.len());
    }

    proptest! {
        /// The peak is the maximum of the samples of the last window, give or take the
        /// one-second resolution the module documents.
        #[test]
        fn the_peak_matches_a_naive_maximum(
            steps in proptest::collection::vec((0u64..700, -50i128..50), 1..300),
        ) {
            let mut window = PeakWindow::new(5);
            let mut all: Vec<(u64, Money)> = Vec::new();
            let (mut now, mut equity) = (0u64, 10_000i128);
            for (gap, change) in steps {
                now += gap;
                equity += change;
                window.sample(now, usdt(equity));
                all.push((now, usdt(equity)));
                let naive = |from: u64| all.iter().filter(|(t, _)| *t >= from).map(|(_, e)| *e).max();
                let peak = window.peak();
                prop_assert!(peak <= naive(now.saturating_sub(5_000)));
                prop_assert!(peak >= naive(now.saturating_sub(4_000)));
            }
        }
    }
}
