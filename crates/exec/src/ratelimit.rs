//! Order rate limits: our own ([`OrderRateLimiter`], `max_orders_per_second`) and the venue's as
//! it reports them ([`VenueCounters`], `../shared/binance-futures.md` §4).
//!
//! # The local limit
//!
//! `max_orders_per_second = N` means what a trader reads it as: **never more than N orders in
//! any one-second window**. A classic token bucket of depth N refilled at N per second does not
//! keep that promise — a full bucket spent at once and refilled over the next second admits
//! up to 2N − 1 orders within one second. So each token here comes back exactly one second
//! after it was spent: the limiter remembers the instants of the last N admissions (integer
//! nanoseconds, a fixed ring, no allocation after construction) and admits at `t` only if the
//! oldest of them is at least one second before `t`. That is exact, O(1), and it still allows
//! a burst of N at once.
//!
//! # The venue's limits
//!
//! Binance USD-M futures (§4.1): `ORDERS` 300 per 10 s and 1200 per minute per account,
//! `REQUEST_WEIGHT` 2400 per minute per IP; every REST answer carries `X-MBX-USED-WEIGHT-1M`,
//! successful order answers carry `X-MBX-ORDER-COUNT-10S` and `-1M` (§4.2). Going over costs a
//! 429, and continuing after 429s gets the IP banned (418, two minutes to three days, §4.4), so
//! Kestrel refuses locally first:
//!
//! - the counter for a window is the venue's last reported count plus what we have sent since
//!   and not yet seen answered (in flight);
//! - a reported count is trusted for one window span after it was read, then dropped: whether
//!   the venue's windows are fixed or sliding, every order it counted at time `t` has left the
//!   window by `t + span`, so this never under-counts what the venue saw;
//! - an order is refused when the count plus its cost would pass the limit minus a reserve
//!   (by default 5 %, left for other clients of the same account or IP and for answers that
//!   arrive out of order), and when the venue has told us to back off (429/418 `Retry-After`).
//!
//! Every refusal says which limit and when it frees up.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use crate::clock::Nanos;

/// Why our own order rate limit refused an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "local order rate limit of {max_orders} orders per {window:?} reached; the next slot frees in {wait:?}"
)]
pub struct LocalRateRefusal {
    /// The configured maximum (`max_orders_per_second`).
    pub max_orders: u32,
    /// The window it applies to (one second).
    pub window: Duration,
    /// When the next order will be admitted.
    pub frees_at: Nanos,
    /// How long from now that is.
    pub wait: Duration,
}

/// At most `max_orders` orders in any window of `window` (module docs).
#[derive(Debug, Clone)]
pub struct OrderRateLimiter {
    max_orders: u32,
    window: Duration,
    /// The instants of the last `max_orders` admissions, oldest first.
    admitted: VecDeque<Nanos>,
}

impl OrderRateLimiter {
    /// At most `max_orders_per_second` orders in any one-second window. Zero admits nothing.
    #[must_use]
    pub fn per_second(max_orders_per_second: u32) -> Self {
        Self::new(max_orders_per_second, Duration::from_secs(1))
    }

    /// At most `max_orders` orders in any window of length `window`.
    #[must_use]
    pub fn new(max_orders: u32, window: Duration) -> Self {
        Self {
            max_orders,
            window,
            admitted: VecDeque::with_capacity(max_orders as usize),
        }
    }

    /// The configured maximum per window.
    #[must_use]
    pub const fn max_orders(&self) -> u32 {
        self.max_orders
    }

    /// Whether an order would be admitted at `now`, without admitting it.
    ///
    /// # Errors
    /// [`LocalRateRefusal`] naming when the next slot frees.
    pub fn check(&self, now: Nanos) -> Result<(), LocalRateRefusal> {
        if self.max_orders == 0 {
            return Err(LocalRateRefusal {
                max_orders: 0,
                window: self.window,
                frees_at: Nanos::MAX,
                wait: Duration::MAX,
            });
        }
        if self.admitted.len() < self.max_orders as usize {
            return Ok(());
        }
        // The ring holds exactly the last `max_orders` admissions; the oldest of them decides.
        let frees_at = self
            .admitted
            .front()
            .map_or(Nanos::ZERO, |oldest| oldest.saturating_add(self.window));
        if now >= frees_at {
            Ok(())
        } else {
            Err(LocalRateRefusal {
                max_orders: self.max_orders,
                window: self.window,
                frees_at,
                wait: frees_at.saturating_since(now),
            })
        }
    }

    /// Admits an order at `now` if the limit allows it.
    ///
    /// Instants must not go backwards; an earlier `now` than the last admission is taken as
    /// the last admission's instant.
    ///
    /// # Errors
    /// [`LocalRateRefusal`]; nothing is recorded.
    pub fn try_admit(&mut self, now: Nanos) -> Result<(), LocalRateRefusal> {
        let now = self.admitted.back().map_or(now, |last| now.max(*last));
        self.check(now)?;
        if self.admitted.len() == self.max_orders as usize {
            self.admitted.pop_front();
        }
        self.admitted.push_back(now);
        Ok(())
    }
}

/// The counters one venue answer carried (`X-MBX-USED-WEIGHT-1M`, `X-MBX-ORDER-COUNT-10S`,
/// `X-MBX-ORDER-COUNT-1M`, or the WebSocket API's `rateLimits`); `None` where it carried none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VenueUsage {
    /// Request weight used in the current minute, by the IP.
    pub used_weight_1m: Option<u32>,
    /// Orders placed in the current 10 s window, by the account.
    pub order_count_10s: Option<u32>,
    /// Orders placed in the current minute, by the account.
    pub order_count_1m: Option<u32>,
}

/// One venue limit and the part of it Kestrel leaves unused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowLimit {
    /// The venue's limit per window.
    pub limit: u32,
    /// Units Kestrel never uses itself (for other clients and out-of-order answers).
    pub reserve: u32,
}

impl WindowLimit {
    /// A limit with `reserve_pct` percent of it (rounded up) held back.
    #[must_use]
    pub const fn with_reserve_pct(limit: u32, reserve_pct: u32) -> Self {
        let reserve = (limit as u64 * reserve_pct as u64).div_ceil(100);
        Self {
            limit,
            reserve: if reserve > limit as u64 {
                limit
            } else {
                reserve as u32
            },
        }
    }

    /// What Kestrel allows itself: the limit minus the reserve.
    #[must_use]
    pub const fn allowed(self) -> u32 {
        self.limit.saturating_sub(self.reserve)
    }
}

/// The venue's rate limits (from `exchangeInfo.rateLimits`, or Binance's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueLimits {
    /// `ORDERS` per 10 seconds, per account.
    pub orders_10s: WindowLimit,
    /// `ORDERS` per minute, per account.
    pub orders_1m: WindowLimit,
    /// `REQUEST_WEIGHT` per minute, per IP.
    pub weight_1m: WindowLimit,
}

/// The reserve held back from each venue limit by default, in percent.
pub const DEFAULT_RESERVE_PCT: u32 = 5;

impl VenueLimits {
    /// Binance USD-M futures defaults (§4.1: 300 orders / 10 s, 1200 orders / min, 2400 weight /
    /// min) with [`DEFAULT_RESERVE_PCT`] held back.
    #[must_use]
    pub const fn binance_usdm() -> Self {
        Self::new(300, 1_200, 2_400, DEFAULT_RESERVE_PCT)
    }

    /// Limits as the venue advertises them, with `reserve_pct` percent held back from each.
    #[must_use]
    pub const fn new(orders_10s: u32, orders_1m: u32, weight_1m: u32, reserve_pct: u32) -> Self {
        Self {
            orders_10s: WindowLimit::with_reserve_pct(orders_10s, reserve_pct),
            orders_1m: WindowLimit::with_reserve_pct(orders_1m, reserve_pct),
            weight_1m: WindowLimit::with_reserve_pct(weight_1m, reserve_pct),
        }
    }
}

/// What one request costs against the venue's limits (§4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// Against `ORDERS` per 10 s.
    pub orders_10s: u32,
    /// Against `ORDERS` per minute.
    pub orders_1m: u32,
    /// Request weight.
    pub weight: u32,
}

impl Cost {
    /// `POST /fapi/v1/order` (and `PUT`): 0 weight, 1 order in each window.
    pub const ORDER: Self = Self {
        orders_10s: 1,
        orders_1m: 1,
        weight: 0,
    };
    /// `POST /fapi/v1/batchOrders`: 5 weight, 5 orders per 10 s, 1 per minute.
    pub const BATCH_ORDERS: Self = Self {
        orders_10s: 5,
        orders_1m: 1,
        weight: 5,
    };

    /// A request that places no order and weighs `weight` (queries, cancels).
    #[must_use]
    pub const fn request(weight: u32) -> Self {
        Self {
            orders_10s: 0,
            orders_1m: 0,
            weight,
        }
    }
}

/// Which venue limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VenueLimitKind {
    /// `ORDERS` per 10 seconds.
    Orders10s,
    /// `ORDERS` per minute.
    Orders1m,
    /// `REQUEST_WEIGHT` per minute.
    Weight1m,
    /// The venue answered 429 or 418 and we are waiting out its back-off.
    Backoff,
}

impl VenueLimitKind {
    /// How the limit is named in messages.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::Orders10s => "venue order count per 10s (X-MBX-ORDER-COUNT-10S)",
            Self::Orders1m => "venue order count per minute (X-MBX-ORDER-COUNT-1M)",
            Self::Weight1m => "venue request weight per minute (X-MBX-USED-WEIGHT-1M)",
            Self::Backoff => "venue back-off after a 429/418",
        }
    }
}

/// Why the venue's limits, as we track them, refuse a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VenueRefusal {
    /// Which limit.
    pub kind: VenueLimitKind,
    /// The count we believe the venue holds, including our requests in flight.
    pub used: u32,
    /// What the request would add.
    pub cost: u32,
    /// The venue's limit and our reserve (zero for [`VenueLimitKind::Backoff`]).
    pub limit: WindowLimit,
    /// When it frees up, if known: `None` while the requests in flight alone fill it (it frees
    /// as they are answered).
    pub frees_at: Option<Nanos>,
    /// How long from now that is.
    pub wait: Option<Duration>,
}

impl fmt::Display for VenueRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == VenueLimitKind::Backoff {
            write!(f, "{} in effect", self.kind.describe())?;
        } else {
            write!(
                f,
                "{} at {} of {} (reserve {}), request adds {}",
                self.kind.describe(),
                self.used,
                self.limit.limit,
                self.limit.reserve,
                self.cost
            )?;
        }
        match self.wait {
            Some(wait) => write!(f, "; frees in {wait:?} at most"),
            None => f.write_str("; frees as requests in flight are answered"),
        }
    }
}

impl std::error::Error for VenueRefusal {}

#[derive(Debug, Clone, Copy)]
struct Window {
    kind: VenueLimitKind,
    limit: WindowLimit,
    span: Duration,
    reported: u32,
    reported_until: Nanos,
    in_flight: u32,
}

impl Window {
    const fn new(kind: VenueLimitKind, limit: WindowLimit, span: Duration) -> Self {
        Self {
            kind,
            limit,
            span,
            reported: 0,
            reported_until: Nanos::ZERO,
            in_flight: 0,
        }
    }

    fn reported_at(&self, now: Nanos) -> u32 {
        if now < self.reported_until {
            self.reported
        } else {
            0
        }
    }

    fn used(&self, now: Nanos) -> u32 {
        self.reported_at(now).saturating_add(self.in_flight)
    }

    fn check(&self, cost: u32, now: Nanos) -> Result<(), VenueRefusal> {
        let allowed = self.limit.allowed();
        let fits = |used: u32| used < allowed && used.saturating_add(cost) <= allowed;
        let used = self.used(now);
        if fits(used) {
            return Ok(());
        }
        // Once the reported part expires only our requests in flight remain.
        let frees_at = fits(self.in_flight).then_some(self.reported_until);
        Err(VenueRefusal {
            kind: self.kind,
            used,
            cost,
            limit: self.limit,
            frees_at,
            wait: frees_at.map(|at| at.saturating_since(now)),
        })
    }

    fn sent(&mut self, cost: u32) {
        self.in_flight = self.in_flight.saturating_add(cost);
    }

    fn answered(&mut self, cost: u32, reported: Option<u32>, now: Nanos) {
        self.in_flight = self.in_flight.saturating_sub(cost);
        if let Some(count) = reported {
            self.reported = count;
            self.reported_until = now.saturating_add(self.span);
        }
    }
}

/// The venue's order-count and weight windows as we know them (module docs).
///
/// Every request counted by [`VenueCounters::on_sent`] must later be settled by exactly one
/// [`VenueCounters::on_answer`] — with the answer's counters, or with
/// [`VenueUsage::default()`] when it carried none or never came (timeout, lost connection).
#[derive(Debug, Clone)]
pub struct VenueCounters {
    orders_10s: Window,
    orders_1m: Window,
    weight_1m: Window,
    blocked_until: Nanos,
}

/// How long to hold off after a 429 that named no `Retry-After` (order-count 429s carry none,
/// §4.4): the shortest venue window.
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(10);

impl VenueCounters {
    /// Counters with nothing reported yet.
    #[must_use]
    pub const fn new(limits: VenueLimits) -> Self {
        Self {
            orders_10s: Window::new(
                VenueLimitKind::Orders10s,
                limits.orders_10s,
                Duration::from_secs(10),
            ),
            orders_1m: Window::new(
                VenueLimitKind::Orders1m,
                limits.orders_1m,
                Duration::from_secs(60),
            ),
            weight_1m: Window::new(
                VenueLimitKind::Weight1m,
                limits.weight_1m,
                Duration::from_secs(60),
            ),
            blocked_until: Nanos::ZERO,
        }
    }

    /// Whether a request of `cost` may be sent at `now`. The weight window refuses even a
    /// zero-weight order once it is spent: the venue answers every request with 429 then.
    ///
    /// # Errors
    /// The first [`VenueRefusal`] in the order back-off, orders per 10 s, orders per minute,
    /// weight per minute.
    pub fn check(&self, cost: Cost, now: Nanos) -> Result<(), VenueRefusal> {
        if now < self.blocked_until {
            return Err(VenueRefusal {
                kind: VenueLimitKind::Backoff,
                used: 0,
                cost: 0,
                limit: WindowLimit {
                    limit: 0,
                    reserve: 0,
                },
                frees_at: Some(self.blocked_until),
                wait: Some(self.blocked_until.saturating_since(now)),
            });
        }
        if cost.orders_10s > 0 {
            self.orders_10s.check(cost.orders_10s, now)?;
        }
        if cost.orders_1m > 0 {
            self.orders_1m.check(cost.orders_1m, now)?;
        }
        self.weight_1m.check(cost.weight, now)
    }

    /// Counts a request of `cost` as sent (in flight until answered).
    pub fn on_sent(&mut self, cost: Cost) {
        self.orders_10s.sent(cost.orders_10s);
        self.orders_1m.sent(cost.orders_1m);
        self.weight_1m.sent(cost.weight);
    }

    /// Settles a request of `cost` sent earlier and takes the counters its answer carried.
    pub fn on_answer(&mut self, cost: Cost, usage: VenueUsage, now: Nanos) {
        self.orders_10s
            .answered(cost.orders_10s, usage.order_count_10s, now);
        self.orders_1m
            .answered(cost.orders_1m, usage.order_count_1m, now);
        self.weight_1m
            .answered(cost.weight, usage.used_weight_1m, now);
    }

    /// Takes counters read outside our own requests (another component's answer on the same
    /// IP, a `rateLimits` array of a WebSocket-API answer).
    pub fn observe(&mut self, usage: VenueUsage, now: Nanos) {
        self.on_answer(Cost::request(0), usage, now);
    }

    /// The venue answered 429 or 418: send nothing until `retry_after` (or
    /// [`DEFAULT_BACKOFF`] when it named none) has passed.
    pub fn on_rate_limited(&mut self, retry_after: Option<Duration>, now: Nanos) {
        let until = now.saturating_add(retry_after.unwrap_or(DEFAULT_BACKOFF));
        self.blocked_until = self.blocked_until.max(until);
    }

    /// The count we believe the venue holds in each window at `now`: (orders per 10 s, orders
    /// per minute, weight per minute).
    #[must_use]
    pub fn used(&self, now: Nanos) -> (u32, u32, u32) {
        (
            self.orders_10s.used(now),
            self.orders_1m.used(now),
            self.weight_1m.used(now),
        )
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn burst_of_n_is_admitted_then_the_next_waits_for_the_first_to_age_out() {
        let mut limiter = OrderRateLimiter::per_second(10);
        let t0 = Nanos::from_secs(100);
        for _ in 0..10 {
            assert_eq!(limiter.try_admit(t0), Ok(()));
        }
        let t1 = Nanos::from_nanos(t0.as_nanos() + 400_000_000);
        let refusal = limiter.try_admit(t1).unwrap_err();
        assert_eq!(refusal.frees_at, Nanos::from_secs(101));
        assert_eq!(refusal.wait, Duration::from_millis(600));
        assert!(
            refusal
                .to_string()
                .contains("10 orders per 1s reached; the next slot frees in 600ms"),
            "{refusal}"
        );
        assert_eq!(
            limiter.try_admit(Nanos::from_nanos(101 * SECOND - 1)),
            Err(LocalRateRefusal {
                max_orders: 10,
                window: Duration::from_secs(1),
                frees_at: Nanos::from_secs(101),
                wait: Duration::from_nanos(1),
            })
        );
        assert_eq!(limiter.try_admit(Nanos::from_secs(101)), Ok(()));
    }

    #[test]
    fn a_refused_order_does_not_use_a_slot() {
        let mut limiter = OrderRateLimiter::per_second(1);
        assert!(limiter.try_admit(Nanos::ZERO).is_ok());
        for ms in 1..1000 {
            assert!(limiter.try_admit(Nanos::from_millis(ms)).is_err());
        }
        assert!(limiter.try_admit(Nanos::from_secs(1)).is_ok());
    }

    #[test]
    fn zero_orders_per_second_admits_nothing() {
        let mut limiter = OrderRateLimiter::per_second(0);
        assert!(limiter.try_admit(Nanos::from_secs(1_000)).is_err());
    }

    proptest! {
        /// Never more than N admissions in any one-second window, and never a refusal when
        /// fewer than N were admitted in the second before: exact in both directions.
        #[test]
        fn never_more_than_n_orders_in_any_one_second_window(
            n in 1u32..20,
            gaps in proptest::collection::vec(0u64..300_000_000, 1..400),
        ) {
            let mut limiter = OrderRateLimiter::per_second(n);
            let mut now = 0u64;
            let mut admitted: Vec<u64> = Vec::new();
            for gap in gaps {
                now += gap;
                let in_last_second = admitted.iter().filter(|&&a| a + SECOND > now).count();
                let result = limiter.try_admit(Nanos::from_nanos(now));
                if in_last_second < n as usize {
                    prop_assert!(result.is_ok(), "refused with only {} in the last second", in_last_second);
                    admitted.push(now);
                } else {
                    let refusal = result.unwrap_err();
                    prop_assert!(refusal.frees_at.as_nanos() > now);
                    prop_assert!(refusal.wait <= Duration::from_secs(1));
                }
            }
            for (i, &t) in admitted.iter().enumerate() {
                let window = admitted[i..].iter().take_while(|&&a| a < t + SECOND).count();
                prop_assert!(window <= n as usize, "{} orders within one second of {}", window, t);
            }
        }
    }

    fn usage(weight: Option<u32>, c10: Option<u32>, c1m: Option<u32>) -> VenueUsage {
        VenueUsage {
            used_weight_1m: weight,
            order_count_10s: c10,
            order_count_1m: c1m,
        }
    }

    #[test]
    fn reserve_is_rounded_up_and_never_exceeds_the_limit() {
        assert_eq!(WindowLimit::with_reserve_pct(300, 5).reserve, 15);
        assert_eq!(WindowLimit::with_reserve_pct(10, 5).reserve, 1);
        assert_eq!(WindowLimit::with_reserve_pct(10, 500).allowed(), 0);
        assert_eq!(VenueLimits::binance_usdm().orders_1m.allowed(), 1_140);
    }

    #[test]
    fn order_count_header_near_the_10s_limit_refuses_locally_and_says_when_it_frees() {
        let mut venue = VenueCounters::new(VenueLimits::new(300, 1_200, 2_400, 0));
        let t = Nanos::from_secs(50);
        venue.on_sent(Cost::ORDER);
        venue.on_answer(Cost::ORDER, usage(Some(10), Some(299), Some(400)), t);
        assert_eq!(venue.check(Cost::ORDER, t), Ok(()));
        venue.on_sent(Cost::ORDER);
        let refusal = venue.check(Cost::ORDER, t).unwrap_err();
        assert_eq!(refusal.kind, VenueLimitKind::Orders10s);
        assert_eq!(refusal.used, 300);
        // The in-flight order alone fits, so the window frees when the report expires.
        assert_eq!(refusal.frees_at, Some(Nanos::from_secs(60)));
        let text = refusal.to_string();
        assert!(text.contains("X-MBX-ORDER-COUNT-10S"), "{text}");
        assert!(text.contains("frees in 10s"), "{text}");
        // Batch orders cost 5 per 10 s.
        assert_eq!(
            venue.check(Cost::BATCH_ORDERS, t).map_err(|r| r.kind),
            Err(VenueLimitKind::Orders10s)
        );
        // A cancel costs no order count.
        assert_eq!(venue.check(Cost::request(1), t), Ok(()));
        assert_eq!(venue.check(Cost::ORDER, Nanos::from_secs(60)), Ok(()));
    }

    #[test]
    fn minute_count_and_weight_are_checked_with_the_reserve() {
        let mut venue = VenueCounters::new(VenueLimits::binance_usdm());
        let t = Nanos::from_secs(1);
        venue.observe(usage(None, Some(3), Some(1_140)), t);
        let refusal = venue.check(Cost::ORDER, t).unwrap_err();
        assert_eq!(refusal.kind, VenueLimitKind::Orders1m);
        assert_eq!(refusal.limit.reserve, 60);
        assert_eq!(refusal.wait, Some(Duration::from_secs(60)));
        let mut venue = VenueCounters::new(VenueLimits::binance_usdm());
        venue.observe(usage(Some(2_280), None, None), t);
        assert_eq!(
            venue.check(Cost::ORDER, t).map_err(|r| r.kind),
            Err(VenueLimitKind::Weight1m)
        );
    }

    #[test]
    fn orders_in_flight_count_until_answered_and_the_answer_replaces_the_estimate() {
        let mut venue = VenueCounters::new(VenueLimits::new(10, 100, 2_400, 0));
        let t = Nanos::from_secs(1);
        for _ in 0..10 {
            venue.check(Cost::ORDER, t).unwrap();
            venue.on_sent(Cost::ORDER);
        }
        let refusal = venue.check(Cost::ORDER, t).unwrap_err();
        assert_eq!(refusal.frees_at, None);
        assert!(refusal.to_string().contains("in flight"));
        // The first answer reports the venue counted 1; nine remain in flight.
        venue.on_answer(Cost::ORDER, usage(Some(1), Some(1), Some(1)), t);
        assert_eq!(venue.used(t), (10, 10, 1));
        // Timeouts settle without counters.
        for _ in 0..9 {
            venue.on_answer(Cost::ORDER, VenueUsage::default(), t);
        }
        assert_eq!(venue.used(t), (1, 1, 1));
        assert_eq!(venue.used(Nanos::from_secs(11)), (0, 1, 1));
    }

    #[test]
    fn a_429_blocks_until_retry_after_or_ten_seconds() {
        let mut venue = VenueCounters::new(VenueLimits::binance_usdm());
        let t = Nanos::from_secs(5);
        venue.on_rate_limited(Some(Duration::from_secs(3)), t);
        let refusal = venue.check(Cost::request(1), t).unwrap_err();
        assert_eq!(refusal.kind, VenueLimitKind::Backoff);
        assert_eq!(refusal.wait, Some(Duration::from_secs(3)));
        assert!(venue.check(Cost::ORDER, Nanos::from_secs(8)).is_ok());
        venue.on_rate_limited(None, Nanos::from_secs(8));
        assert!(venue.check(Cost::ORDER, Nanos::from_secs(17)).is_err());
        assert!(venue.check(Cost::ORDER, Nanos::from_secs(18)).is_ok());
    }

    proptest! {
        /// Whatever the venue reports and whatever we send, we never send an order that would
        /// take our own count past the allowed share of a window.
        #[test]
        fn never_sends_past_the_allowed_share(
            steps in proptest::collection::vec((0u64..2_000, 0u32..400, any::<bool>()), 1..300),
        ) {
            let limits = VenueLimits::binance_usdm();
            let mut venue = VenueCounters::new(limits);
            let mut now = Nanos::ZERO;
            for (gap_ms, reported, answer) in steps {
                now = now.saturating_add(Duration::from_millis(gap_ms));
                if answer {
                    venue.on_answer(Cost::ORDER, usage(None, Some(reported), None), now);
                } else if venue.check(Cost::ORDER, now).is_ok() {
                    venue.on_sent(Cost::ORDER);
                    prop_assert!(venue.used(now).0 <= limits.orders_10s.allowed());
                }
            }
        }
    }
}
