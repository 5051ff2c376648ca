//! What a strategy asks the engine to do ([`StrategyAction`], collected in [`Actions`]) and
//! what the engine tells it back about its orders ([`StrategyFill`], [`Recovery`]).
//!
//! # How the engine consumes actions
//!
//! - [`StrategyAction::Signal`]: stamped into a [`crate::Signal`]. An entry signal is put to
//!   its symbol's vote (see [`crate::aggregate`]); the winning side becomes one order. An exit
//!   signal skips the vote and becomes an order for the strategy's own position.
//! - [`StrategyAction::PlaceQuote`]: the slot `quote.id` should hold a post-only limit order
//!   (`GTX`) at `quote.price` for `quote.qty`. If the slot already holds the same order,
//!   nothing happens; if it holds another one, that one is cancelled and the new one placed.
//!   A quote that would cross the touch is not sent and the slot is reported closed.
//! - [`StrategyAction::CancelQuote`]: cancel whatever the slot holds.
//! - [`StrategyAction::AdoptOrder`] (in [`crate::Strategy::recover`] only): a venue order
//!   found at start-up is the slot's order from now on; [`StrategyAction::CancelOrder`]: cancel
//!   a venue order the strategy does not want. Orders carrying the instance's id that are
//!   neither adopted nor cancelled are cancelled by the engine.
//!
//! Slots free up again through [`crate::Strategy::on_order_fill`] (with
//! [`StrategyFill::quote_done`]) or [`crate::Strategy::on_quote_closed`] (cancelled, rejected,
//! expired, refused by risk or by the engine).

use kestrel_model::money::{Price, Qty};
use kestrel_model::order::{Fill, Side};
use serde::{Deserialize, Serialize};

use crate::signal::SignalIntent;

/// A strategy's own name for one of its quote slots (a grid level, the bid of a market maker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QuoteId(pub u32);

/// A post-only order a market maker wants resting in one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// The slot.
    pub id: QuoteId,
    /// Buy or sell.
    pub side: Side,
    /// The limit price (rounded away from the touch onto the tick grid by the engine).
    pub price: Price,
    /// The quantity (rounded down onto the step grid by the engine).
    pub qty: Qty,
}

/// One request from a strategy to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrategyAction {
    /// A trading signal.
    Signal(SignalIntent),
    /// Keep this quote resting in its slot.
    PlaceQuote(Quote),
    /// Cancel the slot's order.
    CancelQuote(QuoteId),
    /// Recovery: this venue order is the slot's order.
    AdoptOrder {
        /// The slot.
        quote: QuoteId,
        /// The venue order's client order id.
        client_order_id: String,
    },
    /// Recovery: cancel this venue order.
    CancelOrder {
        /// The venue order's client order id.
        client_order_id: String,
    },
}

/// The buffer a strategy writes its actions into; the engine reuses it between calls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actions {
    items: Vec<StrategyAction>,
}

impl Actions {
    /// An empty buffer with room for `capacity` actions.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            items: Vec::with_capacity(capacity),
        }
    }

    /// Adds any action.
    pub fn push(&mut self, action: StrategyAction) {
        self.items.push(action);
    }

    /// Adds a signal.
    pub fn signal(&mut self, intent: SignalIntent) {
        self.push(StrategyAction::Signal(intent));
    }

    /// Asks for `quote` to rest in its slot.
    pub fn place_quote(&mut self, quote: Quote) {
        self.push(StrategyAction::PlaceQuote(quote));
    }

    /// Asks for the slot's order to be cancelled.
    pub fn cancel_quote(&mut self, id: QuoteId) {
        self.push(StrategyAction::CancelQuote(id));
    }

    /// The actions, in the order they were added.
    #[must_use]
    pub fn as_slice(&self) -> &[StrategyAction] {
        &self.items
    }

    /// How many actions there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Drops the actions from `len` on (what a failed call added).
    pub fn truncate(&mut self, len: usize) {
        self.items.truncate(len);
    }

    /// Removes and yields every action, keeping the capacity.
    pub fn drain(&mut self) -> std::vec::Drain<'_, StrategyAction> {
        self.items.drain(..)
    }
}

/// A fill attributed to a strategy, as [`crate::Strategy::on_order_fill`] receives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrategyFill<'a> {
    /// The venue's fill.
    pub fill: &'a Fill,
    /// The part of the fill's quantity attributed to this strategy (all of it unless the
    /// order came from a vote several strategies won together).
    pub qty: Qty,
    /// The slot the order was resting in, for quotes.
    pub quote: Option<QuoteId>,
    /// Whether the slot's order is now completely filled (so the slot is free).
    pub quote_done: bool,
}

/// One of the venue's open orders, as the engine hands it over at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenOrder {
    /// The order's client order id.
    pub client_order_id: String,
    /// Buy or sell.
    pub side: Side,
    /// Its limit price.
    pub price: Price,
    /// The quantity still open.
    pub qty: Qty,
}

/// What a strategy recovers from at start-up: its open orders on the venue and its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery<'a> {
    /// The open orders carrying this instance's client-id tag.
    pub open_orders: &'a [OpenOrder],
    /// The strategy's position (signed: long > 0).
    pub position_qty: Qty,
    /// Its average entry price, when open.
    pub entry_price: Option<Price>,
}
