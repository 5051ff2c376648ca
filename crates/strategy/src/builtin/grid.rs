//! `grid`: a grid market maker with slots (seed 001 §2.2: "deterministic slot-based state
//! transitions", "reconstruction of grid state from exchange positions on startup").
//!
//! The grid has `2 × levels + 1` slots at `reference + k × spacing` for `k` from `-levels` to
//! `levels`. Each slot holds at most one post-only order. At the start the slots below the
//! reference want a buy, the slots above it a sell, and the reference slot stays empty. When a
//! slot's order fills completely the slot empties and its neighbour takes the other side: a
//! filled buy at level `k` places a sell at `k + 1`, a filled sell at `k` a buy at `k − 1`,
//! so each round trip earns one `spacing`. There is always one empty slot, just above the
//! highest buy, and the position is `order_size` times the number of levels the empty slot
//! sits below the reference. A slot whose order is cancelled or rejected (a post-only that
//! would have crossed) is placed again once its price no longer crosses the touch; no buy is
//! placed while the position is at `max_position` long, no sell at `max_position` short.
//!
//! # Recovery
//!
//! At start the engine hands over the venue's open orders carrying this instance's id and its
//! position ([`crate::Strategy::recover`]). The grid finds its reference (the configured one;
//! otherwise from the orders: the empty slot is one `spacing` above the highest buy, or below
//! the lowest sell, and lies `position / order_size` levels below the reference), lays its
//! slots out for that position, adopts each order that sits on a slot wanting that side, and
//! cancels the rest (off-grid prices, wrong sides, a second order in a slot). A restart
//! therefore keeps the grid it had instead of placing a second one.
//!
//! # Parameters
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `spacing` | price distance between levels; a multiple of the tick (required) | — |
//! | `levels` | slots on each side of the reference (1 to 500) | 5 |
//! | `reference_price` | the grid's centre, rounded to the tick | the first mid seen |
//! | `max_position` | largest position, either way, it builds | `levels × order_size` |
//!
//! Every order is `order_size`.

use kestrel_model::instrument::Instrument;
use kestrel_model::money::{Price, Qty, RoundingMode};
use kestrel_model::order::Side;
use kestrel_model::position::Position;
use serde_json::json;

use crate::action::{Actions, Quote, QuoteId, Recovery, StrategyAction, StrategyFill};
use crate::error::StrategyError;
use crate::market::MarketView;
use crate::pricing::Touch;
use crate::strategy::{Strategy, StrategyContext};

/// The registered type name.
pub const KIND: &str = "grid";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settings {
    levels: u32,
    spacing: Price,
    reference: Option<Price>,
    max_position: Qty,
    order_size: Qty,
}

/// One slot: the side it wants an order on, and whether its order is working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
struct Slot {
    want: Option<Side>,
    live: bool,
}

/// The grid market maker.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    settings: Option<Settings>,
    instrument: Option<Instrument>,
    anchor: Option<Price>,
    slots: Vec<Slot>,
    position: Qty,
    touch: Touch,
}

impl Grid {
    fn read(ctx: &StrategyContext<'_>) -> Result<Settings, StrategyError> {
        let mut p = ctx.params();
        let spacing = p.price("spacing")?;
        let levels = p.count("levels", 5, 1..=500)?;
        let reference = p.price("reference_price")?;
        let max_position = p.qty("max_position")?;
        p.finish()?;
        let tick = ctx.instrument.tick_size();
        let spacing = spacing.ok_or_else(|| StrategyError::parameter("spacing", "is required"))?;
        if !spacing.is_on_step(tick, Price::ZERO) {
            let problem = format!("must be a multiple of the tick {tick}, got {spacing}");
            return Err(StrategyError::parameter("spacing", problem));
        }
        let reference = reference
            .map(|r| ctx.instrument.round_price(r, RoundingMode::HalfEven))
            .transpose()
            .map_err(|e| StrategyError::parameter("reference_price", e.to_string()))?;
        let default_max = ctx.order_size.try_mul_int(i64::from(levels))?;
        Ok(Settings {
            levels,
            spacing,
            reference,
            max_position: max_position.unwrap_or(default_max),
            order_size: ctx.order_size,
        })
    }

    /// The price of slot `index`.
    fn price_of(&self, s: &Settings, index: usize) -> Option<Price> {
        let k = i64::try_from(index).ok()? - i64::from(s.levels);
        let price = self.anchor?.try_add(s.spacing.try_mul_int(k).ok()?).ok()?;
        price.is_positive().then_some(price)
    }

    /// The slot at `price`, if the price is one of the grid's.
    fn slot_at(&self, s: &Settings, price: Price) -> Option<usize> {
        let offset = i128::from(price.raw()) - i128::from(self.anchor?.raw());
        let spacing = i128::from(s.spacing.raw());
        if offset % spacing != 0 {
            return None;
        }
        let index = offset / spacing + i128::from(s.levels);
        usize::try_from(index)
            .ok()
            .filter(|&i| i < self.slots.len())
    }

    /// Lays the slots out around `anchor` for the current position: buys below the empty
    /// slot, sells above it.
    fn lay_out(&mut self, s: &Settings, anchor: Price) {
        let levels = i64::from(s.levels);
        let empty = (-units(self.position, s.order_size)).clamp(-levels, levels);
        self.anchor = Some(anchor);
        self.slots = (-levels..=levels)
            .map(|k| Slot {
                want: match k.cmp(&empty) {
                    std::cmp::Ordering::Less => Some(Side::Buy),
                    std::cmp::Ordering::Greater => Some(Side::Sell),
                    std::cmp::Ordering::Equal => None,
                },
                live: false,
            })
            .collect();
    }

    /// Places every wanted order that is not working, unless it would cross the touch or
    /// grow the position past its limit.
    fn place_due(&mut self, s: &Settings, out: &mut Actions) {
        for index in 0..self.slots.len() {
            let (Some(slot), Some(price)) =
                (self.slots.get(index).copied(), self.price_of(s, index))
            else {
                continue;
            };
            let Some(side) = slot.want.filter(|_| !slot.live) else {
                continue;
            };
            let blocked = match side {
                Side::Buy => {
                    self.touch.ask.is_some_and(|ask| price >= ask)
                        || self.position >= s.max_position
                }
                Side::Sell => {
                    self.touch.bid.is_some_and(|bid| price <= bid)
                        || self.position <= s.max_position.neg()
                }
            };
            if blocked {
                continue;
            }
            let id = QuoteId(u32::try_from(index).unwrap_or(u32::MAX));
            out.place_quote(Quote {
                id,
                side,
                price,
                qty: s.order_size,
            });
            if let Some(slot) = self.slots.get_mut(index) {
                slot.live = true;
            }
        }
    }

    /// The mid rounded to the tick, as the reference when none is configured.
    fn mid_anchor(&self, view: &MarketView<'_>) -> Option<Result<Price, StrategyError>> {
        let (mid, instrument) = (view.mid()?, self.instrument.as_ref()?);
        Some(
            instrument
                .round_price(mid, RoundingMode::HalfEven)
                .map_err(|e| StrategyError::Failed(format!("grid reference from mid {mid}: {e}"))),
        )
    }

    /// The reference implied by the recovered orders and position, when no reference is
    /// configured.
    fn infer_anchor(
        s: &Settings,
        orders: &[crate::action::OpenOrder],
        position: Qty,
    ) -> Option<Price> {
        let highest_buy = orders
            .iter()
            .filter(|o| o.side == Side::Buy)
            .map(|o| o.price)
            .max();
        let lowest_sell = orders
            .iter()
            .filter(|o| o.side == Side::Sell)
            .map(|o| o.price)
            .min();
        let empty = match (highest_buy, lowest_sell) {
            (Some(buy), _) => buy.try_add(s.spacing).ok()?,
            (None, Some(sell)) => sell.try_sub(s.spacing).ok()?,
            (None, None) => return None,
        };
        empty
            .try_add(s.spacing.try_mul_int(units(position, s.order_size)).ok()?)
            .ok()
    }
}

/// `position / order_size`, rounded to the nearest whole number (half away from zero).
fn units(position: Qty, order_size: Qty) -> i64 {
    let (p, q) = (i128::from(position.raw()), i128::from(order_size.raw()));
    if q <= 0 {
        return 0;
    }
    let rounded = (2 * p + p.signum() * q) / (2 * q);
    i64::try_from(rounded).unwrap_or(0)
}

impl Strategy for Grid {
    fn name(&self) -> &'static str {
        KIND
    }

    fn initialize(&mut self, ctx: &StrategyContext<'_>) -> Result<(), StrategyError> {
        let settings = Self::read(ctx)?;
        *self = Self {
            settings: Some(settings),
            instrument: Some(ctx.instrument.clone()),
            position: self.position,
            ..Self::default()
        };
        // The slots are laid out at the first market event (or recovery), once the position
        // is known.
        Ok(())
    }

    fn recover(&mut self, state: &Recovery<'_>, out: &mut Actions) -> Result<(), StrategyError> {
        let Some(s) = self.settings else {
            return Ok(());
        };
        self.position = state.position_qty;
        let anchor = s
            .reference
            .or_else(|| Self::infer_anchor(&s, state.open_orders, self.position));
        let Some(anchor) = anchor else {
            return Ok(());
        };
        self.lay_out(&s, anchor);
        for order in state.open_orders {
            let slot = self.slot_at(&s, order.price).filter(|&i| {
                self.slots
                    .get(i)
                    .is_some_and(|slot| slot.want == Some(order.side) && !slot.live)
            });
            let client_order_id = order.client_order_id.clone();
            match slot {
                Some(index) if order.qty <= s.order_size => {
                    if let Some(slot) = self.slots.get_mut(index) {
                        slot.live = true;
                    }
                    let quote = QuoteId(u32::try_from(index).unwrap_or(u32::MAX));
                    out.push(StrategyAction::AdoptOrder {
                        quote,
                        client_order_id,
                    });
                }
                _ => out.push(StrategyAction::CancelOrder { client_order_id }),
            }
        }
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
        self.touch = Touch {
            bid: view.best_bid.map(|l| l.price),
            ask: view.best_ask.map(|l| l.price),
        };
        if self.anchor.is_none() {
            let Some(anchor) = s
                .reference
                .map(Ok)
                .or_else(|| self.mid_anchor(view))
                .transpose()?
            else {
                return Ok(());
            };
            self.lay_out(&s, anchor);
        }
        self.place_due(&s, out);
        Ok(())
    }

    fn on_order_fill(
        &mut self,
        fill: &StrategyFill<'_>,
        out: &mut Actions,
    ) -> Result<(), StrategyError> {
        let (Some(s), Some(QuoteId(index)), true) = (self.settings, fill.quote, fill.quote_done)
        else {
            return Ok(());
        };
        let index = index as usize;
        let Some(slot) = self.slots.get_mut(index) else {
            return Ok(());
        };
        let side = slot.want.unwrap_or(fill.fill.side);
        *slot = Slot::default();
        let neighbour = match side {
            Side::Buy => index.checked_add(1),
            Side::Sell => index.checked_sub(1),
        };
        if let Some(next) = neighbour.and_then(|n| self.slots.get_mut(n))
            && next.want.is_none()
        {
            next.want = Some(side.opposite());
        }
        self.place_due(&s, out);
        Ok(())
    }

    fn on_quote_closed(&mut self, quote: QuoteId, _out: &mut Actions) -> Result<(), StrategyError> {
        if let Some(slot) = self.slots.get_mut(quote.0 as usize) {
            slot.live = false;
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
        let slots: Vec<_> = self
            .settings
            .iter()
            .flat_map(|s| {
                self.slots.iter().enumerate().map(move |(i, slot)| {
                    json!({ "price": self.price_of(s, i), "want": slot.want, "live": slot.live })
                })
            })
            .collect();
        json!({
            "reference_price": self.anchor,
            "spacing": self.settings.map(|s| s.spacing),
            "position": self.position,
            "slots": slots,
        })
    }
}

#[cfg(test)]
mod tests;
