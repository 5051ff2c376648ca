//! Conditional orders (`STOP`, `STOP_MARKET`, `TAKE_PROFIT`, `TAKE_PROFIT_MARKET`,
//! `TRAILING_STOP_MARKET`; seed 000 FR-OE-003) on Binance's algo service
//! (`../shared/binance-futures.md` §3.4, §8.4, §9.2). Since 2025-12-09 the order endpoint refuses
//! them (`-4120`): they are placed on `POST /fapi/v1/algoOrder` with our client order id as
//! `clientAlgoId`, and the venue names them by an `algoId` of its own.
//!
//! Their lifecycle at the venue (`algoStatus`, reported by the algo endpoints and `ALGO_UPDATE`):
//!
//! ```text
//! NEW ──trigger──► TRIGGERING ──► TRIGGERED: child order placed ──► FINISHED: child filled or closed
//!  ├─► CANCELED (by us, before the trigger)
//!  ├─► EXPIRED (cancelled by the system)
//!  └─► REJECTED (refused at the trigger; `rm` says why)
//! ```
//!
//! The engine tracks a conditional order as one [`kestrel_model::order::Order`] under its client
//! order id. Its venue id is the algo id until the trigger, then the child order's id, so the
//! order and its fills (which carry the child's id) agree; that change is published as an order
//! update. The child carries a client order id of the venue's choosing, so it is recognised by
//! its order id, learned from `ALGO_UPDATE`'s `ai` or the algo query's `actualOrderId` (or from a
//! child report that carries our id); child fills that arrive before are parked and applied
//! once it is learned. The child's fate is the order's: its fills fill it, its cancel or expiry
//! ends it. An algo order cancelled, expired or rejected before its trigger ends it likewise.
//!
//! Algo ids and order ids are separate number spaces (the simulator counts both from 1), so an
//! algo id is never used to look up fills or orders on the order endpoints.

use kestrel_model::OrderRequest;
use kestrel_model::Price;
use kestrel_model::order::{ExecutionMode, OrderEvent, OrderStatus};
use kestrel_venue::binance::orders::{AlgoOrder, AlgoStatus};
use kestrel_venue::binance::user_data::{AlgoOrderUpdate, AlgoUpdate};

use super::placement::mark_accepted;
use super::restore::accepted_order;
use super::{Engine, EngineError, ExecEvent, RestOrder, Tracked, accepts, apply_event, tracked_in};
use crate::answer::OrderAnswer;
use crate::clock::Nanos;
use crate::journal::{IntentState, Journal};

/// Where a conditional order stands at the algo service, kept beside its order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct AlgoTrack {
    /// The venue's algo id, once known.
    pub(super) algo_id: Option<u64>,
    /// The last algo status reported.
    pub(super) status: Option<AlgoStatus>,
    /// The child order placed at the trigger, once known.
    pub(super) child: Option<u64>,
}

/// A conditional order as the venue reported it (`POST`/`GET /fapi/v1/algoOrder`,
/// `openAlgoOrders`, `ALGO_UPDATE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgoReport {
    /// Our client order id (`clientAlgoId` / `caid`).
    pub client_order_id: String,
    /// The venue's algo id.
    pub algo_id: u64,
    /// The symbol.
    pub symbol: String,
    /// The algo status.
    pub status: AlgoStatus,
    /// The child order's id, once triggered.
    pub child_order_id: Option<u64>,
    /// Why the venue refused it at its trigger, when it did.
    pub reason: Option<String>,
}

impl AlgoReport {
    /// The report an algo endpoint's answer makes.
    #[must_use]
    pub fn from_algo(algo: &AlgoOrder) -> Self {
        Self {
            client_order_id: algo.client_algo_id.clone(),
            algo_id: algo.algo_id,
            symbol: algo.symbol.clone(),
            status: algo.algo_status,
            child_order_id: algo.actual_order_id,
            reason: None,
        }
    }

    /// The report an `ALGO_UPDATE` makes.
    #[must_use]
    pub fn from_update(update: &AlgoOrderUpdate) -> Self {
        Self {
            client_order_id: update.client_algo_id.clone(),
            algo_id: update.algo_id,
            symbol: update.symbol.clone(),
            status: update.status,
            child_order_id: update.actual_order_id,
            reason: update.reject_reason.clone().filter(|r| !r.is_empty()),
        }
    }
}

/// What the driver must read after an algo report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlgoFollowUp {
    /// Nothing.
    Nothing,
    /// The order's outcome is its child's, not known yet: read the child order (its fills and
    /// status, [`Engine::on_user_trade`], [`Engine::on_rest_order`]).
    ReadChild {
        /// The symbol.
        symbol: String,
        /// The child order's id.
        order_id: u64,
    },
}

impl<J: Journal> Engine<J> {
    /// An `ALGO_UPDATE` from the user stream: settles an unanswered placement, learns the child
    /// order at the trigger and follows the algo status (module docs). Updates for conditional
    /// orders this session does not track are ignored (the reconciliation adopts an earlier
    /// run's).
    ///
    /// # Errors
    /// [`EngineError::Journal`] when settling the placement fails.
    pub fn on_algo_update(
        &mut self,
        update: &AlgoUpdate,
        now: Nanos,
    ) -> Result<AlgoFollowUp, EngineError> {
        let report = AlgoReport::from_update(&update.order);
        if !self.orders.contains_key(&report.client_order_id) {
            return Ok(AlgoFollowUp::Nothing);
        }
        let id = report.client_order_id.clone();
        self.apply_algo(&id, &report, false, now)
    }

    /// A conditional order read over REST (open algo orders after a reconnect, an algo query):
    /// as [`Engine::on_algo_update`], settling an unanswered placement as adopted; an untracked
    /// one whose client order id this engine generates is an earlier run's and is adopted.
    ///
    /// # Errors
    /// [`EngineError::Journal`] when settling the placement fails.
    pub fn on_rest_algo(
        &mut self,
        algo: &AlgoOrder,
        now: Nanos,
    ) -> Result<(RestOrder, AlgoFollowUp), EngineError> {
        let report = AlgoReport::from_algo(algo);
        if !self.orders.contains_key(&report.client_order_id) {
            return self.adopt_algo(algo, &report, now);
        }
        let id = report.client_order_id.clone();
        let follow_up = self.apply_algo(&id, &report, true, now)?;
        Ok((RestOrder::Known, follow_up))
    }

    /// Whether the order with `client_order_id` is a conditional one (placed on the algo
    /// endpoint).
    #[must_use]
    pub fn is_conditional(&self, client_order_id: &str) -> bool {
        self.orders
            .get(client_order_id)
            .is_some_and(|t| t.algo.is_some())
    }

    /// Conditional orders of `symbol` acknowledged by the venue, open here, whose trigger has
    /// not been seen: what the algo service should still hold open.
    #[must_use]
    pub fn awaiting_trigger(&self, symbol: &str) -> Vec<String> {
        self.orders
            .iter()
            .filter(|(_, t)| t.symbol() == symbol && t.order.status.is_open())
            .filter(|(_, t)| {
                t.answer.is_some() && t.algo.as_ref().is_some_and(|a| a.child.is_none())
            })
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The symbol and the venue order id whose fills belong to `client_order_id`: its own, or
    /// for a conditional order its child's (`None` before the trigger).
    #[must_use]
    pub fn fills_order(&self, client_order_id: &str) -> Option<(String, u64)> {
        let tracked = self.orders.get(client_order_id)?;
        let order_id = tracked.order_endpoint_id()?;
        Some((tracked.symbol().to_owned(), order_id))
    }

    /// Applies one report to the tracked conditional order `client_order_id`.
    pub(super) fn apply_algo(
        &mut self,
        client_order_id: &str,
        report: &AlgoReport,
        from_rest: bool,
        now: Nanos,
    ) -> Result<AlgoFollowUp, EngineError> {
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        let Some(algo) = tracked.algo.as_mut() else {
            tracing::warn!(target: "kestrel::exec", client_order_id, "an algo report for an order placed on the order endpoint; ignored");
            return Ok(AlgoFollowUp::Nothing);
        };
        algo.algo_id = Some(report.algo_id);
        algo.status = Some(report.status);
        // As for any order: venue evidence settles a placement sent but not answered yet.
        if tracked.answer.is_none() && (tracked.sends > 0 || tracked.recovered) {
            let adopted = from_rest || tracked.recovered;
            self.accept(client_order_id, report.algo_id, None, adopted, now)?;
        } else {
            mark_accepted(tracked, report.algo_id, &mut self.events);
        }
        let linked = match report.child_order_id {
            Some(child) => self.link_child(client_order_id, child, now)?,
            None => false,
        };
        self.follow_algo_status(client_order_id, report)?;
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        let finished_open = report.status == AlgoStatus::Finished && tracked.order.status.is_open();
        let child = tracked.algo.as_ref().and_then(|a| a.child);
        Ok(match child {
            Some(order_id) if (from_rest && linked) || finished_open => AlgoFollowUp::ReadChild {
                symbol: tracked.symbol().to_owned(),
                order_id,
            },
            _ => AlgoFollowUp::Nothing,
        })
    }

    /// Records `child` as the order placed by the trigger of conditional order
    /// `client_order_id`: its venue id from now on, fills parked for it applied. Returns
    /// whether it was new.
    pub(super) fn link_child(
        &mut self,
        client_order_id: &str,
        child: u64,
        now: Nanos,
    ) -> Result<bool, EngineError> {
        let tracked = tracked_in(&mut self.orders, client_order_id)?;
        let symbol = tracked.symbol().to_owned();
        let Some(algo) = tracked.algo.as_mut() else {
            return Ok(false);
        };
        if algo.child == Some(child) {
            return Ok(false);
        }
        if let Some(previous) = algo.child.replace(child) {
            tracing::warn!(target: "kestrel::exec", client_order_id, previous, child, "a conditional order reported a second child order");
        }
        if tracked.order.status == OrderStatus::PendingSubmit {
            let _ = apply_event(tracked, OrderEvent::Send, &mut self.events);
        }
        if accepts(tracked.order.status) {
            let accept = OrderEvent::Accept {
                venue_order_id: child,
            };
            let _ = apply_event(tracked, accept, &mut self.events);
        }
        tracing::info!(target: "kestrel::exec", client_order_id, child, "conditional order triggered");
        self.venue_ids
            .insert((symbol.clone(), child), client_order_id.to_owned());
        self.release_parked_order(&symbol, child, now);
        Ok(true)
    }

    /// Ends an open conditional order as its algo status says (cancelled, expired, refused at
    /// the trigger); the other statuses leave it to its child.
    fn follow_algo_status(
        &mut self,
        client_order_id: &str,
        report: &AlgoReport,
    ) -> Result<(), EngineError> {
        match report.status {
            AlgoStatus::Canceled => self.sync_status(client_order_id, OrderStatus::Canceled),
            AlgoStatus::Expired => self.sync_status(client_order_id, OrderStatus::Expired),
            AlgoStatus::Rejected => {
                let tracked = tracked_in(&mut self.orders, client_order_id)?;
                if tracked.order.status == OrderStatus::PendingSubmit {
                    let _ = apply_event(tracked, OrderEvent::Send, &mut self.events);
                }
                if tracked.order.status == OrderStatus::Submitted {
                    let reason = report.reason.as_deref().unwrap_or("no reason given");
                    let reject = OrderEvent::Reject {
                        reason: format!("refused by the venue at its trigger: {reason}"),
                    };
                    let _ = apply_event(tracked, reject, &mut self.events);
                }
                Ok(())
            }
            AlgoStatus::New
            | AlgoStatus::Triggering
            | AlgoStatus::Triggered
            | AlgoStatus::Finished => Ok(()),
        }
    }

    /// Adopts an untracked algo order carrying this engine's client order id prefix (an
    /// earlier run's; [`super::restore`]).
    fn adopt_algo(
        &mut self,
        algo: &AlgoOrder,
        report: &AlgoReport,
        now: Nanos,
    ) -> Result<(RestOrder, AlgoFollowUp), EngineError> {
        let id = algo.client_algo_id.as_str();
        let request = match request_from_algo(algo) {
            Some(request) if self.ids.owns(id) => request,
            _ => return Ok((RestOrder::Foreign, AlgoFollowUp::Nothing)),
        };
        let order = accepted_order(request, id, algo.algo_id);
        let mut tracked = Tracked::new(order, id.to_owned());
        tracked.answer = Some(OrderAnswer::Accepted {
            request_id: id.to_owned(),
            client_order_id: id.to_owned(),
            venue_order_id: algo.algo_id,
            status: tracked.order.status,
            adopted: true,
        });
        tracked.intent = IntentState::Adopted;
        tracked.recovered = true;
        tracing::info!(target: "kestrel::exec", client_order_id = id, algo_id = algo.algo_id, "tracking a conditional order of an earlier run found at the venue");
        self.events
            .push(ExecEvent::Order(Box::new(tracked.order.clone())));
        self.track_earlier(tracked, None, now);
        let follow_up = self.apply_algo(id, report, true, now)?;
        Ok((RestOrder::Adopted, follow_up))
    }
}

/// The request an algo order answers, as far as the venue reports it.
fn request_from_algo(algo: &AlgoOrder) -> Option<OrderRequest> {
    let positive = |price: Price| price.is_positive().then_some(price);
    let order_type = algo.order_type.to_model()?;
    let limit_priced = order_type.has_limit_price();
    Some(OrderRequest {
        request_id: algo.client_algo_id.clone(),
        symbol: algo.symbol.clone(),
        side: algo.side,
        order_type,
        time_in_force: algo.time_in_force.to_model().filter(|_| limit_priced),
        price: positive(algo.price).filter(|_| limit_priced),
        quantity: algo.quantity,
        stop_price: positive(algo.trigger_price),
        reduce_only: algo.reduce_only,
        close_position: algo.close_position,
        position_side: algo.position_side,
        client_order_id: Some(algo.client_algo_id.clone()),
        execution_mode: ExecutionMode::Live,
        working_type: algo.working_type,
        callback_rate: algo.callback_rate,
        activation_price: algo.activate_price,
    })
}
