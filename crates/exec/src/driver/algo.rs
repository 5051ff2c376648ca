//! The driver's side of conditional orders ([`crate::engine::AlgoReport`] and the engine's
//! `algo` module): `ALGO_UPDATE`s from the user stream, the algo part of every reconciliation,
//! and reading the child order a conditional order placed at its trigger.
//!
//! Reconciliation of a symbol's conditional orders runs before its fills are recovered, so that
//! a child learned on the way has its fills recognised: the venue's open algo orders are
//! applied (an earlier run's are adopted), then each conditional order the engine holds as
//! waiting that the venue no longer lists is read by client order id — it triggered, or ended,
//! while the stream was away.

use std::collections::HashSet;
use std::sync::Arc;

use kestrel_venue::binance::orders::{AlgoOrder, OrderKey};
use kestrel_venue::binance::user_data::AlgoUpdate;

use super::Shared;
use super::recovery::load_fills;
use super::stream::load_order;
use crate::engine::AlgoFollowUp;
use crate::journal::Journal;

/// Applies an `ALGO_UPDATE`; a child whose outcome the engine needs is read by a task of its
/// own, so the stream keeps flowing.
pub(super) fn on_update<J: Journal + 'static>(shared: &Arc<Shared<J>>, update: &AlgoUpdate) {
    let now = shared.now();
    match shared.engine(|e| e.on_algo_update(update, now)) {
        Ok(AlgoFollowUp::ReadChild { symbol, order_id }) => {
            let task_shared = Arc::clone(shared);
            shared.spawn(async move { read_child(&task_shared, &symbol, order_id).await });
        }
        Ok(AlgoFollowUp::Nothing) => {}
        Err(error) => {
            tracing::error!(target: "kestrel::exec", %error, "algo order update not applied");
        }
    }
}

/// Reads a conditional order's child: its fills, then its status.
pub(super) async fn read_child<J: Journal + 'static>(
    shared: &Shared<J>,
    symbol: &str,
    order_id: u64,
) {
    load_fills(shared, symbol, order_id).await;
    load_order(shared, symbol, order_id).await;
}

/// Reconciles the conditional orders of `symbol` (module docs).
pub(super) async fn reconcile<J: Journal + 'static>(shared: &Shared<J>, symbol: &str) {
    let rest = shared.venue.rest();
    let open = match shared
        .idempotent(|| rest.open_algo_orders(Some(symbol)))
        .await
    {
        Ok(open) => open,
        Err(error) => {
            tracing::warn!(target: "kestrel::exec", %error, symbol, "cannot read open algo orders");
            return;
        }
    };
    let mut follow_ups = apply(shared, &open);
    let listed: HashSet<&str> = open.iter().map(|a| a.client_algo_id.as_str()).collect();
    let waiting = shared.engine(|e| e.awaiting_trigger(symbol));
    for id in waiting.iter().filter(|id| !listed.contains(id.as_str())) {
        let key = OrderKey::ClientOrderId(id.clone());
        match shared.idempotent(|| rest.query_algo_order(&key)).await {
            Ok(algo) => follow_ups.extend(apply(shared, std::slice::from_ref(&algo))),
            Err(error) => {
                tracing::warn!(target: "kestrel::exec", %error, client_order_id = %id, "cannot read a conditional order the venue no longer lists as open");
            }
        }
    }
    for (symbol, order_id) in follow_ups {
        read_child(shared, &symbol, order_id).await;
    }
}

/// Hands algo orders read over REST to the engine; returns the children to read.
fn apply<J: Journal + 'static>(shared: &Shared<J>, algos: &[AlgoOrder]) -> Vec<(String, u64)> {
    let now = shared.now();
    shared.engine(|e| {
        let mut children = Vec::new();
        for algo in algos {
            match e.on_rest_algo(algo, now) {
                Ok((_, AlgoFollowUp::ReadChild { symbol, order_id })) => {
                    children.push((symbol, order_id));
                }
                Ok((_, AlgoFollowUp::Nothing)) => {}
                Err(error) => {
                    tracing::error!(target: "kestrel::exec", %error, "algo order not applied");
                }
            }
        }
        children
    })
}
