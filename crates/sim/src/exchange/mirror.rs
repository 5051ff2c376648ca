//! Another venue's live market mirrored on this venue's books (paper trading against a real
//! market): the venue's resting volume stands on the book as orders of [`MIRROR_MAKER`], its
//! trades are replayed as takers of [`MIRROR_TAKER`], and API users' orders meet both with
//! the engine's price-time priority. Both accounts are market participants: no margin, no
//! fees, no records.
//!
//! # Queue position
//!
//! The venue's depth stream says how much rests at each price, not where in the queue it
//! changed, so the mirror follows the rule that never flatters a resting order:
//!
//! - **An order joins behind everything the venue shows at its price** — the mirrored volume
//!   there was placed before it.
//! - **Volume the venue adds later queues behind it**: a level that grew gets a new order at
//!   the back.
//! - **Trades take the queue from the front**: each venue trade is an IOC of its quantity at
//!   its price, so it fills the mirrored volume ahead of a user's order first and reaches the
//!   user's order only with what is left — a passive order fills once the volume ahead of it
//!   has traded, as on the venue.
//! - **Volume that vanishes without trading is taken from the back** (newest first): a
//!   cancel behind the order does not move it; only when the level has shrunk below what is
//!   ahead of it is what is ahead cut down to the level (the venue cannot have more ahead of
//!   us than it shows). Cutting keeps queue positions ([`crate::engine::MatchingEngine::reduce`]).
//!
//! Each batch replays the trades first and then brings every level that changed (or that a
//! trade consumed) to the venue's quantity, shrinking before growing so a new mirrored order
//! never meets a mirrored order of the other side. A trade that the depth stream already
//! reflected consumes the front and the level is then topped up at the back: the total again
//! equals the venue's, and the queue ahead has moved by the trade, not twice.
//!
//! Liquidity a user's order takes stays taken until the venue next changes that level; the
//! venue never sees paper orders, so its own book is unaffected by them.

use kestrel_model::book::BookSide;
use kestrel_model::order::{Side, TimeInForce};
use kestrel_model::{Price, Qty};

use super::Exchange;
use crate::engine::{AccountId, EngineEvent, NewOrder, Stp};
use crate::market::mirror::MirrorTrade;

/// The engine account the mirrored venue's resting volume stands under.
pub const MIRROR_MAKER: AccountId = AccountId(u32::MAX - 1);

/// The engine account the mirrored venue's trades take under.
pub const MIRROR_TAKER: AccountId = AccountId(u32::MAX);

/// Mirror order ids live above this, apart from user and synthetic-market ids.
pub(super) const MIRROR_ORDER_BASE: u64 = 3 << 61;

/// The tag of every mirror order (its fills need no bookkeeping).
const MIRROR_TAG: u64 = u64::MAX;

const fn order_side(side: BookSide) -> Side {
    match side {
        BookSide::Bid => Side::Buy,
        BookSide::Ask => Side::Sell,
    }
}

const fn resting_side(side: Side) -> BookSide {
    match side {
        Side::Buy => BookSide::Bid,
        Side::Sell => BookSide::Ask,
    }
}

impl Exchange {
    /// Applies one batch of the mirrored venue on `symbol` (module docs): its `trades` in
    /// order, then every level in `changed` or consumed by a trade brought to `target`'s
    /// quantity for it (what the venue shows there now).
    pub fn mirror(
        &mut self,
        symbol: &str,
        trades: &[MirrorTrade],
        changed: &[(BookSide, Price)],
        target: impl Fn(BookSide, Price) -> Qty,
        now_ms: u64,
    ) {
        if !self.markets.contains_key(symbol) || (trades.is_empty() && changed.is_empty()) {
            return;
        }
        let mut levels = changed.to_vec();
        for trade in trades {
            self.mirror_trade(symbol, trade, &mut levels, now_ms);
        }
        levels.sort_unstable_by_key(|&(side, price)| (side == BookSide::Ask, price));
        levels.dedup();
        let targets: Vec<(BookSide, Price, Qty)> = levels
            .into_iter()
            .map(|(side, price)| (side, price, target(side, price)))
            .collect();
        for &(side, price, qty) in &targets {
            self.shrink_mirrored(symbol, side, price, qty);
        }
        for &(side, price, qty) in &targets {
            self.grow_mirrored(symbol, side, price, qty, now_ms);
        }
        self.after_book_change(symbol, now_ms);
    }

    /// The mirrored venue's volume resting at `price` on `side` of `symbol`.
    #[must_use]
    pub fn mirrored_qty(&self, symbol: &str, side: BookSide, price: Price) -> Qty {
        self.markets.get(symbol).map_or(Qty::ZERO, |market| {
            market
                .engine
                .orders_at(side, price)
                .filter(|order| order.account == MIRROR_MAKER)
                .fold(Qty::ZERO, |sum, order| {
                    sum.try_add(order.remaining_qty).unwrap_or(sum)
                })
        })
    }

    /// One venue trade as an IOC taker; notes the levels whose mirrored volume it consumed.
    fn mirror_trade(
        &mut self,
        symbol: &str,
        trade: &MirrorTrade,
        touched: &mut Vec<(BookSide, Price)>,
        now_ms: u64,
    ) {
        let id = self.take_mirror_id();
        let order = NewOrder::limit(
            id,
            MIRROR_TAKER,
            trade.taker_side,
            trade.price,
            trade.qty,
            TimeInForce::Ioc,
        )
        .with_tag(MIRROR_TAG);
        let Some(market) = self.markets.get_mut(symbol) else {
            return;
        };
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        if market.engine.submit(order, &mut events).is_ok() {
            let maker_side = resting_side(trade.taker_side.opposite());
            touched.extend(events.iter().filter_map(|event| match event {
                EngineEvent::Fill(fill) if fill.maker.account == MIRROR_MAKER => {
                    Some((maker_side, fill.price))
                }
                _ => None,
            }));
            self.apply_engine_events(symbol, &events, now_ms);
        }
        self.scratch = events;
    }

    /// Cuts the mirrored volume at a level down to `target`, newest first, in place.
    fn shrink_mirrored(&mut self, symbol: &str, side: BookSide, price: Price, target: Qty) {
        let current = self.mirrored_qty(symbol, side, price);
        if current <= target {
            return;
        }
        let Ok(mut excess) = current.try_sub(target) else {
            return;
        };
        let Some(market) = self.markets.get_mut(symbol) else {
            return;
        };
        let newest_first: Vec<(u64, Qty)> = market
            .engine
            .orders_at(side, price)
            .filter(|order| order.account == MIRROR_MAKER)
            .map(|order| (order.id, order.remaining_qty))
            .collect();
        let mut events = std::mem::take(&mut self.scratch);
        for (id, remaining) in newest_first.into_iter().rev() {
            if !excess.is_positive() {
                break;
            }
            let cut = excess.min(remaining);
            // Only mirror orders are cut: their cancel events need no bookkeeping.
            events.clear();
            if market.engine.reduce(id, cut, &mut events).is_ok() {
                excess = excess.try_sub(cut).unwrap_or(Qty::ZERO);
            }
        }
        events.clear();
        self.scratch = events;
    }

    /// Adds mirrored volume at the back of a level up to `target`; where the level now
    /// crosses a user's resting order, they trade (the venue moved through its price).
    fn grow_mirrored(
        &mut self,
        symbol: &str,
        side: BookSide,
        price: Price,
        target: Qty,
        now_ms: u64,
    ) {
        let current = self.mirrored_qty(symbol, side, price);
        if target <= current {
            return;
        }
        let Ok(mut missing) = target.try_sub(current) else {
            return;
        };
        missing = self.absorb_mirrored_tail(symbol, side, price, missing);
        let id = self.take_mirror_id();
        let order = NewOrder::limit(
            id,
            MIRROR_MAKER,
            order_side(side),
            price,
            missing,
            TimeInForce::Gtc,
        )
        .with_tag(MIRROR_TAG)
        .with_stp(Stp::ExpireTaker);
        let Some(market) = self.markets.get_mut(symbol) else {
            return;
        };
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        match market.engine.submit(order, &mut events) {
            Ok(_) => self.apply_engine_events(symbol, &events, now_ms),
            Err(error) => tracing::debug!(%symbol, %error, "mirrored level not grown"),
        }
        self.scratch = events;
    }

    /// When the last order at a level is mirrored volume, takes it off and returns `qty` plus
    /// its quantity, to be added back as one order: the same queue (it was last, the sum goes
    /// last), but a level that keeps growing stays one order instead of one per update.
    fn absorb_mirrored_tail(
        &mut self,
        symbol: &str,
        side: BookSide,
        price: Price,
        qty: Qty,
    ) -> Qty {
        let Some(market) = self.markets.get_mut(symbol) else {
            return qty;
        };
        let Some(tail) = market.engine.orders_at(side, price).last() else {
            return qty;
        };
        let Ok(total) = qty.try_add(tail.remaining_qty) else {
            return qty;
        };
        if tail.account != MIRROR_MAKER {
            return qty;
        }
        let mut events = std::mem::take(&mut self.scratch);
        events.clear();
        let absorbed = market
            .engine
            .reduce(tail.id, tail.remaining_qty, &mut events)
            .is_ok();
        events.clear();
        self.scratch = events;
        if absorbed { total } else { qty }
    }

    fn take_mirror_id(&mut self) -> u64 {
        self.next_mirror_id += 1;
        MIRROR_ORDER_BASE + self.next_mirror_id
    }
}

#[cfg(test)]
mod tests;
