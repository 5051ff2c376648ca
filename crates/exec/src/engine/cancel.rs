//! Cancels (seed 000 FR-OE-006): one order, every order of a symbol, or a batch of one
//! symbol's orders (at most [`MAX_BATCH_CANCELS`] per venue request). "Order not found" on a
//! cancel means the order is already gone (filled, cancelled or expired): it is logged as a
//! warning, the order is taken as cancelled if it was still open locally, and the caller goes
//! on (the seed's error table).

use kestrel_model::order::{OrderEvent, OrderStatus};
use kestrel_venue::binance::orders::VenueOrder;

use super::{Engine, EngineError, VenueFailure, apply_event, tracked_in};
use crate::clock::Nanos;
use crate::journal::Journal;
use crate::outcome::FailureClass;

/// The most orders one batch cancel names (Binance `DELETE /fapi/v1/batchOrders`, §3.3).
pub const MAX_BATCH_CANCELS: usize = 10;

/// A cancel to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelCommand {
    /// Cancel one order by client order id.
    One {
        /// The symbol.
        symbol: String,
        /// The order.
        client_order_id: String,
    },
    /// Cancel every open order of a symbol.
    All {
        /// The symbol.
        symbol: String,
    },
    /// Cancel up to ten orders of one symbol by client order id.
    Batch {
        /// The symbol.
        symbol: String,
        /// The orders.
        client_order_ids: Vec<String>,
    },
}

/// Why a cancel was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelRefusal {
    /// No order of this session has the client order id.
    #[error("cancel: no order with client order id {0}")]
    Unknown(String),
    /// The order's placement is not answered yet: a cancel now could find nothing and the
    /// order still land; cancel once the placement is settled.
    #[error("cancel: order {0} is still being placed; cancel it once its placement is answered")]
    PlacementInFlight(String),
    /// The order is no longer open.
    #[error("cancel: order {client_order_id} is already {status:?}")]
    NotOpen {
        /// The order.
        client_order_id: String,
        /// Its status.
        status: OrderStatus,
    },
}

/// What a cancel achieved for one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The venue cancelled it (or reports it in this final status).
    Done(OrderStatus),
    /// The venue no longer knows it as open: already gone.
    AlreadyGone,
    /// The cancel failed; the order may still be open.
    Failed(VenueFailure),
}

impl<J: Journal> Engine<J> {
    /// The cancel of one open order whose placement is answered.
    ///
    /// # Errors
    /// [`CancelRefusal`] when the order is unknown, still being placed, or no longer open.
    pub fn cancel(&self, client_order_id: &str) -> Result<CancelCommand, CancelRefusal> {
        let tracked = self
            .orders
            .get(client_order_id)
            .ok_or_else(|| CancelRefusal::Unknown(client_order_id.to_owned()))?;
        if !tracked.order.status.is_open() {
            return Err(CancelRefusal::NotOpen {
                client_order_id: client_order_id.to_owned(),
                status: tracked.order.status,
            });
        }
        if tracked.answer.is_none() {
            return Err(CancelRefusal::PlacementInFlight(client_order_id.to_owned()));
        }
        Ok(CancelCommand::One {
            symbol: tracked.symbol().to_owned(),
            client_order_id: client_order_id.to_owned(),
        })
    }

    /// The cancel of every open order of `symbol` (the venue's own list, ours or not).
    #[must_use]
    pub fn cancel_symbol(&self, symbol: &str) -> CancelCommand {
        CancelCommand::All {
            symbol: symbol.to_owned(),
        }
    }

    /// Batch cancels of the open orders among `client_order_ids` on `symbol`, at most ten per
    /// command; unknown, closed, still-being-placed or other-symbol ids are left out.
    #[must_use]
    pub fn cancel_batch(&self, symbol: &str, client_order_ids: &[String]) -> Vec<CancelCommand> {
        let open: Vec<String> = client_order_ids
            .iter()
            .filter(|id| {
                self.orders.get(id.as_str()).is_some_and(|t| {
                    t.symbol() == symbol && t.order.status.is_open() && t.answer.is_some()
                })
            })
            .cloned()
            .collect();
        open.chunks(MAX_BATCH_CANCELS)
            .map(|chunk| CancelCommand::Batch {
                symbol: symbol.to_owned(),
                client_order_ids: chunk.to_vec(),
            })
            .collect()
    }

    /// The venue's answer to the cancel of one order (alone or as a batch element).
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`].
    pub fn on_cancel_result(
        &mut self,
        client_order_id: &str,
        result: Result<VenueOrder, VenueFailure>,
        now: Nanos,
    ) -> Result<CancelOutcome, EngineError> {
        self.record_outcome(result.as_ref().err(), now);
        match result {
            Ok(venue) => {
                self.on_rest_order(&venue, now)?;
                let status = tracked_in(&mut self.orders, client_order_id)?.order.status;
                Ok(CancelOutcome::Done(status))
            }
            Err(failure) if failure.class == FailureClass::NotFound => {
                tracing::warn!(
                    target: "kestrel::exec",
                    client_order_id,
                    "cancel: order not found at the venue; taking it as already gone"
                );
                self.gone(client_order_id)?;
                Ok(CancelOutcome::AlreadyGone)
            }
            Err(failure) => {
                if failure.class == FailureClass::Auth {
                    self.halt(format!(
                        "the venue refused our credentials: {}",
                        failure.message
                    ));
                }
                Ok(CancelOutcome::Failed(failure))
            }
        }
    }

    /// The venue's answer to cancelling every open order of `symbol`: on success each order
    /// of the symbol the venue had acknowledged is cancelled locally (the user stream confirms
    /// each; orders still awaiting their placement answer are left to it).
    pub fn on_cancel_all_result(
        &mut self,
        symbol: &str,
        result: Result<(), VenueFailure>,
        now: Nanos,
    ) -> Result<Vec<String>, VenueFailure> {
        self.record_outcome(result.as_ref().err(), now);
        if let Err(failure) = result {
            if failure.class == FailureClass::Auth {
                self.halt(format!(
                    "the venue refused our credentials: {}",
                    failure.message
                ));
            }
            return Err(failure);
        }
        let ids: Vec<String> = self
            .open_at_venue(symbol)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        for id in &ids {
            if let Some(tracked) = self.orders.get_mut(id) {
                let _ = apply_event(tracked, OrderEvent::Cancel, &mut self.events);
            }
        }
        Ok(ids)
    }

    /// Takes an order the venue no longer has open as cancelled, if it is open locally.
    fn gone(&mut self, client_order_id: &str) -> Result<(), EngineError> {
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        if tracked.order.status.is_open() {
            let _ = apply_event(tracked, OrderEvent::Cancel, &mut self.events);
        }
        Ok(())
    }
}
