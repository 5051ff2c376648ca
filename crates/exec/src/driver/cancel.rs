//! Cancels (seed 000 FR-OE-006) as the engine commands them ([`crate::engine::CancelCommand`]):
//! one order by client order id, a triggered conditional order through its child by order id,
//! a waiting conditional order on the algo endpoint, batches of ten, and every order of a
//! symbol — its waiting conditional orders first, so none can trigger into a new order after
//! the open orders were cancelled.

use kestrel_venue::binance::orders::OrderKey;

use super::ExecDriver;
use super::algo::read_child;
use crate::engine::{AlgoFollowUp, CancelCommand, CancelOutcome, CancelRefusal, VenueFailure};
use crate::journal::Journal;
use crate::outcome::FailureClass;

impl<J: Journal + 'static> ExecDriver<J> {
    /// Cancels one order (a conditional one on the algo endpoint, or through its child once
    /// triggered). "Order not found" at the venue is [`CancelOutcome::AlreadyGone`].
    ///
    /// # Errors
    /// [`CancelRefusal`] when the order is unknown or no longer open.
    pub async fn cancel(&self, client_order_id: &str) -> Result<CancelOutcome, CancelRefusal> {
        let command = self.shared.engine(|e| e.cancel(client_order_id))?;
        match command {
            CancelCommand::One {
                symbol,
                client_order_id,
            } => {
                let key = OrderKey::ClientOrderId(client_order_id.clone());
                self.cancel_by(&symbol, &client_order_id, key).await
            }
            CancelCommand::Child {
                symbol,
                client_order_id,
                order_id,
            } => {
                let key = OrderKey::OrderId(order_id);
                self.cancel_by(&symbol, &client_order_id, key).await
            }
            CancelCommand::Algo {
                symbol,
                client_order_id,
            } => self.cancel_algo(&symbol, &client_order_id).await,
            CancelCommand::All { .. } | CancelCommand::Batch { .. } => {
                Err(CancelRefusal::Unknown(client_order_id.to_owned()))
            }
        }
    }

    /// Cancels an order of the order endpoint named by `key`, as `client_order_id`'s.
    async fn cancel_by(
        &self,
        symbol: &str,
        client_order_id: &str,
        key: OrderKey,
    ) -> Result<CancelOutcome, CancelRefusal> {
        let venue = &self.shared.venue;
        let result = self
            .shared
            .idempotent(|| venue.cancel(symbol, &key))
            .await
            .map_err(|error| self.shared.failure(&error));
        let now = self.shared.now();
        self.shared
            .engine(|e| e.on_cancel_result(client_order_id, result, now))
            .map_err(|_| CancelRefusal::Unknown(client_order_id.to_owned()))
    }

    /// Cancels a conditional order waiting for its trigger. When the algo service no longer
    /// holds it open it may have just triggered: the algo order is read, and a child found open
    /// is cancelled instead.
    async fn cancel_algo(
        &self,
        symbol: &str,
        client_order_id: &str,
    ) -> Result<CancelOutcome, CancelRefusal> {
        let rest = self.shared.venue.rest();
        let key = OrderKey::ClientOrderId(client_order_id.to_owned());
        let result = self
            .shared
            .idempotent(|| rest.cancel_algo_order(&key))
            .await
            .map(drop)
            .map_err(|error| self.shared.failure(&error));
        if matches!(&result, Err(f) if f.class == FailureClass::NotFound)
            && let Some(outcome) = self.cancel_after_trigger(symbol, client_order_id).await
        {
            return outcome;
        }
        let now = self.shared.now();
        self.shared
            .engine(|e| e.on_algo_cancel_result(client_order_id, result, now))
            .map_err(|_| CancelRefusal::Unknown(client_order_id.to_owned()))
    }

    /// After the algo service did not find a conditional order to cancel: reads it, then
    /// cancels its child if it triggered, or reports the state it ended in. `None` when it
    /// cannot be read or the venue still says it waits (the engine then takes it as gone).
    async fn cancel_after_trigger(
        &self,
        symbol: &str,
        client_order_id: &str,
    ) -> Option<Result<CancelOutcome, CancelRefusal>> {
        let rest = self.shared.venue.rest();
        let key = OrderKey::ClientOrderId(client_order_id.to_owned());
        let algo = self
            .shared
            .idempotent(|| rest.query_algo_order(&key))
            .await
            .ok()?;
        let now = self.shared.now();
        let (_, follow_up) = self.shared.engine(|e| e.on_rest_algo(&algo, now)).ok()?;
        if let AlgoFollowUp::ReadChild { symbol, order_id } = follow_up {
            read_child(&self.shared, &symbol, order_id).await;
        }
        match self.shared.engine(|e| e.cancel(client_order_id)) {
            Ok(CancelCommand::Child { order_id, .. }) => Some(
                self.cancel_by(symbol, client_order_id, OrderKey::OrderId(order_id))
                    .await,
            ),
            Ok(_) => None,
            Err(CancelRefusal::NotOpen { status, .. }) => Some(Ok(CancelOutcome::Done(status))),
            Err(refusal) => Some(Err(refusal)),
        }
    }

    /// Cancels every waiting conditional order of `symbol` (algo endpoint), then every open
    /// order (order endpoint); returns the client order ids of this session's orders that were
    /// cancelled. Both cancels are tried; a failure of either is returned after both ran (the
    /// orders the other cancelled are cancelled in the engine all the same).
    ///
    /// # Errors
    /// The venue's failure.
    pub async fn cancel_symbol(&self, symbol: &str) -> Result<Vec<String>, VenueFailure> {
        let rest = self.shared.venue.rest();
        let algos = self
            .shared
            .idempotent(|| rest.cancel_all_algo_orders(symbol))
            .await
            .map_err(|error| self.shared.failure(&error));
        let now = self.shared.now();
        let algos = self
            .shared
            .engine(|e| e.on_cancel_all_algos_result(symbol, algos, now));
        let orders = self
            .shared
            .idempotent(|| rest.cancel_all(symbol))
            .await
            .map_err(|error| self.shared.failure(&error));
        let now = self.shared.now();
        let mut cancelled = self
            .shared
            .engine(|e| e.on_cancel_all_result(symbol, orders, now))?;
        cancelled.extend(algos?);
        cancelled.sort();
        Ok(cancelled)
    }

    /// Cancels the open orders among `client_order_ids` on `symbol` in batches of ten (the
    /// conditional ones each on its own); returns each order's outcome (orders not open are
    /// left out).
    pub async fn cancel_batch(
        &self,
        symbol: &str,
        client_order_ids: &[String],
    ) -> Vec<(String, CancelOutcome)> {
        let commands = self
            .shared
            .engine(|e| e.cancel_batch(symbol, client_order_ids));
        let mut outcomes = Vec::new();
        for command in commands {
            match command {
                CancelCommand::Batch {
                    symbol,
                    client_order_ids,
                } => outcomes.extend(self.cancel_chunk(&symbol, client_order_ids).await),
                CancelCommand::Algo {
                    client_order_id, ..
                }
                | CancelCommand::Child {
                    client_order_id, ..
                } => {
                    if let Ok(outcome) = self.cancel(&client_order_id).await {
                        outcomes.push((client_order_id, outcome));
                    }
                }
                CancelCommand::One { .. } | CancelCommand::All { .. } => {}
            }
        }
        outcomes
    }

    async fn cancel_chunk(&self, symbol: &str, ids: Vec<String>) -> Vec<(String, CancelOutcome)> {
        let keys: Vec<OrderKey> = ids.iter().cloned().map(OrderKey::ClientOrderId).collect();
        let rest = self.shared.venue.rest();
        let answer = self
            .shared
            .idempotent(|| rest.cancel_batch(symbol, &keys))
            .await;
        let now = self.shared.now();
        let results: Vec<Result<_, VenueFailure>> = match answer {
            Ok(elements) => elements
                .into_iter()
                .map(|r| r.map_err(|e| self.shared.failure(&e)))
                .collect(),
            Err(error) => vec![Err(self.shared.failure(&error)); ids.len()],
        };
        self.shared.engine(|e| {
            ids.into_iter()
                .zip(results)
                .filter_map(|(id, result)| {
                    let outcome = e.on_cancel_result(&id, result, now).ok()?;
                    Some((id, outcome))
                })
                .collect()
        })
    }
}
