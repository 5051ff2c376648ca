//! Orders an earlier run placed (seed 001 durable execution): after a restart the engine must
//! track the orders still open at the venue, so that their fills, cancels and expiries are
//! followed and recorded. Two routes bring them in:
//!
//! - [`Engine::restore`]: an order the store holds open, with its journal intent (request id,
//!   request, first answer) and its stored fills. The driver loads them at start-up, before
//!   anything else runs. Nothing is published: the store already holds what they say.
//! - Adoption from the venue ([`Engine::on_rest_order`]): an order the venue reports that the
//!   engine does not track, but whose client order id is one this engine generates
//!   (`{prefix}-{sequence}`, [`crate::client_id`]) — the store missed it (a crash before it was
//!   recorded) or there is no store. It is tracked from the venue's report, answered as
//!   `adopted` under its client order id as request id, and published, so the store records it;
//!   its fills are then loaded by the driver like any recovered order's.
//!
//! A conditional order comes back knowing its algo id (the journal's) but not its child: the
//! first reconciliation asks the algo service by client order id and learns it
//! ([`super::algo`]). An earlier run's conditional order the store missed is adopted from the
//! venue's open algo orders ([`Engine::on_rest_algo`]).
//!
//! [`Engine::resume_fills_at`] says where REST fill recovery resumes on a symbol: at the last
//! trade the store holds, so fills made while no process ran are read from the venue — and only
//! those, plus the leg of that last trade not stored when a self-trade's two legs were split by a
//! crash.

use kestrel_model::OrderRequest;
use kestrel_model::order::{ExecutionMode, Fill, Order, OrderEvent, Side};
use kestrel_venue::binance::orders::VenueOrder;

use super::{Engine, EngineError, ExecEvent, Tracked, apply_event};
use crate::answer::OrderAnswer;
use crate::clock::Nanos;
use crate::journal::{Intent, IntentState, Journal};

/// An order an earlier run placed that the store holds open: what [`Engine::restore`] takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoredOrder {
    /// Its journal intent: request id, request, state and first answer.
    pub intent: Intent,
    /// The venue's order id as the store recorded it (the intent's, when the store has none).
    pub venue_order_id: Option<u64>,
    /// Its fills as the store recorded them, applied again without being published.
    pub fills: Vec<Fill>,
}

/// What [`Engine::on_rest_order`] made of an order read over REST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestOrder {
    /// One the engine tracks: its venue id and status were followed.
    Known,
    /// One of an earlier run of this engine, tracked from now on (module docs): load its fills.
    Adopted,
    /// Not this engine's (another prefix, or a type the engine cannot track): ignored.
    Foreign,
}

impl<J: Journal> Engine<J> {
    /// Tracks an order an earlier run placed that the store holds open (module docs), with its
    /// stored fills applied silently. Returns `false` (and tracks nothing) when its intent is
    /// not acknowledged or adopted — unresolved intents are [`Engine::recover`]'s, others were
    /// never at the venue — when no venue order id is known, or when it is already tracked.
    pub fn restore(&mut self, restored: RestoredOrder, now: Nanos) -> bool {
        let RestoredOrder {
            intent,
            venue_order_id,
            fills,
        } = restored;
        let venue_order_id = venue_order_id.or(intent.venue_order_id);
        let placed = matches!(
            intent.state,
            IntentState::Acknowledged | IntentState::Adopted
        );
        let (true, Some(venue_order_id), Some(answer)) = (placed, venue_order_id, intent.answer)
        else {
            return false;
        };
        if self.orders.contains_key(&intent.client_order_id) {
            return false;
        }
        let order = accepted_order(intent.request, &intent.client_order_id, venue_order_id);
        let mut tracked = Tracked::new(order, intent.request_id.clone());
        tracked.answer = Some(answer);
        tracked.intent = intent.state;
        tracked.sends = intent.sends;
        tracked.sent_at_ms = intent.sent_at_ms;
        tracked.recovered = true;
        if let Some(algo) = tracked.algo.as_mut() {
            algo.algo_id = intent.venue_order_id;
        }
        for fill in fills {
            self.replay_fill(&mut tracked, fill);
        }
        let since = self
            .restored_since
            .entry(tracked.symbol().to_owned())
            .or_insert(intent.created_at_ms);
        *since = (*since).min(intent.created_at_ms);
        self.requests
            .insert(intent.request_id, intent.client_order_id);
        // The stored id of a conditional order may be its algo id: no order-endpoint id.
        let order_id = tracked.algo.is_none().then_some(venue_order_id);
        self.track_earlier(tracked, order_id, now);
        true
    }

    /// Fill recovery on `symbol` resumes at `trade_id`, the last trade an earlier run stored,
    /// with our `stored_sides` of it: those legs count as applied, and the venue is asked for
    /// that trade and later ones, so a leg of it not stored (the other side of a self-trade) is
    /// still recovered.
    pub fn resume_fills_at(&mut self, symbol: &str, trade_id: u64, stored_sides: &[Side]) {
        let last = self.last_trade.entry(symbol.to_owned()).or_insert(trade_id);
        *last = (*last).max(trade_id);
        for side in stored_sides {
            self.seen_trades
                .insert((symbol.to_owned(), trade_id, *side));
        }
    }

    /// When the oldest order restored on `symbol` was placed (ms since the Unix epoch): where a
    /// fill recovery with no stored trade to resume after must start.
    #[must_use]
    pub fn restored_since_ms(&self, symbol: &str) -> Option<u64> {
        self.restored_since.get(symbol).copied()
    }

    /// Adopts an untracked venue order carrying this engine's client order id prefix (module
    /// docs).
    pub(super) fn adopt_from_venue(
        &mut self,
        venue: &VenueOrder,
        now: Nanos,
    ) -> Result<RestOrder, EngineError> {
        let client_order_id = venue.client_order_id.as_str();
        let request = match request_from_venue(venue) {
            Some(request) if self.ids.owns(client_order_id) => request,
            _ => return Ok(RestOrder::Foreign),
        };
        let order = accepted_order(request, client_order_id, venue.order_id);
        let mut tracked = Tracked::new(order, client_order_id.to_owned());
        tracked.answer = Some(OrderAnswer::Accepted {
            request_id: client_order_id.to_owned(),
            client_order_id: client_order_id.to_owned(),
            venue_order_id: venue.order_id,
            status: venue.status.to_model(),
            adopted: true,
        });
        tracked.intent = IntentState::Adopted;
        tracked.recovered = true;
        if let Some(algo) = tracked.algo.as_mut() {
            // On the order endpoint, a conditional type is the child of a triggered algo order.
            algo.child = Some(venue.order_id);
        }
        tracing::info!(
            target: "kestrel::exec",
            client_order_id,
            venue_order_id = venue.order_id,
            "tracking an order of an earlier run found at the venue"
        );
        self.events
            .push(ExecEvent::Order(Box::new(tracked.order.clone())));
        self.track_earlier(tracked, Some(venue.order_id), now);
        self.sync_status(client_order_id, venue.status.to_model())?;
        Ok(RestOrder::Adopted)
    }

    /// Applies a fill an earlier run recorded, without publishing it or counting it again.
    fn replay_fill(&mut self, tracked: &mut Tracked, fill: Fill) {
        let key = (fill.symbol.clone(), fill.trade_id, fill.side);
        if let Err(error) = apply_event(tracked, OrderEvent::Fill(fill), &mut Vec::new()) {
            tracing::warn!(target: "kestrel::exec", %error, "a stored fill was not applied again");
            return;
        }
        let last = self.last_trade.entry(key.0.clone()).or_insert(key.1);
        *last = (*last).max(key.1);
        self.seen_trades.insert(key);
    }

    /// Starts tracking an order of an earlier run, known on the order endpoints as `order_id`
    /// when it is known there.
    pub(super) fn track_earlier(&mut self, tracked: Tracked, order_id: Option<u64>, now: Nanos) {
        let client_order_id = tracked.order.client_order_id.clone();
        if let Some(order_id) = order_id {
            self.venue_ids.insert(
                (tracked.symbol().to_owned(), order_id),
                client_order_id.clone(),
            );
        }
        self.orders.insert(client_order_id.clone(), tracked);
        self.release_parked(&client_order_id, now);
    }
}

/// An order for `request` accepted by the venue under `venue_order_id`, built without
/// publishing the steps (they happened in an earlier run).
pub(super) fn accepted_order(
    mut request: OrderRequest,
    client_order_id: &str,
    venue_order_id: u64,
) -> Order {
    request.client_order_id = Some(client_order_id.to_owned());
    let mut order = Order::new(request, client_order_id.to_owned());
    for event in [
        OrderEvent::Queue,
        OrderEvent::Send,
        OrderEvent::Accept { venue_order_id },
    ] {
        // New → PendingSubmit → Submitted → accepted is always legal.
        let _ = order.apply(event);
    }
    order
}

/// The request a venue order answers, as far as the venue reports it; `None` for an order the
/// engine does not place (a liquidation).
fn request_from_venue(venue: &VenueOrder) -> Option<OrderRequest> {
    let positive = |price: kestrel_model::Price| price.is_positive().then_some(price);
    Some(OrderRequest {
        request_id: venue.client_order_id.clone(),
        symbol: venue.symbol.clone(),
        side: venue.side,
        order_type: venue.orig_type.to_model()?,
        time_in_force: venue.time_in_force.to_model(),
        price: positive(venue.price),
        quantity: venue.orig_qty,
        stop_price: positive(venue.stop_price),
        reduce_only: venue.reduce_only,
        close_position: venue.close_position,
        position_side: venue.position_side,
        client_order_id: Some(venue.client_order_id.clone()),
        execution_mode: ExecutionMode::Live,
        working_type: venue.working_type,
        callback_rate: venue.price_rate,
        activation_price: venue.activate_price,
    })
}
