//! [`TradeFlow`]: one symbol's trade-flow metrics over rolling windows (seed 000 FR-MD-003,
//! step 3 "validate data integrity" and step 4 "calculate trade flow metrics (net buy/sell
//! volume)").
//!
//! Each trade is checked (positive price and quantity; trade id strictly increasing, so a
//! duplicate or a replayed trade is counted and skipped) and then attributed to its
//! *aggressor*: `buyer_is_maker` means the buyer was resting, so the seller took liquidity and
//! the trade is sell volume; otherwise it is buy volume. Volumes are exact: quantities sum as
//! [`Qty`], notionals (`price × qty`) as [`Money`]; no floats anywhere.
//!
//! # Windows and buckets
//!
//! Time is the trade's exchange time in milliseconds, passed in with the trade (or with
//! [`TradeFlow::advance_to`] to let windows empty out when no trade comes); the clock is never
//! read. Time is cut into buckets of [`FlowConfig::bucket`] (default 100 ms) numbered
//! `time_ms / bucket_ms`; the *head* is the latest bucket seen. A window of length `W` covers
//! the `W / bucket` most recent buckets, the head included: it spans between `W - bucket` and
//! `W` of time, ending at the latest trade.
//!
//! The buckets live in a ring as long as the longest window, and each window keeps a running
//! sum. A trade adds to its bucket and to the sums of the windows covering it; moving the head
//! forward subtracts the buckets that leave each window. Both are O(number of windows) per
//! trade, amortised over time, and allocate nothing; a jump in time longer than the longest
//! window resets everything at once. A trade older than the head (clocks on the tape are not
//! strictly monotone) still lands in its own bucket; one older than the longest window is
//! counted in [`FlowCounters::late`] and added to no window.

use std::time::Duration;

use kestrel_model::trade::TradeError;
use kestrel_model::{Money, Qty, Side, Trade};

/// How to build a [`TradeFlow`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowConfig {
    /// Bucket width: the time resolution of the windows (a whole number of milliseconds).
    pub bucket: Duration,
    /// Window lengths, strictly increasing, each a whole multiple of `bucket`.
    pub windows: Vec<Duration>,
}

impl FlowConfig {
    /// The default bucket width, 100 ms.
    pub const DEFAULT_BUCKET: Duration = Duration::from_millis(100);
    /// The default windows: 1 s, 10 s and 60 s.
    pub const DEFAULT_WINDOWS: [Duration; 3] = [
        Duration::from_secs(1),
        Duration::from_secs(10),
        Duration::from_secs(60),
    ];
    /// The most buckets the longest window may span (memory bound of the ring).
    pub const MAX_BUCKETS: u64 = 1 << 20;
}

impl Default for FlowConfig {
    fn default() -> Self {
        Self {
            bucket: Self::DEFAULT_BUCKET,
            windows: Self::DEFAULT_WINDOWS.to_vec(),
        }
    }
}

/// Why a [`FlowConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowConfigError {
    /// The bucket is zero or not a whole number of milliseconds.
    #[error("trade flow: bucket must be a positive whole number of ms, found {bucket:?}")]
    InvalidBucket {
        /// The rejected bucket width.
        bucket: Duration,
    },
    /// No window was configured.
    #[error("trade flow: at least one window is required")]
    NoWindows,
    /// A window is zero, not a multiple of the bucket, or not longer than the one before.
    #[error(
        "trade flow: window {window:?} must be a positive multiple of the bucket {bucket:?}, \
         longer than the previous window"
    )]
    InvalidWindow {
        /// The rejected window.
        window: Duration,
        /// The bucket width.
        bucket: Duration,
    },
    /// The longest window spans more than [`FlowConfig::MAX_BUCKETS`] buckets.
    #[error("trade flow: window {window:?} spans more than {max} buckets of {bucket:?}")]
    TooManyBuckets {
        /// The longest window.
        window: Duration,
        /// The bucket width.
        bucket: Duration,
        /// The limit.
        max: u64,
    },
}

/// Why a trade was not counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// Price or quantity is not positive.
    #[error("trade flow: {0}")]
    Invalid(#[from] TradeError),
    /// The trade id was already counted.
    #[error("trade flow: duplicate trade id {trade_id}")]
    Duplicate {
        /// The repeated id.
        trade_id: u64,
    },
    /// The trade id is below the last counted one.
    #[error("trade flow: trade id {trade_id} is out of order, expected above {last_trade_id}")]
    OutOfOrder {
        /// The id found.
        trade_id: u64,
        /// The last id counted.
        last_trade_id: u64,
    },
    /// Counting the trade would take a window's volume beyond the range of [`Qty`] or
    /// [`Money`].
    #[error("trade flow: trade {trade_id} overflows the window volume")]
    Overflow {
        /// The trade's id.
        trade_id: u64,
    },
}

/// Buy and sell flow over one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowStats {
    /// The window's length.
    pub window: Duration,
    /// Quantity bought by aggressors (taker buys).
    pub buy_qty: Qty,
    /// Quantity sold by aggressors (taker sells).
    pub sell_qty: Qty,
    /// `buy_qty - sell_qty`.
    pub net_qty: Qty,
    /// Notional of the taker buys.
    pub buy_notional: Money,
    /// Notional of the taker sells.
    pub sell_notional: Money,
    /// `buy_notional - sell_notional`.
    pub net_notional: Money,
    /// Number of trades.
    pub trades: u64,
}

/// Running totals since construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowCounters {
    /// Trades counted.
    pub accepted: u64,
    /// Trades refused for a non-positive price or quantity.
    pub invalid: u64,
    /// Trades skipped as duplicates of the last id.
    pub duplicates: u64,
    /// Trades skipped for an id below the last one.
    pub out_of_order: u64,
    /// Trades counted but older than every window.
    pub late: u64,
    /// Trades refused because a window's volume would overflow.
    pub overflow: u64,
}

/// Raw sums: quantities in 10⁻⁸ units, notionals in 10⁻¹⁶ units (the raw integers of [`Qty`]
/// and [`Money`]), widened so that adding and removing buckets never wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Sums {
    buy_qty: i128,
    sell_qty: i128,
    buy_notional: i128,
    sell_notional: i128,
    trades: u64,
}

impl Sums {
    /// Adds one trade: `qty` and `notional` raw, checked by the caller to fit.
    fn add(&mut self, side: Side, qty: i128, notional: i128) {
        match side {
            Side::Buy => {
                self.buy_qty += qty;
                self.buy_notional += notional;
            }
            Side::Sell => {
                self.sell_qty += qty;
                self.sell_notional += notional;
            }
        }
        self.trades += 1;
    }

    /// Removes a bucket's sums, which were all added to `self` before.
    fn subtract(&mut self, bucket: &Self) {
        self.buy_qty -= bucket.buy_qty;
        self.sell_qty -= bucket.sell_qty;
        self.buy_notional -= bucket.buy_notional;
        self.sell_notional -= bucket.sell_notional;
        self.trades -= bucket.trades;
    }

    /// Whether one more trade of `qty` and `notional` on `side` keeps every sum in range.
    fn has_room(&self, side: Side, qty: i128, notional: i128) -> bool {
        let (held_qty, held_notional) = match side {
            Side::Buy => (self.buy_qty, self.buy_notional),
            Side::Sell => (self.sell_qty, self.sell_notional),
        };
        held_qty + qty <= i128::from(i64::MAX)
            && held_notional.checked_add(notional).is_some()
            && self.trades < u64::MAX
    }
}

/// A marker bucket id meaning "this slot holds no bucket".
const NO_BUCKET: u64 = u64::MAX;

/// One ring slot: the bucket it holds and its sums.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    id: u64,
    sums: Sums,
}

/// One window: its length in buckets and its running sums.
#[derive(Debug, Clone, Copy)]
struct Window {
    length: Duration,
    buckets: u64,
    sums: Sums,
}

/// One symbol's trade flow over rolling windows; see the module documentation.
#[derive(Debug, Clone)]
pub struct TradeFlow {
    bucket_ms: u64,
    /// Windows by increasing length; the last one spans the whole ring.
    windows: Box<[Window]>,
    ring: Box<[Bucket]>,
    /// The latest bucket seen.
    head: Option<u64>,
    last_trade_id: Option<u64>,
    counters: FlowCounters,
}

impl TradeFlow {
    /// Empty windows.
    ///
    /// # Errors
    /// [`FlowConfigError`] for a bucket or windows that do not fit the rules of [`FlowConfig`].
    pub fn new(config: &FlowConfig) -> Result<Self, FlowConfigError> {
        let bucket_ms =
            whole_ms(config.bucket)
                .filter(|&ms| ms > 0)
                .ok_or(FlowConfigError::InvalidBucket {
                    bucket: config.bucket,
                })?;
        let windows = window_buckets(config, bucket_ms)?;
        let longest = windows
            .last()
            .map(|w| w.buckets)
            .ok_or(FlowConfigError::NoWindows)?;
        let empty = Bucket {
            id: NO_BUCKET,
            sums: Sums::default(),
        };
        Ok(Self {
            bucket_ms,
            windows: windows.into_boxed_slice(),
            ring: vec![empty; usize::try_from(longest).unwrap_or(0)].into_boxed_slice(),
            head: None,
            last_trade_id: None,
            counters: FlowCounters::default(),
        })
    }

    /// Counts one trade (see the module documentation for the checks and the windows).
    ///
    /// # Errors
    /// [`FlowError::Invalid`], [`FlowError::Duplicate`] or [`FlowError::OutOfOrder`] (the trade
    /// is skipped and counted), or [`FlowError::Overflow`].
    pub fn on_trade(&mut self, trade: &Trade) -> Result<(), FlowError> {
        if let Err(error) = trade.validate() {
            self.counters.invalid += 1;
            return Err(error.into());
        }
        self.check_id(trade.trade_id)?;
        let bucket = trade.timestamp_ms / self.bucket_ms;
        self.advance(bucket);
        let (qty, notional) = (i128::from(trade.quantity.raw()), trade.notional().raw());
        let side = trade.aggressor_side();
        let Some(slot) = self.slot_for(bucket) else {
            self.accept(trade.trade_id);
            self.counters.late += 1;
            return Ok(());
        };
        // The longest window covers every live bucket and every other window, so room there
        // is room everywhere.
        if !self
            .windows
            .last()
            .is_some_and(|w| w.sums.has_room(side, qty, notional))
        {
            self.counters.overflow += 1;
            return Err(FlowError::Overflow {
                trade_id: trade.trade_id,
            });
        }
        self.accept(trade.trade_id);
        if let Some(slot) = self.ring.get_mut(slot) {
            slot.sums.add(side, qty, notional);
        }
        let age = self.head.map_or(0, |head| head.saturating_sub(bucket));
        for window in self.windows.iter_mut().filter(|w| age < w.buckets) {
            window.sums.add(side, qty, notional);
        }
        Ok(())
    }

    /// Refuses a trade id that is not above the last one counted.
    fn check_id(&mut self, trade_id: u64) -> Result<(), FlowError> {
        match self.last_trade_id {
            Some(last) if trade_id == last => {
                self.counters.duplicates += 1;
                Err(FlowError::Duplicate { trade_id })
            }
            Some(last_trade_id) if trade_id < last_trade_id => {
                self.counters.out_of_order += 1;
                Err(FlowError::OutOfOrder {
                    trade_id,
                    last_trade_id,
                })
            }
            _ => Ok(()),
        }
    }

    fn accept(&mut self, trade_id: u64) {
        self.last_trade_id = Some(trade_id);
        self.counters.accepted += 1;
    }

    /// The ring index of `bucket`, making the slot hold it; `None` when the bucket is older
    /// than the longest window.
    fn slot_for(&mut self, bucket: u64) -> Option<usize> {
        let head = self.head?;
        let span = self.ring.len() as u64;
        if head.saturating_sub(bucket) >= span {
            return None;
        }
        let index = usize::try_from(bucket.checked_rem(span)?).ok()?;
        let slot = self.ring.get_mut(index)?;
        if slot.id != bucket {
            // It held a bucket at least one ring length older, which no window covers now.
            *slot = Bucket {
                id: bucket,
                sums: Sums::default(),
            };
        }
        Some(index)
    }

    /// Moves the windows' end to `now_ms` (exchange time) so that trades older than each
    /// window stop counting even when no new trade arrives. Earlier times are ignored.
    pub fn advance_to(&mut self, now_ms: u64) {
        self.advance(now_ms / self.bucket_ms);
    }

    /// Moves the head to `bucket` if it is later, expiring what leaves each window.
    fn advance(&mut self, bucket: u64) {
        let span = self.ring.len() as u64;
        let from = match self.head {
            Some(head) if bucket <= head => return,
            Some(head) if bucket - head < span => head,
            _ => {
                // First bucket, or a jump past the longest window: nothing survives.
                for window in self.windows.iter_mut() {
                    window.sums = Sums::default();
                }
                self.head = Some(bucket);
                return;
            }
        };
        for entering in from + 1..=bucket {
            self.expire(entering);
        }
        self.head = Some(bucket);
    }

    /// Makes `entering` the head bucket: every window drops the bucket that falls out of it.
    fn expire(&mut self, entering: u64) {
        let span = self.ring.len() as u64;
        for window in self.windows.iter_mut() {
            let Some(leaving) = entering.checked_sub(window.buckets) else {
                continue;
            };
            let slot = leaving
                .checked_rem(span)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.ring.get(i));
            if let Some(slot) = slot.filter(|slot| slot.id == leaving) {
                window.sums.subtract(&slot.sums);
            }
        }
    }

    /// The flow over the window at `index` (in configuration order), as of the head.
    #[must_use]
    pub fn window(&self, index: usize) -> Option<FlowStats> {
        self.windows.get(index).map(Window::stats)
    }

    /// The flow over the window of this length, if one is configured.
    #[must_use]
    pub fn window_for(&self, length: Duration) -> Option<FlowStats> {
        self.windows
            .iter()
            .find(|w| w.length == length)
            .map(Window::stats)
    }

    /// Every window's flow, shortest first.
    pub fn windows(&self) -> impl ExactSizeIterator<Item = FlowStats> + '_ {
        self.windows.iter().map(Window::stats)
    }

    /// The start of the head bucket in ms (the windows' end); `None` before any time is seen.
    #[must_use]
    pub fn head_ms(&self) -> Option<u64> {
        self.head.map(|head| head.saturating_mul(self.bucket_ms))
    }

    /// The last trade id counted.
    #[must_use]
    pub const fn last_trade_id(&self) -> Option<u64> {
        self.last_trade_id
    }

    /// The running totals.
    #[must_use]
    pub const fn counters(&self) -> &FlowCounters {
        &self.counters
    }
}

impl Window {
    fn stats(&self) -> FlowStats {
        let s = &self.sums;
        // Every qty sum is checked on entry to fit an i64 (see `Sums::has_room`).
        let qty = |raw: i128| Qty::from_raw(i64::try_from(raw).unwrap_or(i64::MAX));
        FlowStats {
            window: self.length,
            buy_qty: qty(s.buy_qty),
            sell_qty: qty(s.sell_qty),
            net_qty: qty(s.buy_qty - s.sell_qty),
            buy_notional: Money::from_raw(s.buy_notional),
            sell_notional: Money::from_raw(s.sell_notional),
            net_notional: Money::from_raw(s.buy_notional - s.sell_notional),
            trades: s.trades,
        }
    }
}

/// `duration` in whole milliseconds; `None` if it has a fraction of one or is too long.
fn whole_ms(duration: Duration) -> Option<u64> {
    if !duration.subsec_nanos().is_multiple_of(1_000_000) {
        return None;
    }
    u64::try_from(duration.as_millis()).ok()
}

/// The configured windows with their lengths in buckets, checked.
fn window_buckets(config: &FlowConfig, bucket_ms: u64) -> Result<Vec<Window>, FlowConfigError> {
    let mut windows = Vec::with_capacity(config.windows.len());
    let mut previous = 0;
    for &length in &config.windows {
        let invalid = FlowConfigError::InvalidWindow {
            window: length,
            bucket: config.bucket,
        };
        let ms = whole_ms(length).ok_or_else(|| invalid.clone())?;
        if ms == 0 || ms % bucket_ms != 0 || ms <= previous {
            return Err(invalid);
        }
        if ms / bucket_ms > FlowConfig::MAX_BUCKETS {
            return Err(FlowConfigError::TooManyBuckets {
                window: length,
                bucket: config.bucket,
                max: FlowConfig::MAX_BUCKETS,
            });
        }
        previous = ms;
        windows.push(Window {
            length,
            buckets: ms / bucket_ms,
            sums: Sums::default(),
        });
    }
    Ok(windows)
}

#[cfg(test)]
mod tests {
    // Test code: a panic is a failed assertion, not a crash on outside input.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use proptest::prelude::*;

    use super::*;
    use kestrel_model::Price;

    fn trade(
        trade_id: u64,
        timestamp_ms: u64,
        price: &str,
        qty: &str,
        buyer_is_maker: bool,
    ) -> Trade {
        Trade {
            symbol: "BTCUSDT".to_owned(),
            trade_id,
            price: Price::parse(price).unwrap(),
            quantity: Qty::parse(qty).unwrap(),
            timestamp_ms,
            buyer_is_maker,
        }
    }

    fn q(text: &str) -> Qty {
        Qty::parse(text).unwrap()
    }

    fn m(text: &str) -> Money {
        Money::parse(text).unwrap()
    }

    fn flow() -> TradeFlow {
        TradeFlow::new(&FlowConfig::default()).unwrap()
    }

    const ONE_S: usize = 0;
    const TEN_S: usize = 1;
    const SIXTY_S: usize = 2;

    #[test]
    fn default_windows_are_one_ten_and_sixty_seconds_of_100_ms_buckets() {
        let flow = flow();
        let lengths: Vec<Duration> = flow.windows().map(|w| w.window).collect();
        assert_eq!(lengths, FlowConfig::DEFAULT_WINDOWS);
        assert_eq!(flow.ring.len(), 600);
        let empty = flow.window_for(Duration::from_secs(10)).unwrap();
        assert_eq!(
            (empty.trades, empty.net_qty, empty.net_notional),
            (0, Qty::ZERO, Money::ZERO)
        );
        assert_eq!(flow.window_for(Duration::from_secs(5)), None);
    }

    #[test]
    fn buyer_is_maker_trade_is_sell_aggressor_volume() {
        let mut flow = flow();
        flow.on_trade(&trade(1, 1_000, "60000.5", "0.25", false))
            .unwrap();
        flow.on_trade(&trade(2, 1_010, "60000.0", "0.1", true))
            .unwrap();
        let w = flow.window(ONE_S).unwrap();
        assert_eq!(w.buy_qty, q("0.25"));
        assert_eq!(w.sell_qty, q("0.1"));
        assert_eq!(w.net_qty, q("0.15"));
        assert_eq!(w.buy_notional, m("15000.125"));
        assert_eq!(w.sell_notional, m("6000"));
        assert_eq!(w.net_notional, m("9000.125"));
        assert_eq!(w.trades, 2);
    }

    #[test]
    fn hand_worked_windows_cover_the_latest_whole_buckets() {
        // Buckets of 100 ms: t=0 and t=50 are bucket 0, t=950 bucket 9, t=1000 bucket 10.
        let mut flow = flow();
        flow.on_trade(&trade(1, 0, "100", "1", false)).unwrap();
        flow.on_trade(&trade(2, 50, "101", "2", true)).unwrap();
        flow.on_trade(&trade(3, 950, "100", "0.5", false)).unwrap();
        let one = flow.window(ONE_S).unwrap();
        assert_eq!(
            (one.buy_qty, one.sell_qty, one.net_qty),
            (q("1.5"), q("2"), q("-0.5"))
        );
        assert_eq!(one.net_notional, m("-52"));
        // Bucket 10 starts: the 1 s window is buckets 1..=10, so bucket 0 leaves it.
        flow.on_trade(&trade(4, 1_000, "99", "3", true)).unwrap();
        let one = flow.window(ONE_S).unwrap();
        assert_eq!(
            (one.buy_qty, one.sell_qty, one.trades),
            (q("0.5"), q("3"), 2)
        );
        assert_eq!(one.buy_notional, m("50"));
        assert_eq!(one.sell_notional, m("297"));
        let ten = flow.window(TEN_S).unwrap();
        assert_eq!(
            (ten.buy_qty, ten.sell_qty, ten.trades),
            (q("1.5"), q("5"), 4)
        );
        assert_eq!(ten.net_notional, m("150").try_sub(m("499")).unwrap());
        assert_eq!(flow.window(SIXTY_S).unwrap().trades, 4);
        assert_eq!(flow.head_ms(), Some(1_000));
    }

    #[test]
    fn old_buckets_expire_as_time_advances_without_trades() {
        let mut flow = flow();
        flow.on_trade(&trade(1, 10_000, "100", "1", false)).unwrap();
        flow.on_trade(&trade(2, 15_000, "100", "2", true)).unwrap();
        flow.advance_to(15_999);
        assert_eq!(flow.window(ONE_S).unwrap().sell_qty, q("2"));
        flow.advance_to(16_000);
        assert_eq!(flow.window(ONE_S).unwrap().trades, 0);
        assert_eq!(flow.window(TEN_S).unwrap().trades, 2);
        flow.advance_to(19_999);
        assert_eq!(flow.window(TEN_S).unwrap().trades, 2);
        flow.advance_to(20_000);
        let ten = flow.window(TEN_S).unwrap();
        assert_eq!((ten.buy_qty, ten.sell_qty), (Qty::ZERO, q("2")));
        flow.advance_to(25_000);
        assert_eq!(flow.window(TEN_S).unwrap().trades, 0);
        assert_eq!(flow.window(SIXTY_S).unwrap().trades, 2);
        flow.advance_to(70_000);
        assert_eq!(flow.window(SIXTY_S).unwrap().buy_qty, Qty::ZERO);
        assert_eq!(flow.window(SIXTY_S).unwrap().sell_qty, q("2"));
        // Going back in time changes nothing.
        flow.advance_to(1_000);
        assert_eq!(flow.head_ms(), Some(70_000));
    }

    #[test]
    fn duplicate_and_out_of_order_trade_ids_are_counted_and_skipped() {
        let mut flow = flow();
        flow.on_trade(&trade(10, 0, "100", "1", false)).unwrap();
        assert_eq!(
            flow.on_trade(&trade(10, 0, "100", "1", false)),
            Err(FlowError::Duplicate { trade_id: 10 })
        );
        assert_eq!(
            flow.on_trade(&trade(9, 0, "100", "1", false)),
            Err(FlowError::OutOfOrder {
                trade_id: 9,
                last_trade_id: 10
            })
        );
        flow.on_trade(&trade(12, 0, "100", "1", true)).unwrap();
        let c = flow.counters();
        assert_eq!((c.accepted, c.duplicates, c.out_of_order), (2, 1, 1));
        let w = flow.window(ONE_S).unwrap();
        assert_eq!((w.buy_qty, w.sell_qty, w.trades), (q("1"), q("1"), 2));
        assert_eq!(flow.last_trade_id(), Some(12));
    }

    #[test]
    fn trades_without_positive_price_and_qty_are_refused() {
        let mut flow = flow();
        let zero_qty = flow.on_trade(&trade(1, 0, "100", "0", false));
        assert!(
            matches!(zero_qty, Err(FlowError::Invalid(_))),
            "{zero_qty:?}"
        );
        let negative = flow.on_trade(&trade(2, 0, "-1", "1", false));
        assert!(
            matches!(negative, Err(FlowError::Invalid(_))),
            "{negative:?}"
        );
        assert_eq!(flow.counters().invalid, 2);
        assert_eq!(
            flow.last_trade_id(),
            None,
            "a refused trade does not consume its id"
        );
        flow.on_trade(&trade(1, 0, "100", "1", false)).unwrap();
    }

    #[test]
    fn a_gap_longer_than_the_longest_window_resets_every_window() {
        let mut flow = flow();
        for id in 0..50 {
            flow.on_trade(&trade(id, id * 100, "100", "1", id % 2 == 0))
                .unwrap();
        }
        assert_eq!(flow.window(SIXTY_S).unwrap().trades, 50);
        // 61 s later: everything expired at once, and the new trade stands alone.
        flow.on_trade(&trade(50, 4_900 + 61_000, "100", "2", false))
            .unwrap();
        for w in flow.windows() {
            assert_eq!(
                (w.trades, w.buy_qty, w.sell_qty),
                (1, q("2"), Qty::ZERO),
                "{w:?}"
            );
        }
        // The ring's stale slots are not mistaken for live buckets later on.
        flow.on_trade(&trade(51, 4_900 + 61_000 + 30_000, "100", "1", true))
            .unwrap();
        let sixty = flow.window(SIXTY_S).unwrap();
        assert_eq!(
            (sixty.trades, sixty.buy_qty, sixty.sell_qty),
            (2, q("2"), q("1"))
        );
        assert_eq!(flow.window(TEN_S).unwrap().trades, 1);
    }

    #[test]
    fn a_gap_just_shorter_than_the_longest_window_keeps_the_oldest_bucket() {
        let mut flow = flow();
        flow.on_trade(&trade(1, 0, "100", "1", false)).unwrap();
        flow.on_trade(&trade(2, 59_999, "100", "1", true)).unwrap();
        assert_eq!(flow.window(SIXTY_S).unwrap().trades, 2);
        assert_eq!(flow.window(TEN_S).unwrap().trades, 1);
        flow.advance_to(60_000);
        assert_eq!(flow.window(SIXTY_S).unwrap().trades, 1);
    }

    #[test]
    fn a_late_trade_counts_in_the_windows_that_cover_its_bucket() {
        let mut flow = flow();
        flow.on_trade(&trade(1, 100_000, "100", "1", false))
            .unwrap();
        // 5 s older than the head: in the 10 s and 60 s windows, not in the 1 s one.
        flow.on_trade(&trade(2, 95_000, "100", "2", false)).unwrap();
        assert_eq!(flow.window(ONE_S).unwrap().buy_qty, q("1"));
        assert_eq!(flow.window(TEN_S).unwrap().buy_qty, q("3"));
        // It leaves the 10 s window with its bucket.
        flow.advance_to(105_000);
        assert_eq!(flow.window(TEN_S).unwrap().buy_qty, q("1"));
        assert_eq!(flow.window(SIXTY_S).unwrap().buy_qty, q("3"));
        // 60 s or more older than the head: counted, but in no window.
        flow.on_trade(&trade(3, 45_000, "100", "5", false)).unwrap();
        assert_eq!(flow.counters().late, 1);
        assert_eq!(flow.counters().accepted, 3);
        assert_eq!(flow.window(SIXTY_S).unwrap().buy_qty, q("3"));
    }

    #[test]
    fn volume_beyond_the_qty_range_is_refused_not_wrapped() {
        let mut flow = flow();
        let big = Qty::from_raw(i64::MAX / 2 + 1);
        let mut t = trade(1, 0, "1", "1", false);
        t.quantity = big;
        flow.on_trade(&t).unwrap();
        t.trade_id = 2;
        assert_eq!(flow.on_trade(&t), Err(FlowError::Overflow { trade_id: 2 }));
        // The other side still has room.
        t.trade_id = 3;
        t.buyer_is_maker = true;
        flow.on_trade(&t).unwrap();
        let w = flow.window(SIXTY_S).unwrap();
        assert_eq!((w.buy_qty, w.sell_qty, w.net_qty), (big, big, Qty::ZERO));
        assert_eq!(flow.counters().overflow, 1);
    }

    #[test]
    fn configurations_outside_the_rules_are_refused() {
        let config = |bucket_ms: u64, windows_ms: &[u64]| FlowConfig {
            bucket: Duration::from_millis(bucket_ms),
            windows: windows_ms
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
        };
        let refused = |c: FlowConfig| TradeFlow::new(&c).unwrap_err();
        assert!(matches!(
            refused(config(0, &[1000])),
            FlowConfigError::InvalidBucket { .. }
        ));
        assert_eq!(refused(config(100, &[])), FlowConfigError::NoWindows);
        assert!(matches!(
            refused(config(100, &[150])),
            FlowConfigError::InvalidWindow { .. }
        ));
        assert!(matches!(
            refused(config(100, &[1000, 1000])),
            FlowConfigError::InvalidWindow { .. }
        ));
        assert!(matches!(
            refused(config(1, &[2_000_000])),
            FlowConfigError::TooManyBuckets { .. }
        ));
        let sub_ms = FlowConfig {
            bucket: Duration::from_micros(1500),
            windows: vec![Duration::from_secs(3)],
        };
        assert!(matches!(
            refused(sub_ms),
            FlowConfigError::InvalidBucket { .. }
        ));
        let flow = TradeFlow::new(&config(250, &[250, 5000])).unwrap();
        assert_eq!(flow.ring.len(), 20);
    }

    /// One step of a random tape: a trade or a clock tick.
    #[derive(Debug, Clone)]
    enum Step {
        Trade {
            id: u64,
            time_ms: u64,
            price_raw: i64,
            qty_raw: i64,
            buyer_is_maker: bool,
        },
        Advance {
            time_ms: u64,
        },
    }

    fn step() -> impl Strategy<Value = (u8, u64, i64, i64, bool)> {
        (
            0u8..20,
            0u64..3_000,
            1i64..5_000_000_000,
            1i64..2_000_000_000,
            any::<bool>(),
        )
    }

    /// Turns random draws into a tape with mostly increasing ids and times, plus duplicates,
    /// out-of-order ids, late trades, clock ticks and jumps longer than the longest window.
    fn tape(draws: Vec<(u8, u64, i64, i64, bool)>) -> Vec<Step> {
        let (mut id, mut time) = (100u64, 1_000_000u64);
        let mut steps = Vec::new();
        for (kind, dt, price_raw, qty_raw, buyer_is_maker) in draws {
            let (trade_id, time_ms) = match kind {
                0 => (id, time),                             // duplicate id
                1 => (id.saturating_sub(3), time),           // out of order
                2 => (id + 1, time.saturating_sub(dt * 20)), // late trade
                3 => (id + 1, time + 61_000 + dt),           // jump past every window
                4 => {
                    time += dt * 10;
                    steps.push(Step::Advance { time_ms: time });
                    continue;
                }
                _ => (id + 1, time + dt),
            };
            id = id.max(trade_id);
            time = time.max(time_ms);
            steps.push(Step::Trade {
                id: trade_id,
                time_ms,
                price_raw,
                qty_raw,
                buyer_is_maker,
            });
        }
        steps
    }

    /// The naive model: every accepted trade kept in a list, windows recomputed from scratch.
    fn naive(accepted: &[(u64, Trade)], head: u64, window: &Window) -> FlowStats {
        let (mut buy_qty, mut sell_qty, mut buy_n, mut sell_n) = (0i128, 0i128, 0i128, 0i128);
        let mut trades = 0;
        for (bucket, t) in accepted {
            if *bucket > head || head - bucket >= window.buckets {
                continue;
            }
            trades += 1;
            let (qty, notional) = (i128::from(t.quantity.raw()), t.notional().raw());
            if t.buyer_is_maker {
                sell_qty += qty;
                sell_n += notional;
            } else {
                buy_qty += qty;
                buy_n += notional;
            }
        }
        let qty = |raw: i128| Qty::from_raw(i64::try_from(raw).unwrap());
        FlowStats {
            window: window.length,
            buy_qty: qty(buy_qty),
            sell_qty: qty(sell_qty),
            net_qty: qty(buy_qty - sell_qty),
            buy_notional: Money::from_raw(buy_n),
            sell_notional: Money::from_raw(sell_n),
            net_notional: Money::from_raw(buy_n - sell_n),
            trades,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn windows_equal_a_naive_recompute_over_the_accepted_trades(
            draws in proptest::collection::vec(step(), 1..300),
            bucket_ms in prop::sample::select(vec![1u64, 50, 100, 250]),
        ) {
            let config = FlowConfig {
                bucket: Duration::from_millis(bucket_ms),
                windows: vec![
                    Duration::from_millis(bucket_ms * 3),
                    Duration::from_millis(bucket_ms * 40),
                    Duration::from_millis(bucket_ms * 600),
                ],
            };
            let mut flow = TradeFlow::new(&config).unwrap();
            let mut accepted: Vec<(u64, Trade)> = Vec::new();
            let (mut last_id, mut head): (Option<u64>, Option<u64>) = (None, None);
            for step in tape(draws) {
                match step {
                    Step::Advance { time_ms } => {
                        flow.advance_to(time_ms);
                        head = head.max(Some(time_ms / bucket_ms));
                    }
                    Step::Trade { id, time_ms, price_raw, qty_raw, buyer_is_maker } => {
                        let t = Trade {
                            symbol: "X".to_owned(),
                            trade_id: id,
                            price: Price::from_raw(price_raw),
                            quantity: Qty::from_raw(qty_raw),
                            timestamp_ms: time_ms,
                            buyer_is_maker,
                        };
                        let result = flow.on_trade(&t);
                        let fresh = last_id.is_none_or(|last| id > last);
                        prop_assert_eq!(result.is_ok(), fresh, "{:?}", result);
                        if fresh {
                            last_id = Some(id);
                            head = head.max(Some(time_ms / bucket_ms));
                            accepted.push((time_ms / bucket_ms, t));
                        }
                    }
                }
                let head = head.unwrap_or(0);
                for (i, window) in flow.windows.iter().enumerate() {
                    let expected = naive(&accepted, head, window);
                    prop_assert_eq!(flow.window(i).unwrap(), expected);
                }
            }
        }
    }
}
