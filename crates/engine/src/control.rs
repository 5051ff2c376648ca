//! Requests to the core task from outside it (the HTTP API, shutdown, placement tasks), and
//! the kill switch's side effects: cancel every open order at the venue and, when asked,
//! close every position with reduce-only market orders.

use std::sync::Arc;

use kestrel_exec::Veto;
use kestrel_exec::context::VenueContext;
use kestrel_exec::driver::ExecDriver;
use kestrel_exec::http::OrderVetter;
use kestrel_exec::journal::StoreJournal;
use kestrel_model::order::{ExecutionMode, OrderType, WorkingType};
use kestrel_model::{OrderRequest, Qty};
use kestrel_risk::FlattenOrder;
use kestrel_strategy::CloseReason;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

use crate::core::CoreStatus;

/// A request to the core task.
#[derive(Debug)]
pub enum Control {
    /// An order of the core's ended before it was placed (refused or failed).
    Closed {
        /// The order's client order id.
        client_order_id: String,
        /// Why.
        reason: CloseReason,
    },
    /// Engage the kill switch.
    Kill {
        /// Why, as the operator said.
        reason: String,
        /// Also close every position.
        flatten: bool,
        /// Where the report goes.
        reply: oneshot::Sender<KillReport>,
    },
    /// Release the kill switch.
    Resume {
        /// Whether it was engaged.
        reply: oneshot::Sender<bool>,
    },
    /// A changed configuration to apply (hot reload).
    Reload {
        /// The new configuration.
        config: Box<kestrel_model::config::Config>,
    },
    /// The core's status.
    Status {
        /// Where it goes.
        reply: oneshot::Sender<CoreStatus>,
    },
    /// The risk manager's verdict on an order from the order API.
    Vet {
        /// The order.
        request: Box<OrderRequest>,
        /// `None` to go on, or the refusal.
        reply: oneshot::Sender<Option<Veto>>,
    },
}

/// What the kill switch did.
#[derive(Debug, Clone, Serialize)]
pub struct KillReport {
    /// Why it was engaged.
    pub reason: String,
    /// Client order ids cancelled at the venue.
    pub canceled: Vec<String>,
    /// Symbols whose cancel failed (their orders may still be open).
    pub cancel_failed: Vec<String>,
    /// The closing orders sent and their answers, when flattening.
    pub flatten: Vec<String>,
}

/// The handle that sends [`Control`]s.
#[derive(Debug, Clone)]
pub struct ControlSender(mpsc::Sender<Control>);

/// A control channel.
#[must_use]
pub fn channel() -> (ControlSender, mpsc::Receiver<Control>) {
    let (sender, inbox) = mpsc::channel(256);
    (ControlSender(sender), inbox)
}

impl ControlSender {
    /// Engages the kill switch; `None` when the core has stopped.
    pub async fn kill(&self, reason: &str, flatten: bool) -> Option<KillReport> {
        let (reply, answer) = oneshot::channel();
        let reason = reason.to_owned();
        self.0
            .send(Control::Kill {
                reason,
                flatten,
                reply,
            })
            .await
            .ok()?;
        answer.await.ok()
    }

    /// Releases the kill switch; `None` when the core has stopped.
    pub async fn resume(&self) -> Option<bool> {
        let (reply, answer) = oneshot::channel();
        self.0.send(Control::Resume { reply }).await.ok()?;
        answer.await.ok()
    }

    /// The core's status; `None` when the core has stopped.
    pub async fn status(&self) -> Option<CoreStatus> {
        let (reply, answer) = oneshot::channel();
        self.0.send(Control::Status { reply }).await.ok()?;
        answer.await.ok()
    }

    /// Hands the core a changed configuration.
    pub async fn reload(&self, config: kestrel_model::config::Config) {
        let config = Box::new(config);
        let _ = self.0.send(Control::Reload { config }).await;
    }

    /// The risk manager's verdict on `request`; `None` also when the core has stopped (the
    /// execution engine's own checks still apply then).
    pub async fn vet(&self, request: &OrderRequest) -> Option<Veto> {
        let (reply, answer) = oneshot::channel();
        let request = Box::new(request.clone());
        self.0.send(Control::Vet { request, reply }).await.ok()?;
        answer.await.ok().flatten()
    }

    /// Tells the core an order of its ended before placement.
    pub async fn closed(&self, client_order_id: String, reason: CloseReason) {
        let _ = self
            .0
            .send(Control::Closed {
                client_order_id,
                reason,
            })
            .await;
    }
}

/// Cancels every open order of every symbol, then sends the closing orders of `plan`.
pub(crate) async fn kill(
    driver: &Arc<ExecDriver<StoreJournal>>,
    context: &Arc<VenueContext>,
    reason: &str,
    plan: Vec<FlattenOrder>,
    now_ms: u64,
) -> KillReport {
    let mut report = KillReport {
        reason: reason.to_owned(),
        canceled: Vec::new(),
        cancel_failed: Vec::new(),
        flatten: Vec::new(),
    };
    let symbols: Vec<String> = context.symbols().map(str::to_owned).collect();
    for symbol in symbols {
        match driver.cancel_symbol(&symbol).await {
            Ok(ids) => report.canceled.extend(ids),
            Err(failure) => {
                tracing::error!(target: "kestrel::engine", %symbol, ?failure, "kill switch: cancel failed");
                report.cancel_failed.push(symbol);
            }
        }
    }
    for order in plan {
        let request = closing_order(&order, now_ms);
        let open = VenueContext::open_orders(driver, &request.symbol);
        let submitted = context.with_context(&request, open, |ctx| {
            ctx.map(|c| driver.submit(request.clone(), c))
        });
        let outcome = match submitted {
            Some(Ok(submission)) => submission.answer().await.to_string(),
            Some(Err(error)) => error.to_string(),
            None => format!("{} is not traded here", order.symbol),
        };
        report.flatten.push(format!("{}: {outcome}", order.symbol));
    }
    report
}

/// A reduce-only market order closing `order`'s position.
fn closing_order(order: &FlattenOrder, now_ms: u64) -> OrderRequest {
    OrderRequest {
        request_id: format!("flatten-{}-{now_ms}", order.symbol),
        symbol: order.symbol.clone(),
        side: order.side,
        order_type: OrderType::Market,
        time_in_force: None,
        price: None,
        quantity: order.quantity.max(Qty::ZERO),
        stop_price: None,
        reduce_only: true,
        close_position: false,
        position_side: order.position_side,
        client_order_id: None,
        execution_mode: ExecutionMode::Live,
        working_type: WorkingType::ContractPrice,
        callback_rate: None,
        activation_price: None,
    }
}

/// The order API's vetter in `kestrel run`: the core's risk manager checks every new order
/// request from the API as it checks the strategies' (`Stage::Order`), counting and publishing
/// each refusal.
impl OrderVetter for ControlSender {
    fn vet<'a>(
        &'a self,
        request: &'a OrderRequest,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Veto>> + Send + 'a>> {
        Box::pin(ControlSender::vet(self, request))
    }
}
