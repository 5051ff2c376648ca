//! Cancels (seed 000 FR-OE-006): one order, every order of a symbol, or a batch of one
//! symbol's orders (at most [`MAX_BATCH_CANCELS`] per venue request). "Order not found" on a
//! cancel means the order is already gone (filled, cancelled or expired): it is logged as a
//! warning, the order is taken as cancelled if it was still open locally, and the caller goes
//! on (the seed's error table).
//!
//! A conditional order is cancelled on the algo endpoint while it waits for its trigger, and
//! through its child order once triggered ([`super::algo`]); cancelling a symbol cancels its
//! waiting conditional orders as well as its open orders.

use kestrel_model::order::{OrderEvent, OrderStatus};
use kestrel_venue::binance::orders::{AlgoStatus, VenueOrder};

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
    /// Cancel a conditional order waiting for its trigger, on the algo endpoint
    /// (`DELETE /fapi/v1/algoOrder` by client algo id); answer with
    /// [`Engine::on_algo_cancel_result`].
    Algo {
        /// The symbol.
        symbol: String,
        /// The conditional order.
        client_order_id: String,
    },
    /// Cancel a triggered conditional order: its child order, by order id, on the order
    /// endpoint; answer with [`Engine::on_cancel_result`].
    Child {
        /// The symbol.
        symbol: String,
        /// The conditional order.
        client_order_id: String,
        /// Its child order.
        order_id: u64,
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
        let (symbol, client_order_id) = (tracked.symbol().to_owned(), client_order_id.to_owned());
        Ok(match tracked.algo.as_ref().map(|a| a.child) {
            None => CancelCommand::One {
                symbol,
                client_order_id,
            },
            Some(None) => CancelCommand::Algo {
                symbol,
                client_order_id,
            },
            Some(Some(order_id)) => CancelCommand::Child {
                symbol,
                client_order_id,
                order_id,
            },
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
    /// command, then one command per conditional order among them (the batch endpoint does
    /// not know them); unknown, closed, still-being-placed or other-symbol ids are left out.
    #[must_use]
    pub fn cancel_batch(&self, symbol: &str, client_order_ids: &[String]) -> Vec<CancelCommand> {
        let (conditional, plain): (Vec<String>, Vec<String>) = client_order_ids
            .iter()
            .filter(|id| {
                self.orders.get(id.as_str()).is_some_and(|t| {
                    t.symbol() == symbol && t.order.status.is_open() && t.answer.is_some()
                })
            })
            .cloned()
            .partition(|id| self.is_conditional(id));
        let batches = plain
            .chunks(MAX_BATCH_CANCELS)
            .map(|chunk| CancelCommand::Batch {
                symbol: symbol.to_owned(),
                client_order_ids: chunk.to_vec(),
            })
            .collect::<Vec<_>>();
        let singles = conditional.iter().filter_map(|id| self.cancel(id).ok());
        batches.into_iter().chain(singles).collect()
    }

    /// The algo endpoint's answer to the cancel of a conditional order waiting for its trigger
    /// ([`CancelCommand::Algo`]): done, or as [`Engine::on_cancel_result`] for a failure. The
    /// caller should first ask the algo service about an order it did not find (it may have
    /// triggered: then its child is to be cancelled).
    ///
    /// # Errors
    /// [`EngineError::UnknownOrder`].
    pub fn on_algo_cancel_result(
        &mut self,
        client_order_id: &str,
        result: Result<(), VenueFailure>,
        now: Nanos,
    ) -> Result<CancelOutcome, EngineError> {
        if let Err(failure) = result {
            return self.on_cancel_result(client_order_id, Err(failure), now);
        }
        self.record_outcome(None, now);
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        if let Some(algo) = tracked.algo.as_mut() {
            algo.status = Some(AlgoStatus::Canceled);
        }
        if tracked.order.status.is_open() {
            let _ = apply_event(tracked, OrderEvent::Cancel, &mut self.events);
        }
        Ok(CancelOutcome::Done(tracked.order.status))
    }

    /// The algo endpoint's answer to cancelling every conditional order of `symbol` waiting for
    /// its trigger (`DELETE /fapi/v1/algoOpenOrders`): on success each one the engine holds so
    /// is cancelled locally (the user stream confirms each). Returns their client order ids.
    ///
    /// # Errors
    /// The venue's failure.
    pub fn on_cancel_all_algos_result(
        &mut self,
        symbol: &str,
        result: Result<(), VenueFailure>,
        now: Nanos,
    ) -> Result<Vec<String>, VenueFailure> {
        let ids = self.awaiting_trigger(symbol);
        self.cancelled_all(ids, result, now)
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
                self.halt_on_auth(&failure);
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
        let ids = self.open_at_venue(symbol).into_iter().map(|(id, _)| id);
        self.cancelled_all(ids.collect(), result, now)
    }

    /// After a cancel-all answered `result`: on success the orders `ids` are cancelled locally
    /// and returned; a failure is recorded (halting on an authentication failure) and returned.
    fn cancelled_all(
        &mut self,
        ids: Vec<String>,
        result: Result<(), VenueFailure>,
        now: Nanos,
    ) -> Result<Vec<String>, VenueFailure> {
        self.record_outcome(result.as_ref().err(), now);
        if let Err(failure) = result {
            self.halt_on_auth(&failure);
            return Err(failure);
        }
        for id in &ids {
            if let Some(tracked) = self.orders.get_mut(id) {
                let _ = apply_event(tracked, OrderEvent::Cancel, &mut self.events);
            }
        }
        Ok(ids)
    }

    /// Halts trading when the venue refused our credentials.
    fn halt_on_auth(&mut self, failure: &VenueFailure) {
        if failure.class == FailureClass::Auth {
            self.halt(format!(
                "the venue refused our credentials: {}",
                failure.message
            ));
        }
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
