//! Quotes into orders and cancels: a market maker's slots, withdrawing an instance's orders,
//! expiring resting orders, and telling strategies about closed slots.

use std::sync::Arc;

use kestrel_model::money::{Price, Qty};
use kestrel_model::order::{ExecutionMode, OrderType, TimeInForce};

use super::StrategyEngine;
use super::instance::Call;
use super::ledger::Entry;
use super::output::{CancelOrder, CancelReason, OrderCommand, Origin, Outbox, PlaceOrder};
use crate::action::{Quote, QuoteId};
use crate::pricing::{Pricing, PricingError, order_qty, price_quote};

impl StrategyEngine {
    /// Puts `quote` in its slot: nothing if the slot already holds it, a replacement if the
    /// slot holds another order. A quote that cannot be placed frees the slot.
    pub(super) fn place_quote(&mut self, id: usize, quote: Quote, time_ms: u64, out: &mut Outbox) {
        let Some(route) = self.instances.get(id).map(|i| i.route) else {
            return;
        };
        let priced = self.price_of_quote(route, &quote);
        if priced
            .as_ref()
            .is_ok_and(|&(price, qty)| self.holds(id, &quote, price, qty))
        {
            return;
        }
        self.cancel_quote(id, quote.id, CancelReason::Replaced, out);
        let (price, qty) = match priced {
            Ok(priced) => priced,
            Err(error) => {
                let message = format!("quote {:?} skipped: {error}", quote.id);
                self.skip(Some(id), message, out);
                self.closures.push((id, quote.id));
                return;
            }
        };
        if self.settings.execution_mode == ExecutionMode::Observation {
            self.closures.push((id, quote.id));
            return;
        }
        self.send_quote(
            id,
            Quote {
                price,
                qty,
                ..quote
            },
            time_ms,
            out,
        );
    }

    /// The quote's price and quantity on the instrument's grids, checked against the touch.
    fn price_of_quote(&self, route: usize, quote: &Quote) -> Result<(Price, Qty), PricingError> {
        let Some(r) = self.routes.get(route) else {
            return Err(PricingError::NoTouch {
                side: quote.side,
                urgency: crate::Urgency::Passive,
                needed: "route",
            });
        };
        let price = price_quote(&r.instrument, quote.side, quote.price, r.touch)?;
        Ok((price, order_qty(&r.instrument, quote.qty, false)?))
    }

    /// Whether slot `quote.id` of instance `id` already holds this very order.
    fn holds(&self, id: usize, quote: &Quote, price: Price, qty: Qty) -> bool {
        let live = self.instances.get(id).and_then(|i| i.quotes.get(&quote.id));
        live.and_then(|cid| self.ledger.get(cid)).is_some_and(|e| {
            (e.side, e.price, e.qty, e.cancel_requested) == (quote.side, price, qty, false)
        })
    }

    /// Places `quote` (already on the grids) as a post-only order in its slot.
    fn send_quote(&mut self, id: usize, quote: Quote, time_ms: u64, out: &mut Outbox) {
        let Some((route, tag, name)) = self
            .instances
            .get(id)
            .map(|i| (i.route, i.tag, Arc::clone(&i.name)))
        else {
            return;
        };
        let cid = self.next_id(Some(tag), time_ms);
        let owners = vec![(id, quote.qty)];
        let entry = Entry::open(
            route,
            quote.side,
            quote.price,
            quote.qty,
            owners,
            Some((id, quote.id)),
        );
        self.record_place(&cid, entry);
        if let Some(inst) = self.instances.get_mut(id) {
            inst.quotes.insert(quote.id, cid.clone());
        }
        let pricing = Pricing {
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtx,
            price: quote.price,
        };
        let request = self.request(route, quote.side, pricing, quote.qty, cid);
        let origin = Origin::Quote {
            strategy: name,
            quote: quote.id,
        };
        out.commands
            .push(OrderCommand::Place(PlaceOrder { request, origin }));
    }

    /// Cancels whatever slot `quote` of instance `id` holds.
    pub(super) fn cancel_quote(
        &mut self,
        id: usize,
        quote: QuoteId,
        reason: CancelReason,
        out: &mut Outbox,
    ) {
        let Some(cid) = self
            .instances
            .get_mut(id)
            .and_then(|i| i.quotes.remove(&quote))
        else {
            return;
        };
        self.cancel(id, cid, reason, out);
    }

    /// Asks for order `cid` (owned by instance `id`) to be cancelled, once.
    pub(super) fn cancel(
        &mut self,
        id: usize,
        cid: String,
        reason: CancelReason,
        out: &mut Outbox,
    ) {
        let Some(entry) = self.ledger.get_mut(&cid) else {
            return;
        };
        entry.quote = None;
        if entry.closed || std::mem::replace(&mut entry.cancel_requested, true) {
            return;
        }
        let Some(inst) = self.instances.get(id) else {
            return;
        };
        out.commands.push(OrderCommand::Cancel(CancelOrder {
            symbol: Arc::clone(&inst.symbol),
            client_order_id: cid,
            strategy: Arc::clone(&inst.name),
            reason,
        }));
    }

    /// Cancels every open order of instance `id` (it stopped, failed or is reconfigured).
    pub(super) fn withdraw(&mut self, id: usize, out: &mut Outbox) {
        let quotes: Vec<QuoteId> = self
            .instances
            .get(id)
            .map(|i| i.quotes.keys().copied().collect())
            .unwrap_or_default();
        for quote in quotes {
            self.cancel_quote(id, quote, CancelReason::Stopped, out);
        }
        for cid in self.ledger.open_of(id) {
            self.cancel(id, cid, CancelReason::Stopped, out);
        }
    }

    /// Cancels resting signal orders that outlived their time.
    pub(super) fn cancel_expired(&mut self, now_ms: u64, out: &mut Outbox) {
        for cid in self.ledger.expired(now_ms) {
            let Some(entry) = self.ledger.get(&cid) else {
                continue;
            };
            let (route, lead) = (entry.route, entry.lead());
            let strategy = lead
                .and_then(|i| self.instances.get(i))
                .map(|i| Arc::clone(&i.name));
            let Some(symbol) = self.routes.get(route).map(|r| Arc::clone(&r.symbol)) else {
                continue;
            };
            out.commands.push(OrderCommand::Cancel(CancelOrder {
                symbol,
                client_order_id: cid,
                strategy: strategy.unwrap_or_else(|| Arc::from("")),
                reason: CancelReason::Expired,
            }));
        }
    }

    /// Tells instances about quotes that closed during the call, once; quotes that close while
    /// they react wait for the next call.
    pub(super) fn deliver_closures(&mut self, time_ms: u64, out: &mut Outbox) {
        if self.closures.is_empty() {
            return;
        }
        let max = self.settings.max_consecutive_failures;
        let closures = std::mem::take(&mut self.closures);
        let mut actions = std::mem::take(&mut self.scratch);
        for &(id, quote) in &closures {
            let Some(inst) = self.instances.get_mut(id) else {
                continue;
            };
            let call = inst.guarded(max, &mut out.incidents, &mut actions, |s, a| {
                s.on_quote_closed(quote, a)
            });
            if matches!(call, Call::Disabled) {
                self.withdraw(id, out);
            }
            self.apply_actions(id, &mut actions, false, time_ms, out);
        }
        self.scratch = actions;
    }
}
