//! [`FillUpdate`]: one execution to book, and the window of fills already booked that makes
//! booking idempotent.

use std::collections::{HashSet, VecDeque};

use kestrel_model::order::{Fill, PositionSide};
use kestrel_model::{Money, Side};
use kestrel_venue::binance::user_data::OrderUpdate;

/// One execution of one of our orders, with what the venue said about it beyond the model's
/// [`Fill`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FillUpdate {
    /// The execution (price, quantity, commission, trade id, venue time).
    pub fill: Fill,
    /// The leg it acts on: `Both` in one-way mode.
    pub position_side: PositionSide,
    /// The realized P&L the venue booked for it (Binance's `rp` / `realizedPnl`), when known;
    /// otherwise the book computes it the way the venue does.
    pub realized_pnl: Option<Money>,
}

impl FillUpdate {
    /// A fill on `position_side` whose realized P&L the book computes.
    #[must_use]
    pub const fn new(fill: Fill, position_side: PositionSide) -> Self {
        Self {
            fill,
            position_side,
            realized_pnl: None,
        }
    }

    /// The fill an `ORDER_TRADE_UPDATE` reports (`TRADE` and `CALCULATED` executions), with its
    /// position side and `rp`.
    #[must_use]
    pub fn from_order_update(update: &OrderUpdate) -> Option<Self> {
        update.fill().map(|fill| Self {
            fill,
            position_side: update.position_side,
            realized_pnl: Some(update.realized_pnl),
        })
    }
}

impl From<Fill> for FillUpdate {
    /// A one-way (`BOTH`) fill whose realized P&L the book computes.
    fn from(fill: Fill) -> Self {
        Self::new(fill, PositionSide::Both)
    }
}

/// What identifies one execution of ours: the venue's trade id is unique per symbol, except in
/// a self-trade where both of our orders take part (one buy, one sell), so the side is part of
/// the key (as in the store's `fills` table).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FillKey {
    symbol: String,
    trade_id: u64,
    side: Side,
}

impl FillKey {
    fn of(fill: &Fill) -> Self {
        Self {
            symbol: fill.symbol.clone(),
            trade_id: fill.trade_id,
            side: fill.side,
        }
    }
}

/// The most recent fills booked, to refuse a second report of one (the user stream and the
/// execution driver both report every fill). Bounded: beyond `capacity` the oldest keys are
/// forgotten; a fill that old is caught by the venue times kept per leg instead.
#[derive(Debug, Clone)]
pub(crate) struct SeenFills {
    keys: HashSet<FillKey>,
    order: VecDeque<FillKey>,
    capacity: usize,
}

impl SeenFills {
    /// An empty window of `capacity` keys.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            keys: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Whether `fill` was recorded.
    pub(crate) fn contains(&self, fill: &Fill) -> bool {
        self.keys.contains(&FillKey::of(fill))
    }

    /// Records `fill`; false when it was already recorded.
    pub(crate) fn insert(&mut self, fill: &Fill) -> bool {
        let key = FillKey::of(fill);
        if !self.keys.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.keys.remove(&oldest);
        }
        true
    }
}
