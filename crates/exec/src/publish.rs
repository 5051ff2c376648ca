//! Execution events on the bus (seed 000 FR-OE-004 "Output: Order Updates (Pub/Sub)", FR-OE-005
//! "Output: Fill Events (Pub/Sub)"): [`EventPublisher`] takes the driver's [`ExecEvent`]s
//! ([`crate::driver::ExecDriver::subscribe`]) and publishes each as JSON on its topic,
//! `orders.{symbol}` or `fills.{symbol}` ([`ExecEvent::topic`]) — on the in-process [`Bus`] and,
//! when it is given a [`NatsPublisher`], on the NATS subjects of the same names.
//!
//! Payloads are the seed's shapes, with what a consumer needs to tell orders apart:
//! [`OrderUpdate`] (`order_id`, `status`, `filled_quantity`, `remaining_quantity`,
//! `average_price`, plus symbol, side, type, request, client and venue ids) and [`FillEvent`]
//! (the seed's fields plus the trade id). Prices, quantities and commissions are exact decimal
//! strings; `order_id` is the client order id, as in the order API's answers. The in-process
//! bus carries the same bytes as NATS, so a consumer reads either transport alike.
//!
//! Events are published one at a time in the order the engine produced them. The publisher
//! reads a bounded broadcast channel: when it falls a whole channel behind, the events it
//! missed are lost to the bus (never to the store, whose persister has its own lossless path);
//! they are counted in [`EXEC_EVENTS_LAGGED_TOTAL`] and in [`PublishStats::lagged`], and logged.
//! A NATS publish that fails is dropped and counted by the [`NatsPublisher`]
//! (`messages_dropped_total{reason="nats_publish"}`) and here.

use std::sync::Arc;

use kestrel_bus::{Bus, NatsPublisher, Publisher};
use kestrel_model::order::{Fill, Liquidity, Order, OrderStatus, OrderType};
use kestrel_model::{Money, Price, Qty, Side};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::engine::ExecEvent;

/// Counter of execution events the bus publisher missed because it fell a whole broadcast
/// channel behind the engine (in the metric catalogue, `kestrel_model::telemetry`).
pub const EXEC_EVENTS_LAGGED_TOTAL: &str =
    kestrel_model::telemetry::names::EXEC_EVENTS_LAGGED_TOTAL;

/// The payload on `orders.{symbol}`: an order as it stands after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderUpdate {
    /// Kestrel's order id: the client order id.
    pub order_id: String,
    /// The client order id sent to the venue.
    pub client_order_id: String,
    /// The caller's request id.
    pub request_id: String,
    /// The venue's id, once known (a conditional order's algo id, then its child order's).
    pub venue_order_id: Option<u64>,
    /// The symbol.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: Side,
    /// The order type.
    #[serde(rename = "type")]
    pub order_type: OrderType,
    /// The lifecycle state (`NEW`, `PENDING_SUBMIT`, `SUBMITTED`, `PARTIALLY_FILLED`, ...).
    pub status: OrderStatus,
    /// Executed quantity so far.
    pub filled_quantity: Qty,
    /// Quantity still to fill.
    pub remaining_quantity: Qty,
    /// Average fill price; `null` before the first fill.
    pub average_price: Option<Price>,
    /// Why it was rejected, when it was.
    pub reject_reason: Option<String>,
}

impl From<&Order> for OrderUpdate {
    fn from(order: &Order) -> Self {
        let request = &order.request;
        Self {
            order_id: order.client_order_id.clone(),
            client_order_id: order.client_order_id.clone(),
            request_id: request.request_id.clone(),
            venue_order_id: order.venue_order_id,
            symbol: request.symbol.clone(),
            side: request.side,
            order_type: request.order_type,
            status: order.status,
            filled_quantity: order.filled_qty,
            remaining_quantity: order.remaining_qty(),
            average_price: order.average_price(),
            reject_reason: order.reject_reason.clone(),
        }
    }
}

/// The payload on `fills.{symbol}`: one fill, published once per `(symbol, trade_id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillEvent {
    /// The venue's order id the fill belongs to.
    pub order_id: u64,
    /// Our client order id.
    pub client_order_id: String,
    /// The symbol.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: Side,
    /// The fill price.
    pub price: Price,
    /// The fill quantity.
    pub quantity: Qty,
    /// The commission (negative for a rebate).
    pub commission: Money,
    /// The commission's asset.
    pub commission_asset: String,
    /// Whether our order was the maker.
    pub is_maker: bool,
    /// Execution time, ms since the Unix epoch.
    pub timestamp: u64,
    /// The venue's trade id (unique per symbol).
    pub trade_id: u64,
}

impl From<&Fill> for FillEvent {
    fn from(fill: &Fill) -> Self {
        Self {
            order_id: fill.order_id,
            client_order_id: fill.client_order_id.clone(),
            symbol: fill.symbol.clone(),
            side: fill.side,
            price: fill.price,
            quantity: fill.quantity,
            commission: fill.commission,
            commission_asset: fill.commission_asset.clone(),
            is_maker: fill.liquidity == Liquidity::Maker,
            timestamp: fill.timestamp_ms,
            trade_id: fill.trade_id,
        }
    }
}

/// The JSON payload of `event` ([`OrderUpdate`] or [`FillEvent`]).
///
/// # Errors
/// When serialisation fails (it does not for these types; the error is passed on, not hidden).
pub fn payload(event: &ExecEvent) -> Result<Vec<u8>, serde_json::Error> {
    match event {
        ExecEvent::Order(order) => serde_json::to_vec(&OrderUpdate::from(order.as_ref())),
        ExecEvent::Fill(fill) => serde_json::to_vec(&FillEvent::from(fill)),
    }
}

/// Returns once `stop` is true or its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// What a publisher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishStats {
    /// Events published (on the in-process bus, and handed to NATS when configured).
    pub published: u64,
    /// Events missed because the publisher fell a whole channel behind.
    pub lagged: u64,
    /// Events that could not be published at all (a symbol outside the bus's rule).
    pub unpublishable: u64,
    /// Events NATS did not take (dropped there, published in process).
    pub nats_failed: u64,
}

/// Publishes execution events on the bus and, optionally, NATS (module docs).
pub struct EventPublisher {
    bus: Publisher<Arc<[u8]>>,
    nats: Option<NatsPublisher>,
    stats: PublishStats,
}

impl std::fmt::Debug for EventPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventPublisher")
            .field("nats", &self.nats)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl EventPublisher {
    /// A publisher on `bus` only.
    #[must_use]
    pub fn new(bus: &Bus<Arc<[u8]>>) -> Self {
        Self {
            bus: bus.publisher(),
            nats: None,
            stats: PublishStats::default(),
        }
    }

    /// Also publishes on NATS through `nats`.
    #[must_use]
    pub fn with_nats(mut self, nats: NatsPublisher) -> Self {
        self.nats = Some(nats);
        self
    }

    /// The counters so far.
    #[must_use]
    pub const fn stats(&self) -> PublishStats {
        self.stats
    }

    /// Publishes one event on its topic.
    pub async fn publish(&mut self, event: &ExecEvent) {
        let topic = match event.topic() {
            Ok(topic) => topic,
            Err(error) => return self.unpublishable(event, &error.to_string()),
        };
        let bytes: Arc<[u8]> = match payload(event) {
            Ok(bytes) => bytes.into(),
            Err(error) => return self.unpublishable(event, &error.to_string()),
        };
        if let Some(nats) = self.nats.as_mut()
            && let Err(error) = nats.publish(topic, &bytes).await
        {
            // Counted and logged once per failure streak by the NATS publisher itself.
            tracing::debug!(target: "kestrel::exec", %error, "execution event not published on NATS");
            self.stats.nats_failed += 1;
        }
        self.bus.publish(topic, bytes);
        self.stats.published += 1;
    }

    fn unpublishable(&mut self, event: &ExecEvent, why: &str) {
        tracing::error!(target: "kestrel::exec", symbol = event.symbol(), why, "execution event cannot be published on the bus");
        self.stats.unpublishable += 1;
    }

    /// Counts and logs `missed` events lost to a lagged broadcast.
    fn lagged(&mut self, missed: u64) {
        self.stats.lagged += missed;
        metrics::counter!(EXEC_EVENTS_LAGGED_TOTAL).increment(missed);
        tracing::warn!(
            target: "kestrel::exec",
            missed,
            "the bus publisher fell behind the execution events: {missed} were not published (the store still has them)"
        );
    }

    /// Publishes `events` until the driver closes the channel, or `stop` turns true (or its
    /// sender is dropped) — then it first publishes what is already queued; flushes NATS and
    /// returns the counters.
    pub async fn run(
        mut self,
        mut events: broadcast::Receiver<ExecEvent>,
        mut stop: watch::Receiver<bool>,
    ) -> PublishStats {
        loop {
            tokio::select! {
                biased;
                () = stopped(&mut stop) => {
                    self.drain(&mut events).await;
                    break;
                }
                received = events.recv() => match received {
                    Ok(event) => self.publish(&event).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => self.lagged(missed),
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        self.finish().await
    }

    /// Publishes what the channel already holds.
    async fn drain(&mut self, events: &mut broadcast::Receiver<ExecEvent>) {
        loop {
            match events.try_recv() {
                Ok(event) => self.publish(&event).await,
                Err(broadcast::error::TryRecvError::Lagged(missed)) => self.lagged(missed),
                Err(_) => return,
            }
        }
    }

    async fn finish(self) -> PublishStats {
        if let Some(nats) = &self.nats
            && let Err(error) = nats.flush(std::time::Duration::from_secs(2)).await
        {
            tracing::warn!(target: "kestrel::exec", %error, "execution events may not all have reached NATS");
        }
        tracing::info!(target: "kestrel::exec", stats = ?self.stats, "bus publisher stopped");
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use kestrel_bus::TopicPattern;
    use kestrel_model::order::{
        ExecutionMode, OrderEvent, OrderRequest, PositionSide, TimeInForce, WorkingType,
    };

    use super::*;

    fn order() -> Order {
        let request = OrderRequest {
            request_id: "r1".to_owned(),
            symbol: "BTCUSDT".to_owned(),
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: Some(TimeInForce::Gtc),
            price: Some(Price::parse("62740.10").unwrap()),
            quantity: Qty::parse("0.010").unwrap(),
            stop_price: None,
            reduce_only: false,
            close_position: false,
            position_side: PositionSide::Both,
            client_order_id: Some("kx-1".to_owned()),
            execution_mode: ExecutionMode::Live,
            working_type: WorkingType::ContractPrice,
            callback_rate: None,
            activation_price: None,
        };
        let mut order = Order::new(request, "kx-1".to_owned());
        for event in [
            OrderEvent::Queue,
            OrderEvent::Send,
            OrderEvent::Accept { venue_order_id: 9 },
            OrderEvent::Fill(fill()),
        ] {
            order.apply(event).unwrap();
        }
        order
    }

    fn fill() -> Fill {
        Fill {
            order_id: 9,
            client_order_id: "kx-1".to_owned(),
            symbol: "BTCUSDT".to_owned(),
            side: Side::Buy,
            price: Price::parse("62740.10").unwrap(),
            quantity: Qty::parse("0.004").unwrap(),
            commission: Money::parse("0.12548020").unwrap(),
            commission_asset: "USDT".to_owned(),
            liquidity: Liquidity::Maker,
            trade_id: 77,
            timestamp_ms: 1_700_000_000_000,
        }
    }

    fn json(event: &ExecEvent) -> serde_json::Value {
        serde_json::from_slice(&payload(event).unwrap()).unwrap()
    }

    #[test]
    fn order_updates_carry_the_seeds_fields_with_exact_decimal_strings() {
        let update = json(&ExecEvent::Order(Box::new(order())));
        assert_eq!(update["order_id"], "kx-1");
        assert_eq!(update["venue_order_id"], 9);
        assert_eq!(update["status"], "PARTIALLY_FILLED");
        assert_eq!(update["side"], "buy");
        assert_eq!(update["type"], "limit");
        assert_eq!(update["filled_quantity"], "0.004");
        assert_eq!(update["remaining_quantity"], "0.006");
        assert_eq!(update["average_price"], "62740.1");
    }

    #[test]
    fn fill_events_carry_the_seeds_fields_with_exact_decimal_strings() {
        let event = json(&ExecEvent::Fill(fill()));
        assert_eq!(event["order_id"], 9);
        assert_eq!(event["client_order_id"], "kx-1");
        assert_eq!(event["price"], "62740.1");
        assert_eq!(event["quantity"], "0.004");
        assert_eq!(event["commission"], "0.1254802");
        assert_eq!(event["commission_asset"], "USDT");
        assert_eq!(event["is_maker"], true);
        assert_eq!(event["timestamp"], 1_700_000_000_000_u64);
        assert_eq!(event["trade_id"], 77);
        let back: FillEvent = serde_json::from_value(event).unwrap();
        assert_eq!(back, FillEvent::from(&fill()));
    }

    #[tokio::test]
    async fn a_publisher_that_fell_behind_counts_what_it_missed_and_publishes_the_rest() {
        let bus: Bus<Arc<[u8]>> = Bus::new();
        let fills = bus.subscribe(TopicPattern::parse("fills.BTCUSDT").unwrap(), 16);
        let (sender, events) = broadcast::channel(2);
        for trade_id in 1..=5 {
            sender
                .send(ExecEvent::Fill(Fill { trade_id, ..fill() }))
                .unwrap();
        }
        drop(sender);
        let (_stop, stop) = watch::channel(false);
        let stats = EventPublisher::new(&bus).run(events, stop).await;
        assert_eq!((stats.lagged, stats.published), (3, 2));
        let mut trade_ids = Vec::new();
        while let Some(envelope) = fills.try_recv() {
            let event: FillEvent = serde_json::from_slice(&envelope.message).unwrap();
            trade_ids.push(event.trade_id);
        }
        assert_eq!(trade_ids, [4, 5], "the newest events, in order");
    }
}
