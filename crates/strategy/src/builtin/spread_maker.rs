//! `spread_maker`: an inventory-skewed two-sided market maker.
//!
//! On every event with a two-sided book it wants a bid and an ask around the mid:
//!
//! ```text
//! half  = mid × spread_bps / 20 000            (half the quoted spread)
//! shift = mid × skew_bps / 10 000 × position / max_inventory
//! bid   = mid − half − shift                   (rounded down to the tick)
//! ask   = mid + half − shift                   (rounded up to the tick)
//! ```
//!
//! so a long position lowers both quotes (it sells more readily and buys less readily) and a
//! short one raises them. Sizes shrink the same way: long, the bid is
//! `order_size × (max_inventory − position) / max_inventory` and the ask `order_size`; short,
//! the reverse. At `max_inventory` long there is no bid, at `max_inventory` short no ask. A
//! quote never crosses: the bid stays at least a tick below the best ask, the ask a tick
//! above the best bid. A live quote is moved only when its price is off by `requote_ticks`
//! ticks or more, or its size changed, to keep its queue position. Everything is exact
//! fixed-point arithmetic.
//!
//! # Parameters
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `spread_bps` | quoted spread, bid to ask, in basis points of the mid | `"10"` |
//! | `skew_bps` | how far both quotes move at full inventory, in basis points | `"5"` |
//! | `max_inventory` | largest position, either way | `10 × order_size` |
//! | `requote_ticks` | least price change, in ticks, that moves a live quote (1 to 10 000) | 1 |

use kestrel_model::instrument::Instrument;
use kestrel_model::money::{FIXED_ONE, Price, Qty, Rate};
use kestrel_model::order::Side;
use kestrel_model::position::Position;
use serde_json::json;

use crate::action::{Actions, Quote, QuoteId, StrategyFill};
use crate::error::StrategyError;
use crate::market::MarketView;
use crate::strategy::{Strategy, StrategyContext};

/// The registered type name.
pub const KIND: &str = "spread_maker";

/// The bid's slot.
pub const BID: QuoteId = QuoteId(0);
/// The ask's slot.
pub const ASK: QuoteId = QuoteId(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    spread_bps: Rate,
    skew_bps: Rate,
    max_inventory: Qty,
    requote_ticks: u32,
    order_size: Qty,
}

/// The inventory-skewed spread market maker.
#[derive(Debug, Clone, Default)]
pub struct SpreadMaker {
    settings: Option<Settings>,
    instrument: Option<Instrument>,
    position: Qty,
    /// The live bid and ask: price and size.
    live: [Option<(Price, Qty)>; 2],
}

impl SpreadMaker {
    fn read(ctx: &StrategyContext<'_>) -> Result<Settings, StrategyError> {
        let mut p = ctx.params();
        let settings = Settings {
            spread_bps: p.rate("spread_bps", Rate::from_raw(10 * FIXED_ONE), Rate::EPSILON)?,
            skew_bps: p.rate("skew_bps", Rate::from_raw(5 * FIXED_ONE), Rate::ZERO)?,
            max_inventory: match p.qty("max_inventory")? {
                Some(max) => max,
                None => ctx.order_size.try_mul_int(10)?,
            },
            requote_ticks: p.count("requote_ticks", 1, 1..=10_000)?,
            order_size: ctx.order_size,
        };
        p.finish()?;
        Ok(settings)
    }

    /// The bid or ask wanted at `mid` (`None`: no quote on that side).
    fn wanted(&self, s: &Settings, side: Side, view: &MarketView<'_>) -> Option<(Price, Qty)> {
        let instrument = self.instrument.as_ref()?;
        let mid = view.mid()?;
        let (pos, max) = (
            i128::from(self.position.raw()),
            i128::from(s.max_inventory.raw()),
        );
        let mid_raw = i128::from(mid.raw());
        let bps = 10_000 * i128::from(FIXED_ONE);
        let half = mid_raw * i128::from(s.spread_bps.raw()) / (2 * bps);
        let shift = mid_raw * i128::from(s.skew_bps.raw()) * pos / (bps * max);
        let raw = mid_raw - shift - half * i128::from(side.sign());
        let price = instrument
            .round_price_for(side, Price::from_raw(i64::try_from(raw).ok()?))
            .ok()?;
        let price = keep_behind(instrument, side, price, view)?;
        let against = (pos * i128::from(side.sign())).max(0);
        let size = i128::from(s.order_size.raw()) * (max - against).max(0) / max;
        let qty = instrument
            .round_qty(Qty::from_raw(i64::try_from(size).ok()?), false)
            .ok()?;
        Some((price, qty))
    }

    /// Quotes `side` at `wanted`, withdraws it, or leaves it when close enough.
    fn requote(
        &mut self,
        s: &Settings,
        side: Side,
        wanted: Option<(Price, Qty)>,
        out: &mut Actions,
    ) {
        let (slot, id) = match side {
            Side::Buy => (0, BID),
            Side::Sell => (1, ASK),
        };
        let tick = self
            .instrument
            .as_ref()
            .map_or(Price::EPSILON, Instrument::tick_size);
        let Some(live) = self.live.get_mut(slot) else {
            return;
        };
        let close_enough = match (*live, wanted) {
            (Some((price, qty)), Some((new_price, new_qty))) => {
                qty == new_qty && moved_ticks(price, new_price, tick) < i64::from(s.requote_ticks)
            }
            _ => false,
        };
        if close_enough {
            return;
        }
        match wanted {
            Some((price, qty)) => out.place_quote(Quote {
                id,
                side,
                price,
                qty,
            }),
            None if live.is_some() => out.cancel_quote(id),
            None => {}
        }
        *live = wanted;
    }
}

/// Pulls a maker price back behind the far touch (a tick below the ask for a bid).
fn keep_behind(
    instrument: &Instrument,
    side: Side,
    price: Price,
    view: &MarketView<'_>,
) -> Option<Price> {
    let tick = instrument.tick_size();
    let Some(far) = view.far_touch(side) else {
        return Some(price);
    };
    let limit = match side {
        Side::Buy => far.try_sub(tick).ok()?,
        Side::Sell => far.try_add(tick).ok()?,
    };
    Some(match side {
        Side::Buy => price.min(limit),
        Side::Sell => price.max(limit),
    })
}

/// How many ticks apart two prices are.
fn moved_ticks(a: Price, b: Price, tick: Price) -> i64 {
    let tick = tick.raw().max(1);
    (a.raw() - b.raw()).abs() / tick
}

impl Strategy for SpreadMaker {
    fn name(&self) -> &'static str {
        KIND
    }

    fn initialize(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        *self = Self {
            settings: Some(Self::read(ctx)?),
            instrument: Some(ctx.instrument.clone()),
            position: self.position,
            live: [None; 2],
        };
        Ok(())
    }

    fn on_market_data(
        &mut self,
        view: &MarketView<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError> {
        let Some(s) = self.settings else {
            return Ok(());
        };
        if view.mid().is_none() {
            return Ok(());
        }
        for side in [Side::Buy, Side::Sell] {
            let wanted = self.wanted(&s, side, view);
            self.requote(&s, side, wanted, out);
        }
        Ok(())
    }

    fn on_order_fill(
        &mut self,
        fill: &StrategyFill<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError> {
        if let (Some(quote), true) = (fill.quote, fill.quote_done) {
            self.on_quote_closed(quote, out)?;
        }
        Ok(())
    }

    fn on_quote_closed(&mut self, quote: QuoteId, _out: &mut Actions) -> Result<(), StrategyError> {
        if let Some(entry) = self.live.get_mut(quote.0 as usize) {
            *entry = None;
        }
        Ok(())
    }

    fn on_position_update(&mut self, position: &Position) {
        self.position = position.qty;
    }

    fn votes(&self) -> bool {
        false
    }

    fn state(&self) -> serde_json::Value {
        json!({
            "position": self.position,
            "max_inventory": self.settings.map(|s| s.max_inventory),
            "bid": self.live[0],
            "ask": self.live[1],
        })
    }
}

#[cfg(test)]
mod tests;
