//! [`Order`] and its lifecycle (seed 000 FR-OE-004):
//!
//! ```text
//! NEW → PENDING_SUBMIT → SUBMITTED → PARTIALLY_FILLED → FILLED
//!                                  → CANCELED / REJECTED / EXPIRED
//! ```
//!
//! Every change goes through [`Order::apply`], which refuses an event the current state does
//! not allow with [`OrderError::IllegalTransition`]. Two real-world races are allowed on
//! purpose, because refusing them would lose information:
//! - a fill may arrive while the order is still `PENDING_SUBMIT` (the user stream can report a
//!   fill before the REST answer to the placement arrives);
//! - a fill may arrive after `CANCELED` or `EXPIRED` (a cancel answer can overtake the fill
//!   that happened just before it); it is recorded and the status stays terminal.

use serde::{Deserialize, Serialize};

use super::fill::Fill;
use super::request::OrderRequest;
use crate::money::{Money, MoneyError, Price, Qty, RoundingMode};

/// Where an order is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Created locally, not yet queued.
    New,
    /// Queued for submission (journaled, not yet on the wire).
    PendingSubmit,
    /// Sent to the venue.
    Submitted,
    /// Some quantity filled, the rest still working.
    PartiallyFilled,
    /// Completely filled.
    Filled,
    /// Cancelled by the user or the system.
    Canceled,
    /// Refused by the venue or by a local check.
    Rejected,
    /// Ended by its time in force or by the venue.
    Expired,
}

impl OrderStatus {
    /// Whether no further change is possible (apart from a late fill on a cancelled order).
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Filled | Self::Canceled | Self::Rejected | Self::Expired
        )
    }

    /// Whether the order may still execute at the venue.
    #[must_use]
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            Self::PendingSubmit | Self::Submitted | Self::PartiallyFilled
        )
    }
}

/// Something that happened to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEvent {
    /// Queued for submission.
    Queue,
    /// Written to the venue.
    Send,
    /// The venue acknowledged it under this order id.
    Accept {
        /// The venue's order id.
        venue_order_id: u64,
    },
    /// A fill was reported.
    Fill(Fill),
    /// The order was cancelled.
    Cancel,
    /// The order was refused.
    Reject {
        /// Why, in the venue's or the validator's words.
        reason: String,
    },
    /// The order expired (IOC/FOK remainder, venue expiry, self-trade prevention).
    Expire,
}

impl OrderEvent {
    const fn name(&self) -> &'static str {
        match self {
            Self::Queue => "queue",
            Self::Send => "send",
            Self::Accept { .. } => "accept",
            Self::Fill(_) => "fill",
            Self::Cancel => "cancel",
            Self::Reject { .. } => "reject",
            Self::Expire => "expire",
        }
    }
}

/// Why an event could not be applied to an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    /// The event is not allowed in the order's current state.
    #[error("order {client_order_id}: cannot {event} an order that is {from:?}")]
    IllegalTransition {
        /// The order's client id.
        client_order_id: String,
        /// Its state when the event arrived.
        from: OrderStatus,
        /// The refused event.
        event: &'static str,
    },
    /// A fill would take the executed quantity past the order quantity.
    #[error(
        "order {client_order_id}: fill of {fill_qty} would overfill ({filled} of {quantity} already filled)"
    )]
    Overfill {
        /// The order's client id.
        client_order_id: String,
        /// The fill's quantity.
        fill_qty: Qty,
        /// Already filled before it.
        filled: Qty,
        /// The order quantity.
        quantity: Qty,
    },
    /// The fill's trade id was already applied; the fill is ignored.
    #[error("order {client_order_id}: trade {trade_id} was already applied")]
    DuplicateFill {
        /// The order's client id.
        client_order_id: String,
        /// The repeated trade id.
        trade_id: u64,
    },
    /// The fill belongs to another order or is malformed.
    #[error("order {client_order_id}: fill rejected: {reason}")]
    ForeignFill {
        /// The order's client id.
        client_order_id: String,
        /// What does not match.
        reason: &'static str,
    },
    /// An amount overflowed.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

/// An order and everything known about its execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// What was asked for.
    pub request: OrderRequest,
    /// The client order id sent to the venue.
    pub client_order_id: String,
    /// The venue's id, once known.
    pub venue_order_id: Option<u64>,
    /// The lifecycle state.
    pub status: OrderStatus,
    /// Executed quantity so far.
    pub filled_qty: Qty,
    /// Executed quote notional so far (Σ price × qty, exact).
    pub filled_notional: Money,
    /// Fees so far, in the commission asset of the fills.
    pub commission: Money,
    /// Fills by maker side.
    pub maker_fills: u32,
    /// Fills by taker side.
    pub taker_fills: u32,
    /// The reason given when the order was rejected.
    pub reject_reason: Option<String>,
    /// Trade ids already applied, so a repeated fill is recognised.
    trade_ids: Vec<u64>,
}

impl Order {
    /// A new order in state `NEW` for `request` under `client_order_id`.
    #[must_use]
    pub fn new(request: OrderRequest, client_order_id: String) -> Self {
        Self {
            request,
            client_order_id,
            venue_order_id: None,
            status: OrderStatus::New,
            filled_qty: Qty::ZERO,
            filled_notional: Money::ZERO,
            commission: Money::ZERO,
            maker_fills: 0,
            taker_fills: 0,
            reject_reason: None,
            trade_ids: Vec::new(),
        }
    }

    /// The quantity still to fill.
    #[must_use]
    pub fn remaining_qty(&self) -> Qty {
        self.request
            .quantity
            .try_sub(self.filled_qty)
            .unwrap_or(Qty::ZERO)
            .max(Qty::ZERO)
    }

    /// The average fill price (rounded half to even at 10⁻⁸), if anything filled.
    #[must_use]
    pub fn average_price(&self) -> Option<Price> {
        self.filled_notional
            .try_div_qty(self.filled_qty, RoundingMode::HalfEven)
            .ok()
    }

    /// Applies `event`, returning the new status.
    ///
    /// # Errors
    /// [`OrderError::IllegalTransition`] when the state does not allow the event (the order is
    /// unchanged); [`OrderError::Overfill`], [`OrderError::DuplicateFill`] or
    /// [`OrderError::ForeignFill`] for a fill that cannot belong to this order.
    pub fn apply(&mut self, event: OrderEvent) -> Result<OrderStatus, OrderError> {
        use OrderStatus as S;
        let next = match (&event, self.status) {
            (OrderEvent::Queue, S::New) => S::PendingSubmit,
            (OrderEvent::Send, S::PendingSubmit) => S::Submitted,
            (
                OrderEvent::Accept { venue_order_id },
                S::Submitted | S::PartiallyFilled | S::Filled,
            ) => {
                self.venue_order_id = Some(*venue_order_id);
                self.status
            }
            (OrderEvent::Fill(fill), S::PendingSubmit | S::Submitted | S::PartiallyFilled) => {
                self.record_fill(fill)?;
                if self.remaining_qty().is_zero() {
                    S::Filled
                } else {
                    S::PartiallyFilled
                }
            }
            (OrderEvent::Fill(fill), S::Canceled | S::Expired) => {
                self.record_fill(fill)?;
                self.status
            }
            (OrderEvent::Cancel, S::New | S::PendingSubmit | S::Submitted | S::PartiallyFilled) => {
                S::Canceled
            }
            (OrderEvent::Reject { reason }, S::New | S::PendingSubmit | S::Submitted) => {
                self.reject_reason = Some(reason.clone());
                S::Rejected
            }
            (OrderEvent::Expire, S::Submitted | S::PartiallyFilled) => S::Expired,
            _ => return Err(self.illegal(&event)),
        };
        self.status = next;
        Ok(next)
    }

    fn record_fill(&mut self, fill: &Fill) -> Result<(), OrderError> {
        if self.trade_ids.contains(&fill.trade_id) {
            return Err(OrderError::DuplicateFill {
                client_order_id: self.client_order_id.clone(),
                trade_id: fill.trade_id,
            });
        }
        if fill.side != self.request.side || fill.symbol != self.request.symbol {
            return Err(self.foreign("side or symbol differs from the order's"));
        }
        if !fill.quantity.is_positive() || !fill.price.is_positive() {
            return Err(self.foreign("price and quantity must be positive"));
        }
        let filled = self.filled_qty.try_add(fill.quantity)?;
        if filled > self.request.quantity && !self.request.close_position {
            return Err(OrderError::Overfill {
                client_order_id: self.client_order_id.clone(),
                fill_qty: fill.quantity,
                filled: self.filled_qty,
                quantity: self.request.quantity,
            });
        }
        let notional = self.filled_notional.try_add(fill.notional())?;
        let commission = self.commission.try_add(fill.commission)?;
        self.filled_qty = filled;
        self.filled_notional = notional;
        self.commission = commission;
        match fill.liquidity {
            super::fill::Liquidity::Maker => self.maker_fills += 1,
            super::fill::Liquidity::Taker => self.taker_fills += 1,
        }
        self.trade_ids.push(fill.trade_id);
        Ok(())
    }

    fn illegal(&self, event: &OrderEvent) -> OrderError {
        OrderError::IllegalTransition {
            client_order_id: self.client_order_id.clone(),
            from: self.status,
            event: event.name(),
        }
    }

    fn foreign(&self, reason: &'static str) -> OrderError {
        OrderError::ForeignFill {
            client_order_id: self.client_order_id.clone(),
            reason,
        }
    }
}
