//! [`OrderWindow`]: `max_orders_per_second` as a trader reads it — never more than N orders
//! admitted in any one-second window.
//!
//! The window remembers the instants of the last N admissions (a fixed ring, no allocation
//! after construction) and admits at `t` only if the oldest of them is at least 1 s before
//! `t`. That is exact, O(N) at worst, and it still allows a burst of N at once. The same
//! design as the execution engine's local limiter (`kestrel_exec::ratelimit`), which this crate
//! cannot use (risk depends on the model only) and which differs in one point that matters
//! here: admissions carry the order's `request_id`, so an order checked twice — by the
//! strategy's risk filter and again by the execution validator — is counted once.

use std::collections::VecDeque;

/// The window length.
pub const WINDOW_MS: u64 = 1_000;

/// The identity an admission is remembered by: FNV-1a of the request id, `None` for an
/// empty id (such an order is always counted as new).
pub(crate) fn request_key(request_id: &str) -> Option<u64> {
    if request_id.is_empty() {
        return None;
    }
    let hash = request_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    Some(hash)
}

/// The last `max` admissions, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct OrderWindow {
    max: u32,
    admitted: VecDeque<(u64, Option<u64>)>,
}

/// Why the window refused: how many orders it holds and when the next slot frees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full {
    /// Orders admitted in the second before the check.
    pub in_window: u32,
    /// When the oldest of them leaves the window (ms since the epoch).
    pub frees_at_ms: u64,
}

impl OrderWindow {
    /// At most `max` orders in any second. Zero admits nothing.
    pub fn new(max: u32) -> Self {
        Self {
            max,
            admitted: VecDeque::with_capacity(max as usize),
        }
    }

    /// Keeps the admissions that still fit under a new maximum.
    pub fn resize(&mut self, max: u32) {
        while self.admitted.len() > max as usize {
            self.admitted.pop_front();
        }
        self.max = max;
    }

    fn seen(&self, key: Option<u64>) -> bool {
        key.is_some() && self.admitted.iter().any(|(_, k)| *k == key)
    }

    /// Time never runs backwards inside the window.
    fn clamp(&self, now_ms: u64) -> u64 {
        self.admitted
            .back()
            .map_or(now_ms, |(last, _)| now_ms.max(*last))
    }

    /// Orders admitted in the second ending at `now_ms`.
    pub fn in_window(&self, now_ms: u64) -> u32 {
        let now = self.clamp(now_ms);
        let count = self
            .admitted
            .iter()
            .filter(|(at, _)| at.saturating_add(WINDOW_MS) > now)
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }

    /// Whether the order with `key` may be admitted at `now_ms` (an order already admitted
    /// always may: it is not counted twice).
    pub fn check(&self, key: Option<u64>, now_ms: u64) -> Result<(), Full> {
        if self.seen(key) {
            return Ok(());
        }
        let now = self.clamp(now_ms);
        let frees_at_ms = match self.admitted.front() {
            _ if self.max == 0 => u64::MAX,
            Some((oldest, _)) if self.admitted.len() >= self.max as usize => {
                oldest.saturating_add(WINDOW_MS)
            }
            _ => return Ok(()),
        };
        if now >= frees_at_ms {
            return Ok(());
        }
        Err(Full {
            in_window: self.in_window(now),
            frees_at_ms,
        })
    }

    /// Records an admission at `now_ms` (call only after [`Self::check`] passed).
    pub fn admit(&mut self, key: Option<u64>, now_ms: u64) {
        if self.max == 0 || self.seen(key) {
            return;
        }
        let now = self.clamp(now_ms);
        if self.admitted.len() >= self.max as usize {
            self.admitted.pop_front();
        }
        self.admitted.push_back((now, key));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_n_passes_and_the_next_waits_for_the_oldest_to_age_out() {
        let mut window = OrderWindow::new(3);
        for i in 0..3 {
            let key = request_key(&format!("r{i}"));
            assert_eq!(window.check(key, 5_000), Ok(()));
            window.admit(key, 5_000);
        }
        let refusal = window.check(request_key("r3"), 5_999).unwrap_err();
        assert_eq!(refusal.in_window, 3);
        assert_eq!(refusal.frees_at_ms, 6_000);
        assert_eq!(window.check(request_key("r3"), 6_000), Ok(()));
    }

    #[test]
    fn an_order_checked_again_is_not_counted_twice() {
        let mut window = OrderWindow::new(1);
        let key = request_key("same");
        window.admit(key, 0);
        window.admit(key, 1);
        assert_eq!(window.check(key, 2), Ok(()));
        assert_eq!(window.in_window(2), 1);
        assert!(window.check(request_key("other"), 2).is_err());
        assert!(window.check(None, 2).is_err());
    }

    #[test]
    fn zero_per_second_admits_nothing() {
        let window = OrderWindow::new(0);
        assert!(window.check(request_key("a"), 1_000_000).is_err());
    }
}
