//! The order lifecycle after placement (seed 000 FR-OE-004, FR-OE-005): user-stream order
//! updates, fills from the stream and from `userTrades`, and orders read over REST
//! (reconciliation and recovery).
//!
//! Fill processing is idempotent: a fill is applied once per `(symbol, trade id)` whichever
//! route brings it (stream, REST recovery, both, repeated). A fill whose order is not tracked
//! yet — it arrived before the order was loaded at start-up — is parked under its client order
//! id and applied when the order is. A fill or update for a tracked order whose placement is
//! still unanswered proves the order is at the venue and settles the placement.
//!
//! Reports and fills are matched to a tracked order by client order id, or by venue order id:
//! the child order a conditional order placed at its trigger carries a client order id of the
//! venue's and is known by its order id only ([`super::algo`]); its fills are published under
//! the conditional order's client order id.

use std::collections::BTreeMap;

use kestrel_model::Money;
use kestrel_model::order::{Fill, Liquidity, OrderError, OrderEvent, OrderStatus};
use kestrel_venue::binance::orders::{UserTrade, VenueOrder};
use kestrel_venue::binance::user_data::OrderTradeUpdate;

use super::placement::mark_accepted;
use super::{Engine, EngineError, ExecEvent, RestOrder, apply_event, tracked_in};
use crate::clock::Nanos;
use crate::journal::Journal;
use crate::telemetry;

/// Maker/taker counts and commissions of the fills applied in this session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FillStats {
    /// Fills where our order was the maker.
    pub maker_fills: u64,
    /// Fills where our order was the taker.
    pub taker_fills: u64,
    /// Commission paid per asset (negative for net rebates).
    pub commission: BTreeMap<String, Money>,
}

impl FillStats {
    fn add(&mut self, fill: &Fill) {
        match fill.liquidity {
            Liquidity::Maker => self.maker_fills += 1,
            Liquidity::Taker => self.taker_fills += 1,
        }
        let total = self
            .commission
            .entry(fill.commission_asset.clone())
            .or_insert(Money::ZERO);
        *total = total.try_add(fill.commission).unwrap_or(*total);
    }
}

/// What became of one fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FillOutcome {
    /// Applied to its order and published.
    Applied,
    /// Already applied (same symbol and trade id): ignored.
    Duplicate,
    /// Its order is not tracked (yet): kept until it is.
    Parked,
    /// The order refused it (overfill, wrong side or symbol): logged and dropped.
    Refused(OrderError),
}

/// What became of one `userTrades` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TradeOutcome {
    /// It named a known order and was processed as a fill.
    Fill(FillOutcome),
    /// Its venue order id is unknown: look the order up (by id) and feed it to
    /// [`Engine::on_rest_order`], then offer the trade again.
    UnknownOrder {
        /// The symbol.
        symbol: String,
        /// The venue's order id.
        order_id: u64,
    },
}

impl<J: Journal> Engine<J> {
    /// An `ORDER_TRADE_UPDATE` from the user stream: settles an unanswered placement, applies
    /// the fill it carries, and follows the venue's status. Updates for orders this session
    /// does not track are ignored (their fills are parked).
    ///
    /// # Errors
    /// [`EngineError::Journal`] when settling the placement fails.
    pub fn on_user_event(
        &mut self,
        update: &OrderTradeUpdate,
        now: Nanos,
    ) -> Result<(), EngineError> {
        let report = &update.order;
        let Some(client_order_id) =
            self.resolve(&report.client_order_id, &report.symbol, report.order_id)
        else {
            if let Some(fill) = report.fill() {
                self.on_fill(fill, now)?;
            }
            return Ok(());
        };
        self.settle_from_venue(&client_order_id, &report.symbol, report.order_id, now)?;
        if let Some(fill) = report.fill() {
            self.on_fill(fill, now)?;
        }
        self.sync_status(&client_order_id, report.status.to_model())
    }

    /// The tracked order a venue report names: by client order id, else by venue order id.
    fn resolve(&self, client_order_id: &str, symbol: &str, order_id: u64) -> Option<String> {
        if self.orders.contains_key(client_order_id) {
            return Some(client_order_id.to_owned());
        }
        self.venue_ids.get(&(symbol.to_owned(), order_id)).cloned()
    }

    /// One fill, from any route; applied at most once per `(symbol, trade id, side)` (the two
    /// legs of a self-trade share a trade id and are two fills).
    ///
    /// # Errors
    /// [`EngineError::Journal`] when the fill settles an unanswered placement and that fails.
    pub fn on_fill(&mut self, mut fill: Fill, now: Nanos) -> Result<FillOutcome, EngineError> {
        let key = (fill.symbol.clone(), fill.trade_id, fill.side);
        if self.seen_trades.contains(&key) {
            return Ok(FillOutcome::Duplicate);
        }
        let Some(client_order_id) =
            self.resolve(&fill.client_order_id, &fill.symbol, fill.order_id)
        else {
            return Ok(self.park(fill));
        };
        // A conditional order's child reports the venue's client order id, not ours.
        fill.client_order_id.clone_from(&client_order_id);
        self.settle_from_venue(&client_order_id, &fill.symbol, fill.order_id, now)?;
        let Some(tracked) = self.orders.get_mut(&client_order_id) else {
            return Ok(self.park(fill));
        };
        let fill_event = ExecEvent::Fill(fill.clone());
        let mut updates = Vec::new();
        match apply_event(tracked, OrderEvent::Fill(fill.clone()), &mut updates) {
            Ok(_) => {}
            Err(OrderError::DuplicateFill { .. }) => {
                self.seen_trades.insert(key);
                return Ok(FillOutcome::Duplicate);
            }
            Err(error) => {
                tracing::warn!(target: "kestrel::exec", %error, "fill refused by its order");
                return Ok(FillOutcome::Refused(error));
            }
        }
        self.seen_trades.insert(key);
        let last = self.last_trade.entry(fill.symbol.clone()).or_insert(0);
        *last = (*last).max(fill.trade_id);
        self.stats.add(&fill);
        telemetry::fill(&fill);
        self.events.push(fill_event);
        self.events.extend(updates);
        Ok(FillOutcome::Applied)
    }

    /// One row of `GET /fapi/v1/userTrades` (fill recovery after a reconnect or a restart).
    ///
    /// # Errors
    /// As [`Engine::on_fill`].
    pub fn on_user_trade(
        &mut self,
        trade: &UserTrade,
        now: Nanos,
    ) -> Result<TradeOutcome, EngineError> {
        let key = (trade.symbol.clone(), trade.order_id);
        let Some(client_order_id) = self.venue_ids.get(&key).cloned() else {
            if self
                .seen_trades
                .contains(&(trade.symbol.clone(), trade.id, trade.side))
            {
                return Ok(TradeOutcome::Fill(FillOutcome::Duplicate));
            }
            return Ok(TradeOutcome::UnknownOrder {
                symbol: trade.symbol.clone(),
                order_id: trade.order_id,
            });
        };
        self.on_fill(trade.to_fill(&client_order_id), now)
            .map(TradeOutcome::Fill)
    }

    /// An order read over REST (open orders after a reconnect, a query by id, a recovery
    /// lookup): records its venue id, settles an unanswered placement as adopted, and follows
    /// its status. An order the engine does not track but whose client order id it generates
    /// is an earlier run's: it is adopted and tracked from now on ([`RestOrder::Adopted`],
    /// module docs of `restore`); any other is [`RestOrder::Foreign`].
    ///
    /// # Errors
    /// [`EngineError::Journal`] when settling the placement fails.
    pub fn on_rest_order(
        &mut self,
        venue: &VenueOrder,
        now: Nanos,
    ) -> Result<RestOrder, EngineError> {
        let Some(id) = self.resolve(&venue.client_order_id, &venue.symbol, venue.order_id) else {
            return self.adopt_from_venue(venue, now);
        };
        // Of a conditional order, the order endpoints only ever show the child.
        self.link_child(&id, venue.order_id, now)?;
        let tracked = tracked_in(&mut self.orders, &id)?;
        if tracked.answer.is_none() {
            let status = Some(venue.status.to_model());
            self.accept(&id, venue.order_id, status, true, now)?;
        } else {
            if tracked.algo.is_none() {
                self.venue_ids
                    .insert((venue.symbol.clone(), venue.order_id), id.clone());
            }
            mark_accepted(tracked, venue.order_id, &mut self.events);
            self.sync_status(&id, venue.status.to_model())?;
        }
        Ok(RestOrder::Known)
    }

    /// Open orders of this session on `symbol` that are on the venue's order book side of
    /// things — acknowledged orders, and conditional orders whose child is known — with their
    /// order id there: what a reconciliation must find among the venue's open orders.
    #[must_use]
    pub fn open_at_venue(&self, symbol: &str) -> Vec<(String, u64)> {
        self.orders
            .iter()
            .filter(|(_, t)| t.symbol() == symbol && t.order.status.is_open())
            .filter_map(|(id, t)| t.order_endpoint_id().map(|v| (id.clone(), v)))
            .collect()
    }

    /// Evidence from the venue that the order exists under `venue_order_id`: records the id
    /// and, when its placement is still unanswered, settles it as acknowledged.
    fn settle_from_venue(
        &mut self,
        client_order_id: &str,
        symbol: &str,
        venue_order_id: u64,
        now: Nanos,
    ) -> Result<(), EngineError> {
        if self.is_conditional(client_order_id) {
            // Order-endpoint evidence of a conditional order is its child's.
            self.link_child(client_order_id, venue_order_id, now)?;
        } else {
            self.venue_ids.insert(
                (symbol.to_owned(), venue_order_id),
                client_order_id.to_owned(),
            );
        }
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        if tracked.answer.is_some() || (tracked.sends == 0 && !tracked.recovered) {
            mark_accepted(tracked, venue_order_id, &mut self.events);
            return Ok(());
        }
        let adopted = tracked.recovered;
        self.accept(client_order_id, venue_order_id, None, adopted, now)
            .map(drop)
    }

    /// Follows the venue's status where fills alone do not: cancels, expiries, rejections.
    pub(super) fn sync_status(
        &mut self,
        client_order_id: &str,
        venue: OrderStatus,
    ) -> Result<(), EngineError> {
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        let status = tracked.order.status;
        let event = match venue {
            OrderStatus::Canceled if status.is_open() => OrderEvent::Cancel,
            OrderStatus::Expired if status.is_open() => OrderEvent::Expire,
            OrderStatus::Rejected
                if matches!(status, OrderStatus::PendingSubmit | OrderStatus::Submitted) =>
            {
                OrderEvent::Reject {
                    reason: "rejected by the venue".to_owned(),
                }
            }
            _ => return Ok(()),
        };
        if status == OrderStatus::PendingSubmit {
            let _ = apply_event(tracked, OrderEvent::Send, &mut self.events);
        }
        if let Err(error) = apply_event(tracked, event, &mut self.events) {
            tracing::debug!(target: "kestrel::exec", %error, "venue status not applied");
        }
        Ok(())
    }

    /// Applies the fills parked for `client_order_id`, now that it is tracked.
    pub(super) fn release_parked(&mut self, client_order_id: &str, now: Nanos) {
        let Some(fills) = self.parked.remove(client_order_id) else {
            return;
        };
        for fill in fills {
            if let Err(error) = self.on_fill(fill, now) {
                tracing::warn!(target: "kestrel::exec", %error, "parked fill not applied");
            }
        }
    }

    /// Applies the fills parked for order `order_id` of `symbol` (a conditional order's child,
    /// just learned), whatever client order id they carry.
    pub(super) fn release_parked_order(&mut self, symbol: &str, order_id: u64, now: Nanos) {
        let mut found = Vec::new();
        for fills in self.parked.values_mut() {
            fills.retain(|f| {
                let ours = f.symbol == symbol && f.order_id == order_id;
                if ours {
                    found.push(f.clone());
                }
                !ours
            });
        }
        self.parked.retain(|_, fills| !fills.is_empty());
        for fill in found {
            if let Err(error) = self.on_fill(fill, now) {
                tracing::warn!(target: "kestrel::exec", %error, "parked fill not applied");
            }
        }
    }

    fn park(&mut self, fill: Fill) -> FillOutcome {
        let parked = self.parked.entry(fill.client_order_id.clone()).or_default();
        if !parked
            .iter()
            .any(|f| f.trade_id == fill.trade_id && f.symbol == fill.symbol)
        {
            parked.push(fill);
        }
        FillOutcome::Parked
    }
}
