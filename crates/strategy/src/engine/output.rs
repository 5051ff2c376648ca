//! What the engine hands back from each call: the [`Outbox`] of order commands, signals,
//! aggregated signals and incidents.

use std::sync::Arc;

use kestrel_model::order::OrderRequest;
use serde::{Deserialize, Serialize};

use crate::action::QuoteId;
use crate::signal::{AggregatedSignal, Signal};

/// Everything one engine call produced. The caller owns it, drains it after each call and
/// passes it back in, so its vectors are reused and a quiet event allocates nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outbox {
    /// Orders to place and cancel, in the order they were decided.
    pub commands: Vec<OrderCommand>,
    /// Every signal the strategies produced (for the log, the dashboard, observation mode).
    pub signals: Vec<Signal>,
    /// Every vote that chose a side.
    pub aggregated: Vec<AggregatedSignal>,
    /// Failures and refusals worth logging or alerting on.
    pub incidents: Vec<Incident>,
}

impl Outbox {
    /// Empties every list, keeping the capacity.
    pub fn clear(&mut self) {
        self.commands.clear();
        self.signals.clear();
        self.aggregated.clear();
        self.incidents.clear();
    }

    /// Whether nothing was produced.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
            && self.signals.is_empty()
            && self.aggregated.is_empty()
            && self.incidents.is_empty()
    }
}

/// An order command for the risk check and the execution engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCommand {
    /// Place a new order.
    Place(PlaceOrder),
    /// Cancel one of the engine's orders.
    Cancel(CancelOrder),
}

/// A new order and why it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceOrder {
    /// The request (its `request_id` and `client_order_id` are the same deterministic id).
    pub request: OrderRequest,
    /// What produced it.
    pub origin: Origin,
}

/// What produced an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A vote (or a non-voting strategy's own signal); fills are shared among the strategies
    /// in proportion to their order sizes.
    Signal {
        /// The contributing instances, lead first.
        strategies: Vec<Arc<str>>,
    },
    /// An exit of one strategy's position.
    Exit {
        /// The instance.
        strategy: Arc<str>,
    },
    /// A market maker's quote.
    Quote {
        /// The instance.
        strategy: Arc<str>,
        /// Its slot.
        quote: QuoteId,
    },
}

/// A request to cancel one of the engine's orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOrder {
    /// The order's symbol.
    pub symbol: Arc<str>,
    /// The order's client order id.
    pub client_order_id: String,
    /// The instance the order belongs to (the lead one for shared orders).
    pub strategy: Arc<str>,
    /// Why.
    pub reason: CancelReason,
}

/// Why the engine cancels an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The strategy withdrew the quote.
    Withdrawn,
    /// The strategy put a different quote in the slot.
    Replaced,
    /// A resting signal order outlived `resting_order_ttl_ms`.
    Expired,
    /// The instance was stopped, reconfigured, removed or disabled after failures.
    Stopped,
    /// Found on the venue at start-up and not adopted by its strategy.
    NotRecovered,
}

/// How an order ended without filling completely, as the caller reports it to
/// [`crate::StrategyEngine::on_order_closed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// Cancelled (by us or the venue).
    Canceled,
    /// Rejected by the venue (a post-only order that would have taken, a filter, ...).
    Rejected,
    /// Expired (an IOC remainder, ...).
    Expired,
    /// Refused by the risk check before it was sent.
    RefusedByRisk,
}

/// Something that went wrong or was refused, for the log and alerts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// The instance concerned, if one is.
    pub strategy: Option<Arc<str>>,
    /// What happened.
    pub kind: IncidentKind,
    /// The details.
    pub message: String,
}

/// The kinds of [`Incident`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// A strategy panicked (caught).
    Panic,
    /// A strategy returned an error.
    Error,
    /// A strategy was disabled after too many consecutive failures.
    Disabled,
    /// A signal or quote could not become an order (no touch, dust quantity, crossing, ...).
    OrderSkipped,
    /// An action was not valid where it was given (a second vote, adoption outside recovery).
    ActionIgnored,
    /// A fill could not be applied to a strategy's position.
    Position,
}
