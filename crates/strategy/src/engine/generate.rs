//! Dispatching a strategy's actions, and what every generated order shares: its request
//! (seed 000 FR-SE-006 step 5), its deterministic id and its ledger entry.

use std::sync::Arc;

use kestrel_model::money::Qty;
use kestrel_model::order::{OrderRequest, PositionSide, Side, WorkingType};

use super::StrategyEngine;
use super::ledger::Entry;
use super::output::{CancelReason, Incident, IncidentKind, Outbox};
use crate::action::{Actions, StrategyAction};
use crate::ids::{InstanceTag, client_order_id};
use crate::pricing::Pricing;

impl StrategyEngine {
    /// Applies every action of one call of instance `id`; `in_round` is true while a market
    /// event's vote is open.
    pub(super) fn apply_actions(
        &mut self,
        id: usize,
        actions: &mut Actions,
        in_round: bool,
        time_ms: u64,
        out: &mut Outbox,
    ) {
        for action in actions.drain() {
            self.apply_action(id, action, in_round, time_ms, out);
        }
    }

    pub(super) fn apply_action(
        &mut self,
        id: usize,
        action: StrategyAction,
        in_round: bool,
        time_ms: u64,
        out: &mut Outbox,
    ) {
        match action {
            StrategyAction::Signal(intent) => self.take_signal(id, intent, in_round, time_ms, out),
            StrategyAction::PlaceQuote(quote) => self.place_quote(id, quote, time_ms, out),
            StrategyAction::CancelQuote(quote) => {
                self.cancel_quote(id, quote, CancelReason::Withdrawn, out);
            }
            StrategyAction::AdoptOrder { .. } | StrategyAction::CancelOrder { .. } => {
                self.ignore(
                    id,
                    "order adoption and cancellation belong in recover()",
                    out,
                );
            }
        }
    }

    pub(super) fn record_place(&mut self, cid: &str, entry: Entry) {
        for (owner, _) in &entry.owners {
            if let Some(inst) = self.instances.get(*owner) {
                inst.metrics.orders.increment(1);
            }
        }
        self.ledger.insert(cid.to_owned(), entry);
    }

    pub(super) fn request(
        &self,
        route: usize,
        side: Side,
        pricing: Pricing,
        qty: Qty,
        id: String,
    ) -> OrderRequest {
        let symbol = self
            .routes
            .get(route)
            .map(|r| r.symbol.to_string())
            .unwrap_or_default();
        OrderRequest {
            request_id: id.clone(),
            symbol,
            side,
            order_type: pricing.order_type,
            time_in_force: Some(pricing.time_in_force),
            price: Some(pricing.price),
            quantity: qty,
            stop_price: None,
            reduce_only: false,
            close_position: false,
            position_side: PositionSide::Both,
            client_order_id: Some(id),
            execution_mode: self.settings.execution_mode,
            working_type: WorkingType::ContractPrice,
            callback_rate: None,
            activation_price: None,
        }
    }

    pub(super) fn next_id(&mut self, tag: Option<InstanceTag>, time_ms: u64) -> String {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        client_order_id(tag.unwrap_or_else(|| InstanceTag::of("")), time_ms, seq)
    }

    pub(super) fn skip(&self, id: Option<usize>, message: String, out: &mut Outbox) {
        tracing::info!("{message}");
        let inst = id.and_then(|i| self.instances.get(i));
        out.incidents.push(Incident {
            strategy: inst.map(|i| Arc::clone(&i.name)),
            kind: IncidentKind::OrderSkipped,
            message,
        });
    }

    pub(super) fn ignore(&self, id: usize, why: &str, out: &mut Outbox) {
        if let Some(inst) = self.instances.get(id) {
            out.incidents
                .push(inst.incident(IncidentKind::ActionIgnored, why.to_owned()));
        }
    }
}
