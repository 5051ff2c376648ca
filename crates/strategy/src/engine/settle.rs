//! Fills and closed orders coming back: per-strategy positions (seed 000 FR-SE-007) and the
//! strategies' reactions.

use kestrel_model::money::{Money, Qty, RoundingMode};
use kestrel_model::order::Fill;

use super::StrategyEngine;
use super::instance::Call;
use super::output::{CloseReason, IncidentKind, Outbox};
use crate::action::{QuoteId, StrategyFill};

impl StrategyEngine {
    /// Attributes a fill of one of the engine's orders to its strategies: updates each one's
    /// position, then calls its `on_position_update` and `on_order_fill`. A fill of an order
    /// several strategies voted for is shared in proportion to their order sizes. Returns
    /// whether the order was one of the engine's (fills of other orders are ignored).
    pub fn on_fill(&mut self, fill: &Fill, out: &mut Outbox) -> bool {
        let cid = fill.client_order_id.as_str();
        let Some(entry) = self.ledger.get_mut(cid) else {
            return false;
        };
        entry.remaining = entry
            .remaining
            .try_sub(fill.quantity)
            .unwrap_or(Qty::ZERO)
            .max(Qty::ZERO);
        let done = entry.remaining.is_zero();
        let quote = entry.quote;
        let route = entry.route;
        let parts: Vec<(usize, Qty)> = entry.split(fill.quantity).collect();
        if done {
            self.free_slot(quote, cid);
            self.ledger.close(cid);
        }
        for (id, qty) in parts {
            let slot = quote.filter(|(owner, _)| *owner == id).map(|(_, q)| q);
            let part = StrategyFill {
                fill,
                qty,
                quote: slot,
                quote_done: done && slot.is_some(),
            };
            self.settle_part(id, route, &part, out);
        }
        self.deliver_closures(fill.timestamp_ms, out);
        true
    }

    /// Learns that one of the engine's orders ended without filling completely; a quote's slot
    /// is freed and its strategy told through `on_quote_closed`. Returns whether the order was
    /// one of the engine's.
    pub fn on_order_closed(
        &mut self,
        client_order_id: &str,
        reason: CloseReason,
        time_ms: u64,
        out: &mut Outbox,
    ) -> bool {
        let Some(entry) = self.ledger.get(client_order_id) else {
            return false;
        };
        if entry.closed {
            return true;
        }
        let quote = entry.quote;
        tracing::debug!(client_order_id, ?reason, "order closed");
        if let Some(slot) = self.free_slot(quote, client_order_id) {
            self.closures.push(slot);
        }
        self.ledger.close(client_order_id);
        self.deliver_closures(time_ms, out);
        true
    }

    /// Empties the quote slot `quote` if `cid` is still its order; returns the slot.
    fn free_slot(
        &mut self,
        quote: Option<(usize, QuoteId)>,
        cid: &str,
    ) -> Option<(usize, QuoteId)> {
        let (id, q) = quote?;
        let inst = self.instances.get_mut(id)?;
        if inst.quotes.get(&q).map(String::as_str) != Some(cid) {
            return None;
        }
        inst.quotes.remove(&q);
        Some((id, q))
    }

    /// Applies one owner's part of a fill to its position, then tells the strategy.
    fn settle_part(&mut self, id: usize, route: usize, part: &StrategyFill<'_>, out: &mut Outbox) {
        if !part.qty.is_positive() {
            return;
        }
        let fill = part.fill;
        let fee = self.fee_share(route, fill, part.qty);
        let Some(inst) = self.instances.get_mut(id) else {
            return;
        };
        match inst
            .position
            .apply_fill(fill.side, part.qty, fill.price, fee)
        {
            Ok(_) => self.notify_fill(id, part, out),
            Err(error) => {
                let incident = inst.incident(IncidentKind::Position, error.to_string());
                out.incidents.push(incident);
            }
        }
    }

    /// Calls `on_position_update` then `on_order_fill`, and applies what they ask for.
    fn notify_fill(&mut self, id: usize, part: &StrategyFill<'_>, out: &mut Outbox) {
        let max = self.settings.max_consecutive_failures;
        let mut actions = std::mem::take(&mut self.scratch);
        let Some(inst) = self.instances.get_mut(id) else {
            self.scratch = actions;
            return;
        };
        let position = inst.position.clone();
        let mut call = inst.guarded(max, &mut out.incidents, &mut actions, |s, _| {
            s.on_position_update(&position);
            Ok(())
        });
        if matches!(call, Call::Done(())) {
            call = inst.guarded(max, &mut out.incidents, &mut actions, |s, a| {
                s.on_order_fill(part, a)
            });
        }
        if matches!(call, Call::Disabled) {
            self.withdraw(id, out);
        }
        self.apply_actions(id, &mut actions, false, part.fill.timestamp_ms, out);
        self.scratch = actions;
    }

    /// The part of the fill's commission that goes with `qty`, when it is charged in the
    /// instrument's margin asset (a fee in another asset is not a position cost).
    fn fee_share(&self, route: usize, fill: &Fill, qty: Qty) -> Money {
        let margin = self
            .routes
            .get(route)
            .map(|r| r.instrument.margin_asset.as_str());
        if margin != Some(fill.commission_asset.as_str()) {
            return Money::ZERO;
        }
        fill.commission
            .try_mul_div(qty, fill.quantity, RoundingMode::HalfEven)
            .unwrap_or(Money::ZERO)
    }
}
